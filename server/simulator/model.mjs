// The contact-center model behind the simulator: callers arrive at a rate that varies over
// time (a daily-like wave with a sharp peak, per queue out of phase), wait in their queue,
// are taken by an available agent with the skill, or hang up when their patience runs out.
// Agents take calls, wrap up, take breaks, end a shift and come back. Every change is an event
// of the catalogue (docs/protocol.md 3.1). The model knows nothing of HTTP or wall-clock time:
// step(dt) advances simulated seconds, so a seeded run is the same event sequence every time.
import { seededRandom } from './random.mjs';

// Compressed time: a "day" of load lasts `periodSeconds`, calls last tens of seconds, so that
// a wallboard shows queues building and draining within a few minutes.
const tuning = {
  periodSeconds: 240,
  handleSeconds: { voice: [32, 0.6], chat: [45, 0.5], email: [24, 0.5] },  // log-normal mean, cv
  channels: [['voice', 0.6], ['chat', 0.3], ['email', 0.1]],
  wrapUpSeconds: [3, 5],                 // fixed part + exponential mean
  breakEverySeconds: [60, 180],          // time on the floor between breaks
  breakSeconds: [15, 30],
  breakReasons: [['rest', 0.7], ['training', 0.2], ['lunch', 0.1]],
  shiftEndPerSecond: 1 / 900,            // an available agent leaves now and then...
  offShiftSeconds: [40, 60],             // ...and logs in again after this
  minOnlineShare: 0.75,                  // but never fewer than this share of agents online
  patienceSeconds: [10, 70],             // per caller
  transferShare: 0.06,
  recordingFailureShare: 0.02,
  qaShare: 0.25,
  qaDelaySeconds: [4, 10],
  longestWaitRefreshSeconds: 5,          // republish a non-empty queue as its longest wait grows
};

export class ContactCenter {
  // queues: names; agents: how many; rate: mean arrivals per second over all queues;
  // thresholdSeconds: the longest wait that raises queue.max-wait-exceeded.
  constructor({ queues = ['support', 'sales', 'billing'], agents = 12, rate = 0.3, seed = 1, thresholdSeconds = 60 } = {}) {
    this.random = seededRandom(seed);
    this.rate = rate;
    this.thresholdSeconds = thresholdSeconds;
    this.time = 0;
    this.pending = [];
    this.counters = { session: 0, recording: 0, scorecard: 0 };
    this.scheduled = [];  // {at, run}: QA follow-ups
    const totalWeight = queues.reduce((sum, _, i) => sum + (queues.length - i + 1), 0);
    this.queues = queues.map((name, i) => ({
      name,
      share: (queues.length - i + 1) / totalWeight,  // the first queue is the busiest
      phase: (i * tuning.periodSeconds) / (queues.length + 1),
      waiting: [],
      published: null,  // the last queue.depth-changed data, to publish only what changed
      alerted: false,
    }));
    // Every queue is staffed: agent i has queue i mod n, and half of them a second skill.
    this.agents = Array.from({ length: agents }, (_, i) => {
      const primary = this.queues[i % this.queues.length].name;
      const second = this.random.pick(this.queues).name;
      return {
        id: `a-${String(i + 1).padStart(2, '0')}`,
        queues: this.random.chance(0.5) && second !== primary ? [primary, second] : [primary],
        status: 'offline', until: Infinity, session: null, idleSince: 0, nextBreakAt: 0,
      };
    });
  }

  // The opening state: every agent logs in and every queue is published once, so that the
  // server's last-value cache (the snapshot) holds every queue and agent from the start.
  start() {
    for (const agent of this.agents) this.#logIn(agent);
    this.#publishQueues();
    return this.take();
  }

  // Advances the model by dt simulated seconds and returns the events of that interval.
  step(dt) {
    this.time += dt;
    for (const agent of this.agents) this.#advanceAgent(agent, dt);
    for (const queue of this.queues) this.#arrivals(queue, dt);
    for (const queue of this.queues) this.#abandons(queue);
    this.#route();
    this.#runScheduled();
    this.#publishQueues();
    return this.take();
  }

  // What a wallboard should show now: each agent's status and each queue's published gauge.
  state() {
    return {
      agents: Object.fromEntries(this.agents.map((a) => [a.id, a.status])),
      queues: Object.fromEntries(this.queues.map((q) => [q.name, q.published])),
    };
  }

