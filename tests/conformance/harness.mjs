// Plays one scenario (a list of steps, see scenarios/lib.mjs) with one driver against a fresh
// scripted server, and says whether the client did what the protocol promises.
//
// Steps are plain objects with one verb each. Strings starting with `$` are filled in when the
// step runs: `$endpoint`, `$jwt:NAME` (a token, made once per scenario with the lifetime the
// scenario's `tokens` gives NAME), `$req` and `$topics` (of the last frame a step matched),
// `$clock:N` (the harness's clock plus N ms, Unix ms: a server clock N ms ahead) and `$iso:N`
// (the same as an RFC 3339 `time`).
//
//   driver: {cmd...}          a command to the driver (README.md)
//   accept: {status, stall, ready, token, after, min_ms, max_ms, within_ms, headers_match}
//                             the next connection attempt: refuse it with `status`, never answer
//                             it (`stall`), or accept it, wait for its token (header or `auth`
//                             frame; `token` checks which) and send `ready` (members from
//                             `ready`, none when `ready: false`)
//   no_attempt: {for_ms}      no connection attempt for that long
//   expect_frame: match       the client's next frame (pings aside) matches; `skip_other` lets
//                             other frames pass; `after`/`min_ms`/`max_ms` bound its time
//   no_frame: match, for_ms   no such frame
//   send / send_raw / send_binary   a frame to the client
//   close: {code, reason}     a close frame; `cut: true` ends TCP without one; `silence: true`
//                             stops answering `ping`; `pause_reading: ms` reads nothing for ms;
//   pong_clock: {ahead_ms}    `pong` carries `time_ms`: the harness's clock plus ahead_ms
//   client_closes: {code}     the client closes the connection (with that code)
//   expect: match, and        the next matching observation (others may come between); `and`
//                             must then hold too; `after`/`min_ms`/`max_ms` bound its time
//   no_obs: match, for_ms     no such observation
//   poll: {cmd}, until: match repeat the command until its answer matches
//   events: {sub: [ids]}      exactly these events reached `sub`, in this order
//   mark: name / wait_ms: ms / check: (ctx) => {}   a time mark, a pause, an escape hatch
// Marks `cut`, `close`, `silence`, `attempt` (the last accepted step's attempt), `client_close`
// and `expect` are set by the steps of those names.
//
// Time: the harness stamps attempts and observations when it sees them and checks bounds only
// (`min_ms`/`max_ms` from a mark). Bounds come from the protocol; margins absorb a busy machine.
import { DriverProcess } from './driver_process.mjs';
import { ScriptedServer } from './scripted_server.mjs';

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
// A JWT-shaped token: clients read `exp` (to refresh in time), they never verify signatures.
export function makeJwt(name, lifetimeS) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'conformance', aud: 'globemeet-events', sub: 'conformance', tenant: 'acme', perms: ['>'], iat: now, exp: now + lifetimeS, jti: name };
  return `${b64({ alg: 'HS256', typ: 'JWT', kid: 'conformance' })}.${b64(claims)}.${Buffer.from(`sig-${name}`).toString('base64url')}`;
}
export function jwtExp(token) {
  try { return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp; } catch { return 0; }
}

// `expected` matches `actual` when every member it names matches: objects recursively, arrays
// element by element and of equal length, `null` only when the member is absent or null.
export function matches(actual, expected) {
  if (expected === null) return actual === undefined || actual === null;
  if (typeof expected === 'function') return expected(actual);
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(actual[i], e));
  }
  if (typeof expected === 'object') {
    return actual !== null && typeof actual === 'object' && Object.entries(expected).every(([k, v]) => matches(actual[k], v));
  }
  return actual === expected;
}

