// Publishes the simulator's events through the public HTTP API, as a real integration would:
// an OAuth client-credentials token, then POST /v1/events in batches over a kept-alive
// connection (fetch pools it). A batch that fails is sent again, the same body under the same
// Idempotency-Key, so a server restart neither loses nor doubles events (docs/server.md,
// "Retrying a publish"); what the model produces meanwhile waits behind it.
import { randomUUID } from 'node:crypto';

const batchLimit = 500;          // the server takes up to 1000 per request
const backlogLimit = 50_000;     // hours of simulated traffic; past it the oldest are dropped
const requestTimeoutMs = 10_000;

export class PublishError extends Error {
  constructor(message, { retry }) { super(message); this.retry = retry; }
}

export class Publisher {
  constructor({ server, clientId, clientSecret }) {
    this.server = server;
    this.basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    this.token = null;
    this.tokenExpires = 0;
    this.backlog = [];
    this.inflight = null;        // {key, body, count}: the batch being sent, resent as is
    this.run = randomUUID();     // keys differ between runs even with the same --seed
    this.batches = 0;
    this.published = 0;
    this.dropped = 0;
  }

  add(events) {
    this.backlog.push(...events);
    if (this.backlog.length > backlogLimit) {
      const excess = this.backlog.length - backlogLimit;
      this.backlog.splice(0, excess);
      this.dropped += excess;
    }
  }

  get pending() { return this.backlog.length + (this.inflight?.count ?? 0); }

  // Sends everything queued. Throws a PublishError when a request fails; the failed batch
  // stays in flight (retry: true) or was dropped because resending cannot help (retry: false).
  async flush() {
    while (this.inflight || this.backlog.length) {
      if (!this.inflight) {
        const events = this.backlog.splice(0, batchLimit);
        this.inflight = { key: `sim-${this.run}-${++this.batches}`, body: JSON.stringify({ events }), count: events.length };
      }
      await this.#post(this.inflight);
      this.published += this.inflight.count;
      this.inflight = null;
    }
  }

  async #post({ key, body, count }) {
    let res;
    try {
      res = await fetch(new URL('/v1/events', this.server), {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.#getToken()}`, 'content-type': 'application/json', 'idempotency-key': key },
        body,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (e) {
      throw new PublishError(`publish failed: ${e.cause?.code ?? e.message}`, { retry: true });
    }
    if (res.ok) { await res.arrayBuffer(); return; }
    const answer = await res.json().catch(() => ({}));
    const message = `publish refused: ${res.status} ${answer.error ?? ''} ${answer.message ?? ''}`.trim();
    if (res.status === 401) this.token = null;  // e.g. a server that came back with a new key
    // A batch the server rejects as such (bad event, too large) would be rejected forever.
    if ([400, 413, 415].includes(res.status)) {
      this.inflight = null;
      this.dropped += count;
      throw new PublishError(message, { retry: false });
    }
    throw new PublishError(message, { retry: true });
  }

  async #getToken() {
    if (this.token && Date.now() < this.tokenExpires - 60_000) return this.token;
    let res;
    try {
      res = await fetch(new URL('/oauth/token', this.server), {
        method: 'POST',
        headers: { authorization: `Basic ${this.basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (e) {
      throw new PublishError(`token request failed: ${e.cause?.code ?? e.message}`, { retry: true });
    }
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new PublishError(`token request refused: ${res.status} ${answer.error ?? ''} ${answer.error_description ?? ''}`.trim(), { retry: true });
    }
    this.token = answer.access_token;
    this.tokenExpires = Date.now() + answer.expires_in * 1000;
    return this.token;
  }
}
