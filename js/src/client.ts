// GlobeMeetWS: the adapter between the wasm core's client session and the platform. It makes
// no protocol decisions: it feeds the session its inputs (sockets opening, frames, closes,
// timers, tokens, the user's subscriptions) and performs the actions the session returns
// (open, send, close, timers, token requests, deliveries, notices), in order.
import type { EventForPattern } from './catalogue.js';
import { CoreSession, coreLoaded, loadCore, patternProblem } from './core.js';
import type { SessionAction, SessionConfig, SessionLatency, SessionStateName, TimerKind, TokenReason } from './core.js';
import { GlobeMeetCloseError, GlobeMeetError } from './errors.js';
import { parseEventFrame } from './event_frame.js';
import type { EventEnvelope } from './event_frame.js';
import { SubscriptionEntry } from './subscription.js';
import type { Subscription } from './subscription.js';
import {
  closeCodeForHandshakeStatus, defaultWebSocket, loadDefaultWebSocket, messageText, watchHandshakeStatus,
} from './websocket.js';
import type { WebSocketConstructor, WebSocketLike } from './websocket.js';

/** The connection states, as strings. */
export const ConnectionState = {
  Idle: 'idle',
  FetchingToken: 'fetching_token',
  Connecting: 'connecting',
  Authenticating: 'authenticating',
  Live: 'live',
  Reconnecting: 'reconnecting',
  Closed: 'closed',
} as const satisfies Record<string, SessionStateName>;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export interface BackoffOptions {
  /** Smallest delay ceiling, ms (default 500). */
  min_ms?: number;
  /** Largest delay, ms (default 30000). */
  max_ms?: number;
  /** Growth of the ceiling per attempt (default 2). */
  factor?: number;
}

export interface GlobeMeetWSOptions {
  /** `wss://host/v1/events` (or `ws://` for local development). */
  endpoint: string;
  /** A token (JWT). Without `getToken`, the same token is used until it expires. */
  token?: string;
  /**
   * Token provider, told why it is called: `connect` (a connection needs a token), `refresh`
   * (the token nears `exp`), `expiring` (the server warned), `expired` (the server closed with
   * 4001) or `refused` (4401, e.g. the server restarted with a new signing key; asked once).
   */
  getToken?: (reason: TokenReason) => string | Promise<string>;
  /** Resume after this event id (e.g. saved from a previous run's `lastEventId`). */
  lastEventId?: string;
  /** Reconnect backoff (full jitter). */
  backoff?: BackoffOptions;
  /** Connect at once (default), or only when connect() is called. */
  autoConnect?: boolean;
  /**
   * Let the server conflate gauge events (`queue.depth-changed`, `agent.status-changed`) while
   * this client lags: it then gets the newest value of each gauge topic instead of every
   * intermediate one (docs/protocol.md section 7.1). Default false.
   */
  conflate?: boolean;
  /** WebSocket implementation; default: globalThis.WebSocket, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /**
   * Told every step the client takes below the events: connections opened and closed, frames
   * sent (their `op` only: never a token), timers, token requests, state changes, notices. Not
   * called per event. E.g. `debug: (line) => console.debug(line)`.
   */
  debug?: (line: string) => void;
}

/** subscribe()'s options. */
export interface SubscribeOptions {
  /**
   * Deliver the current state first: the latest event of every topic the pattern matches,
   * marked `event.snapshot === true` and `meta.snapshot`, then live events, with no gap between
   * (docs/protocol.md section 5.3). Asked again on every reconnect, so that a `reset` brings the
   * snapshot in place of the lost events. Default false.
   */
  snapshot?: boolean;
}

/** What a handler learns besides the event (its second argument). */
export interface DeliveryMeta {
  /**
   * How long after the server accepted the event it reached the handler, in ms, on the
   * server's clock (estimated from `ready` and the pongs); null if `event.time` does not parse.
   * For snapshot and replayed events this is their age.
   */
  delayMs: number | null;
  /** A snapshot event (the current state, not a change that just happened). */
  snapshot: boolean;
}

