// The Idempotency-Key of POST /v1/events on the embedded logs (memory, and the durable log
// across a kill -9): a retried request answers with the ids of its first attempt and stores
// nothing twice; a batch that grows on retry stores only its new events; keys are per tenant;
// a malformed key is refused. (The JetStream log: cluster_delivery.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startServer, makeTempDir, connect, publish, depthEvent, subscribe } from './helpers/server.mjs';
import { rmSync } from 'node:fs';

async function post(server, token, body, key) {
  const res = await fetch(`${server.httpUrl}/v1/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...(key !== undefined ? { 'Idempotency-Key': key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

// Every event of tenant acme a subscriber gets until the marker event, by id.
async function deliveredUntilMarker(server, token, client) {
  const marker = await publish(server, token, depthEvent('marker', 0));
  const ids = [];
  for (;;) {
    const e = await client.next('event', 5000);
    ids.push(e.id);
    if (e.id === marker.body.ids[0]) return ids.slice(0, -1);
  }
}

for (const kind of ['memory', 'disk']) {
  test(`${kind} log: a retried publish is stored once and a cut-short batch completes`, async () => {
    const dir = makeTempDir();
    const secret = randomBytes(32).toString('base64url');
    const args = kind === 'disk' ? ['--data-dir', path.join(dir, 'data')] : ['--log', 'memory'];
    let server = await startServer({ dir, secret, args });
    try {
      const token = await server.mint({ sub: 'pub', pub: true });
      const client = await connect(server, { token: await server.mint({ sub: 'sub' }) });
      await client.next('ready');
      assert.equal((await subscribe(client, ['>'])).op, 'subscribed');
      const batch = [1, 2, 3].map((d) => depthEvent('idem', d));

      const first = await post(server, token, { events: batch.slice(0, 2) }, 'k-1');
      assert.equal(first.status, 200);
      const retry = await post(server, token, { events: batch }, 'k-1');
      assert.equal(retry.status, 200);
      assert.deepEqual(retry.body.ids.slice(0, 2), first.body.ids);
      const again = await post(server, token, { events: batch }, 'k-1');
      assert.deepEqual(again.body.ids, retry.body.ids);
      const noKey = await post(server, token, { events: batch });
      assert.equal(noKey.body.ids.filter((id) => retry.body.ids.includes(id)).length, 0, 'no key: stored again');
      const otherTenant = await post(server, await server.mint({ sub: 'g', tenant: 'globex', pub: true }), { events: batch }, 'k-1');
      assert.equal(otherTenant.body.ids.filter((id) => retry.body.ids.includes(id)).length, 0, 'keys are per tenant');
      assert.deepEqual(await deliveredUntilMarker(server, token, client), [...retry.body.ids, ...noKey.body.ids]);
      await client.close();

      for (const bad of ['', 'with space', 'x'.repeat(256)]) {
        const res = await post(server, token, { events: batch }, bad);
        assert.equal(res.status, 400, `key '${bad.slice(0, 20)}'`);
        assert.equal(res.body.error, 'bad_request');
      }

      if (kind === 'disk') {
        // The response was lost with the server: the retry after the restart stores nothing.
        await server.kill('SIGKILL');
        server = await startServer({ dir, secret, args });
        const afterCrash = await post(server, token, { events: batch }, 'k-1');
        assert.equal(afterCrash.status, 200);
        assert.deepEqual(afterCrash.body.ids, retry.body.ids);
      }
    } finally {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
