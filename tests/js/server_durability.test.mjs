// The durable log (--data-dir) with real processes on a real disk: kill -9 under load loses no
// acknowledged event and reuses no id; a clean restart keeps the epoch, the events and the
// tokens; a damaged file is refused by name; a full disk answers 503 and recovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync, cpSync, existsSync, mkdirSync, openSync, rmSync, statSync, truncateSync, writeFileSync, writeSync,
} from 'node:fs';
import path from 'node:path';
import {
  startServer, makeTempDir, connect, publish, depthEvent, sleep,
} from './helpers/server.mjs';

const seqOf = (id) => Number(id.split('-')[1]);
const epochOf = (id) => id.split('-')[0];

// A server on `dataDir` with a fixed HS256 secret, so tokens minted for one run verify in the next.
function durableServer(dir, secret, extra = []) {
  return startServer({ dir, secret, args: ['--data-dir', path.join(dir, 'data'), ...extra] });
}

// A subscriber to everything that keeps its position across connections, as a client would,
// and checks what it gets: one epoch, strictly increasing ids, never a reset.
class ResumingSubscriber {
  constructor() { this.events = new Map(); this.lastId = null; this.order = []; this.problems = []; }

  // Connects (with `token`, or a minted one), subscribes to `>` from the last id it holds.
  async attach(server, token) {
    this.subscribed = false;
    this.replayed = false;
    const client = await connect(server, { token: token ?? await server.mint({ sub: 'durable-subscriber' }) });
    this.client = client;
    // Frames are taken as they arrive, not awaited: the server may die at any moment.
    const drain = () => { for (const f of client.frames.splice(0)) this.take(f, client); };
    client.ws.on('message', drain);
    drain();
    for (let i = 0; i < 250 && !this.subscribed; i++) await sleep(20);
    assert.ok(this.subscribed, `subscribed (${this.problems.join('; ')})`);
    return client;
  }

  take(f, client) {
    if (f.op === 'ready') client.send({ op: 'subscribe', req: 'r', topics: ['>'], ...(this.lastId ? { from: this.lastId } : {}) });
    if (f.op === 'subscribed') this.subscribed = true;
    if (f.op === 'error') this.problems.push(`error ${JSON.stringify(f)}`);
    if (f.op === 'reset') this.problems.push(`reset ${f.reason}`);
    if (f.op === 'replayed') this.replayed = true;
    if (f.op !== 'event') return;
    if (this.lastId && (epochOf(f.id) !== epochOf(this.lastId) || seqOf(f.id) <= seqOf(this.lastId)))
      this.problems.push(`${f.id} after ${this.lastId}`);
    this.events.set(f.id, f.data.depth);
    this.order.push(f.id);
    this.lastId = f.id;
  }

  // Waits until `replayed` came for the current connection (the catch-up is complete).
  async caughtUp() {
    for (let i = 0; i < 200 && !this.replayed; i++) await sleep(25);
    assert.ok(this.replayed, 'the resume ended with replayed');
  }
}

// Publishes batches with unique markers (the depth) until the server goes away; records what
// was acknowledged.
async function publishUntilGone(server, token, acked, counter) {
  for (;;) {
    const size = 1 + Math.floor(Math.random() * 40);
    const markers = Array.from({ length: size }, () => counter.next++);
    let res;
    try {
      res = await publish(server, token, { events: markers.map((m) => depthEvent('durable', m)) });
    } catch {
      return;  // the server died mid-request: not acknowledged
    }
    if (res.status !== 200) return;
    res.body.ids.forEach((id, i) => acked.set(id, markers[i]));
  }
}

