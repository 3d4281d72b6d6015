// A hand-driven WebSocket client over a raw TCP socket, for frames the `ws` package would never
// send: unmasked, fragmented, oversized, invalid UTF-8, binary, bad control frames.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { SUBPROTOCOL } from './server.mjs';

// One client frame. `mask: false` sends it unmasked (a protocol violation).
export function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode)];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i % 4];
  return Buffer.concat([Buffer.from(head), key, masked]);
}

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

export class RawClient {
  // Connects and upgrades; `headers` are extra handshake headers (e.g. Authorization).
  static async open(port, headers = {}) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const lines = [
      'GET /v1/events HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Protocol: ${SUBPROTOCOL}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
    socket.write(lines.join('\r\n'));
    const client = new RawClient(socket);
    await client.handshakeDone;
    return client;
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.frames = [];
    this.waiters = [];
    this.upgraded = false;
    this.ended = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => {});
    this.handshakeDone = new Promise((resolve, reject) => {
      this.onHandshake = { resolve, reject };
    });
    socket.on('data', (d) => this.onData(d));
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buffer.subarray(0, end).toString();
      this.buffer = this.buffer.subarray(end + 4);
      if (!head.startsWith('HTTP/1.1 101')) { this.onHandshake.reject(new Error(head)); return; }
      this.upgraded = true;
      this.onHandshake.resolve();
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0];
      const b1 = this.buffer[1];
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) { if (this.buffer.length < 4) return; len = this.buffer.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buffer.length < 10) return; len = Number(this.buffer.readBigUInt64BE(2)); off = 10; }
      if (this.buffer.length < off + len) return;
      const payload = this.buffer.subarray(off, off + len);
      this.buffer = this.buffer.subarray(off + len);
      const f = { opcode: b0 & 0x0f, fin: !!(b0 & 0x80), masked: !!(b1 & 0x80), payload };
      if (f.opcode === OP.text) f.json = JSON.parse(payload.toString());
      if (f.opcode === OP.close) {
        f.code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        f.reason = payload.subarray(2).toString();
      }
      this.frames.push(f);
      this.pump();
    }
  }

  pump() {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const idx = this.frames.findIndex(w.match);
      if (idx >= 0) {
        const [f] = this.frames.splice(idx, 1);
        this.waiters.splice(i--, 1);
        clearTimeout(w.timer);
        w.resolve(f);
      }
    }
  }

  next(match = () => true, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const w = { match, resolve };
      w.timer = setTimeout(() => reject(new Error('timeout waiting for a raw frame')), timeoutMs);
      this.waiters.push(w);
      this.pump();
    });
  }

  nextText(op) { return this.next((f) => f.opcode === OP.text && (!op || f.json.op === op)).then((f) => f.json); }
  nextClose() { return this.next((f) => f.opcode === OP.close); }

  send(buf) { this.socket.write(buf); }
  sendJson(obj) { this.send(frame(OP.text, JSON.stringify(obj))); }
  destroy() { this.socket.destroy(); }
}
