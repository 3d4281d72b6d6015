// The API that users of centrifuge-js and ably-js expect of @globemeet/sdk (issue 11), against
// the real server: subscription objects with their state and ready(), disconnect() and
// connect() on one instance, a token provider told why it is called, and the Node helpers
// (@globemeet/sdk/node) that fetch a token and publish.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, depthEvent, makeTempDir, oauthClient, until } from './helpers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(root, 'js/dist/node.js'))) throw new Error('js/dist is missing: run `node js/build.mjs` first');
const { GlobeMeetWS, GlobeMeetError } = await import(path.join(root, 'js/dist/index.js'));
const { fetchToken, clientCredentials, publish, GlobeMeetHttpError } = await import(path.join(root, 'js/dist/node.js'));

const servers = [];
const clients = [];
const dirs = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// A server with one OAuth client (`wallboard`, every topic, may publish).
async function serverWithClient(args = []) {
  const dir = makeTempDir();
  dirs.push(dir);
  const identity = oauthClient(dir);
  const srv = await startServer({ args: [...identity.args, ...args] });
  servers.push(srv);
  const credentials = { server: srv.httpUrl, clientId: identity.clientId, clientSecret: identity.secret };
  return { srv, identity, credentials };
}
function client(options) {
  const c = new GlobeMeetWS({ backoff: { min_ms: 20, max_ms: 200, factor: 2 }, ...options });
  clients.push(c);
  return c;
}
const depth = depthEvent;

test('subscribe() returns a subscription: its state, ready() once the server applied it, and still the unsubscribe function', async () => {
  const { srv, credentials } = await serverWithClient();
  const ws = client({ endpoint: srv.wsUrl, getToken: clientCredentials(credentials) });
  const got = [];
  const subscribedEvents = [];
  ws.on('subscribed', (s) => subscribedEvents.push(s.pattern));
  const sub = ws.subscribe('queue.*.depth-changed', (e) => got.push(e.id));
  assert.equal(sub.pattern, 'queue.*.depth-changed');
  assert.equal(sub.state, 'subscribing');
  await sub.ready();
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(subscribedEvents, ['queue.*.depth-changed']);

  // Events published after ready() reach the handler: no waiting on server gauges needed.
  const [id] = await publish({ server: srv.httpUrl, token: clientCredentials(credentials) }, depth('support', 1));
  await until(() => got.length === 1, 'the event');
  assert.deepEqual(got, [id]);

  // A second subscription to the same pattern is in force at once.
  const twin = ws.subscribe('queue.*.depth-changed', () => {});
  await twin.ready();
  twin.unsubscribe();
  assert.equal(twin.state, 'unsubscribed');
  await assert.rejects(twin.ready(), (e) => e instanceof GlobeMeetError && e.code === 'unsubscribed');

  // Calling the subscription itself unsubscribes, as the README's Unsubscribe did.
  sub();
  sub();
  assert.equal(sub.state, 'unsubscribed');
});

test('a subscription goes back to subscribing while the connection is lost, and ready() waits for the next one', async () => {
  const { srv, identity, credentials } = await serverWithClient();
  const ws = client({ endpoint: srv.wsUrl, getToken: clientCredentials(credentials) });
  const sub = ws.subscribe('agent.>', () => {});
  await sub.ready();
  const states = [];
  ws.on('state', (s) => { if (s.from === 'live') states.push(sub.state); });
  // The server closes every connection with 1012 on SIGTERM; a new one on the same port follows.
  srv.proc.kill('SIGTERM');
  await srv.exited;
  await until(() => states.length === 1, 'the connection to drop');
  assert.deepEqual(states, ['subscribing']);
  const pending = sub.ready();
  const again = await startServer({ secret: srv.secret, args: ['--listen', `127.0.0.1:${srv.port}`, ...identity.args] });
  servers.push(again);
  await pending;
  assert.equal(sub.state, 'subscribed');
});

