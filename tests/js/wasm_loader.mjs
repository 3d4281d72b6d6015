// Loads the wasm core (platform/wasm, built by scripts/build) and wraps its flat C bridge in
// small JavaScript functions. Every buffer allocated here is freed here; the bridge's result
// buffers are read as JSON and released at once, so callers only ever see plain values.
//
// The module path comes from GLOBEMEET_WASM, or defaults to the scripts/build output.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const wasmModulePath = process.env.GLOBEMEET_WASM
  ? path.resolve(process.env.GLOBEMEET_WASM)
  : path.resolve(here, '../../build/wasm/platform/wasm/globemeet_core.js');

const encoder = new TextEncoder();

// Copies `input` (a string, encoded as UTF-8, or raw bytes) into wasm memory for the duration
// of `use(pointer, length)`.
function withBytes(m, input, use) {
  const bytes = typeof input === 'string' ? encoder.encode(input) : input;
  const pointer = m._gm_alloc(bytes.length);
  if (pointer === 0) throw new Error('wasm core: out of memory');
  try {
    m.HEAPU8.set(bytes, pointer);  // HEAPU8 is re-read: memory growth replaces the view
    return use(pointer, bytes.length);
  } finally {
    m._gm_free(pointer);
  }
}

// Reads a result buffer of the bridge as JSON and frees it.
function takeJson(m, pointer) {
  if (pointer === 0) throw new Error('wasm core: out of memory');
  try {
    return JSON.parse(m.UTF8ToString(pointer));
  } finally {
    m._gm_free(pointer);
  }
}

function accepted(ok, what) {
  if (ok !== 1) throw new TypeError(`wasm session: ${what} was refused (bad argument)`);
}

// One client session in wasm memory. Call destroy() when done (no finalizers in wasm memory).
class WasmSession {
  #m;
  #handle;

  constructor(m, handle) {
    this.#m = m;
    this.#handle = handle;
  }

