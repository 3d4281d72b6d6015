// The wallboard's model (web-demo/dashboard.js) without a browser: what a snapshot can and
// cannot tell (the chart starts at page load; the time in a status comes from the event), the
// service-level window, and a reset that forgets the current state but keeps what was seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Dashboard, windowMs } from '../../web-demo/dashboard.js';

const opened = 1_000_000;

test('a snapshot value older than the page starts the chart at page load', () => {
  const board = new Dashboard(opened);
  board.depthChanged({ queue_id: 'support', depth: 4, longest_wait_seconds: 30, agents_available: 0 }, opened - 120_000);
  board.depthChanged({ queue_id: 'support', depth: 2, longest_wait_seconds: 10, agents_available: 1 }, opened + 5_000);
  // A value that arrives late (replayed, or an older time after the clock offset moved) never
  // moves the line back in time.
  board.depthChanged({ queue_id: 'support', depth: 3, longest_wait_seconds: 12, agents_available: 1 }, opened + 4_000);
  const q = board.queues.get('support');
  assert.deepEqual(q.history, [[opened, 4], [opened + 5_000, 3]]);
  assert.equal(q.depth, 3);
  assert.equal(q.agentsAvailable, 1);
});

test('the longest wait grows between updates, for ten seconds at most', () => {
  const board = new Dashboard(opened);
  board.depthChanged({ queue_id: 'sales', depth: 1, longest_wait_seconds: 20 }, opened);
  const q = board.queues.get('sales');
  assert.equal(board.longestWaitNow(q, opened + 4_000), 24);
  assert.equal(board.longestWaitNow(q, opened + 60_000), 30);
  assert.equal(board.waitLevel(29), 'ok');
  assert.equal(board.waitLevel(30), 'warn');
  assert.equal(board.waitLevel(60), 'breach');
  board.depthChanged({ queue_id: 'sales', depth: 0, longest_wait_seconds: 0 }, opened + 5_000);
  assert.equal(board.longestWaitNow(q, opened + 9_000), 0);
});

test('service level and abandon rate count the last five minutes', () => {
  const board = new Dashboard(opened);
  assert.deepEqual(board.serviceStats([], opened), { offered: 0, abandonRate: null, serviceLevel: null });
  board.answered('support', 5, opened + 1_000);
  board.answered('support', 45, opened + 2_000);
  board.abandoned('support', 70, opened + 3_000);
  board.answered('billing', 0, opened + 4_000);
  const now = opened + 10_000;
  assert.deepEqual(board.serviceStats(['support'], now), { offered: 3, abandonRate: 1 / 3, serviceLevel: 1 / 3 });
  assert.deepEqual(board.serviceStats(undefined, now), { offered: 4, abandonRate: 1 / 4, serviceLevel: 2 / 4 });
  const later = opened + 2_500 + windowMs;
  board.prune(later);
  assert.deepEqual(board.serviceStats(undefined, later), { offered: 2, abandonRate: 1 / 2, serviceLevel: 1 / 2 });
});

test('agent events applied in id order (as a snapshot delivers them) give the latest status and its start', () => {
  const board = new Dashboard(opened);
  // The snapshot's latest event per topic: online at login, busy on the last call, and the
  // newest status-changed (wrap-up), in id order.
  board.agentEvent('agent.online', { agent_id: 'a-01', queues: ['support'] }, opened - 300_000);
  board.agentEvent('agent.busy', { agent_id: 'a-01', session_id: 's-9' }, opened - 40_000);
  board.agentEvent('agent.status-changed', { agent_id: 'a-01', status: 'wrap-up', previous_status: 'busy' }, opened - 5_000);
  assert.deepEqual(board.agents.get('a-01'), { status: 'wrap-up', since: opened - 5_000, detail: { status: 'busy', text: 's-9' } });
  board.agentEvent('agent.busy', { agent_id: 'a-01', session_id: 's-12' }, opened + 1_000);
  board.agentEvent('agent.status-changed', { agent_id: 'a-01', status: 'busy', previous_status: 'available' }, opened + 1_000);
  assert.deepEqual(board.agents.get('a-01'), { status: 'busy', since: opened + 1_000, detail: { status: 'busy', text: 's-12' } });
});

test('a reset forgets the current state, keeps the history; the snapshot rebuilds it', () => {
  const board = new Dashboard(opened);
  board.depthChanged({ queue_id: 'support', depth: 4, longest_wait_seconds: 30 }, opened + 1_000);
  board.agentEvent('agent.status-changed', { agent_id: 'a-02', status: 'break', previous_status: 'available' }, opened);
  board.answered('support', 3, opened + 1_500);
  board.clearState();
  assert.equal(board.agents.size, 0);
  const q = board.queues.get('support');
  assert.equal(q.depth, null);
  assert.deepEqual(q.history, [[opened + 1_000, 4]]);
  assert.equal(board.serviceStats(['support'], opened + 2_000).offered, 1);
  board.depthChanged({ queue_id: 'support', depth: 1, longest_wait_seconds: 2 }, opened + 900);
  assert.deepEqual(q.history, [[opened + 1_000, 1]]);
});
