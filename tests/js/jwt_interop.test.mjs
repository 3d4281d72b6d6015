// Cross-checks the C++ auth library (server/auth) against the npm package `jose`: tokens jose
// signs are verified by the C++ verifier, malicious tokens are refused with the documented
// errors, and tokens the C++ signer makes verify in jose through the exported JWKS.
// The C++ side runs as tests/server/auth/jwt_tool from the native build directory
// (build/native, or $GLOBEMEET_BUILD_DIR).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SignJWT, UnsecuredJWT, base64url, createLocalJWKSet, exportJWK, exportPKCS8, exportSPKI,
  generateKeyPair, jwtVerify,
} from 'jose';
import { spawnSyncWithInput } from './helpers/input_file.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = resolve(repo, process.env.GLOBEMEET_BUILD_DIR ?? 'build/native');
const tool = join(buildDir, 'tests', 'server', 'auth', 'jwt_tool');

const ISS = 'https://auth.interop.test';
const AUD = 'globemeet-events';
const NOW = Math.floor(Date.now() / 1000);
const HS_SECRET = new TextEncoder().encode('interop-development-secret-of-32+bytes');

let dir;
let keys;  // { es, rs, p384 } key pairs from jose
let jwksFile;     // the EC and RSA public keys
let devJwksFile;  // the same plus an oct (HS256) key, for development mode

// The token goes in through a file: `verify` refuses a bad key set before it has a token to
// read, and with spawnSync's `input` that race made the write fail with EPIPE.
function run(args, input = '') {
  const r = spawnSyncWithInput(tool, args, input, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status === 2) throw new Error(`jwt_tool usage error: ${r.stderr}`);
  return { status: r.status, out: JSON.parse(r.stdout) };
}

// Verifies with the production key set (EC and RSA), or with `dev()` the development set that
// also holds the HS256 key, loaded with --allow-oct.
function verify(token, { jwks = jwksFile, allowOct = false } = {}) {
  return run(['verify', '--jwks', jwks, ...(allowOct ? ['--allow-oct'] : []),
    '--iss', ISS, '--aud', AUD, '--now', String(NOW)], token);
}

const dev = () => ({ jwks: devJwksFile, allowOct: true });

function claims(overrides = {}) {
  return { sub: 'svc-1', tenant: 'acme', perms: ['queue.>', 'agent.*.online'], ...overrides };
}

async function joseToken(key, alg, kid, { payload = claims(), aud = AUD, iat = NOW, exp = NOW + 900 } = {}) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(ISS)
    .setAudience(aud)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key);
}

// A compact JWS of exactly these header and payload texts, HMAC-signed (for duplicate-member
// tokens, which no JOSE library will produce).
async function rawHs256(headerText, payloadText, secret = HS_SECRET) {
  const input = `${base64url.encode(headerText)}.${base64url.encode(payloadText)}`;
  const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input)));
  return `${input}.${base64url.encode(mac)}`;
}

function expectRefusal(result, code, message) {
  assert.equal(result.status, 1, JSON.stringify(result.out));
  assert.deepEqual(result.out, { error: { code, message } });
}

