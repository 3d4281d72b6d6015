// Drives the client session through the wasm bridge: a scripted connection from start to a
// delivered event and a network failure, checking that inputs reach the core and its actions
// come back intact (numbers, strings, nested frames, handles, timer names, close codes).
// The session's own rules are tested natively (tests/core/test_client_session.cpp); this suite
// proves the bridge carries them faithfully.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { loadCore } from './wasm_loader.mjs';

const core = await loadCore();

const endpoint = 'wss://events.test/v1/events';
const t0 = 1_795_800_000_000;  // Unix ms
const expSeconds = t0 / 1000 + 900;
const random = 0.5;

const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
// The session reads `exp` without verifying the signature (the server verifies).
const token = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ sub: 'svc-1', tenant: 'acme', exp: expSeconds })}.c2ln`;

const eventFrame = JSON.stringify({
  op: 'event', specversion: '1.0', id: '6f1c2a9e-1043', source: '/tenants/acme/queues/support',
  type: 'queue.depth-changed', subject: 'support', time: '2026-11-27T18:02:11.204Z',
  datacontenttype: 'application/json', topic: 'queue.support.depth-changed', tenant: 'acme',
  data: { queue_id: 'support', depth: 7, longest_wait_seconds: 42 },
});

const ofKind = (actions, kind) => actions.filter((a) => a.kind === kind);
const oneOf = (actions, kind) => {
  const found = ofKind(actions, kind);
  assert.equal(found.length, 1, `one '${kind}' in ${JSON.stringify(actions)}`);
  return found[0];
};
const stateChanges = (actions) => ofKind(actions, 'state_changed').map((a) => `${a.from}->${a.to}`);

function withSession(config, use) {
  const session = core.createSession(config);
  try {
    return use(session);
  } finally {
    session.destroy();
  }
}

test('a browser-style session connects, subscribes, delivers an event and arms a reconnect after 1006', () => {
  withSession({ endpoint, token_in_header: false }, (s) => {
    s.start(t0, random);
    let actions = s.takeActions();
    assert.deepEqual(stateChanges(actions), ['idle->fetching_token']);
    oneOf(actions, 'request_token');

    s.tokenObtained(t0 + 5, random, token);
    actions = s.takeActions();
    assert.deepEqual(stateChanges(actions), ['fetching_token->connecting']);
    assert.deepEqual(oneOf(actions, 'open'), {
      kind: 'open', connection: 1, url: endpoint, subprotocol: 'globemeet-events.v1',
      authorization: null, last_event_id: null,
    });
    assert.deepEqual(oneOf(actions, 'arm_timer'), { kind: 'arm_timer', timer: 'handshake', at_ms: t0 + 5 + 10_000 });

    s.opened(t0 + 10, random, 1);
    actions = s.takeActions();
    const auth = oneOf(actions, 'send');
    assert.equal(auth.connection, 1);
    assert.deepEqual(JSON.parse(auth.text), { op: 'auth', token });
    assert.deepEqual(stateChanges(actions), ['connecting->authenticating']);

    const ready = { op: 'ready', sub: 'svc-1', tenant: 'acme', exp: expSeconds, heartbeat_ms: 20_000, head: '6f1c2a9e-0' };
    s.frame(t0 + 20, random, 1, JSON.stringify(ready));
    actions = s.takeActions();
    assert.deepEqual(stateChanges(actions), ['authenticating->live']);
    assert.deepEqual(ofKind(actions, 'cancel_timer'), [{ kind: 'cancel_timer', timer: 'handshake' }]);
    const armed = Object.fromEntries(ofKind(actions, 'arm_timer').map((a) => [a.timer, a.at_ms]));
    assert.equal(armed.heartbeat, t0 + 20 + 20_000);
    assert.equal(armed.refresh, expSeconds * 1000 - 60_000);
    assert.equal(s.status().state, 'live');

    const refused = s.subscribe(t0 + 25, random, 'queue..x');
    assert.equal(refused.ok, false);
    assert.equal(refused.code, 'invalid_topic');
    assert.deepEqual(s.takeActions(), []);

    const subscribed = s.subscribe(t0 + 30, random, 'queue.support.*');
    assert.equal(subscribed.ok, true);
    const handle = subscribed.handle;
    assert.ok(handle > 0);
    const request = JSON.parse(oneOf(s.takeActions(), 'send').text);
    assert.equal(request.op, 'subscribe');
    assert.deepEqual(request.topics, ['queue.support.*']);

    s.frame(t0 + 40, random, 1, JSON.stringify({ op: 'subscribed', req: request.req, topics: ['queue.support.*'], head: '6f1c2a9e-0' }));
    assert.deepEqual(ofKind(s.takeActions(), 'deliver'), []);
    assert.equal(s.status().last_event_id, '6f1c2a9e-0', 'the empty log\'s head is the position to resume from');

    s.frame(t0 + 50, random, 1, eventFrame);
    assert.deepEqual(oneOf(s.takeActions(), 'deliver'), {
      kind: 'deliver', frame: eventFrame, handles: [handle], id: '6f1c2a9e-1043', topic: 'queue.support.depth-changed',
      snapshot: false, delay_ms: t0 + 50 - Date.parse('2026-11-27T18:02:11.204Z'),  // this `ready` names no server clock
    });
    assert.equal(s.status().last_event_id, '6f1c2a9e-1043');

    s.closed(t0 + 60, random, 1, 1006, '');
    actions = s.takeActions();
    const change = oneOf(actions, 'state_changed');
    assert.deepEqual([change.from, change.to, change.code], ['live', 'reconnecting', 1006]);
    const firstDelay = core.backoff.delay({ min_ms: 500, max_ms: 30_000, factor: 2 }, 0, random);
    assert.deepEqual(ofKind(actions, 'arm_timer'), [{ kind: 'arm_timer', timer: 'reconnect', at_ms: t0 + 60 + firstDelay }]);
    assert.deepEqual(s.status(), { state: 'reconnecting', last_event_id: '6f1c2a9e-1043', final_code: 0 });

    // The timer name goes back in as text; the token is still good, so a new connection opens.
    s.timerFired(t0 + 60 + firstDelay, random, 'reconnect');
    assert.equal(oneOf(s.takeActions(), 'open').connection, 2);
  });
});

test('a native-style session puts the token in the header and stops with close 1000', () => {
  withSession({ endpoint, backoff: { min_ms: 100, max_ms: 1000, factor: 3 }, handshake_timeout_ms: 5000 }, (s) => {
    assert.equal(s.setLastEventId('6f1c2a9e-7'), true);
    assert.equal(s.setLastEventId('not-an-id'), false);
    s.start(t0, random);
    s.tokenObtained(t0, random, token);
    const actions = s.takeActions();
    const open = oneOf(actions, 'open');
    assert.equal(open.authorization, `Bearer ${token}`);
    assert.equal(open.last_event_id, '6f1c2a9e-7');
    assert.equal(oneOf(actions, 'arm_timer').at_ms, t0 + 5000);

    // Stopping while the handshake is under way aborts that connection.
    s.stop(t0 + 1, random);
    const close = oneOf(s.takeActions(), 'close');
    assert.deepEqual([close.connection, close.code], [1, 1000]);
    assert.deepEqual(s.status(), { state: 'closed', last_event_id: '6f1c2a9e-7', final_code: 1000 });
  });
});

test('with a token provider, 4401 asks for one fresh token; the second 4401 ends with a `closed` error notice', () => {
  withSession({ endpoint, token_provider: true }, (s) => {
    s.start(t0, random);
    s.tokenObtained(t0, random, token);
    s.takeActions();
    s.closed(t0 + 10, random, 1, 4401, 'handshake refused with HTTP 401');
    let actions = s.takeActions();
    assert.deepEqual(stateChanges(actions), ['connecting->reconnecting']);
    const retry = oneOf(actions, 'arm_timer');
    s.timerFired(retry.at_ms, random, 'reconnect');
    actions = s.takeActions();
    assert.deepEqual(ofKind(actions, 'request_token'), [{ kind: 'request_token', reason: 'refused' }], 'the refused token is not reused');
    s.tokenObtained(retry.at_ms, random, token);
    assert.equal(oneOf(s.takeActions(), 'open').connection, 2);
    s.closed(retry.at_ms + 10, random, 2, 4401, 'handshake refused with HTTP 401');
    actions = s.takeActions();
    assert.deepEqual(ofKind(actions, 'notice'), [{
      kind: 'notice', notice: 'error', detail: 'closed',
      message: 'stopped for good after close 4401: handshake refused with HTTP 401', handle: 0,
      close_code: 4401, close_reason: 'handshake refused with HTTP 401',
    }]);
    assert.deepEqual(stateChanges(actions), ['connecting->closed']);
    assert.equal(s.status().final_code, 4401);
  });
});

test('the bridge refuses bad configs and bad arguments without touching the session', () => {
  for (const [config, words] of [
    [{}, "'endpoint'"],
    [{ endpoint: 'https://x/v1/events' }, "'endpoint'"],
    [{ endpoint, handshake_timeout: 5 }, "'handshake_timeout'"],
    [{ endpoint, backoff: { min_ms: -1 } }, "'backoff.min_ms'"],
    [{ endpoint, backoff: 3 }, "'backoff'"],
    [{ endpoint, token_in_header: 'yes' }, "'token_in_header'"],
    [{ endpoint, token_provider: 1 }, "'token_provider'"],
  ]) {
    assert.throws(() => core.createSession(config), (e) => e.code === 'bad_config' && e.message.includes(words),
      JSON.stringify(config));
  }

  withSession({ endpoint }, (s) => {
    assert.throws(() => s.timerFired(t0, random, 'alarm'), /timer 'alarm'/);
    assert.throws(() => s.closed(t0, random, 1, 70_000, ''), /closed 70000/);
    assert.deepEqual(s.takeActions(), []);
    assert.equal(s.status().state, 'idle');
  });

  const gone = core.createSession({ endpoint });
  gone.destroy();
  assert.throws(() => gone.start(t0, random), /after destroy/);
});

// The SDK's event path (issue 11): the frame is parsed in JavaScript and only its id and topic
// cross; the common answers (deliver to n handles, nothing) come back as a number, the rest
// through takeActions, where a deliver has an empty `frame`.
test('an event fed as id and topic: handles as a number, duplicates and bad ids and topics refused as before', () => {
  withSession({ endpoint, token_in_header: false }, (s) => {
    const queue = s.subscribe(t0, random, 'queue.support.*').handle;
    const all = s.subscribe(t0, random, '>').handle;
    s.start(t0, random);
    s.tokenObtained(t0, random, token);
    s.takeActions();
    // Before `ready` an event is out of place, as a frame would be.
    s.opened(t0, random, 1);
    s.takeActions();
    assert.deepEqual(s.event(t0, random, 1, '6f1c2a9e-1', 'queue.support.depth-changed'), { n: -1, handles: [], delayMs: null });
    assert.deepEqual(oneOf(s.takeActions(), 'notice'), {
      kind: 'notice', notice: 'error', detail: 'bad_frame', message: 'unexpected `event` while authenticating',
      handle: 0, close_code: 0, close_reason: '',
    });
    s.frame(t0, random, 1, JSON.stringify({ op: 'ready', sub: 's', tenant: 'acme', exp: expSeconds, heartbeat_ms: 20_000 }));
    s.takeActions();

    assert.deepEqual(s.event(t0 + 1, random, 1, '6f1c2a9e-1043', 'queue.support.depth-changed'), { n: 2, handles: [queue, all], delayMs: null });
    assert.deepEqual(s.event(t0 + 1, random, 1, '6f1c2a9e-1044', 'agent.a-1.status-changed'), { n: 1, handles: [all], delayMs: null });
    assert.equal(s.status().last_event_id, '6f1c2a9e-1044');
    assert.deepEqual(s.event(t0 + 2, random, 1, '6f1c2a9e-1044', 'agent.a-1.status-changed').n, 0, 'a duplicate');
    assert.deepEqual(s.event(t0 + 2, random, 1, '6f1c2a9e-900', 'agent.a-1.status-changed').n, 0, 'an older id');
    assert.deepEqual(s.event(t0 + 2, random, 2, '6f1c2a9e-2000', 'agent.a-1.status-changed').n, 0, 'another connection');
    assert.deepEqual(s.takeActions(), []);

    for (const [id, topic, words] of [
      ['6f1c2a9e-0', 'queue.support.depth-changed', 'not an event id'],
      ['x', 'queue.support.depth-changed', 'not an event id'],
      ['6f1c2a9e-9007199254740992', 'queue.support.depth-changed', 'not an event id'],
      ['6f1c2a9e-2000', 'queue..x', "member 'topic'"],
      ['6f1c2a9e-2000', 'queue.*.x', "member 'topic'"],
      ['6f1c2a9e-2000', '', "member 'topic'"],
    ]) {
      assert.equal(s.event(t0 + 3, random, 1, id, topic).n, -1, `${id} ${topic}`);
      const notice = oneOf(s.takeActions(), 'notice');
      assert.equal(notice.detail, 'bad_frame');
      assert.ok(notice.message.includes(words), notice.message);
    }
    assert.equal(s.status().last_event_id, '6f1c2a9e-1044', 'a refused event leaves the position alone');

    // Another epoch without `reset`: the notice, the close and the reconnect come as actions.
    assert.equal(s.event(t0 + 4, random, 1, 'ffff-1', 'queue.support.depth-changed').n, -1);
    const actions = s.takeActions();
    assert.equal(oneOf(actions, 'notice').detail, 'epoch_changed');
    assert.deepEqual(oneOf(actions, 'close'), { kind: 'close', connection: 1, code: 1008, reason: 'event from another epoch without reset' });
    assert.equal(s.status().last_event_id, '6f1c2a9e-1044');
  });
});

// Issue 17 through the bridge: the snapshot option and `conflate` reach the subscribe frame,
// the snapshot flag and `time` cross with the event, the delay comes back as a number, and
// `snapshotted` and the latency figures come out.
test('snapshot, conflate and latency cross the bridge', () => {
  const eventMs = Date.parse('2026-11-27T18:02:11.204Z');
  withSession({ endpoint, token_in_header: false, conflate: true }, (s) => {
    const plain = s.subscribe(t0, random, 'queue.support.*').handle;
    const current = s.subscribe(t0, random, 'queue.>', { snapshot: true }).handle;
    s.start(t0, random);
    s.tokenObtained(t0, random, token);
    s.opened(t0, random, 1);
    s.takeActions();
    // The server's clock is 250 ms ahead.
    s.frame(eventMs, random, 1, JSON.stringify({
      op: 'ready', sub: 's', tenant: 'acme', exp: expSeconds, heartbeat_ms: 20_000, head: '6f1c2a9e-1040', time_ms: eventMs + 250,
    }));
    const request = JSON.parse(oneOf(s.takeActions(), 'send').text);
    assert.deepEqual(request, { op: 'subscribe', req: '1', topics: ['queue.>', 'queue.support.*'], snapshot: true, conflate: true });
    s.frame(eventMs, random, 1, JSON.stringify({ op: 'subscribed', req: '1', topics: request.topics, head: '6f1c2a9e-1043' }));
    s.takeActions();

    // A snapshot event, fed as input: to the handle that asked only, its age as the delay.
    assert.deepEqual(s.event(eventMs + 30, random, 1, '6f1c2a9e-1040', 'queue.support.depth-changed', '2026-11-27T18:02:11.204Z', true),
      { n: 1, handles: [current], delayMs: 280 });
    // The same as a frame: the deliver action says so.
    s.frame(eventMs + 30, random, 1, JSON.stringify({ ...JSON.parse(eventFrame), id: '6f1c2a9e-1041', snapshot: true }));
    const deliver = oneOf(s.takeActions(), 'deliver');
    assert.deepEqual({ ...deliver, frame: undefined },
      { kind: 'deliver', frame: undefined, handles: [current], id: '6f1c2a9e-1041', topic: 'queue.support.depth-changed', snapshot: true, delay_ms: 280 });
    s.frame(eventMs + 30, random, 1, JSON.stringify({ op: 'snapshotted', req: '1', count: 2 }));
    assert.deepEqual(oneOf(s.takeActions(), 'notice'), {
      kind: 'notice', notice: 'snapshotted', detail: '2', message: 'the snapshot of `queue.>` is complete (2 events)',
      handle: current, close_code: 0, close_reason: '',
    });
    assert.deepEqual(s.latency(), { count: 0, p50_ms: 0, p99_ms: 0, clock_offset_ms: 250 });

    // Live: to both, measured; an event with a time that does not parse has no delay.
    assert.deepEqual(s.event(eventMs + 10, random, 1, '6f1c2a9e-1044', 'queue.support.depth-changed', '2026-11-27T18:02:11.204Z', false),
      { n: 2, handles: [plain, current], delayMs: 260 });
    assert.deepEqual(s.event(eventMs + 10, random, 1, '6f1c2a9e-1045', 'queue.support.depth-changed', 'soon', false),
      { n: 2, handles: [plain, current], delayMs: null });
    assert.deepEqual(s.latency(), { count: 1, p50_ms: 260, p99_ms: 260, clock_offset_ms: 250 });
    assert.equal(s.status().last_event_id, '6f1c2a9e-1045');

    // `snapshot` that is not true: the strict decoder says why.
    s.frame(eventMs, random, 1, JSON.stringify({ ...JSON.parse(eventFrame), id: '6f1c2a9e-1046', snapshot: false }));
    const refused = oneOf(s.takeActions(), 'notice');
    assert.equal(refused.detail, 'bad_frame');
    assert.match(refused.message, /member 'snapshot': expected true or no member, got false/);
  });
});
