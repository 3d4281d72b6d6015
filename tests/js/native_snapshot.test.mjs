// Issue 17 in the native client, through its CLI against the real server: `globemeet sub
// --snapshot` prints the current state first (each frame marked "snapshot":true, as the server
// sent it), says when the snapshot is complete, then prints live events; its last status line
// gives the delivery delay of the live events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, depthEvent } from './helpers/server.mjs';
import { cli, runCli } from './helpers/native_cli.mjs';

const devCredentials = (server) => {
  const line = server.logs.find((l) => l.msg === 'dev_credentials');
  return ['--client-id', line.client_id, '--client-secret', line.client_secret];
};

test('sub --snapshot: the latest event of each matching topic first, then live events, then the delay figures', async () => {
  const s = await startServer();
  try {
    const creds = devCredentials(s);
    const lines = [depthEvent('support', 3), depthEvent('support', 5), depthEvent('sales', 2)].map((e) => JSON.stringify(e)).join('\n');
    const published = await cli(['pub', '--server', s.httpUrl, ...creds], { input: `${lines}\n` });
    assert.equal(published.code, 0, published.stderr);
    const [, support, sales] = published.stdout;

    const sub = runCli(['sub', '--server', s.httpUrl, ...creds, '--snapshot', '--conflate', '--count', '3', 'queue.*.depth-changed']);
    await sub.untilStderr("snapshot of 'queue.*.depth-changed' complete: 2 events");
    const live = await cli(['pub', '--server', s.httpUrl, ...creds], { input: `${JSON.stringify(depthEvent('support', 6))}\n` });
    assert.equal(live.code, 0, live.stderr);
    const { code } = await sub.finished();
    assert.equal(code, 0, sub.stderr);

    assert.deepEqual(sub.events.map((e) => [e.id, e.snapshot]), [[support, true], [sales, true], [live.stdout[0], undefined]]);
    assert.match(sub.stderr, /delivery delay of 1 live events: p50 -?\d+ ms, p99 -?\d+ ms \(server clock offset -?\d+ ms\)/);
  } finally {
    await s.stop();
  }
});
