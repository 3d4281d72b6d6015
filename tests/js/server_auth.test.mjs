// Authentication on the socket: header tokens (HTTP 401 at the handshake) and `auth` frames
// (close 4401), the auth deadline (4002), refresh, expiry (expiring, 4001), perms containment.
// A witness client keeps receiving events throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, importPKCS8, exportJWK } from 'jose';
import {
  startServer, makeTempDir, connect, connectReady, subscribe, liveWitness, sleep, ISSUER, AUDIENCE,
} from './helpers/server.mjs';

let server;
let witness;
let rsaPrivate;
let rsaPublicPem;

before(async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsaPrivate = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }), 'RS256');
  rsaPublicPem = publicKey.export({ type: 'spki', format: 'pem' });
  const jwk = await exportJWK(publicKey);
  const dir = makeTempDir();
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...jwk, kid: 'rsa-1', alg: 'RS256', use: 'sig' }] }));
  server = await startServer({ dir, args: ['--jwks', jwksFile, '--auth-timeout-ms', '300'] });
  witness = await liveWitness(server);
});
after(async () => { await witness.client.close(); await server.stop(); });

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const baseClaims = () => ({ sub: 'u', tenant: 'acme', perms: ['>'], iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 900 });

async function badTokens() {
  const forged = await new SignJWT(baseClaims()).setProtectedHeader({ alg: 'HS256', kid: 'dev' })
    .sign(new TextEncoder().encode('another secret that is long enough!!'));
  const algNone = `${b64({ alg: 'none', kid: 'dev' })}.${b64(baseClaims())}.`;
  // HS/RS confusion: HMAC keyed with the RSA public key, under the RSA key's kid.
  const confusedInput = `${b64({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' })}.${b64(baseClaims())}`;
  const confused = `${confusedInput}.${createHmac('sha256', rsaPublicPem).update(confusedInput).digest('base64url')}`;
  return {
    forged,
    'alg none': algNone,
    'HS/RS confusion': confused,
    expired: await server.mint({ iat: now() - 2000, exp: now() - 1000 }),
    'wrong aud': await server.mint({ aud: 'someone-else' }),
    'wrong iss': await server.mint({ iss: 'https://evil.example' }),
    'unknown kid': await server.mint({}, { kid: 'nope' }),
    garbage: 'garbage',
    'missing tenant': await server.mint({ tenant: undefined }),
  };
}

test('RS256 tokens from the JWKS file are accepted', async () => {
  const token = await new SignJWT(baseClaims()).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsaPrivate);
  const c = await connect(server, { token });
  assert.equal((await c.next('ready')).sub, 'u');
  await c.close();
});

test('bad header tokens are refused with HTTP 401 invalid_token', async () => {
  for (const [name, token] of Object.entries(await badTokens())) {
    await assert.rejects(connect(server, { token }), (err) => {
      assert.equal(err.status, 401, name);
      assert.equal(err.body.error, 'invalid_token', name);
      // RFC 7235: a 401 names its scheme (and RFC 6750 the error).
      assert.equal(err.headers['www-authenticate'], 'Bearer realm="globemeet", error="invalid_token"', name);
      // One code for every refusal (docs/protocol.md section 6); the message names the check.
      if (name === 'expired') assert.match(err.body.message, /token expired at \d+/);
      return true;
    }, name);
  }
  // Each refusal is logged as auth_failed with its reason, never the token (the log reaches
  // stdout a moment after the answer: wait for the lines).
  const expected = Object.keys(await badTokens()).length;
  const failures = () => server.logs.filter((l) => l.msg === 'auth_failed' && l.path === 'handshake');
  for (const start = Date.now(); failures().length < expected && Date.now() - start < 5000;) await sleep(20);
  assert.ok(failures().length >= expected, `${failures().length} auth_failed lines`);
  assert.ok(failures().some((l) => /expired/.test(l.reason)));
  await witness.check();
});

