// Starts the real globemeet-server binary for integration tests: 127.0.0.1, port 0, a temp
// directory with an HS256 dev secret (and whatever files a test adds), the port read from the
// server's {"msg":"listening"} log line. Also small clients: a frame-queue WebSocket wrapper,
// token minting with jose, publishing with fetch.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import WebSocket from 'ws';

export const SUBPROTOCOL = 'globemeet-events.v1';
export const ISSUER = 'test-issuer';
export const AUDIENCE = 'globemeet-events';

export function serverBinary() {
  const dir = process.env.GLOBEMEET_BUILD_DIR || 'build/native';
  return path.resolve(dir, 'server/net/globemeet-server');
}

export function makeTempDir() {
  return mkdtempSync(path.join(tmpdir(), 'globemeet-test-'));
}

// Starts the server. `args` are extra flags; `plain: false` leaves out --dev (then the test
// passes TLS flags). Resolves once the server listens.
// `secretFile: false` leaves out --hs256-secret-file (then --dev makes its own secret).
export async function startServer({ args = [], env = {}, plain = true, dir = makeTempDir(), secret, secretFile = true } = {}) {
  const hsSecret = secret ?? randomBytes(32).toString('base64url');
  const secretPath = path.join(dir, 'hs256.secret');
  writeFileSync(secretPath, hsSecret);
  const fullArgs = ['--listen', '127.0.0.1:0', '--issuer', ISSUER, ...(secretFile ? ['--hs256-secret-file', secretPath] : []),
    ...(plain ? ['--dev'] : []), ...args];
  const proc = spawn(serverBinary(), fullArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  let buffered = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15000);
    proc.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let parsed;
        try { parsed = JSON.parse(line); } catch { parsed = { unparsed: line }; }
        logs.push(parsed);
        if (parsed.msg === 'listening') { clearTimeout(timer); resolve(parsed.port); }
      }
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  const scheme = fullArgs.includes('--tls-cert') ? 'https' : 'http';
  const server = {
    proc, port, logs, dir, secret: hsSecret, exited,
    get stderr() { return stderr; },
    httpUrl: `${scheme}://127.0.0.1:${port}`,
    wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${port}/v1/events`,
    mint: (claims, options) => mintToken(hsSecret, claims, options),
    // Ends the process with `signal` and waits, keeping its directory (for a restart on it).
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        // Under scripts/sanitize a clean exit lets LeakSanitizer check the heap (a report
        // fails that run); SIGKILL only if the drain does not end.
        if (process.env.GLOBEMEET_SANITIZE) {
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
          await exited;
          clearTimeout(timer);
        } else {
          proc.kill('SIGKILL');
        }
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// An OAuth client (tenant acme, every topic, may publish) in a clients file under `dir`, so that
// a restarted server still knows it. tokenFrom(server) runs the client-credentials grant: the
// token is signed with the server's own key, which is ephemeral without --signing-key.
export function oauthClient(dir, clientId = 'wallboard') {
  const secret = randomBytes(24).toString('base64url');
  const secretHash = execFileSync(serverBinary(), ['hash-secret'], { input: secret, encoding: 'utf8' }).trim();
  const file = path.join(dir, 'clients.json');
  writeFileSync(file, JSON.stringify({ clients: [
    { client_id: clientId, secret_hash: secretHash, tenant: 'acme', perms: ['>'], publish: true },
  ] }));
  return {
    args: ['--clients', file],
    clientId,
    secret,
    async tokenFrom(server) {
      const res = await fetch(`${server.httpUrl}/oauth/token`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
  };
}

// An HS256 token with the server's dev secret; `claims` override the defaults.
export async function mintToken(secret, claims = {}, { alg = 'HS256', kid = 'dev', key } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const body = { sub: 'user-1', tenant: 'acme', perms: ['>'], iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 900, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return new SignJWT(body).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key ?? new TextEncoder().encode(secret));
}

// A WebSocket client that queues every frame so tests can await them in order.
export class Client {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`closed ${code} ${reason} while waiting`));
      });
    });
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? { binary: data } : JSON.parse(data.toString());
      this.frames.push(frame);
      this.pump();
    });
    ws.on('error', () => {});
  }

  pump() {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const idx = this.frames.findIndex(w.match);
      if (idx >= 0) {
        const [frame] = this.frames.splice(idx, 1);
        this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(frame);
        i--;
      }
    }
  }

  // The next queued frame (optionally: the first matching `match`, by op name or predicate).
  next(match = () => true, timeoutMs = 5000) {
    const pred = typeof match === 'string' ? (f) => f.op === match : match;
    return new Promise((resolve, reject) => {
      const w = { match: pred, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting for a frame; queued: ${JSON.stringify(this.frames).slice(0, 500)}`));
      }, timeoutMs);
      if (this.closeInfo && !this.frames.some(pred)) {
        clearTimeout(w.timer);
        reject(new Error(`closed ${this.closeInfo.code} while waiting`));
        return;
      }
      this.waiters.push(w);
      this.pump();
    });
  }

  // The frames (in order) that are queued now.
  drain() { return this.frames.splice(0); }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  close(code = 1000) { this.ws.close(code); return this.closed; }
}

