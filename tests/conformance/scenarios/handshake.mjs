// Refused and stalled handshakes (sections 1, 8, 9): 401, 403, 429, 5xx, other 4xx, and a
// server that never answers the upgrade.
import { OPTIONS, SLACK_MS, accept, connect, expect, request, subscribed } from './lib.mjs';

const final = (status, code, provider = false) => ({
  id: `handshake_${status}${provider ? '_provider' : ''}`,
  title: `handshake refused with HTTP ${status}: final (${code})`,
  protocol: '1, 8, 9',
  steps: [
    connect(),
    accept({ status }),
    expect({ obs: 'error', code: 'closed', close_code: code }),
    expect({ obs: 'state', to: 'closed', code }),
    { no_attempt: { for_ms: OPTIONS.backoff_max_ms + 600 } },
  ],
});

const retried = (status, code, extra = {}) => ({
  id: `handshake_${status}`,
  title: `handshake refused with HTTP ${status}: reconnect with backoff (${code})`,
  protocol: '1, 8, 9',
  steps: [
    connect(),
    accept({ status, ...extra }),
    expect({ obs: 'state', to: 'reconnecting', code }),
    accept({ after: 'attempt', max_ms: OPTIONS.backoff_max_ms + SLACK_MS, ...(status === 429 ? { min_ms: OPTIONS.backoff_base_ms - 20 } : {}) }),
    ...subscribed(['queue.>']),
    expect({ obs: 'state', to: 'live' }),
  ],
});

export default [
  final(401, 4401),
  final(403, 4403),
  final(400, 4400),
  retried(429, 4029, { headers: { 'Retry-After': '1' }, body: { error: 'too_many_connections', message: 'scripted' } }),
  retried(500, 1011),
  retried(502, 1011),
  retried(503, 1011),
  {
    id: 'handshake_401_provider_retry',
    title: 'HTTP 401 with a token provider: one fresh token, then live',
    protocol: '9',
    steps: [
      connect({ provider: true }),
      request('connect'),
      { driver: { cmd: 'token', token: '$jwt:t1' } },
      accept({ status: 401, body: { error: 'invalid_token', message: 'scripted' } }),
      request('refused'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      accept({ token: '$jwt:t2' }),
      ...subscribed(['queue.>']),
      expect({ obs: 'state', to: 'live' }),
    ],
  },
  {
    id: 'handshake_401_provider_twice',
    title: 'HTTP 401 with a token provider, and the fresh token refused too before any ready: final 4401',
    protocol: '9',
    steps: [
      connect({ provider: true }),
      request('connect'),
      { driver: { cmd: 'token', token: '$jwt:t1' } },
      accept({ status: 401 }),
      request('refused'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      accept({ status: 401 }),
      expect({ obs: 'error', code: 'closed', close_code: 4401 }),
      expect({ obs: 'state', to: 'closed', code: 4401 }),
      { no_attempt: { for_ms: OPTIONS.backoff_max_ms + 600 } },
    ],
  },
  {
    id: 'handshake_stalled',
    title: 'an upgrade never answered: given up after the handshake timeout, then a new attempt',
    protocol: '9',
    // The npm package has no handshake-timeout option: its 10 s default bounds the wait. The
    // lower bound is loose: the server sees the upgrade later than the client starts its timer.
    steps: [
      connect(),
      accept({ stall: true }),
      accept({ after: 'attempt', min_ms: OPTIONS.handshake_timeout_ms / 2, max_ms: 10000 + OPTIONS.backoff_max_ms + SLACK_MS, within_ms: 15000 }),
      ...subscribed(['queue.>']),
      expect({ obs: 'state', to: 'live' }),
    ],
  },
  {
    id: 'ready_never_sent',
    title: 'a connection that never sends `ready`: given up after the handshake timeout, then a new attempt',
    protocol: '1.1, 9',
    steps: [
      connect(),
      accept({ ready: false }),
      accept({ after: 'attempt', min_ms: OPTIONS.handshake_timeout_ms / 2, max_ms: 10000 + OPTIONS.backoff_max_ms + SLACK_MS, within_ms: 15000 }),
      ...subscribed(['queue.>']),
      expect({ obs: 'state', to: 'live' }),
    ],
  },
];
