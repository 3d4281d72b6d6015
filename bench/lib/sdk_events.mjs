// The SDK's event path against a plain `ws` client (issue 11): one real globemeet-server
// (--log memory, default limits), two subscribers in separate Node processes on the same stream
// in the same run: (a) `ws` + JSON.parse per frame, (b) a GlobeMeetWS subscriber. A burst is
// published over POST /v1/events (batches of 1,000) and each subscriber counts its events, its
// wall time from the first to the last event and its own CPU time (process.cpuUsage) over the
// same span. Reported per subscriber: events/s (wall), CPU per event (µs), the share of a core
// used, and capacity = events per CPU-second (1e6 / µs per event: the rate one saturated core
// would sustain), plus what went wrong (overflow, reset, missing events).
//
//   node bench/lib/sdk_events.mjs [--server PATH] [--sdk DIR] [--events N] [--rounds N] [--json FILE]
//
// --sdk: the package directory to load (default js/dist; point it at another build to compare).
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ISSUER = 'bench';
const SUBPROTOCOL = 'globemeet-events.v1';

async function mint(secret, claims) {
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'bench', tenant: 'bench', perms: ['>'], iss: ISSUER, aud: 'globemeet-events', iat: now,
    exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256', kid: 'dev', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

// ---- a subscriber (child process) ----------------------------------------------------------------
async function subscriber({ kind, url, token, expected, sdk }) {
  let count = 0, first = 0, last = 0, cpuFirst = null, cpuLast = null, lastId = '';
  const problems = [];
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const onEvent = (id) => {
    if (count === 0) { first = performance.now(); cpuFirst = process.cpuUsage(); }
    count++;
    last = performance.now();
    lastId = id;
    if (count === expected) { cpuLast = process.cpuUsage(cpuFirst); done(); }
  };
  if (kind === 'ws') {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(url, SUBPROTOCOL, { headers: { Authorization: `Bearer ${token}` } });
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.op === 'event') onEvent(f.id);
      else if (f.op === 'ready') ws.send(JSON.stringify({ op: 'subscribe', req: '1', topics: ['>'] }));
      else if (f.op === 'subscribed') process.send({ ready: true });
      else if (f.op !== 'pong') problems.push(f.op);
    });
    ws.on('close', (code) => { if (count < expected) problems.push(`close ${code}`); done(); });
  } else {
    const { GlobeMeetWS } = await import(pathToFileURL(path.join(sdk, 'index.js')).href);
    await GlobeMeetWS.ready();
    const client = new GlobeMeetWS({ endpoint: url, token });
    client.on('overflow', ({ lastId: at }) => problems.push(`overflow at ${at}`));
    client.on('reset', ({ reason }) => problems.push(`reset ${reason}`));
    client.on('error', (e) => problems.push(`error ${e.code}`));
    client.on('state', ({ to }) => { if (to === 'closed') done(); });
    let announced = false;
    client.on('state', ({ to }) => {
      // live and subscribed: the subscribe goes out with `ready`; give it a moment to apply.
      if (to === 'live' && !announced) { announced = true; setTimeout(() => process.send({ ready: true }), 300); }
    });
    client.subscribe('>', (event) => onEvent(event.id));
    finished.then(() => client.close());
  }
  process.on('message', (m) => {
    if (m.timeout) done();
  });
  await finished;
  cpuLast ??= cpuFirst && process.cpuUsage(cpuFirst);  // incomplete: up to now (includes the wait)
  const seconds = (last - first) / 1000;
  const cpuUs = cpuLast ? cpuLast.user + cpuLast.system : 0;
  process.send({ result: { kind, count, expected, lastId, problems: [...new Set(problems)].slice(0, 10),
    seconds, cpuUs, complete: count === expected } });
  setTimeout(() => process.exit(0), 100);
}

// ---- the orchestrator ----------------------------------------------------------------------------
function startServer(binary, dir) {
  const secret = randomBytes(32).toString('base64url');
  const secretFile = path.join(dir, 'hs256.secret');
  writeFileSync(secretFile, secret);
  const proc = spawn(binary, ['--listen', '127.0.0.1:0', '--dev', '--log', 'memory', '--issuer', ISSUER,
    '--hs256-secret-file', secretFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the server did not start')), 15000);
    proc.stdout.on('data', (d) => {
      buffered += d;
      for (let nl; (nl = buffered.indexOf('\n')) >= 0;) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const parsed = JSON.parse(line);
          if (parsed.msg === 'listening') { clearTimeout(timer); resolve({ proc, port: parsed.port, secret }); }
        } catch { /* not JSON */ }
      }
    });
    proc.on('exit', (code) => reject(new Error(`the server exited ${code}`)));
  });
}

