// The SDK's event path (issue 11): each frame is parsed once in JavaScript and the core sees only
// an event's id and topic. Against a scripted server (the `ws` package's WebSocketServer) that
// sends exactly the frames a test wants, including hostile ones: every guarantee of the strict
// path still holds (order, no duplicates, per-pattern dispatch, resume position, the epoch
// check) and every malformed event frame is still refused as bad_frame, never delivered.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { GlobeMeetWS } = await import(path.join(root, 'js/dist/index.js'));
await GlobeMeetWS.ready();

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const exp = Math.floor(Date.now() / 1000) + 900;
const base64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const token = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ sub: 's', tenant: 'acme', exp })}.c2ln`;

const event = (id, topic = 'queue.support.depth-changed', extra = {}) => ({
  op: 'event', specversion: '1.0', id, source: '/tenants/acme/queues/support', type: 'queue.depth-changed',
  subject: 'support', time: '2026-11-27T18:02:11.204Z', datacontenttype: 'application/json', topic,
  tenant: 'acme', data: { queue_id: 'support', depth: 7, longest_wait_seconds: 42 }, ...extra,
});

// A server that answers `auth` with `ready` and every `subscribe` with `subscribed`, and hands
// each connection to `script(socket, connectionNumber, subscribe)` once subscribed.
async function scriptedServer(script) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => [...p][0] });
  await new Promise((r) => wss.once('listening', r));
  let connections = 0;
  const seen = [];
  wss.on('connection', (socket) => {
    const number = ++connections;
    socket.on('message', (data) => {
      const f = JSON.parse(data.toString());
      seen.push({ number, ...f });
      if (f.op === 'auth') socket.send(JSON.stringify({ op: 'ready', sub: 's', tenant: 'acme', exp, heartbeat_ms: 20_000, head: 'e1-0' }));
      if (f.op === 'subscribe') {
        socket.send(JSON.stringify({ op: 'subscribed', req: f.req, topics: f.topics, head: 'e1-0' }));
        script(socket, number, f);
      }
    });
  });
  cleanups.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));
  return { url: `ws://127.0.0.1:${wss.address().port}/v1/events`, seen };
}

function client(url) {
  const ws = new GlobeMeetWS({ endpoint: url, token, backoff: { min_ms: 10, max_ms: 20 } });
  cleanups.push(() => ws.close());
  const errors = [];
  ws.on('error', (e) => errors.push(e));
  return { ws, errors };
}

async function until(check, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('events: in order, once, to every matching pattern, one shared object; duplicates dropped', async () => {
  const frames = [event('e1-1'), event('e1-2', 'agent.a-1.status-changed'), event('e1-2'), event('e1-1'),
    event('e1-3', 'recording.r-1.started'), event('e1-5', 'queue.sales.depth-changed'), event('e1-4')];
  const { url } = await scriptedServer((socket) => { for (const f of frames) socket.send(JSON.stringify(f)); });
  const { ws, errors } = client(url);
  const queue = [], everything = [], agent = [];
  ws.subscribe('queue.*.depth-changed', (e) => queue.push(e));
  ws.subscribe('>', (e) => everything.push(e));
  ws.subscribe('agent.>', (e) => agent.push(e));
  await until(() => everything.length === 4, 'four events');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(everything.map((e) => e.id), ['e1-1', 'e1-2', 'e1-3', 'e1-5'], 'duplicates and older ids dropped');
  assert.deepEqual(queue.map((e) => e.id), ['e1-1', 'e1-5']);
  assert.deepEqual(agent.map((e) => e.id), ['e1-2']);
  assert.equal(queue[0], everything[0], 'one object shared by the handlers of one event');
  assert.deepEqual(everything[0], event('e1-1'), 'the frame as the server sent it');
  assert.equal(ws.lastEventId, 'e1-5');
  assert.deepEqual(errors, []);
});

test('malformed event frames from a hostile server are refused as bad_frame and never delivered', async () => {
  const good = event('e1-1');
  const hostile = [
    event('x-1'),                                     // not an event id
    event('e1-0'),                                    // a position, not an event
    event('e1-9007199254740992'),                     // seq beyond 2^53-1
    event(42),                                        // id not a string
    event('e1-7', 'queue..depth-changed'),            // not a topic name
    event('e1-7', 'queue.*.depth-changed'),           // a pattern, not a name
    event('e1-7', 42),
    event('e1-7', undefined, { tenant: undefined }),  // tenant missing (JSON.stringify drops it)
    event('e1-7', undefined, { source: null }),
    event('e1-7', undefined, { data: [1, 2] }),
    event('e1-7', undefined, { data: null }),
    event('e1-7', undefined, { data: 'text' }),
    event('e1-7', undefined, { specversion: '2.0' }),
    event('e1-7', undefined, { datacontenttype: 'text/plain' }),
    '{"op":"event","specversion":"1.0","id":"e1-7"',  // not JSON
    '[1,2,3]',
  ];
  const texts = hostile.map((f) => (typeof f === 'string' ? f : JSON.stringify(f)));
  // An `op` given twice: JSON.parse keeps the last, the strict decoder refuses the frame.
  texts.push(JSON.stringify(event('e1-7')).replace('{"op":"event"', '{"op":"event","op":"ready"'));
  const { url } = await scriptedServer((socket) => {
    for (const t of texts) socket.send(t);
    socket.send(JSON.stringify(good));
  });
  const { ws, errors } = client(url);
  const got = [];
  ws.subscribe('>', (e) => got.push(e));
  await until(() => got.length === 1, 'the good event');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got.map((e) => e.id), ['e1-1'], 'only the well-formed event');
  assert.equal(errors.length, texts.length, errors.map((e) => e.message).join('\n'));
  for (const e of errors) assert.equal(e.code, 'bad_frame', e.message);
  assert.ok(errors[0].message.includes('not an event id'), errors[0].message);
  assert.ok(errors[4].message.includes("member 'topic'"), errors[4].message);
  assert.ok(errors[7].message.includes('tenant'), errors[7].message);
  assert.equal(ws.lastEventId, 'e1-1');
  assert.equal(ws.state, 'live', 'a bad frame is reported, the connection stays');
});