  start(nowMs, random) { accepted(this.#m._gm_session_start(this.#live(), nowMs, random), 'start'); }
  tokenObtained(nowMs, random, token) {
    withBytes(this.#m, token, (p, n) =>
      accepted(this.#m._gm_session_token_obtained(this.#live(), nowMs, random, p, n), 'token_obtained'));
  }
  tokenFailed(nowMs, random, reason) {
    withBytes(this.#m, reason, (p, n) =>
      accepted(this.#m._gm_session_token_failed(this.#live(), nowMs, random, p, n), 'token_failed'));
  }
  opened(nowMs, random, connection) {
    accepted(this.#m._gm_session_opened(this.#live(), nowMs, random, connection), 'opened');
  }
  frame(nowMs, random, connection, text) {
    withBytes(this.#m, text, (p, n) =>
      accepted(this.#m._gm_session_frame(this.#live(), nowMs, random, connection, p, n), 'frame'));
  }
  closed(nowMs, random, connection, code, reason = '') {
    withBytes(this.#m, reason, (p, n) =>
      accepted(this.#m._gm_session_closed(this.#live(), nowMs, random, connection, code, p, n), `closed ${code}`));
  }
  timerFired(nowMs, random, timer) {
    withBytes(this.#m, timer, (p, n) =>
      accepted(this.#m._gm_session_timer_fired(this.#live(), nowMs, random, p, n), `timer '${timer}'`));
  }
  // {ok:true, handle} or {ok:false, code:'invalid_topic', message}; `options.snapshot` asks for the current state
  subscribe(nowMs, random, pattern, options = {}) {
    return withBytes(this.#m, pattern, (p, n) =>
      takeJson(this.#m, this.#m._gm_session_subscribe(this.#live(), nowMs, random, p, n, options.snapshot ? 1 : 0)));
  }
  unsubscribe(nowMs, random, handle) {
    accepted(this.#m._gm_session_unsubscribe(this.#live(), nowMs, random, handle), 'unsubscribe');
  }
  stop(nowMs, random) { accepted(this.#m._gm_session_stop(this.#live(), nowMs, random), 'stop'); }
  setLastEventId(id) {
    return withBytes(this.#m, id, (p, n) => this.#m._gm_session_set_last_event_id(this.#live(), p, n) === 1);
  }
  // The actions since the last call, in order (shapes: platform/wasm/README.md).
  // An event frame parsed by the caller: only id, topic, time and the snapshot flag cross
  // (gm_session_event). Returns the bridge's answer: n >= 0 (then `handles` holds the n handles
  // and `delayMs` the delivery delay, null when unknown) or -1 (take the actions).
  event(nowMs, random, connection, id, topic, time = '', snapshot = false) {
    return withBytes(this.#m, id, (ip, il) => withBytes(this.#m, topic, (tp, tl) => withBytes(this.#m, time, (mp, ml) => {
      const n = this.#m._gm_session_event(this.#live(), nowMs, random, connection, ip, il, tp, tl, mp, ml, snapshot ? 1 : 0);
      if (n === -2) throw new TypeError('wasm session refused an event');
      const at = this.#m._gm_session_handles(this.#live()) / 8;
      const heap = new Float64Array(this.#m.HEAPU8.buffer);
      const delay = n > 0 ? heap[at + n] : NaN;  // the bridge leaves the delay right after the handles
      return { n, handles: n > 0 ? Array.from(heap.subarray(at, at + n)) : [], delayMs: Number.isNaN(delay) ? null : delay };
    })));
  }
  // {count, p50_ms, p99_ms, clock_offset_ms}
  latency() { return takeJson(this.#m, this.#m._gm_session_latency(this.#live())); }
  takeActions() { return takeJson(this.#m, this.#m._gm_session_take_actions(this.#live())); }
  // {state, last_event_id, final_code}
  status() { return takeJson(this.#m, this.#m._gm_session_status(this.#live())); }
  destroy() {
    if (this.#handle !== 0) this.#m._gm_session_destroy(this.#handle);
    this.#handle = 0;
  }

  #live() {
    if (this.#handle === 0) throw new Error('wasm session: used after destroy()');
    return this.#handle;
  }
}

// Instantiates the module and returns the core's functions.
export async function loadCore(modulePath = wasmModulePath) {
  if (!existsSync(modulePath)) {
    throw new Error(`wasm core not found at ${modulePath}: run scripts/build (or set GLOBEMEET_WASM)`);
  }
  const createGlobeMeetCore = createRequire(import.meta.url)(modulePath);
  // The wasm is its own file beside the factory; Node 20's fetch cannot read a file path, so
  // the bytes are handed over (wasmBinary).
  const m = await createGlobeMeetCore({ wasmBinary: readFileSync(modulePath.replace(/\.js$/, '.wasm')) });

  const text1 = (fn) => (input) => withBytes(m, input, (p, n) => takeJson(m, fn(p, n)));
  const text2 = (fn) => (a, b) => withBytes(m, a, (pa, na) => withBytes(m, b, (pb, nb) => fn(pa, na, pb, nb)));

  return {
    topic: {
      validateName: text1(m._gm_topic_validate_name),        // {valid, code?, message?}
      validatePattern: text1(m._gm_topic_validate_pattern),
      matches: (pattern, name) => text2(m._gm_topic_matches)(pattern, name) === 1,
      contains: (outer, inner) => text2(m._gm_topic_contains)(outer, inner) === 1,
    },
    eventId: {
      parse: text1(m._gm_event_id_parse),                     // {valid, epoch?, seq?}
    },
    backoff: {
      delay: ({ min_ms, max_ms, factor }, attempt, random) => m._gm_backoff_delay(min_ms, max_ms, factor, attempt, random),
    },
    codec: {
      // {ok:true, canonical} (the canonical re-encoding) or {ok:false, code, message}
      // The shipped module has no client-frame decoder (issue 11: the SDK never decodes a client
      // frame, and the bundle stays under 100 KB); the client vectors run natively (core.vectors).
      decodeClient: m._gm_codec_decode_client ? text1(m._gm_codec_decode_client) : undefined,
      decodeServer: text1(m._gm_codec_decode_server),
      checkStrictJson: (input, maxBytes) =>
        withBytes(m, input, (p, n) => takeJson(m, m._gm_codec_check_strict_json(p, n, maxBytes))),
    },
    // Throws an Error with `code` 'bad_config' when the config is refused.
    createSession(config) {
      const created = withBytes(m, JSON.stringify(config), (p, n) => takeJson(m, m._gm_session_create(p, n)));
      if (!created.ok) throw Object.assign(new Error(created.message), { code: created.code });
      return new WasmSession(m, created.session);
    },
  };
}
