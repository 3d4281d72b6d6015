// bench/conflation's driver: a wallboard that cannot keep up (it takes --cost-ms per event), with
// and without "conflate", at a few publish rates of gauge events (queue.depth-changed over 50
// queues). Reports whether it stayed connected (the server's overflow closes) and the staleness
// of what it showed (p50/p99 of shown-at minus the event's time). Writes
// bench/results/<stamp>-conflation/{report.md,results.json}.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const quick = args.includes('--quick');
const buildDir = option('--build-dir', path.join(ROOT, 'build/bench'));
const serverBinary = path.join(buildDir, 'server/net/globemeet-server');
const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, 'Z');
const dir = option('--out', path.join(ROOT, 'bench/results', `${stamp}-conflation${quick ? '-quick' : ''}`));
mkdirSync(dir, { recursive: true });
const log = (...m) => console.error(`[conflation ${new Date().toISOString().slice(11, 19)}]`, ...m);

const costMs = Number(option('--cost-ms', '2'));  // the wallboard shows at most ~1000/costMs events/s
const seconds = quick ? 8 : 15;
const rates = quick ? [250, 2000] : [250, 500, 1000, 2000, 4000];
const queues = 50;
const tickMs = 20;

function httpJson(port, method, urlPath, token, body) {
  return new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function metric(port, name) {
  const { text } = await httpJson(port, 'GET', '/metrics');
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

// Publishes `rate` gauge events a second, in a batch every tickMs, until `stop()`.
function publishAt(port, token, rate) {
  let depth = 0;
  let stopped = false;
  let published = 0;
  let carry = 0;
  const loop = (async () => {
    const start = Date.now();
    for (let tick = 0; !stopped; tick++) {
      carry += rate * tickMs / 1000;
      const n = Math.floor(carry);
      carry -= n;
      if (n > 0) {
        const events = Array.from({ length: n }, () => {
          const q = `q${depth % queues}`;
          depth++;
          return { type: 'queue.depth-changed', subject: q,
            data: { queue_id: q, depth, longest_wait_seconds: depth % 300, agents_available: 4 } };
        });
        const res = await httpJson(port, 'POST', '/v1/events', token, { events });
        if (res.status === 200) published += n;
      }
      const wait = start + (tick + 1) * tickMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return { async stop() { stopped = true; await loop; return published; } };
}

function runClient(port, token, conflate) {
  const child = spawn('taskset', ['-c', '1', 'python3', path.join(ROOT, 'bench/lib/lagging_client.py'),
    '--port', String(port), '--token', token, '--cost-ms', String(costMs), '--seconds', String(seconds),
    ...(conflate ? ['--conflate'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onSubscribed;
  const subscribed = new Promise((r) => { onSubscribed = r; });
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('"subscribed"')) onSubscribed();
  });
  const done = new Promise((resolve) => child.on('exit', () => {
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    resolve(lines[lines.length - 1]);
  }));
  return { subscribed, done };
}

const server = await startServer('globemeet', { dir, cpu: 0, serverBinary, tag: 'conflation', extraArgs: ['--log', 'memory'] });
const { SignJWT } = await import('jose');
const mint = (claims) => new SignJWT({ sub: 'bench', tenant: 'bench', perms: ['>'], iss: 'bench', aud: 'globemeet-events',
  iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
  .setProtectedHeader({ alg: 'HS256', kid: 'dev', typ: 'JWT' }).sign(new TextEncoder().encode(server.secret));
const subToken = await mint({ sub: 'wallboard' });
const pubToken = await mint({ sub: 'publisher', pub: true });

const results = [];
try {
  for (const rate of rates) {
    for (const conflate of [true, false]) {
      const overflowsBefore = await metric(server.port, 'globemeet_overflow_closes_total');
      const conflatedBefore = await metric(server.port, 'globemeet_conflated_total');
      const client = runClient(server.port, subToken, conflate);
      await client.subscribed;
      const publisher = publishAt(server.port, pubToken, rate);
      const seen = await client.done;
      const published = await publisher.stop();
      const dropped = (await metric(server.port, 'globemeet_overflow_closes_total')) - overflowsBefore;
      const conflated = (await metric(server.port, 'globemeet_conflated_total')) - conflatedBefore;
      const row = { rate, conflate, published, shown: seen.events, conflated, dropped: dropped > 0,
        staleness_p50_ms: seen.staleness_p50_ms, staleness_p99_ms: seen.staleness_p99_ms };
      results.push(row);
      log(JSON.stringify(row));
      await new Promise((r) => setTimeout(r, 1500));  // the previous connection's queue is gone
    }
  }
} finally {
  await server.stop();
}

const ms = (v) => (v == null ? '—' : `${Math.round(v).toLocaleString('en-US')} ms`);
const lines = [
  `# Conflation: a lagging wallboard (${stamp})`, '',
  `Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores; server on core 0 (one thread, memory log), publisher and`,
  `wallboard on core 1. The wallboard takes ${costMs} ms to show each event (at most ~${Math.round(1000 / costMs)} events/s), reads`,
  `through a 16 KiB socket receive buffer (the kernel doubles it), and subscribes to \`>\`; the publisher sends queue.depth-changed over`,
  `${queues} queues in a batch every ${tickMs} ms for ${seconds} s. Staleness: when an event is shown, minus its \`time\`.`, '',
  '| events/s | conflate | published | shown | conflated | dropped (overflow) | staleness p50 | p99 |',
  '| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ...results.map((r) => `| ${r.rate.toLocaleString('en-US')} | ${r.conflate ? 'yes' : 'no'} | ${r.published.toLocaleString('en-US')} | ${r.shown.toLocaleString('en-US')} | ${r.conflated.toLocaleString('en-US')} | ${r.dropped ? '**yes**' : 'no'} | ${ms(r.staleness_p50_ms)} | ${ms(r.staleness_p99_ms)} |`),
  '', `Rerun: \`bench/conflation${quick ? ' --quick' : ''}\``, '',
];
writeFileSync(path.join(dir, 'report.md'), lines.join('\n'));
writeFileSync(path.join(dir, 'results.json'), JSON.stringify({ stamp, costMs, seconds, queues, results }, null, 2));
console.log(lines.join('\n'));
log(`report: ${path.relative(ROOT, path.join(dir, 'report.md'))}`);