before(async () => {
  assert.ok(existsSync(tool), `${tool} is missing: build the target jwt_tool first`);
  dir = mkdtempSync(join(tmpdir(), 'globemeet-jwt-'));
  keys = {
    es: await generateKeyPair('ES256', { extractable: true }),
    rs: await generateKeyPair('RS256', { modulusLength: 2048, extractable: true }),
    p384: await generateKeyPair('ES384', { extractable: true }),
  };
  const production = [
    { ...(await exportJWK(keys.es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
    { ...(await exportJWK(keys.rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
  ];
  jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: production }));
  devJwksFile = join(dir, 'dev-jwks.json');
  writeFileSync(devJwksFile, JSON.stringify({
    keys: [...production, { kty: 'oct', k: base64url.encode(HS_SECRET), kid: 'hs-1', alg: 'HS256' }],
  }));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('jose ES256, RS256 and HS256 tokens verify in C++ with the same claims', async () => {
  const expected = {
    sub: 'svc-1', tenant: 'acme', perms: ['queue.>', 'agent.*.online'], pub: false,
    exp: NOW + 900, iat: NOW, iss: ISS, aud: [AUD],
  };
  for (const [key, alg, kid] of [[keys.es.privateKey, 'ES256', 'es-1'], [keys.rs.privateKey, 'RS256', 'rs-1'],
    [HS_SECRET, 'HS256', 'hs-1']]) {
    const r = verify(await joseToken(key, alg, kid), dev());
    assert.equal(r.status, 0, `${alg}: ${JSON.stringify(r.out)}`);
    assert.deepEqual(r.out, expected, alg);
  }
});

test('pub, nbf and an audience array come through', async () => {
  const token = await new SignJWT(claims({ pub: true }))
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
    .setIssuer(ISS).setAudience(['other', AUD]).setIssuedAt(NOW).setNotBefore(NOW - 5).setExpirationTime(NOW + 60)
    .sign(keys.es.privateKey);
  const r = verify(token);
  assert.equal(r.status, 0, JSON.stringify(r.out));
  assert.equal(r.out.pub, true);
  assert.equal(r.out.nbf, NOW - 5);
  assert.deepEqual(r.out.aud, ['other', AUD]);
});

test('an oct key in the JWKS is refused unless development mode allows it', async () => {
  expectRefusal(verify(await joseToken(HS_SECRET, 'HS256', 'hs-1'), { jwks: devJwksFile }), 'invalid_key',
    "JWKS keys[2] (kid 'hs-1'): kty 'oct' (shared secret) is not allowed here: enable it for development only");
});

test('alg none from jose is refused', async () => {
  const token = new UnsecuredJWT(claims()).setIssuer(ISS).setAudience(AUD).setIssuedAt(NOW)
    .setExpirationTime(NOW + 900).encode();
  expectRefusal(verify(token), 'invalid_token', "alg 'none' is not allowed");
});

test('HS256 signed with the RSA public key as the secret is refused', async () => {
  const pem = new TextEncoder().encode(await exportSPKI(keys.rs.publicKey));
  const forged = await joseToken(pem, 'HS256', 'rs-1');
  expectRefusal(verify(forged, dev()), 'invalid_token', "alg 'HS256' does not match kid 'rs-1', which is RS256");
  // Also when the attacker sends the RSA key's JWK as if it were an HMAC key.
  const jwkBytes = new TextEncoder().encode(JSON.stringify(await exportJWK(keys.rs.publicKey)));
  expectRefusal(verify(await joseToken(jwkBytes, 'HS256', 'rs-1')), 'invalid_token',
    "alg 'HS256' does not match kid 'rs-1', which is RS256");
});

test('ES384 and a P-384 key posing as the ES256 key are refused', async () => {
  expectRefusal(verify(await joseToken(keys.p384.privateKey, 'ES384', 'es-1')), 'invalid_token',
    "alg 'ES384' is not allowed");
  // Same signature bytes under an ES256 header: wrong length for P-256.
  const es384 = await joseToken(keys.p384.privateKey, 'ES384', 'es-1');
  const [, payload, signature] = es384.split('.');
  const header = base64url.encode(JSON.stringify({ alg: 'ES256', kid: 'es-1' }));
  expectRefusal(verify(`${header}.${payload}.${signature}`), 'invalid_token', 'signature does not verify');
});

test('a key that is not in the set, a tampered payload, a truncated signature', async () => {
  const other = await generateKeyPair('ES256');
  expectRefusal(verify(await joseToken(other.privateKey, 'ES256', 'es-2')), 'invalid_token', "kid 'es-2' is unknown");
  expectRefusal(verify(await joseToken(other.privateKey, 'ES256', 'es-1')), 'invalid_token', 'signature does not verify');

  const token = await joseToken(keys.es.privateKey, 'ES256', 'es-1');
  const [header, , signature] = token.split('.');
  const evil = base64url.encode(JSON.stringify({ ...claims({ tenant: 'globex' }), iss: ISS, aud: AUD, iat: NOW, exp: NOW + 900 }));
  expectRefusal(verify(`${header}.${evil}.${signature}`), 'invalid_token', 'signature does not verify');

  const raw = base64url.decode(signature);
  assert.equal(raw.length, 64);  // jose also writes R||S
  const truncated = `${token.slice(0, token.lastIndexOf('.'))}.${base64url.encode(raw.slice(0, 63))}`;
  expectRefusal(verify(truncated), 'invalid_token', 'signature does not verify');
});

test('expiry, nbf, iat and audience are enforced with a 30 s leeway', async () => {
  expectRefusal(verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { iat: NOW - 1000, exp: NOW - 31 })),
    'token_expired', `token expired at ${NOW - 31} (exp)`);
  assert.equal(verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { iat: NOW - 1000, exp: NOW - 29 })).status, 0);
  const early = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
    .setIssuer(ISS).setAudience(AUD).setIssuedAt(NOW).setNotBefore(NOW + 120).setExpirationTime(NOW + 900)
    .sign(keys.es.privateKey);
  expectRefusal(verify(early), 'invalid_token', `token is not valid before ${NOW + 120} (nbf)`);
  expectRefusal(verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { iat: NOW + 120, exp: NOW + 900 })),
    'invalid_token', 'iat is in the future');
  expectRefusal(verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { aud: 'someone-else' })),
    'invalid_token', "aud does not include 'globemeet-events'");
  const wrongIss = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
    .setIssuer('https://evil.test').setAudience(AUD).setIssuedAt(NOW).setExpirationTime(NOW + 900)
    .sign(keys.es.privateKey);
  expectRefusal(verify(wrongIss), 'invalid_token', "iss 'https://evil.test' is not the expected issuer");
});