function child(kind, options) {
  const proc = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  proc.send({ kind, ...options });
  let resolveReady;
  const ready = new Promise((r) => { resolveReady = r; });
  const result = new Promise((resolve, reject) => {
    proc.on('message', (m) => {
      if (m.ready) resolveReady();
      if (m.result) resolve(m.result);
    });
    proc.on('exit', (code) => reject(new Error(`${kind} subscriber exited ${code}`)));
  });
  return { proc, ready, result };
}

async function publishBurst(port, token, total) {
  const body = (from, n) => JSON.stringify({ events: Array.from({ length: n }, (_, i) => ({
    type: 'queue.depth-changed', subject: 'support',
    data: { queue_id: 'support', depth: (from + i) % 100, longest_wait_seconds: 42 },
  })) });
  // The bodies are made before the clock starts; four requests in flight keep the server busy.
  const bodies = [];
  for (let from = 0; from < total; from += 1000) bodies.push(body(from, Math.min(1000, total - from)));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/events`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: bodies[next++],
      });
      if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return (performance.now() - started) / 1000;
}

function summary(r) {
  const usPerEvent = r.count > 0 ? r.cpuUs / r.count : NaN;
  return {
    subscriber: r.kind === 'ws' ? 'plain ws + JSON.parse' : 'GlobeMeetWS',
    events: r.count, complete: r.complete,
    events_per_s: Math.round(r.count / r.seconds),
    cpu_us_per_event: Number(usPerEvent.toFixed(2)),
    core_share: Number((r.cpuUs / 1e6 / r.seconds).toFixed(2)),
    capacity_per_core_s: Math.round(1e6 / usPerEvent),
    problems: r.problems.join('; ') || '-',
  };
}

async function main() {
  const { values } = parseArgs({ options: {
    server: { type: 'string' }, sdk: { type: 'string' }, events: { type: 'string' }, rounds: { type: 'string' },
    json: { type: 'string' },
  } });
  const binary = path.resolve(values.server ?? path.join(ROOT, 'build/bench/server/net/globemeet-server'));
  const sdk = path.resolve(values.sdk ?? path.join(ROOT, 'js/dist'));
  const total = Number(values.events ?? 200000);
  const rounds = Number(values.rounds ?? 1);
  const all = [];
  for (let round = 1; round <= rounds; round++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'globemeet-sdk-events-'));
    const server = await startServer(binary, dir);
    try {
      const url = `ws://127.0.0.1:${server.port}/v1/events`;
      const token = await mint(server.secret, {});
      const publisher = await mint(server.secret, { sub: 'publisher', pub: true });
      const subs = [child('ws', { url, token, expected: total, sdk }), child('sdk', { url, token, expected: total, sdk })];
      await Promise.all(subs.map((s) => s.ready));
      const publishSeconds = await publishBurst(server.port, publisher, total);
      const timeout = setTimeout(() => { for (const s of subs) if (s.proc.connected) s.proc.send({ timeout: true }); },
        Math.max(30000, total / 5));
      const results = await Promise.all(subs.map((s) => s.result));
      clearTimeout(timeout);
      const rows = results.map(summary);
      const [plain, ours] = rows;
      const ratio = Number((ours.capacity_per_core_s / plain.capacity_per_core_s).toFixed(2));
      const wallRatio = Number((ours.events_per_s / plain.events_per_s).toFixed(2));
      console.log(`round ${round}: ${total} events published in ${publishSeconds.toFixed(2)} s (${Math.round(total / publishSeconds)}/s)`);
      console.table(rows);
      console.log(`GlobeMeetWS / plain ws: ${ratio}x per CPU-second, ${wallRatio}x in events/s (wall)`);
      all.push({ round, total, publish_seconds: publishSeconds, rows, capacity_ratio: ratio, wall_ratio: wallRatio });
    } finally {
      server.proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ sdk, server: binary, runs: all }, null, 2));
}

if (process.argv.includes('--child')) {
  process.once('message', (options) => subscriber(options).catch((e) => {
    console.error(e);
    process.exit(1);
  }));
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}