/** The delivery delays of live events (ms): p50 and p99 over the last 1,000, and the clock offset. */
export interface LatencyStats {
  /** Live events in the window: the last ones, at most 1,000 (snapshot and replayed events are left out). */
  count: number;
  /** Median delay of the live events in the window; 0 while count is 0. */
  p50Ms: number;
  /** 99th percentile of the same; 0 while count is 0. */
  p99Ms: number;
  /** The server's clock minus this one, as estimated; 0 until the server named its time. */
  clockOffsetMs: number;
}

/** A state transition; `code` is the close code that caused it (0 if none). */
export interface StateChange { from: ConnectionState; to: ConnectionState; code: number; reason: string }

/** The client's notifications and their payloads. */
export interface GlobeMeetWSEventMap {
  /** Every state transition. */
  state: StateChange;
  /**
   * Live again after a reconnect; resume from `lastEventId` is under way (`{epoch}-0` when no
   * event had come yet: every event since the start of that epoch follows).
   */
  reconnect: { lastEventId: string | null };
  /** The server could not resume (`reason`: retention_exceeded, epoch_changed, future_id): events were lost. */
  reset: { reason: string; message: string };
  /** The server dropped the connection because the client fell behind; it reconnects and resumes. */
  overflow: { lastId: string };
  /**
   * An `error` frame, a token provider failure (`token_unavailable`) or a protocol violation;
   * last of all a GlobeMeetCloseError (`code` `'closed'`, with `closeCode` and `reason`) when
   * the client stops for good other than by close().
   */
  error: GlobeMeetError | GlobeMeetCloseError;
  /** The server removed a subscription (its token no longer permits the pattern). */
  revoked: { pattern: string; reason: string };
  /** The server refused a subscription (`forbidden_topic`, `invalid_topic`, `too_many_subscriptions`). */
  subscription_failed: { pattern: string; code: string; message: string };
  /** The server warned that the token expires soon; a refresh is under way. */
  token_expiring: { message: string };
  /** The server applied a subscription's pattern (on every connection: again after a reconnect). */
  subscribed: { pattern: string };
  /** A `{ snapshot: true }` subscription's snapshot is complete (`count` snapshot events came); live events follow. */
  snapshot: { pattern: string; count: number };
}
export type GlobeMeetWSEventName = keyof GlobeMeetWSEventMap;


const SUBPROTOCOL = 'globemeet-events.v1';
// One line for the `debug` option, without secrets: an `open` loses its authorization, a `send`
// shows only its op.
function describe(action: SessionAction): string {
  if (action.kind === 'send') return `send ${/"op":"(\w+)"/.exec(action.text)?.[1] ?? '?'} on connection ${action.connection}`;
  if (action.kind === 'open') return `open connection ${action.connection} to ${action.url}`;
  const { kind, ...rest } = action;
  return `${kind} ${JSON.stringify(rest)}`;
}
let received: EventEnvelope | undefined;  // the event whose `event` input's actions are being performed
const maxTimeoutMs = 2 ** 31 - 1;  // the largest delay setTimeout honours

export class GlobeMeetWS {
  /**
   * Resolves once the wasm core (and, in Node 20, the `ws` package) is loaded. Not needed:
   * a client made earlier connects as soon as they are. After it, the constructor and
   * subscribe() check their arguments at once and throw; before it, a bad option or
   * pattern is reported by events (`error`, `subscription_failed`).
   */
  static ready(): Promise<void> {
    return Promise.all([loadCore(), loadDefaultWebSocket()]).then(() => undefined);
  }

