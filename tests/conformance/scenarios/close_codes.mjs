// Every close code of protocol.md section 8 in its class, one scenario each: reconnect (with
// backoff, resuming) or final (an error carrying the code, state closed, no further attempt).
import { OPTIONS, SLACK_MS, accept, ev, expect, live, send, subscribed } from './lib.mjs';

// [code, class, name]. 1006 never travels in a close frame: see cut_resume_from. Unlisted codes
// follow the ranges: other 4000-4099 reconnect, other 4400-4499 final, anything else reconnect.
const codes = [
  [1000, 'final', 'normal'], [1001, 'reconnect', 'going_away (no closing frame)'], [1002, 'final', 'protocol_error'],
  [1003, 'final', 'unsupported_data'], [1007, 'final', 'invalid_payload'], [1008, 'final', 'policy_violation'],
  [1009, 'final', 'message_too_big'], [1011, 'reconnect', 'internal_error'], [1012, 'reconnect', 'service_restart'],
  [1013, 'reconnect', 'try_again_later'], [4000, 'reconnect', 'overflow'], [4001, 'reconnect', 'token_expired'],
  [4002, 'reconnect', 'auth_timeout'], [4003, 'reconnect', 'heartbeat_timeout'], [4029, 'reconnect', 'too_many_connections'],
  [4400, 'final', 'bad_request'], [4401, 'final', 'invalid_token (fixed token)'], [4403, 'final', 'forbidden'],
  [4050, 'reconnect', 'unlisted 4000-4099'], [4450, 'final', 'unlisted 4400-4499'], [3000, 'reconnect', 'unknown'],
  [4700, 'reconnect', 'unknown'],
];

function scenario([code, kind, name]) {
  const base = { id: `close_${code}`, title: `close ${code} ${name}: ${kind}`, protocol: '8' };
  const before = [
    ...live(),
    send(ev('c0-1')),
    expect({ obs: 'event', id: 'c0-1' }),
    { close: { code, reason: `scripted ${code}` } },
  ];
  if (kind === 'final') {
    return {
      ...base,
      steps: [
        ...before,
        expect({ obs: 'error', code: 'closed', close_code: code }),
        expect({ obs: 'state', to: 'closed', code }),
        { no_attempt: { for_ms: OPTIONS.backoff_max_ms + 600 } },
      ],
    };
  }
  return {
    ...base,
    steps: [
      ...before,
      expect({ obs: 'state', from: 'live', to: 'reconnecting', code }),
      // 4029: at least the backoff minimum (section 8); 20 ms for timer granularity.
      accept({ after: 'close', max_ms: OPTIONS.backoff_max_ms + SLACK_MS, ...(code === 4029 ? { min_ms: OPTIONS.backoff_base_ms - 20 } : {}) }),
      ...subscribed(['queue.>'], { from: 'c0-1', head: 'c0-2' }),
      expect({ obs: 'reconnect' }),
      send(ev('c0-2')), send({ op: 'replayed', req: '$req', count: 1 }),
      expect({ obs: 'event', id: 'c0-2' }),
    ],
  };
}

export default [
  ...codes.map(scenario),
  {
    id: 'close_1001_after_closing',
    title: '`closing` then 1001: the first reconnect waits at least reconnect_after_ms',
    protocol: '2.2, 8 (1001), 9',
    steps: [
      ...live(),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      send({ op: 'closing', reason: 'restart', reconnect_after_ms: 1200 }),
      { close: { code: 1001, reason: 'restart' } },
      expect({ obs: 'state', to: 'reconnecting', code: 1001 }),
      accept({ after: 'close', min_ms: 1200 - 20, max_ms: 1200 + OPTIONS.backoff_max_ms + SLACK_MS }),
      ...subscribed(['queue.>'], { from: 'c0-1' }),
      expect({ obs: 'reconnect' }),
    ],
  },
];
