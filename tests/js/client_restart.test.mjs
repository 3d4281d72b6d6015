// Issue 10, the clients' side of the durable log (--data-dir): real server processes restarted
// on the same data directory and the same port, real clients connected through them.
//
// * SIGTERM restart: the npm client (GlobeMeetWS) and the C++ client library through the
//   `globemeet sub` CLI reconnect by themselves and resume, each event once, in order, no reset;
//   also when the restart comes before the first event (they resume from `{epoch}-0`).
// * Restarts in --dev on a data directory that keeps the dev credentials: clients with a token
//   provider (getToken doing the client-credentials grant, `sub --client-id/--client-secret`)
//   carry on with their token; and after a restart that drops a --signing-key the data directory
//   never held, they are refused once (4401), fetch one fresh token and resume with no reset.
// * kill -9 under publishing load, several times: every event whose POST was acknowledged reaches
//   the npm client once, in order, as it was acknowledged, and the client holds exactly the log.
//
// The existing durability suite (server_durability.test.mjs) checks the same server guarantees
// with raw sockets; here the subject is the clients' reconnect and resume paths.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, makeTempDir, publish, depthEvent, connect, sleep, until } from './helpers/server.mjs';
import { runCli } from './helpers/native_cli.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const distIndex = path.join(root, 'js/dist/index.js');
if (!existsSync(distIndex)) throw new Error('js/dist is missing: run `node js/build.mjs` first');
const { GlobeMeetWS } = await import(distIndex);

const seqOf = (id) => Number(id.split('-')[1]);
const epochOf = (id) => id.split('-')[0];
const FAST_BACKOFF = { min_ms: 20, max_ms: 200, factor: 2 };

// Everything a test started, ended even when it fails half-way.
const cleanups = [];
after(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

// A port that is free now; the server is then started on it, and restarted on it, because the
// clients reconnect to the endpoint they were given.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function metric(srv, name) {
  const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
}
// The server holds `n` patterns: a publish from now on reaches every subscriber live.
const subscriptionsHeld = (srv, n) =>
  until(async () => (await metric(srv, 'globemeet_subscriptions')) === n, `${n} subscriptions on the server`);