  take() {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  // Arrivals per second for one queue now: a wave between 0.35x and 1.25x the mean, plus a
  // short peak of about 1.6x on its falling edge; the shape averages to about 1.
  arrivalRate(queue, time = this.time) {
    const x = (((time + queue.phase) % tuning.periodSeconds) + tuning.periodSeconds) % tuning.periodSeconds / tuning.periodSeconds;
    const wave = 0.5 - 0.5 * Math.cos(2 * Math.PI * x);
    const peak = Math.exp(-(((x - 0.62) / 0.06) ** 2));
    return this.rate * queue.share * (0.35 + 0.9 * wave + 1.6 * peak);
  }

  #emit(type, subject, data) { this.pending.push({ type, subject, data }); }
  #draw([fixed, mean]) { return fixed + this.random.exponential(mean); }

  // ---- agents ----------------------------------------------------------------------------

  #setStatus(agent, status) {
    const previous = agent.status;
    agent.status = status;
    this.#emit('agent.status-changed', agent.id, { agent_id: agent.id, status, previous_status: previous });
  }

  #logIn(agent) {
    agent.until = Infinity;
    agent.idleSince = this.time;
    agent.nextBreakAt = this.time + this.#draw(tuning.breakEverySeconds);
    this.#emit('agent.online', agent.id, { agent_id: agent.id, queues: agent.queues });
    this.#setStatus(agent, 'available');
  }

  #advanceAgent(agent, dt) {
    if (agent.status === 'available') {
      const online = this.agents.filter((a) => a.status !== 'offline').length;
      if (online - 1 >= tuning.minOnlineShare * this.agents.length && this.random.chance(tuning.shiftEndPerSecond * dt)) {
        agent.until = this.time + this.#draw(tuning.offShiftSeconds);
        this.#emit('agent.offline', agent.id, { agent_id: agent.id, reason: 'shift_end' });
        this.#setStatus(agent, 'offline');
      }
      return;
    }
    if (this.time < agent.until) return;
    switch (agent.status) {
      case 'busy': this.#finishCall(agent); break;
      case 'wrap-up':
        if (this.time >= agent.nextBreakAt) this.#takeBreak(agent);
        else this.#becomeAvailable(agent);
        break;
      case 'break': this.#becomeAvailable(agent); break;
      case 'offline': this.#logIn(agent); break;
    }
  }

  #becomeAvailable(agent) {
    agent.until = Infinity;
    agent.idleSince = this.time;
    this.#setStatus(agent, 'available');
  }

  #takeBreak(agent) {
    const length = this.#draw(tuning.breakSeconds);
    agent.until = this.time + length;
    agent.nextBreakAt = agent.until + this.#draw(tuning.breakEverySeconds);
    this.#emit('agent.break', agent.id, {
      agent_id: agent.id, reason: this.random.weighted(tuning.breakReasons), expected_seconds: Math.round(length),
    });
    this.#setStatus(agent, 'break');
  }

  // ---- callers ---------------------------------------------------------------------------

  #enqueue(queue, session) {
    queue.waiting.push({ ...session, queue: queue.name, since: this.time, patience: this.#draw(tuning.patienceSeconds) });
  }

  #arrivals(queue, dt) {
    for (let n = this.random.poisson(this.arrivalRate(queue) * dt); n > 0; n--) {
      const session = { id: `s-${++this.counters.session}`, channel: this.random.weighted(tuning.channels) };
      this.#emit('session.created', queue.name, { session_id: session.id, queue_id: queue.name, channel: session.channel });
      this.#enqueue(queue, session);
    }
  }

  #abandons(queue) {
    const [gone, staying] = partition(queue.waiting, (s) => this.time - s.since >= s.patience);
    queue.waiting = staying;
    for (const s of gone) {
      const wait = Math.round(this.time - s.since);
      this.#emit('queue.abandoned', queue.name, { queue_id: queue.name, session_id: s.id, wait_seconds: wait });
      this.#emit('session.dropped', queue.name, { session_id: s.id, queue_id: queue.name, wait_seconds: wait, reason: 'caller_hung_up' });
    }
  }

  // Longest-waiting caller first, to the agent with the skill who has been idle longest.
  #route() {
    for (;;) {
      let best = null;
      for (const queue of this.queues) {
        if (!queue.waiting.length) continue;
        const agent = this.#idlestAgent(queue);
        if (agent && (!best || queue.waiting[0].since < best.queue.waiting[0].since)) best = { queue, agent };
      }
      if (!best) return;
      this.#connect(best.agent, best.queue);
    }
  }

  #idlestAgent(queue) {
    let chosen = null;
    for (const a of this.agents) {
      if (a.status === 'available' && a.queues.includes(queue.name) && (!chosen || a.idleSince < chosen.idleSince)) chosen = a;
    }
    return chosen;
  }

  #connect(agent, queue) {
    const session = queue.waiting.shift();
    const [mean, cv] = tuning.handleSeconds[session.channel];
    const length = Math.min(6 * mean, Math.max(4, this.random.lognormal(mean, cv)));
    agent.session = { ...session, started: this.time, recording: session.channel === 'voice' ? `r-${++this.counters.recording}` : null };
    agent.until = this.time + length;
    this.#emit('agent.busy', agent.id, { agent_id: agent.id, session_id: session.id });
    this.#setStatus(agent, 'busy');
    this.#emit('session.connected', queue.name, {
      session_id: session.id, queue_id: queue.name, agent_id: agent.id, wait_seconds: Math.round(this.time - session.since),
    });
    if (agent.session.recording) {
      this.#emit('recording.started', queue.name, { recording_id: agent.session.recording, session_id: session.id });
    }
  }

  #finishCall(agent) {
    const s = agent.session;
    const talk = Math.round(this.time - s.started);
    agent.session = null;
    const others = this.queues.filter((q) => q.name !== s.queue);
    if (others.length && this.random.chance(tuning.transferShare)) {
      const to = this.random.pick(others);
      this.#emit('session.transferred', s.queue, { session_id: s.id, queue_id: s.queue, from_agent_id: agent.id, to_queue_id: to.name });
      this.#enqueue(to, { id: s.id, channel: s.channel });
    } else {
      this.#emit('session.ended', s.queue, {
        session_id: s.id, queue_id: s.queue, duration_seconds: talk, agent_id: agent.id,
        disposition: this.random.weighted([['resolved', 0.75], ['follow_up', 0.2], ['escalated', 0.05]]),
      });
      if (this.random.chance(tuning.qaShare)) this.#scheduleQa(s, agent.id);
    }
    if (s.recording) {
      if (this.random.chance(tuning.recordingFailureShare)) {
        this.#emit('recording.failed', s.queue, { recording_id: s.recording, session_id: s.id, reason: 'storage_timeout' });
      } else {
        this.#emit('recording.finished', s.queue, {
          recording_id: s.recording, session_id: s.id, duration_seconds: talk, size_bytes: talk * 16000,
        });
      }
    }
    agent.until = this.time + this.#draw(tuning.wrapUpSeconds);
    this.#setStatus(agent, 'wrap-up');
  }

  // ---- QA: a scorecard some seconds after the call, now and then a dispute or a re-score ----

  #scheduleQa(session, agentId) {
    const scorecard = `qa-${++this.counters.scorecard}`;
    const score = Math.round(55 + this.random.next() * 45);
    const queue = session.queue;
    const at = this.time + this.#draw(tuning.qaDelaySeconds);
    this.scheduled.push({ at, run: () => {
      this.#emit('qa.scorecard-saved', queue, { scorecard_id: scorecard, session_id: session.id, agent_id: agentId, score });
      if (score < 70 && this.random.chance(0.5)) {
        this.scheduled.push({ at: this.time + this.#draw(tuning.qaDelaySeconds), run: () => {
          this.#emit('qa.dispute-raised', queue, { scorecard_id: scorecard, agent_id: agentId, reason: 'score_contested' });
        } });
      } else if (this.random.chance(0.15)) {
        this.scheduled.push({ at: this.time + this.#draw(tuning.qaDelaySeconds), run: () => {
          this.#emit('qa.score-updated', queue, { scorecard_id: scorecard, agent_id: agentId, score: Math.min(100, score + 5), previous_score: score });
        } });
      }
    } });
  }

  #runScheduled() {
    const [due, later] = partition(this.scheduled, (item) => item.at <= this.time);
    this.scheduled = later;
    for (const item of due) item.run();
  }

  // ---- the queue gauges ------------------------------------------------------------------

  #publishQueues() {
    for (const queue of this.queues) {
      const depth = queue.waiting.length;
      const longest = depth ? Math.round(this.time - queue.waiting[0].since) : 0;
      const available = this.agents.filter((a) => a.status === 'available' && a.queues.includes(queue.name)).length;
      if (longest < this.thresholdSeconds) queue.alerted = false;
      const crossed = longest >= this.thresholdSeconds && !queue.alerted;
      const last = queue.published;
      if (!crossed && last && last.depth === depth && last.agents_available === available
          && longest - last.longest_wait_seconds < tuning.longestWaitRefreshSeconds) continue;
      queue.published = { queue_id: queue.name, depth, longest_wait_seconds: longest, agents_available: available };
      this.#emit('queue.depth-changed', queue.name, queue.published);
      if (crossed) {
        queue.alerted = true;
        this.#emit('queue.max-wait-exceeded', queue.name, {
          queue_id: queue.name, longest_wait_seconds: longest, threshold_seconds: this.thresholdSeconds,
        });
      }
    }
  }
}

function partition(xs, predicate) {
  const yes = [], no = [];
  for (const x of xs) (predicate(x) ? yes : no).push(x);
  return [yes, no];
}
