// Resume (docs/protocol.md section 5): `from` and Last-Event-ID, replay then `replayed` then
// live with no duplicate and no gap (also while events keep coming), every `reset` case, and
// `{epoch}-0`, the position before the first event, named by `head` on an empty log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connectReady, subscribe, publish, depthEvent, liveWitness, sleep,
} from './helpers/server.mjs';

let server;
let publisher;
let witness;
before(async () => {
  server = await startServer({ args: ['--retention-events', '1000'] });
  publisher = await server.mint({ sub: 'pub', pub: true });
  witness = await liveWitness(server);
});
after(async () => { await witness.client.close(); await server.stop(); });

const seq = (id) => Number(id.split('-')[1]);
const epochOf = (id) => id.split('-')[0];

async function publishMany(queue, n) {
  const ids = [];
  for (let i = 0; i < n; i++) ids.push((await publish(server, publisher, depthEvent(queue, i))).body.ids[0]);
  return ids;
}

// Collects event frames until `replayed`, then returns {events, replayed, before}.
async function collectReplay(client) {
  const events = [];
  for (;;) {
    const f = await client.next();
    if (f.op === 'event') events.push(f);
    else if (f.op === 'replayed') return { events, replayed: f };
    else if (f.op !== 'reset') throw new Error(`unexpected ${JSON.stringify(f)}`);
    else events.reset = f;
  }
}

test('from: subscribed, replay of matching events after it, replayed, then live', async () => {
  const ids = await publishMany('r1', 5);
  await publish(server, publisher, depthEvent('other', 1));  // does not match
  const { client } = await connectReady(server);
  client.send({ op: 'subscribe', req: 'resume', topics: ['queue.r1.*', 'queue.*.depth-changed'], from: ids[1] });
  const sub = await client.next();
  assert.equal(sub.op, 'subscribed');
  const { events, replayed } = await collectReplay(client);
  const replayedR1 = events.filter((e) => e.subject === 'r1').map((e) => e.id);
  assert.deepEqual(replayedR1, ids.slice(2), 'each matching event once, in order');
  assert.equal(replayed.req, 'resume');
  assert.equal(replayed.count, events.length);
  const live = await publish(server, publisher, depthEvent('r1', 9));
  assert.equal((await client.next('event')).id, live.body.ids[0]);
  await client.close();
});

test('Last-Event-ID header stands in for from on the first subscribe', async () => {
  const ids = await publishMany('r2', 3);
  const { client } = await connectReady(server, {}, { lastEventId: ids[0] });
  await subscribe(client, ['queue.r2.*']);
  const { events } = await collectReplay(client);
  assert.deepEqual(events.map((e) => e.id), ids.slice(1));
  await client.close();
});

test('resume while events keep coming: no loss, no duplicate, in order', async () => {
  // More than one replay chunk (256 events), so live events arrive while the replay runs.
  const first = [];
  for (let b = 0; b < 8; b++) {
    const res = await publish(server, publisher, { events: Array.from({ length: 100 }, (_, i) => depthEvent('flow', i)) });
    first.push(...res.body.ids);
  }
  let stop = false;
  const published = [...first];
  const pumping = (async () => {
    while (!stop) {
      const res = await publish(server, publisher, { events: [depthEvent('flow', 1), depthEvent('flow', 2)] });
      published.push(...res.body.ids);
    }
  })();
  await sleep(30);
  const { client } = await connectReady(server);
  client.send({ op: 'subscribe', req: 'r', topics: ['queue.flow.*'], from: first[4] });
  await client.next('subscribed');
  const { events } = await collectReplay(client);
  await sleep(150);
  stop = true;
  await pumping;
  const last = published[published.length - 1];
  const received = events.map((e) => e.id);
  while (received[received.length - 1] !== last) received.push((await client.next('event')).id);
  const expected = published.filter((id) => seq(id) > seq(first[4]));
  assert.deepEqual(received, expected);
  await client.close();
});

test('reconnect after a drop resumes with no loss and no duplicate', async () => {
  const { client: c1 } = await connectReady(server);
  await subscribe(c1, ['queue.rc.*']);
  const before = await publishMany('rc', 3);
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await c1.next('event')).id);
  assert.deepEqual(got, before);
  await c1.close();
  const missed = await publishMany('rc', 4);
  const { client: c2 } = await connectReady(server);
  c2.send({ op: 'subscribe', req: 'again', topics: ['queue.rc.*'], from: got[got.length - 1] });
  await c2.next('subscribed');
  const { events } = await collectReplay(c2);
  assert.deepEqual(events.map((e) => e.id), missed);
  await c2.close();
});

