// The scripted server of the conformance suite: a real WebSocket server on loopback that does
// only what a scenario tells it. It records every connection attempt (time, headers, the HTTP
// status it answered) and every frame a client sent, answers `ping` with `pong` unless told to
// be silent, and injects faults: refused handshakes, handshakes that never finish, cuts without
// a close frame, close frames with any code, silence, and reads paused (a slow reader).
import http from 'node:http';
import { WebSocketServer } from 'ws';

export const SUBPROTOCOL = 'globemeet-events.v1';

// A FIFO of items with waiters: next(match, ms) resolves with the first item that `match`
// accepts, or rejects after `ms`. Items it skips stay skipped (the cursor moves past them).
export class Feed {
  #items = [];
  #cursor = 0;
  #waiters = new Set();
  push(item) {
    this.#items.push(item);
    for (const w of [...this.#waiters]) w();
  }
  get all() { return this.#items; }
  // Resolves with the first item from the cursor that `match` accepts; `skip(item)` decides
  // whether a non-matching item may be passed over (else the wait fails at once).
  next(match, ms, { skip = () => true, what = 'item' } = {}) {
    return new Promise((resolve, reject) => {
      const scan = () => {
        while (this.#cursor < this.#items.length) {
          const item = this.#items[this.#cursor++];
          if (match(item)) return done(resolve, item);
          if (!skip(item)) return done(reject, new Error(`unexpected ${what}: ${JSON.stringify(item.value ?? item)}`));
        }
        return false;
      };
      const timer = setTimeout(() => done(reject, new Error(`no matching ${what} within ${ms} ms`)), ms);
      const done = (fn, value) => { clearTimeout(timer); this.#waiters.delete(scan); fn(value); return true; };
      if (!scan()) this.#waiters.add(scan);
    });
  }
  // Items after the cursor, without moving it.
  rest() { return this.#items.slice(this.#cursor); }
}

export class ScriptedServer {
  #http;
  #wss;
  #plans = [];                  // how to answer the next handshakes, in order
  attempts = new Feed();        // {n, t, headers, status}
  connections = [];             // every accepted connection, by n
  port = 0;

  async start() {
    this.#wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.#http = http.createServer((req, res) => { res.writeHead(404); res.end(); });
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
    await new Promise((resolve) => this.#http.listen(0, '127.0.0.1', resolve));
    this.port = this.#http.address().port;
    return this;
  }

  get endpoint() { return `ws://127.0.0.1:${this.port}/v1/events`; }

  // How to answer the next handshake that has no plan yet: {status: 101} (accept), another
  // status (refuse with it, a JSON body and `headers`), or {stall: true} (never answer).
  plan(p) { this.#plans.push(p); }

  #upgrade(req, socket, head) {
    const n = this.attempts.all.length + 1;
    const plan = this.#plans.shift() ?? { status: 101 };
    const attempt = { n, t: performance.now(), headers: { ...req.headers }, url: req.url, status: plan.stall ? 0 : plan.status };
    socket.on('error', () => {});
    if (plan.stall) {
      this.stalled = [...(this.stalled ?? []), socket];
      this.attempts.push(attempt);
      return;
    }
    if (plan.status !== 101) {
      const body = JSON.stringify(plan.body ?? { error: 'refused', message: `scripted ${plan.status}` });
      const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close', ...(plan.headers ?? {}) };
      socket.end(`HTTP/1.1 ${plan.status} ${http.STATUS_CODES[plan.status] ?? 'Refused'}\r\n` +
        Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + `\r\n${body}`);
      this.attempts.push(attempt);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new Connection(n, ws, req.headers);
      this.connections[n] = conn;
      attempt.connection = conn;
      this.attempts.push(attempt);
    });
  }

  async stop() {
    for (const s of this.stalled ?? []) s.destroy();
    for (const c of this.connections) c?.ws.terminate();
    this.#wss?.close();
    await new Promise((resolve) => this.#http ? this.#http.close(resolve) : resolve());
    this.#http?.closeAllConnections?.();
  }
}

// One accepted WebSocket connection. `frames` holds every frame the client sent, parsed
// ({t, text, value}); `token` is the token it authenticated with (header or `auth` frame).
class Connection {
  frames = new Feed();
  silent = false;
  pongAheadMs = null;  // when set, `pong` carries time_ms: this clock plus it (section 7.2)
  closed = null;       // {code, reason, t} once the socket closed
  readyAt = undefined; // when `ready` was sent
  token = null;
  constructor(n, ws, headers) {
    this.n = n;
    this.ws = ws;
    const auth = headers.authorization;
    if (auth?.startsWith('Bearer ')) this.token = auth.slice(7);
    this.tokenInHeader = this.token !== null;
    this.closedPromise = new Promise((resolve) => {
      ws.on('close', (code, reason) => { this.closed = { code, reason: String(reason), t: performance.now() }; resolve(this.closed); });
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString('utf8');
      let value = null;
      try { value = JSON.parse(text); } catch { /* recorded as unparsed */ }
      const frame = { t: performance.now(), text, value, binary: isBinary };
      if (value?.op === 'auth' && this.token === null && typeof value.token === 'string') this.token = value.token;
      if (value?.op === 'ping' && !this.silent) {
        this.send({ op: 'pong', ...(value.req !== undefined ? { req: value.req } : {}), ...(this.pongAheadMs !== null ? { time_ms: Date.now() + this.pongAheadMs } : {}) });
      }
      this.frames.push(frame);
    });
  }
  get open() { return this.ws.readyState === 1; }
  send(frame) {
    if (!this.open) return;
    if (frame?.op === 'ready') this.readyAt ??= performance.now();
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  sendBinary(bytes) { if (this.open) this.ws.send(Buffer.from(bytes), { binary: true }); }
  close(code, reason = '') { if (this.open) this.ws.close(code, reason); }
  // No close frame: the TCP connection just ends (what a network failure looks like).
  cut() { this.ws._socket?.destroy(); this.ws.terminate(); }
  // A slow reader: stop reading the socket for `ms` (the client's frames wait in TCP buffers).
  pauseReading(ms) {
    const socket = this.ws._socket;
    socket?.pause();
    setTimeout(() => socket?.resume(), ms);
  }
}
