// Failures of a cluster of 3 GlobeMeet nodes on a 3-node NATS JetStream cluster (R3), real
// processes on loopback, clients behind a TCP load balancer without stickiness:
// - kill -9 of one GlobeMeet node, and separately of the stream's leading NATS node, under
//   steady publishing: every acknowledged id reaches every subscriber exactly once, in order;
// - a rolling restart of all three GlobeMeet nodes while clients (the npm package and the C++
//   CLI) stay connected through reconnects: no loss, no reset;
// - JetStream down and back: publish answers 503, subscribers keep their connections, and
//   delivery catches up once it is back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { connect, publish, depthEvent, mintToken, sleep, SUBPROTOCOL } from './helpers/server.mjs';
import { startNatsCluster, startNode, startBalancer, sharedSecret, untilReady, waitFor } from './helpers/cluster.mjs';
import { runCli, cliBinary } from './helpers/native_cli.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let cluster;
let balancer;
const nodes = [];  // index i: the node currently in slot i (replaced on restart)
const secret = sharedSecret();
const token = (claims) => mintToken(secret, claims);
const seqOf = (id) => Number(id.split('-')[1]);

before(async () => {
  cluster = await startNatsCluster(3);
  for (let i = 0; i < 3; i++) nodes.push(await startNode(cluster, secret));
  balancer = await startBalancer(() => nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null).map((n) => n.port));
});

after(async () => {
  await balancer?.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await cluster?.stop();
});

// A subscriber to everything of tenant acme that reconnects through the balancer and resumes
// from the last id it holds, as a client would; it records problems (duplicates, gaps in
// order, resets, errors).
class ResumingSubscriber {
  constructor(name, target) {
    this.name = name;
    this.target = target;  // a node or the balancer
    this.ids = [];
    this.seen = new Set();
    this.problems = [];
    this.lastId = null;
    this.stopped = false;
    this.connections = 0;
  }

  async start() { await this.attach(); }

  async attach() {
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.target.wsUrl, [SUBPROTOCOL], { headers: { Authorization: `Bearer ${await token({ sub: this.name })}` } });
    } catch { setTimeout(() => this.attach(), 100); return; }
    this.ws = ws;
    ws.on('error', () => {});
    ws.on('unexpected-response', () => { ws.terminate(); });
    ws.on('close', () => { if (!this.stopped) setTimeout(() => this.attach(), 100); });
    ws.on('open', () => { this.connections += 1; });
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.op === 'ready') ws.send(JSON.stringify({ op: 'subscribe', req: 'r', topics: ['>'], ...(this.lastId ? { from: this.lastId } : {}) }));
      if (f.op === 'reset') this.problems.push(`reset ${f.reason}`);
      if (f.op === 'error') this.problems.push(`error ${f.code}`);
      if (f.op !== 'event') return;
      if (this.seen.has(f.id)) this.problems.push(`duplicate ${f.id}`);
      else if (this.lastId && seqOf(f.id) <= seqOf(this.lastId)) this.problems.push(`${f.id} after ${this.lastId}`);
      this.seen.add(f.id);
      this.ids.push(f.id);
      this.lastId = f.id;
    });
    await new Promise((resolve) => { ws.once('open', resolve); ws.once('close', resolve); });
  }

  async has(ids, timeoutMs = 30000) {
    await waitFor(() => ids.every((id) => this.seen.has(id)), `${this.name} to receive ${ids.length} ids`, timeoutMs)
      .catch((err) => { throw new Error(`${err.message}; missing ${ids.filter((id) => !this.seen.has(id)).slice(0, 5)}; ${this.problems}`); });
  }

  stop() {
    this.stopped = true;
    this.ws?.terminate();
  }
}