test('future id: reset future_id, then live only', async () => {
  const [head] = await publishMany('fut', 1);
  const { client } = await connectReady(server);
  client.send({ op: 'subscribe', req: 'f', topics: ['queue.fut.*'], from: `${epochOf(head)}-${seq(head) + 1000}` });
  await client.next('subscribed');
  const { events, replayed } = await collectReplay(client);
  assert.equal(events.reset.reason, 'future_id');
  assert.equal(events.reset.position, head);
  assert.equal(events.length, 0);
  assert.equal(replayed.count, 0);
  const live = await publish(server, publisher, depthEvent('fut', 2));
  assert.equal((await client.next('event')).id, live.body.ids[0]);
  await client.close();
});

test('another epoch: reset epoch_changed, then every retained matching event', async () => {
  const ids = await publishMany('ep', 2);
  const { client } = await connectReady(server);
  client.send({ op: 'subscribe', req: 'e', topics: ['queue.ep.*'], from: 'abcdef0123456789-5' });
  await client.next('subscribed');
  const { events } = await collectReplay(client);
  assert.equal(events.reset.reason, 'epoch_changed');
  assert.equal(events.reset.from, 'abcdef0123456789-5');
  assert.deepEqual(events.map((e) => e.id), ids);
  await client.close();
});

test('not an event id: invalid_event_id and nothing subscribed; from later: resume_not_allowed', async () => {
  const { client } = await connectReady(server);
  for (const from of ['garbage', '-1', 'ABC-1', 'abc-00', 'abc-01', '12345678901234567-1']) {
    const err = await subscribe(client, ['queue.>'], { from });
    assert.equal(err.code, 'invalid_event_id', from);
  }
  client.send({ op: 'unsubscribe', req: 'u', topics: ['queue.>'] });
  assert.equal((await client.next('error')).code, 'not_subscribed');
  assert.equal((await subscribe(client, ['queue.>'])).op, 'subscribed');
  const [id] = await publishMany('late', 1);
  await client.next('event');
  const err = await subscribe(client, ['agent.>'], { from: id });
  assert.equal(err.code, 'resume_not_allowed');
  await client.close();
  // A garbage Last-Event-ID header is refused the same way.
  const { client: c2 } = await connectReady(server, {}, { lastEventId: 'not-an-id' });
  assert.equal((await subscribe(c2, ['queue.>'])).code, 'invalid_event_id');
  await c2.close();
  await witness.check();
});

test('{epoch}-0: the head of an empty log, a position to resume from, never an event id', async () => {
  const s = await startServer({ args: ['--retention-events', '3'] });
  try {
    const pub = await s.mint({ pub: true });
    const { client, ready } = await connectReady(s);
    assert.match(ready.head, /^[0-9a-f]{1,16}-0$/, 'never null');
    const start = ready.head;
    const epoch = start.split('-')[0];
    const sub = await subscribe(client, ['queue.>']);
    assert.equal(sub.head, start);
    await client.close();
    // And a reset on an empty log names it as well.
    const { client: other } = await connectReady(s);
    other.send({ op: 'subscribe', req: 'e', topics: ['>'], from: 'abcdef-9' });
    await other.next('subscribed');
    assert.deepEqual((await collectReplay(other)).events.reset.position, start);
    await other.close();

    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await publish(s, pub, depthEvent('zero', i))).body.ids[0]);
    assert.deepEqual(ids.map(seq), [1, 2, 3], 'events start at seq 1');
    // From `{epoch}-0`, by `from` or by the Last-Event-ID header: every event, no reset.
    for (const options of [{ from: start }, { header: start }]) {
      const { client: c } = await connectReady(s, {}, options.header ? { lastEventId: options.header } : {});
      c.send({ op: 'subscribe', req: 'z', topics: ['queue.>'], ...(options.from ? { from: options.from } : {}) });
      assert.equal((await c.next('subscribed')).head, ids[2]);
      const { events, replayed } = await collectReplay(c);
      assert.equal(events.reset, undefined, JSON.stringify(options));
      assert.deepEqual(events.map((e) => e.id), ids);
      assert.equal(replayed.count, 3);
      await c.close();
    }
    // A replay of another epoch that starts at seq 1 continues after `{epoch}-0`.
    const { client: c3 } = await connectReady(s);
    c3.send({ op: 'subscribe', req: 'y', topics: ['>'], from: 'abcdef-9' });
    await c3.next('subscribed');
    assert.equal((await collectReplay(c3)).events.reset.position, `${epoch}-0`);
    await c3.close();

    // Once retention has dropped seq 1, `{epoch}-0` is too old: retention_exceeded.
    const more = (await publish(s, pub, depthEvent('zero', 3))).body.ids[0];
    const { client: c4 } = await connectReady(s);
    c4.send({ op: 'subscribe', req: 'w', topics: ['>'], from: start });
    await c4.next('subscribed');
    const late = await collectReplay(c4);
    assert.equal(late.events.reset.reason, 'retention_exceeded');
    assert.equal(late.events.reset.position, ids[0]);
    assert.deepEqual(late.events.map((e) => e.id), [ids[1], ids[2], more]);
    await c4.close();
  } finally {
    await s.stop();
  }
});

