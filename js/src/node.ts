// @globemeet/sdk/node: what services need besides the socket, over HTTP (fetch): a token by
// the OAuth client-credentials grant, and publishing. Kept out of the main entry so that no
// client secret handling is bundled into a dashboard.
import type { EventDataMap, EventType } from './catalogue.js';
import type { TokenReason } from './core.js';
import { GlobeMeetHttpError } from './errors.js';

export interface ClientCredentials {
  /** The server's base URL, e.g. `https://events.example` (its `/oauth/token` is used). */
  server: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated topic patterns narrowing the token (within the client's permissions). */
  scope?: string;
}

export interface Token { accessToken: string; expiresIn: number; scope?: string }

/** One event to publish: its type, its subject (queue or agent) and typed data. */
export type PublishEvent = { [T in EventType]: { type: T; subject: string; data: EventDataMap[T] } }[EventType];

export interface PublishOptions {
  server: string;
  /** A token with `pub: true`, or a function giving one (e.g. clientCredentials(...)). */
  token: string | ((reason: TokenReason) => string | Promise<string>);
  /**
   * Makes the request safe to retry: the server stores a retried request's events once. With
   * more than 1,000 events, each request of 1,000 gets `${idempotencyKey}.${n}`.
   */
  idempotencyKey?: string;
}

const maxBatch = 1000;  // the server's limit per request

/** One client-credentials request; throws GlobeMeetHttpError (`invalid_client`, ...) on refusal. */
export async function fetchToken(credentials: ClientCredentials): Promise<Token> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (credentials.scope !== undefined) form.set('scope', credentials.scope);
  // RFC 6749 section 2.3.1: id and secret are form-encoded before Basic's base64.
  const basic = `${formEncode(credentials.clientId)}:${formEncode(credentials.clientSecret)}`;
  const response = await request(new URL('/oauth/token', credentials.server), {
    method: 'POST',
    headers: {
      authorization: `Basic ${btoa(basic)}`,  // ASCII after form-encoding
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  });
  const body = response as { access_token: string; expires_in: number; scope?: string };
  return { accessToken: body.access_token, expiresIn: body.expires_in, ...(body.scope !== undefined ? { scope: body.scope } : {}) };
}

/**
 * A `getToken` for GlobeMeetWS (or `token` for publish) that fetches a fresh token on every
 * call: the client asks only when it needs a new one, so a cache would hand back the token the
 * server just refused.
 */
export function clientCredentials(credentials: ClientCredentials): (reason?: TokenReason) => Promise<string> {
  return async () => (await fetchToken(credentials)).accessToken;
}

/** Publishes events in order (requests of up to 1,000); resolves with their ids. */
export async function publish(options: PublishOptions, events: PublishEvent | readonly PublishEvent[]): Promise<string[]> {
  const list: readonly PublishEvent[] = Array.isArray(events) ? events : [events as PublishEvent];
  const ids: string[] = [];
  let token = typeof options.token === 'string' ? options.token : await options.token('connect');
  for (let start = 0, n = 0; start < list.length; start += maxBatch, n++) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.idempotencyKey !== undefined) {
      headers['idempotency-key'] = list.length > maxBatch ? `${options.idempotencyKey}.${n}` : options.idempotencyKey;
    }
    const body = JSON.stringify({ events: list.slice(start, start + maxBatch) });
    const send = () => request(new URL('/v1/events', options.server), {
      method: 'POST', headers: { ...headers, authorization: `Bearer ${token}` }, body,
    }) as Promise<{ ids: string[] }>;
    let answer: { ids: string[] };
    try {
      answer = await send();
    } catch (e) {
      // An expired or re-keyed token: a provider can mint another, once.
      if (!(e instanceof GlobeMeetHttpError) || e.status !== 401 || typeof options.token === 'string') throw e;
      token = await options.token('refused');
      answer = await send();
    }
    ids.push(...answer.ids);
  }
  return ids;
}

function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

// A JSON answer, or a GlobeMeetHttpError naming the server's error code and message.
async function request(url: URL, init: RequestInit): Promise<unknown> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok && body !== undefined) return body;
  const { error, message, error_description } = (body ?? {}) as { error?: string; message?: string; error_description?: string };
  throw new GlobeMeetHttpError(response.status, error ?? `http_${response.status}`,
    `${init.method ?? 'GET'} ${url.pathname}: HTTP ${response.status}${error !== undefined ? ` ${error}` : ''}: ${message ?? error_description ?? text.slice(0, 200)}`);
}

export { GlobeMeetError, GlobeMeetHttpError } from './errors.js';
export type { TokenReason } from './core.js';
