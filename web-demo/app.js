// The live dashboard: one GlobeMeetWS (the SDK from js/dist, served at /sdk/) feeding a small
// model of queues, agents and a recent-activity feed, rendered by view.js once per frame.
import { GlobeMeetWS } from '/sdk/index.js';
import { duration, renderAgents, renderConnection, renderFeed, renderNotice, renderQueues } from '/view.js';

const feedLength = 40;
const model = {
  queues: new Map(),
  agents: new Map(),
  feed: [],
  connection: { state: 'idle', code: 0, reconnects: 0, resets: 0, events: 0, lastEventId: null },
};

let renderPending = false;
function render() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderConnection(model.connection);
    renderQueues(model.queues);
    renderAgents(model.agents);
    renderFeed(model.feed);
  });
}

function queue(name) {
  let q = model.queues.get(name);
  if (!q) model.queues.set(name, (q = { depth: 0, longest_wait_seconds: 0, agents_available: undefined, alert: false }));
  return q;
}
function agent(id) {
  let a = model.agents.get(id);
  if (!a) model.agents.set(id, (a = { status: 'offline', detail: '' }));
  return a;
}
function addToFeed(event, title, detail) {
  const kind = event.type.split('.')[0];
  const time = new Date(event.time).toLocaleTimeString([], { hour12: false });
  model.feed.unshift({ kind, title, detail, time });
  model.feed.length = Math.min(model.feed.length, feedLength);
}
function counted(event) {
  model.connection.events++;
  model.connection.lastEventId = event.id;
  render();
}

const config = await (await fetch('/config')).json();
const ws = new GlobeMeetWS({
  endpoint: config.endpoint,
  // serve.mjs exchanges the OAuth client credentials; the page never sees the secret.
  async getToken() {
    const res = await fetch('/token', { cache: 'no-store' });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    return (await res.json()).access_token;
  },
});
window.globemeet = ws;  // handy in the console

ws.subscribe('queue.*.depth-changed', (event) => {
  const q = queue(event.data.queue_id);
  q.depth = event.data.depth;
  q.longest_wait_seconds = event.data.longest_wait_seconds;
  if (event.data.agents_available !== undefined) q.agents_available = event.data.agents_available;
  if (event.data.longest_wait_seconds === 0) q.alert = false;
  counted(event);
});
ws.subscribe('queue.*.max-wait-exceeded', (event) => {
  queue(event.data.queue_id).alert = true;
  counted(event);
});
ws.subscribe('queue.*.abandoned', (event) => {
  addToFeed(event, `Caller abandoned ${event.data.queue_id}`, `after ${duration(event.data.wait_seconds)}`);
  counted(event);
});

ws.subscribe('agent.*.*', (event) => {
  const a = agent(event.data.agent_id);
  switch (event.type) {
    case 'agent.status-changed': a.status = event.data.status; a.detail = ''; break;
    case 'agent.online': if (a.status === 'offline') a.status = 'available'; break;
    case 'agent.offline': a.status = 'offline'; a.detail = event.data.reason ?? ''; break;
    case 'agent.break': a.status = 'break'; a.detail = event.data.reason ?? ''; break;
    case 'agent.busy': a.status = 'busy'; a.detail = event.data.session_id; break;
  }
  counted(event);
});

ws.subscribe('session.*.*', (event) => {
  const d = event.data;
  switch (event.type) {
    case 'session.created': addToFeed(event, `New ${d.channel ?? ''} session in ${d.queue_id}`, d.session_id); break;
    case 'session.connected':
      addToFeed(event, `${d.agent_id} took ${d.session_id}`,
        d.wait_seconds === undefined ? d.queue_id : `${d.queue_id}, waited ${duration(d.wait_seconds)}`);
      break;
    case 'session.ended':
      addToFeed(event, `${d.session_id} ended`, `${duration(d.duration_seconds)}${d.disposition ? `, ${d.disposition}` : ''}`);
      break;
    case 'session.dropped': addToFeed(event, `${d.session_id} dropped`, d.reason ?? d.queue_id); break;
    case 'session.transferred': addToFeed(event, `${d.session_id} transferred`, `${d.queue_id} → ${d.to_queue_id}`); break;
  }
  counted(event);
});

ws.subscribe('recording.*.*', (event) => {
  const d = event.data;
  switch (event.type) {
    case 'recording.started': addToFeed(event, `Recording ${d.recording_id} started`, d.session_id); break;
    case 'recording.finished':
      addToFeed(event, `Recording ${d.recording_id} saved`, `${duration(d.duration_seconds)} of ${d.session_id}`);
      break;
    case 'recording.failed': addToFeed(event, `Recording ${d.recording_id} failed`, d.reason); break;
    case 'recording.deleted': addToFeed(event, `Recording ${d.recording_id} deleted`, d.reason ?? ''); break;
  }
  counted(event);
});

ws.subscribe('qa.*.*', (event) => {
  const d = event.data;
  switch (event.type) {
    case 'qa.scorecard-saved': addToFeed(event, `Scorecard for ${d.agent_id}: ${d.score}`, d.session_id); break;
    case 'qa.dispute-raised': addToFeed(event, `${d.agent_id} disputes ${d.scorecard_id}`, d.reason); break;
    case 'qa.score-updated': addToFeed(event, `Score for ${d.agent_id}: ${d.previous_score} → ${d.score}`, d.scorecard_id); break;
  }
  counted(event);
});

ws.on('state', ({ to, code }) => {
  model.connection.state = to;
  model.connection.code = code;
  if (to === 'closed') renderNotice(`Disconnected for good (close ${code}). Reload the page to start again.`);
  render();
});
ws.on('reconnect', () => { model.connection.reconnects++; render(); });
ws.on('reset', ({ reason }) => {
  model.connection.resets++;
  renderNotice(`The server could not resume (${reason}): some events were missed, the view may be incomplete.`);
  render();
});
ws.on('error', (e) => console.warn(`GlobeMeet: ${e.code}: ${e.message}`));
render();
