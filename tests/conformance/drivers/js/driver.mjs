// The conformance driver for the npm package (js/dist): commands on stdin, observations on
// stdout, as tests/conformance/README.md specifies. It maps commands to GlobeMeetWS calls and
// GlobeMeetWS events to observations, nothing more.
import { createInterface } from 'node:readline';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const dist = process.env.GLOBEMEET_SDK_DIST ?? path.resolve(import.meta.dirname, '../../../../js/dist');
const { GlobeMeetWS, GlobeMeetCloseError } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
await GlobeMeetWS.ready();  // so a bad pattern throws from subscribe() (subscribe_error)

const out = (obs) => process.stdout.write(`${JSON.stringify(obs)}\n`);
let client = null;
const subs = new Map();       // sub name -> {pattern, snapshot, unsubscribe}
let pendingToken = null;      // {resolve, reject} of the provider call the harness must answer
let closing = null;           // resolves once the state is `closed` after a `close` command

function subsFor(pattern) {
  return [...subs].filter(([, s]) => s.pattern === pattern).map(([name]) => name);
}

function subscribe(sub, pattern, snapshot = false) {
  try {
    const subscription = client.subscribe(pattern, (event, meta) => out({
      obs: 'event', sub, id: event.id, topic: event.topic, type: event.type, snapshot: meta.snapshot, delay_ms: meta.delayMs,
    }), snapshot ? { snapshot: true } : undefined);
    // subscribe() returns the unsubscribe function (a Subscription object that is callable).
    subs.set(sub, { pattern, snapshot, unsubscribe: () => (typeof subscription === 'function' ? subscription() : subscription.unsubscribe()) });
  } catch (e) {
    out({ obs: 'subscribe_error', sub, code: e.code ?? 'exception', message: e.message });
  }
}

function connect(cmd) {
  const options = cmd.options ?? {};
  const config = { endpoint: cmd.endpoint, WebSocket };
  if (cmd.token !== undefined) config.token = cmd.token;
  else config.getToken = (reason) => new Promise((resolve, reject) => {
    pendingToken = { resolve, reject };
    out({ obs: 'token_request', ...(typeof reason === 'string' ? { reason } : {}) });
  });
  if (cmd.last_event_id !== undefined) config.lastEventId = cmd.last_event_id;
  const backoff = {};
  if (options.backoff_base_ms !== undefined) backoff.min_ms = options.backoff_base_ms;
  if (options.backoff_max_ms !== undefined) backoff.max_ms = options.backoff_max_ms;
  if (Object.keys(backoff).length > 0) config.backoff = backoff;
  if (options.conflate === true) config.conflate = true;
  // handshake_timeout_ms and refresh_before_ms: the npm package has no such options (its
  // defaults, 10 s and 60 s, are the protocol's).
  client = new GlobeMeetWS(config);
  client.on('state', ({ from, to, code }) => {
    out({ obs: 'state', from, to, code });
    if (to === 'closed' && closing) closing();
  });
  client.on('reconnect', () => out({ obs: 'reconnect' }));
  client.on('reset', ({ reason }) => out({ obs: 'reset', reason }));
  client.on('overflow', ({ lastId }) => out({ obs: 'overflow', last_id: lastId }));
  client.on('error', (e) => {
    if (e instanceof GlobeMeetCloseError) out({ obs: 'error', code: 'closed', close_code: e.closeCode, reason: e.reason });
    else out({ obs: 'error', code: e.code, close_code: 0, message: e.message });
  });
  client.on('subscription_failed', ({ pattern, code }) => {
    for (const sub of subsFor(pattern)) out({ obs: 'subscription_failed', sub, code });
  });
  client.on('revoked', ({ pattern }) => {
    for (const sub of subsFor(pattern)) out({ obs: 'revoked', sub });
  });
  client.on('token_expiring', () => out({ obs: 'token_expiring' }));
  client.on('subscribed', ({ pattern }) => {
    for (const sub of subsFor(pattern)) out({ obs: 'subscribed', sub });
  });
  // The library names the pattern: every sub of it that asked for the snapshot is told.
  client.on('snapshot', ({ pattern, count }) => {
    for (const [sub, s] of subs) if (s.pattern === pattern && s.snapshot) out({ obs: 'snapshotted', sub, count });
  });
  for (const { sub, pattern, snapshot } of cmd.subscribe ?? []) subscribe(sub, pattern, snapshot === true);
}

async function close() {
  if (client.state !== 'closed') {
    const done = new Promise((resolve) => { closing = resolve; });
    client.close();
    if (client.state !== 'closed') await done;
  }
  out({ obs: 'closed', code: client.finalCode });
}

function answerToken(fn, value) {
  const pending = pendingToken;
  pendingToken = null;
  if (pending === null) return out({ obs: 'driver_error', message: 'no token request is pending' });
  fn(pending, value);
}

async function handle(cmd) {
  switch (cmd.cmd) {
    case 'connect': return connect(cmd);
    case 'subscribe': return subscribe(cmd.sub, cmd.pattern, cmd.snapshot === true);
    case 'unsubscribe': {
      subs.get(cmd.sub)?.unsubscribe();
      return subs.delete(cmd.sub);
    }
    case 'token': return answerToken((p, t) => p.resolve(t), cmd.token);
    case 'token_error': return answerToken((p, m) => p.reject(new Error(m)), cmd.message ?? 'refused by the harness');
    case 'last_event_id': return out({ obs: 'last_event_id', id: client?.lastEventId ?? null });
    case 'latency': {
      const l = client.latency();
      return out({ obs: 'latency', count: l.count, p50_ms: l.p50Ms, p99_ms: l.p99Ms, clock_offset_ms: l.clockOffsetMs });
    }
    case 'close': return close();
    case 'exit':
      if (client && client.state !== 'closed') client.close();
      return process.exit(0);
    default: return out({ obs: 'driver_error', message: `unknown command ${cmd.cmd}` });
  }
}

out({ obs: 'hello', client: 'js', auth: 'frame' });
// Commands run one after another (a `close` finishes before the next command is read).
let queue = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  queue = queue.then(() => handle(JSON.parse(line))).catch((e) => out({ obs: 'driver_error', message: String(e?.stack ?? e) }));
}).on('close', () => { queue.then(() => handle({ cmd: 'exit' })); });
