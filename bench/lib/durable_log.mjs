// bench/durable-log's driver: what the durable log (SQLite, --data-dir) costs next to the memory
// log, in the same run, on the same build: publish ingest, resume replay from disk while a live
// stream runs, and start-up with a large retained log. Writes bench/results/<stamp>-durable/.
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NICE, ROOT, runLoadgen, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const quick = args.includes('--quick');
const buildDir = option('--build-dir', path.join(ROOT, 'build/bench'));
const serverBinary = path.join(buildDir, 'server/net/globemeet-server');
const loadgen = path.join(buildDir, 'bench/loadgen/globemeet-loadgen');
const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, 'Z');
const dir = option('--out', path.join(ROOT, 'bench/results', `${stamp}-durable${quick ? '-quick' : ''}`));
mkdirSync(dir, { recursive: true });
const log = (...m) => console.error(`[durable ${new Date().toISOString().slice(11, 19)}]`, ...m);

// As bench/run does (orchestrate.mjs): with autogroup scheduling nice works only inside a
// session's group, so this session's group gets the servers' nice too, or compilers of other
// sessions take half of core 0 and the replay and live latency measure them.
if (Number(NICE) < 0 && existsSync('/proc/self/autogroup')) {
  try { writeFileSync('/proc/self/autogroup', NICE); } catch { /* not permitted: plain nice only */ }
}

const rounds = quick ? 1 : 3;
const ingestSeconds = quick ? 3 : 8;
const publishers = 8;           // requests in flight, each on its own keep-alive connection
const batch = 1000;             // events per request (the API's maximum)
const behind = quick ? 100_000 : 1_000_000;  // events a resuming client is behind

// The log configurations measured side by side.
const logs = [
  { name: 'memory', args: (d) => ['--log', 'memory', '--retention-events', '2000000'] },
  { name: 'disk (fsync)', args: (d) => ['--data-dir', d, '--retention-events', '2000000'] },
  { name: 'disk (no fsync)', args: (d) => ['--data-dir', d, '--fsync', 'false', '--retention-events', '2000000'] },
];

// One batch of 1,000 catalogue events of about 128 bytes of data each, as a publisher sends it.
function body() {
  const events = Array.from({ length: batch }, (_, i) => ({
    type: 'queue.depth-changed', subject: `q${i % 10}`,
    data: { queue_id: `q${i % 10}`, depth: i, longest_wait_seconds: 3, pad: 'x'.repeat(64) },
  }));
  return JSON.stringify({ events });
}

