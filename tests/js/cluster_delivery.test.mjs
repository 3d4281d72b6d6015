// Three GlobeMeet nodes on one 3-node NATS JetStream cluster (R3), real processes on loopback:
// events published on one node reach subscribers on the others, and never another tenant's;
// a client resumes on another node with exactly what it missed; a publish retried with the same
// Idempotency-Key (on any node) stores its events once and completes a batch cut short.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, publish, depthEvent, mintToken, subscribe } from './helpers/server.mjs';
import { startNatsCluster, startNode, sharedSecret } from './helpers/cluster.mjs';

let cluster;
const nodes = [];
const secret = sharedSecret();

before(async () => {
  cluster = await startNatsCluster(3);
  // The third node keeps only 2 events in memory: resumes there read older ones from JetStream.
  for (const args of [[], [], ['--memory-events', '2']]) nodes.push(await startNode(cluster, secret, { args }));
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await cluster?.stop();
});

const token = (claims) => mintToken(secret, claims);

async function subscriber(node, claims, extra = {}) {
  const client = await connect(node, { token: await token(claims) });
  await client.next('ready');
  const sub = await subscribe(client, ['>'], extra);
  assert.equal(sub.op, 'subscribed', JSON.stringify(sub));
  return client;
}

async function events(client, n) {
  const out = [];
  while (out.length < n) out.push(await client.next('event', 10000));
  return out;
}

test('events published on node 1 reach subscribers on nodes 2 and 3, each tenant only its own', async () => {
  const acme2 = await subscriber(nodes[1], { sub: 'a2', tenant: 'acme' });
  const acme3 = await subscriber(nodes[2], { sub: 'a3', tenant: 'acme' });
  const globex3 = await subscriber(nodes[2], { sub: 'g3', tenant: 'globex' });
  const acmePub = await token({ sub: 'pa', tenant: 'acme', pub: true });
  const globexPub = await token({ sub: 'pg', tenant: 'globex', pub: true });

  const acmeIds = [];
  const globexIds = [];
  for (let i = 0; i < 5; i++) {
    const a = await publish(nodes[0], acmePub, { events: [depthEvent('support', i), depthEvent('sales', i)] });
    assert.equal(a.status, 200, a.text);
    acmeIds.push(...a.body.ids);
    const g = await publish(nodes[0], globexPub, depthEvent('support', 100 + i));
    assert.equal(g.status, 200, g.text);
    globexIds.push(...g.body.ids);
  }
  const epoch = acmeIds[0].split('-')[0];
  assert.ok([...acmeIds, ...globexIds].every((id) => id.startsWith(`${epoch}-`)), 'one epoch across nodes');

  for (const client of [acme2, acme3]) {
    const got = await events(client, acmeIds.length);
    assert.deepEqual(got.map((e) => e.id), acmeIds, 'every acme event, in order, under the ids the publisher got');
    assert.ok(got.every((e) => e.tenant === 'acme'));
  }
  const got = await events(globex3, globexIds.length);
  assert.deepEqual(got.map((e) => e.id), globexIds);
  assert.deepEqual(got.map((e) => e.data.depth), [100, 101, 102, 103, 104]);
  // One more acme event: what arrives next on globex's socket must not be acme's.
  const last = await publish(nodes[2], globexPub, depthEvent('support', 999));
  assert.equal((await globex3.next('event', 10000)).id, last.body.ids[0]);
  assert.deepEqual(globex3.drain().filter((f) => f.op === 'event'), []);
  for (const c of [acme2, acme3, globex3]) await c.close();

  // Each node reports how far behind the stream it is and the JetStream round trip.
  const metrics = await (await fetch(`${nodes[2].httpUrl}/metrics`)).text();
  assert.match(metrics, /^globemeet_jetstream_consumer_lag \d+$/m);
  assert.match(metrics, /^globemeet_jetstream_round_trip_seconds \d+\.\d+$/m);
  assert.match(metrics, /^globemeet_jetstream_publishes_total \d+$/m);
});

test('a client resumes on another node with exactly the events it missed, in order', async () => {
  const pub = await token({ sub: 'resume-pub', tenant: 'acme', pub: true });
  const first = await subscriber(nodes[0], { sub: 'mover' });
  const before = await publish(nodes[0], pub, { events: [1, 2, 3].map((d) => depthEvent('resume', d)) });
  const seen = await events(first, 3);
  assert.deepEqual(seen.map((e) => e.id), before.body.ids);
  const lastId = seen.at(-1).id;
  await first.close();

  // Missed while away: published on node 2, read back on node 3 (which keeps 2 in memory).
  const missed = [];
  for (let i = 0; i < 4; i++) {
    const res = await publish(nodes[1], pub, { events: [depthEvent('resume', 10 + i), depthEvent('other', 10 + i)] });
    missed.push(...res.body.ids);
  }
  const resumed = await subscriber(nodes[2], { sub: 'mover' }, { from: lastId });
  const got = await events(resumed, missed.length);
  assert.deepEqual(got.map((e) => e.id), missed, 'exactly the missed events, in order');
  const replayed = await resumed.next('replayed', 10000);
  assert.equal(replayed.count, missed.length);
  assert.deepEqual(resumed.drain().filter((f) => f.op === 'event' || f.op === 'reset'), []);
  await resumed.close();
});

test('a publish retried with the same Idempotency-Key is stored once, on any node, and completes a cut-short batch', async () => {
  const pub = await token({ sub: 'retrier', tenant: 'acme', pub: true });
  const watcher = await subscriber(nodes[1], { sub: 'watcher' });
  const key = `order-${Date.now()}`;
  const batch = [1, 2, 3].map((d) => depthEvent('idem', d));
  const post = (node, body, k = key) => fetch(`${node.httpUrl}/v1/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${pub}`, 'Content-Type': 'application/json', 'Idempotency-Key': k },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

  // The first attempt stored only its first two events (as if JetStream failed midway).
  const cut = await post(nodes[0], { events: batch.slice(0, 2) });
  assert.equal(cut.status, 200);
  const retried = await post(nodes[2], { events: batch });
  assert.equal(retried.status, 200);
  assert.deepEqual(retried.body.ids.slice(0, 2), cut.body.ids, 'the stored events keep their ids');
  const again = await post(nodes[1], { events: batch });
  assert.deepEqual(again.body.ids, retried.body.ids, 'a second retry stores nothing');

  // The same key from another tenant names other events.
  const other = await fetch(`${nodes[0].httpUrl}/v1/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await token({ sub: 'x', tenant: 'globex', pub: true })}`,
      'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ events: batch }),
  }).then((r) => r.json());
  assert.equal(other.ids.filter((id) => retried.body.ids.includes(id)).length, 0);

  const marker = await publish(nodes[0], pub, depthEvent('idem', 99));
  const got = [];
  for (;;) {
    const e = await watcher.next('event', 10000);
    got.push(e.id);
    if (e.id === marker.body.ids[0]) break;
  }
  assert.deepEqual(got, [...retried.body.ids, marker.body.ids[0]], 'each event delivered once');

  const bad = await post(nodes[0], { events: batch }, 'has space');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'bad_request');
  await watcher.close();
});
