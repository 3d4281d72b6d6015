// The wasm core (platform/wasm) behind typed functions. Nothing happens on import: the module
// is instantiated on first use (loadCore(), memoized), so the package has no top-level await
// and every bundler target accepts it. Every buffer allocated here is freed here; the bridge's
// JSON results are parsed and released at once, so callers see plain values only.
import createGlobeMeetCore from './globemeet_core.js';
import type { GlobeMeetCoreModule } from './globemeet_core.js';
import { wasmLocation } from './wasm_location.js';

let wasm: GlobeMeetCoreModule | undefined;
let loading: Promise<void> | undefined;
const encoder = new TextEncoder();

/** True once loadCore() has finished: from then on everything here is synchronous. */
export function coreLoaded(): boolean { return wasm !== undefined; }

/**
 * Instantiates the core once. Browsers compile the wasm while it downloads
 * (instantiateStreaming) from its own URL, which bundlers rewrite to the asset they emit;
 * Node reads it from disk beside this file (its fetch cannot read file: URLs).
 */
export function loadCore(): Promise<void> {
  loading ??= new Promise<GlobeMeetCoreModule>((resolve, reject) => {
    createGlobeMeetCore({
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) {
        // The factory's own promise would never settle if this failed: reject from here.
        compile(imports).then((result) => receive(result.instance), reject);
        return {};
      },
    }).then(resolve, reject);
  }).then((module) => { wasm = module; }, (e: unknown) => {
    loading = undefined;  // a later client tries again
    throw e;
  });
  return loading;
}

