// Conflation of gauges (docs/protocol.md sections 3.1 and 7.1) against the real server: GET
// /v1/topics marks the gauges; a connection that asked for conflation and stops reading for a
// while gets, once it reads again, every non-gauge event and the newest value of every gauge
// topic last, ids still in increasing order; one that did not ask gets everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connectReady, subscribe, publish, depthEvent, until,
} from './helpers/server.mjs';

let server;
let publisher;
before(async () => {
  // Room for the paused connections' queues: this test is about conflation, not overflow.
  server = await startServer({ args: ['--max-queue-bytes', String(512 << 20), '--overflow-lag-ms', '120000'] });
  publisher = await server.mint({ sub: 'pub', pub: true });
});
after(async () => { await server.stop(); });

const seq = (id) => Number(id.split('-')[1]);

test('GET /v1/topics marks queue.depth-changed and agent.status-changed as gauges, and nothing else', async () => {
  const body = await (await fetch(`${server.httpUrl}/v1/topics`)).json();
  const gauges = body.types.filter((t) => t.gauge === true).map((t) => t.type).sort();
  assert.deepEqual(gauges, ['agent.status-changed', 'queue.depth-changed']);
  for (const t of body.types) assert.equal(typeof t.gauge, 'boolean', t.type);
});

// A session.created event of about `bytes` bytes (extra data fields are kept as written).
const filler = (i, bytes) => ({
  type: 'session.created', subject: 'fill', data: { session_id: `s${i}`, queue_id: 'fill', note: 'x'.repeat(bytes) },
});
const abandoned = (queue, i) => ({
  type: 'queue.abandoned', subject: queue, data: { queue_id: queue, session_id: `a${i}`, wait_seconds: i },
});

test('a conflating connection that stops reading gets every non-gauge event and each gauge\'s newest value last', async () => {
  const topics = ['queue.>', 'session.>'];
  const { client: conflating } = await connectReady(server, { sub: 'wallboard' });
  conflating.send({ op: 'subscribe', req: 'c', topics, conflate: true });
  await conflating.next('subscribed');
  const { client: plain } = await connectReady(server, { sub: 'plain' });
  assert.equal((await subscribe(plain, topics)).op, 'subscribed');

  // Neither reads: the kernel's buffers fill with the filler, then frames wait in the server.
  conflating.ws._socket.pause();
  plain.ws._socket.pause();
  const published = [];  // {id, kind, queue, depth}
  for (let b = 0; b < 12; b++) {
    const events = Array.from({ length: 40 }, (_, i) => filler(b * 40 + i, 16_000));
    const res = await publish(server, publisher, { events });
    assert.equal(res.status, 200, res.text);
    for (const id of res.body.ids) published.push({ id, kind: 'other' });
  }
  const queues = ['g1', 'g2', 'g3'];
  for (let round = 1; round <= 60; round++) {
    const events = [...queues.map((q) => depthEvent(q, round)), abandoned(queues[round % 3], round)];
    const res = await publish(server, publisher, { events });
    assert.equal(res.status, 200, res.text);
    res.body.ids.forEach((id, i) => published.push(i < 3
      ? { id, kind: 'gauge', queue: queues[i], depth: round }
      : { id, kind: 'other' }));
  }
  const lastId = published[published.length - 1].id;
  conflating.ws._socket.resume();
  plain.ws._socket.resume();

  const read = async (client) => {
    const events = [];
    while (events.length === 0 || events[events.length - 1].id !== lastId) events.push(await client.next('event', 30000));
    return events;
  };
  const [got, all] = await Promise.all([read(conflating), read(plain)]);

  for (const events of [got, all]) {
    for (let i = 1; i < events.length; i++) assert.ok(seq(events[i].id) > seq(events[i - 1].id), 'ids increase');
    const others = events.filter((e) => e.type !== 'queue.depth-changed').map((e) => e.id);
    assert.deepEqual(others, published.filter((p) => p.kind === 'other').map((p) => p.id), 'every non-gauge event, once');
    for (const q of queues) {
      const values = events.filter((e) => e.type === 'queue.depth-changed' && e.subject === q);
      assert.equal(values[values.length - 1].data.depth, 60, `${q}: the newest value last`);
    }
  }
  const gaugeCount = (events) => events.filter((e) => e.type === 'queue.depth-changed').length;
  assert.equal(gaugeCount(all), 180, 'without conflation every gauge event arrives');
  assert.ok(gaugeCount(got) < 180, `conflated: ${gaugeCount(got)} of 180 gauge events`);
  const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const conflated = Number(/^globemeet_conflated_total (\d+)$/m.exec(metrics)[1]);
  assert.equal(conflated, 180 - gaugeCount(got), 'each removed event is counted');
  await conflating.close();
  await plain.close();
});

test('conflate is sticky: a later subscribe without it does not turn it off', async () => {
  const { client } = await connectReady(server, { sub: 'sticky' });
  client.send({ op: 'subscribe', req: 'a', topics: ['agent.>'], conflate: true });
  await client.next('subscribed');
  assert.equal((await subscribe(client, ['queue.sticky.*'], { conflate: false })).op, 'subscribed');
  client.ws._socket.pause();
  for (let b = 0; b < 8; b++) {
    const res = await publish(server, publisher, { events: Array.from({ length: 40 }, (_, i) => ({
      type: 'agent.online', subject: 'fill', data: { agent_id: 'fill', note: 'y'.repeat(16_000), i },
    })) });
    assert.equal(res.status, 200);
  }
  const before = Number(/^globemeet_conflated_total (\d+)$/m.exec(await (await fetch(`${server.httpUrl}/metrics`)).text())[1]);
  let last;
  for (let i = 1; i <= 50; i++) last = (await publish(server, publisher, depthEvent('sticky', i))).body.ids[0];
  client.ws._socket.resume();
  const values = [];
  await until(async () => {
    const e = await client.next('event', 30000);
    if (e.type === 'queue.depth-changed') values.push(e.data.depth);
    return e.id === last;
  }, 'the last gauge event', 60000);
  assert.equal(values[values.length - 1], 50);
  assert.ok(values.length < 50, `conflated to ${values.length}`);
  const after = Number(/^globemeet_conflated_total (\d+)$/m.exec(await (await fetch(`${server.httpUrl}/metrics`)).text())[1]);
  assert.equal(after - before, 50 - values.length);
  await client.close();
});
