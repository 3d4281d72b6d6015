// HTTP routes of the real server: health, readiness, catalogue, JWKS, metrics, publish errors,
// the OAuth client-credentials flow end to end, the CLI (help, bad flags, hash-secret).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  startServer, serverBinary, makeTempDir, connect, connectReady, subscribe, publish, depthEvent, ISSUER,
} from './helpers/server.mjs';
import { spawnSyncWithInput } from './helpers/input_file.mjs';

let server;
let clientSecretHash;
const CLIENT_SECRET = 'correct horse battery staple';

before(async () => {
  const hashed = spawnSyncWithInput(serverBinary(), ['hash-secret'], `${CLIENT_SECRET}\n`);
  assert.equal(hashed.status, 0, hashed.stderr.toString());
  clientSecretHash = hashed.stdout.toString().trim();
  const dir = makeTempDir();
  const clientsFile = path.join(dir, 'clients.json');
  writeFileSync(clientsFile, JSON.stringify({
    clients: [
      { client_id: 'wallboard', secret_hash: clientSecretHash, tenant: 'acme', perms: ['queue.>'] },
      { client_id: 'crm-bridge', secret_hash: clientSecretHash, tenant: 'acme', perms: ['>'], publish: true },
    ],
  }));
  server = await startServer({ dir, args: ['--clients', clientsFile] });
});
after(async () => { await server.stop(); });

const get = (p, init) => fetch(`${server.httpUrl}${p}`, init);