class ScenarioFailure extends Error {}
const fail = (message) => { throw new ScenarioFailure(message); };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runScenario(scenario, driverSpec) {
  const started = performance.now();
  const server = await new ScriptedServer().start();
  // Attempt k is answered as the k-th `accept` step says, planned up front: a client may
  // connect before the harness reaches that step.
  for (const step of scenario.steps) if (step.accept) server.plan({ status: step.accept.status ?? 101, stall: step.accept.stall, body: step.accept.body, headers: step.accept.headers });
  const driver = new DriverProcess(driverSpec);
  const ctx = { server, driver, conn: null, lastFrame: null, marks: {}, tokens: new Map(), scenario, log: [] };
  let error = null;
  try {
    await driver.start();
    for (const [i, step] of scenario.steps.entries()) {
      try {
        await runStep(ctx, fill(ctx, step));
      } catch (e) {
        throw new ScenarioFailure(`step ${i + 1} ${JSON.stringify(step, (k, v) => (typeof v === 'function' ? '<fn>' : v))}: ${e.message}`);
      }
    }
    checkInvariants(ctx);
  } catch (e) {
    error = e;
  } finally {
    await driver.stop().catch(() => {});
    await server.stop().catch(() => {});
  }
  return {
    scenario: scenario.id, driver: driverSpec.name, pass: error === null, ms: Math.round(performance.now() - started),
    error: error === null ? null : (error instanceof ScenarioFailure ? error.message : String(error.stack ?? error)),
    observations: driver.observations.all.map((o) => ({ t: Math.round(o.t - started), ...o.value })),
    frames: server.connections.filter(Boolean).flatMap((c) => c.frames.all.map((f) => ({ t: Math.round(f.t - started), conn: c.n, text: f.text }))),
    attempts: server.attempts.all.map((a) => ({ t: Math.round(a.t - started), n: a.n, status: a.status })),
    stderr: driver.stderr,
  };
}

function fill(ctx, value) {
  if (typeof value === 'string' && value.startsWith('$')) {
    if (value === '$endpoint') return ctx.server.endpoint;
    if (value === '$req') return ctx.lastFrame?.value?.req;
    if (value === '$topics') return ctx.lastFrame?.value?.topics;
    if (value.startsWith('$jwt:')) return token(ctx, value.slice(5));
    if (value.startsWith('$clock:')) return Date.now() + Number(value.slice(7));
    if (value.startsWith('$iso:')) return new Date(Date.now() + Number(value.slice(5))).toISOString();
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => fill(ctx, v));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(ctx, v)]));
  return value;
}

function token(ctx, name) {
  // Unless the scenario says otherwise, each new token lives 60 s longer than the one before,
  // so a later token is always newer (a client refreshes only with a newer `exp`).
  if (!ctx.tokens.has(name)) ctx.tokens.set(name, makeJwt(name, ctx.scenario.tokens?.[name] ?? 3600 + 60 * ctx.tokens.size));
  return ctx.tokens.get(name);
}

function checkBounds(ctx, t, { after, min_ms: min, max_ms: max }, what) {
  if (after === undefined) return;
  const from = ctx.marks[after];
  if (from === undefined) fail(`no mark '${after}'`);
  const elapsed = t - from;
  if (min !== undefined && elapsed < min) fail(`${what} ${Math.round(elapsed)} ms after '${after}', expected at least ${min} ms`);
  if (max !== undefined && elapsed > max) fail(`${what} ${Math.round(elapsed)} ms after '${after}', expected at most ${max} ms`);
}

const isPing = (f) => f.value?.op === 'ping';

