// The simulator's contact-center model (server/simulator/model.mjs), run without a server:
// a seeded run is reproducible, every event has the catalogue's required fields
// (docs/protocol.md 3.1), and the traffic behaves like a contact center: queues build up AND
// drain, agents are available at times, callers abandon, agents wrap up, take breaks, leave
// and come back, and the events tell one consistent story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ContactCenter } from '../../server/simulator/model.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// type -> required data fields, read from the catalogue table of docs/protocol.md.
function catalogue() {
  const lines = readFileSync(path.join(root, 'docs/protocol.md'), 'utf8').split('\n');
  let at = lines.findIndex((line) => line.startsWith('### 3.1 Catalogue'));
  while (!lines[at].startsWith('|')) at += 1;
  const required = new Map();
  for (at += 2; lines[at]?.startsWith('|'); at += 1) {
    const [type, fields] = lines[at].split('|').slice(1, 3);
    required.set(type.trim().replace(/`/g, ''), [...fields.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));
  }
  return required;
}

// Runs the model for `seconds` of simulated time; returns its events, each with its time.
function run({ seconds = 1800, ...options } = {}) {
  const model = new ContactCenter({ seed: 7, ...options });
  const events = model.start().map((e) => ({ ...e, at: 0 }));
  for (let i = 0; i < seconds * 4; i++) events.push(...model.step(0.25).map((e) => ({ ...e, at: model.time })));
  return { model, events };
}

test('the same seed gives the same events, another seed other events', () => {
  const strip = (events) => JSON.stringify(events);
  assert.equal(strip(run({ seconds: 300 }).events), strip(run({ seconds: 300 }).events));
  assert.notEqual(strip(run({ seconds: 300 }).events), strip(run({ seconds: 300, seed: 8 }).events));
});

test('every event is in the catalogue with its required fields, on a valid topic key', () => {
  const required = catalogue();
  assert.equal(required.size, 20);
  const { events } = run();
  const seen = new Set();
  for (const e of events) {
    assert.ok(required.has(e.type), `not in the catalogue: ${e.type}`);
    for (const field of required.get(e.type)) assert.ok(e.data[field] !== undefined, `${e.type} lacks ${field}`);
    assert.match(e.subject, /^[A-Za-z0-9_-]{1,64}$/);
    // The key is the agent for agent events, the queue for the others (recordings and QA
    // carry no queue_id: their key is the queue of their session).
    if (e.type.startsWith('agent.')) assert.equal(e.subject, e.data.agent_id, e.type);
    else if (e.data.queue_id !== undefined) assert.equal(e.subject, e.data.queue_id, e.type);
    else assert.ok(['support', 'sales', 'billing'].includes(e.subject), `${e.type} on ${e.subject}`);
    for (const [name, value] of Object.entries(e.data)) {
      if (name === 'depth' || name.endsWith('_seconds') || name === 'size_bytes' || name === 'agents_available') {
        assert.ok(Number.isFinite(value) && value >= 0, `${e.type}.${name} = ${value}`);
      }
    }
    seen.add(e.type);
  }
  // Everything but recording.deleted (nobody deletes recordings here) turns up in half an hour.
  assert.deepEqual([...required.keys()].filter((type) => !seen.has(type)), ['recording.deleted']);
});

test('the opening events name every agent and every queue (what a snapshot needs)', () => {
  const model = new ContactCenter({ seed: 3, agents: 12 });
  const opening = model.start();
  const statuses = opening.filter((e) => e.type === 'agent.status-changed').map((e) => e.data.agent_id);
  assert.deepEqual(statuses, model.agents.map((a) => a.id));
  const depths = opening.filter((e) => e.type === 'queue.depth-changed').map((e) => e.data.queue_id);
  assert.deepEqual(depths, ['support', 'sales', 'billing']);
  // Every queue has at least one agent with its skill.
  for (const q of depths) assert.ok(model.agents.some((a) => a.queues.includes(q)), q);
});

test('queues build up and drain, agents are available at times, callers abandon', () => {
  const { events } = run();
  for (const queue of ['support', 'sales', 'billing']) {
    const depths = events.filter((e) => e.type === 'queue.depth-changed' && e.data.queue_id === queue).map((e) => e.data.depth);
    const peaks = depths.filter((d, i) => d > 0 && depths[i + 1] === 0).length;  // times it emptied again
    assert.ok(Math.max(...depths) >= 3, `${queue} never built up: max ${Math.max(...depths)}`);
    assert.ok(peaks >= 3, `${queue} drained only ${peaks} times`);
    const free = events.filter((e) => e.type === 'queue.depth-changed' && e.data.queue_id === queue && e.at > 60)
      .map((e) => e.data.agents_available);
    assert.ok(free.some((n) => n > 0) && free.some((n) => n === 0), `${queue}: agents_available ${[...new Set(free)]}`);
  }
  const created = events.filter((e) => e.type === 'session.created').length;
  const abandoned = events.filter((e) => e.type === 'queue.abandoned').length;
  assert.ok(abandoned > 0 && abandoned < created / 2, `${abandoned} of ${created} abandoned`);
  // The arrival rate varies: the busiest minute has at least twice the calls of the quietest.
  const perMinute = new Array(30).fill(0);
  for (const e of events) if (e.type === 'session.created') perMinute[Math.min(29, Math.floor(e.at / 60))]++;
  assert.ok(Math.max(...perMinute) >= 2 * Math.max(1, Math.min(...perMinute)), perMinute.join(' '));
});

test('agents go through available, busy, wrap-up and break, and leave and come back', () => {
  const { events } = run();
  const status = new Map();
  const transitions = new Set();
  for (const e of events.filter((e) => e.type === 'agent.status-changed')) {
    assert.equal(e.data.previous_status, status.get(e.data.agent_id) ?? 'offline', `${e.data.agent_id} at ${e.at}`);
    assert.notEqual(e.data.status, e.data.previous_status);
    status.set(e.data.agent_id, e.data.status);
    transitions.add(`${e.data.previous_status}>${e.data.status}`);
  }
  for (const t of ['offline>available', 'available>busy', 'busy>wrap-up', 'wrap-up>available', 'wrap-up>break',
    'break>available', 'available>offline']) assert.ok(transitions.has(t), `never ${t}: ${[...transitions]}`);
  for (const [type, status] of [['agent.busy', 'busy'], ['agent.break', 'break'], ['agent.offline', 'offline'], ['agent.online', 'available']]) {
    // Each of these comes right before the status-changed it explains.
    const at = events.findIndex((e) => e.type === type);
    assert.equal(events[at + 1].type, 'agent.status-changed');
    assert.equal(events[at + 1].data.status, status);
  }
});

test('sessions tell a consistent story, and queue depths count the callers waiting', () => {
  const { events } = run();
  const state = new Map();  // session -> 'waiting:<queue>' | 'talking' | 'done'
  const waiting = new Map([['support', 0], ['sales', 0], ['billing', 0]]);
  const leave = (id, queue) => { assert.equal(state.get(id), `waiting:${queue}`, id); waiting.set(queue, waiting.get(queue) - 1); };
  for (const e of events) {
    const d = e.data;
    switch (e.type) {
      case 'session.created': assert.ok(!state.has(d.session_id)); state.set(d.session_id, `waiting:${d.queue_id}`); waiting.set(d.queue_id, waiting.get(d.queue_id) + 1); break;
      case 'session.connected': leave(d.session_id, d.queue_id); state.set(d.session_id, 'talking'); break;
      case 'session.dropped': leave(d.session_id, d.queue_id); state.set(d.session_id, 'done'); break;
      case 'session.ended': assert.equal(state.get(d.session_id), 'talking'); state.set(d.session_id, 'done'); break;
      case 'session.transferred':
        assert.equal(state.get(d.session_id), 'talking');
        assert.notEqual(d.to_queue_id, d.queue_id);
        state.set(d.session_id, `waiting:${d.to_queue_id}`);
        waiting.set(d.to_queue_id, waiting.get(d.to_queue_id) + 1);
        break;
      case 'queue.depth-changed': assert.equal(d.depth, waiting.get(d.queue_id), `${d.queue_id} at ${e.at}`); break;
      case 'queue.max-wait-exceeded': assert.ok(d.longest_wait_seconds >= d.threshold_seconds); break;
    }
  }
});