test('an event from another epoch without `reset` closes 1008 and the client resumes from the last id', async () => {
  const { url, seen } = await scriptedServer((socket, number) => {
    if (number === 1) {
      socket.send(JSON.stringify(event('e1-1')));
      socket.send(JSON.stringify(event('e2-1')));  // no `reset` first
    } else {
      socket.send(JSON.stringify(event('e1-2')));
    }
  });
  const { ws, errors } = client(url);
  const got = [];
  const closes = [];
  ws.on('state', (s) => { if (s.to === 'reconnecting') closes.push(s.code); });
  ws.subscribe('>', (e) => got.push(e.id));
  await until(() => got.length === 2, 'two events');
  assert.deepEqual(got, ['e1-1', 'e1-2']);
  assert.deepEqual(errors.map((e) => e.code), ['epoch_changed']);
  assert.deepEqual(closes, [1008]);
  const resumed = seen.find((f) => f.number === 2 && f.op === 'subscribe');
  assert.equal(resumed.from, 'e1-1', 'the second connection resumes after the last delivered event');
});

test('an event frame before `ready` is refused as bad_frame', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => [...p][0] });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));
  wss.on('connection', (socket) => socket.on('message', (data) => {
    if (JSON.parse(data.toString()).op !== 'auth') return;
    socket.send(JSON.stringify(event('e1-1')));
    socket.send(JSON.stringify({ op: 'ready', sub: 's', tenant: 'acme', exp, heartbeat_ms: 20_000 }));
  }));
  const { ws, errors } = client(`ws://127.0.0.1:${wss.address().port}/v1/events`);
  const got = [];
  ws.subscribe('>', (e) => got.push(e));
  await until(() => ws.state === 'live', 'live');
  await until(() => errors.length === 1, 'the error');
  assert.equal(errors[0].code, 'bad_frame');
  assert.match(errors[0].message, /unexpected `event` while authenticating/);
  assert.deepEqual(got, []);
  assert.equal(ws.lastEventId, null);
});

test('a handler may subscribe, unsubscribe and close from inside an event', async () => {
  const { url } = await scriptedServer((socket) => {
    for (let i = 1; i <= 5; i++) socket.send(JSON.stringify(event(`e1-${i}`)));
  });
  const { ws } = client(url);
  const got = [];
  let stop;
  const first = ws.subscribe('>', (e) => {
    got.push(`a ${e.id}`);
    if (e.id === 'e1-2') { first(); stop = ws.subscribe('queue.>', (e2) => { got.push(`b ${e2.id}`); if (e2.id === 'e1-4') ws.close(); }); }
  });
  await until(() => ws.state === 'closed', 'closed');
  assert.deepEqual(got, ['a e1-1', 'a e1-2', 'b e1-3', 'b e1-4']);
  assert.equal(ws.lastEventId, 'e1-4');
  assert.equal(typeof stop, 'function');
});

test('once: a listener called for the next notification only, or a promise of it', async () => {
  const { url } = await scriptedServer(() => {});
  const ws = new GlobeMeetWS({ endpoint: url, token });
  cleanups.push(() => ws.close());
  const seen = [];
  ws.once('state', (s) => seen.push(s.to));
  const cancelled = ws.once('state', () => seen.push('never'));
  cancelled();
  const live = new Promise((resolve) => ws.on('state', (s) => { if (s.to === 'live') resolve(); }));
  await live;
  assert.deepEqual(seen, ['fetching_token'], 'the first change only; a cancelled once never fires');
  const closed = ws.once('state');
  assert.ok(closed instanceof Promise);
  ws.close();
  assert.deepEqual(await closed, { from: 'live', to: 'closed', code: 1000, reason: 'stopped by the client' });
});

test('the debug option is told each step below the events, never a token, never an event', async () => {
  const { url } = await scriptedServer((socket) => socket.send(JSON.stringify(event('e1-1'))));
  const lines = [];
  const ws = new GlobeMeetWS({ endpoint: url, token, debug: (line) => lines.push(line) });
  cleanups.push(() => ws.close());
  const got = await new Promise((resolve) => ws.subscribe('>', resolve));
  assert.equal(got.id, 'e1-1');
  ws.close();
  const text = lines.join('\n');
  for (const step of ['request_token', `open connection 1 to ${url}`, 'send auth on connection 1', 'send subscribe on connection 1',
    'state_changed {"from":"authenticating","to":"live"', 'arm_timer {"timer":"heartbeat"', 'close {"connection":1,"code":1000']) {
    assert.ok(text.includes(step), `${step} in\n${text}`);
  }
  assert.ok(!text.includes(token), 'no token');
  assert.ok(!text.includes('e1-1'), 'no event');
  assert.ok(lines.every((l) => l.startsWith('GlobeMeetWS: ')));
});
