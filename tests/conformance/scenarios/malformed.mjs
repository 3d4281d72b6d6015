// A server that breaks the protocol (sections 2, 3, 5, 9): malformed frames are reported and
// dropped, an event from another epoch without `reset` ends the connection and the client
// resumes with its old id.
import { OPTIONS, SLACK_MS, accept, ev, expect, live, send, subscribed } from './lib.mjs';

const bad = [
  ['not_json', 'this is not JSON'],
  ['not_object', '[1,2,3]'],
  ['duplicate_member', '{"op":"pong","op":"pong"}'],
  ['no_op', '{"req":"1"}'],
  ['event_missing_members', '{"op":"event","id":"c0-2","topic":"queue.q1.depth-changed"}'],
  ['event_bad_id', JSON.stringify(ev('c0-x'))],
  ['event_seq_zero', JSON.stringify(ev('c0-0'))],
  ['event_topic_pattern', JSON.stringify({ ...ev('c0-2'), topic: 'queue.*.depth-changed' })],
  ['ready_twice', JSON.stringify({ op: 'ready', sub: 'x', tenant: 'acme', exp: 4102444800, heartbeat_ms: 60000, head: 'c0-0' })],
];

export default [
  {
    id: 'malformed_frames',
    title: 'malformed server frames: each reported as an error, nothing delivered, the connection carries on',
    protocol: '2, 3',
    steps: [
      ...live(),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      ...bad.flatMap(([, text]) => [{ send_raw: text }, expect({ obs: 'error', code: (c) => c === 'bad_frame' || c === 'bad_json' })]),
      send(ev('c0-2')),
      expect({ obs: 'event', id: 'c0-2' }),
      { events: { s1: ['c0-1', 'c0-2'] } },
      { no_attempt: { for_ms: 200 } },
    ],
  },
  {
    id: 'error_frame_reported',
    title: 'an `error` frame about one request (rate_limited): reported with its code, the connection carries on',
    protocol: '2.3',
    steps: [
      ...live(),
      send({ op: 'error', req: 'x1', code: 'rate_limited', message: 'more than 100 requests per second' }),
      expect({ obs: 'error', code: 'rate_limited' }),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      { no_attempt: { for_ms: 200 } },
    ],
  },
  {
    id: 'event_before_ready',
    title: 'an event before `ready` is a protocol error, not delivered',
    protocol: '1.1',
    steps: [
      { driver: { cmd: 'connect', endpoint: '$endpoint', token: '$jwt:t1', subscribe: [{ sub: 's1', pattern: 'queue.>' }], options: OPTIONS } },
      accept({ ready: false }),
      send(ev('c0-9')),
      expect({ obs: 'error', code: 'bad_frame' }),
      send({ op: 'ready', sub: 'conformance', tenant: 'acme', exp: 4102444800, heartbeat_ms: 60000, head: 'c0-9' }),
      ...subscribed(['queue.>'], { head: 'c0-9' }),
      send(ev('c0-10')),
      expect({ obs: 'event', id: 'c0-10' }),
      { events: { s1: ['c0-10'] } },
    ],
  },
  {
    id: 'other_epoch_without_reset',
    title: 'an event from another epoch without `reset`: not delivered, the client closes and resumes with its old id',
    protocol: '9',
    steps: [
      ...live(),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      send(ev('d1-1')),
      { client_closes: {} },
      accept({ after: 'client_close', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      ...subscribed(['queue.>'], { from: 'c0-1' }),
      expect({ obs: 'reconnect' }),
      send(ev('c0-2')),
      expect({ obs: 'event', id: 'c0-2' }),
      { events: { s1: ['c0-1', 'c0-2'] } },
    ],
  },
];
