// The wasm core (platform/wasm) behind typed functions. The module is instantiated once, when
// this file is first imported (top-level await), so a GlobeMeetWS can be used synchronously.
// Every buffer allocated here is freed here; the bridge's JSON results are parsed and released
// at once, so callers see plain values only.
import createGlobeMeetCore from './globemeet_core.js';
import type { GlobeMeetCoreModule } from './globemeet_core.js';

const wasm: GlobeMeetCoreModule = await createGlobeMeetCore();
const encoder = new TextEncoder();

export type TimerKind = 'reconnect' | 'handshake' | 'heartbeat' | 'pong' | 'refresh' | 'stable';
export type SessionStateName =
  'idle' | 'fetching_token' | 'connecting' | 'authenticating' | 'live' | 'reconnecting' | 'closed';
export type NoticeKind =
  'reconnected' | 'reset' | 'overflow' | 'error' | 'subscription_failed' | 'revoked' | 'token_expiring';

// The session's actions, as platform/wasm/README.md describes them.
export type SessionAction =
  | { kind: 'open'; connection: number; url: string; subprotocol: string; authorization: string | null;
      last_event_id: string | null }
  | { kind: 'send'; connection: number; text: string }
  | { kind: 'close'; connection: number; code: number; reason: string }
  | { kind: 'arm_timer'; timer: TimerKind; at_ms: number }
  | { kind: 'cancel_timer'; timer: TimerKind }
  | { kind: 'request_token' }
  | { kind: 'deliver'; frame: string; handles: number[]; id: string }
  | { kind: 'state_changed'; from: SessionStateName; to: SessionStateName; code: number; reason: string }
  | { kind: 'notice'; notice: NoticeKind; detail: string; message: string; handle: number; close_code: number;
      close_reason: string };

export interface SessionConfig {
  endpoint: string;
  token_in_header: boolean;
  token_provider?: boolean;
  backoff?: { min_ms?: number; max_ms?: number; factor?: number };
  handshake_timeout_ms?: number;
  refresh_before_ms?: number;
  stable_after_ms?: number;
  default_heartbeat_ms?: number;
}

export interface SessionStatus { state: SessionStateName; last_event_id: string | null; final_code: number }

type Failure = { ok: false; code: string; message: string };

// Copies `text` as UTF-8 into wasm memory for the duration of `use(pointer, length)`.
function withText<T>(text: string, use: (pointer: number, length: number) => T): T {
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
    wasm._gm_topic_validate_pattern(p, n)));
  return r.valid ? null : { code: r.code, message: r.message };
}

/** One core::client_session in wasm memory; destroy() releases it. */
export class CoreSession {
  #handle: number;

  /** Throws a `{code, message}` Error when the core refuses the config. */
  constructor(config: SessionConfig) {
    const created = withText(JSON.stringify(config), (p, n) =>
      takeJson<{ ok: true; session: number } | Failure>(wasm._gm_session_create(p, n)));
    if (!created.ok) throw Object.assign(new Error(created.message), { code: created.code });
    this.#handle = created.session;
  }

  start(now: number, random: number): void { accepted(wasm._gm_session_start(this.#live(), now, random), 'start'); }
  tokenObtained(now: number, random: number, token: string): void {
    withText(token, (p, n) => accepted(wasm._gm_session_token_obtained(this.#live(), now, random, p, n), 'a token'));
  }
  tokenFailed(now: number, random: number, reason: string): void {
    withText(reason, (p, n) => accepted(wasm._gm_session_token_failed(this.#live(), now, random, p, n), 'token_failed'));
  }
  opened(now: number, random: number, connection: number): void {
    accepted(wasm._gm_session_opened(this.#live(), now, random, connection), 'opened');
  }
  frame(now: number, random: number, connection: number, text: string): void {
    withText(text, (p, n) => accepted(wasm._gm_session_frame(this.#live(), now, random, connection, p, n), 'a frame'));
  }
  closed(now: number, random: number, connection: number, code: number, reason: string): void {
    withText(reason, (p, n) =>
      accepted(wasm._gm_session_closed(this.#live(), now, random, connection, code, p, n), `close code ${code}`));
  }
  timerFired(now: number, random: number, timer: TimerKind): void {
    withText(timer, (p, n) => accepted(wasm._gm_session_timer_fired(this.#live(), now, random, p, n), `timer ${timer}`));
  }
  subscribe(now: number, random: number, pattern: string): { ok: true; handle: number } | Failure {
    return withText(pattern, (p, n) => takeJson(wasm._gm_session_subscribe(this.#live(), now, random, p, n)));
  }
  unsubscribe(now: number, random: number, handle: number): void {
    accepted(wasm._gm_session_unsubscribe(this.#live(), now, random, handle), 'unsubscribe');
  }
  stop(now: number, random: number): void { accepted(wasm._gm_session_stop(this.#live(), now, random), 'stop'); }
  setLastEventId(id: string): boolean {
    return withText(id, (p, n) => wasm._gm_session_set_last_event_id(this.#live(), p, n) === 1);
  }
  takeActions(): SessionAction[] { return takeJson(wasm._gm_session_take_actions(this.#live())); }
  status(): SessionStatus { return takeJson(wasm._gm_session_status(this.#live())); }

  get destroyed(): boolean { return this.#handle === 0; }
  destroy(): void {
    if (this.#handle !== 0) wasm._gm_session_destroy(this.#handle);
    this.#handle = 0;
  }

  #live(): number {
    if (this.#handle === 0) throw new Error('GlobeMeet wasm session used after destroy()');
    return this.#handle;
  }
}
