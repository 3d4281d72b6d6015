// Subscriptions on the socket: pattern grammar errors, overlapping patterns delivered once,
// unsubscribe, limits (patterns per subscribe and per connection, rate, error budget), bad
// JSON and unknown ops. A witness client keeps receiving events throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connectReady, subscribe, publish, depthEvent, liveWitness } from './helpers/server.mjs';

let server;
let witness;
let publisher;

before(async () => {
  server = await startServer();
  witness = await liveWitness(server);
  publisher = await server.mint({ sub: 'pub', pub: true });
});
after(async () => { await witness.client.close(); await server.stop(); });

test('invalid patterns are refused with invalid_topic naming the pattern', async () => {
  const bad = ['', 'queue..depth', '.queue', 'queue.', 'sup*.x', 'q>', '>.x', 'queue.>.x', 'a b', 'é.x',
    'x'.repeat(65), Array(17).fill('a').join('.'), `${'abcdefgh.'.repeat(28)}x`];
  let client;
  for (const [i, topic] of bad.entries()) {
    // Fresh connections: more than 10 errors on one would close it with 4400.
    if (i % 8 === 0) ({ client } = await connectReady(server));
    const err = await subscribe(client, [topic]);
    assert.equal(err.op, 'error', topic);
    assert.ok(['invalid_topic', 'bad_frame'].includes(err.code), `${topic}: ${err.code}`);
    if (err.code === 'invalid_topic' && topic !== '') assert.equal(err.topic, topic);
    // docs/protocol.md section 2: no empty `topic` member; the message says what is wrong.
    if (topic === '') {
      assert.equal(err.code, 'invalid_topic');
      assert.equal('topic' in err, false);
      assert.match(err.message, /empty/);
    }
  }
  await witness.check();
});

test('patterns that can never match a topic name are refused with invalid_topic naming the rule', async () => {
  // Names are exactly {stream}.{key}.{event} (docs/protocol.md section 4).
  const rule = 'a topic pattern can never match a topic name: names have exactly 3 segments {stream}.{key}.{event}';
  const dead = {
    queue: '(the pattern has 1)',
    'queue.support': '(the pattern has 2)',
    'a.b.c.d': '(the pattern has 4)',
    '*.*.*.*': '(the pattern has 4)',
    'queue.support.depth-changed.x': '(the pattern has 4)',
    'a.b.c.>': '(the pattern needs at least 4)',
  };
  const { client } = await connectReady(server);
  for (const [i, [topic, found]] of Object.entries(dead).entries()) {
    const err = await subscribe(client, [topic], { req: `dead-${i}` });
    assert.equal(err.op, 'error', topic);
    assert.equal(err.code, 'invalid_topic', topic);
    assert.equal(err.req, `dead-${i}`);
    assert.equal(err.topic, topic);
    assert.equal(err.message, `${rule} ${found}`);
  }
  // A refused pattern in a batch refuses the whole subscribe: nothing of it is held.
  const mixed = await subscribe(client, ['queue.support.*', 'queue.support']);
  assert.equal(mixed.code, 'invalid_topic');
  assert.equal(mixed.topic, 'queue.support');
  client.send({ op: 'unsubscribe', req: 'u', topics: ['queue.support.*'] });
  assert.equal((await client.next('error')).code, 'not_subscribed');
  // `>` takes one or more segments, so these reach three-segment names and stay valid.
  const valid = await subscribe(client, ['queue.>', '>', 'queue.support.>', '*.*.>']);
  assert.equal(valid.op, 'subscribed');
  await client.close();
  await witness.check();
});

test('overlapping patterns deliver each event once; unsubscribe stops delivery', async () => {
  const { client } = await connectReady(server);
  const queuePatterns = ['queue.>', 'queue.support.*', 'queue.*.depth-changed', 'queue.support.depth-changed'];
  const sub = await subscribe(client, [...queuePatterns, 'agent.*.online']);
  assert.equal(sub.op, 'subscribed');
  assert.ok('head' in sub);
  const marker = { type: 'agent.online', subject: 'marker', data: { agent_id: 'marker' } };
  // Delivery is in id order, so everything before the marker has arrived once it has.
  const a = await publish(server, publisher, depthEvent('support', 1));
  const m1 = await publish(server, publisher, marker);
  const first = await client.next((f) => f.op === 'event' && f.id === m1.body.ids[0]);
  assert.equal(first.subject, 'marker');
  const before = client.drain().filter((f) => f.op === 'event').map((f) => f.id);
  assert.deepEqual(before, [a.body.ids[0]], 'four matching patterns, one delivery');

  client.send({ op: 'unsubscribe', req: 'u1', topics: queuePatterns });
  const unsub = await client.next('unsubscribed');
  assert.equal(unsub.req, 'u1');
  assert.equal(unsub.reason, 'requested');
  assert.deepEqual(unsub.topics, queuePatterns);
  await publish(server, publisher, depthEvent('support', 2));
  const m2 = await publish(server, publisher, marker);
  await client.next((f) => f.op === 'event' && f.id === m2.body.ids[0]);
  assert.equal(client.drain().length, 0, 'nothing of the removed patterns');

  client.send({ op: 'unsubscribe', req: 'u2', topics: ['queue.>'] });
  const err = await client.next('error');
  assert.equal(err.code, 'not_subscribed');
  assert.equal(err.req, 'u2');
  assert.equal(err.topic, 'queue.>');
  await witness.check();
  await client.close();
});

