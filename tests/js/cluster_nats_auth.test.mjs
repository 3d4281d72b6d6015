// Authenticating to NATS (--log jetstream): a node connects to a nats-server that requires a
// user and password (--nats-user, --nats-password-file) or a token (--nats-token-file), and
// events flow through the stream; a wrong password keeps the node unready (503) and says why;
// conflicting or incomplete flags are usage errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, makeTempDir, connectReady, subscribe, publish, depthEvent, mintToken, serverBinary } from './helpers/server.mjs';
import { freePort, sharedSecret, untilReady, waitFor } from './helpers/cluster.mjs';

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

// One nats-server with JetStream and the given authentication flags (nats-server's own).
async function natsServer(authArgs) {
  const port = await freePort();
  const dir = makeTempDir();
  const proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, ...authArgs], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), `nats-server on ${port}`);
  return { url: `nats://127.0.0.1:${port}`, dir };
}

function secretFile(dir, name, text) {
  const file = path.join(dir, name);
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return file;
}

async function startNode(nats, args) {
  const secret = sharedSecret();
  const node = await startServer({ secret, args: ['--log', 'jetstream', '--nats', nats.url, ...args] });
  cleanups.push(() => node.stop());
  return { node, secret };
}

async function roundTrip(node, secret) {
  const { client } = await connectReady(node);
  await subscribe(client, ['queue.>']);
  const res = await publish(node, await mintToken(secret, { pub: true }), depthEvent('auth', 1));
  assert.equal(res.status, 200);
  assert.equal((await client.next('event')).id, res.body.ids[0]);
  await client.close();
}

test('--nats-user with --nats-password-file: the node reaches JetStream and events flow', async () => {
  const nats = await natsServer(['--user', 'globemeet', '--pass', 's3cret-pass']);
  const { node, secret } = await startNode(nats, ['--nats-user', 'globemeet', '--nats-password-file', secretFile(nats.dir, 'pw', 's3cret-pass')]);
  await untilReady(node);
  await roundTrip(node, secret);
  assert.ok(!JSON.stringify(node.logs).includes('s3cret-pass'), 'the password is never logged');
});

test('--nats-token-file: the node reaches JetStream and events flow', async () => {
  const nats = await natsServer(['--auth', 't0ken-value']);
  const { node, secret } = await startNode(nats, ['--nats-token-file', secretFile(nats.dir, 'token', 't0ken-value')]);
  await untilReady(node);
  await roundTrip(node, secret);
});

test('a wrong NATS password keeps the node unready and the log says why', async () => {
  const nats = await natsServer(['--user', 'globemeet', '--pass', 'right']);
  const { node } = await startNode(nats, ['--nats-user', 'globemeet', '--nats-password-file', secretFile(nats.dir, 'pw', 'wrong')]);
  const ready = await fetch(`${node.httpUrl}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal((await ready.json()).status, 'log_unavailable');
  const unreachable = node.logs.find((l) => l.msg === 'jetstream_unreachable');
  assert.match(unreachable?.detail ?? '', /authorization violation/i, JSON.stringify(node.logs));
  assert.ok(!JSON.stringify(node.logs).includes('"wrong"'));
});

test('NATS authentication flags: incomplete or conflicting ones are usage errors (exit 2)', () => {
  const dir = makeTempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const pw = secretFile(dir, 'pw', 'x');
  const run = (args) => spawnSync(serverBinary(), ['--dev', '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8' });
  const jetstream = ['--log', 'jetstream', '--nats', 'nats://127.0.0.1:4222'];
  const cases = [
    [[...jetstream, '--nats-user', 'u'], /--nats-user and --nats-password-file go together/],
    [[...jetstream, '--nats-password-file', pw], /--nats-user and --nats-password-file go together/],
    [[...jetstream, '--nats-user', 'u', '--nats-password-file', pw, '--nats-token-file', pw], /one way to authenticate to NATS/],
    [['--nats-token-file', pw], /are for --log jetstream/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
