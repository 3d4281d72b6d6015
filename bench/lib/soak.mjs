// The soak (issue 16): many connections for a long time against one real globemeet-server, with
// churn, while a publisher keeps events flowing. Each connection, independently:
//   * lives a random (exponential) time, then closes (half cleanly with 1000, half by dropping
//     TCP) and reconnects a moment later, resuming from the last event id it processed;
//   * refreshes its short-lived token on the live connection (`refresh`), on its own timer or
//     when the server says `expiring`;
//   * if it is in the slow pool, now and then takes a topic of large events and stops reading
//     until the server drops it for lagging (`overflow`, 4000); then it reads what the kernel
//     still holds, reconnects and resumes (its own topic only).
// Correctness is checked on every event: the publisher numbers the events of each topic 1, 2,
// 3, ... (`data.depth`), so a connection that has seen n on a topic must see n + 1 next on it,
// across reconnects (a gap or a duplicate is counted), and a `reset` is never expected.
// The server's VmRSS and open descriptors are sampled throughout; after the load, every
// connection closes and the descriptor count must come back to where it was before the first.
// runSoak() is shared by bench/soak (the full run and its report) and tests/js/soak.test.mjs.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';

const SUBPROTOCOL = 'globemeet-events.v1';
const ISSUER = 'soak';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64url = (s) => Buffer.from(s).toString('base64url');
const exponential = (mean) => -Math.log(1 - Math.random()) * mean;

// HS256 with node:crypto: minting is synchronous and cheap, 10,000 connections share a few tokens.
function mint(secret, claims) {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: 'dev', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ tenant: 'soak', perms: ['>'], iss: ISSUER, aud: 'globemeet-events', ...claims }));
  const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}

export function serverSample(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { rssKb, fds: readdirSync(`/proc/${pid}/fd`).length };
}

async function startServer(binary, dir, secret, args) {
  const secretFile = path.join(dir, 'hs256.secret');
  writeFileSync(secretFile, secret);
  const proc = spawn(binary, ['--dev', '--listen', '127.0.0.1:0', '--threads', '1', '--issuer', ISSUER,
    '--hs256-secret-file', secretFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const logLines = [];
  let buffered = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 15000);
    proc.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (logLines.length < 2000) logLines.push(line);  // the first lines, for the report
        const m = /"msg":"listening".*?"port":(\d+)/.exec(line);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      }
    });
    proc.stderr.resume();
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`server exited ${code}`)); });
  });
  return { proc, port, exited, logLines };
}

// The defaults are the CI size; bench/soak passes the full run's.
export const CI_OPTIONS = {
  connections: 1000,
  durationS: 120,           // load phase, warm-up included
  warmupS: 50,
  sampleEveryS: 2,
  rate: 100,                // events/s over `topics` small topics
  topics: 100,
  bulkRate: 20,             // events/s on the bulk topic, which a slow connection takes to stall
  bulkBytes: 16384,
  slowFraction: 0.02,       // share of connections in the slow pool
  stallEveryS: 20,          // mean time a slow connection reads before it stalls again
  stallS: 30,               // how long a stall lasts (the server drops it after about 16 s)
  lifetimeS: 30,            // mean connection lifetime before a client-side close
  tokenTtlS: 120,           // tokens expire this long after they are minted (> 60 s: `expiring`)
  refreshEveryS: 20,        // mean time between refreshes on one connection
  overflowLagMs: 2000,
  // The memory log holds this many events (about 33 s of the load here): it must be full before
  // warm-up ends, and hold more history than a stall lasts.
  retentionEvents: 4000,
  serverArgs: [],
};