  #session: CoreSession | undefined;  // created once the core is loaded
  #WebSocket: WebSocketConstructor | undefined;
  readonly #token: string | undefined;
  readonly #getToken: ((reason: TokenReason) => string | Promise<string>) | undefined;
  readonly #options: GlobeMeetWSOptions;
  #pending: SubscriptionEntry[] = [];  // subscribed before the core was loaded
  readonly #subscriptions = new Map<number, SubscriptionEntry>();
  readonly #listeners = new Map<GlobeMeetWSEventName, Set<(payload: never) => void>>();
  readonly #sockets = new Map<number, WebSocketLike>();
  readonly #timers = new Map<TimerKind, ReturnType<typeof setTimeout>>();
  #performing = false;
  #closedByUser = false;
  #ended = false;  // closed before a session existed (close(), or the set-up failed)
  #paused: boolean;  // disconnect() (or autoConnect false): no connection until connect()

  constructor(options: GlobeMeetWSOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('GlobeMeetWS: options are required');
    if (options.token === undefined && options.getToken === undefined) {
      throw new GlobeMeetError('bad_config', 'GlobeMeetWS: pass `token` or `getToken`');
    }
    this.#token = options.token;
    this.#getToken = options.getToken;
    this.#paused = options.autoConnect === false;
    this.#options = { ...options };
    const socket = options.WebSocket !== undefined ? { known: true, WebSocket: options.WebSocket } : defaultWebSocket();
    if (coreLoaded() && socket.known) {
      this.#setUp(socket.WebSocket);  // throws for a bad option, as the docs say
      // Start on the next microtask, so that listeners added right after construction see
      // the first transitions and the first subscriptions go out with the first `subscribe`.
      queueMicrotask(() => this.#startUnlessPaused());
      return;
    }
    // The core is instantiated on first use (no top-level await in the package): connect once
    // it is there. Subscriptions made meanwhile wait in #pending.
    Promise.all([loadCore(), options.WebSocket ?? loadDefaultWebSocket()]).then(
      ([, WebSocketImpl]) => this.#setUpLater(WebSocketImpl),
      (e: unknown) => this.#endEarly(new GlobeMeetError('core_unavailable',
        `GlobeMeetWS: the wasm core could not be loaded: ${e instanceof Error ? e.message : String(e)}`)));
  }

  #setUp(WebSocketImpl: WebSocketConstructor | undefined): void {
    const options = this.#options;
    if (WebSocketImpl === undefined) {
      throw new GlobeMeetError('no_websocket',
        'GlobeMeetWS: no WebSocket implementation; install the `ws` package or pass options.WebSocket');
    }
    this.#WebSocket = WebSocketImpl;
    const config: SessionConfig = {
      endpoint: options.endpoint, token_in_header: false, token_provider: options.getToken !== undefined,
    };
    if (options.conflate !== undefined) config.conflate = options.conflate;
    if (options.backoff !== undefined) config.backoff = { ...options.backoff };
    let session: CoreSession;
    try {
      session = new CoreSession(config);
    } catch (e) {
      const { code, message } = e as { code?: string; message: string };
      throw new GlobeMeetError(code ?? 'bad_config', `GlobeMeetWS: ${message}`);
    }
    if (options.lastEventId !== undefined && !session.setLastEventId(options.lastEventId)) {
      session.destroy();
      throw new GlobeMeetError('invalid_event_id', `GlobeMeetWS: lastEventId '${options.lastEventId}' is not an event id`);
    }
    this.#session = session;
  }

  #setUpLater(WebSocketImpl: WebSocketConstructor | undefined): void {
    if (this.#ended) return;  // close() came first
    try {
      this.#setUp(WebSocketImpl);
    } catch (e) {
      return this.#endEarly(e instanceof GlobeMeetError ? e : new GlobeMeetError('bad_config', String(e)));
    }
    const pending = this.#pending;
    this.#pending = [];
    for (const entry of pending) if (entry.active) this.#register(entry, false);
    this.#startUnlessPaused();
  }

  #startUnlessPaused(): void {
    if (!this.#paused) this.#input((now, random) => this.#session!.start(now, random));
  }

  // Stops a client that never had a session: its error, then the final GlobeMeetCloseError and
  // the state `closed`, as for any client that stops for good.
  #endEarly(error: GlobeMeetError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#endSubscriptions(error.message);
    this.#finalStatus = { last_event_id: this.#options.lastEventId ?? null, final_code: 0 };
    this.#emit('error', error);
    this.#emit('error', new GlobeMeetCloseError(0, error.code, error.message));
    this.#emit('state', { from: 'idle', to: 'closed', code: 0, reason: error.message });
  }

  get #stopped(): boolean { return this.#ended || (this.#session?.destroyed ?? false); }

  /**
   * Calls `handler(event, meta)` for every event whose topic matches `pattern` (NATS-style: `*`
   * one segment, `>` the rest); `meta` holds the delivery delay and whether it is a snapshot
   * event. With `{ snapshot: true }` the current state comes first (SubscribeOptions). Throws a
   * GlobeMeetError `invalid_topic` for a malformed pattern (once the core is loaded; before, it
   * is reported as `subscription_failed`). Returns the Subscription, which is also the
   * function that ends it.
   */
  subscribe<P extends string>(pattern: P, handler: (event: EventForPattern<P>, meta: DeliveryMeta) => void,
    options?: SubscribeOptions): Subscription {
    if (typeof handler !== 'function') throw new TypeError('GlobeMeetWS.subscribe: handler must be a function');
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError('GlobeMeetWS.subscribe: options must be an object');
    }
    if (this.#stopped) throw new GlobeMeetError('closed', 'GlobeMeetWS.subscribe: the client is closed');
    const entry = new SubscriptionEntry(pattern, handler as (event: never, meta: never) => void,
      options?.snapshot === true, (e) => this.#unsubscribe(e));
    if (this.#session === undefined) this.#pending.push(entry);
    else this.#register(entry, true);
    return entry.view;
  }

  #unsubscribe(entry: SubscriptionEntry): void {
    if (!entry.active) return;
    entry.end('unsubscribed', new GlobeMeetError('unsubscribed', `GlobeMeetWS: unsubscribed from '${entry.pattern}'`));
    if (entry.handle === 0 || !this.#subscriptions.delete(entry.handle) || this.#stopped) return;
    this.#input((now, random) => this.#session!.unsubscribe(now, random, entry.handle));
  }

  #register(entry: SubscriptionEntry, throwing: boolean): void {
    const { pattern } = entry;
    const problem = patternProblem(String(pattern));
    if (problem !== null) {
      const message = `GlobeMeetWS.subscribe('${pattern}'): ${problem.message}`;
      if (throwing) throw new GlobeMeetError(problem.code, message);
      entry.end('failed', new GlobeMeetError(problem.code, message));
      return this.#emit('subscription_failed', { pattern, code: problem.code, message });
    }
    this.#input((now, random) => {
      const r = this.#session!.subscribe(now, random, pattern, entry.snapshot);
      if (!r.ok) throw new GlobeMeetError(r.code, `GlobeMeetWS.subscribe('${pattern}'): ${r.message}`);
      entry.handle = r.handle;
      this.#subscriptions.set(r.handle, entry);
    });
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends GlobeMeetWSEventName>(name: K, listener: (payload: GlobeMeetWSEventMap[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => this.off(name, listener);
  }

  /**
   * Adds a listener for the next `name` only; returns the function that removes it before then.
   * Without a listener, returns a promise of the next `name`'s payload.
   */
  once<K extends GlobeMeetWSEventName>(name: K, listener: (payload: GlobeMeetWSEventMap[K]) => void): () => void;
  once<K extends GlobeMeetWSEventName>(name: K): Promise<GlobeMeetWSEventMap[K]>;
  once<K extends GlobeMeetWSEventName>(name: K, listener?: (payload: GlobeMeetWSEventMap[K]) => void):
    (() => void) | Promise<GlobeMeetWSEventMap[K]> {
    if (listener === undefined) return new Promise((resolve) => { this.once(name, resolve); });
    const remove = this.on(name, (payload) => {
      remove();
      listener(payload);
    });
    return remove;
  }

  off<K extends GlobeMeetWSEventName>(name: K, listener: (payload: GlobeMeetWSEventMap[K]) => void): void {
    this.#listeners.get(name)?.delete(listener as (payload: never) => void);
  }

  /**
   * Closes the connection (code 1000) and waits, state `idle`, until connect(): subscriptions
   * and the resume position are kept, so connect() resumes where it stopped. No reconnects meanwhile.
   */
  disconnect(): void {
    if (this.#stopped || this.#closedByUser) return;
    this.#paused = true;
    this.#input((now, random) => this.#session!.disconnect(now, random));
  }

  /**
   * Connects after disconnect() or with `autoConnect: false`, resuming after the last event;
   * does nothing while connected or connecting. Throws a GlobeMeetError `closed` after close().
   */
  connect(): void {
    if (this.#stopped || this.#closedByUser) throw new GlobeMeetError('closed', 'GlobeMeetWS.connect: the client is closed');
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#session?.status().state === 'idle') this.#startUnlessPaused();
  }

  /** Closes the connection (code 1000) and stops for good: no reconnect, no more events. */
  close(): void {
    if (this.#stopped || this.#closedByUser) return;
    this.#closedByUser = true;
    if (this.#session === undefined) {  // the core is still loading: nothing was opened
      this.#ended = true;
      this.#endSubscriptions('the client was closed');
      this.#finalStatus = { last_event_id: this.#options.lastEventId ?? null, final_code: 1000 };
      this.#emit('state', { from: 'idle', to: 'closed', code: 1000, reason: '' });
      return;
    }
    this.#input((now, random) => this.#session!.stop(now, random));
  }

  /**
   * The resume position: the id of the last event delivered, or `{epoch}-0` (the start of the
   * epoch) once subscribed before any event; null before that.
   */
  get lastEventId(): string | null { return this.#status().last_event_id; }

  get state(): ConnectionState { return this.#status().state; }

  /** The delivery delays of live events so far (p50/p99 over the last 1,000) and the clock offset. */
  latency(): LatencyStats {
    if (this.#session !== undefined && !this.#session.destroyed) this.#lastLatency = this.#session.latency();
    const l = this.#lastLatency;
    return { count: l.count, p50Ms: l.p50_ms, p99Ms: l.p99_ms, clockOffsetMs: l.clock_offset_ms };
  }

  #lastLatency: SessionLatency = { count: 0, p50_ms: 0, p99_ms: 0, clock_offset_ms: 0 };

  /** The close code that ended the client once it is closed (1000 after close()), else 0. */
  get finalCode(): number { return this.#status().final_code; }

  #status(): { state: ConnectionState; last_event_id: string | null; final_code: number } {
    if (this.#stopped) return { state: 'closed', ...this.#finalStatus };
    if (this.#session === undefined) return { state: 'idle', last_event_id: this.#options.lastEventId ?? null, final_code: 0 };
    return this.#session!.status();
  }

  #finalStatus = { last_event_id: null as string | null, final_code: 0 };

  // ---- inputs ----------------------------------------------------------------------------------
  // Every input goes to the session with the time and a random number, then its actions run.
  #input(feed: (now: number, random: number) => void): void {
    if (this.#session === undefined || this.#session.destroyed) return;
    feed(Date.now(), Math.random());
    this.#perform();
  }

  #perform(): void {
    if (this.#performing) return;  // an input from inside a callback: the running loop takes its actions
    this.#performing = true;
    try {
      for (let actions = this.#session!.takeActions(); actions.length > 0; actions = this.#session!.takeActions()) {
        for (const action of actions) this.#act(action);
      }
    } finally {
      this.#performing = false;
    }
    if (this.#session!.status().state === 'closed') this.#release();
  }

  #act(action: SessionAction): void {
    const debug = this.#options.debug;
    if (typeof debug === 'function' && action.kind !== 'deliver') debug(`GlobeMeetWS: ${describe(action)}`);
    switch (action.kind) {
      case 'open': return this.#open(action.connection, action.url);
      case 'send': return this.#sockets.get(action.connection)?.send(action.text);
      case 'close': return this.#close(action.connection, action.code, action.reason);
      case 'arm_timer': return this.#arm(action.timer, action.at_ms);
      case 'cancel_timer':
        clearTimeout(this.#timers.get(action.timer));
        this.#timers.delete(action.timer);
        return;
      case 'request_token': return this.#requestToken(action.reason);
      case 'deliver': {
        const meta: DeliveryMeta = { delayMs: action.delay_ms, snapshot: action.snapshot };
        // An empty frame: the event that went in as id and topic (see onmessage).
        if (action.frame !== '') return this.#deliver(JSON.parse(action.frame) as EventEnvelope, action.handles, meta);
        if (received?.id === action.id) return this.#deliver(received, action.handles, meta);
        return;
      }
      case 'state_changed':
        if (action.from === 'live') for (const entry of this.#subscriptions.values()) entry.connectionLost();
        return this.#emit('state', { from: action.from, to: action.to, code: action.code, reason: action.reason });
      case 'notice': return this.#notice(action);
    }
  }

  #open(connection: number, url: string): void {
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket!(url, SUBPROTOCOL);
    } catch (e) {
      // A URL the platform refuses: report it like a failed connection, the session decides.
      queueMicrotask(() => this.#input((now, random) => this.#session!.closed(now, random, connection, 1006, String(e))));
      return;
    }
    this.#sockets.set(connection, socket);
    let refusedStatus = 0;
    watchHandshakeStatus(socket, (status) => { refusedStatus = status; });
    socket.onopen = () => this.#input((now, random) => this.#session!.opened(now, random, connection));
    socket.onmessage = (event) => {
      const text = messageText(event.data);
      // An event frame is parsed once, here; the core gets its id and topic and, in the common
      // case, answers with the handles to call and no JSON at all.
      const parsed = this.#performing ? undefined : parseEventFrame(text);
      const session = this.#session!;
      if (parsed === undefined || session.destroyed) {
        return this.#input((now, random) => session.frame(now, random, connection, text));
      }
      const snapshot = parsed.snapshot === true;
      const n = session.event(Date.now(), Math.random(), connection, parsed.id, parsed.topic, parsed.time, snapshot);
      if (n > 0) {
        const handles = session.handles(n);
        return this.#deliver(parsed, handles, { delayMs: session.lastDelayMs, snapshot });
      }
      if (n === 0) return;
      received = parsed;
      try {
        this.#perform();
      } finally {
        received = undefined;
      }
    };
    socket.onerror = () => { /* the close event follows and carries the code */ };
    socket.onclose = (event) => {
      this.#sockets.delete(connection);
      const code = refusedStatus !== 0 ? closeCodeForHandshakeStatus(refusedStatus) : (event.code || 1006);
      const reason = refusedStatus !== 0 ? `handshake refused with HTTP ${refusedStatus}` : event.reason;
      this.#input((now, random) => this.#session!.closed(now, random, connection, code, reason));
    };
  }

  #close(connection: number, code: number, reason: string): void {
    const socket = this.#sockets.get(connection);
    if (socket === undefined) return;
    try {
      socket.close(code, reason);
    } catch {
      socket.close();  // browsers accept only 1000 and 3000-4999 from a client
    }
  }

  #arm(timer: TimerKind, atMs: number): void {
    clearTimeout(this.#timers.get(timer));
    // setTimeout fires at once for delays past 2^31-1 ms (a long-lived token's refresh):
    // wait in steps and fire only once the deadline has come.
    const delay = Math.min(Math.max(0, atMs - Date.now()), maxTimeoutMs);
    const id = setTimeout(() => {
      if (Date.now() < atMs && delay === maxTimeoutMs) return this.#arm(timer, atMs);
      this.#timers.delete(timer);
      this.#input((now, random) => this.#session!.timerFired(now, random, timer));
    }, delay);
    this.#timers.set(timer, id);
  }

  // The session never has two requests outstanding; each gets exactly one answer.
  #requestToken(reason: TokenReason): void {
    const provider = this.#getToken;
    if (provider === undefined) {
      const token = this.#token as string;
      queueMicrotask(() => this.#input((now, random) => this.#session!.tokenObtained(now, random, token)));
      return;
    }
    Promise.resolve()
      .then(() => provider(reason))
      .then(
        (token) => {
          if (typeof token !== 'string') throw new TypeError('getToken() must return a string');
          this.#input((now, random) => this.#session!.tokenObtained(now, random, token));
        },
      )
      .catch((e: unknown) => {
        const reason = e instanceof Error ? e.message : String(e);
        this.#input((now, random) => this.#session!.tokenFailed(now, random, reason));
      });
  }

  // One event object and one meta object, shared by every matching handler.
  #deliver(event: EventEnvelope, handles: number[], meta: DeliveryMeta): void {
    if (this.#closedByUser) return;
    for (let i = 0; i < handles.length; i++) {
      const subscription = this.#subscriptions.get(handles[i]!);
      if (subscription !== undefined) this.#call(subscription.handler, event as never, meta as never);
    }
  }

  #notice(action: Extract<SessionAction, { kind: 'notice' }>): void {
    const entry = this.#subscriptions.get(action.handle);
    const pattern = entry?.pattern ?? '';
    switch (action.notice) {
      case 'reconnected': return this.#emit('reconnect', { lastEventId: this.#session!.status().last_event_id });
      case 'reset': return this.#emit('reset', { reason: action.detail, message: action.message });
      case 'overflow': return this.#emit('overflow', { lastId: action.detail });
      case 'error':
        if (action.detail === 'closed') {
          return this.#emit('error', new GlobeMeetCloseError(action.close_code, action.close_reason, action.message));
        }
        return this.#emit('error', new GlobeMeetError(action.detail, action.message));
      case 'token_expiring': return this.#emit('token_expiring', { message: action.message });
      case 'subscribed':
        if (entry === undefined || entry.state === 'subscribed') return;  // told once per connection
        entry.confirmed();
        return this.#emit('subscribed', { pattern });
      case 'snapshotted': {
        if (entry === undefined) return;
        const count = Number(action.detail);
        entry.snapshotDone(count);
        return this.#emit('snapshot', { pattern, count });
      }
      case 'subscription_failed':
        this.#subscriptions.delete(action.handle);  // the session dropped it
        entry?.end('failed', new GlobeMeetError(action.detail, action.message));
        return this.#emit('subscription_failed', { pattern, code: action.detail, message: action.message });
      case 'revoked':
        this.#subscriptions.delete(action.handle);
        entry?.end('revoked', new GlobeMeetError('permission_revoked', action.message));
        return this.#emit('revoked', { pattern, reason: action.detail });
    }
  }

  #emit<K extends GlobeMeetWSEventName>(name: K, payload: GlobeMeetWSEventMap[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) this.#call(listener, payload as never);
  }

  // A throwing callback must not break the session's loop: its error is rethrown on its own.
  #call(fn: (payload: never, meta: never) => void, payload: never, meta?: never): void {
    try {
      fn(payload, meta as never);
    } catch (e) {
      setTimeout(() => { throw e; }, 0);
    }
  }

  // Closed for good: no timer may keep the process alive, and the wasm memory is returned.
  #release(): void {
    for (const id of this.#timers.values()) clearTimeout(id);
    this.#timers.clear();
    const status = this.#session!.status();
    this.#finalStatus = { last_event_id: status.last_event_id, final_code: status.final_code };
    this.#lastLatency = this.#session!.latency();
    this.#session!.destroy();
    this.#endSubscriptions('the client is closed');
  }

  #endSubscriptions(why: string): void {
    const error = new GlobeMeetError('closed', `GlobeMeetWS: ${why}`);
    for (const entry of [...this.#pending, ...this.#subscriptions.values()]) entry.end('unsubscribed', error);
    this.#pending = [];
    this.#subscriptions.clear();
  }
}
