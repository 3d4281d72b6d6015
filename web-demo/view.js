// Renders the dashboard's model (dashboard.js) into the page. Everything from the wire is set
// as text (never as HTML): event data comes from publishers, not from us.
import { palette, renderDepthChart } from '/chart.js';
import { serviceSeconds, windowMs } from '/dashboard.js';

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// "42 s", "3m 05s"
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}
// "0:42", "12:05", "1:02:03": time in a status, compact for the agent tiles
function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const mmss = `${Math.floor(s / 60) % 60}:${String(s % 60).padStart(2, '0')}`;
  return s < 3600 ? mmss : `${Math.floor(s / 3600)}:${mmss.padStart(5, '0')}`;
}
const percent = (share) => (share === null ? '–' : `${Math.round(share * 100)} %`);

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

export function renderSnapshot(text) { $('snapshot-count').textContent = text; }

// A stable colour per queue, shared by the table and the chart.
function queueColours(board) {
  const names = [...board.queues.keys()].sort((a, b) => a.localeCompare(b));
  return new Map(names.map((name, i) => [name, palette[i % palette.length]]));
}

export function renderKpis(board, now) {
  let worst = null;
  for (const [name, q] of board.queues) {
    const wait = board.longestWaitNow(q, now);
    if (q.depth !== null && (!worst || wait > worst.wait)) worst = { name, wait, depth: q.depth };
  }
  const waitBox = $('kpi-wait');
  waitBox.dataset.level = worst ? board.waitLevel(worst.wait) : 'ok';
  $('longest-wait').textContent = worst ? duration(worst.wait) : '–';
  $('wait-threshold').textContent = duration(board.thresholdSeconds);
  $('longest-wait-detail').firstChild.textContent = worst && worst.depth ? `in ${worst.name}, threshold ` : 'threshold ';
  const stats = board.serviceStats(undefined, now);
  $('service-level').textContent = percent(stats.serviceLevel);
  $('abandon-rate').textContent = percent(stats.abandonRate);
  $('offered').textContent = String(stats.offered);
  $('service-seconds').textContent = duration(serviceSeconds);
  $('kpi-service').dataset.level = stats.serviceLevel === null ? 'none' : stats.serviceLevel >= 0.8 ? 'ok' : stats.serviceLevel >= 0.6 ? 'warn' : 'breach';
  $('kpi-abandon').dataset.level = stats.abandonRate === null ? 'none' : stats.abandonRate <= 0.05 ? 'ok' : stats.abandonRate <= 0.15 ? 'warn' : 'breach';
  // Until the window is full, say since when it counts.
  const since = now - board.openedAt < windowMs
    ? `since ${new Date(board.openedAt).toLocaleTimeString([], { hour12: false })}` : `last ${windowMs / 60_000} min`;
  for (const label of document.querySelectorAll('.window-label')) label.textContent = since;
}

// latency: {count, p50Ms, p99Ms, clockOffsetMs} from ws.latency(), or null (an SDK without it);
// frameP99: the page's own wait from the handler to the painted frame.
export function renderLatency(latency, frameP99) {
  const box = $('kpi-latency');
  // A delay is never negative; a measured one is when the clock offset, estimated from the
  // server's time in ready and pong frames, is off by more than the delay itself.
  const ms = (v) => { const d = Math.max(0, v); return `${d < 10 ? d.toFixed(1) : Math.round(d)} ms`; };
  if (!latency || !latency.count) {
    box.dataset.level = 'none';
    $('latency-p50').textContent = '–';
    $('latency-p99').textContent = '–';
    $('latency-detail').textContent = latency ? 'promise: under 200 ms; waiting for live events' : 'this SDK does not measure latency';
    $('latency-sdk').textContent = 'Latency: –';
    return;
  }
  box.dataset.level = latency.p99Ms <= 200 ? 'ok' : latency.p50Ms <= 200 ? 'warn' : 'breach';
  $('latency-p50').textContent = ms(latency.p50Ms);
  $('latency-p99').textContent = ms(latency.p99Ms);
  $('latency-detail').textContent = `promise: under 200 ms · ${latency.count} live events`;
  $('latency-sdk').textContent = `Latency: server accept → handler (SDK) over ${latency.count} events, clock offset `
    + `${Math.round(latency.clockOffsetMs ?? 0)} ms${frameP99 === null ? '' : `; handler → painted frame p99 ${ms(frameP99)}`}`;
}

export function renderQueues(board, now) {
  const colours = queueColours(board);
  const body = $('queues').querySelector('tbody');
  const rows = [...board.queues.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, q]) => {
    const row = el('tr');
    row.dataset.queue = name;
    const wait = board.longestWaitNow(q, now);
    const level = q.depth ? board.waitLevel(wait) : 'ok';
    row.dataset.level = level;
    const label = el('th');
    const swatch = el('span', 'swatch');
    swatch.style.background = colours.get(name);
    label.append(swatch, document.createTextNode(name));
    const stats = board.serviceStats([name], now);
    row.append(label,
      el('td', 'depth', q.depth === null ? '–' : String(q.depth)),
      el('td', `wait level-${level}`, q.depth === null ? '–' : duration(wait)),
      el('td', 'free', q.agentsAvailable === undefined ? '–' : String(q.agentsAvailable)),
      el('td', 'sl', percent(stats.serviceLevel)),
      el('td', 'abandoned', percent(stats.abandonRate)));
    return row;
  });
  body.replaceChildren(...rows);
  toggleEmpty('queues', rows.length === 0);
}

export function renderChart(board, now) {
  const colours = queueColours(board);
  const series = [...colours].map(([name, colour]) => {
    const q = board.queues.get(name);
    return { name, color: colour, points: q.history, current: q.depth };
  });
  renderDepthChart($('depth-chart'), series, { now, windowMs, openedAt: board.openedAt });
  $('chart-legend').replaceChildren(...series.map((s) => {
    const item = el('li');
    const swatch = el('span', 'swatch');
    swatch.style.background = s.color;
    item.append(swatch, document.createTextNode(s.name));
    return item;
  }));
}

const statusOrder = ['available', 'busy', 'wrap-up', 'break', 'offline'];

export function renderAgents(agents, now) {
  const counts = new Map();
  const tiles = [...agents.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, a]) => {
    counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    // Only known statuses become a class; anything else a publisher sends is shown as text.
    const known = statusOrder.includes(a.status) ? a.status : 'other';
    const tile = el('li', `agent status-${known}`);
    tile.dataset.agent = id;
    tile.dataset.status = a.status;
    const head = el('span', 'agent-head');
    head.append(el('span', 'agent-id', id), el('span', 'agent-since', a.since === null ? '' : clock((now - a.since) / 1000)));
    tile.append(head, el('span', 'agent-status', a.status));
    if (a.detail && a.detail.status === a.status && a.detail.text) tile.append(el('span', 'agent-detail', a.detail.text));
    return tile;
  });
  $('agents').replaceChildren(...tiles);
  $('agent-summary').textContent = statusOrder.filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${s}`).join(' · ');
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
