// Issue 17 in the npm package against the real server: a subscription with { snapshot: true }
// gets the current state first (event.snapshot, meta.snapshot, snapshotted(), the `snapshot`
// event) and nothing of it reaches the subscriptions that did not ask; every handler sees the
// delivery delay, and ws.latency() has the figures of the live events.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, depthEvent, makeTempDir, oauthClient, until } from './helpers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(root, 'js/dist/node.js'))) throw new Error('js/dist is missing: run `node js/build.mjs` first');
const { GlobeMeetWS } = await import(path.join(root, 'js/dist/index.js'));
const { clientCredentials, publish } = await import(path.join(root, 'js/dist/node.js'));

const servers = [];
const clients = [];
const dirs = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function serverWithClient() {
  const dir = makeTempDir();
  dirs.push(dir);
  const identity = oauthClient(dir);
  const srv = await startServer({ args: identity.args });
  servers.push(srv);
  const getToken = clientCredentials({ server: srv.httpUrl, clientId: identity.clientId, clientSecret: identity.secret });
  return { srv, getToken, publishTo: (events) => publish({ server: srv.httpUrl, token: getToken }, events) };
}
function client(options) {
  const c = new GlobeMeetWS({ backoff: { min_ms: 20, max_ms: 200, factor: 2 }, ...options });
  clients.push(c);
  return c;
}

test('a dashboard that opens late gets the current state of every queue first, then live events', async () => {
  const { srv, getToken, publishTo } = await serverWithClient();
  const [, support, sales] = await publishTo([depthEvent('support', 3), depthEvent('support', 5), depthEvent('sales', 2)]);

  const ws = client({ endpoint: srv.wsUrl, getToken, conflate: true });
  const current = [];
  const plain = [];
  const completed = [];
  ws.on('snapshot', (s) => completed.push(s));
  const sub = ws.subscribe('queue.*.depth-changed', (event, meta) => current.push({ event, meta }), { snapshot: true });
  ws.subscribe('queue.>', (event, meta) => plain.push({ event, meta }));

  assert.equal(await sub.snapshotted(), 2);
  assert.deepEqual(current.map(({ event }) => [event.id, event.data.queue_id, event.data.depth]),
    [[support, 'support', 5], [sales, 'sales', 2]], 'the latest event of each topic, in id order');
  for (const { event, meta } of current) {
    assert.equal(event.snapshot, true);
    assert.equal(meta.snapshot, true);
    assert.equal(typeof meta.delayMs, 'number', 'a snapshot event carries its age');
  }
  assert.deepEqual(completed, [{ pattern: 'queue.*.depth-changed', count: 2 }]);
  assert.deepEqual(plain, [], 'the subscription that did not ask gets no snapshot');
  assert.equal(ws.lastEventId, sales, 'snapshot events are older than the position: the head stands');
  assert.deepEqual(ws.latency().count, 0, 'snapshot events are not measured');

  // Live: to both, measured.
  const [live] = await publishTo([depthEvent('support', 6)]);
  await until(() => current.length === 3 && plain.length === 1, 'the live event on both subscriptions');
  for (const { event, meta } of [current[2], plain[0]]) {
    assert.equal(event.id, live);
    assert.equal(event.snapshot, undefined);
    assert.equal(meta.snapshot, false);
    assert.equal(typeof meta.delayMs, 'number');
  }
  assert.equal(current[2].meta, plain[0].meta, 'one meta object per event, shared by its handlers');
  const latency = ws.latency();
  assert.equal(latency.count, 1);
  assert.equal(latency.p50Ms, current[2].meta.delayMs);
  assert.equal(latency.p99Ms, current[2].meta.delayMs);
  assert.equal(typeof latency.clockOffsetMs, 'number');

  // A subscription without the option has no snapshot to wait for.
  const other = ws.subscribe('agent.>', () => {});
  await assert.rejects(other.snapshotted(), (e) => e.code === 'no_snapshot');
});

test('latency(): every live event counts, and the figures stay after close()', async () => {
  const { srv, getToken, publishTo } = await serverWithClient();
  const ws = client({ endpoint: srv.wsUrl, getToken });
  const delays = [];
  const sub = ws.subscribe('queue.>', (event, meta) => delays.push(meta.delayMs));
  await sub.ready();
  await publishTo(Array.from({ length: 20 }, (_, i) => depthEvent(`q${i % 4}`, i)));
  await until(() => delays.length === 20, 'twenty events');
  const sorted = [...delays].sort((a, b) => a - b);
  const latency = ws.latency();
  assert.equal(latency.count, 20);
  assert.equal(latency.p50Ms, sorted[9], 'nearest rank: the 10th of 20');
  assert.equal(latency.p99Ms, sorted[19]);
  ws.close();
  assert.deepEqual(ws.latency(), latency);
});
