// @globemeet/sdk (js/dist, built by `node js/build.mjs`) against the real server: the README
// snippet as written, typed delivery, unsubscribe, resume without loss or duplicate across a
// token expiry (close 4001), an outage before the first event, reconnect and reset across a
// server restart, a restart with a new signing key (4401, a fresh token from getToken), a
// failing token provider, local pattern validation, close() as the final word, and the one
// `error` a client emits when it stops for good.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, publish, depthEvent, makeTempDir, oauthClient, until } from './helpers/server.mjs';
import { startProxy } from './helpers/native_cli.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const distIndex = path.join(root, 'js/dist/index.js');
if (!existsSync(distIndex)) throw new Error('js/dist is missing: run `node js/build.mjs` first');
const handlersBefore = ['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
const { GlobeMeetWS, GlobeMeetError, GlobeMeetCloseError } = await import(distIndex);
const handlersAfter = ['uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));

const servers = [];
const clients = [];
const cleanups = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  for (const cleanup of cleanups) await cleanup();
});

async function server(options) {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
function client(options) {
  const c = new GlobeMeetWS(options);
  clients.push(c);
  return c;
}

// The server's gauge of patterns held: a publish after it shows `n` reaches the subscribers.
async function metric(srv, name) {
  const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}
async function subscriptionsHeld(srv, n) {
  const start = Date.now();
  while ((await metric(srv, 'globemeet_subscriptions')) !== n) {
    if (Date.now() - start > 15000) throw new Error(`the server never held ${n} subscriptions`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const live = (ws) => until(() => ws.state === 'live', 'the client to be live');
// A publish is accepted in order; its events reach subscribers after the subscribe is applied.
async function published(srv, publisher, body) {
  const res = await publish(srv, publisher, body);
  assert.equal(res.status, 200, res.text);
  return res.body.ids[0];
}
const connected = (queue, agent, n) => ({
  type: 'session.connected', subject: queue, data: { session_id: `s-${n}`, queue_id: queue, agent_id: agent },
});

// A directory where `import '@globemeet/sdk'` resolves to js/ (as after `npm install`).
function packageSandbox() {
  const dir = mkdtempSync(path.join(tmpdir(), 'globemeet-sdk-'));
  mkdirSync(path.join(dir, 'node_modules/@globemeet'), { recursive: true });
  symlinkSync(path.join(root, 'js'), path.join(dir, 'node_modules/@globemeet/sdk'), 'dir');
  return dir;
}

test('the README snippet runs as written', async () => {
  const srv = await server();
  const publisher = await srv.mint({ pub: true });
  const dir = packageSandbox();
  try {
    const token = await srv.mint({});
    writeFileSync(path.join(dir, 'snippet.mjs'), `
import { GlobeMeetWS } from '@globemeet/sdk';
const ws = new GlobeMeetWS({ endpoint: '${srv.wsUrl}', token: '${token}' });
ws.subscribe('queue.support.depth-changed', (event) => console.log(event.data.depth, event.data.longest_wait_seconds));
ws.subscribe('session.support.connected', (event) => console.log(event.data.agent_id));
ws.on('reconnect', () => console.log('reconnected, resuming'));
ws.on('state', ({ to }) => to === 'live' && console.log('[live]'));
`);
    const child = spawn(process.execPath, ['snippet.mjs'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    try {
      await until(() => out.includes('[live]') || err, 'the snippet to go live');
      assert.equal(err, '');
      await subscriptionsHeld(srv, 2);
      await published(srv, publisher, { type: 'queue.depth-changed', subject: 'support',
        data: { queue_id: 'support', depth: 7, longest_wait_seconds: 42 } });
      await published(srv, publisher, connected('support', 'a-17', 1));
      await until(() => out.includes('7 42\n') && out.includes('a-17\n'), 'the snippet to print both events');
      assert.deepEqual(out.trim().split('\n'), ['[live]', '7 42', 'a-17']);

      // The server restarts on the same port (same HS256 secret, so the token stays good).
      srv.proc.kill('SIGTERM');
      await srv.exited;
      const restarted = await server({ secret: srv.secret, args: ['--listen', `127.0.0.1:${srv.port}`] });
      await until(() => out.includes('reconnected, resuming\n'), 'the snippet to reconnect');
      await subscriptionsHeld(restarted, 2);
      await published(restarted, await restarted.mint({ pub: true }), connected('support', 'a-05', 2));
      await until(() => out.includes('a-05\n'), 'the event after the restart');
      assert.equal(err, '');
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('importing the package installs no process-wide handlers', () => {
  // The Emscripten factory would add uncaughtException/unhandledRejection handlers under Node;
  // the build's ES-module wrapper keeps it on its neutral path.
  assert.deepEqual(handlersAfter, handlersBefore);
});

test('events arrive typed, once per handler, and unsubscribe stops one handler only', async () => {
  const srv = await server();
  const publisher = await srv.mint({ pub: true });
  const ws = client({ endpoint: srv.wsUrl, token: await srv.mint({}) });
  const depths = [], supportSessions = [], everything = [];
  const stopDepths = ws.subscribe('queue.*.depth-changed', (event) => depths.push(event));
  ws.subscribe('session.support.*', (event) => supportSessions.push(event));
  ws.subscribe('>', (event) => everything.push(event.id));
  await live(ws);
  await subscriptionsHeld(srv, 3);

  const first = await published(srv, publisher, depthEvent('sales', 5));
  const second = await published(srv, publisher, connected('support', 'a-17', 1));
  await published(srv, publisher, connected('billing', 'a-02', 2));
  await until(() => everything.length === 3, 'three events');

  assert.equal(depths.length, 1);
  const [depth] = depths;
  assert.equal(depth.id, first);
  assert.equal(depth.op, 'event');
  assert.equal(depth.specversion, '1.0');
  assert.equal(depth.type, 'queue.depth-changed');
  assert.equal(depth.topic, 'queue.sales.depth-changed');
  assert.equal(depth.subject, 'sales');
  assert.equal(depth.tenant, 'acme');
  assert.deepEqual(depth.data, { queue_id: 'sales', depth: 5, longest_wait_seconds: 3 });
  assert.deepEqual(supportSessions.map((e) => [e.id, e.data.agent_id]), [[second, 'a-17']]);
  assert.equal(ws.lastEventId, everything[2]);

  stopDepths();
  stopDepths();  // a second call does nothing
  await subscriptionsHeld(srv, 2);
  const later = await published(srv, publisher, depthEvent('sales', 6));
  await until(() => everything.includes(later), 'the event after unsubscribe');
  assert.equal(depths.length, 1);
});

test('an invalid pattern is refused locally with the rule it breaks', async () => {
  const ws = client({ endpoint: 'ws://127.0.0.1:9/v1/events', token: 'unused' });
  for (const [pattern, words] of [['queue..depth', /empty/], ['queue.sup*.x', /wildcard|\*/], ['a.>.b', />/], ['', /empty/]]) {
    assert.throws(() => ws.subscribe(pattern, () => {}), (e) => {
      assert.ok(e instanceof GlobeMeetError);
      assert.equal(e.code, 'invalid_topic');
      assert.match(e.message, words);
      assert.ok(e.message.includes(`'${pattern}'`), e.message);
      return true;
    });
  }
  ws.close();
  assert.equal(ws.state, 'closed');
});

test('after a token expiry (4001) the client fetches a new token, reconnects and resumes without loss or duplicate', async () => {
  const srv = await server({ args: ['--token-grace-ms', '0'] });
  const publisher = await srv.mint({ pub: true, exp: Math.floor(Date.now() / 1000) + 900 });
  const shortLived = await srv.mint({ exp: Math.floor(Date.now() / 1000) + 2 });
  let expired = false;
  let openGate;
  const gate = new Promise((resolve) => { openGate = resolve; });
  const tokenCalls = { short: 0, fresh: 0 };
  const ws = client({
    endpoint: srv.wsUrl,
    backoff: { min_ms: 20, max_ms: 100, factor: 2 },
    // Hands out the short-lived token until the server closes with 4001; the next token waits
    // until the test has published events into the gap.
    async getToken() {
      if (!expired) { tokenCalls.short++; return shortLived; }
      await gate;
      tokenCalls.fresh++;
      return srv.mint({});
    },
  });
  const states = [], reconnects = [], resets = [];
  ws.on('state', (s) => { states.push(s); if (s.code === 4001) expired = true; });
  ws.on('reconnect', (info) => reconnects.push(info));
  ws.on('reset', (info) => resets.push(info));
  const received = [];
  ws.subscribe('queue.>', (event) => received.push(event.id));
  await live(ws);
  await subscriptionsHeld(srv, 1);

  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await published(srv, publisher, depthEvent('support', i)));
  await until(() => received.length === 3, 'the events before expiry');
  await until(() => expired, 'close 4001');
  assert.equal(ws.state === 'live', false);
  for (let i = 3; i < 6; i++) sent.push(await published(srv, publisher, depthEvent('support', i)));
  openGate();
  await until(() => reconnects.length === 1 && ws.state === 'live', 'the reconnect');
  for (let i = 6; i < 8; i++) sent.push(await published(srv, publisher, depthEvent('support', i)));
  await until(() => received.length >= 8, 'every event');

  assert.deepEqual(received, sent);
  assert.deepEqual(resets, []);
  assert.equal(ws.lastEventId, sent.at(-1));
  assert.ok(tokenCalls.short >= 1 && tokenCalls.fresh === 1, JSON.stringify(tokenCalls));
  const expiry = states.find((s) => s.code === 4001);
  assert.deepEqual([expiry.from, expiry.to], ['live', 'reconnecting']);
});

test('an outage before the first event loses nothing: the client resumes from {epoch}-0', async () => {
  const srv = await server();
  const proxy = await startProxy(srv.port);
  cleanups.push(() => proxy.close());
  const publisher = await srv.mint({ pub: true });
  const ws = client({
    endpoint: `ws://127.0.0.1:${proxy.port}/v1/events`, token: await srv.mint({}),
    backoff: { min_ms: 20, max_ms: 100, factor: 2 },
  });
  const received = [], reconnects = [], resets = [];
  ws.on('reconnect', (info) => reconnects.push(info));
  ws.on('reset', (info) => resets.push(info));
  ws.subscribe('queue.>', (event) => received.push(event.id));
  await live(ws);
  // The empty log's head, the position before its first event, once `subscribed` has come.
  const position = await until(() => ws.lastEventId, 'a position before any event');
  assert.match(position, /^[0-9a-f]{1,16}-0$/);

  assert.ok(proxy.cutAndHold() >= 1);
  await until(() => ws.state !== 'live', 'the client to notice the cut');
  const sent = [];
  for (let i = 0; i < 3; i++) sent.push(await published(srv, publisher, depthEvent('support', i)));
  proxy.release();
  await until(() => received.length === 3, 'the events published during the outage');
  assert.deepEqual(received, sent);
  assert.equal(sent[0].split('-')[0], position.split('-')[0], 'the same epoch');
  assert.deepEqual(reconnects, [{ lastEventId: position }]);
  assert.deepEqual(resets, []);
  assert.equal(ws.lastEventId, sent.at(-1));
});

// A server that restarts without --signing-key signs with a new ephemeral key: every token it
// issued before is refused (HTTP 401, close 4401), however long it still has to live.
async function restartWithNewKey(first, identity) {
  first.proc.kill('SIGTERM');
  await first.exited;
  return server({ secret: first.secret, args: ['--listen', `127.0.0.1:${first.port}`, ...identity.args] });
}

test('a restart with a new signing key: the client asks getToken for a fresh token once and carries on', async () => {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const identity = oauthClient(dir);
  let current = await server({ args: identity.args });
  let calls = 0;
  const ws = client({
    endpoint: current.wsUrl,
    backoff: { min_ms: 20, max_ms: 200, factor: 2 },
    async getToken() { calls++; return identity.tokenFrom(current); },
  });
  const received = [], states = [], errors = [], resets = [];
  ws.on('state', (s) => states.push(s));
  ws.on('error', (e) => errors.push(e));
  ws.on('reset', (info) => resets.push(info));
  ws.subscribe('queue.>', (event) => received.push(event.id));
  await live(ws);
  await subscriptionsHeld(current, 1);
  const before = await published(current, await identity.tokenFrom(current), depthEvent('support', 1));
  await until(() => received.length === 1, 'the event before the restart');
  assert.equal(calls, 1);

  current = await restartWithNewKey(current, identity);
  await until(() => states.some((s) => s.code === 4401), 'the old token to be refused');
  await until(() => resets.length === 1 && ws.state === 'live', 'the client to be live again');
  await subscriptionsHeld(current, 1);
  const after = await published(current, await identity.tokenFrom(current), depthEvent('support', 2));
  await until(() => received.length === 2, 'the event after the restart');

  assert.deepEqual(received, [before, after]);
  assert.equal(calls, 2, 'one fresh token after the refusal');
  const refusal = states.find((s) => s.code === 4401);
  assert.equal(refusal.to, 'reconnecting');
  assert.equal(states.filter((s) => s.code === 4401).length, 1);
  assert.deepEqual(errors, []);
  assert.equal(resets[0].reason, 'epoch_changed');
});

test('a provider whose fresh token is refused too: the client stops with exactly one error carrying 4401', async () => {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const identity = oauthClient(dir);
  const first = await server({ args: identity.args });
  const cached = await identity.tokenFrom(first);
  let calls = 0;
  const ws = client({
    endpoint: first.wsUrl,
    backoff: { min_ms: 20, max_ms: 200, factor: 2 },
    getToken() { calls++; return cached; },  // a provider that caches the token the old key signed
  });
  const states = [], errors = [];
  ws.on('state', (s) => states.push(s));
  ws.on('error', (e) => errors.push(e));
  ws.subscribe('queue.>', () => {});
  await live(ws);

  await restartWithNewKey(first, identity);
  await until(() => ws.state === 'closed', 'the client to stop');
  await new Promise((r) => setTimeout(r, 300));  // nothing more may follow
  assert.equal(ws.finalCode, 4401);
  assert.equal(calls, 2, 'asked once more after the first refusal, not again');
  assert.deepEqual(states.filter((s) => s.code === 4401).map((s) => s.to), ['reconnecting', 'closed']);
  assert.equal(errors.length, 1);
  const [stopped] = errors;
  assert.ok(stopped instanceof GlobeMeetCloseError);
  assert.ok(stopped instanceof GlobeMeetError);
  assert.equal(stopped.code, 'closed');
  assert.equal(stopped.closeCode, 4401);
  assert.equal(stopped.reason, states.at(-1).reason);  // the server's: the SDK sends `auth`, no header
  assert.match(stopped.message, /4401/);
  assert.deepEqual([states.at(-1).to, states.at(-1).code], ['closed', 4401]);
});

test('a server restart: the client reconnects, is told of the reset and receives the new events', async () => {
  const first = await server();
  const port = first.port;
  const secret = first.secret;
  const ws = client({ endpoint: first.wsUrl, token: await first.mint({}), backoff: { min_ms: 20, max_ms: 200, factor: 2 } });
  const received = [], resets = [], states = [];
  let reconnects = 0;
  ws.on('reconnect', () => { reconnects++; });
  ws.on('reset', (info) => resets.push(info));
  ws.on('state', (s) => states.push(s));
  ws.subscribe('queue.*.depth-changed', (event) => received.push(event));
  await live(ws);
  await subscriptionsHeld(first, 1);
  await published(first, await first.mint({ pub: true }), depthEvent('support', 1));
  await until(() => received.length === 1, 'the event before the restart');

  first.proc.kill('SIGTERM');  // drain: `closing`, then close 1001
  await first.exited;
  await until(() => states.some((s) => s.code === 1001 && s.to === 'reconnecting'), 'close 1001');

  const second = await server({ secret, args: ['--listen', `127.0.0.1:${port}`] });
  await until(() => reconnects === 1 && ws.state === 'live', 'the reconnect');
  await subscriptionsHeld(second, 1);
  await until(() => resets.length === 1, 'the reset');
  assert.equal(resets[0].reason, 'epoch_changed');
  const after = await published(second, await second.mint({ pub: true }), depthEvent('support', 2));
  await until(() => received.length === 2, 'the event after the restart');
  assert.equal(received[1].id, after);
  assert.equal(received[1].data.depth, 2);
});

test('a failing token provider is reported and retried', async () => {
  const srv = await server();
  let calls = 0;
  const ws = client({
    endpoint: srv.wsUrl,
    backoff: { min_ms: 10, max_ms: 50, factor: 2 },
    async getToken() {
      calls++;
      if (calls === 1) throw new Error('identity provider unreachable');
      return srv.mint({});
    },
  });
  const errors = [];
  ws.on('error', (e) => errors.push(e));
  await live(ws);
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof GlobeMeetError);
  assert.equal(errors[0].code, 'token_unavailable');
});

test('close() is final: the connection closes with 1000 and nothing more arrives', async () => {
  const srv = await server();
  const publisher = await srv.mint({ pub: true });
  const ws = client({ endpoint: srv.wsUrl, token: await srv.mint({}) });
  const received = [];
  ws.subscribe('>', (event) => received.push(event.id));
  const states = [];
  ws.on('state', (s) => states.push(s));
  await live(ws);
  await subscriptionsHeld(srv, 1);
  await published(srv, publisher, depthEvent('support', 1));
  await until(() => received.length === 1, 'the event before close');

  ws.close();
  assert.equal(ws.state, 'closed');
  assert.equal(ws.finalCode, 1000);
  assert.deepEqual(states.at(-1), { from: 'live', to: 'closed', code: 1000, reason: 'stopped by the client' });
  const start = Date.now();
  while ((await metric(srv, 'globemeet_connections')) !== 0) {
    assert.ok(Date.now() - start < 15000, 'the server still holds the connection');
    await new Promise((r) => setTimeout(r, 10));
  }
  // The server no longer holds a subscriber: a published event has nobody to reach.
  await published(srv, publisher, depthEvent('support', 2));
  assert.deepEqual(received.length, 1);
  assert.equal(ws.lastEventId, received[0]);
  assert.throws(() => ws.subscribe('>', () => {}), (e) => e.code === 'closed');
  ws.close();  // a second close does nothing
});

test('a token the server refuses ends the client with 4401 instead of retrying', async () => {
  const srv = await server();
  const forged = await srv.mint({}, { key: new TextEncoder().encode('not the server secret at all, 32+ bytes') });
  const ws = client({ endpoint: srv.wsUrl, token: forged, backoff: { min_ms: 10, max_ms: 20, factor: 2 } });
  const states = [], errors = [];
  ws.on('state', (s) => states.push(s));
  ws.on('error', (e) => errors.push(e));
  await until(() => ws.state === 'closed', 'the client to stop');
  assert.equal(ws.finalCode, 4401);
  const final = states.at(-1);
  assert.deepEqual([final.to, final.code], ['closed', 4401]);
  assert.equal(states.filter((s) => s.to === 'connecting').length, 1, 'one fixed token: nothing else to try');
  assert.equal(errors.length, 1, 'stopping for good is reported, not silent');
  assert.ok(errors[0] instanceof GlobeMeetCloseError);
  assert.deepEqual([errors[0].code, errors[0].closeCode, errors[0].reason], ['closed', 4401, final.reason]);
});

test('a handshake refused with HTTP 429 is reported as close 4029 and retried', async () => {
  const srv = await server({ args: ['--max-connections-per-tenant', '1'] });
  const occupant = client({ endpoint: srv.wsUrl, token: await srv.mint({ sub: 'occupant' }) });
  await live(occupant);
  const ws = client({ endpoint: srv.wsUrl, token: await srv.mint({}), backoff: { min_ms: 10, max_ms: 50, factor: 2 } });
  const states = [];
  ws.on('state', (s) => states.push(s));
  await until(() => states.some((s) => s.code === 4029), 'the refusal');
  assert.equal(states.find((s) => s.code === 4029).to, 'reconnecting');
  occupant.close();
  await live(ws);
});

test('before the core is loaded, a bad pattern or option is reported by events, not thrown', async () => {
  // A fresh process: the core loads on first use (no top-level await), so the constructor and
  // subscribe() cannot consult it yet; they answer once it is there.
  const dir = packageSandbox();
  try {
    writeFileSync(path.join(dir, 'early.mjs'), `
import { GlobeMeetWS } from '@globemeet/sdk';
const seen = [];
const good = new GlobeMeetWS({ endpoint: 'ws://127.0.0.1:9/v1/events', token: 't' });
good.subscribe('queue..depth', () => {});
good.on('subscription_failed', ({ pattern, code }) => seen.push(['subscription_failed', pattern, code]));
seen.push(['state', good.state]);
const bad = new GlobeMeetWS({ endpoint: 'http://nope', token: 't' });
bad.on('error', (e) => seen.push(['error', e.name, e.code]));
bad.on('state', ({ to }) => seen.push(['bad', to]));
const closed = new GlobeMeetWS({ endpoint: 'ws://127.0.0.1:9/v1/events', token: 't' });
closed.close();
await GlobeMeetWS.ready();
await new Promise((r) => setTimeout(r, 50));
good.close();
seen.push(['closed', closed.state, closed.finalCode, bad.state]);
let thrown = '';
try { new GlobeMeetWS({ endpoint: 'http://nope', token: 't' }); } catch (e) { thrown = e.code; }
seen.push(['after ready', thrown]);
console.log(JSON.stringify(seen));
`);
    const out = execFileSync(process.execPath, ['early.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), [
      ['state', 'idle'],
      ['subscription_failed', 'queue..depth', 'invalid_topic'],
      ['error', 'GlobeMeetError', 'bad_config'],
      ['error', 'GlobeMeetCloseError', 'closed'],
      ['bad', 'closed'],
      ['closed', 'closed', 1000, 'closed'],
      ['after ready', 'bad_config'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