// A durable server on `dir`/data, on `port`, the `closing` frame asking clients to come back
// after 100 ms. Returns the helper's server; `kill(signal)` keeps the directory for a restart.
async function durable(dir, port, { secret, secretFile = true, args = [] } = {}) {
  const server = await startServer({
    dir, secret, secretFile,
    args: ['--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), '--reconnect-after-ms', '100', ...args],
  });
  cleanups.push(() => server.kill('SIGKILL'));
  server.epoch = server.logs.find((l) => l.msg === 'listening').epoch;
  return server;
}

// Stops `server` with SIGTERM and checks it drained cleanly (exit 0).
async function sigterm(server) {
  const exit = await server.kill('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM ends the server with 0: ${server.stderr}`);
}

// The npm client with every notification recorded.
function npmClient(options, pattern) {
  const ws = new GlobeMeetWS({ backoff: FAST_BACKOFF, ...options });
  cleanups.push(() => ws.close());
  const rec = { ws, events: [], states: [], reconnects: [], resets: [], errors: [], overflows: [] };
  ws.on('state', (s) => rec.states.push(s));
  ws.on('reconnect', (r) => rec.reconnects.push(r));
  ws.on('reset', (r) => rec.resets.push(r));
  ws.on('error', (e) => rec.errors.push(`${e.code}: ${e.message}`));
  ws.on('overflow', (o) => rec.overflows.push(o));
  ws.subscribe(pattern, (event) => rec.events.push(event));
  rec.ids = () => rec.events.map((e) => e.id);
  return rec;
}

// `globemeet sub` (the C++ library) with status lines on stderr.
function cliSub(args) {
  const sub = runCli(['sub', ...args]);
  cleanups.push(() => sub.kill());
  sub.ids = () => sub.events.map((e) => e.id);
  sub.count = (re) => (sub.stderr.match(re) ?? []).length;
  return sub;
}

// Ends the CLI as an operator would (SIGTERM: close 1000, exit 0, the last position on stderr).
async function endCli(sub) {
  sub.proc.kill('SIGTERM');
  const exit = await sub.finished(10000);
  assert.deepEqual(exit, { code: 0, signal: null }, sub.stderr);
}

// A batch that mixes queue events (for `queue.>`) with agent events (only for `>`); `tag` makes
// every event of the test distinguishable.
function mixedBatch(tag, n) {
  const events = [];
  for (let i = 0; i < n; i++) {
    events.push(i % 3 === 2
      ? { type: 'agent.online', subject: `a-${tag}-${i}`, data: { agent_id: `a-${tag}-${i}` } }
      : depthEvent(`q${i % 2}`, tag * 1000 + i));
  }
  return events;
}

// Publishes `events` in one request; returns [{id, queue}] in order (queue: a `queue.>` topic).
async function published(server, token, events) {
  const res = await publish(server, token, { events });
  assert.equal(res.status, 200, res.text);
  return res.body.ids.map((id, i) => ({ id, queue: events[i].type.startsWith('queue.') }));
}

// Asserts a client's ids are `expected`, once each, all of one epoch, ascending.
function assertExactly(ids, expected, who) {
  assert.equal(new Set(ids).size, ids.length, `${who}: no event delivered twice`);
  assert.deepEqual(ids, expected, `${who}: every event, in order`);
  for (let i = 1; i < ids.length; i++) {
    assert.equal(epochOf(ids[i]), epochOf(ids[0]), `${who}: one epoch`);
    assert.ok(seqOf(ids[i]) > seqOf(ids[i - 1]), `${who}: ascending`);
  }
}

test('SIGTERM restarts: the npm client and the C++ client (CLI) resume with no reset and no loss', async (t) => {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  let server = await durable(dir, port, { secret });
  const epoch = server.epoch;
  const reader = await server.mint({ sub: 'restart-reader', perms: ['>'] });
  const publisher = await server.mint({ sub: 'restart-publisher', pub: true });

  const npm = npmClient({ endpoint: server.wsUrl, token: reader }, 'queue.>');
  const cli = cliSub(['--server', server.httpUrl, '--token', reader, '>']);
  await until(() => npm.ws.state === 'live', 'the npm client to be live');
  await cli.untilStderr('connected to');
  await subscriptionsHeld(server, 2);

  const all = [];
  const expectNpm = () => all.filter((e) => e.queue).map((e) => e.id);
  const expectCli = () => all.map((e) => e.id);
  const bothHaveAll = async (what) => {
    await until(() => npm.events.length >= expectNpm().length, `npm: ${what}`);
    await cli.untilLines(all.length);
  };
  all.push(...await published(server, publisher, mixedBatch(1, 12)));
  await bothHaveAll('the events before the first restart');

  const restarts = 2;
  for (let round = 1; round <= restarts; round++) {
    const lastNpm = npm.ids().at(-1);
    const lastCli = cli.ids().at(-1);
    await sigterm(server);
    // Both saw the server's shutdown (`closing`, close 1001) and are reconnecting.
    await until(() => npm.states.filter((s) => s.code === 1001 && s.to === 'reconnecting').length === round,
      `npm: close 1001 #${round}`);
    await cli.until(() => cli.count(/disconnected \(1001/g) === round, `CLI: close 1001 #${round}`);

    server = await durable(dir, port, { secret });
    assert.equal(server.epoch, epoch, 'the epoch survives the restart');
    assert.ok(!server.logs.some((l) => l.msg === 'log_recovered'), 'a clean stop needs no recovery');
    // Published at once, probably before the clients are back: they get it as replay ...
    all.push(...await published(server, publisher, mixedBatch(10 * round + 1, 9)));
    await until(() => npm.reconnects.length === round && npm.ws.state === 'live', `npm: reconnect #${round}`);
    await cli.until(() => cli.count(/reconnected; resuming after/g) === round, `CLI: reconnect #${round}`);
    await subscriptionsHeld(server, 2);
    // ... and this one live.
    all.push(...await published(server, publisher, mixedBatch(10 * round + 2, 9)));
    await bothHaveAll(`the events after restart ${round}`);
    t.diagnostic(`restart ${round}: ${await metric(server, 'globemeet_replayed_total')} event frames resumed as replay`);

    assert.equal(npm.reconnects[round - 1].lastEventId, lastNpm, 'npm resumes after its last event');
    assert.match(cli.stderr, new RegExp(`reconnected; resuming after ${lastCli}\\n`), 'the CLI resumes after its last event');
  }
  assert.equal(epochOf(all.at(-1).id), epoch);
  assert.equal(seqOf(all.at(-1).id), all.length, 'ids continue across restarts, none skipped or reused');

  await sleep(200);  // anything extra (a duplicate) would arrive now
  assertExactly(npm.ids(), expectNpm(), 'npm');
  assertExactly(cli.ids(), expectCli(), 'CLI');
  assert.deepEqual(npm.resets, [], 'npm: no reset');
  assert.deepEqual(npm.errors, [], 'npm: no error');
  assert.equal(npm.reconnects.length, restarts);
  assert.doesNotMatch(cli.stderr, /reset \(|error /, 'CLI: no reset, no error');
  assert.equal(cli.count(/reconnected/g), restarts);

  npm.ws.close();
  await endCli(cli);
  assert.match(cli.stderr, new RegExp(`last event id ${all.at(-1).id}\\n`));
  await sigterm(server);
});

test('a SIGTERM restart before the first event: both clients resume from {epoch}-0, no reset, nothing lost', async () => {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  let server = await durable(dir, port, { secret });
  const epoch = server.epoch;
  const reader = await server.mint({ sub: 'empty-reader', perms: ['>'] });

  const npm = npmClient({ endpoint: server.wsUrl, token: reader }, '>');
  const cli = cliSub(['--server', server.httpUrl, '--token', reader, 'queue.>']);
  await until(() => npm.ws.state === 'live', 'the npm client to be live');
  await cli.untilStderr('connected to');
  await subscriptionsHeld(server, 2);
  await until(() => npm.ws.lastEventId === `${epoch}-0`, 'npm: the position before the first event');

  await sigterm(server);
  server = await durable(dir, port, { secret });
  assert.equal(server.epoch, epoch);
  const publisher = await server.mint({ sub: 'empty-publisher', pub: true });
  // Before the clients are back (probably): only a resume from {epoch}-0 brings these.
  const first = await published(server, publisher, [depthEvent('support', 1), depthEvent('sales', 2)]);
  await until(() => npm.reconnects.length === 1 && npm.ws.state === 'live', 'npm: the reconnect');
  await cli.untilStderr('reconnected');
  await subscriptionsHeld(server, 2);
  const second = await published(server, publisher, [depthEvent('support', 3)]);
  const expected = [...first, ...second].map((e) => e.id);
  await until(() => npm.events.length >= 3, 'npm: the three events');
  await cli.untilLines(3);
  await sleep(200);

  assertExactly(npm.ids(), expected, 'npm');
  assertExactly(cli.ids(), expected, 'CLI');
  assert.deepEqual(npm.reconnects, [{ lastEventId: `${epoch}-0` }]);
  assert.match(cli.stderr, new RegExp(`reconnected; resuming from ${epoch}-0, before the first event of its epoch`));
  assert.deepEqual(npm.resets, []);
  assert.deepEqual(npm.errors, []);
  assert.doesNotMatch(cli.stderr, /reset \(|error /);
  npm.ws.close();
  await endCli(cli);
  await sigterm(server);
});

// The dev OAuth client's secret from the server's `dev_credentials` line.
const devSecret = (server) => server.logs.find((l) => l.msg === 'dev_credentials').client_secret;

// POST /oauth/token with the client-credentials grant (HTTP Basic).
async function oauthToken(server, clientId, clientSecret) {
  const res = await fetch(`${server.httpUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

// The npm client and the CLI, both fetching their tokens as dev-client, across one SIGTERM
// restart of a --dev server with no secret file. `firstArgs` are the first run's extra flags
// (the second has none), `beforeRestart(dir)` runs while the server is down. Returns what both saw.
async function tokenProvidersAcrossRestart({ firstArgs = [], beforeRestart = () => {} } = {}) {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  let server = await durable(dir, port, { secretFile: false, args: firstArgs });
  const epoch = server.epoch;
  const clientSecret = devSecret(server);
  const tokenCalls = [];
  const npm = npmClient({
    endpoint: server.wsUrl,
    // `server` is whichever process runs now: the same port, so the same URL.
    async getToken() { tokenCalls.push(Date.now()); return oauthToken(server, 'dev-client', clientSecret); },
  }, 'queue.>');
  const cli = cliSub(['--server', server.httpUrl, '--client-id', 'dev-client', '--client-secret', clientSecret, '>']);
  await until(() => npm.ws.state === 'live', 'the npm client to be live');
  await cli.untilStderr('connected to');
  await subscriptionsHeld(server, 2);

  const publisherBefore = await oauthToken(server, 'dev-client', clientSecret);
  const before = await published(server, publisherBefore, mixedBatch(1, 6));
  await until(() => npm.events.length === before.filter((e) => e.queue).length, 'npm: the events before the restart');
  await cli.untilLines(before.length);

  await sigterm(server);
  await beforeRestart(dir);
  server = await durable(dir, port, { secretFile: false });
  assert.equal(server.epoch, epoch, 'the epoch survives the restart');
  assert.equal(devSecret(server), clientSecret, 'the dev client keeps its secret in the data directory');
  const publisherAfter = await oauthToken(server, 'dev-client', clientSecret);
  const replayed = await published(server, publisherAfter, mixedBatch(2, 6));
  await until(() => npm.reconnects.length === 1 && npm.ws.state === 'live', 'npm: the reconnect', 15000);
  await cli.untilStderr('reconnected', 15000);
  await subscriptionsHeld(server, 2);
  const live = await published(server, publisherAfter, mixedBatch(3, 6));
  const all = [...before, ...replayed, ...live];
  await until(() => npm.events.length >= all.filter((e) => e.queue).length, 'npm: the events after the restart');
  await cli.untilLines(all.length);
  await sleep(200);

  assertExactly(npm.ids(), all.filter((e) => e.queue).map((e) => e.id), 'npm');
  assertExactly(cli.ids(), all.map((e) => e.id), 'CLI');
  assert.deepEqual(npm.resets, [], 'npm: no reset');
  assert.deepEqual(npm.errors, [], 'npm: no error');
  assert.doesNotMatch(cli.stderr, /reset \(|error /, 'CLI: no reset, no error');
  assert.equal(npm.ws.state, 'live');
  assert.equal(cli.exit, undefined, 'the CLI still runs');
  // The publisher's token of the first run still publishes (or not) like the clients' tokens.
  const oldPublisher = await publish(server, publisherBefore, depthEvent('old-token', 1));
  const result = { npm, cli, tokenCalls, before, oldPublisherStatus: oldPublisher.status };
  if (oldPublisher.status === 200) {
    all.push({ id: oldPublisher.body.ids[0], queue: true });
    await until(() => npm.events.length === all.filter((e) => e.queue).length, 'npm: the last event');
    await cli.untilLines(all.length);
  }
  npm.ws.close();
  await endCli(cli);
  await sigterm(server);
  return result;
}

test('--dev restart on the same data directory: token providers (getToken, sub --client-id) carry on with their tokens', async () => {
  const { npm, cli, tokenCalls, before, oldPublisherStatus } = await tokenProvidersAcrossRestart();
  assert.deepEqual(npm.reconnects, [{ lastEventId: before.filter((e) => e.queue).at(-1).id }]);
  assert.equal(tokenCalls.length, 1, 'the token from before the restart is still good: no new one is needed');
  assert.ok(!npm.states.some((s) => s.code === 4401), 'npm: the token is never refused');
  assert.doesNotMatch(cli.stderr, /refused the token/, 'CLI: the token is never refused');
  assert.match(cli.stderr, /reconnected; resuming after /);
  assert.equal(oldPublisherStatus, 200, 'a token issued before the restart still publishes');
});

test('restart without --signing-key on a data directory that never held one: token providers get one fresh token and resume, no reset', async () => {
  // The first run signs with an operator's key; the second run has no --signing-key, so the
  // server makes signing-key.pem in the (old) data directory and refuses the tokens of the first.
  const keyDir = makeTempDir();
  cleanups.push(() => rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = path.join(keyDir, 'operator-key.pem');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  let keptKeyBefore;
  const { npm, cli, tokenCalls, before, oldPublisherStatus } = await tokenProvidersAcrossRestart({
    firstArgs: ['--signing-key', keyFile],
    beforeRestart: (dir) => { keptKeyBefore = existsSync(path.join(dir, 'data', 'signing-key.pem')); },
  });
  assert.equal(keptKeyBefore, false, 'with --signing-key the data directory holds no key of its own');
  assert.equal(npm.states.filter((s) => s.code === 4401).length, 1, 'npm: the old token is refused once');
  assert.equal(npm.states.find((s) => s.code === 4401).to, 'reconnecting');
  assert.equal(tokenCalls.length, 2, 'npm: one fresh token after the refusal');
  assert.equal(cli.count(/the server refused the token \(4401[^)]*\); fetching a new one/g), 1, cli.stderr);
  assert.equal(oldPublisherStatus, 401, 'a token signed with the dropped key is refused');
  // A refused token's reconnect still resumes: the position survives the extra round.
  assert.deepEqual(npm.reconnects, [{ lastEventId: before.filter((e) => e.queue).at(-1).id }]);
  assert.match(cli.stderr, new RegExp(`reconnected; resuming after ${before.at(-1).id}\\n`));
});

// Publishes batches with unique markers (the depth) until the server goes away; records what
// was acknowledged.
async function publishUntilGone(server, token, acked, counter) {
  for (;;) {
    const markers = Array.from({ length: 1 + Math.floor(Math.random() * 20) }, () => counter.next++);
    let res;
    try {
      res = await publish(server, token, { events: markers.map((m) => depthEvent('load', m)) });
    } catch {
      return;  // the server died mid-request: not acknowledged
    }
    if (res.status !== 200) return;
    res.body.ids.forEach((id, i) => acked.set(id, markers[i]));
  }
}

// Every event of the log from before its first one, by a raw socket: [{id, depth}].
async function wholeLog(server) {
  const client = await connect(server, { token: await server.mint({ sub: 'log-reader' }) });
  const ready = await client.next('ready');
  client.send({ op: 'subscribe', req: 'all', topics: ['>'], from: `${epochOf(ready.head)}-0` });
  const events = [];
  for (;;) {
    const f = await client.next(() => true, 10000);
    if (f.op === 'event') events.push({ id: f.id, depth: f.data.depth });
    else if (f.op === 'replayed') break;
    else if (f.op === 'reset' || f.op === 'error') throw new Error(JSON.stringify(f));
  }
  await client.close();
  return events;
}

test('kill -9 under load, four times: the npm client gets every acknowledged event once, in order, and exactly the log', async (t) => {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  let server = await durable(dir, port, { secret });
  const epoch = server.epoch;
  const reader = await server.mint({ sub: 'kill-reader', perms: ['queue.>'] });
  const npm = npmClient({ endpoint: server.wsUrl, token: reader }, 'queue.>');
  const acked = new Map();
  const counter = { next: 1 };
  const rounds = 4;
  for (let round = 0; round < rounds; round++) {
    if (round > 0) {
      server = await durable(dir, port, { secret });
      assert.equal(server.epoch, epoch, 'the epoch survives kill -9');
      assert.ok(server.logs.some((l) => l.msg === 'log_recovered'), 'the unclean stop is noticed');
    }
    await until(() => npm.ws.state === 'live', `npm live in round ${round}`);
    await subscriptionsHeld(server, 1);
    const token = await server.mint({ sub: 'kill-publisher', pub: true });
    const publishers = [0, 1].map(() => publishUntilGone(server, token, acked, counter));
    await sleep(100 + Math.random() * 300);
    await server.kill('SIGKILL');
    await Promise.all(publishers);
    await until(() => npm.ws.state !== 'live', `npm noticed kill ${round + 1}`);
  }
  server = await durable(dir, port, { secret });
  const token = await server.mint({ sub: 'kill-publisher', pub: true });
  const [finalEvent] = (await published(server, token, [depthEvent('load', counter.next++)]));
  acked.set(finalEvent.id, counter.next - 1);
  await until(() => npm.ids().includes(finalEvent.id), 'npm: the event after the last restart', 15000);
  await sleep(200);

  const got = new Map(npm.events.map((e) => [e.id, e.data.depth]));
  assert.deepEqual(npm.resets, [], 'no reset');
  assert.deepEqual(npm.errors, [], 'no error');
  assert.equal(npm.reconnects.length, rounds, 'one reconnect per kill');
  assert.ok(npm.states.filter((s) => s.to === 'reconnecting').every((s) => s.code === 1006), 'every drop was abrupt (1006)');
  assert.ok(acked.size > rounds * 20, `enough load to mean something (${acked.size} acknowledged)`);
  for (const [id, marker] of acked) {
    assert.ok(got.has(id), `acknowledged ${id} arrived`);
    assert.equal(got.get(id), marker, `${id} is the event it was acknowledged as`);
  }
  const log = await wholeLog(server);
  t.diagnostic(`${acked.size} events acknowledged, ${log.length} in the log, ${npm.events.length} delivered`);
  assertExactly(npm.ids(), log.map((e) => e.id), 'npm against the log');
  assert.deepEqual(npm.events.map((e) => e.data.depth), log.map((e) => e.depth), 'the same events as the log holds');
  assert.equal(new Set(got.values()).size, got.size, 'no event arrived under two ids');
  npm.ws.close();
  await sigterm(server);
});