test('older than retention: reset retention_exceeded, then what is retained', async () => {
  const s = await startServer({ args: ['--retention-events', '3'] });
  try {
    const pub = await s.mint({ pub: true });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await publish(s, pub, depthEvent('ret', i))).body.ids[0]);
    const { client } = await connectReady(s);
    client.send({ op: 'subscribe', req: 'x', topics: ['>'], from: ids[0] });
    await client.next('subscribed');
    const { events, replayed } = await collectReplay(client);
    assert.equal(events.reset.reason, 'retention_exceeded');
    assert.equal(events.reset.position, ids[2]);
    assert.deepEqual(events.map((e) => e.id), ids.slice(3));
    assert.equal(replayed.count, 3);
    await client.close();
  } finally {
    await s.stop();
  }
});

test('--threads 4: parallel publishers and resuming clients see every event once, in id order', async () => {
  const s = await startServer({ args: ['--threads', '4'] });
  try {
    const pub = await s.mint({ pub: true });
    const seed = (await publish(s, pub, depthEvent('mt', 0))).body.ids[0];
    const published = [];
    let stop = false;
    const publishers = Array.from({ length: 4 }, (_, p) => (async () => {
      while (!stop) {
        const res = await publish(s, pub, { events: [depthEvent(`mt${p}`, 1), depthEvent(`mt${p}`, 2), depthEvent(`mt${p}`, 3)] });
        assert.equal(res.status, 200);
        published.push(...res.body.ids);
      }
    })());
    const clients = [];
    // Replays of several chunks run while live events arrive on other threads.
    for (let i = 0; i < 6; i++) {
      const { client } = await connectReady(s, { sub: `c${i}` });
      client.send({ op: 'subscribe', req: 'r', topics: ['queue.>'], from: seed });
      clients.push(client);
      await sleep(30);
    }
    await sleep(200);
    stop = true;
    await Promise.all(publishers);
    const expected = published.slice().sort((a, b) => seq(a) - seq(b));
    for (const client of clients) {
      const ids = [];
      while (ids.length < expected.length) {
        const f = await client.next((x) => x.op === 'event');
        ids.push(f.id);
      }
      assert.deepEqual(ids, expected);
      await client.close();
    }
  } finally {
    await s.stop();
  }
});

test('after unsubscribing everything a connection may resume again; metrics count the replay', async () => {
  const ids = await publishMany('again', 3);
  const { client } = await connectReady(server);
  await subscribe(client, ['queue.again.*']);
  client.send({ op: 'unsubscribe', req: 'u', topics: ['queue.again.*'] });
  await client.next('unsubscribed');
  client.send({ op: 'subscribe', req: 'r', topics: ['queue.again.*'], from: ids[0] });
  await client.next('subscribed');
  const { events } = await collectReplay(client);
  assert.deepEqual(events.map((e) => e.id), ids.slice(1));
  await client.close();
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const value = (name) => Number(text.split('\n').find((l) => l.startsWith(`${name} `)).split(' ')[1]);
  assert.ok(value('globemeet_replayed_total') > 0);
  assert.ok(value('globemeet_events_in_total') >= 3);
  assert.ok(value('globemeet_events_out_total') >= value('globemeet_replayed_total'));
  assert.ok(value('globemeet_delivery_latency_seconds_count') > 0);
});