test('kill -9 at random moments under load: every acknowledged event arrives once, in order, no id reused', async () => {
  const dir = makeTempDir();
  const secret = randomBytes(32).toString('base64url');
  const acked = new Map();
  const counter = { next: 1 };
  const subscriber = new ResumingSubscriber();
  let epoch = null;
  const rounds = 20;
  try {
    for (let round = 0; round < rounds; round++) {
      const server = await durableServer(dir, secret);
      const opened = server.logs.find((l) => l.msg === 'log_opened');
      epoch ??= opened.epoch;
      assert.equal(opened.epoch, epoch, 'the epoch survives kill -9');
      if (round > 0) assert.ok(server.logs.some((l) => l.msg === 'log_recovered'), 'an unclean stop is noticed');
      await subscriber.attach(server);
      const token = await server.mint({ sub: 'durable-publisher', pub: true });
      const publishers = [0, 1, 2].map(() => publishUntilGone(server, token, acked, counter));
      await sleep(30 + Math.random() * 250);
      await server.kill('SIGKILL');
      await Promise.all(publishers);
    }
    const server = await durableServer(dir, secret);
    await subscriber.attach(server);
    await subscriber.caughtUp();
    await subscriber.client.close();
    await server.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(subscriber.problems, []);
  assert.ok(acked.size > rounds * 10, `enough load to mean something (${acked.size} acknowledged)`);
  for (const [id, marker] of acked) {
    assert.ok(subscriber.events.has(id), `acknowledged ${id} arrived`);
    assert.equal(subscriber.events.get(id), marker, `${id} is the event it was acknowledged as`);
  }
  assert.equal(new Set(subscriber.events.values()).size, subscriber.events.size, 'no event arrived under two ids');
});

test('SIGTERM and restart: same epoch, the client resumes with no reset and no loss, and old tokens still work', async () => {
  const dir = makeTempDir();
  try {
    // --dev without a secret file: the dev secret, the dev client and the signing key are all
    // made in the data directory once.
    const start = () => startServer({ dir, secretFile: false, args: ['--data-dir', path.join(dir, 'data')] });
    let server = await start();
    const creds = server.logs.find((l) => l.msg === 'dev_credentials');
    const tokenRes = await fetch(`${server.httpUrl}/oauth/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`dev-client:${creds.client_secret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const issued = (await tokenRes.json()).access_token;
    const subscriber = new ResumingSubscriber();
    // The issued token (ES256, from the data directory's key) for the subscriber too.
    await subscriber.attach(server, issued);
    const before = await publish(server, issued, { events: [1, 2, 3].map((d) => depthEvent('restart', d)) });
    assert.equal(before.status, 200);
    for (let i = 0; i < 100 && subscriber.order.length < 3; i++) await sleep(20);
    const epoch = epochOf(before.body.ids[0]);

    await server.kill('SIGTERM');
    assert.ok(existsSync(path.join(dir, 'data', 'events.db')));
    assert.equal(statSync(path.join(dir, 'data', 'signing-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dir, 'data', 'events.db')).mode & 0o777, 0o600);
    server = await start();
    assert.equal(server.logs.find((l) => l.msg === 'dev_credentials').client_secret, creds.client_secret,
      'the dev client keeps its secret');
    assert.ok(!server.logs.some((l) => l.msg === 'log_recovered'), 'a clean stop needs no recovery');
    const after = await publish(server, issued, depthEvent('restart', 4));
    assert.equal(after.status, 200, 'a token issued before the restart still publishes');
    assert.equal(epochOf(after.body.ids[0]), epoch, 'ids continue in the same epoch');
    assert.equal(seqOf(after.body.ids[0]), seqOf(before.body.ids[2]) + 1);
    const client = await subscriber.attach(server, issued);
    for (let i = 0; i < 100 && subscriber.order.length < 4; i++) await sleep(20);
    assert.deepEqual(subscriber.problems, []);
    assert.deepEqual(subscriber.order, [...before.body.ids, ...after.body.ids]);
    await client.close();
    await server.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a data directory whose log is not a database stops the server with a message naming the file', async () => {
  const dir = makeTempDir();
  try {
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'events.db'), randomBytes(8192));
    await assert.rejects(durableServer(dir, 'x'.repeat(43)), (err) => {
      assert.match(err.message, /server exited 2/);
      assert.match(err.message, /events\.db/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second server on the same data directory is refused', async () => {
  const dir = makeTempDir();
  const secret = randomBytes(32).toString('base64url');
  const first = await durableServer(dir, secret);
  try {
    await assert.rejects(durableServer(dir, secret), /another globemeet-server is using it/);
  } finally {
    await first.stop();
  }
});

test('a full disk: publish answers 503 log_unavailable, subscribers stay, /readyz says why, and it recovers', async (t) => {
  const dir = makeTempDir();
  const mount = path.join(dir, 'data');
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mount]);
  t.after(() => { try { execFileSync('umount', ['-l', mount]); } catch { /* already gone */ } rmSync(dir, { recursive: true, force: true }); });
  const ballast = path.join(mount, 'ballast');
  writeFileSync(ballast, Buffer.alloc(1024 * 1024));
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(path.join(dir, 'home'));
  const server = await startServer({ dir: path.join(dir, 'home'), secret, args: ['--data-dir', mount] });
  try {
    const token = await server.mint({ sub: 'filler', pub: true });
    const sub = new ResumingSubscriber();
    await sub.attach(server);
    const acked = [];
    let refused = null;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await publish(server, token, { events: Array.from({ length: 500 }, (_, k) => depthEvent('full', i * 500 + k)) });
      if (res.status === 200) acked.push(...res.body.ids);
      else refused = res;
    }
    assert.ok(refused, 'the disk filled up');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error, 'log_unavailable');
    const ready = await fetch(`${server.httpUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).status, 'log_unavailable');
    for (let i = 0; i < 200 && sub.order.length < acked.length; i++) await sleep(25);
    assert.deepEqual(sub.order, acked, 'every acknowledged event reached the subscriber, nothing else');
    assert.equal(sub.client.closeInfo, null, 'the subscriber keeps its connection');

    rmSync(ballast);
    let ok = null;
    let lastRefusal = null;
    for (let i = 0; i < 50 && !ok; i++) {
      const res = await publish(server, token, depthEvent('full', 999999));
      if (res.status === 200) ok = res; else { lastRefusal = res.text; await sleep(100); }
    }
    assert.ok(ok, `publishing works again once there is space (${lastRefusal})`);
    assert.equal(seqOf(ok.body.ids[0]), seqOf(acked.at(-1)) + 1, 'the refused batches used up no id');
    for (let i = 0; i < 100 && sub.lastId !== ok.body.ids[0]; i++) await sleep(20);
    assert.equal(sub.lastId, ok.body.ids[0]);
    assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 200);
    assert.deepEqual(sub.problems, []);
    assert.equal(server.proc.exitCode, null, 'the server is still running');
  } finally {
    await server.kill('SIGKILL');
  }
});

// Reads everything of the log from before its first event; returns {events, resets}.
async function readAll(server) {
  const client = await connect(server, { token: await server.mint({ sub: 'reader' }) });
  const ready = await client.next('ready');
  const epoch = ready.head.split('-')[0];
  client.send({ op: 'subscribe', req: 'all', topics: ['>'], from: `${epoch}-0` });
  const events = [];
  const resets = [];
  for (;;) {
    const f = await client.next(() => true, 10000);
    if (f.op === 'event') events.push(f);
    else if (f.op === 'reset') resets.push(f.reason);
    else if (f.op === 'replayed') break;
    else if (f.op === 'error') throw new Error(JSON.stringify(f));
  }
  await client.close();
  return { events, resets };
}

test('torn and damaged files: the server serves only intact events, in order, and says what it dropped, or refuses by name', async (t) => {
  const dir = makeTempDir();
  const secret = randomBytes(32).toString('base64url');
  try {
    // A log with half its events check-pointed into the database file (a clean stop) and half
    // still in the write-ahead file when the server is killed, as after a crash.
    let server = await durableServer(dir, secret);
    const token = await server.mint({ sub: 'torn', pub: true });
    for (let b = 0; b < 20; b++) {
      if (b === 10) {
        await server.kill('SIGTERM');
        server = await durableServer(dir, secret);
      }
      const res = await publish(server, token, { events: Array.from({ length: 50 }, (_, k) => depthEvent(`q${b % 3}`, b * 50 + k)) });
      assert.equal(res.status, 200);
    }
    const pristine = new Map((await readAll(server)).events.map((e) => [e.id, JSON.stringify(e)]));
    assert.equal(pristine.size, 1000);
    await server.kill('SIGKILL');
    const data = path.join(dir, 'data');
    const saved = path.join(dir, 'pristine');
    cpSync(data, saved, { recursive: true });

    const outcomes = { started: 0, refused: 0, dropped: 0 };
    for (let round = 0; round < 30; round++) {
      rmSync(data, { recursive: true, force: true });
      cpSync(saved, data, { recursive: true });
      const files = ['events.db', 'events.db-wal'].map((f) => path.join(data, f)).filter((f) => existsSync(f) && statSync(f).size > 0);
      const file = files[Math.floor(round / 2) % files.length];
      const size = statSync(file).size;
      const offset = Math.floor(Math.random() * size);
      if (round % 2 === 0) truncateSync(file, offset);
      else {
        const fd = openSync(file, 'r+');
        writeSync(fd, randomBytes(1 + Math.floor(Math.random() * 64)), 0, undefined, offset);
        closeSync(fd);
      }
      let started;
      try {
        started = await durableServer(dir, secret);
      } catch (err) {
        // Refused: a clean exit with the file's name, never a crash.
        assert.match(err.message, /server exited 2/, `round ${round}: ${err.message}`);
        assert.match(err.message, /events\.db/);
        outcomes.refused++;
        if (outcomes.refused === 1) t.diagnostic(`refused: ${err.message.split('\n').find((l) => l.includes('events.db'))}`);
        continue;
      }
      try {
        outcomes.started++;
        const { events, resets } = await readAll(started);
        assert.deepEqual(resets.filter((r) => r !== 'epoch_changed'), [], `round ${round}`);
        let last = 0;
        for (const e of events) {
          assert.ok(seqOf(e.id) > last, `round ${round}: ids ascend`);
          last = seqOf(e.id);
          assert.equal(JSON.stringify(e), pristine.get(e.id), `round ${round}: ${e.id} is served as stored, or not at all`);
        }
        if (events.length < pristine.size) {
          outcomes.dropped++;
          const said = started.logs.some((l) => l.msg === 'log_recovered' || l.msg === 'log_damaged');
          assert.ok(said, `round ${round}: ${pristine.size - events.length} events missing and the log says why`);
        }
      } finally {
        await started.kill('SIGKILL');
      }
    }
    t.diagnostic(`30 damaged copies: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.started > 0, JSON.stringify(outcomes));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
