// The live dashboard: one GlobeMeetWS (the SDK from js/dist, served at /sdk/) feeding the
// model of dashboard.js, rendered by view.js once per frame and once a second (waits and
// times in a status grow, the chart moves).
//
// The gauges (queue depths, agent statuses) are subscribed with `snapshot: true`: a dashboard
// opened late, or told by a reset that it missed events, gets the current value of every queue
// and agent at once. The connection conflates gauges when it lags (`conflate: true`): a
// wallboard wants the newest depth, not every intermediate one.
import { GlobeMeetWS } from '/sdk/index.js';
import { Dashboard } from '/dashboard.js';
import {
  duration, renderAgents, renderChart, renderConnection, renderFeed, renderKpis, renderLatency, renderNotice,
  renderQueues, renderSnapshot,
} from '/view.js';

const board = new Dashboard();
window.dashboard = board;  // handy in the console

const config = await (await fetch('/config')).json();
const ws = new GlobeMeetWS({
  endpoint: config.endpoint,
  // serve.mjs exchanges the OAuth client credentials; the page never sees the secret.
  async getToken() {
    const res = await fetch('/token', { cache: 'no-store' });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    return (await res.json()).access_token;
  },
  conflate: true,
});
window.globemeet = ws;
// An SDK from before snapshots and latency still runs the page: live events only.
const measures = typeof ws.latency === 'function';

// ---- time: event `time` is the server's clock; the SDK knows the offset to ours ----------

let clockOffsetMs = 0;
const localTime = (event) => Date.parse(event.time) - clockOffsetMs;
const isSnapshot = (event, meta) => meta?.snapshot ?? event.snapshot === true;

// ---- latency: the SDK measures server accept -> handler; the page adds handler -> frame ----

const frameWaits = [];  // the last 1,000
let unpainted = [];     // handler times (performance.now) of live events not yet on screen
function measured(meta) {
  if (meta && !meta.snapshot && typeof meta.delayMs === 'number') unpainted.push(performance.now());
}
function painted(handled, at) {
  for (const t of handled) frameWaits.push(at - t);
  if (frameWaits.length > 1000) frameWaits.splice(0, frameWaits.length - 1000);
}
function frameP99() {
  if (!frameWaits.length) return null;
  const sorted = [...frameWaits].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

// ---- rendering ---------------------------------------------------------------------------

let renderPending = false;
function render() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    const now = Date.now();
    board.prune(now);
    renderConnection(board.connection);
    renderKpis(board, now);
    renderQueues(board, now);
    renderAgents(board.agents, now);
    renderFeed(board.feed);
    renderChart(board, now);
    // The frame is on screen once this callback returned and the browser painted it; the
    // next macrotask after the frame is as close as a page can see.
    const handled = unpainted;
    unpainted = [];
    setTimeout(() => painted(handled, performance.now()), 0);
  });
}
function tick() {
  if (measures) {
    const latency = ws.latency();
    if (typeof latency.clockOffsetMs === 'number') clockOffsetMs = latency.clockOffsetMs;
    renderLatency(latency, frameP99());
  } else renderLatency(null, null);
  render();
}
setInterval(tick, 1000);
// The chart is drawn in the pixel size of its box: draw it again when that changes.
new ResizeObserver(() => render()).observe(document.getElementById('depth-chart'));

const snapshotTopics = new Set();  // topics the latest snapshot brought
function counted(event, meta) {
  board.connection.events++;
  // Snapshot events are older than the connection's position: they never name the last event.
  if (isSnapshot(event, meta)) snapshotTopics.add(event.topic);
  else board.connection.lastEventId = event.id;
  measured(meta);
  render();
}
const feed = (event, title, detail) => board.addToFeed(event.type.split('.')[0], title, detail, localTime(event));

// ---- subscriptions -----------------------------------------------------------------------

const snapshot = { snapshot: true };

ws.subscribe('queue.*.depth-changed', (event, meta) => {
  board.depthChanged(event.data, localTime(event));
  counted(event, meta);
}, snapshot);