test('a subscription only receives what matches', async () => {
  const { client } = await connectReady(server);
  await subscribe(client, ['queue.sales.*']);
  await publish(server, publisher, depthEvent('support', 1));
  const sales = await publish(server, publisher, depthEvent('sales', 2));
  const ev = await client.next('event');
  assert.equal(ev.id, sales.body.ids[0]);
  await client.close();
});

test('limits: 64 patterns per subscribe, 256 per connection', async () => {
  const { client } = await connectReady(server);
  const many = (prefix, n) => Array.from({ length: n }, (_, i) => `queue.${prefix}${i}.*`);
  const tooMany = await subscribe(client, many('x', 65));
  assert.equal(tooMany.code, 'bad_frame');
  for (let batch = 0; batch < 4; batch++) assert.equal((await subscribe(client, many(`b${batch}-`, 64))).op, 'subscribed');
  const flood = await subscribe(client, ['queue.one-more.*']);
  assert.equal(flood.code, 'too_many_subscriptions');
  // Re-subscribing a held pattern adds nothing and is accepted.
  assert.equal((await subscribe(client, ['queue.b0-0.*'])).op, 'subscribed');
  await witness.check();
  await client.close();
});

test('bad JSON, non-objects, duplicate members and unknown ops get error frames', async () => {
  const { client } = await connectReady(server);
  const cases = [
    ['{"op":', 'bad_json'],
    ['[1,2]', 'bad_json'],
    ['"hello"', 'bad_json'],
    ['{"op":"ping","op":"ping"}', 'bad_json'],
    ['{"op":"ping","x":1e999}', 'bad_json'],
    ['{"op":"ping"} trailing', 'bad_json'],
    ['{"op":"dance"}', 'bad_frame'],
    ['{"req":"1"}', 'bad_frame'],
    ['{"op":"subscribe","req":"1","topics":"queue.>"}', 'bad_frame'],
  ];
  for (const [text, code] of cases) {
    client.send(text);
    const err = await client.next('error');
    assert.equal(err.code, code, text);
  }
  await witness.check();
  await client.close();
});

test('more than 10 error replies in 10 s close with 4400', async () => {
  const { client } = await connectReady(server);
  for (let i = 0; i < 12; i++) client.send('not json');
  const closed = await client.closed;
  assert.equal(closed.code, 4400);
  assert.equal(client.frames.filter((f) => f.op === 'error').length, 11);
  await witness.check();
});

test('more than 100 requests per second get rate_limited with their req, and a burst is not a final 4400', async () => {
  const { client } = await connectReady(server);
  // 130 requests at once: the ones over the limit are each refused by name; more than 10
  // refusals, yet the connection stays (they are not invalid requests) and serves on.
  for (let i = 0; i < 130; i++) client.send({ op: 'ping', req: String(i) });
  // Answers come in request order: once the last one's is here, every one is.
  const last = await client.next((f) => f.req === '129');
  assert.equal(last.code, 'rate_limited');
  const refused = [...client.frames.filter((f) => f.op === 'error'), last];
  const answered = new Set(client.frames.filter((f) => f.op === 'pong').map((f) => f.req));
  // The one-second window may turn during the burst: more than 10 refusals all the same.
  assert.ok(refused.length > 10, `more than 10 refusals, got ${refused.length}`);
  for (const e of refused) {
    assert.equal(e.code, 'rate_limited');
    assert.equal(answered.has(e.req), false, `${e.req} was refused, not processed`);
  }
  assert.equal(answered.size + refused.length, 130, 'every request answered once: a pong or a refusal');
  await new Promise((r) => setTimeout(r, 1100));
  client.send({ op: 'ping', req: 'later' });
  assert.equal((await client.next((f) => f.op === 'pong' && f.req === 'later')).req, 'later');
  await witness.check();
  await client.close();
});
