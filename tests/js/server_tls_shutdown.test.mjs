// TLS 1.3 (a self-signed certificate made with `openssl req` in the test's temp dir; TLS 1.2
// refused) and graceful shutdown on SIGTERM (readiness 503, `closing` + 1001, exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import {
  startServer, makeTempDir, connect, connectReady, subscribe, depthEvent,
} from './helpers/server.mjs';

function selfSigned(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  return { cert, key };
}

function tlsHandshake(port, options) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const protocol = socket.getProtocol();
      socket.destroy();
      resolve({ ok: true, protocol });
    });
    socket.on('error', (err) => resolve({ ok: false, err }));
  });
}

test('TLS 1.3: wss round trip; TLS 1.2 is refused', async () => {
  const dir = makeTempDir();
  const { cert, key } = selfSigned(dir);
  const s = await startServer({ dir, plain: false, args: ['--tls-cert', cert, '--tls-key', key] });
  try {
    assert.ok(s.wsUrl.startsWith('wss://'));
    const v13 = await tlsHandshake(s.port, { minVersion: 'TLSv1.3' });
    assert.equal(v13.ok, true);
    assert.equal(v13.protocol, 'TLSv1.3');
    const v12 = await tlsHandshake(s.port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(v12.ok, false, 'TLS 1.2 must be refused');

    const { client } = await connectReady(s);
    await subscribe(client, ['queue.>']);
    // fetch refuses self-signed certificates: publish over a raw TLS socket instead.
    const pubToken = await s.mint({ pub: true });
    const published = await new Promise((resolve, reject) => {
      const body = JSON.stringify(depthEvent('tls', 1));
      const socket = tls.connect({ host: '127.0.0.1', port: s.port, rejectUnauthorized: false }, () => {
        socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${pubToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      });
      let data = '';
      socket.on('data', (d) => { data += d; });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(published, /^HTTP\/1\.1 200/);
    const ids = JSON.parse(published.slice(published.indexOf('\r\n\r\n') + 4)).ids;
    assert.equal((await client.next('event')).id, ids[0]);
    await client.close();
  } finally {
    await s.stop();
  }
});

test('plain HTTP to a TLS port gets no service', async () => {
  const dir = makeTempDir();
  const { cert, key } = selfSigned(dir);
  const s = await startServer({ dir, plain: false, args: ['--tls-cert', cert, '--tls-key', key] });
  try {
    const res = await fetch(`http://127.0.0.1:${s.port}/healthz`).then((r) => r.status, () => 'refused');
    assert.equal(res, 'refused');
  } finally {
    await s.stop();
  }
});

function rawHttp(socket, request) {
  return new Promise((resolve) => {
    let data = '';
    const onData = (d) => {
      data += d;
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0) {
        const len = Number((/content-length: (\d+)/i.exec(data) || [0, 0])[1]);
        if (data.length >= end + 4 + len) { socket.off('data', onData); resolve(data); }
      }
    };
    socket.on('data', onData);
    socket.write(request);
  });
}

test('SIGTERM: readiness 503, closing + 1001 to every client, exit 0', async () => {
  const s = await startServer({ args: ['--drain-ms', '3000', '--reconnect-after-ms', '1500'] });
  const { client: a } = await connectReady(s);
  const { client: b } = await connectReady(s, { sub: 'b' });
  await subscribe(a, ['>']);
  // A kept-alive HTTP connection opened before the signal still answers /readyz after it.
  const http = net.connect(s.port, '127.0.0.1');
  await new Promise((r) => http.once('connect', r));
  const before = await rawHttp(http, 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(before, /^HTTP\/1\.1 200/);

  // Keep client b from answering the close so the drain lasts while we ask /readyz.
  b.ws._socket.pause();
  s.proc.kill('SIGTERM');
  const closingA = await a.next('closing');
  assert.deepEqual(closingA, { op: 'closing', reason: 'shutdown', reconnect_after_ms: 1500 });
  const during = await rawHttp(http, 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(during, /^HTTP\/1\.1 503/);
  assert.equal((await a.closed).code, 1001);
  b.ws._socket.resume();
  const closedB = await b.closed;
  assert.ok([1001, 1006].includes(closedB.code));
  const { code } = await s.exited;
  assert.equal(code, 0);
  http.destroy();
  assert.ok(s.logs.some((l) => l.msg === 'shutdown'));
  await s.stop();
});

test('new connections are refused once the server drains', async () => {
  const s = await startServer({ args: ['--drain-ms', '2000'] });
  const { client } = await connectReady(s);
  client.ws._socket.pause();  // holds the drain open
  s.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(connect(s, { token: await s.mint() }));
  client.ws._socket.resume();
  await s.exited;
  await s.stop();
});

// ---- close_notify: a TLS WebSocket ends with the close frame, then TLS close_notify, then TCP.
// Node's tls socket reports 'end' whether or not close_notify came, so `openssl s_client -msg`
// drives the connection: it prints every TLS record it receives, and "unexpected eof" when TCP
// ends without close_notify.

// A client frame (masked, as RFC 6455 requires of clients).
function clientFrame(opcode, payload) {
  const body = Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(body.map((b, i) => b ^ mask[i % 4]));
  const length = body.length < 126 ? Buffer.from([0x80 | body.length]) : Buffer.from([0x80 | 126, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask, masked]);
}
const closeFrame = (code) => clientFrame(0x8, Buffer.from([code >> 8, code & 0xff]));
const textFrame = (obj) => clientFrame(0x1, JSON.stringify(obj));

function upgradeRequest(token) {
  return `GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Protocol: globemeet-events.v1\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;
}

// Runs s_client against the server, writes `bytes` once the WebSocket is up (after `ready`, or
// after the 101 when there is no token), calls `whenUp` then; resolves with everything it
// printed (records received and sent, in order, and the application bytes) once it exits.
function sClient(port, { token, bytes = Buffer.alloc(0), whenUp = () => {} }) {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-quiet', '-msg'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let up = false;
    const onOutput = (d) => {
      out += d.toString('latin1');
      if (!up && (token ? out.includes('"op":"ready"') : out.includes('101 Switching Protocols'))) {
        up = true;
        child.stdin.write(bytes);
        whenUp();
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.on('exit', () => { clearTimeout(timer); resolve(out); });
    child.stdin.write(upgradeRequest(token));
  });
}

const CLOSE_NOTIFY_RECEIVED = '<<< TLS 1.3, Alert [length 0002], warning close_notify';

function assertEndsWithCloseNotify(out, closeCode) {
  // The server's close frame (FIN + close, its code), then close_notify, and no truncation.
  const frameStart = `\x88`;
  const codeBytes = String.fromCharCode(closeCode >> 8, closeCode & 0xff);
  let closeAt = out.indexOf(frameStart);
  while (closeAt >= 0 && out.slice(closeAt + 2, closeAt + 4) !== codeBytes) closeAt = out.indexOf(frameStart, closeAt + 1);
  assert.ok(closeAt >= 0, `no close frame with ${closeCode}:\n${out.slice(-3000)}`);
  const notifyAt = out.indexOf(CLOSE_NOTIFY_RECEIVED);
  assert.ok(notifyAt > closeAt, `no close_notify after the close frame:\n${out.slice(-3000)}`);
  assert.doesNotMatch(out, /unexpected eof/i);
}

test('TLS: the server ends a WebSocket with close_notify after the close frame (client close, 4401, drain 1001)', async () => {
  const dir = makeTempDir();
  const { cert, key } = selfSigned(dir);
  const s = await startServer({ dir, plain: false, args: ['--tls-cert', cert, '--tls-key', key, '--drain-ms', '3000'] });
  try {
    // The client closes (1000): the server echoes the close, then close_notify.
    const normal = await sClient(s.port, { token: await s.mint(), bytes: closeFrame(1000) });
    assertEndsWithCloseNotify(normal, 1000);

    // A bad token in an `auth` frame: close 4401; s_client never answers the close frame, so
    // close_notify follows once the server stops waiting for it.
    const refused = await sClient(s.port, { bytes: textFrame({ op: 'auth', token: 'not-a-jwt' }) });
    assertEndsWithCloseNotify(refused, 4401);

    // Shutdown: `closing`, close 1001, close_notify; the server still exits 0.
    const drained = await sClient(s.port, { token: await s.mint(), whenUp: () => s.proc.kill('SIGTERM') });
    assert.match(drained, /"op":"closing"/);
    assertEndsWithCloseNotify(drained, 1001);
    assert.equal((await s.exited).code, 0);
  } finally {
    await s.stop();
  }
});