export async function runSoak(options) {
  const o = { ...CI_OPTIONS, ...options };
  const log = o.log ?? (() => {});
  const secret = randomBytes(32).toString('base64url');
  const server = await startServer(o.serverBinary, o.dir, secret, [
    '--max-connections-per-address', String(o.connections * 2), '--max-connections-per-tenant', String(o.connections * 2),
    '--retention-events', String(o.retentionEvents), '--overflow-lag-ms', String(o.overflowLagMs), ...o.serverArgs]);
  const pid = server.proc.pid;
  const url = `ws://127.0.0.1:${server.port}/v1/events`;
  await sleep(500);
  const baseline = serverSample(pid);
  log(`server pid ${pid} port ${server.port}: baseline RSS ${baseline.rssKb} KB, ${baseline.fds} fds`);

  const counts = {
    connects: 0, handshake_failures: 0, resumes: 0, fresh_subscribes: 0, refreshes: 0, refresh_errors: 0,
    expiring: 0, overflow_frames: 0, stalls: 0, client_closes: 0, client_drops: 0, events: 0,
    gaps: 0, missing_events: 0, duplicates: 0, resets: 0, errors: 0, published: 0, publish_failures: 0,
  };
  const closeCodes = {};
  let stopping = false;

  // Tokens: a fresh one every quarter of the TTL; connections take the newest.
  let token = '';
  const mintNow = () => {
    const now = Math.floor(Date.now() / 1000);
    token = mint(secret, { sub: 'soak-subscriber', iat: now, exp: now + o.tokenTtlS });
  };
  mintNow();
  const minter = setInterval(mintNow, (o.tokenTtlS / 4) * 1000);
  const nowS = Math.floor(Date.now() / 1000);
  const pubToken = mint(secret, { sub: 'soak-publisher', pub: true, iat: nowS, exp: nowS + o.durationS + 3600 });

  const topicName = (k) => `queue.q${k}.depth-changed`;
  const BULK = 'queue.bulk.depth-changed';

  class Connection {
    constructor(i) {
      this.i = i;
      this.slow = i < Math.round(o.connections * o.slowFraction);
      this.topics = [topicName(i % o.topics)];
      this.lastId = null;       // the last event id processed (or the head of the first subscribe)
      this.lastN = new Map();   // topic -> last number seen
      this.ws = null;
      this.timers = {};         // one of each kind: churn, refresh, stall, reconnect
    }

    clearTimers() { for (const t of Object.values(this.timers)) clearTimeout(t); this.timers = {}; }
    later(kind, ms, fn) { clearTimeout(this.timers[kind]); this.timers[kind] = setTimeout(fn, ms); }

    connect() {
      if (stopping) return;
      counts.connects++;
      const ws = new WebSocket(url, [SUBPROTOCOL], { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
      this.ws = ws;
      ws.on('message', (data) => this.onFrame(data.toString()));
      ws.on('unexpected-response', (req, res) => {
        counts.handshake_failures++;
        res.resume();
        ws.terminate();
      });
      ws.on('error', () => {});
      ws.on('close', (code) => {
        closeCodes[code] = (closeCodes[code] ?? 0) + 1;
        this.clearTimers();
        this.ws = null;
        if (!stopping) this.later('reconnect', 100 + Math.random() * 900, () => this.connect());
      });
    }

    onFrame(text) {
      if (text.startsWith('{"op":"event"')) { this.onEvent(text); return; }
      const f = JSON.parse(text);
      switch (f.op) {
        case 'ready': {
          const sub = { op: 'subscribe', req: 's', topics: this.topics };
          if (this.lastId) sub.from = this.lastId;
          this.ws.send(JSON.stringify(sub));
          break;
        }
        case 'subscribed':
          if (f.req !== 's') break;  // the bulk topic of a stall
          this.lastN.delete(BULK);   // not resumed: its numbering starts again
          if (this.lastId) counts.resumes++;
          else { counts.fresh_subscribes++; this.lastId = f.head; }
          this.later('churn', exponential(o.lifetimeS) * 1000, () => this.churn());
          this.later('refresh', exponential(o.refreshEveryS) * 1000, () => this.refresh());
          if (this.slow) this.later('stall', exponential(o.stallEveryS) * 1000, () => this.stall());
          break;
        case 'refreshed':
          counts.refreshes++;
          this.later('refresh', exponential(o.refreshEveryS) * 1000, () => this.refresh());
          break;
        case 'expiring': counts.expiring++; this.refresh(); break;
        case 'overflow': counts.overflow_frames++; break;
        case 'reset': counts.resets++; this.lastId = f.position; this.lastN.clear(); break;
        case 'error':
          if (f.req === 'r') counts.refresh_errors++; else counts.errors++;
          break;
        default: break;
      }
    }

    // Only the members needed, found in the text: the id and topic come before `data`, and the
    // publisher puts `depth` first in data (the bulk topic's padding comes after it).
    onEvent(text) {
      counts.events++;
      const id = /"id":"([^"]+)"/.exec(text)[1];
      const topic = /"topic":"([^"]+)"/.exec(text)[1];
      const n = Number(/"depth":(\d+)/.exec(text)[1]);
      const last = this.lastN.get(topic);
      if (last !== undefined) {
        if (n <= last) counts.duplicates++;
        else if (n > last + 1) { counts.gaps++; counts.missing_events += n - last - 1; }
      }
      this.lastN.set(topic, n);
      this.lastId = id;
    }

    refresh() {
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op: 'refresh', req: 'r', token }));
    }

    churn() {
      if (!this.ws) return;
      if (Math.random() < 0.5) { counts.client_closes++; this.ws.close(1000); } else { counts.client_drops++; this.ws.terminate(); }
    }

    // Takes the bulk topic and stops reading for stallS (long enough for the kernel's buffers to
    // fill and the server to give up on us with `overflow`), then reads on: the events still in
    // the buffers, the overflow frame and the close (Node sees none of them while paused), and
    // reconnects from the last event read. The bulk topic is taken only now, so the socket's
    // receive buffer has not grown for it.
    stall() {
      const ws = this.ws;
      if (!ws) return;
      counts.stalls++;
      this.clearTimers();
      ws.send(JSON.stringify({ op: 'subscribe', req: 'b', topics: [BULK] }));
      ws._socket.pause();
      this.later('stall', o.stallS * 1000, () => {
        ws._socket.resume();
        // Not dropped after all (counted by the caller as a stall without a 4000): start over.
        this.later('churn', 1000, () => this.churn());
      });
    }
  }

  // The publisher: batches every 100 ms, one request in flight, topics round-robin; what a late
  // request misses goes into the next batch, so the rate holds on average.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const topicN = new Array(o.topics).fill(0);
  let bulkN = 0;
  let nextTopic = 0;
  const pad = 'x'.repeat(o.bulkBytes);
  let publishing = true;
  const publisherDone = (async () => {
    const t0 = Date.now();
    let sent = 0;
    let bulkSent = 0;
    while (publishing) {
      const elapsed = (Date.now() - t0) / 1000;
      const events = [];
      for (; sent < elapsed * o.rate; sent++) {
        const k = nextTopic++ % o.topics;
        const n = ++topicN[k];
        events.push({ type: 'queue.depth-changed', subject: `q${k}`, data: { depth: n, queue_id: `q${k}`, longest_wait_seconds: 1 } });
      }
      for (; bulkSent < elapsed * o.bulkRate; bulkSent++) {
        events.push({ type: 'queue.depth-changed', subject: 'bulk', data: { depth: ++bulkN, queue_id: 'bulk', longest_wait_seconds: 1, pad } });
      }
      for (let start = 0; start < events.length; start += 1000) {
        const body = JSON.stringify({ events: events.slice(start, start + 1000) });
        const status = await new Promise((resolve) => {
          const req = http.request(`http://127.0.0.1:${server.port}/v1/events`, {
            method: 'POST', agent, headers: { Authorization: `Bearer ${pubToken}`, 'Content-Type': 'application/json' },
          }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
          req.on('error', () => resolve(0));
          req.end(body);
        });
        if (status === 200) counts.published += Math.min(1000, events.length - start);
        else counts.publish_failures++;
      }
      await sleep(100);
    }
  })();

  // The server's own count of overflow closes (the client rarely sees the 4000: a stalled
  // socket's buffers are full, so the close frame cannot be written before TCP closes).
  const metric = (name) => new Promise((resolve) => {
    http.get(`http://127.0.0.1:${server.port}/metrics`, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve(Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN)));
    }).on('error', () => resolve(NaN));
  });
  let overflowCloses = 0;

  // Samples: the server's RSS and descriptors, and the client's view.
  const samples = [];
  const t0 = Date.now();
  const conns = [];
  const takeSample = () => {
    const s = serverSample(pid);
    const open = conns.reduce((a, c) => a + (c.ws?.readyState === WebSocket.OPEN ? 1 : 0), 0);
    samples.push({ t_s: Math.round((Date.now() - t0) / 100) / 10, rss_kb: s.rssKb, fds: s.fds, open, events: counts.events,
      published: counts.published, resumes: counts.resumes, refreshes: counts.refreshes, overflows: overflowCloses });
    if (!stopping) metric('globemeet_overflow_closes_total').then((n) => { if (n >= 0) overflowCloses = n; });
  };
  const sampler = setInterval(takeSample, o.sampleEveryS * 1000);

  // Open the connections in waves so the accept queue is not overrun.
  for (let i = 0; i < o.connections; i++) {
    const c = new Connection(i);
    conns.push(c);
    c.connect();
    if (i % 200 === 199) await sleep(50);
  }
  log(`${o.connections} connections opening; load for ${o.durationS} s (warm-up ${o.warmupS} s)`);
  let lastLog = Date.now();
  while (Date.now() - t0 < o.durationS * 1000) {
    await sleep(1000);
    if (Date.now() - lastLog >= 60000) {
      lastLog = Date.now();
      const s = samples[samples.length - 1];
      log(`t=${s.t_s}s RSS ${s.rss_kb} KB fds ${s.fds} open ${s.open} events ${counts.events} resumes ${counts.resumes} ` +
        `refreshes ${counts.refreshes} overflows ${overflowCloses} gaps ${counts.gaps} resets ${counts.resets}`);
    }
  }
  overflowCloses = await metric('globemeet_overflow_closes_total');
  takeSample();
  const loadEnd = (Date.now() - t0) / 1000;

  // Wind down: no more churn, every connection closes, the publisher's keep-alive goes too.
  stopping = true;
  publishing = false;
  await publisherDone;
  agent.destroy();
  clearInterval(minter);
  for (const c of conns) {
    c.clearTimers();
    if (c.ws) { c.ws._socket?.resume(); c.ws.close(1000); }
  }
  const closeDeadline = Date.now() + 30000;
  while (conns.some((c) => c.ws) && Date.now() < closeDeadline) await sleep(200);
  for (const c of conns) c.ws?.terminate();
  // The server closes its side once it has our close frame (or the TCP EOF): wait for the
  // descriptor count to settle at the baseline, or give up after 20 s and report what is left.
  const fdDeadline = Date.now() + 20000;
  let after = serverSample(pid);
  while (after.fds > baseline.fds && Date.now() < fdDeadline) { await sleep(250); after = serverSample(pid); }
  clearInterval(sampler);
  takeSample();

  server.proc.kill('SIGTERM');
  const exit = await server.exited;

  // Summary: RSS around the end of warm-up against the end of the load, the slope after warm-up.
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
  const window = Math.max(o.sampleEveryS * 3, Math.min(60, o.warmupS / 3));
  const during = samples.filter((s) => s.t_s <= loadEnd);
  const warmSamples = during.filter((s) => s.t_s > o.warmupS - window && s.t_s <= o.warmupS);
  const endSamples = during.filter((s) => s.t_s > loadEnd - window);
  const after_ = during.filter((s) => s.t_s > o.warmupS);
  let slope = NaN;
  if (after_.length > 2) {
    const mx = after_.reduce((a, s) => a + s.t_s, 0) / after_.length;
    const my = after_.reduce((a, s) => a + s.rss_kb, 0) / after_.length;
    const num = after_.reduce((a, s) => a + (s.t_s - mx) * (s.rss_kb - my), 0);
    const den = after_.reduce((a, s) => a + (s.t_s - mx) ** 2, 0);
    slope = (num / den) * 60;  // KB per minute
  }
  const rssWarm = median(warmSamples.map((s) => s.rss_kb));
  const rssEnd = median(endSamples.map((s) => s.rss_kb));
  return {
    options: { ...o, log: undefined, serverBinary: o.serverBinary },
    load_seconds: Math.round(loadEnd),
    rss_baseline_kb: baseline.rssKb,
    rss_warm_kb: rssWarm,
    rss_end_kb: rssEnd,
    rss_peak_kb: Math.max(...during.map((s) => s.rss_kb)),
    rss_growth_pct: Math.round(((rssEnd - rssWarm) / rssWarm) * 10000) / 100,
    rss_slope_kb_per_min: Math.round(slope * 10) / 10,
    fd_baseline: baseline.fds,
    fd_peak: Math.max(...samples.map((s) => s.fds)),
    fd_after_close: after.fds,
    counts,
    overflow_closes: overflowCloses,
    close_codes: closeCodes,
    server_exit: exit,
    samples,
  };
}

export function samplesCsv(samples) {
  const cols = Object.keys(samples[0]);
  return `${cols.join(',')}\n${samples.map((s) => cols.map((c) => s[c]).join(',')).join('\n')}\n`;
}
