// Losing the connection and resuming (sections 5, 7, 9): cuts without a close frame, backoff
// with full jitter, `from`, duplicates in a replay, overflow, and resume before any event.
import { OPTIONS, SLACK_MS, accept, ev, expect, live, mark, replayed, send, subscribed } from './lib.mjs';

const ceiling = (attempt) => Math.min(OPTIONS.backoff_max_ms, OPTIONS.backoff_base_ms * 2 ** attempt);

export default [
  {
    id: 'cut_resume_from',
    title: 'a cut without close frame: reconnect within the backoff bound, `from` the last delivered id, replayed duplicate dropped',
    protocol: '5.1, 8 (1006), 9',
    steps: [
      ...live(),
      send(ev('c0-1')), send(ev('c0-2')),
      expect({ obs: 'event', id: 'c0-2' }),
      { cut: true },
      expect({ obs: 'state', from: 'live', to: 'reconnecting', code: 1006 }),
      accept({ after: 'cut', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      ...subscribed(['queue.>'], { from: 'c0-2', head: 'c0-4' }),
      expect({ obs: 'reconnect' }),
      send(ev('c0-2')),  // the server replays one the client already has: dropped
      send(ev('c0-3')), replayed(2),
      send(ev('c0-4')),
      expect({ obs: 'event', id: 'c0-4' }),
      { wait_ms: 200 },
      { events: { s1: ['c0-1', 'c0-2', 'c0-3', 'c0-4'] } },
    ],
  },
  {
    id: 'backoff_full_jitter',
    title: 'refused attempts back off with full jitter: each delay within min(max, base*2^n), not all at the ceiling',
    protocol: '9',
    steps: [
      { driver: { cmd: 'connect', endpoint: '$endpoint', token: '$jwt:t1', subscribe: [{ sub: 's1', pattern: 'queue.>' }], options: OPTIONS } },
      ...Array.from({ length: 6 }, () => accept({ status: 503 })),
      accept(),
      ...subscribed(['queue.>']),
      expect({ obs: 'state', to: 'live' }),
      {
        check: ({ server }) => {
          const t = server.attempts.all.map((a) => a.t);
          const gaps = t.slice(1).map((v, i) => v - t[i]);
          gaps.forEach((gap, n) => {
            if (gap > ceiling(n + 1) + SLACK_MS) throw new Error(`delay ${Math.round(gap)} ms before attempt ${n + 2}, bound ${ceiling(n + 1)} ms`);
          });
          // Full jitter: uniform in [0, ceiling]; all six near the ceiling has odds below 1e-4.
          if (gaps.every((gap, n) => gap >= 0.9 * ceiling(n + 1))) throw new Error(`delays ${gaps.map(Math.round)} show no jitter`);
        },
      },
    ],
  },
  {
    id: 'resume_before_first_event',
    title: 'before any event, the head of the first subscribe is the resume position',
    protocol: '5, 9',
    steps: [
      ...live({ head: 'c0-7' }),
      { poll: { cmd: 'last_event_id' }, until: { obs: 'last_event_id', id: 'c0-7' } },
      { cut: true },
      accept({ after: 'cut', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      ...subscribed(['queue.>'], { from: 'c0-7', head: 'c0-8' }),
      send(ev('c0-8')), replayed(1),
      expect({ obs: 'event', id: 'c0-8' }),
    ],
  },
  {
    id: 'resume_from_given_position',
    title: 'a position given at start is sent as `from` in the first subscribe',
    protocol: '1.2, 5.1',
    steps: [
      ...live({ last_event_id: 'c0-41', head: 'c0-0' }).map((s) => (s.expect_frame ? { ...s, expect_frame: { ...s.expect_frame, from: 'c0-41' } } : s)),
      send(ev('c0-42')), replayed(1),
      expect({ obs: 'event', id: 'c0-42' }),
    ],
  },
  {
    id: 'overflow_4000_resume',
    title: '`overflow` then close 4000: reported, reconnect, resume from the last delivered id',
    protocol: '7, 8 (4000)',
    steps: [
      ...live(),
      send(ev('c0-1')), send(ev('c0-2')),
      expect({ obs: 'event', id: 'c0-2' }),
      send({ op: 'overflow', lag_ms: 5200, last_id: 'c0-2' }),
      { close: { code: 4000, reason: 'overflow' } },
      expect({ obs: 'overflow', last_id: 'c0-2' }),
      expect({ obs: 'state', to: 'reconnecting', code: 4000 }),
      accept({ after: 'close', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      ...subscribed(['queue.>'], { from: 'c0-2', head: 'c0-3' }),
      send(ev('c0-3')), replayed(1),
      expect({ obs: 'event', id: 'c0-3' }),
      { events: { s1: ['c0-1', 'c0-2', 'c0-3'] } },
    ],
  },
  {
    id: 'resume_not_allowed_retried',
    title: '`resume_not_allowed` for a subscribe with `from`: asked again without `from`',
    protocol: '2.3, 5.1',
    steps: [
      ...live(),
      send(ev('c0-1')),
      expect({ obs: 'event', id: 'c0-1' }),
      { cut: true },
      accept(),
      { expect_frame: { op: 'subscribe', from: 'c0-1' } },
      send({ op: 'error', req: '$req', code: 'resume_not_allowed', message: 'the connection holds subscriptions' }),
      { expect_frame: { op: 'subscribe', topics: ['queue.>'], from: null } },
      send({ op: 'subscribed', req: '$req', topics: ['queue.>'], head: 'c0-1' }),
      send(ev('c0-2')),
      expect({ obs: 'event', id: 'c0-2' }),
    ],
  },
  {
    id: 'slow_server_reads',
    title: 'a server that reads slowly: frames arrive late, nothing is lost or repeated',
    protocol: '2.1',
    steps: [
      ...live(),
      { pause_reading: 1500 },
      { driver: { cmd: 'subscribe', sub: 's2', pattern: 'agent.>' } },
      { wait_ms: 300 },
      { driver: { cmd: 'unsubscribe', sub: 's2' } },
      { driver: { cmd: 'subscribe', sub: 's3', pattern: 'session.>' } },
      { expect_frame: { op: 'subscribe', topics: ['agent.>'] }, within_ms: 5000 },
      send({ op: 'subscribed', req: '$req', topics: ['agent.>'], head: 'c0-0' }),
      { expect_frame: { op: 'unsubscribe', topics: ['agent.>'] } },
      send({ op: 'unsubscribed', req: '$req', topics: ['agent.>'], reason: 'requested' }),
      { expect_frame: { op: 'subscribe', topics: ['session.>'], from: null } },
      send({ op: 'subscribed', req: '$req', topics: ['session.>'], head: 'c0-0' }),
      send(ev('c0-1', 'session.q1.connected')),
      send(ev('c0-2', 'agent.a-1.busy')),
      send(ev('c0-3')),
      expect({ obs: 'event', sub: 's1', id: 'c0-3' }),
      { wait_ms: 200 },
      { events: { s1: ['c0-3'], s2: [], s3: ['c0-1'] } },
    ],
  },
];