async function compile(imports: WebAssembly.Imports): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  const url = wasmLocation();
  if (url.protocol === 'file:') {
    const name = 'node:fs/promises';  // a variable, so that bundlers for browsers leave it alone
    const fs = (await import(/* webpackIgnore: true */ /* @vite-ignore */ name)) as {
      readFile(path: URL): Promise<Uint8Array<ArrayBuffer>>;
    };
    return WebAssembly.instantiate(await fs.readFile(url), imports);
  }
  if (typeof WebAssembly.instantiateStreaming === 'function') {
    try {
      return await WebAssembly.instantiateStreaming(fetch(url, { credentials: 'same-origin' }), imports);
    } catch (e) {
      // A server that does not send application/wasm: compile from the bytes instead.
      if (!(e instanceof TypeError)) throw e;
    }
  }
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`GlobeMeet wasm core: ${url.href} answered HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    // A development server's HTML fallback, typically: Vite's dev server pre-bundles
    // dependencies into node_modules/.vite/deps, where the wasm is not.
    throw new Error(`GlobeMeet wasm core: ${url.href} is not the wasm (${response.headers.get('content-type') ?? 'no type'}); ` +
      "serve @globemeet/sdk/dist/globemeet_core.wasm there, or with Vite's dev server set " +
      "optimizeDeps: { exclude: ['@globemeet/sdk'] }");
  }
  return WebAssembly.instantiate(bytes, imports);
}

function core(): GlobeMeetCoreModule {
  if (wasm === undefined) throw new Error('GlobeMeet wasm core used before loadCore() finished');
  return wasm;
}

export type TimerKind = 'reconnect' | 'handshake' | 'heartbeat' | 'pong' | 'refresh' | 'stable' | 'resend';
export type SessionStateName =
  'idle' | 'fetching_token' | 'connecting' | 'authenticating' | 'live' | 'reconnecting' | 'closed';
export type NoticeKind =
  'reconnected' | 'reset' | 'overflow' | 'error' | 'subscription_failed' | 'revoked' | 'token_expiring' | 'subscribed' |
  'snapshotted';
/** Why the client asks for a token (core::token_reason). */
export type TokenReason = 'connect' | 'refresh' | 'expiring' | 'expired' | 'refused';

// The session's actions, as platform/wasm/README.md describes them.
export type SessionAction =
  | { kind: 'open'; connection: number; url: string; subprotocol: string; authorization: string | null;
      last_event_id: string | null }
  | { kind: 'send'; connection: number; text: string }
  | { kind: 'close'; connection: number; code: number; reason: string }
  | { kind: 'arm_timer'; timer: TimerKind; at_ms: number }
  | { kind: 'cancel_timer'; timer: TimerKind }
  | { kind: 'request_token'; reason: TokenReason }
  | { kind: 'deliver'; frame: string; handles: number[]; id: string; snapshot: boolean; delay_ms: number | null }
  | { kind: 'state_changed'; from: SessionStateName; to: SessionStateName; code: number; reason: string }
  | { kind: 'notice'; notice: NoticeKind; detail: string; message: string; handle: number; close_code: number;
      close_reason: string };

export interface SessionConfig {
  endpoint: string;
  token_in_header: boolean;
  token_provider?: boolean;
  conflate?: boolean;
  backoff?: { min_ms?: number; max_ms?: number; factor?: number };
  handshake_timeout_ms?: number;
  refresh_before_ms?: number;
  stable_after_ms?: number;
  default_heartbeat_ms?: number;
}

export interface SessionStatus { state: SessionStateName; last_event_id: string | null; final_code: number }
/** core::latency_stats: delays of live events (p50/p99 over the last 1,000) and the clock offset, ms. */
export interface SessionLatency { count: number; p50_ms: number; p99_ms: number; clock_offset_ms: number }

type Failure = { ok: false; code: string; message: string };

// Copies `text` as UTF-8 into wasm memory for the duration of `use(pointer, length)`.
function withText<T>(text: string, use: (pointer: number, length: number) => T): T {
  const wasm = core();
  const bytes = encoder.encode(text);
  const pointer = wasm._gm_alloc(bytes.length);
  if (pointer === 0) throw new Error('GlobeMeet wasm core: out of memory');
  try {
    wasm.HEAPU8.set(bytes, pointer);  // HEAPU8 is read again each time: memory growth replaces it
    return use(pointer, bytes.length);
  } finally {
    wasm._gm_free(pointer);
  }
}

// Reads a result buffer of the bridge as JSON and frees it.
function takeJson<T>(pointer: number): T {
  if (pointer === 0) throw new Error('GlobeMeet wasm core: out of memory');
  const wasm = core();
  try {
    return JSON.parse(wasm.UTF8ToString(pointer)) as T;
  } finally {
    wasm._gm_free(pointer);
  }
}

function accepted(result: number, what: string): void {
  if (result !== 1) throw new TypeError(`GlobeMeet wasm core refused ${what}`);
}

/** `null` when `pattern` is a valid subscription pattern, else the core's explanation. */
export function patternProblem(pattern: string): { code: string; message: string } | null {
  const r = withText(pattern, (p, n) => takeJson<{ valid: true } | { valid: false; code: string; message: string }>(
    core()._gm_topic_validate_pattern(p, n)));
  return r.valid ? null : { code: r.code, message: r.message };
}

// A scratch area in wasm memory for the id and topic of each event (no allocation per event).
let scratch = 0;
let scratchSize = 0;
let doubles: Float64Array | undefined;  // over wasm memory; made again when the memory grows

// Writes `text` as UTF-8 at `at`, ASCII (ids, topic names) byte by byte; the byte count.
function writeUtf8(heap: Uint8Array, text: string, at: number, room: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return encoder.encodeInto(text, heap.subarray(at, at + room)).written;
    heap[at + i] = c;
  }
  return text.length;
}

/** One core::client_session in wasm memory; destroy() releases it. */
export class CoreSession {
  #handle: number;

  /** Throws a `{code, message}` Error when the core refuses the config. */
  constructor(config: SessionConfig) {
    const created = withText(JSON.stringify(config), (p, n) =>
      takeJson<{ ok: true; session: number } | Failure>(core()._gm_session_create(p, n)));
    if (!created.ok) throw Object.assign(new Error(created.message), { code: created.code });
    this.#handle = created.session;
  }

  start(now: number, random: number): void { accepted(core()._gm_session_start(this.#live(), now, random), 'start'); }
  tokenObtained(now: number, random: number, token: string): void {
    withText(token, (p, n) => accepted(core()._gm_session_token_obtained(this.#live(), now, random, p, n), 'a token'));
  }
  tokenFailed(now: number, random: number, reason: string): void {
    withText(reason, (p, n) => accepted(core()._gm_session_token_failed(this.#live(), now, random, p, n), 'token_failed'));
  }
  opened(now: number, random: number, connection: number): void {
    accepted(core()._gm_session_opened(this.#live(), now, random, connection), 'opened');
  }
  frame(now: number, random: number, connection: number, text: string): void {
    withText(text, (p, n) => accepted(core()._gm_session_frame(this.#live(), now, random, connection, p, n), 'a frame'));
  }
  /**
   * An `event` frame the caller parsed and checked (client_session::event_received): only id,
   * topic, time and the snapshot flag cross. Returns n >= 0 handles to deliver to (read them
   * with handles(n), then the delay as lastDelayMs) when that was all, or -1 when there are other
   * actions: take them with takeActions() (a `deliver` there has an empty `frame` and means
   * this event).
   */
  event(now: number, random: number, connection: number, id: string, topic: string, time: string,
    snapshot: boolean): number {
    const wasm = core();
    const need = 3 * (id.length + topic.length + time.length);
    if (need > scratchSize) {
      if (scratch !== 0) wasm._gm_free(scratch);
      scratchSize = Math.max(1024, need);
      scratch = wasm._gm_alloc(scratchSize);
      if (scratch === 0) { scratchSize = 0; throw new Error('GlobeMeet wasm core: out of memory'); }
    }
    const heap = wasm.HEAPU8;
    const idBytes = writeUtf8(heap, id, scratch, scratchSize);
    const topicBytes = writeUtf8(heap, topic, scratch + idBytes, scratchSize - idBytes);
    const timeAt = scratch + idBytes + topicBytes;
    const timeBytes = writeUtf8(heap, time, timeAt, scratchSize - idBytes - topicBytes);
    const n = wasm._gm_session_event(this.#live(), now, random, connection, scratch, idBytes,
      scratch + idBytes, topicBytes, timeAt, timeBytes, snapshot ? 1 : 0);
    if (n === -2) throw new TypeError('GlobeMeet wasm core refused an event');
    return n;
  }
  /**
   * The `n` handles of the deliver the last event() returned (a copy: handlers may grow the
   * memory). The bridge leaves that deliver's delay right after them: it is read here too, into
   * lastDelayMs, so the event path makes no call and no object more.
   */
  handles(n: number): number[] {
    const wasm = core();
    const at = wasm._gm_session_handles(this.#live()) / 8;
    if (doubles?.buffer !== wasm.HEAPU8.buffer) doubles = new Float64Array(wasm.HEAPU8.buffer);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = doubles[at + i]!;
    const delay = doubles[at + n]!;
    this.lastDelayMs = Number.isNaN(delay) ? null : delay;
    return out;
  }
  /** The delivery delay (ms) of the deliver handles() read last; null when its time did not parse. */
  lastDelayMs: number | null = null;
  latency(): SessionLatency { return takeJson(core()._gm_session_latency(this.#live())); }
  closed(now: number, random: number, connection: number, code: number, reason: string): void {
    withText(reason, (p, n) =>
      accepted(core()._gm_session_closed(this.#live(), now, random, connection, code, p, n), `close code ${code}`));
  }
  timerFired(now: number, random: number, timer: TimerKind): void {
    withText(timer, (p, n) => accepted(core()._gm_session_timer_fired(this.#live(), now, random, p, n), `timer ${timer}`));
  }
  subscribe(now: number, random: number, pattern: string, snapshot: boolean): { ok: true; handle: number } | Failure {
    return withText(pattern, (p, n) =>
      takeJson(core()._gm_session_subscribe(this.#live(), now, random, p, n, snapshot ? 1 : 0)));
  }
  unsubscribe(now: number, random: number, handle: number): void {
    accepted(core()._gm_session_unsubscribe(this.#live(), now, random, handle), 'unsubscribe');
  }
  stop(now: number, random: number): void { accepted(core()._gm_session_stop(this.#live(), now, random), 'stop'); }
  disconnect(now: number, random: number): void {
    accepted(core()._gm_session_disconnect(this.#live(), now, random), 'disconnect');
  }
  setLastEventId(id: string): boolean {
    return withText(id, (p, n) => core()._gm_session_set_last_event_id(this.#live(), p, n) === 1);
  }
  takeActions(): SessionAction[] { return takeJson(core()._gm_session_take_actions(this.#live())); }
  status(): SessionStatus { return takeJson(core()._gm_session_status(this.#live())); }

  get destroyed(): boolean { return this.#handle === 0; }
  destroy(): void {
    if (this.#handle !== 0) core()._gm_session_destroy(this.#handle);
    this.#handle = 0;
  }

  #live(): number {
    if (this.#handle === 0) throw new Error('GlobeMeet wasm session used after destroy()');
    return this.#handle;
  }
}