test('hash-secret prints a PBKDF2 hash', () => {
  assert.match(clientSecretHash, /^pbkdf2-sha256\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
});

test('--help exits 0; bad flags and bad config exit 2 with a message', () => {
  const help = spawnSync(serverBinary(), ['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout.toString(), /--listen HOST:PORT/);
  const bad = spawnSync(serverBinary(), ['--threads', 'many', '--dev']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.toString(), /--threads: expected an integer/);
  const unknown = spawnSync(serverBinary(), ['--no-such-flag']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr.toString(), /unknown option --no-such-flag/);
  const noTls = spawnSync(serverBinary(), ['--listen', '127.0.0.1:0']);
  assert.equal(noTls.status, 2);
  assert.match(noTls.stderr.toString(), /TLS is required/);
  const dir = makeTempDir();
  const cfg = path.join(dir, 'c.json');
  writeFileSync(cfg, JSON.stringify({ listen: '127.0.0.1:0', dev: true, retention_events: -5 }));
  const badFile = spawnSync(serverBinary(), ['--config', cfg]);
  assert.equal(badFile.status, 2);
  assert.match(badFile.stderr.toString(), /retention_events/);
  const badEnv = spawnSync(serverBinary(), ['--dev'], { env: { ...process.env, GLOBEMEET_HEARTBEAT_MS: 'soon' } });
  assert.equal(badEnv.status, 2);
  assert.match(badEnv.stderr.toString(), /GLOBEMEET_HEARTBEAT_MS/);
});

test('a config file and the environment configure the server', async () => {
  const dir = makeTempDir();
  const cfg = path.join(dir, 'c.json');
  writeFileSync(cfg, JSON.stringify({ heartbeat_ms: 1234, allowed_origins: ['https://a.example'] }));
  const s = await startServer({ dir, args: ['--config', cfg], env: { GLOBEMEET_AUTH_TIMEOUT_MS: '4321' } });
  try {
    const token = await s.mint();
    const c = await connect(s, { token, headers: { Origin: 'https://a.example' } });
    const ready = await c.next('ready');
    assert.equal(ready.heartbeat_ms, 1234);
    await c.close();
  } finally {
    await s.stop();
  }
});

test('health, readiness, catalogue and JWKS', async () => {
  assert.equal((await get('/healthz')).status, 200);
  const ready = await get('/readyz');
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready' });
  const topics = await get('/v1/topics');
  assert.equal(topics.status, 200);
  const catalogue = await topics.json();
  assert.equal(catalogue.types.length, 20);
  assert.ok(catalogue.types.some((t) => t.type === 'queue.depth-changed'));
  const jwks = await (await get('/.well-known/jwks.json')).json();
  assert.ok(Array.isArray(jwks.keys));
  assert.ok(jwks.keys.length >= 1, 'the ephemeral ES256 signing key is published');
  assert.ok(jwks.keys.every((k) => k.kty !== 'oct' && k.d === undefined), 'never a secret');
});

test('unknown route 404, wrong method 405, both JSON', async () => {
  const missing = await get('/nope');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error, 'not_found');
  const wrong = await get('/v1/topics', { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal((await wrong.json()).error, 'method_not_allowed');
  assert.equal((await get('/oauth/token')).status, 405);
  const plainGet = await get('/v1/events');
  assert.equal(plainGet.status, 426);
});

test('metrics are Prometheus text without per-topic labels', async () => {
  const res = await get('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/plain/);
  const text = await res.text();
  for (const name of ['globemeet_connections', 'globemeet_subscriptions', 'globemeet_events_in_total',
    'globemeet_events_out_total', 'globemeet_replayed_total', 'globemeet_dropped_total',
    'globemeet_overflow_closes_total', 'globemeet_delivery_latency_seconds_bucket']) {
    assert.match(text, new RegExp(`^${name}`, 'm'), name);
  }
  assert.doesNotMatch(text, /topic=|tenant=|sub=/);
});

test('publish refuses missing, invalid and non-publisher tokens', async () => {
  const none = await fetch(`${server.httpUrl}/v1/events`, { method: 'POST', body: '{}' });
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error, 'invalid_token');
  const forged = await publish(server, 'not.a.jwt', depthEvent());
  assert.equal(forged.status, 401);
  const reader = await server.mint({ pub: false });
  const notPub = await publish(server, reader, depthEvent());
  assert.equal(notPub.status, 403);
  assert.equal(notPub.body.error, 'forbidden');
});

test('publish validates the body all-or-nothing', async () => {
  const token = await server.mint({ pub: true });
  const badJson = await publish(server, token, '{"type":');
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.error, 'bad_json');
  const dup = await publish(server, token, '{"type":"agent.online","type":"agent.online"}');
  assert.equal(dup.status, 400);
  const invalid = await publish(server, token, { events: [depthEvent(), { type: 'queue.depth-changed', subject: 'x', data: { queue_id: 'x', depth: -1, longest_wait_seconds: 1 } }] });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.error, 'invalid_event');
  assert.match(invalid.body.message, /events\[1\]/);
  const unknownType = await publish(server, token, { type: 'queue.exploded', subject: 'x', data: {} });
  assert.equal(unknownType.status, 400);
  const big = await publish(server, token, { type: 'agent.online', subject: 'a', data: { agent_id: 'a', pad: 'x'.repeat(1100000) } });
  assert.equal(big.status, 413);
  assert.equal(big.body.error, 'payload_too_large');
  const wrongType = await fetch(`${server.httpUrl}/v1/events`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body: JSON.stringify(depthEvent()),
  });
  assert.equal(wrongType.status, 415);
  // No Content-Type at all is refused too (Node's http sends none for a Buffer body); the
  // parameter form `application/json; charset=utf-8` is fine.
  const untyped = await new Promise((resolve, reject) => {
    const body = Buffer.from(JSON.stringify(depthEvent()));
    const req = httpRequest(`${server.httpUrl}/v1/events`, { method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(untyped.status, 415);
  assert.equal(untyped.body.error, 'unsupported_media_type');
  assert.match(untyped.body.message, /send Content-Type: application\/json/);
  const withCharset = await fetch(`${server.httpUrl}/v1/events`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(depthEvent()),
  });
  assert.equal(withCharset.status, 200);
  // Nothing of the refused batch was stored: the next id follows the previous accepted one.
  const a = await publish(server, token, depthEvent());
  const b = await publish(server, token, { events: [depthEvent('x', 1), depthEvent('y', 2)] });
  assert.equal(a.status, 200);
  assert.equal(b.body.ids.length, 2);
  const seq = (id) => Number(id.split('-')[1]);
  assert.equal(seq(b.body.ids[0]), seq(a.body.ids[0]) + 1);
  assert.equal(seq(b.body.ids[1]), seq(a.body.ids[0]) + 2);
});

test('an event frame is JSON whatever numbers the publisher wrote', async () => {
  // Issue 10: the publish path stored 0e309 as NaN and 1.7976931348623158e308 as Infinity, and
  // refused nesting deeper than 32, all strict JSON. The frames must parse and keep the text.
  const { client } = await connectReady(server);
  assert.equal((await subscribe(client, ['queue.>', 'qa.>'])).op, 'subscribed');
  const raw = [];
  client.ws.on('message', (data) => raw.push(data.toString()));
  const token = await server.mint({ pub: true });
  const deep = `${'['.repeat(62)}0${']'.repeat(62)}`;  // the body is level 1, data level 2
  const bodies = [
    '{"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":1,"longest_wait_seconds":2,"":0e309}}',
    '{"type":"qa.scorecard-saved","subject":"support","data":{"scorecard_id":"qa-1","session_id":"s-1","agent_id":"a-1","score":1.7976931348623158e308}}',
    '{"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":2.2250738585072011e-308,"longest_wait_seconds":1.0}}',
    `{"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":0,"longest_wait_seconds":0,"deep":${deep}}}`,
  ];
  for (const body of bodies) {
    const res = await publish(server, token, body);
    assert.equal(res.status, 200, res.text);
  }
  const events = [];
  for (let i = 0; i < bodies.length; i++) events.push(await client.next('event'));
  assert.equal(events[0].data[''], 0);
  assert.equal(events[1].data.score, Number.MAX_VALUE);
  assert.equal(events[2].data.depth, 2.225073858507201e-308);
  const frames = raw.filter((text) => text.includes('"op":"event"'));
  assert.equal(frames.length, bodies.length);
  for (const [i, body] of bodies.entries()) {
    const data = body.slice(body.indexOf('"data":') + '"data":'.length, -1);
    assert.ok(frames[i].endsWith(`"data":${data}}`), frames[i]);
  }
  await client.close();
});

async function requestToken(clientId, secret, form = 'grant_type=client_credentials') {
  const res = await fetch(`${server.httpUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: form,
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

test('OAuth client credentials: token -> publish -> WebSocket delivery, end to end', async () => {
  const bad = await requestToken('wallboard', 'wrong secret');
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'invalid_client');
  const badGrant = await requestToken('wallboard', CLIENT_SECRET, 'grant_type=password');
  assert.equal(badGrant.status, 400);
  // The secret followed by NUL bytes (HMAC pads its key with zeros): refused in Basic and body.
  for (const padded of [`${CLIENT_SECRET}\0`, `${CLIENT_SECRET}\0\0`]) {
    assert.equal((await requestToken('wallboard', padded)).status, 401);
  }
  const paddedBody = await fetch(`${server.httpUrl}/oauth/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=wallboard&client_secret=${encodeURIComponent(CLIENT_SECRET)}%00%00`,
  });
  assert.equal(paddedBody.status, 401);
  assert.equal((await paddedBody.json()).error, 'invalid_client');

  const reader = await requestToken('wallboard', CLIENT_SECRET);
  assert.equal(reader.status, 200);
  assert.equal(reader.body.token_type, 'Bearer');
  assert.equal(reader.headers.get('cache-control'), 'no-store');
  const pub = await requestToken('crm-bridge', CLIENT_SECRET);
  assert.equal(pub.status, 200);

  const client = await connect(server, { token: reader.body.access_token });
  const ready = await client.next('ready');
  assert.equal(ready.sub, 'wallboard');
  assert.equal(ready.tenant, 'acme');
  assert.equal((await subscribe(client, ['queue.>'])).op, 'subscribed');
  const forbidden = await subscribe(client, ['agent.>']);
  assert.equal(forbidden.code, 'forbidden_topic');

  const res = await publish(server, pub.body.access_token, depthEvent('sales', 3));
  assert.equal(res.status, 200);
  const ev = await client.next('event');
  assert.equal(ev.id, res.body.ids[0]);
  // The reader's token may not publish.
  assert.equal((await publish(server, reader.body.access_token, depthEvent())).status, 403);
  await client.close();

  // No token or secret ever reaches the logs.
  const logText = JSON.stringify(server.logs);
  assert.ok(!logText.includes(reader.body.access_token));
  assert.ok(!logText.includes(CLIENT_SECRET));
  assert.equal(ISSUER, 'test-issuer');
});

async function tokenFrom(s, clientId, secret) {
  const res = await fetch(`${s.httpUrl}/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

test('--dev prints a dev secret and a dev OAuth client that work', async () => {
  const s = await startServer({ secretFile: false });
  try {
    const creds = s.logs.find((l) => l.msg === 'dev_credentials');
    assert.ok(creds);
    assert.equal(creds.hs256_kid, 'dev');
    const { mintToken } = await import('./helpers/server.mjs');
    const hsToken = await mintToken(creds.hs256_secret, { tenant: 'dev' });
    const c1 = await connect(s, { token: hsToken });
    await c1.next('ready');
    const issued = await tokenFrom(s, creds.client_id, creds.client_secret);
    const header = JSON.parse(Buffer.from(issued.split('.')[0], 'base64url').toString());
    assert.equal(header.alg, 'ES256');
    const jwks = await (await fetch(`${s.httpUrl}/.well-known/jwks.json`)).json();
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), 'the ephemeral key is published');
    await subscribe(c1, ['>']);
    const res = await publish(s, issued, depthEvent('dev-q'));
    assert.equal(res.status, 200);
    assert.equal((await c1.next('event')).id, res.body.ids[0]);
    await c1.close();
  } finally {
    await s.stop();
  }
});

test('--signing-key signs issued tokens with the operator key (RS256)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const dir = makeTempDir();
  const keyDir = makeTempDir();  // outlives both servers (stop() removes a server's own dir)
  t.after(() => rmSync(keyDir, { recursive: true, force: true }));
  const keyFile = path.join(keyDir, 'signing.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile], { stdio: 'ignore' });
  const clientsFile = path.join(keyDir, 'clients.json');
  writeFileSync(clientsFile, JSON.stringify({ clients: [
    { client_id: 'svc', secret_hash: clientSecretHash, tenant: 'acme', perms: ['>'], publish: true }] }));
  const s = await startServer({ dir, args: ['--signing-key', keyFile, '--clients', clientsFile] });
  try {
    const issued = await tokenFrom(s, 'svc', encodeURIComponent(CLIENT_SECRET));
    const header = JSON.parse(Buffer.from(issued.split('.')[0], 'base64url').toString());
    assert.equal(header.alg, 'RS256');
    const jwks = await (await fetch(`${s.httpUrl}/.well-known/jwks.json`)).json();
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    assert.equal(jwk.kty, 'RSA');
    const { calculateJwkThumbprint } = await import('jose');
    assert.equal(header.kid, await calculateJwkThumbprint(jwk, 'sha256'), 'kid is the RFC 7638 thumbprint');
    const c = await connect(s, { token: issued });
    assert.equal((await c.next('ready')).sub, 'svc');
    await c.close();
    // The same key file after a restart keeps its kid, so tokens issued before still verify.
    await s.stop();
    const again = await startServer({ args: ['--signing-key', keyFile, '--clients', clientsFile] });
    try {
      const c2 = await connect(again, { token: issued });
      assert.equal((await c2.next('ready')).sub, 'svc');
      await c2.close();
    } finally {
      await again.stop();
    }
  } finally {
    await s.stop();
  }
});