test('a token over 16,384 bytes is refused as a token: HTTP 401 invalid_token, not a malformed request', async () => {
  const big = await server.mint({ pad: 'x'.repeat(17000) });
  assert.ok(big.length > 16384 && big.length < 30000);
  await assert.rejects(connect(server, { token: big }), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.body.error, 'invalid_token');
    assert.match(err.body.message, /larger than 16384 bytes/);
    return true;
  });
  // Headers past 32 KiB in all: 431 with a JSON body, never a hang or a crash.
  await assert.rejects(connect(server, { token: 'x'.repeat(40000) }), (err) => {
    assert.equal(err.status, 431);
    assert.equal(err.body.error, 'header_too_large');
    return true;
  });
  await witness.check();
});

test('bad auth-frame tokens close with 4401', async () => {
  for (const [name, token] of Object.entries(await badTokens())) {
    const c = await connect(server);
    c.send({ op: 'auth', token });
    const closed = await c.closed;
    assert.equal(closed.code, 4401, name);
    assert.equal(c.frames.length, 0, `${name}: nothing before ready`);
  }
  await witness.check();
});

test('a token over 16,384 bytes in an auth or refresh frame is refused as a token, not as a bad frame', async () => {
  const big = await server.mint({ pad: 'x'.repeat(17000) });
  assert.ok(big.length > 16384 && big.length < 30000);
  const c = await connect(server);
  c.send({ op: 'auth', token: big });
  assert.equal((await c.closed).code, 4401);
  assert.equal(c.frames.length, 0, 'nothing before the close');

  const { client } = await connectReady(server, { sub: 'big' });
  client.send({ op: 'refresh', req: 'big', token: await server.mint({ sub: 'big', pad: 'x'.repeat(17000) }) });
  const err = await client.next('error');
  assert.equal(err.code, 'invalid_token');
  assert.equal(err.req, 'big');
  assert.match(err.message, /larger than 16384 bytes/);
  client.send({ op: 'ping', req: 'still-open' });
  assert.equal((await client.next('pong')).req, 'still-open');
  await client.close();
  await witness.check();
});

test('browser flow: auth frame -> ready; frames before auth get auth_required; second auth refused', async () => {
  const c = await connect(server);
  c.send({ op: 'subscribe', req: 'early', topics: ['>'] });
  const early = await c.next('error');
  assert.equal(early.code, 'auth_required');
  assert.equal(early.req, 'early');
  c.send({ op: 'auth', token: await server.mint({ sub: 'browser' }) });
  const ready = await c.next('ready');
  assert.equal(ready.sub, 'browser');
  assert.ok('head' in ready);
  c.send({ op: 'auth', token: await server.mint() });
  assert.equal((await c.next('error')).code, 'already_authenticated');
  c.send({ op: 'ping', req: 'p1' });
  const { time_ms: serverTime, ...pong } = await c.next('pong');
  assert.deepEqual(pong, { op: 'pong', req: 'p1' });
  assert.ok(Number.isInteger(serverTime) && Number.isInteger(ready.time_ms), 'ready and pong carry the server clock');
  await c.close();
});

test('no auth frame within the deadline closes with 4002', async () => {
  const c = await connect(server);
  const closed = await c.closed;
  assert.equal(closed.code, 4002);
  await witness.check();
});

test('perms: patterns must be contained in a permitted pattern', async () => {
  const { client } = await connectReady(server, { perms: ['queue.support.*', 'agent.>'] });
  assert.equal((await subscribe(client, ['queue.support.depth-changed'])).op, 'subscribed');
  assert.equal((await subscribe(client, ['agent.a-17.*'])).op, 'subscribed');
  const wider = await subscribe(client, ['queue.*.depth-changed']);
  assert.equal(wider.code, 'forbidden_topic');
  assert.equal(wider.topic, 'queue.*.depth-changed');
  assert.equal((await subscribe(client, ['>'])).code, 'forbidden_topic');
  // Containment is judged over the names that exist (three segments): `queue.support.*` covers
  // `queue.support.>`, `agent.>` covers `agent.*.*`.
  assert.equal((await subscribe(client, ['queue.support.>', 'agent.*.*'])).op, 'subscribed');
  await client.close();
  const { client: all } = await connectReady(server, { perms: ['*.*.*'] });
  assert.equal((await subscribe(all, ['>'])).op, 'subscribed');
  await all.close();
  // A perm that can match no name is no reason to refuse the token: it grants nothing.
  const { client: dead } = await connectReady(server, { perms: ['queue.support', 'agent.>'] });
  assert.equal((await subscribe(dead, ['agent.a-17.*'])).op, 'subscribed');
  const refused = await subscribe(dead, ['queue.support.*']);
  assert.equal(refused.code, 'forbidden_topic');
  assert.equal((await subscribe(dead, ['queue.support'])).code, 'invalid_topic');
  await dead.close();
  // A token with no perms at all is forbidden outright.
  await assert.rejects(connect(server, { token: await server.mint({ perms: [] }) }), (e) => e.status === 403);
});

