// TLS 1.3 (a self-signed certificate made with `openssl req` in the test's temp dir; TLS 1.2
// refused) and graceful shutdown on SIGTERM (readiness 503, `closing` + 1001, exit 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
