// The current state on subscribe (docs/protocol.md section 5.3) against the real server: the
// latest event of each matching topic, marked "snapshot": true, then `snapshotted`, then live
// events with no gap and no duplicate, also while events keep being published; the snapshot in
// place of the replay after a reset; rebuilt from the disk log at start; bounded by
// --snapshot-topics and by retention; never another tenant's event, never an unpermitted topic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, makeTempDir, connectReady, subscribe, publish, depthEvent, liveWitness,
} from './helpers/server.mjs';

let server;
let publisher;
let witness;
before(async () => {
  server = await startServer();
  publisher = await server.mint({ sub: 'pub', pub: true });
  witness = await liveWitness(server);
});
after(async () => { await witness.client.close(); await server.stop(); });

const seq = (id) => Number(id.split('-')[1]);

const statusEvent = (agent, status) => ({
  type: 'agent.status-changed', subject: agent, data: { agent_id: agent, status, previous_status: 'x' },
});

// Sends a subscribe and collects its answer up to `snapshotted` (or `replayed`):
// {subscribed, reset, snapshot: [events], snapshotted, replayed, other: [frames in between]}.
async function subscribeCollect(client, frame, until = 'snapshotted') {
  client.send({ op: 'subscribe', ...frame });
  const out = { snapshot: [], replay: [], other: [] };
  for (;;) {
    const f = await client.next((x) => x.req === frame.req || x.op === 'event' || x.op === 'reset' || x.op === 'error');
    if (f.op === 'error') throw new Error(`subscribe refused: ${JSON.stringify(f)}`);
    if (f.op === 'subscribed') out.subscribed = f;
    else if (f.op === 'reset') out.reset = f;
    else if (f.op === 'event' && f.snapshot === true) out.snapshot.push(f);
    else if (f.op === 'event' && !out.snapshotted && !out.replayed && out.reset === undefined && frame.from) out.replay.push(f);
    else if (f.op === 'event') out.other.push(f);
    else if (f.op === 'snapshotted') out.snapshotted = f;
    else if (f.op === 'replayed') out.replayed = f;
    if (out[until]) return out;
  }
}

test('snapshot: the latest event of each matching topic, in id order, marked, then snapshotted, then live', async () => {
  const a1 = await publish(server, publisher, depthEvent('snapA', 1));
  const b1 = await publish(server, publisher, depthEvent('snapB', 1));
  const a2 = await publish(server, publisher, depthEvent('snapA', 2));
  await publish(server, publisher, statusEvent('snap-agent', 'ready'));  // matches no pattern below
  const { client } = await connectReady(server);
  const got = await subscribeCollect(client, { req: 's1', topics: ['queue.snapA.*', 'queue.snapB.depth-changed'], snapshot: true });
  assert.ok(seq(got.subscribed.head) >= seq(a2.body.ids[0]));
  assert.deepEqual(got.snapshot.map((e) => e.id), [b1.body.ids[0], a2.body.ids[0]], 'each topic once, in id order');
  assert.equal(got.snapshot[1].data.depth, 2, 'the newest value');
  assert.ok(!got.snapshot.some((e) => e.id === a1.body.ids[0]));
  for (const e of got.snapshot) {
    assert.equal(e.snapshot, true);
    assert.ok(seq(e.id) <= seq(got.subscribed.head), 'at most the head');
  }
  assert.equal(got.snapshotted.count, 2);
  assert.equal(got.other.length, 0);
  const live = await publish(server, publisher, depthEvent('snapB', 3));
  const ev = await client.next('event');
  assert.equal(ev.id, live.body.ids[0]);
  assert.equal(ev.snapshot, undefined, 'a live event never carries snapshot');
  await client.close();
});

test('without snapshot nothing changes; a topic with no event yet gives an empty snapshot', async () => {
  const { client } = await connectReady(server);
  const plain = await subscribe(client, ['queue.snapA.*']);
  assert.equal(plain.op, 'subscribed');
  const empty = await subscribeCollect(client, { req: 'e', topics: ['queue.never-used.*'], snapshot: true });
  assert.equal(empty.snapshotted.count, 0);
  assert.equal(empty.snapshot.length, 0);
  assert.deepEqual(client.drain(), [], 'no snapshot for the subscribe that did not ask');
  await client.close();
});

