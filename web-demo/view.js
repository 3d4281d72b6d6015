// Renders the dashboard's model into the page. Everything from the wire is set as text
// (never as HTML): event data comes from publishers, not from us.

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// "42 s", "3 m 05 s"
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}

function toggleEmpty(listId, empty) {
  document.querySelector(`[data-empty-for="${listId}"]`).hidden = !empty;
}

const stateLabels = {
  idle: 'starting', fetching_token: 'getting a token', connecting: 'connecting', authenticating: 'authenticating',
  live: 'live', reconnecting: 'reconnecting', closed: 'closed',
};

export function renderConnection({ state, code, reconnects, resets, events, lastEventId }) {
  const box = $('connection');
  box.dataset.state = state;
  $('connection-state').textContent = stateLabels[state] + (state === 'reconnecting' && code ? ` (close ${code})` : '');
  $('reconnects').textContent = String(reconnects);
  $('resets').textContent = String(resets);
  $('event-count').textContent = String(events);
  $('last-event-id').textContent = lastEventId ?? 'none';
}

export function renderNotice(text) {
  const notice = $('notice');
  notice.hidden = !text;
  notice.textContent = text ?? '';
}

// queues: Map name -> {depth, longest_wait_seconds, agents_available, alert}
export function renderQueues(queues) {
  const body = $('queues').querySelector('tbody');
  const rows = [...queues.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, q]) => {
    const row = el('tr');
    row.dataset.queue = name;
    if (q.alert) row.className = 'alert';
    row.append(el('th', '', name), el('td', 'depth', String(q.depth)),
      el('td', 'wait', duration(q.longest_wait_seconds)),
      el('td', 'free', q.agents_available === undefined ? '–' : String(q.agents_available)));
    return row;
  });
  body.replaceChildren(...rows);
  toggleEmpty('queues', rows.length === 0);
}

// agents: Map id -> {status, detail}
export function renderAgents(agents) {
  const tiles = [...agents.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, a]) => {
    const tile = el('li', `agent status-${a.status}`);
    tile.dataset.agent = id;
    tile.append(el('span', 'agent-id', id), el('span', 'agent-status', a.status));
    if (a.detail) tile.append(el('span', 'agent-detail', a.detail));
    return tile;
  });
  $('agents').replaceChildren(...tiles);
  toggleEmpty('agents', tiles.length === 0);
}

// feed: newest first; each {kind, title, detail, time}
export function renderFeed(feed) {
  const items = feed.map((entry) => {
    const item = el('li', `feed-item kind-${entry.kind}`);
    item.append(el('time', '', entry.time), el('span', 'badge', entry.kind), el('span', 'title', entry.title),
      el('span', 'detail', entry.detail));
    return item;
  });
  $('feed').replaceChildren(...items);
  toggleEmpty('feed', items.length === 0);
}