// The latest alert per queue also tells the threshold the publisher uses.
ws.subscribe('queue.*.max-wait-exceeded', (event, meta) => {
  board.thresholdSeconds = event.data.threshold_seconds;
  if (!isSnapshot(event, meta)) {
    feed(event, `${event.data.queue_id}: a caller waits over ${duration(event.data.threshold_seconds)}`,
      `longest wait ${duration(event.data.longest_wait_seconds)}`);
  }
  counted(event, meta);
}, snapshot);

ws.subscribe('agent.*.*', (event, meta) => {
  board.agentEvent(event.type, event.data, localTime(event));
  counted(event, meta);
}, snapshot);

ws.subscribe('queue.*.abandoned', (event, meta) => {
  board.abandoned(event.data.queue_id, event.data.wait_seconds, localTime(event));
  feed(event, `Caller abandoned ${event.data.queue_id}`, `after ${duration(event.data.wait_seconds)}`);
  counted(event, meta);
});

ws.subscribe('session.*.*', (event, meta) => {
  const d = event.data;
  switch (event.type) {
    case 'session.created': feed(event, `New ${d.channel ?? ''} session in ${d.queue_id}`, d.session_id); break;
    case 'session.connected':
      if (d.wait_seconds !== undefined) board.answered(d.queue_id, d.wait_seconds, localTime(event));
      feed(event, `${d.agent_id} took ${d.session_id}`,
        d.wait_seconds === undefined ? d.queue_id : `${d.queue_id}, waited ${duration(d.wait_seconds)}`);
      break;
    case 'session.ended':
      feed(event, `${d.session_id} ended`, `${duration(d.duration_seconds)}${d.disposition ? `, ${d.disposition}` : ''}`);
      break;
    case 'session.dropped': feed(event, `${d.session_id} dropped`, d.reason ?? d.queue_id); break;
    case 'session.transferred': feed(event, `${d.session_id} transferred`, `${d.queue_id} → ${d.to_queue_id}`); break;
  }
  counted(event, meta);
});

ws.subscribe('recording.*.*', (event, meta) => {
  const d = event.data;
  switch (event.type) {
    case 'recording.started': feed(event, `Recording ${d.recording_id} started`, d.session_id); break;
    case 'recording.finished': feed(event, `Recording ${d.recording_id} saved`, `${duration(d.duration_seconds)} of ${d.session_id}`); break;
    case 'recording.failed': feed(event, `Recording ${d.recording_id} failed`, d.reason); break;
    case 'recording.deleted': feed(event, `Recording ${d.recording_id} deleted`, d.reason ?? ''); break;
  }
  counted(event, meta);
});

ws.subscribe('qa.*.*', (event, meta) => {
  const d = event.data;
  switch (event.type) {
    case 'qa.scorecard-saved': feed(event, `Scorecard for ${d.agent_id}: ${d.score}`, d.session_id); break;
    case 'qa.dispute-raised': feed(event, `${d.agent_id} disputes ${d.scorecard_id}`, d.reason); break;
    case 'qa.score-updated': feed(event, `Score for ${d.agent_id}: ${d.previous_score} → ${d.score}`, d.scorecard_id); break;
  }
  counted(event, meta);
});

// ---- the connection ----------------------------------------------------------------------

// Told once per snapshot subscription; the page counts the topics itself, across them.
ws.on('snapshot', () => {
  renderSnapshot(`${snapshotTopics.size} topics at ${new Date().toLocaleTimeString([], { hour12: false })}`);
});
ws.on('state', ({ to, code }) => {
  board.connection.state = to;
  board.connection.code = code;
  if (to === 'closed') renderNotice(`Disconnected for good (close ${code}). Reload the page to start again.`);
  render();
});
ws.on('reconnect', () => { board.connection.reconnects++; render(); });
ws.on('reset', ({ reason }) => {
  board.connection.resets++;
  if (measures) {
    // The snapshot follows the reset and rebuilds the current state.
    board.clearState();
    snapshotTopics.clear();
    renderNotice(`The server could not resume (${reason}): the view was rebuilt from its current state; events in between were missed.`);
  } else {
    renderNotice(`The server could not resume (${reason}): some events were missed, the view may be incomplete.`);
  }
  render();
});
ws.on('error', (e) => console.warn(`GlobeMeet: ${e.code}: ${e.message}`));
tick();