async function mintPublisher(secret) {
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'bench-publisher', tenant: 'bench', perms: ['>'], pub: true, iss: 'bench', aud: 'globemeet-events', iat: now, exp: now + 900 })
    .setProtectedHeader({ alg: 'HS256', kid: 'dev', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

// `publishers` loops, each with one request in flight, for `seconds`; this process runs on core 1.
async function ingest(port, token, seconds) {
  const payload = body();
  const agent = new http.Agent({ keepAlive: true, maxSockets: publishers });
  let accepted = 0;
  let refused = 0;
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  const post = () => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/events', method: 'POST', agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(payload);
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: publishers }, async () => {
    while (Date.now() < deadline) {
      const t = performance.now();
      const status = await post();
      latencies.push(performance.now() - t);
      if (status === 200) accepted += batch; else refused += 1;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { events_per_s: Math.round(accepted / elapsed), requests: latencies.length, refused,
    request_p50_ms: +q(0.5).toFixed(1), request_p99_ms: +q(0.99).toFixed(1) };
}

// The server's start: from spawn to its "listening" line, with `extraArgs` on `dataDir`.
async function startupSeconds(dataDir, tag) {
  // A log file of its own per start: the port is read from its first "listening" line.
  const t = performance.now();
  const server = await startServer('globemeet', { dir, cpu: 0, serverBinary, tag, extraArgs: ['--data-dir', dataDir, '--retention-events', '2000000'] });
  const seconds = (performance.now() - t) / 1000;
  return { server, seconds };
}

const results = { machine: { nproc: os.cpus().length, cpu: (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1], load_before: os.loadavg() }, ingest: [], replay: [], startup: [] };

// 1. Ingest, the configurations interleaved round by round so that drift hits them alike.
for (let round = 1; round <= rounds; round++) {
  for (const config of logs) {
    const data = path.join(dir, `data-ingest-${round}`);
    rmSync(data, { recursive: true, force: true });
    const tag = `ingest-${round}-${config.name.replace(/[^a-z]+/g, '-')}`;
    const server = await startServer('globemeet', { dir, cpu: 0, serverBinary, tag, extraArgs: config.args(data) });
    try {
      const token = await mintPublisher(server.secret);
      const r = await ingest(server.port, token, ingestSeconds);
      log(`ingest round ${round} ${config.name}: ${r.events_per_s.toLocaleString('en-US')} events/s, request p99 ${r.request_p99_ms} ms`);
      results.ingest.push({ round, log: config.name, ...r });
    } finally {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    }
  }
}

// 2. Replay: a client `behind` events behind resumes while 1,000 live subscribers get 200
// events/s. The disk log keeps only 10,000 events in memory, so the replay reads from disk.
const replayData = path.join(dir, 'data-replay');
for (const config of [
  { name: 'memory', extra: ['--log', 'memory', '--retention-events', String(behind + 100_000)] },
  { name: 'disk (replay from disk)', extra: ['--data-dir', replayData, '--memory-events', '10000', '--retention-events', String(behind + 100_000)] },
]) {
  rmSync(replayData, { recursive: true, force: true });
  const server = await startServer('globemeet', { dir, cpu: 0, serverBinary, tag: `replay-${config.name.split(' ')[0]}`, extraArgs: config.extra });
  try {
    const res = await runLoadgen(loadgen, ['--target', 'globemeet', '--port', String(server.port), '--server-pid', String(server.pid), '--cpu', '1',
      '--label', 'replay', ...server.loadgenArgs, '--mode', 'resume', '--connections', '1000', '--rates', '200',
      '--resume-events', String(behind), '--payload-bytes', '128', '--warmup', '0.3'], 600_000);
    const line = res.lines.at(-1) ?? { error: res.stderr };
    log(`replay ${config.name}: ${Math.round(line.replay_events_per_s ?? 0).toLocaleString('en-US')} events/s, live p99 ${line.during_p99_ms} ms (before: ${line.baseline_p99_ms} ms)`);
    results.replay.push({ log: config.name, ...line });
  } finally {
    if (config.name === 'memory') await server.stop();
    else { server.proc.kill('SIGTERM'); await server.exited; }
  }
}

// 3. Start-up on the replay's data directory (behind + 1 events retained): after a clean stop,
// and after kill -9 (recovery and the structure check).
for (const stop of ['clean (SIGTERM)', 'kill -9']) {
  const { server, seconds } = await startupSeconds(replayData, `startup-${results.startup.length}`);
  const opened = readFileSync(server.logFile, 'utf8').split('\n').filter((l) => l.includes('"log_opened"')).at(-1);
  const retained = opened ? JSON.parse(opened).retained : null;
  log(`start-up after ${stop}: ${seconds.toFixed(2)} s with ${retained?.toLocaleString('en-US')} events retained`);
  results.startup.push({ previous_stop: stop, seconds: +seconds.toFixed(3), retained });
  server.proc.kill('SIGKILL');  // the next start is the one after kill -9
  await server.exited;
}
rmSync(replayData, { recursive: true, force: true });
results.machine.load_after = os.loadavg();

const byLog = (name) => results.ingest.filter((r) => r.log === name).map((r) => r.events_per_s);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lines = [
  `# Durable log benchmark (${stamp}${quick ? ', quick' : ''})`, '',
  `Machine: ${results.machine.nproc} cores, ${results.machine.cpu}; load before ${results.machine.load_before.map((v) => v.toFixed(2)).join(' ')}, after ${results.machine.load_after.map((v) => v.toFixed(2)).join(' ')}.`,
  'Server on core 0 (`--threads 1`), publishers and the generator on core 1. Rerun: `bench/durable-log`.', '',
  `## Ingest: POST /v1/events, ${publishers} publishers in flight, ${batch} events per request, ${ingestSeconds} s per run`, '',
  '| log | events/s per round | median | ratio to memory | request p99 (ms) |', '| --- | --- | --- | --- | --- |',
  ...logs.map((c) => {
    const xs = byLog(c.name);
    const p99 = results.ingest.filter((r) => r.log === c.name).map((r) => r.request_p99_ms).join(', ');
    return `| ${c.name} | ${xs.map((x) => x.toLocaleString('en-US')).join(', ')} | ${median(xs).toLocaleString('en-US')} | ${(median(xs) / median(byLog('memory'))).toFixed(2)} | ${p99} |`;
  }), '',
  `## Replay: one client ${behind.toLocaleString('en-US')} events behind, while 1,000 live subscribers get 200 events/s`, '',
  '| log | replay events/s | replay s | live p99 before (ms) | live p99 during (ms) | live delivered |', '| --- | --- | --- | --- | --- | --- |',
  ...results.replay.map((r) => `| ${r.log} | ${Math.round(r.replay_events_per_s ?? 0).toLocaleString('en-US')} | ${r.replay_seconds?.toFixed?.(2)} | ${r.baseline_p99_ms} | ${r.during_p99_ms} | ${r.during_delivered_fraction} |`), '',
  '## Start-up with the replay run\'s log', '',
  '| previous stop | events retained | seconds to listening |', '| --- | --- | --- |',
  ...results.startup.map((r) => `| ${r.previous_stop} | ${r.retained?.toLocaleString('en-US')} | ${r.seconds} |`), '',
];
writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 1));
writeFileSync(path.join(dir, 'report.md'), lines.join('\n'));
log(`report: ${path.join(dir, 'report.md')}`);
