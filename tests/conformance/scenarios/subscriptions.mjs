// Per-subscription outcomes (sections 2.3, 4, 6.1): a pattern the server refuses is reported for
// that subscription only and the rest asked for again; a revoked pattern stops delivery.
import { SLACK_MS, accept, connect, ev, expect, live, mark, send, subscribed } from './lib.mjs';

// 70 patterns: more than the 64 one `subscribe` may carry (section 2.1).
const many = Array.from({ length: 70 }, (_, i) => [`s${i}`, `queue.q${i}.depth-changed`]);
const chunk = (t) => Array.isArray(t) && t.length >= 1 && t.length <= 64;
// The client's subscribe frames on the current connection name every pattern, once.
const coversAll = ({ conn }) => {
  const topics = conn.frames.all.filter((f) => f.value?.op === 'subscribe').flatMap((f) => f.value.topics);
  const want = many.map(([, p]) => p).sort();
  if (JSON.stringify([...topics].sort()) !== JSON.stringify(want)) throw new Error(`subscribed ${topics.length} patterns: ${topics}`);
};

const refused = (code) => ({
  id: `subscribe_${code}`,
  title: `${code} from the server: reported for that subscription, the rest subscribed again`,
  protocol: '2.3, 4',
  steps: [
    connect({ subscribe: [['s1', 'queue.>'], ['s2', 'agent.>']] }),
    accept(),
    { expect_frame: { op: 'subscribe' } },
    send({ op: 'error', req: '$req', code, topic: 'agent.>', message: `scripted ${code}` }),
    expect({ obs: 'subscription_failed', sub: 's2', code }),
    ...subscribed(['queue.>']),
    send(ev('c0-1')),
    send(ev('c0-2', 'agent.a-1.busy')),  // a server bug; s2 is gone either way
    send(ev('c0-3')),
    expect({ obs: 'event', sub: 's1', id: 'c0-3' }),
    { events: { s1: ['c0-1', 'c0-3'], s2: [] } },
    { no_obs: { obs: 'subscription_failed', sub: 's1' }, for_ms: 100 },
  ],
});

export default [
  refused('forbidden_topic'),
  refused('invalid_topic'),
  {
    id: 'subscribe_too_many',
    title: 'too_many_subscriptions fails every pattern of that request',
    protocol: '2.3, 10',
    steps: [
      ...live(),
      { driver: { cmd: 'subscribe', sub: 's2', pattern: 'agent.>' } },
      { expect_frame: { op: 'subscribe', topics: ['agent.>'] } },
      send({ op: 'error', req: '$req', code: 'too_many_subscriptions', message: 'more than 256 patterns' }),
      expect({ obs: 'subscription_failed', sub: 's2', code: 'too_many_subscriptions' }),
      send(ev('c0-1')),
      expect({ obs: 'event', sub: 's1', id: 'c0-1' }),
    ],
  },
  {
    id: 'subscribe_rate_limited',
    title: 'rate_limited names a subscribe: it goes out again after the one-second window, no error reported',
    protocol: '2.3, 10',
    steps: [
      ...live(),
      { driver: { cmd: 'subscribe', sub: 's2', pattern: 'agent.>' } },
      { expect_frame: { op: 'subscribe', topics: ['agent.>'] } },
      send({ op: 'error', req: '$req', code: 'rate_limited', message: 'more than 100 requests per second' }),
      mark('limited'),
      { expect_frame: { op: 'subscribe', topics: ['agent.>'] }, after: 'limited', min_ms: 1000 - 20, max_ms: 1000 + SLACK_MS },
      send({ op: 'subscribed', req: '$req', topics: '$topics', head: 'c0-0' }),
      send(ev('c0-1', 'agent.a-1.busy')),
      expect({ obs: 'event', sub: 's2', id: 'c0-1' }),
      { no_obs: { obs: 'error' }, for_ms: 100 },
      { no_obs: { obs: 'subscription_failed' }, for_ms: 10 },
    ],
  },
  {
    id: 'subscribe_over_64_patterns',
    title: 'more than 64 patterns: several `subscribe` frames of at most 64, only the first with `from`',
    protocol: '2.1, 5.1',
    steps: [
      connect({ subscribe: many }),
      accept(),
      { expect_frame: { op: 'subscribe', topics: chunk, from: null } },
      send({ op: 'subscribed', req: '$req', topics: '$topics', head: 'c0-0' }),
      { expect_frame: { op: 'subscribe', topics: chunk, from: null } },
      send({ op: 'subscribed', req: '$req', topics: '$topics', head: 'c0-0' }),
      { check: coversAll },
      send(ev('c0-1', 'queue.q69.depth-changed')),
      expect({ obs: 'event', sub: 's69', id: 'c0-1' }),
      { cut: true },
      accept(),
      { expect_frame: { op: 'subscribe', topics: chunk, from: 'c0-1' } },
      send({ op: 'subscribed', req: '$req', topics: '$topics', head: 'c0-1' }),
      send({ op: 'replayed', req: '$req', count: 0 }),
      { expect_frame: { op: 'subscribe', topics: chunk, from: null } },
      send({ op: 'subscribed', req: '$req', topics: '$topics', head: 'c0-1' }),
      { check: coversAll },
      send(ev('c0-2', 'queue.q0.depth-changed')),
      expect({ obs: 'event', sub: 's0', id: 'c0-2' }),
    ],
  },
  {
    id: 'permission_revoked',
    title: '`unsubscribed` permission_revoked: reported for that subscription, no more of its events',
    protocol: '2.2, 6.1',
    steps: [
      ...live({ subscribe: [['s1', 'queue.>'], ['s2', 'agent.>']] }),
      send(ev('c0-1', 'agent.a-1.busy')),
      expect({ obs: 'event', sub: 's2', id: 'c0-1' }),
      send({ op: 'unsubscribed', topics: ['agent.>'], reason: 'permission_revoked' }),
      expect({ obs: 'revoked', sub: 's2' }),
      send(ev('c0-2', 'agent.a-1.busy')),
      send(ev('c0-3')),
      expect({ obs: 'event', sub: 's1', id: 'c0-3' }),
      { events: { s1: ['c0-3'], s2: ['c0-1'] } },
      // A reconnect does not bring the revoked pattern back.
      { cut: true },
      accept(),
      ...subscribed(['queue.>'], { from: 'c0-3' }),
      expect({ obs: 'reconnect' }),
    ],
  },
];
