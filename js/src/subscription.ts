// What subscribe() returns: the subscription's state and a promise for "subscribed", and still
// the plain function that unsubscribes (the README's first example relies on that).
import { GlobeMeetError } from './errors.js';

/**
 * `subscribing` until the server applies the pattern and again from a lost connection until the
 * next one applies it; `subscribed` while events for it flow. The other three are final:
 * `failed` (refused: `invalid_topic`, `forbidden_topic`, `too_many_subscriptions`), `revoked`
 * (the server removed it: `permission_revoked`), `unsubscribed` (by the application, or the
 * client closed).
 */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'failed' | 'revoked' | 'unsubscribed';

/** A subscription. Calling it unsubscribes, like unsubscribe(); calling either again does nothing. */
export interface Subscription {
  (): void;
  readonly pattern: string;
  readonly state: SubscriptionState;
  /**
   * Resolves once the server has applied the pattern (at once while `subscribed`); rejects with
   * a GlobeMeetError if the subscription ends first (`code`: the server's refusal,
   * `permission_revoked`, `unsubscribed` or `closed`). Made on demand: an unused subscription
   * never leaves a rejected promise behind.
   */
  ready(): Promise<void>;
  /**
   * For a subscription made with `{ snapshot: true }`: resolves with the number of snapshot
   * events once its first snapshot is complete (they have all reached the handler by then);
   * rejects like ready() if the subscription ends first, and at once with code `no_snapshot`
   * for a subscription made without the option. A server that predates snapshots never
   * completes one: the promise then stays pending.
   */
  snapshotted(): Promise<number>;
  unsubscribe(): void;
}

/** Ends a subscription; calling it again does nothing. (A Subscription is one.) */
export type Unsubscribe = () => void;

// The client's record of one subscription; `view` is what the application holds.
export class SubscriptionEntry {
  handle = 0;  // the core's handle, once the core has it
  state: SubscriptionState = 'subscribing';
  readonly view: Subscription;
  #waiters: { resolve: () => void; reject: (e: GlobeMeetError) => void }[] = [];
  #snapshotWaiters: { resolve: (count: number) => void; reject: (e: GlobeMeetError) => void }[] = [];
  #snapshotCount: number | undefined;  // the first snapshot's, once complete
  #ending: GlobeMeetError | undefined;

  constructor(readonly pattern: string, readonly handler: (event: never, meta: never) => void,
    readonly snapshot: boolean, cancel: (entry: SubscriptionEntry) => void) {
    const view = (() => cancel(this)) as Subscription;
    Object.defineProperties(view, {
      pattern: { value: pattern, enumerable: true },
      state: { get: () => this.state, enumerable: true },
      ready: { value: () => this.#ready() },
      snapshotted: { value: () => this.#snapshotted() },
      unsubscribe: { value: () => cancel(this) },
    });
    this.view = view;
  }

  get active(): boolean { return this.state === 'subscribing' || this.state === 'subscribed'; }

  confirmed(): void {
    if (!this.active) return;
    this.state = 'subscribed';
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  // A snapshot is complete; the first one settles snapshotted().
  snapshotDone(count: number): void {
    if (this.#snapshotCount !== undefined) return;
    this.#snapshotCount = count;
    for (const w of this.#snapshotWaiters.splice(0)) w.resolve(count);
  }

  // The connection is gone: the next one has to apply the pattern again.
  connectionLost(): void {
    if (this.state === 'subscribed') this.state = 'subscribing';
  }

  end(state: 'failed' | 'revoked' | 'unsubscribed', why: GlobeMeetError): void {
    if (!this.active) return;
    this.state = state;
    this.#ending = why;
    for (const w of this.#waiters.splice(0)) w.reject(why);
    for (const w of this.#snapshotWaiters.splice(0)) w.reject(why);
  }

  #ready(): Promise<void> {
    if (this.state === 'subscribed') return Promise.resolve();
    if (!this.active) return Promise.reject(this.#ending);
    return new Promise((resolve, reject) => { this.#waiters.push({ resolve, reject }); });
  }

  #snapshotted(): Promise<number> {
    if (!this.snapshot) {
      return Promise.reject(new GlobeMeetError('no_snapshot',
        `GlobeMeetWS: the subscription to '${this.pattern}' was made without { snapshot: true }`));
    }
    if (this.#snapshotCount !== undefined) return Promise.resolve(this.#snapshotCount);
    if (!this.active) return Promise.reject(this.#ending);
    return new Promise((resolve, reject) => { this.#snapshotWaiters.push({ resolve, reject }); });
  }
}