// Opens a WebSocket; resolves with a Client once open, or rejects with {status, body}.
export function connect(server, { token, headers = {}, protocols = [SUBPROTOCOL], lastEventId, ...options } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (lastEventId) h['Last-Event-ID'] = lastEventId;
  const ws = new WebSocket(server.wsUrl, protocols, { headers: h, rejectUnauthorized: false, ...options });
  const client = new Client(ws);
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve(client));
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(body); } catch { /* not JSON */ }
        const err = new Error(`handshake refused ${res.statusCode}`);
        Object.assign(err, { status: res.statusCode, body: json, headers: res.headers });
        reject(err);
      });
    });
    ws.on('error', (e) => reject(e));
  });
}

// Connects with the token in the header and waits for `ready`.
export async function connectReady(server, claims = {}, options = {}) {
  const token = await server.mint(claims);
  const client = await connect(server, { token, ...options });
  const ready = await client.next('ready');
  return { client, ready, token };
}

export async function subscribe(client, topics, extra = {}) {
  const req = extra.req ?? `s${Math.random().toString(36).slice(2, 8)}`;
  client.send({ op: 'subscribe', req, topics, ...extra });
  return client.next((f) => f.req === req && (f.op === 'subscribed' || f.op === 'error'));
}

// POST /v1/events; resolves {status, body}.
export async function publish(server, token, body) {
  const res = await fetch(`${server.httpUrl}/v1/events`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text, headers: res.headers };
}

export function depthEvent(queue = 'support', depth = 1) {
  return { type: 'queue.depth-changed', subject: queue, data: { queue_id: queue, depth, longest_wait_seconds: 3 } };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves with `check()`'s value (awaited) once it is truthy; the deadline only turns a hang
// into a readable failure.
export async function until(check, what, deadlineMs = 15000) {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// A client subscribed to everything of tenant `acme`, to show the server keeps serving while
// a test throws bad input at it.
export async function liveWitness(server, claims = {}) {
  const { client } = await connectReady(server, { sub: 'witness', ...claims });
  const sub = await subscribe(client, ['>']);
  if (sub.op !== 'subscribed') throw new Error(`witness could not subscribe: ${JSON.stringify(sub)}`);
  const publisher = await server.mint({ sub: 'witness-publisher', pub: true, tenant: claims.tenant ?? 'acme' });
  return {
    client,
    // Publishes one event and checks the witness receives exactly it.
    async check() {
      const res = await publish(server, publisher, depthEvent('witness', Math.floor(Math.random() * 1000)));
      if (res.status !== 200) throw new Error(`publish failed ${res.status} ${res.text}`);
      // Other tests' events reach the witness too (it holds `>`): skip them, but never accept
      // a gap (the awaited event must come, in order, after everything before it).
      const ev = await client.next((f) => f.op === 'event' && f.id === res.body.ids[0]);
      client.drain();
      return ev;
    },
  };
}