test('a refused subscription fails: state failed, ready() rejects with the server code, subscription_failed names it', async () => {
  const { srv } = await serverWithClient();
  const token = await srv.mint({ perms: ['queue.>'] });
  const ws = client({ endpoint: srv.wsUrl, token });
  const failures = [];
  ws.on('subscription_failed', (f) => failures.push(f));
  const allowed = ws.subscribe('queue.>', () => {});
  const forbidden = ws.subscribe('agent.>', () => {});
  await assert.rejects(forbidden.ready(), (e) => e instanceof GlobeMeetError && e.code === 'forbidden_topic');
  assert.equal(forbidden.state, 'failed');
  await allowed.ready();
  assert.deepEqual(failures.map((f) => [f.pattern, f.code]), [['agent.>', 'forbidden_topic']]);
});

test('close() ends every subscription: ready() rejects with closed', async () => {
  const ws = client({ endpoint: 'ws://127.0.0.1:9/v1/events', token: 'unused' });
  const sub = ws.subscribe('queue.>', () => {});
  const waiting = sub.ready();
  ws.close();
  await assert.rejects(waiting, (e) => e instanceof GlobeMeetError && e.code === 'closed');
  assert.equal(sub.state, 'unsubscribed');
});

test('disconnect() pauses the same instance; connect() resumes after the last event with every subscription', async () => {
  const { srv, credentials } = await serverWithClient();
  const reasons = [];
  const provider = clientCredentials(credentials);
  const ws = client({ endpoint: srv.wsUrl, getToken: (reason) => { reasons.push(reason); return provider(reason); } });
  const got = [];
  const sub = ws.subscribe('queue.>', (e) => got.push(e.id));
  await sub.ready();
  const pub = { server: srv.httpUrl, token: provider };
  const [first] = await publish(pub, depth('support', 1));
  await until(() => got.length === 1, 'the first event');

  const states = [];
  ws.on('state', (s) => states.push(`${s.from}->${s.to}`));
  ws.disconnect();
  await until(() => ws.state === 'idle', 'idle after disconnect');
  assert.equal(sub.state, 'subscribing');
  const missed = await publish(pub, [depth('support', 2), depth('sales', 3)]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(ws.state, 'idle', 'no reconnect while paused');
  assert.deepEqual(got, [first]);

  const reconnected = ws.once('reconnect');
  ws.connect();
  ws.connect();  // a second call while connecting does nothing
  await reconnected;
  await until(() => got.length === 3, 'the events missed while paused');
  assert.deepEqual(got, [first, ...missed]);
  assert.equal(sub.state, 'subscribed');
  assert.deepEqual(states.slice(0, 1), ['live->idle']);
  assert.deepEqual(reasons, ['connect'], 'the token was kept across the pause');

  ws.close();
  assert.throws(() => ws.connect(), (e) => e instanceof GlobeMeetError && e.code === 'closed');
});

test('autoConnect: false waits for connect()', async () => {
  const { srv } = await serverWithClient();
  const ws = client({ endpoint: srv.wsUrl, token: await srv.mint({}), autoConnect: false });
  const sub = ws.subscribe('queue.>', () => {});
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(ws.state, 'idle');
  ws.connect();
  await sub.ready();
  assert.equal(ws.state, 'live');
});

test('the token provider is told why: connect first, then why a 2-second token is replaced', async () => {
  const { srv, credentials } = await serverWithClient(['--token-grace-ms', '0']);
  const reasons = [];
  const ws = client({
    endpoint: srv.wsUrl,
    async getToken(reason) {
      reasons.push(reason);
      // The first token lives 2 s, so the server ends it with 4001; later ones are fresh.
      return reasons.length === 1 ? srv.mint({ exp: Math.floor(Date.now() / 1000) + 2 }) : (await fetchToken(credentials)).accessToken;
    },
  });
  ws.subscribe('queue.>', () => {});
  await until(() => reasons.length >= 2 && ws.state === 'live', 'a second token after the expiry');
  assert.equal(reasons[0], 'connect');
  // A 2-second token is refreshed halfway (refresh), unless the server's warning (expiring) or
  // its 4001 (expired) comes first on a busy machine: never `connect` or `refused` again.
  assert.ok(['refresh', 'expired', 'expiring'].includes(reasons[1]), reasons[1]);
});

test('fetchToken: a token for the right secret; GlobeMeetHttpError invalid_client for a wrong one', async () => {
  const { srv, credentials } = await serverWithClient();
  const token = await fetchToken(credentials);
  assert.equal(typeof token.accessToken, 'string');
  assert.equal(token.expiresIn, 900);
  const scoped = await fetchToken({ ...credentials, scope: 'queue.>' });
  assert.equal(scoped.scope, 'queue.>');
  await assert.rejects(fetchToken({ ...credentials, clientSecret: 'wrong' }), (e) => {
    assert.ok(e instanceof GlobeMeetHttpError);
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_client');
    assert.match(e.message, /oauth\/token: HTTP 401 invalid_client/);
    return true;
  });
  await assert.rejects(fetchToken({ ...credentials, server: `http://127.0.0.1:${srv.port + 1}` }), TypeError);
});

test('publish: batches of 1,000 in order, typed errors, and a provider asked again after a 401', async () => {
  const { srv, credentials } = await serverWithClient();
  const events = Array.from({ length: 2500 }, (_, i) => depth('support', i));
  const ids = await publish({ server: srv.httpUrl, token: clientCredentials(credentials) }, events);
  assert.equal(ids.length, 2500);
  const seqs = ids.map((id) => Number(id.split('-')[1]));
  assert.ok(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1), 'consecutive ids in order');

  await assert.rejects(publish({ server: srv.httpUrl, token: await srv.mint({}) }, depth('support', 1)),
    (e) => e instanceof GlobeMeetHttpError && e.status === 403 && e.code === 'forbidden');
  await assert.rejects(publish({ server: srv.httpUrl, token: await srv.mint({ pub: true }) },
    { type: 'queue.depth-changed', subject: 'support', data: { queue_id: 'support', depth: -1, longest_wait_seconds: 0 } }),
  (e) => e instanceof GlobeMeetHttpError && e.status === 400 && e.code === 'invalid_event');

  // A stale token from a provider: refused with 401, the provider is asked once more.
  const reasons = [];
  const stale = await srv.mint({ pub: true, exp: Math.floor(Date.now() / 1000) - 60 });
  const provider = async (reason) => { reasons.push(reason); return reasons.length === 1 ? stale : (await fetchToken(credentials)).accessToken; };
  const [again] = await publish({ server: srv.httpUrl, token: provider }, depth('support', 1));
  assert.match(again, /^[0-9a-z]+-\d+$/);
  assert.deepEqual(reasons, ['connect', 'refused']);

  // idempotencyKey: a request sent again (its answer lost) stores nothing twice; the ids are
  // those of the first time. Over 1,000 events, each request has its own key.
  const keyed = { server: srv.httpUrl, token: clientCredentials(credentials), idempotencyKey: 'sdk-api-retry' };
  const batch = Array.from({ length: 1200 }, (_, i) => depth('sales', i));
  const first = await publish(keyed, batch);
  const retried = await publish(keyed, batch);
  assert.deepEqual(retried, first);
  const [next] = await publish({ server: srv.httpUrl, token: clientCredentials(credentials) }, depth('sales', 0));
  assert.equal(Number(next.split('-')[1]), Number(first.at(-1).split('-')[1]) + 1, 'nothing stored by the retry');
});

test('@globemeet/sdk/node resolves for import and require', async () => {
  const { createRequire } = await import('node:module');
  const require = createRequire(path.join(root, 'js/package.json'));
  const cjs = require('@globemeet/sdk/node');
  assert.equal(typeof cjs.fetchToken, 'function');
  assert.equal(typeof cjs.publish, 'function');
});
