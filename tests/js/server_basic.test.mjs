// The first milestone: health, upgrade with a header token, subscribe, publish -> delivery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connectReady, subscribe, publish, depthEvent } from './helpers/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

test('GET /healthz and /readyz answer 200', async () => {
  const health = await fetch(`${server.httpUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const ready = await fetch(`${server.httpUrl}/readyz`);
  assert.equal(ready.status, 200);
});

test('publish -> subscribe round trip delivers the CloudEvents envelope', async () => {
  const { client, ready } = await connectReady(server, { sub: 'agent-app', perms: ['queue.>'] });
  assert.equal(ready.sub, 'agent-app');
  assert.equal(ready.tenant, 'acme');
  assert.equal(typeof ready.heartbeat_ms, 'number');
  const sub = await subscribe(client, ['queue.*.depth-changed']);
  assert.equal(sub.op, 'subscribed');
  assert.deepEqual(sub.topics, ['queue.*.depth-changed']);

  const publisher = await server.mint({ sub: 'svc', pub: true, perms: ['>'] });
  const res = await publish(server, publisher, depthEvent('support', 7));
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.ids.length, 1);

  const ev = await client.next('event');
  assert.equal(ev.id, res.body.ids[0]);
  assert.equal(ev.specversion, '1.0');
  assert.equal(ev.topic, 'queue.support.depth-changed');
  assert.equal(ev.type, 'queue.depth-changed');
  assert.equal(ev.subject, 'support');
  assert.equal(ev.tenant, 'acme');
  assert.equal(ev.source, '/tenants/acme/queues/support');
  assert.deepEqual(ev.data, { queue_id: 'support', depth: 7, longest_wait_seconds: 3 });
  await client.close();
});