async function runStep(ctx, step) {
  const { server, driver } = ctx;
  if (step.driver) return driver.send(step.driver);
  if (step.mark) { ctx.marks[step.mark] = performance.now(); return; }
  if (step.wait_ms !== undefined) return sleep(step.wait_ms);

  if (step.accept) {
    const a = step.accept;
    const attempt = await server.attempts.next(() => true, a.within_ms ?? 8000, { what: 'connection attempt' });
    checkBounds(ctx, attempt.t, a, 'connection attempt');
    ctx.marks.attempt = attempt.t;
    if (a.headers_match && !matches(attempt.headers, a.headers_match)) {
      fail(`handshake headers ${JSON.stringify(attempt.headers)} do not match ${JSON.stringify(a.headers_match)}`);
    }
    if ((a.status ?? 101) !== 101 || a.stall) { ctx.conn = null; return; }
    ctx.conn = attempt.connection;
    // Authenticated by the header, or else by an `auth` frame first (section 1.1).
    if (!ctx.conn.tokenInHeader) {  // the `auth` frame may have come already: take it from the feed
      const frame = await ctx.conn.frames.next((f) => !isPing(f), 5000, { what: 'auth frame' });
      if (frame.value?.op !== 'auth') fail(`first frame without an Authorization header is not auth: ${frame.text}`);
    }
    if (a.token !== undefined && ctx.conn.token !== a.token) fail(`authenticated with token ${ctx.conn.token?.slice(-12)}, expected ${a.token.slice(-12)}`);
    if (a.ready === false) return;
    ctx.conn.send({ op: 'ready', sub: 'conformance', tenant: 'acme', exp: jwtExp(ctx.conn.token ?? ''), heartbeat_ms: 60000, head: 'c0-0', ...(a.ready ?? {}) });
    return;
  }
  if (step.no_attempt) {
    const count = server.attempts.all.length;
    await sleep(step.no_attempt.for_ms);
    if (server.attempts.all.length !== count) fail(`the client connected again (attempt ${server.attempts.all.length}) but must not`);
    return;
  }

  if (step.expect_frame !== undefined) {
    const conn = needConn(ctx);
    const frame = await conn.frames.next((f) => matches(f.value, step.expect_frame), step.within_ms ?? 5000,
      { what: 'client frame', skip: (f) => isPing(f) || (step.skip_other ?? false) });
    ctx.lastFrame = frame;
    checkBounds(ctx, frame.t, step, 'frame');
    return;
  }
  if (step.no_frame !== undefined) {
    const conn = needConn(ctx);
    await sleep(step.for_ms ?? 500);
    const bad = conn.frames.rest().find((f) => matches(f.value, step.no_frame));
    if (bad) fail(`the client sent ${bad.text}, which it must not`);
    return;
  }
  if (step.send !== undefined) return needConn(ctx).send(step.send);
  if (step.send_raw !== undefined) return needConn(ctx).send(step.send_raw);
  if (step.send_binary !== undefined) return needConn(ctx).sendBinary(step.send_binary);
  if (step.close !== undefined) { ctx.marks.close = performance.now(); return needConn(ctx).close(step.close.code, step.close.reason ?? ''); }
  if (step.cut) { ctx.marks.cut = performance.now(); return needConn(ctx).cut(); }
  if (step.silence) { needConn(ctx).silent = true; ctx.marks.silence = performance.now(); return; }
  if (step.pong_clock !== undefined) { needConn(ctx).pongAheadMs = step.pong_clock.ahead_ms; return; }
  if (step.pause_reading !== undefined) return needConn(ctx).pauseReading(step.pause_reading);
  if (step.client_closes !== undefined) {
    const closed = await Promise.race([needConn(ctx).closedPromise, sleep(step.within_ms ?? 5000).then(() => null)]);
    if (closed === null) fail('the client did not close the connection');
    ctx.marks.client_close = closed.t;
    checkBounds(ctx, closed.t, step, 'close');
    if (step.client_closes.code !== undefined && closed.code !== step.client_closes.code) fail(`closed with ${closed.code}, expected ${step.client_closes.code}`);
    return;
  }

  if (step.expect !== undefined) {
    const obs = await driver.observations.next((o) => matches(o.value, step.expect), step.within_ms ?? 5000, { what: 'observation' })
      .catch((e) => fail(`${e.message} ${JSON.stringify(step.expect)}; since: ${JSON.stringify(driver.observations.rest().map((o) => o.value))}`));
    ctx.marks.expect = obs.t;
    checkBounds(ctx, obs.t, step, 'observation');
    // `and`: what the observation found must also satisfy (a precise failure, not a timeout).
    if (step.and !== undefined && !matches(obs.value, step.and)) fail(`${JSON.stringify(obs.value)} does not satisfy ${JSON.stringify(step.and)}`);
    return;
  }
  // Asks the driver again (`poll`, a command) until an answer matches `until`: for state the
  // client settles on without an observation of its own (the resume position after `subscribed`).
  if (step.poll !== undefined) {
    const deadline = performance.now() + (step.within_ms ?? 5000);
    for (;;) {
      driver.send(step.poll);
      const answer = await driver.observations.next((o) => o.value.obs === step.until.obs, 5000, { what: 'answer' });
      if (matches(answer.value, step.until)) return;
      if (performance.now() > deadline) fail(`last answer ${JSON.stringify(answer.value)}, expected ${JSON.stringify(step.until)}`);
      await sleep(50);
    }
  }
  if (step.no_obs !== undefined) {
    await sleep(step.for_ms ?? 500);
    const bad = driver.observations.rest().find((o) => matches(o.value, step.no_obs));
    if (bad) fail(`unexpected observation ${JSON.stringify(bad.value)}`);
    return;
  }
  if (step.events !== undefined) {
    for (const [sub, ids] of Object.entries(step.events)) {
      const got = driver.observations.all.filter((o) => o.value.obs === 'event' && o.value.sub === sub).map((o) => o.value.id);
      if (!matches(got, ids)) fail(`events of ${sub}: ${JSON.stringify(got)}, expected ${JSON.stringify(ids)}`);
    }
    return;
  }
  if (step.check) return step.check(ctx);
  fail(`unknown step ${JSON.stringify(step)}`);
}