// Publishes batches with an Idempotency-Key each (to `target()`, retrying the same request on
// failure, as a careful publisher would) until stop(); records every acknowledged id.
function steadyPublisher(target, publisherToken) {
  const acked = [];
  let running = true;
  let n = 0;
  const failures = [];
  const done = (async () => {
    while (running) {
      const key = `steady-${Date.now()}-${n}`;
      const body = JSON.stringify({ events: [1, 2, 3].map((i) => depthEvent('steady', n * 10 + i)) });
      n += 1;
      for (let attempt = 0; running || attempt === 0; attempt++) {
        try {
          const res = await fetch(`${target().httpUrl}/v1/events`, {
            method: 'POST', body,
            headers: { Authorization: `Bearer ${publisherToken}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
          });
          const json = await res.json();
          if (res.status === 200) { acked.push(...json.ids); break; }
          failures.push(res.status);
        } catch (err) { failures.push(err.code ?? 'network'); }
        await sleep(50);
        if (attempt > 200) break;
      }
      await sleep(10);
    }
  })();
  return { acked, failures, async stop() { running = false; await done; } };
}

test('kill -9 of one GlobeMeet node under steady publishing: every acknowledged id arrives once, in order', async () => {
  const subscribers = [new ResumingSubscriber('direct-0', nodes[0]), new ResumingSubscriber('direct-1', nodes[1]),
    new ResumingSubscriber('balanced', balancer)];
  for (const s of subscribers) await s.start();
  const publisher = steadyPublisher(() => balancer, await token({ sub: 'steady', pub: true }));
  await sleep(800);
  await nodes[1].kill('SIGKILL');
  subscribers[1].target = balancer;  // its node is gone: it comes back through the balancer
  await sleep(1500);
  await publisher.stop();
  assert.ok(publisher.acked.length > 30, `enough publishing (${publisher.acked.length})`);
  for (const s of subscribers) {
    await s.has(publisher.acked);
    assert.deepEqual(s.problems, [], s.name);
    s.stop();
  }
  assert.ok(subscribers[1].connections >= 2, 'the killed node\'s subscriber reconnected elsewhere');
  await nodes[1].stop();  // removes its directory
  nodes[1] = await startNode(cluster, secret);
});

test('kill -9 of the stream\'s leading NATS node under steady publishing: no acknowledged id lost or doubled', async () => {
  const subscribers = nodes.map((n, i) => new ResumingSubscriber(`nats-kill-${i}`, n));
  for (const s of subscribers) await s.start();
  const publisher = steadyPublisher(() => balancer, await token({ sub: 'steady-2', pub: true }));
  await sleep(800);
  const leader = (await cluster.streamLeader()) ?? cluster.nodes[0];
  await leader.kill('SIGKILL');
  // A new leader is elected among the two left; publishing goes on.
  const countAtKill = publisher.acked.length;
  await waitFor(() => publisher.acked.length > countAtKill + 30, 'publishing to go on after the kill', 40000);
  await publisher.stop();
  for (const s of subscribers) {
    await s.has(publisher.acked);
    assert.deepEqual(s.problems, [], s.name);
    s.stop();
  }
  leader.start();
  await cluster.healthy();
});

test('rolling restart of all three nodes: npm and C++ clients stay connected through reconnects, no loss, no reset', async (t) => {
  const distIndex = path.join(root, 'js/dist/index.js');
  if (!existsSync(distIndex)) throw new Error('js/dist is missing: run `node js/build.mjs` first');
  const { GlobeMeetWS } = await import(distIndex);
  const sdkReceived = [];
  const sdkResets = [];
  const sdk = new GlobeMeetWS({
    endpoint: balancer.wsUrl,
    getToken: () => token({ sub: 'sdk' }),
    backoff: { min_ms: 50, max_ms: 200, factor: 2 },
  });
  sdk.on('reset', (info) => sdkResets.push(info));
  sdk.on('error', () => {});
  sdk.subscribe('queue.>', (event) => sdkReceived.push(event.id));
  const raw = new ResumingSubscriber('rolling-raw', balancer);
  await raw.start();
  const cliToken = await token({ sub: 'cli' });
  const useCli = existsSync(cliBinary());
  const cli = useCli ? runCli(['sub', '--server', balancer.httpUrl, '--token', cliToken, 'queue.>']) : null;
  if (cli) await cli.untilStderr('connected to', 15000);
  else t.diagnostic(`no C++ CLI at ${cliBinary()}: the C++ client is left out`);
  await waitFor(() => sdk.state === 'live', 'the SDK live');

  const publisher = steadyPublisher(() => balancer, await token({ sub: 'rolling', pub: true }));
  for (let i = 0; i < 3; i++) {
    await sleep(400);
    await nodes[i].kill('SIGTERM');  // a graceful stop: `closing`, then close 1001
    await nodes[i].stop();  // removes its directory
    nodes[i] = await startNode(cluster, secret);
  }
  await sleep(400);
  await publisher.stop();
  assert.ok(publisher.acked.length > 30, `enough publishing (${publisher.acked.length})`);

  await raw.has(publisher.acked);
  await waitFor(() => publisher.acked.every((id) => sdkReceived.includes(id)), 'the SDK to receive every acknowledged id', 30000);
  if (cli) await cli.until(() => publisher.acked.every((id) => cli.lines.some((l) => l.includes(`"${id}"`))), 'the CLI to print every id', 30000);

  assert.deepEqual(raw.problems, []);
  assert.deepEqual(sdkResets, [], 'the SDK saw no reset');
  assert.equal(new Set(sdkReceived).size, sdkReceived.length, 'the SDK got no duplicate');
  assert.deepEqual(sdkReceived.filter((id) => publisher.acked.includes(id)), publisher.acked, 'in order');
  if (cli) {
    const printed = cli.lines.map((l) => JSON.parse(l).id).filter((id) => publisher.acked.includes(id));
    assert.deepEqual(printed, publisher.acked, 'the CLI printed each id once, in order');
    assert.ok(!cli.stderr.includes('reset'), cli.stderr.slice(-500));
    await cli.kill();
  }
  sdk.close();
  raw.stop();
});

test('JetStream down and back: publish answers 503, subscribers stay connected, delivery catches up in order', async () => {
  const pubToken = await token({ sub: 'outage', pub: true });
  const clients = [];
  for (const node of nodes) {
    const c = await connect(node, { token: await token({ sub: 'outage-sub' }) });
    await c.next('ready');
    c.send({ op: 'subscribe', req: 's', topics: ['>'] });
    await c.next('subscribed');
    clients.push(c);
  }
  const before = await publish(nodes[0], pubToken, depthEvent('outage', 1));
  assert.equal(before.status, 200);
  for (const c of clients) assert.equal((await c.next('event', 10000)).id, before.body.ids[0]);

  for (const n of cluster.nodes) await n.kill('SIGKILL');
  await waitFor(async () => (await fetch(`${nodes[1].httpUrl}/readyz`)).status === 503, '/readyz 503');
  const refused = await publish(nodes[1], pubToken, depthEvent('outage', 2));
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error, 'log_unavailable');
  assert.equal(refused.headers.get('retry-after'), '1');

  for (const n of cluster.nodes) n.start();
  await cluster.healthy(60000);
  for (const node of nodes) await untilReady(node, 60000);
  const after = [];
  for (let i = 0; i < 3; i++) {
    const res = await publish(nodes[i], pubToken, depthEvent('outage', 10 + i));
    assert.equal(res.status, 200, res.text);
    after.push(res.body.ids[0]);
  }
  for (const c of clients) {
    assert.equal(c.closeInfo, null, 'the subscriber kept its connection');
    const got = [];
    for (let i = 0; i < after.length; i++) got.push((await c.next('event', 20000)).id);
    assert.deepEqual(got, after);
    await c.close();
  }
});