test('live events during a replay held up by a slow reader come after it, once, in order', async () => {
  // A small queue makes the replay wait for the socket; the paused reader keeps it waiting
  // while live events arrive (one thread: nothing else orders them).
  const s = await startServer({ args: ['--max-queue-bytes', '262144', '--overflow-lag-ms', '60000'] });
  try {
    const pub = await s.mint({ pub: true });
    const pad = 'p'.repeat(40000);
    const big = (i) => ({ type: 'queue.depth-changed', subject: 'big', data: { queue_id: 'big', depth: i, longest_wait_seconds: 0, pad } });
    const seed = (await publish(s, pub, depthEvent('big', 0))).body.ids[0];
    const stored = [];
    for (let b = 0; b < 10; b++) stored.push(...(await publish(s, pub, { events: Array.from({ length: 20 }, (_, i) => big(i)) })).body.ids);

    const { client } = await connectReady(s);
    client.ws._socket.pause();
    client.send({ op: 'subscribe', req: 'r', topics: ['queue.>'], from: seed });
    await sleep(300);  // the replay fills the socket and waits
    const live = [];
    for (let i = 0; i < 5; i++) live.push(...(await publish(s, pub, depthEvent('big', 100 + i))).body.ids);
    client.ws._socket.resume();

    await client.next('subscribed');
    const { events, replayed } = await collectReplay(client);
    assert.deepEqual(events.map((e) => e.id), stored);
    assert.equal(replayed.count, stored.length);
    const after = [];
    for (let i = 0; i < live.length; i++) after.push((await client.next('event')).id);
    assert.deepEqual(after, live);
    await client.close();
  } finally {
    await s.stop();
  }
});

test('a refresh that revokes a pattern mid-replay stops replaying and holding its events', async () => {
  const s = await startServer({ args: ['--max-queue-bytes', '262144', '--overflow-lag-ms', '60000'] });
  try {
    const pub = await s.mint({ pub: true });
    const pad = 'p'.repeat(40000);
    const ev = (kind, i) => (kind === 'queue'
      ? { type: 'queue.depth-changed', subject: 'q', data: { queue_id: 'q', depth: i, longest_wait_seconds: 0, pad } }
      : { type: 'agent.online', subject: 'a', data: { agent_id: 'a', pad } });
    const seed = (await publish(s, pub, depthEvent('q', 0))).body.ids[0];
    const stored = [];
    for (let b = 0; b < 10; b++) {
      stored.push(...(await publish(s, pub, { events: Array.from({ length: 20 }, (_, i) => ev(i % 2 ? 'agent' : 'queue', i)) })).body.ids);
    }
    const { client } = await connectReady(s, { sub: 'rv', perms: ['queue.>', 'agent.>'] });
    client.ws._socket.pause();
    client.send({ op: 'subscribe', req: 'r', topics: ['queue.>', 'agent.>'], from: seed });
    await sleep(300);  // the replay waits for the paused socket
    const liveAgent = (await publish(s, pub, ev('agent', 0))).body.ids[0];
    const liveQueue = (await publish(s, pub, ev('queue', 0))).body.ids[0];
    client.send({ op: 'refresh', req: 'f', token: await s.mint({ sub: 'rv', perms: ['queue.>'] }) });
    await sleep(100);
    client.ws._socket.resume();

    const frames = [];
    while (!frames.some((f) => f.op === 'event' && f.id === liveQueue)) frames.push(await client.next());
    const revokedAt = frames.findIndex((f) => f.op === 'unsubscribed');
    assert.ok(revokedAt > 0);
    assert.deepEqual(frames[revokedAt].topics, ['agent.>']);
    const afterRevocation = frames.slice(revokedAt).filter((f) => f.op === 'event');
    assert.ok(afterRevocation.every((f) => f.topic.startsWith('queue.')), 'no agent event after the revocation');
    assert.ok(!frames.some((f) => f.id === liveAgent), 'the held live agent event was dropped');
    const ids = frames.filter((f) => f.op === 'event').map((f) => f.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => seq(a) - seq(b)), 'in order');
    assert.equal(new Set(ids).size, ids.length, 'no duplicate');
    await client.close();
  } finally {
    await s.stop();
  }
});
