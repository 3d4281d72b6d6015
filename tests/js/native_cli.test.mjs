// The native client library through its CLI (`globemeet`, platform/native) against the real
// server: pub -> sub round trip, resume without loss or duplicate across dropped connections
// (also before the first event) and overflow, reset after a server restart, a fresh token after
// a restart with a new signing key, token refresh on a live connection, final close codes, TLS
// with a development CA, and clean one-line failures (a wrong client secret for `sub` too); pub
// in batches over one connection, its idle flush, its per-batch errors and a fresh token after a
// 401; one default port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, makeTempDir, publish, depthEvent, sleep, oauthClient, serverBinary, until } from './helpers/server.mjs';
import { cli, runCli, startProxy } from './helpers/native_cli.mjs';

const devCredentials = (server) => {
  const line = server.logs.find((l) => l.msg === 'dev_credentials');
  return ['--client-id', line.client_id, '--client-secret', line.client_secret];
};

// Publishes `n` depth events on queue `queue` in batches; returns their ids in order.
async function publishMany(server, token, n, { queue = 'support', padding = 0, batch = 100 } = {}) {
  const ids = [];
  for (let i = 0; i < n; i += batch) {
    const events = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const ev = depthEvent(queue, j);
      if (padding) ev.data.padding = 'x'.repeat(padding);
      events.push(ev);
    }
    const res = await publish(server, token, { events });
    assert.equal(res.status, 200, res.text);
    ids.push(...res.body.ids);
  }
  return ids;
}

function assertExactly(received, expected) {
  const ids = received.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'no event is delivered twice');
  assert.deepEqual(ids, expected, 'every event, in order');
}

test('pub to sub round trip with client credentials; token prints a JWT', async () => {
  const s = await startServer();
  try {
    const creds = devCredentials(s);
    const token = await cli(['token', '--server', s.httpUrl, ...creds]);
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout[0], /^[\w-]+\.[\w-]+\.[\w-]+$/);

    const sub = runCli(['sub', '--server', s.httpUrl, ...creds, '--count', '3', 'queue.*.depth-changed']);
    await sub.untilStderr('connected to');
    const one = await cli(['pub', '--server', s.httpUrl, ...creds, '--type', 'queue.depth-changed', '--subject', 'support',
      '--data', '{"queue_id":"support","depth":4,"longest_wait_seconds":9}']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.length, 1);
    const lines = [
      '{"type":"agent.online","subject":"a-1","data":{"agent_id":"a-1"}}',
      '',
      JSON.stringify(depthEvent('sales', 2)),
      JSON.stringify(depthEvent('billing', 3)),
    ].join('\n');
    const many = await cli(['pub', '--server', s.httpUrl, ...creds], { input: `${lines}\n` });
    assert.equal(many.code, 0, many.stderr);
    assert.equal(many.stdout.length, 3);

    const { code } = await sub.finished();
    assert.equal(code, 0, sub.stderr);
    const events = sub.events;
    assert.deepEqual(events.map((e) => e.id), [one.stdout[0], many.stdout[1], many.stdout[2]]);
    assert.equal(events[0].op, 'event');
    assert.equal(events[0].topic, 'queue.support.depth-changed');
    assert.deepEqual(events[0].data, { queue_id: 'support', depth: 4, longest_wait_seconds: 9 });
    assert.equal(events[2].subject, 'billing');
  } finally {
    await s.stop();
  }
});

test('a connection dropped on a live server resumes with no loss and no duplicate', async () => {
  const s = await startServer();
  const proxy = await startProxy(s.port);
  try {
    const token = await s.mint({ perms: ['queue.>'] });
    const publisher = await s.mint({ sub: 'publisher', pub: true });
    const batch = 150;
    const cuts = 3;
    const total = batch * (cuts + 1);
    const sub = runCli(['sub', '--server', proxy.url, '--token', token, '--count', String(total), 'queue.>']);
    await sub.untilStderr('connected to');
    const expected = [];
    for (let round = 0; round < cuts; round++) {
      expected.push(...await publishMany(s, publisher, batch));
      // Some events of this batch may still be on the wire or unsent when the connection dies.
      await sub.untilLines(expected.length - 100);
      assert.ok(proxy.cutAll() >= 1);
      await sub.until(() => (sub.stderr.match(/reconnected/g) ?? []).length > round, `reconnect ${round + 1}`);
    }
    expected.push(...await publishMany(s, publisher, batch));
    const { code } = await sub.finished(30000);
    assert.equal(code, 0, sub.stderr);
    assertExactly(sub.events, expected);
    assert.ok((sub.stderr.match(/disconnected/g) ?? []).length >= 3, sub.stderr);
  } finally {
    await proxy.close();
    await s.stop();
  }
});