test('tenants are isolated: no event crosses tenants whatever the pattern', async () => {
  const { publish: pub, depthEvent } = await import('./helpers/server.mjs');
  const { client: other } = await connectReady(server, { tenant: 'globex' });
  await subscribe(other, ['>']);
  await witness.check();
  const globexPub = await server.mint({ tenant: 'globex', pub: true });
  const res = await pub(server, globexPub, depthEvent('globex-q'));
  const ev = await other.next('event');
  // In id order: had the acme event crossed over, it would have come first.
  assert.equal(ev.id, res.body.ids[0]);
  assert.equal(ev.tenant, 'globex');
  assert.equal(other.drain().length, 0);
  // And the next acme event reaches the witness with no globex event before it.
  const acmePub = await server.mint({ pub: true });
  const next = await pub(server, acmePub, depthEvent('acme-q'));
  const got = await witness.client.next('event');
  assert.equal(got.id, next.body.ids[0]);
  await other.close();
});

test('refresh: same sub and tenant only; revoked patterns are removed at once', async () => {
  const { client } = await connectReady(server, { sub: 'r', perms: ['queue.>', 'agent.>'] });
  await subscribe(client, ['queue.support.*', 'agent.*.online']);
  client.send({ op: 'refresh', req: 'x', token: await server.mint({ sub: 'someone-else' }) });
  assert.equal((await client.next('error')).code, 'invalid_token');
  client.send({ op: 'refresh', req: 'y', token: await server.mint({ sub: 'r', tenant: 'globex' }) });
  assert.equal((await client.next('error')).code, 'invalid_token');
  client.send({ op: 'refresh', req: 'z', token: 'garbage' });
  assert.equal((await client.next('error')).code, 'invalid_token');

  const newExp = now() + 600;
  client.send({ op: 'refresh', req: 'ok', token: await server.mint({ sub: 'r', perms: ['queue.>'], exp: newExp }) });
  const refreshed = await client.next('refreshed');
  assert.equal(refreshed.req, 'ok');
  assert.equal(refreshed.exp, newExp);
  const revoked = await client.next('unsubscribed');
  assert.deepEqual(revoked.topics, ['agent.*.online']);
  assert.equal(revoked.reason, 'permission_revoked');
  assert.equal(revoked.req, undefined);
  // The remaining pattern still works; the revoked one is gone.
  client.send({ op: 'unsubscribe', req: 'u', topics: ['agent.*.online'] });
  assert.equal((await client.next('error')).code, 'not_subscribed');
  await client.close();
});

test('expiring 60 s before exp, close 4001 at exp + grace', async () => {
  const s = await startServer({ args: ['--token-grace-ms', '200'] });
  try {
    const exp = now() + 2;
    const { client } = await connectReady(s, { exp });
    const expiring = await client.next('expiring');
    assert.equal(expiring.exp, exp);
    assert.equal(expiring.grace_ms, 200);
    const closed = await client.closed;
    assert.equal(closed.code, 4001);
  } finally {
    await s.stop();
  }
});

test('a refresh in time keeps the connection', async () => {
  const s = await startServer({ args: ['--token-grace-ms', '100'] });
  try {
    const { client } = await connectReady(s, { sub: 'k', exp: now() + 2 });
    await client.next('expiring');
    client.send({ op: 'refresh', req: 'r', token: await s.mint({ sub: 'k' }) });
    await client.next('refreshed');
    await sleep(3000);
    assert.equal(client.closeInfo, null);
    client.send({ op: 'ping', req: 'alive' });
    assert.equal((await client.next('pong')).req, 'alive');
    await client.close();
  } finally {
    await s.stop();
  }
});
