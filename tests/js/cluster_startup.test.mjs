// Starting a node on --log jetstream, against one real nats-server: unreachable JetStream is
// said and retried (/readyz 503, handshakes 503) until it comes; a stream the node cannot use
// stops it at start with a message naming the stream; the stream's epoch survives a restart of
// every process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, makeTempDir, connect, mintToken, sleep } from './helpers/server.mjs';
import { freePort, sharedSecret, untilReady, waitFor } from './helpers/cluster.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function natsServer(port, dir) {
  const proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const stop = async () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); await exited; };
  cleanups.push(stop);
  return { proc, stop };
}

async function untilListening(port) {
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), `nats-server on ${port}`);
}

// A JetStream API request over the plain NATS protocol (no client library in the tests).
async function jsRequest(port, subject, body) {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d) => { text += d; });
  await new Promise((resolve) => socket.once('connect', resolve));
  const payload = JSON.stringify(body);
  socket.write(`CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.t 1\r\n` +
    `PUB ${subject} _INBOX.t ${Buffer.byteLength(payload)}\r\n${payload}\r\nPING\r\n`);
  await waitFor(() => text.includes('MSG _INBOX.t'), `an answer to ${subject}`, 10000);
  socket.destroy();
  return text;
}

test('JetStream unreachable at start: the node says so, answers 503 and connects once it is there', async () => {
  const port = await freePort();
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const secret = sharedSecret();
  const node = await startServer({ secret, args: ['--log', 'jetstream', '--nats', `nats://127.0.0.1:${port}`] });
  cleanups.push(() => node.stop());
  assert.ok(node.logs.some((l) => l.msg === 'jetstream_unreachable'), 'the node says JetStream is unreachable');
  const ready = await fetch(`${node.httpUrl}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal((await ready.json()).status, 'log_unavailable');
  await assert.rejects(connect(node, { token: await mintToken(secret, {}) }), (err) => err.status === 503 && err.body.error === 'log_unavailable');

  const nats = natsServer(port, path.join(dir, 'js'));
  await untilListening(port);
  await untilReady(node, 30000);
  const client = await connect(node, { token: await mintToken(secret, {}) });
  const first = await client.next('ready');
  assert.match(first.head, /^[0-9a-f]{16}-0$/, 'a fresh stream: the position before its first event');
  await client.close();

  // Everything restarts: the stream keeps its epoch, so ids go on.
  await node.kill('SIGTERM');
  await nats.stop();
  const again = natsServer(port, path.join(dir, 'js'));
  await untilListening(port);
  const node2 = await startServer({ secret, args: ['--log', 'jetstream', '--nats', `nats://127.0.0.1:${port}`] });
  cleanups.push(() => node2.stop());
  await untilReady(node2);
  const c2 = await connect(node2, { token: await mintToken(secret, {}) });
  assert.equal((await c2.next('ready')).head, first.head, 'the same epoch after restarting NATS and the node');
  await c2.close();
  await again.stop();
});

test('a stream the node cannot use stops it at start with a message naming the stream', async () => {
  const port = await freePort();
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  natsServer(port, path.join(dir, 'js'));
  await untilListening(port);
  await sleep(200);
  const created = await jsRequest(port, '$JS.API.STREAM.CREATE.GLOBEMEET',
    { name: 'GLOBEMEET', subjects: ['other.>'], storage: 'memory', retention: 'limits', num_replicas: 1 });
  assert.ok(created.includes('"config"'), created);
  const node = startServer({ args: ['--log', 'jetstream', '--nats', `nats://127.0.0.1:${port}`] });
  await assert.rejects(node, (err) => /exited 2/.test(err.message) && /JetStream stream GLOBEMEET/.test(err.message) &&
    /nats stream rm GLOBEMEET/.test(err.message));
});