async function metric(server, name) {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
}

test('an outage before the first event loses nothing: sub resumes from {epoch}-0', async () => {
  const s = await startServer();
  const proxy = await startProxy(s.port);
  try {
    const token = await s.mint({ perms: ['queue.>'] });
    const publisher = await s.mint({ sub: 'publisher', pub: true });
    const sub = runCli(['sub', '--server', proxy.url, '--token', token, '--count', '3', 'queue.>']);
    await sub.untilStderr('connected to');
    await waitFor(async () => (await metric(s, 'globemeet_subscriptions')) === 1, 'the subscription');
    // `subscribed` (with the head the client keeps as its position) left the server with the
    // subscription; a moment for it to cross loopback before the cut.
    await sleep(300);
    assert.equal(proxy.cutAndHold(), 1);
    await sub.untilStderr('disconnected');
    const missed = await publishMany(s, publisher, 3);
    proxy.release();
    const { code } = await sub.finished();
    assert.equal(code, 0, sub.stderr);
    assertExactly(sub.events, missed);
    const epoch = missed[0].split('-')[0];
    assert.match(sub.stderr, new RegExp(`reconnected; resuming from ${epoch}-0, before the first event of its epoch`));
    assert.doesNotMatch(sub.stderr, /after the start|reset \(/, 'no event was lost, and none is claimed');
  } finally {
    await proxy.close();
    await s.stop();
  }
});

test('after a restart with a new signing key, sub with client credentials fetches a fresh token', async () => {
  const dir = makeTempDir();
  const identity = oauthClient(dir);
  const creds = ['--client-id', identity.clientId, '--client-secret', identity.secret];
  // No --signing-key: the server signs tokens with a key it makes at start, so a restart
  // refuses every token issued before, although none has expired.
  const first = await startServer({ args: identity.args });
  let second;
  try {
    const sub = runCli(['sub', '--server', first.httpUrl, ...creds, '--count', '2', 'queue.>']);
    await sub.untilStderr('connected to');
    const [before] = (await publish(first, await identity.tokenFrom(first), depthEvent('support', 1))).body.ids;
    await sub.untilLines(1);
    first.proc.kill('SIGTERM');
    await first.exited;
    second = await startServer({ args: ['--listen', `127.0.0.1:${first.port}`, ...identity.args] });
    await sub.untilStderr('fetching a new one', 20000);
    await sub.untilStderr('reset (epoch_changed)', 20000);
    const [after] = (await publish(second, await identity.tokenFrom(second), depthEvent('support', 2))).body.ids;
    const { code } = await sub.finished(20000);
    assert.equal(code, 0, sub.stderr);
    assert.deepEqual(sub.events.map((e) => e.id), [before, after]);
    assert.match(sub.stderr, /the server refused the token \(4401 [^)]*\); fetching a new one/);
    assert.equal((sub.stderr.match(/refused the token/g) ?? []).length, 1);
  } finally {
    if (second) await second.stop();
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a slow reader is dropped with overflow, then resumes with every event once', async () => {
  const s = await startServer({ args: ['--overflow-lag-ms', '300', '--max-queue-bytes', '262144'] });
  try {
    const token = await s.mint({ perms: ['>'] });
    const publisher = await s.mint({ sub: 'publisher', pub: true });
    const total = 400;
    const sub = runCli(['sub', '--server', s.httpUrl, '--token', token, '--count', String(total), '>']);
    await sub.untilStderr('connected to');
    // Stop reading the CLI's stdout: its handler blocks on a full pipe, so it stops reading the
    // socket, and the server's queue for it grows old and big.
    sub.proc.stdout.pause();
    const expected = await publishMany(s, publisher, total, { padding: 60_000, batch: 10 });
    await waitFor(() => s.logs.some((l) => l.msg === 'overflow'), 'the server to log overflow');
    sub.proc.stdout.resume();
    const { code } = await sub.finished(30000);
    assert.equal(code, 0, sub.stderr);
    assertExactly(sub.events, expected);
    assert.match(sub.stderr, /disconnected|overflow/);
  } finally {
    await s.stop();
  }
});

test('after a server restart the client reconnects and reports reset epoch_changed', async () => {
  const dir = makeTempDir();
  const first = await startServer({ dir, secret: 'x'.repeat(43) });
  const port = first.port;
  let second;
  try {
    const token = await first.mint({ perms: ['>'] });
    const sub = runCli(['sub', '--server', first.httpUrl, '--token', token, '--count', '2', '>']);
    await sub.untilStderr('connected to');
    const [before] = (await publish(first, await first.mint({ pub: true }), depthEvent('a', 1))).body.ids;
    await sub.untilLines(1);
    first.proc.kill('SIGTERM');
    await first.exited;
    second = await startServer({ dir, secret: 'x'.repeat(43), args: ['--listen', `127.0.0.1:${port}`] });
    await sub.untilStderr('reset (epoch_changed)', 20000);
    const [after] = (await publish(second, await second.mint({ pub: true }), depthEvent('b', 2))).body.ids;
    const { code } = await sub.finished(20000);
    assert.equal(code, 0, sub.stderr);
    assert.deepEqual(sub.events.map((e) => e.id), [before, after]);
    assert.notEqual(before.split('-')[0], after.split('-')[0], 'a new epoch');
  } finally {
    if (second) await second.stop();
    else await first.stop();
  }
});

test('the token is refreshed on a live connection before it expires', async () => {
  const s = await startServer({ args: ['--token-ttl-seconds', '3', '--token-grace-ms', '500'] });
  try {
    const creds = devCredentials(s);
    const sub = runCli(['sub', '--server', s.httpUrl, ...creds, '--count', '1', '>']);
    await sub.untilStderr('connected to');
    // Several lifetimes of the first token: without refresh the server would close with 4001.
    await sleep(7000);
    const pub = await cli(['pub', '--server', s.httpUrl, ...creds, '--type', 'agent.online', '--subject', 'a-9',
      '--data', '{"agent_id":"a-9"}']);
    assert.equal(pub.code, 0, pub.stderr);
    const { code } = await sub.finished();
    assert.equal(code, 0, sub.stderr);
    assert.deepEqual(sub.events.map((e) => e.id), pub.stdout);
    assert.doesNotMatch(sub.stderr, /disconnected/, 'the first connection stayed up');
    assert.equal(s.logs.filter((l) => l.msg === 'authenticated').length, 1, 'one connection only');
  } finally {
    await s.stop();
  }
});

test('a final close code stops reconnecting, even with --retry', async () => {
  const s = await startServer();
  try {
    const wrongAudience = await s.mint({ aud: 'someone-else' });
    const res = await cli(['sub', '--server', s.httpUrl, '--token', wrongAudience, '--retry', '>']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /4401/);
    const metrics = await (await fetch(`${s.httpUrl}/metrics`)).text();
    assert.match(metrics, /^globemeet_handshake_refusals_total 1$/m, 'no second attempt');
  } finally {
    await s.stop();
  }
});

// A development CA and a server certificate it signed for localhost and 127.0.0.1.
function devCa(dir) {
  const f = (name) => path.join(dir, name);
  const run = (args) => execFileSync('openssl', args, { stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=GlobeMeet test CA']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', f('key.pem'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '1', '-out', f('cert.pem'), '-extfile', f('san.ext')]);
  return { ca: f('ca.pem'), cert: f('cert.pem'), key: f('key.pem') };
}

test('TLS with a development CA works; without the CA it fails with one clear line', async () => {
  const dir = makeTempDir();
  const { ca, cert, key } = devCa(dir);
  const s = await startServer({ dir, plain: false, args: ['--tls-cert', cert, '--tls-key', key] });
  try {
    const token = await s.mint({ pub: true });
    const server = `https://localhost:${s.port}`;
    const sub = runCli(['sub', '--server', server, '--token', token, '--count', '1', '--ca', ca, 'queue.>']);
    await sub.untilStderr('connected to wss://localhost');
    const pub = await cli(['pub', '--server', `https://127.0.0.1:${s.port}`, '--token', token,
      '--type', 'queue.depth-changed', '--subject', 'tls', '--data', '{"queue_id":"tls","depth":1,"longest_wait_seconds":0}'],
    { env: { GLOBEMEET_CA: ca } });
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal((await sub.finished()).code, 0, sub.stderr);
    assert.deepEqual(sub.events.map((e) => e.id), pub.stdout);
    // The client ended TLS with close_notify after the close handshake: the server logs
    // whether its peer answered the server's own close_notify.
    const disconnected = await until(() => s.logs.find((l) => l.msg === 'disconnected' && 'close_notify' in l), 'the disconnect');
    assert.equal(disconnected.close_notify, true);

    const untrusted = await cli(['sub', '--server', server, '--token', token, 'queue.>']);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /certificate verify failed/);
    assert.equal(untrusted.stderr.trim().split('\n').length, 1, untrusted.stderr);
    const untrustedPub = await cli(['pub', '--server', server, '--token', token, '--type', 'agent.online',
      '--subject', 'a', '--data', '{"agent_id":"a"}']);
    assert.equal(untrustedPub.code, 1);
    assert.match(untrustedPub.stderr, /certificate verify failed/);
  } finally {
    await s.stop();
  }
});

test('bad input: one line, exit 2 for usage, exit 1 for runtime failures, never a hang', async () => {
  const s = await startServer();
  try {
    const token = await s.mint();
    const cases = [
      [['sub', '--server', s.httpUrl, '--token', token, 'queue..x'], 2, /invalid topic pattern 'queue\.\.x'/],
      [['sub', '--server', s.httpUrl, '--token', token], 2, /at least one topic pattern/],
      [['sub', '--server', s.httpUrl, '>'], 2, /no credentials/],
      [['sub', '--server', 'ftp://x', '--token', token, '>'], 2, /--server must be/],
      [['sub', '--server', s.httpUrl, '--token', token, '--from', 'nope', '>'], 2, /not an event id/],
      [['frobnicate'], 2, /unknown command/],
      [['pub', '--server', s.httpUrl, '--token', token, '--type', 'queue.depth-changed'], 2, /--type and --subject/],
      [['pub', '--server', s.httpUrl, '--token', token, '--type', 't', '--subject', 's', '--data', '[1]'], 2, /JSON object/],
      [['sub', '--server', 'http://127.0.0.1:1', '--token', token, '>'], 1, /cannot subscribe .*refused/i],
      [['token', '--server', s.httpUrl, '--client-id', 'dev-client', '--client-secret', 'wrong'], 1, /token refused .*invalid_client/],
      [['sub', '--server', s.httpUrl, '--client-id', 'dev-client', '--client-secret', 'wrong', '>'], 1, /invalid_client/],
      [['pub', '--server', s.httpUrl, '--token', token, '--type', 'queue.depth-changed', '--subject', 's'], 1, /publish refused \(HTTP 403/],
    ];
    for (const [args, expectedCode, message] of cases) {
      const res = await cli(args);
      assert.equal(res.code, expectedCode, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, args.join(' '));
      assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
      assert.doesNotMatch(res.stderr, /terminate called|what\(\)|Aborted/);
    }
    for (const command of ['token', 'sub', 'pub']) {
      const help = await cli([command, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout.join('\n'), new RegExp(`usage: globemeet ${command}`));
    }
  } finally {
    await s.stop();
  }
});

test('pub sends stdin in batches of up to 1,000 events over one connection, ids in input order', async () => {
  const s = await startServer();
  const proxy = await startProxy(s.port);
  try {
    const publisher = await s.mint({ sub: 'publisher', pub: true });
    const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify(depthEvent('support', i)));
    const before = await metric(s, 'globemeet_http_requests_total');
    const res = await cli(['pub', '--server', proxy.url, '--token', publisher], { input: `${lines.join('\n')}\n` });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.length, 2500);
    const seqs = res.stdout.map((id) => Number(id.split('-')[1]));
    assert.ok(seqs.every((seq, i) => i === 0 || seq === seqs[i - 1] + 1), 'ids in input order, no gap');
    // 1,000 + 1,000 + 500 events: three requests (the fourth is this /metrics), one connection.
    assert.equal(await metric(s, 'globemeet_http_requests_total') - before, 4);
    assert.equal(proxy.accepted, 1);

    // Under the 1 MiB body limit: five events of about 200 kB fit in a body, the sixth does not.
    const big = Array.from({ length: 12 }, (_, i) => {
      const ev = depthEvent('support', i);
      ev.data.padding = 'x'.repeat(200_000);
      return JSON.stringify(ev);
    });
    const mark = await metric(s, 'globemeet_http_requests_total');
    const bigRes = await cli(['pub', '--server', s.httpUrl, '--token', publisher], { input: `${big.join('\n')}\n` });
    assert.equal(bigRes.code, 0, bigRes.stderr);
    assert.equal(bigRes.stdout.length, 12);
    assert.equal(await metric(s, 'globemeet_http_requests_total') - mark, 4, '5 + 5 + 2 events, then /metrics');
  } finally {
    await proxy.close();
    await s.stop();
  }
});

test('pub sends a partial batch as soon as stdin pauses, so interactive use sees each id', async () => {
  const s = await startServer();
  try {
    const publisher = await s.mint({ sub: 'publisher', pub: true });
    const pub = runCli(['pub', '--server', s.httpUrl, '--token', publisher], { openStdin: true });
    pub.write(`${JSON.stringify(depthEvent('support', 1))}\n`);
    await pub.untilLines(1, 5000);  // stdin is still open: only the idle flush can have sent it
    pub.write(`${JSON.stringify(depthEvent('support', 2))}\n${JSON.stringify(depthEvent('support', 3))}\n`);
    await pub.untilLines(3, 5000);
    assert.equal(pub.exit, undefined, 'still reading stdin');
    pub.endInput();
    const { code } = await pub.finished();
    assert.equal(code, 0, pub.stderr);
    assert.equal(new Set(pub.lines).size, 3);
  } finally {
    await s.stop();
  }
});

test('pub with client credentials fetches a fresh token when the server refuses its token (a new signing key)', async () => {
  const dir = makeTempDir();
  const identity = oauthClient(dir);
  const first = await startServer({ args: identity.args });
  let second;
  try {
    const pub = runCli(['pub', '--server', first.httpUrl, '--client-id', identity.clientId, '--client-secret', identity.secret],
      { openStdin: true });
    pub.write(`${JSON.stringify(depthEvent('support', 1))}\n`);
    await pub.untilLines(1, 10000);
    // The same port, a new signing key: the token pub holds is refused with 401, not expired.
    first.proc.kill('SIGTERM');
    await first.exited;
    second = await startServer({ args: ['--listen', `127.0.0.1:${first.port}`, ...identity.args] });
    pub.write(`${JSON.stringify(depthEvent('support', 2))}\n`);
    await pub.untilLines(2, 10000);
    pub.endInput();
    const { code } = await pub.finished();
    assert.equal(code, 0, pub.stderr);
    assert.match(pub.lines[1], /^[0-9a-z]+-1$/, 'stored by the restarted server');
  } finally {
    if (second) await second.stop();
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pub reports a refused batch in one line naming its stdin lines and the bad one', async () => {
  const s = await startServer();
  try {
    const publisher = await s.mint({ sub: 'publisher', pub: true });
    const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify(depthEvent('support', i)));
    const bad = depthEvent('support', -1);  // depth must be non-negative
    lines[1202] = JSON.stringify(bad);      // stdin line 1203, events[202] of the second batch
    const res = await cli(['pub', '--server', s.httpUrl, '--token', publisher], { input: `${lines.join('\n')}\n` });
    assert.equal(res.code, 1);
    assert.equal(res.stdout.length, 1000, 'the first batch was stored and its ids printed');
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, /^globemeet: publish refused for stdin lines 1001-1500 \(500 events\) \(HTTP 400 invalid_event: events\[202\].*; events\[202\] is stdin line 1203\); none of these was published, earlier lines were/);

    const notJson = await cli(['pub', '--server', s.httpUrl, '--token', publisher],
      { input: `${JSON.stringify(depthEvent('support', 1))}\n{oops\n${JSON.stringify(depthEvent('support', 2))}\n` });
    assert.equal(notJson.code, 1);
    assert.equal(notJson.stdout.length, 1, 'the line before the bad one was published');
    assert.match(notJson.stderr, /^globemeet: stdin line 2 is not a JSON object\n$/);
  } finally {
    await s.stop();
  }
});

test('one default port: the CLI, the server and scripts/run all use 8080', async () => {
  const cliHelp = await cli(['sub', '--help']);
  assert.match(cliHelp.stdout.join('\n'), /default http:\/\/127\.0\.0\.1:8080\)/);
  const serverHelp = spawnSync(serverBinary(), ['--help'], { encoding: 'utf8' });
  assert.match(serverHelp.stdout + serverHelp.stderr, /default 127\.0\.0\.1:8080\)/);
  assert.match(readFileSync('scripts/run', 'utf8'), /port=\$\{GLOBEMEET_PORT:-8080\}/);
  // Without --server the CLI goes to that address: here a server that is not there, or is.
  const res = await cli(['pub', '--token', 'x', '--type', 'agent.online', '--subject', 'a', '--timeout', '2']);
  assert.match(res.stderr, /127\.0\.0\.1:8080|HTTP 401/);
});

async function waitFor(check, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await sleep(50);
  }
}
