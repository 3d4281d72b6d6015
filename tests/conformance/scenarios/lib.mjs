// Building blocks for scenarios: frames and the step sequences nearly every scenario repeats.
// A scenario is {id, title, protocol (the sections it checks), tokens?, steps}; see harness.mjs
// for the verbs.

// Small backoff and handshake bounds, so reconnects take a fraction of a second.
export const OPTIONS = { backoff_base_ms: 100, backoff_max_ms: 400, handshake_timeout_ms: 2000 };
// Generous slack on every upper time bound: the machine is shared and busy.
export const SLACK_MS = 1500;

// An event frame (section 3) for `topic`, valid for the catalogue's type.
export function ev(id, topic = 'queue.q1.depth-changed') {
  const [stream, key, name] = topic.split('.');
  const data = {
    queue: { queue_id: key, depth: 1, longest_wait_seconds: 0 },
    agent: { agent_id: key, session_id: 's-1' },
    session: { session_id: 's-1', queue_id: key, agent_id: 'a-1' },
  }[stream] ?? {};
  return {
    op: 'event', specversion: '1.0', id, source: `/tenants/acme/${stream}s/${key}`, type: `${stream}.${name}`,
    subject: key, time: '2026-12-02T13:00:00.000Z', datacontenttype: 'application/json', topic, tenant: 'acme', data,
  };
}

export function connect({ subscribe = [['s1', 'queue.>']], token = '$jwt:t1', provider = false, options = {}, last_event_id } = {}) {
  // An entry is [sub, pattern] or [sub, pattern, {snapshot: true}].
  const cmd = { cmd: 'connect', endpoint: '$endpoint', subscribe: subscribe.map(([sub, pattern, more]) => ({ sub, pattern, ...more })), options: { ...OPTIONS, ...options } };
  if (!provider) cmd.token = token;
  if (last_event_id !== undefined) cmd.last_event_id = last_event_id;
  return { driver: cmd };
}

// Matches an array with the same members in any order (the protocol fixes no order of topics).
export function sameSet(expected) {
  const want = [...expected].sort();
  const fn = (actual) => Array.isArray(actual) && actual.length === want.length && [...actual].sort().every((v, i) => v === want[i]);
  fn.toJSON = () => ({ any_order: want });
  return fn;
}

// Accept the next connection and send `ready` once it authenticated.
export const accept = (more = {}) => ({ accept: more });
// The client's subscribe (with `from` or without: null = must be absent) and the reply.
export function subscribed(topics, { from = null, head = 'c0-0' } = {}) {
  return [
    { expect_frame: { op: 'subscribe', topics: sameSet(topics), from } },
    { send: { op: 'subscribed', req: '$req', topics, head } },
  ];
}
export const replayed = (count) => ({ send: { op: 'replayed', req: '$req', count } });
export const send = (frame) => ({ send: frame });
export const expect = (obs, more = {}) => ({ expect: obs, ...more });
export const mark = (name) => ({ mark: name });

// A client connected, live, with subscription s1 on `queue.>` and nothing delivered yet.
export function live({ subscribe = [['s1', 'queue.>']], head = 'c0-0', ready = {}, ...rest } = {}) {
  return [
    connect({ subscribe, ...rest }),
    accept({ ready }),
    ...subscribed(subscribe.map(([, p]) => p), { head }),
    expect({ obs: 'state', to: 'live' }),
  ];
}

// A token request, with its reason checked when the driver reports one (README.md).
export function request(reasons, more = {}) {
  const ok = (r) => r === undefined || [reasons].flat().includes(r);
  ok.toJSON = () => ({ reason: [reasons].flat(), or: 'absent' });
  return expect({ obs: 'token_request' }, { and: { reason: ok }, ...more });
}