test('snapshot then live under concurrent publishing: the latest value of every topic, then every later event once, in order', async () => {
  const topics = Array.from({ length: 12 }, (_, i) => `flow${i}`);
  const published = [];  // {id, queue, depth}, in id order
  let depth = 0;
  const publishRound = async () => {
    const batch = topics.map((q) => depthEvent(q, ++depth));
    const res = await publish(server, publisher, { events: batch });
    assert.equal(res.status, 200);
    res.body.ids.forEach((id, i) => published.push({ id, queue: batch[i].subject, depth: batch[i].data.depth }));
  };
  for (let r = 0; r < 5; r++) await publishRound();
  let stop = false;
  const pumping = (async () => { while (!stop) await publishRound(); })();
  const subscribers = [];
  for (let c = 0; c < 4; c++) {
    const { client } = await connectReady(server);
    subscribers.push({ client, got: await subscribeCollect(client, { req: `c${c}`, topics: ['queue.*.depth-changed'], snapshot: true }) });
  }
  stop = true;
  await pumping;
  const lastId = published[published.length - 1].id;
  for (const { client, got } of subscribers) {
    const head = seq(got.subscribed.head);
    // Snapshot: for every topic the newest event at or before the head.
    const expectedSnapshot = new Map();
    for (const p of published.filter((x) => seq(x.id) <= head)) expectedSnapshot.set(p.queue, p.id);
    const snapshotIds = got.snapshot.filter((e) => topics.includes(e.subject)).map((e) => e.id);
    assert.deepEqual(snapshotIds, [...expectedSnapshot.values()].sort((x, y) => seq(x) - seq(y)));
    // Live: every later event of these topics, exactly once, in order.
    const live = got.other.filter((e) => topics.includes(e.subject)).map((e) => e.id);
    while (live[live.length - 1] !== lastId) {
      const e = await client.next('event', 10000);
      if (topics.includes(e.subject)) live.push(e.id);
    }
    assert.deepEqual(live, published.filter((x) => seq(x.id) > head).map((x) => x.id));
    // The union gives each topic its newest value.
    const view = new Map();
    for (const e of [...got.snapshot, ...got.other]) view.set(e.subject, e.id);
    for (const id of live) view.set(published.find((p) => p.id === id).queue, id);
    for (const q of topics) assert.equal(view.get(q), [...published].reverse().find((p) => p.queue === q).id);
    await client.close();
  }
});

test('re-subscribing a pattern the connection holds is accepted and, with snapshot, gets the snapshot', async () => {
  const last = await publish(server, publisher, depthEvent('again', 7));
  const { client } = await connectReady(server);
  assert.equal((await subscribe(client, ['queue.again.*'])).op, 'subscribed');
  const got = await subscribeCollect(client, { req: 'again', topics: ['queue.again.*'], snapshot: true });
  assert.deepEqual(got.snapshot.map((e) => e.id), [last.body.ids[0]]);
  // Still one subscription: a live event arrives once.
  const live = await publish(server, publisher, depthEvent('again', 8));
  assert.equal((await client.next('event')).id, live.body.ids[0]);
  await publish(server, publisher, depthEvent('again', 9));
  await client.next('event');
  assert.deepEqual(client.drain().filter((f) => f.op === 'event'), []);
  await client.close();
});

test('tenant isolation and permissions: a snapshot holds only the tenant\'s permitted topics', async () => {
  const globexPub = await server.mint({ sub: 'gpub', pub: true, tenant: 'globex' });
  await publish(server, globexPub, depthEvent('shared-q', 99));
  const acmeLast = await publish(server, publisher, depthEvent('shared-q', 1));
  await publish(server, publisher, statusEvent('secret-agent', 'away'));

  const { client: g } = await connectReady(server, { tenant: 'globex' });
  const gGot = await subscribeCollect(g, { req: 'g', topics: ['>'], snapshot: true });
  assert.ok(gGot.snapshot.length >= 1);
  for (const e of gGot.snapshot) assert.equal(e.tenant, 'globex');
  await g.close();

  const { client } = await connectReady(server, { perms: ['queue.>'] });
  const refused = await subscribe(client, ['agent.>'], { snapshot: true });
  assert.equal(refused.code, 'forbidden_topic');
  const got = await subscribeCollect(client, { req: 'q', topics: ['queue.shared-q.*'], snapshot: true });
  assert.deepEqual(got.snapshot.map((e) => e.id), [acmeLast.body.ids[0]]);
  assert.equal(got.snapshot[0].tenant, 'acme');
  assert.ok(!client.drain().some((f) => f.op === 'event' && f.topic.startsWith('agent.')));
  await client.close();
});

