// bench/jetstream's driver: the JetStream log of a cluster next to the embedded disk log, in the
// same run on the same build (issue 12):
//   1. end-to-end latency (publish sent -> event received) at the same fixed rate: disk log;
//      JetStream R3 with publisher and subscriber on one node; and across nodes;
//   2. publish throughput: 8 publishers in a loop, batches of 100 events, disk log vs R3;
//   3. fan-out: the same subscribers all on one node vs spread over three, at a fixed rate:
//      deliveries per second and each node's CPU seconds (on a 2-core machine the absolute
//      figures are capped; the per-node CPU is the point).
// The NATS cluster and the nodes are started as the cluster tests start them (tests/js/helpers).
// Writes bench/results/<stamp>-jetstream/report.md and results.json.
import http from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, makeTempDir, mintToken, SUBPROTOCOL, sleep } from '../../tests/js/helpers/server.mjs';
import { startNatsCluster, startNode, sharedSecret } from '../../tests/js/helpers/cluster.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, 'Z');
const out = path.join(root, 'bench/results', `${stamp}-jetstream${quick ? '-quick' : ''}`);
mkdirSync(out, { recursive: true });
const log = (...m) => console.error(`[jetstream ${new Date().toISOString().slice(11, 19)}]`, ...m);
const seconds = quick ? 3 : 8;
const rate = 200;  // publish requests (of one event) per second in the latency runs

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function post(node, token, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${node.httpUrl}/v1/events`, {
      method: 'POST', agent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    }, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b })); });
    req.on('error', reject);
    req.end(body);
  });
}

function subscribe(node, token, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(node.wsUrl, [SUBPROTOCOL], { headers: { Authorization: `Bearer ${token}` } });
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.op === 'ready') ws.send(JSON.stringify({ op: 'subscribe', req: 'b', topics: ['>'] }));
      else if (f.op === 'subscribed') resolve(ws);
      else if (f.op === 'event') onEvent(f);
    });
    ws.on('error', reject);
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime + stime, in clock ticks of 1/100 s on Linux
}

// 1. Latency: one event per request at `rate`, each marked with its send time.
async function latency(name, pubNode, subNode, secret) {
  const token = await mintToken(secret, { sub: 'bench-pub', pub: true });
  const sent = new Map();
  const samples = [];
  const ws = await subscribe(subNode, await mintToken(secret, { sub: 'bench-sub' }), (e) => {
    const t0 = sent.get(e.data.depth);
    if (t0 !== undefined) samples.push(performance.now() - t0);
  });
  const total = rate * seconds;
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sent.set(i, performance.now());
    pending.push(post(pubNode, token, JSON.stringify({ type: 'queue.depth-changed', subject: 'lat', data: { queue_id: 'lat', depth: i, longest_wait_seconds: 1 } })));
  }
  await Promise.all(pending);
  await sleep(500);
  ws.terminate();
  samples.sort((a, b) => a - b);
  const row = { name, rate, events: total, received: samples.length, p50_ms: +pct(samples, 0.5).toFixed(2), p99_ms: +pct(samples, 0.99).toFixed(2) };
  log(`latency ${name}: p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms (${row.received}/${total})`);
  return row;
}

// 2. Throughput: 8 publishers, each one request of 100 events in flight, for `seconds`.
async function throughput(name, node, secret) {
  const token = await mintToken(secret, { sub: 'bench-pub', pub: true });
  const body = JSON.stringify({ events: Array.from({ length: 100 }, (_, i) => ({ type: 'queue.depth-changed', subject: `q${i % 10}`,
    data: { queue_id: `q${i % 10}`, depth: i, longest_wait_seconds: 3, pad: 'x'.repeat(64) } })) });
  let events = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (performance.now() < end) {
      const res = await post(node, token, body);
      if (res.status === 200) events += 100; else failed += 1;
    }
  }));
  const row = { name, events_per_s: Math.round(events / seconds), failed_requests: failed };
  log(`throughput ${name}: ${row.events_per_s.toLocaleString('en-US')} events/s`);
  return row;
}

// 3. Fan-out: `subscribers` connections, spread over `subNodes`, at 1,000 events/s (10 requests
// of 100 per second) published on node 1.
async function fanOut(name, pubNode, subNodes, secret, subscribers = 24) {
  const token = await mintToken(secret, { sub: 'bench-pub', pub: true });
  let delivered = 0;
  const sockets = [];
  for (let i = 0; i < subscribers; i++)
    sockets.push(await subscribe(subNodes[i % subNodes.length], await mintToken(secret, { sub: `fan-${i}` }), () => { delivered += 1; }));
  const body = JSON.stringify({ events: Array.from({ length: 100 }, (_, i) => ({ type: 'queue.depth-changed', subject: `q${i % 10}`,
    data: { queue_id: `q${i % 10}`, depth: i, longest_wait_seconds: 3 } })) });
  const cpuBefore = subNodes.map((n) => cpuSeconds(n.proc.pid));
  const start = performance.now();
  for (let i = 0; i < seconds * 10; i++) {
    const wait = start + i * 100 - performance.now();
    if (wait > 0) await sleep(wait);
    post(pubNode, token, body).catch(() => {});
  }
  await sleep(1000);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = subNodes.map((n, i) => +(cpuSeconds(n.proc.pid) - cpuBefore[i]).toFixed(2));
  for (const s of sockets) s.terminate();
  const row = { name, subscribers, nodes: subNodes.length, deliveries_per_s: Math.round(delivered / elapsed), cpu_seconds_per_node: cpu };
  log(`fan-out ${name}: ${row.deliveries_per_s.toLocaleString('en-US')} deliveries/s, CPU s per node ${cpu.join(' / ')}`);
  return row;
}

const results = { host: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, seconds, latency: [], throughput: [], fan_out: [] };
const cleanups = [];
try {
  // The embedded disk log: one node.
  const diskDir = makeTempDir();
  const secret = sharedSecret();
  const disk = await startServer({ dir: diskDir, secret, args: ['--data-dir', path.join(diskDir, 'data'), '--retention-events', '2000000'] });
  cleanups.push(() => disk.stop());
  results.latency.push(await latency('disk log (fsync), 1 node', disk, disk, secret));
  results.throughput.push(await throughput('disk log (fsync)', disk, secret));

  // JetStream: 3 NATS servers, stream R3, 3 GlobeMeet nodes.
  const cluster = await startNatsCluster(3);
  cleanups.push(() => cluster.stop());
  const nodes = [];
  for (let i = 0; i < 3; i++) nodes.push(await startNode(cluster, secret, { args: ['--retention-events', '2000000'] }));
  cleanups.push(() => Promise.all(nodes.map((n) => n.stop())));
  results.latency.push(await latency('jetstream R3, same node', nodes[0], nodes[0], secret));
  results.latency.push(await latency('jetstream R3, across nodes', nodes[0], nodes[1], secret));
  results.throughput.push(await throughput('jetstream R3', nodes[0], secret));
  results.fan_out.push(await fanOut('jetstream R3, subscribers on 1 node', nodes[0], [nodes[0]], secret));
  results.fan_out.push(await fanOut('jetstream R3, subscribers on 3 nodes', nodes[0], nodes, secret));
} finally {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  agent.destroy();
}

writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2));
const lines = [
  `# JetStream log vs embedded disk log (${stamp}${quick ? ', quick' : ''})`, '',
  `${results.host.cpus} CPUs (${results.host.model}); ${seconds} s per run; driver: Node (one process).`, '',
  '| end-to-end latency | rate | p50 ms | p99 ms | received |', '| --- | --- | --- | --- | --- |',
  ...results.latency.map((r) => `| ${r.name} | ${r.rate}/s | ${r.p50_ms} | ${r.p99_ms} | ${r.received}/${r.events} |`), '',
  '| publish throughput (8 publishers, batches of 100) | events/s | failed requests |', '| --- | --- | --- |',
  ...results.throughput.map((r) => `| ${r.name} | ${r.events_per_s.toLocaleString('en-US')} | ${r.failed_requests} |`), '',
  '| fan-out at 1,000 events/s | subscribers | deliveries/s | CPU s per node |', '| --- | --- | --- | --- |',
  ...results.fan_out.map((r) => `| ${r.name} | ${r.subscribers} | ${r.deliveries_per_s.toLocaleString('en-US')} | ${r.cpu_seconds_per_node.join(' / ')} |`), '',
];
writeFileSync(path.join(out, 'report.md'), lines.join('\n'));
console.log(lines.join('\n'));
log(`wrote ${path.relative(root, out)}`);