function needConn(ctx) {
  if (ctx.conn === null) fail('no accepted connection');
  return ctx.conn;
}

const CLIENT_OPS = new Set(['auth', 'subscribe', 'unsubscribe', 'refresh', 'ping']);

// What holds in every scenario: every handshake offers the subprotocol and keeps the token out
// of the URL (section 1); every client frame is a JSON object with a client op and a `req` of 1
// to 64 characters if any (section 2), and nothing but `auth` comes before `ready`; an event reaches a subscription at most once
// (a snapshot event aside: the latest event of its topic, it may repeat one delivered live); the driver
// understood every command and printed only JSON.
function checkInvariants(ctx) {
  for (const a of ctx.server.attempts.all) {
    const offered = (a.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes('globemeet-events.v1')) fail(`attempt ${a.n} did not offer globemeet-events.v1`);
    if (a.url !== '/v1/events') fail(`attempt ${a.n} asked for ${a.url}: nothing belongs in the URL but the path`);
  }
  for (const c of ctx.server.connections.filter(Boolean)) {
    for (const f of c.frames.all) {
      const v = f.value;
      if (f.binary || v === null || typeof v !== 'object' || Array.isArray(v) || !CLIENT_OPS.has(v.op)) fail(`connection ${c.n}: the client sent ${f.text}`);
      if (v.req !== undefined && (typeof v.req !== 'string' || [...v.req].length < 1 || [...v.req].length > 64)) fail(`bad req in ${f.text}`);
      // Before `ready` a client has nothing to say but its `auth` (section 1.1).
      if (v.op !== 'auth' && !(c.readyAt <= f.t)) fail(`connection ${c.n}: ${v.op} sent before ready`);
    }
  }
  // State changes form one chain: each starts where the one before ended (idle at first).
  let state = 'idle';
  for (const { value } of ctx.driver.observations.all) {
    if (value.obs !== 'state') continue;
    if (value.from !== state) fail(`state change ${value.from} -> ${value.to} after the client was ${state}`);
    state = value.to;
  }
  const seen = new Set();
  for (const { value } of ctx.driver.observations.all) {
    if (value.obs === 'driver_error' || value.obs === 'unparsable') fail(`driver: ${JSON.stringify(value)}`);
    if (value.obs !== 'event' || value.snapshot) continue;
    const key = `${value.sub} ${value.id}`;
    if (seen.has(key)) fail(`event ${value.id} delivered twice to ${value.sub}`);
    seen.add(key);
  }
}
