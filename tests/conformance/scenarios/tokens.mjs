// Tokens on a live connection and across connections (sections 6.1, 8, 9): refresh before
// `exp`, `expiring`, a refused refresh, 4001 then a fresh token, 4401 then one retry, a
// provider that fails, a provider that gives only expired tokens.
import { OPTIONS, SLACK_MS, accept, connect, expect, request, send, subscribed } from './lib.mjs';


// Live in provider mode with token t1.
const liveWithProvider = () => [
  connect({ provider: true }),
  request('connect'),
  { driver: { cmd: 'token', token: '$jwt:t1' } },
  accept({ token: '$jwt:t1' }),
  ...subscribed(['queue.>']),
  expect({ obs: 'state', to: 'live' }),
];

export default [
  {
    id: 'refresh_before_exp',
    title: 'the token is refreshed refresh_before (60 s) before `exp` with a `refresh` frame; the connection stays',
    protocol: '6.1, 9',
    tokens: { t1: 62 },  // exp in 62 s: the refresh is due within about 2 s
    steps: [
      ...liveWithProvider(),
      request('refresh', { within_ms: 3000 + SLACK_MS }),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      { expect_frame: { op: 'refresh', token: '$jwt:t2' } },
      send({ op: 'refreshed', req: '$req', exp: 4102444800 }),
      { no_attempt: { for_ms: 500 } },
    ],
  },
  {
    id: 'expiring_refresh',
    title: '`expiring` from the server: a new token from the provider goes out as `refresh`',
    protocol: '2.2, 6.1',
    steps: [
      ...liveWithProvider(),
      send({ op: 'expiring', exp: Math.floor(Date.now() / 1000) + 50, grace_ms: 30000 }),
      request('expiring'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      { expect_frame: { op: 'refresh', token: '$jwt:t2' } },
      send({ op: 'refreshed', req: '$req', exp: 4102444800 }),
      { no_attempt: { for_ms: 500 } },
    ],
  },
  {
    id: 'refresh_not_newer',
    title: 'a token no newer than the connection\'s is not sent as `refresh`; the provider is asked again',
    protocol: '6.1, 9',
    steps: [
      ...liveWithProvider(),
      send({ op: 'expiring', exp: Math.floor(Date.now() / 1000) + 50, grace_ms: 30000 }),
      request('expiring'),
      { driver: { cmd: 'token', token: '$jwt:t1' } },
      request(['expiring', 'refresh'], { within_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      { expect_frame: { op: 'refresh', token: '$jwt:t2' } },
      send({ op: 'refreshed', req: '$req', exp: 4102444800 }),
      { check: ({ conn }) => { if (conn.frames.all.filter((f) => f.value?.op === 'refresh').length !== 1) throw new Error('the same token went out as refresh'); } },
    ],
  },
  {
    id: 'refresh_refused',
    title: 'a refused refresh (`invalid_token`) is retried with a new token while the connection stays up',
    protocol: '2.1, 6.1',
    steps: [
      ...liveWithProvider(),
      send({ op: 'expiring', exp: Math.floor(Date.now() / 1000) + 50, grace_ms: 30000 }),
      request('expiring'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      { expect_frame: { op: 'refresh', token: '$jwt:t2' } },
      send({ op: 'error', req: '$req', code: 'invalid_token', message: 'scripted refusal' }),
      request(['expiring', 'refresh'], { within_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      { driver: { cmd: 'token', token: '$jwt:t3' } },
      { expect_frame: { op: 'refresh', token: '$jwt:t3' } },
      send({ op: 'refreshed', req: '$req', exp: 4102444800 }),
      { no_attempt: { for_ms: 300 } },
    ],
  },
  {
    id: 'close_4001_fresh_token',
    title: 'close 4001: the next connection uses a fresh token from the provider and resumes',
    protocol: '8 (4001), 9',
    steps: [
      ...liveWithProvider(),
      send({ op: 'event', specversion: '1.0', id: 'c0-1', source: '/tenants/acme/queues/q1', type: 'queue.depth-changed', subject: 'q1', time: '2026-12-02T13:00:00.000Z', topic: 'queue.q1.depth-changed', tenant: 'acme', data: { queue_id: 'q1', depth: 1, longest_wait_seconds: 0 } }),
      expect({ obs: 'event', id: 'c0-1' }),
      { close: { code: 4001, reason: 'token expired' } },
      request('expired'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      accept({ token: '$jwt:t2' }),
      ...subscribed(['queue.>'], { from: 'c0-1' }),
      expect({ obs: 'reconnect' }),
    ],
  },
  {
    id: 'close_4401_one_retry',
    title: 'close 4401 with a provider: one fresh token; refused again before ready: final 4401',
    protocol: '8 (4401), 9',
    steps: [
      ...liveWithProvider(),
      { close: { code: 4401, reason: 'invalid token' } },
      request('refused'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      accept({ ready: false, token: '$jwt:t2' }),
      { close: { code: 4401, reason: 'invalid token' } },
      expect({ obs: 'error', code: 'closed', close_code: 4401 }),
      expect({ obs: 'state', to: 'closed', code: 4401 }),
      { no_attempt: { for_ms: OPTIONS.backoff_max_ms + 600 } },
    ],
  },
  {
    id: 'close_4401_retry_succeeds',
    title: 'close 4401 with a provider (a new signing key): the fresh token is taken, live again',
    protocol: '9',
    steps: [
      ...liveWithProvider(),
      { close: { code: 4401, reason: 'invalid token' } },
      request('refused'),
      { driver: { cmd: 'token', token: '$jwt:t2' } },
      accept({ token: '$jwt:t2' }),
      ...subscribed(['queue.>'], { from: 'c0-0' }),
      expect({ obs: 'reconnect' }),
    ],
  },
  {
    id: 'provider_failure_retried',
    title: 'a provider that fails: error token_unavailable, asked again with backoff',
    protocol: '9',
    steps: [
      connect({ provider: true }),
      request('connect'),
      { mark: 'failed' },
      { driver: { cmd: 'token_error', message: 'identity provider down' } },
      expect({ obs: 'error', code: 'token_unavailable' }),
      request('connect', { after: 'failed', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      { driver: { cmd: 'token', token: '$jwt:t1' } },
      accept({ token: '$jwt:t1' }),
      ...subscribed(['queue.>']),
      expect({ obs: 'state', to: 'live' }),
    ],
  },
  {
    id: 'provider_expired_tokens',
    title: 'a provider that gives only expired tokens: stops with 4001 and says so',
    protocol: '9',
    tokens: { old1: -120, old2: -120 },
    steps: [
      connect({ provider: true }),
      request('connect'),
      { driver: { cmd: 'token', token: '$jwt:old1' } },
      request('connect', { within_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      { driver: { cmd: 'token', token: '$jwt:old2' } },
      expect({ obs: 'error', code: 'closed', close_code: 4001 }),
      expect({ obs: 'state', to: 'closed', code: 4001 }),
      { check: ({ server }) => { if (server.attempts.all.length !== 0) throw new Error('connected with an expired token'); } },
    ],
  },
];
