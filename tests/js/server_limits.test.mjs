// Handshake refusals (subprotocol, Origin, connection limits) and backpressure: a client that
// stops reading gets `overflow` and close 4000 while the others keep receiving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, connectReady, subscribe, publish, sleep,
} from './helpers/server.mjs';

test('handshake refusals: subprotocol 400, Origin 403, allowed Origin 101', async () => {
  const s = await startServer({ args: ['--allowed-origins', 'https://app.example, https://other.example'] });
  try {
    const token = await s.mint();
    await assert.rejects(connect(s, { token, protocols: [] }), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.body.error, 'subprotocol_required');
      return true;
    });
    await assert.rejects(connect(s, { token, protocols: ['chat'] }), (e) => e.status === 400);
    await assert.rejects(connect(s, { token, headers: { Origin: 'https://evil.example' } }), (e) => {
      assert.equal(e.status, 403);
      assert.equal(e.body.error, 'origin_not_allowed');
      return true;
    });
    const ok = await connect(s, { token, headers: { Origin: 'https://other.example' } });
    assert.equal(ok.ws.protocol, 'globemeet-events.v1');
    await ok.next('ready');
    await ok.close();
  } finally {
    await s.stop();
  }
});

test('without --allowed-origins only handshakes without Origin are accepted', async () => {
  const s = await startServer();
  try {
    await assert.rejects(connect(s, { token: await s.mint(), origin: 'https://app.example' }), (e) => e.status === 403);
  } finally {
    await s.stop();
  }
});

test('connection limits: 429 with Retry-After per address and per tenant; 4029 after an auth frame', async () => {
  const s = await startServer({ args: ['--max-connections-per-address', '3', '--max-connections-per-tenant', '2'] });
  try {
    const a1 = await connectReady(s, { tenant: 'acme' });
    const a2 = await connectReady(s, { tenant: 'acme' });
    await assert.rejects(connect(s, { token: await s.mint({ tenant: 'acme' }) }), (e) => {
      assert.equal(e.status, 429);
      assert.equal(e.body.error, 'too_many_connections');
      assert.ok(Number(e.headers['retry-after']) > 0);
      return true;
    });
    // Tenant limit through an auth frame: close 4029.
    const browser = await connect(s);
    browser.send({ op: 'auth', token: await s.mint({ tenant: 'acme' }) });
    assert.equal((await browser.closed).code, 4029);
    // Per address: the third is taken by another tenant, the fourth refused.
    const g = await connectReady(s, { tenant: 'globex' });
    await assert.rejects(connect(s, { token: await s.mint({ tenant: 'initech' }) }), (e) => e.status === 429);
    await a1.client.close();
    await sleep(100);
    // A slot freed by a close can be taken again.
    const again = await connectReady(s, { tenant: 'acme' });
    await again.client.close();
    await a2.client.close();
    await g.client.close();
  } finally {
    await s.stop();
  }
});

async function metric(s, name) {
  const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line.split(' ')[1]);
}

test('a client that stops reading gets overflow + 4000; the others keep receiving', async () => {
  const s = await startServer({ args: ['--overflow-lag-ms', '300', '--max-queue-bytes', '4194304'] });
  try {
    const pub = await s.mint({ pub: true });
    const { client: slow } = await connectReady(s, { sub: 'slow' });
    await subscribe(slow, ['>']);
    const { client: fast } = await connectReady(s, { sub: 'fast' });
    await subscribe(fast, ['>']);
    slow.ws._socket.pause();  // stops reading: the kernel buffers fill, then the server's queue

    const pad = 'x'.repeat(60000);
    const batch = Array.from({ length: 16 }, (_, i) => ({
      type: 'queue.depth-changed', subject: 'big', data: { queue_id: 'big', depth: i, longest_wait_seconds: 1, pad },
    }));
    const published = [];
    while ((await metric(s, 'globemeet_overflow_closes_total')) === 0) {
      const res = await publish(s, pub, { events: batch });
      assert.equal(res.status, 200);
      published.push(...res.body.ids);
      assert.ok(published.length < 5000, 'overflow must happen');
    }
    slow.ws._socket.resume();
    const closed = await slow.closed;
    assert.equal(closed.code, 4000);
    const overflow = slow.frames.find((f) => f.op === 'overflow');
    assert.ok(overflow, 'overflow frame before the close');
    assert.equal(typeof overflow.lag_ms, 'number');
    const slowEvents = slow.frames.filter((f) => f.op === 'event');
    // last_id is the last event delivered before `overflow` (docs/protocol.md section 7).
    assert.equal(overflow.last_id, slowEvents.at(-1)?.id);
    assert.ok(slowEvents.length < published.length);

    // The fast client got every event, in order.
    for (const id of published) assert.equal((await fast.next('event', 20000)).id, id);
    await fast.close();
  } finally {
    await s.stop();
  }
});
