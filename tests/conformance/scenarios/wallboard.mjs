// What a wallboard needs (issue 17): the current state on subscribe (section 5.3), conflation
// asked for on every subscribe (7.1), and the latency the client can see (7.2, 9).
import { OPTIONS, SLACK_MS, accept, connect, ev, expect, live, replayed, send } from './lib.mjs';

// A snapshot event: the latest event of its topic, older than the connection's position.
const snap = (id, topic) => ({ ...ev(id, topic), snapshot: true });
const position = (id) => ({ poll: { cmd: 'last_event_id' }, until: { obs: 'last_event_id', id } });
const within = (low, high) => {
  const fn = (v) => typeof v === 'number' && v >= low && v <= high;
  fn.toJSON = () => ({ between: [low, high] });
  return fn;
};
const HOUR = 3_600_000;

export default [
  {
    id: 'snapshot_on_subscribe',
    title: 'a snapshot subscription: `snapshot:true` on its subscribe; the snapshot events (ids at or before the head) reach only it, none dropped as duplicate; `snapshotted` reported; the head stays the resume position',
    protocol: '5.3, 9',
    steps: [
      connect({ subscribe: [['s1', 'queue.>', { snapshot: true }], ['s2', 'queue.>']] }),
      accept(),
      { expect_frame: { op: 'subscribe', topics: ['queue.>'], from: null, snapshot: true } },
      send({ op: 'subscribed', req: '$req', topics: ['queue.>'], head: 'c0-5' }),
      send(snap('c0-2', 'queue.q1.depth-changed')), send(snap('c0-5', 'queue.q2.depth-changed')),
      send({ op: 'snapshotted', req: '$req', count: 2 }),
      expect({ obs: 'snapshotted', sub: 's1', count: 2 }),
      { events: { s1: ['c0-2', 'c0-5'], s2: [] } },
      { driver: { cmd: 'latency' } },
      expect({ obs: 'latency', count: 0 }),  // snapshot events are not the system's latency
      position('c0-5'),
      { cut: true },
      accept({ after: 'cut', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      { expect_frame: { op: 'subscribe', topics: ['queue.>'], from: 'c0-5', snapshot: true } },
      send({ op: 'subscribed', req: '$req', topics: ['queue.>'], head: 'c0-6' }),
      send(ev('c0-6')), replayed(1),
      expect({ obs: 'event', sub: 's2', id: 'c0-6', snapshot: false }),
      { wait_ms: 200 },
      { events: { s1: ['c0-2', 'c0-5', 'c0-6'], s2: ['c0-6'] } },
      { no_obs: { obs: 'snapshotted' }, for_ms: 0 },
    ],
  },
  {
    id: 'snapshot_after_reset',
    title: 'the resume frame asks for the snapshot; after `reset` the snapshot replaces the replay (an id delivered before comes again, as a snapshot event), then live events from the reset position',
    protocol: '5.2, 5.3, 9',
    steps: [
      ...live({ subscribe: [['s1', 'queue.>', { snapshot: true }]], head: 'c0-5' }),
      send({ op: 'snapshotted', req: '$req', count: 0 }),
      expect({ obs: 'snapshotted', sub: 's1', count: 0 }),
      send(ev('c0-6')),
      expect({ obs: 'event', id: 'c0-6', snapshot: false }),
      { cut: true },
      accept({ after: 'cut', max_ms: OPTIONS.backoff_max_ms + SLACK_MS }),
      { expect_frame: { op: 'subscribe', topics: ['queue.>'], from: 'c0-6', snapshot: true } },
      send({ op: 'subscribed', req: '$req', topics: ['queue.>'], head: 'c0-20' }),
      send({ op: 'reset', reason: 'retention_exceeded', from: 'c0-6', position: 'c0-20' }),
      send(snap('c0-6', 'queue.q1.depth-changed')), send(snap('c0-18', 'queue.q2.depth-changed')),
      send({ op: 'snapshotted', req: '$req', count: 2 }), replayed(0),
      expect({ obs: 'reset', reason: 'retention_exceeded' }),
      expect({ obs: 'snapshotted', sub: 's1', count: 2 }),
      position('c0-20'),
      send(ev('c0-21')),
      expect({ obs: 'event', id: 'c0-21', snapshot: false }),
      { events: { s1: ['c0-6', 'c0-6', 'c0-18', 'c0-21'] } },
      {
        check: ({ driver }) => {
          const flags = driver.observations.all.filter((o) => o.value.obs === 'event').map((o) => o.value.snapshot);
          if (JSON.stringify(flags) !== '[false,true,true,false]') throw new Error(`snapshot flags ${JSON.stringify(flags)}`);
        },
      },
    ],
  },
  {
    id: 'snapshot_added_to_held_pattern',
    title: 'a snapshot subscription added to a pattern the connection holds asks for it in a subscribe of its own; the snapshot reaches only the new subscription',
    protocol: '5.3, 9',
    steps: [
      ...live(),
      { driver: { cmd: 'subscribe', sub: 's2', pattern: 'queue.>', snapshot: true } },
      { expect_frame: { op: 'subscribe', topics: ['queue.>'], from: null, snapshot: true } },
      send({ op: 'subscribed', req: '$req', topics: ['queue.>'], head: 'c0-3' }),
      send(snap('c0-3', 'queue.q1.depth-changed')),
      send({ op: 'snapshotted', req: '$req', count: 1 }),
      expect({ obs: 'snapshotted', sub: 's2', count: 1 }),
      send(ev('c0-4')),
      expect({ obs: 'event', sub: 's2', id: 'c0-4' }),
      { wait_ms: 200 },
      { events: { s1: ['c0-4'], s2: ['c0-3', 'c0-4'] } },
    ],
  },
  {
    id: 'conflate_on_every_subscribe',
    title: 'the conflate option: every subscribe frame carries `conflate:true` (the first, a later one, the resume frame)',
    protocol: '7.1, 9',
    steps: [
      ...live({ options: { conflate: true } }).map((s) => (s.expect_frame ? { ...s, expect_frame: { ...s.expect_frame, conflate: true } } : s)),
      { driver: { cmd: 'subscribe', sub: 's2', pattern: 'agent.>' } },
      { expect_frame: { op: 'subscribe', topics: ['agent.>'], conflate: true } },
      send({ op: 'subscribed', req: '$req', topics: ['agent.>'], head: 'c0-0' }),
      { cut: true },
      accept(),
      { expect_frame: { op: 'subscribe', from: 'c0-0', conflate: true } },
    ],
  },
  {
    id: 'latency_estimate',
    title: 'the server clock from `ready.time_ms`, then from a `pong` (a clock an hour ahead, then two): the offset follows it, and an event\'s delay is measured on the server\'s clock',
    protocol: '7.2, 9',
    steps: [
      ...live({ ready: { time_ms: `$clock:${HOUR}`, heartbeat_ms: 500 } }),
      { driver: { cmd: 'latency' } },
      expect({ obs: 'latency', count: 0 }, { and: { clock_offset_ms: within(HOUR - SLACK_MS, HOUR + SLACK_MS) } }),
      send({ ...ev('c0-1'), time: `$iso:${HOUR - 2000}` }),  // accepted 2 s ago on the server's clock
      expect({ obs: 'event', id: 'c0-1' }, { and: { delay_ms: within(2000 - SLACK_MS, 2000 + SLACK_MS) } }),
      { driver: { cmd: 'latency' } },
      expect({ obs: 'latency', count: 1 }, { and: { p50_ms: within(2000 - SLACK_MS, 2000 + SLACK_MS) } }),
      { pong_clock: { ahead_ms: 2 * HOUR } },  // the next pongs name a clock two hours ahead
      { poll: { cmd: 'latency' }, until: { obs: 'latency', clock_offset_ms: within(2 * HOUR - SLACK_MS, 2 * HOUR + SLACK_MS) }, within_ms: 5000 },
      send({ ...ev('c0-2'), time: `$iso:${2 * HOUR - 1000}` }),
      expect({ obs: 'event', id: 'c0-2' }, { and: { delay_ms: within(1000 - SLACK_MS, 1000 + SLACK_MS) } }),
      { driver: { cmd: 'latency' } },
      expect({ obs: 'latency', count: 2 }),
    ],
  },
];