test('resume possible: the replay, no snapshot', async () => {
  const first = await publish(server, publisher, depthEvent('resumable', 1));
  const second = await publish(server, publisher, depthEvent('resumable', 2));
  const { client } = await connectReady(server);
  const got = await subscribeCollect(client, { req: 'r', topics: ['queue.resumable.*'], from: first.body.ids[0], snapshot: true }, 'replayed');
  assert.equal(got.reset, undefined);
  assert.deepEqual(got.replay.map((e) => e.id), [second.body.ids[0]]);
  assert.equal(got.snapshot.length, 0);
  assert.equal(got.snapshotted, undefined);
  assert.ok(!client.drain().some((f) => f.op === 'snapshotted'));
  await client.close();
});

test('reset retention_exceeded with snapshot: subscribed, reset at the head, the snapshot, snapshotted, replayed 0, live', async () => {
  const s = await startServer({ args: ['--retention-events', '5'] });
  try {
    const pub = await s.mint({ pub: true });
    const first = await publish(s, pub, depthEvent('gone', 1));  // retention drops it below
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push((await publish(s, pub, depthEvent(`kept${i % 3}`, i))).body.ids[0]);
    const { client } = await connectReady(s);
    const got = await subscribeCollect(client, { req: 'x', topics: ['queue.>'], from: first.body.ids[0], snapshot: true }, 'replayed');
    assert.equal(got.reset.reason, 'retention_exceeded');
    assert.equal(got.reset.position, got.subscribed.head, 'delivery continues after the head');
    assert.equal(got.snapshotted.count, 3, 'gone: its event is no longer retained');
    assert.deepEqual(got.snapshot.map((e) => e.id), ids.slice(5));
    assert.equal(got.replayed.count, 0);
    assert.equal(got.replay.length + got.other.length, 0, 'nothing older is replayed');
    const live = await publish(s, pub, depthEvent('kept0', 100));
    assert.equal((await client.next('event')).id, live.body.ids[0]);
    await client.close();
  } finally { await s.stop(); }
});

test('reset epoch_changed after a restart on the memory log: the snapshot of the new run', async () => {
  const first = await startServer();
  const pub1 = await first.mint({ pub: true });
  const old = await publish(first, pub1, depthEvent('ep', 1));
  await first.stop();
  const s = await startServer();
  try {
    const pub = await s.mint({ pub: true });
    const fresh = await publish(s, pub, depthEvent('ep', 2));
    const { client } = await connectReady(s);
    const got = await subscribeCollect(client, { req: 'x', topics: ['queue.ep.*'], from: old.body.ids[0], snapshot: true }, 'replayed');
    assert.equal(got.reset.reason, 'epoch_changed');
    assert.deepEqual(got.snapshot.map((e) => e.id), [fresh.body.ids[0]]);
    assert.equal(got.snapshotted.req, 'x');
    assert.equal(got.replayed.count, 0);
    await client.close();
  } finally { await s.stop(); }
});

test('the disk log: the cache is rebuilt at start, so a snapshot after a restart holds the latest values', async () => {
  const dir = makeTempDir();
  const secret = 'snapshot-restart-secret-0123456789';
  const start = () => startServer({ dir, secret, args: ['--data-dir', path.join(dir, 'data')] });
  let s = await start();
  const pub = await s.mint({ pub: true });
  const latest = {};
  for (let i = 0; i < 20; i++) {
    const q = `disk${i % 4}`;
    latest[q] = (await publish(s, pub, depthEvent(q, i))).body.ids[0];
  }
  await s.kill('SIGTERM');
  s = await start();
  try {
    const { client } = await connectReady(s);
    const got = await subscribeCollect(client, { req: 'd', topics: ['queue.*.depth-changed'], snapshot: true });
    assert.deepEqual(got.snapshot.map((e) => e.id), Object.values(latest).sort((x, y) => seq(x) - seq(y)));
    assert.equal(got.snapshot.find((e) => e.subject === 'disk3').data.depth, 19);
    await client.close();
  } finally { await s.stop(); }
});

test('--snapshot-topics bounds the cache: the snapshot holds the newest N topics', async () => {
  const s = await startServer({ args: ['--snapshot-topics', '5'] });
  try {
    const pub = await s.mint({ pub: true });
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await publish(s, pub, depthEvent(`bounded${i}`, i))).body.ids[0]);
    const { client } = await connectReady(s);
    const got = await subscribeCollect(client, { req: 'b', topics: ['>'], snapshot: true });
    assert.deepEqual(got.snapshot.map((e) => e.id), ids.slice(7));
    const metrics = await (await fetch(`${s.httpUrl}/metrics`)).text();
    assert.match(metrics, /^globemeet_snapshot_events_total 5$/m);
    await client.close();
  } finally { await s.stop(); }
});

test('the server keeps serving others meanwhile', async () => {
  await witness.check();
});
