// Hand-made WebSocket frames against the real server: each violation is answered with its
// documented close code, fragmentation and control frames work, and a witness client keeps
// receiving events meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, liveWitness } from './helpers/server.mjs';
import { RawClient, frame, OP } from './helpers/raw_ws.mjs';

let server;
let witness;
before(async () => {
  server = await startServer();
  witness = await liveWitness(server);
});
after(async () => { await witness.client.close(); await server.stop(); });

async function authedRaw() {
  const raw = await RawClient.open(server.port, { Authorization: `Bearer ${await server.mint()}` });
  await raw.nextText('ready');
  return raw;
}

async function expectClose(send, code) {
  const raw = await authedRaw();
  send(raw);
  const close = await raw.nextClose();
  assert.equal(close.code, code);
  assert.equal(close.masked, false, 'server frames are never masked');
  await raw.ended;
  await witness.check();
}

test('fragmented text messages are reassembled (also split inside a UTF-8 character)', async () => {
  const raw = await authedRaw();
  const text = Buffer.from(JSON.stringify({ op: 'ping', req: 'frägmented' }));
  const cut = text.indexOf(Buffer.from('ä')) + 1;  // inside the two-byte character
  raw.send(frame(OP.text, text.subarray(0, cut), { fin: false }));
  raw.send(frame(OP.ping, 'mid'));  // a control frame between fragments is allowed
  raw.send(frame(OP.continuation, text.subarray(cut)));
  const pong = await raw.next((f) => f.opcode === OP.pong);
  assert.equal(pong.payload.toString(), 'mid');
  const { time_ms: serverTime, ...reply } = await raw.nextText('pong');
  assert.deepEqual(reply, { op: 'pong', req: 'frägmented' });
  assert.ok(Number.isInteger(serverTime) && Math.abs(serverTime - Date.now()) < 60_000, 'pong.time_ms: the server clock');
  raw.send(frame(OP.close, Buffer.from([0x03, 0xe8])));
  assert.equal((await raw.nextClose()).code, 1000);
  await raw.ended;
});

test('unmasked client frame: 1002', () => expectClose((r) => r.send(frame(OP.text, '{"op":"ping"}', { mask: false })), 1002));
test('reserved bits set: 1002', () => expectClose((r) => r.send(frame(OP.text, '{"op":"ping"}', { rsv: 4 })), 1002));
test('unknown opcode: 1002', () => expectClose((r) => r.send(frame(3, 'x')), 1002));
test('fragmented control frame: 1002', () => expectClose((r) => r.send(frame(OP.ping, 'x', { fin: false })), 1002));
test('continuation without a message: 1002', () => expectClose((r) => r.send(frame(OP.continuation, 'x')), 1002));
test('new message inside a fragmented one: 1002', () => expectClose((r) => {
  r.send(frame(OP.text, '{"op":', { fin: false }));
  r.send(frame(OP.text, '"ping"}'));
}, 1002));
test('binary frame: 1003', () => expectClose((r) => r.send(frame(OP.binary, Buffer.from([1, 2, 3]))), 1003));
test('invalid UTF-8: 1007', () => expectClose((r) => r.send(frame(OP.text, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))), 1007));
test('overlong UTF-8 / surrogates: 1007', () => expectClose((r) => r.send(frame(OP.text, Buffer.from([0xed, 0xa0, 0x80]))), 1007));
test('a frame over 65,536 bytes: 1009', () => expectClose((r) => r.send(frame(OP.text, Buffer.alloc(65537, 0x20))), 1009));
test('fragments summing over 65,536 bytes: 1009', () => expectClose((r) => {
  r.send(frame(OP.text, Buffer.alloc(40000, 0x20), { fin: false }));
  r.send(frame(OP.continuation, Buffer.alloc(40000, 0x20)));
}, 1009));
test('invalid close code: 1002', () => expectClose((r) => r.send(frame(OP.close, Buffer.from([0x03, 0xed]))), 1002));

test('a 65,536-byte frame is accepted (answered as bad JSON, the connection stays)', async () => {
  const raw = await authedRaw();
  raw.send(frame(OP.text, Buffer.alloc(65536, 0x20)));
  const err = await raw.nextText('error');
  assert.equal(err.code, 'bad_json');
  raw.sendJson({ op: 'ping', req: 'still' });
  assert.equal((await raw.nextText('pong')).req, 'still');
  raw.destroy();
});

test('a client close is echoed with its code', async () => {
  const raw = await authedRaw();
  raw.send(frame(OP.close, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye')])));
  assert.equal((await raw.nextClose()).code, 4000);
  await raw.ended;
});

test('a client that answers no WebSocket ping is closed with 4003', async () => {
  const s = await startServer({ args: ['--heartbeat-ms', '200'] });
  try {
    const raw = await RawClient.open(s.port, { Authorization: `Bearer ${await s.mint()}` });
    const ready = await raw.nextText('ready');
    assert.equal(ready.heartbeat_ms, 200);
    await raw.next((f) => f.opcode === OP.ping);
    assert.equal((await raw.nextClose()).code, 4003);
  } finally {
    await s.stop();
  }
});

test('a client that answers pings stays connected', async () => {
  const s = await startServer({ args: ['--heartbeat-ms', '100'] });
  try {
    const raw = await RawClient.open(s.port, { Authorization: `Bearer ${await s.mint()}` });
    await raw.nextText('ready');
    for (let i = 0; i < 5; i++) {
      const ping = await raw.next((f) => f.opcode === OP.ping);
      raw.send(frame(OP.pong, ping.payload));
    }
    raw.sendJson({ op: 'ping', req: 'ok' });
    assert.equal((await raw.nextText('pong')).req, 'ok');
    raw.destroy();
  } finally {
    await s.stop();
  }
});
