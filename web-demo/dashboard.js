// The wallboard's model, fed by app.js and drawn by view.js: the current state of each queue
// and agent (rebuilt from the snapshot after a reset), each queue's depth over the last
// minutes, and the service-level indicators over a sliding window. Times are this browser's
// milliseconds; app.js converts each event's server `time` with the SDK's clock offset.
//
// A dashboard sees no further back than it has been open: the snapshot carries the current
// value of every topic, not its history, so the chart and the window start at page load.

export const windowMs = 5 * 60_000;   // the chart and the service-level window
export const serviceSeconds = 20;     // service level: answered within 20 s
const feedLength = 40;
const extrapolateMs = 10_000;         // a waiting caller's wait grows between two updates

export class Dashboard {
  constructor(now = Date.now()) {
    this.openedAt = now;
    this.queues = new Map();
    this.agents = new Map();
    this.feed = [];
    this.thresholdSeconds = 60;          // until a queue.max-wait-exceeded names the real one
    this.connection = { state: 'idle', code: 0, reconnects: 0, resets: 0, events: 0, lastEventId: null, snapshot: null };
  }

  // After a reset the current state may be wrong: forget it; the snapshot that follows rebuilds
  // it. What was seen before (depth history, outcomes) stays true and is kept.
  clearState() {
    for (const q of this.queues.values()) Object.assign(q, { depth: null, longestWait: 0, agentsAvailable: undefined, updatedAt: 0 });
    this.agents.clear();
  }

  queue(name) {
    let q = this.queues.get(name);
    if (!q) {
      q = { depth: null, longestWait: 0, agentsAvailable: undefined, updatedAt: 0, history: [], outcomes: [] };
      this.queues.set(name, q);
    }
    return q;
  }

  agent(id) {
    let a = this.agents.get(id);
    if (!a) this.agents.set(id, (a = { status: 'offline', since: null, detail: null }));
    return a;
  }

  // queue.depth-changed (a gauge). `at` is when the server accepted it.
  depthChanged(data, at) {
    const q = this.queue(data.queue_id);
    q.depth = data.depth;
    q.longestWait = data.longest_wait_seconds;
    if (data.agents_available !== undefined) q.agentsAvailable = data.agents_available;
    q.updatedAt = at;
    // The chart cannot start before the page did (a snapshot event may be minutes old), and a
    // conflated or replayed value never moves the line back in time.
    const last = q.history[q.history.length - 1];
    const t = Math.max(at, this.openedAt, last ? last[0] : 0);
    if (last && last[0] === t) last[1] = data.depth;
    else q.history.push([t, data.depth]);
  }

  // Outcomes for the service level and the abandon rate.
  answered(queue, waitSeconds, at) { this.queue(queue).outcomes.push({ at, answered: true, wait: waitSeconds }); }
  abandoned(queue, waitSeconds, at) { this.queue(queue).outcomes.push({ at, answered: false, wait: waitSeconds }); }

  // agent.* events; `at` is the event's time, so the time in a status is right even for a
  // status that came from the snapshot.
  agentEvent(type, data, at) {
    const a = this.agent(data.agent_id);
    switch (type) {
      case 'agent.status-changed':
        a.status = data.status;
        a.since = at;
        break;
      case 'agent.online': if (a.status === 'offline') Object.assign(a, { status: 'available', since: at }); break;
      case 'agent.offline': Object.assign(a, { status: 'offline', since: at, detail: { status: 'offline', text: data.reason ?? '' } }); break;
      case 'agent.break': a.detail = { status: 'break', text: data.reason ?? '' }; break;
      case 'agent.busy': a.detail = { status: 'busy', text: data.session_id }; break;
    }
  }

  addToFeed(kind, title, detail, at) {
    const time = new Date(at).toLocaleTimeString([], { hour12: false });
    this.feed.unshift({ kind, title, detail, time });
    this.feed.length = Math.min(this.feed.length, feedLength);
  }

  // Drops what is older than the window (keeping the last depth before it, where the line starts).
  prune(now) {
    const from = now - windowMs;
    for (const q of this.queues.values()) {
      let keep = 0;
      while (keep + 1 < q.history.length && q.history[keep + 1][0] <= from) keep++;
      if (keep) q.history.splice(0, keep);
      while (q.outcomes.length && q.outcomes[0].at < from) q.outcomes.shift();
    }
  }

  // The longest wait now: the published one, grown by the time since (for a few seconds only:
  // a publisher that went quiet should not make a wait grow forever).
  longestWaitNow(q, now) {
    if (!q.depth) return q.longestWait;
    return q.longestWait + Math.min(extrapolateMs, Math.max(0, now - q.updatedAt)) / 1000;
  }

  // 'ok', 'warn' (half the threshold) or 'breach'.
  waitLevel(seconds) {
    if (seconds >= this.thresholdSeconds) return 'breach';
    return seconds >= this.thresholdSeconds / 2 ? 'warn' : 'ok';
  }

  // Service level and abandon rate over the window for some queues (all by default):
  // {offered, abandonRate, serviceLevel} with null rates when nothing was offered.
  serviceStats(names = [...this.queues.keys()], now = Date.now()) {
    let offered = 0, abandoned = 0, inTime = 0;
    for (const name of names) {
      for (const o of this.queues.get(name)?.outcomes ?? []) {
        if (o.at < now - windowMs) continue;
        offered++;
        if (!o.answered) abandoned++;
        else if (o.wait <= serviceSeconds) inTime++;
      }
    }
    return {
      offered,
      abandonRate: offered ? abandoned / offered : null,
      serviceLevel: offered ? inTime / offered : null,
    };
  }
}