test('missing or mistyped GlobeMeet claims are refused', async () => {
  const { perms, ...noPerms } = claims();
  assert.ok(perms);
  expectRefusal(verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { payload: noPerms })),
    'invalid_token', "claim 'perms' is missing");
  const badPattern = verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { payload: claims({ perms: ['queue..x'] }) }));
  assert.equal(badPattern.status, 1);
  assert.equal(badPattern.out.error.code, 'invalid_token');
  assert.match(badPattern.out.error.message, /^claim 'perms'\[0\]: /);
  expectRefusal(verify(await joseToken(keys.es.privateKey, 'ES256', 'es-1', { payload: claims({ pub: 'yes' }) })),
    'invalid_token', "claim 'pub' must be a boolean");
});

test('duplicate member names and oversize tokens are refused', async () => {
  const payload = JSON.stringify({ ...claims(), iss: ISS, aud: AUD, iat: NOW, exp: NOW + 900 });
  const dupHeader = await rawHs256('{"alg":"HS256","kid":"hs-1","kid":"hs-1"}', payload);
  expectRefusal(verify(dupHeader, dev()), 'invalid_token', "header: duplicate member name 'kid' in the top-level object");
  const dupPayload = await rawHs256('{"alg":"HS256","kid":"hs-1"}', payload.replace('{', '{"tenant":"globex",'));
  expectRefusal(verify(dupPayload, dev()), 'invalid_token', "payload: duplicate member name 'tenant' in the top-level object");
  const big = await joseToken(keys.es.privateKey, 'ES256', 'es-1', { payload: claims({ pad: 'x'.repeat(16384) }) });
  expectRefusal(verify(big), 'invalid_token', 'token is larger than 16384 bytes');
});

test('jose verifies ES256 tokens the C++ signer makes, through its exported JWKS', async () => {
  const out = join(dir, 'cpp-jwks.json');
  const r = spawnSync(tool, ['sign', '--generate-es256', '--kid', 'cpp-1', '--jwks-out', out, '--iss', ISS,
    '--aud', AUD, '--sub', 'svc-9', '--tenant', 'acme', '--perm', 'queue.>', '--perm', 'session.*.ended', '--pub',
    '--iat', String(NOW), '--exp', String(NOW + 900)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const jwks = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(Object.keys(jwks.keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  const { payload, protectedHeader } = await jwtVerify(r.stdout.trim(), createLocalJWKSet(jwks), {
    issuer: ISS, audience: AUD, algorithms: ['ES256'], currentDate: new Date(NOW * 1000),
  });
  assert.deepEqual(protectedHeader, { alg: 'ES256', typ: 'JWT', kid: 'cpp-1' });
  assert.deepEqual(payload, {
    iss: ISS, sub: 'svc-9', aud: AUD, iat: NOW, exp: NOW + 900, tenant: 'acme',
    perms: ['queue.>', 'session.*.ended'], pub: true,
  });
  await assert.rejects(jwtVerify(r.stdout.trim(), createLocalJWKSet(jwks), { audience: 'other', currentDate: new Date(NOW * 1000) }));
});

test('jose verifies RS256 and HS256 tokens the C++ signer makes', async () => {
  const pemFile = join(dir, 'rs.pem');
  writeFileSync(pemFile, await exportPKCS8(keys.rs.privateKey));
  const secretFile = join(dir, 'hs.secret');
  writeFileSync(secretFile, HS_SECRET);
  const common = ['--iss', ISS, '--aud', AUD, '--sub', 's', '--tenant', 't', '--iat', String(NOW), '--exp', String(NOW + 60)];
  const rsOut = join(dir, 'rs-jwks.json');
  const rs = spawnSync(tool, ['sign', '--key-pem', pemFile, '--kid', 'rs-c', '--jwks-out', rsOut, ...common], { encoding: 'utf8' });
  assert.equal(rs.status, 0, rs.stderr);
  const rsJwks = JSON.parse(readFileSync(rsOut, 'utf8'));
  assert.equal(rsJwks.keys[0].n, (await exportJWK(keys.rs.publicKey)).n);  // the same key, exported by both
  const verifiedRs = await jwtVerify(rs.stdout.trim(), createLocalJWKSet(rsJwks), {
    issuer: ISS, audience: AUD, algorithms: ['RS256'], currentDate: new Date(NOW * 1000),
  });
  assert.deepEqual(verifiedRs.payload.perms, []);
  assert.equal(verifiedRs.payload.pub, false);

  const hs = spawnSync(tool, ['sign', '--hs256-secret-file', secretFile, '--kid', 'hs-c', ...common], { encoding: 'utf8' });
  assert.equal(hs.status, 0, hs.stderr);
  const verifiedHs = await jwtVerify(hs.stdout.trim(), HS_SECRET, {
    issuer: ISS, audience: AUD, algorithms: ['HS256'], currentDate: new Date(NOW * 1000),
  });
  assert.equal(verifiedHs.protectedHeader.kid, 'hs-c');
});
