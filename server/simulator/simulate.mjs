#!/usr/bin/env node
// A contact-center simulator: publishes a plausible stream of session, queue, agent, recording
// and QA events to a GlobeMeet server through the public HTTP API, as a real integration would
// (OAuth client credentials, then POST /v1/events in small batches). Used by scripts/run so the
// demo has live data, and handy to load a dashboard by hand.
import { parseArgs } from 'node:util';

const usage = `usage: simulate.mjs [options]
  --server URL          server base URL (default http://127.0.0.1:8080, env GLOBEMEET_SERVER)
  --client-id ID        OAuth client id with publish permission (env GLOBEMEET_CLIENT_ID)
  --client-secret S     its secret (env GLOBEMEET_CLIENT_SECRET)
  --rate N              sessions started per second (default 2)
  --queues a,b,c        queue names (default support,sales,billing)
  --agents N            number of agents (default 12)
  --duration S          stop after S seconds (default: run until interrupted)
  --seed N              random seed (default: time based)`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.GLOBEMEET_SERVER ?? 'http://127.0.0.1:8080' },
      'client-id': { type: 'string', default: process.env.GLOBEMEET_CLIENT_ID },
      'client-secret': { type: 'string', default: process.env.GLOBEMEET_CLIENT_SECRET },
      rate: { type: 'string', default: '2' },
      queues: { type: 'string', default: 'support,sales,billing' },
      agents: { type: 'string', default: '12' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  console.error(`simulate: ${e.message}\n${usage}`);
  process.exit(2);
}
if (args.help) { console.log(usage); process.exit(0); }
if (!args['client-id'] || !args['client-secret']) {
  console.error(`simulate: --client-id and --client-secret are required\n${usage}`);
  process.exit(2);
}
const rate = Number(args.rate), agentCount = Number(args.agents);
if (!(rate > 0 && rate <= 1000) || !(Number.isInteger(agentCount) && agentCount > 0 && agentCount <= 1000)) {
  console.error('simulate: --rate must be in (0, 1000] and --agents an integer in [1, 1000]');
  process.exit(2);
}

// Small deterministic PRNG (mulberry32) so a seeded run is reproducible.
let seed = Number(args.seed ?? Date.now()) >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(random() * xs.length)];
const expo = (mean) => -Math.log(1 - random()) * mean;

// ---- the model ---------------------------------------------------------------------------------
const queues = args.queues.split(',').map((name) => ({ name, waiting: [] }));
const agents = Array.from({ length: agentCount }, (_, i) => ({
  id: `a-${String(i + 1).padStart(2, '0')}`, status: 'offline', session: null, queues: [],
}));
let nextSession = 1, nextRecording = 1, nextScorecard = 1;
let pending = [];
const emit = (type, subject, data) => pending.push({ type, subject, data });
const now = () => Date.now() / 1000;

function setStatus(agent, status) {
  const previous = agent.status;
  if (previous === status) return;
  agent.status = status;
  if (status === 'online' || (previous === 'offline' && status !== 'offline')) {
    emit('agent.online', agent.id, { agent_id: agent.id, queues: agent.queues });
  }
  if (status === 'offline') emit('agent.offline', agent.id, { agent_id: agent.id, reason: 'shift_end' });
  else if (status === 'break') emit('agent.break', agent.id, { agent_id: agent.id, reason: 'rest', expected_seconds: 300 });
  emit('agent.status-changed', agent.id, { agent_id: agent.id, status, previous_status: previous });
}

function queueDepth(q) {
  const longest = q.waiting.length ? Math.round(now() - q.waiting[0].since) : 0;
  emit('queue.depth-changed', q.name, {
    queue_id: q.name, depth: q.waiting.length, longest_wait_seconds: longest,
    agents_available: agents.filter((a) => a.status === 'available' && a.queues.includes(q.name)).length,
  });
  if (longest > 120 && !q.alerted) {
    q.alerted = true;
    emit('queue.max-wait-exceeded', q.name, { queue_id: q.name, longest_wait_seconds: longest, threshold_seconds: 120 });
  }
  if (longest <= 120) q.alerted = false;
}

function arrive() {
  const q = pick(queues);
  const session = { id: `s-${nextSession++}`, queue: q.name, since: now(), patience: expo(90) };
  q.waiting.push(session);
  emit('session.created', q.name, { session_id: session.id, queue_id: q.name, channel: pick(['voice', 'chat', 'email']) });
  queueDepth(q);
}

function connect(agent, q) {
  const session = q.waiting.shift();
  const wait = Math.round(now() - session.since);
  agent.session = { ...session, agent: agent.id, started: now(), length: expo(20) + 5, recording: `r-${nextRecording++}` };
  setStatus(agent, 'busy');
  emit('agent.busy', agent.id, { agent_id: agent.id, session_id: session.id });
  emit('session.connected', q.name, { session_id: session.id, queue_id: q.name, agent_id: agent.id, wait_seconds: wait });
  emit('recording.started', q.name, { recording_id: agent.session.recording, session_id: session.id });
  queueDepth(q);
}

function finish(agent) {
  const s = agent.session;
  const duration = Math.round(now() - s.started);
  if (random() < 0.05) {
    const to = pick(queues.filter((q) => q.name !== s.queue)) ?? queues[0];
    emit('session.transferred', s.queue, { session_id: s.id, queue_id: s.queue, from_agent_id: agent.id, to_queue_id: to.name });
    to.waiting.push({ id: s.id, queue: to.name, since: now(), patience: expo(90) });
    queueDepth(to);
  } else {
    emit('session.ended', s.queue, { session_id: s.id, queue_id: s.queue, duration_seconds: duration, agent_id: agent.id, disposition: pick(['resolved', 'resolved', 'follow_up']) });
  }
  if (random() < 0.02) {
    emit('recording.failed', s.queue, { recording_id: s.recording, session_id: s.id, reason: 'storage_timeout' });
  } else {
    emit('recording.finished', s.queue, { recording_id: s.recording, session_id: s.id, duration_seconds: duration, size_bytes: duration * 16000 });
  }
  if (random() < 0.3) {
    const scorecard = `qa-${nextScorecard++}`, score = Math.round(60 + random() * 40);
    emit('qa.scorecard-saved', s.queue, { scorecard_id: scorecard, session_id: s.id, agent_id: agent.id, score });
    if (score < 70) emit('qa.dispute-raised', s.queue, { scorecard_id: scorecard, agent_id: agent.id, reason: 'score_contested' });
    else if (random() < 0.2) emit('qa.score-updated', s.queue, { scorecard_id: scorecard, agent_id: agent.id, score: Math.min(100, score + 5), previous_score: score });
  }
  agent.session = null;
  setStatus(agent, random() < 0.1 ? 'break' : 'available');
}

function step(dt) {
  for (const a of agents) {
    if (a.status === 'offline' && random() < 0.3 * dt) {
      a.queues = queues.filter(() => random() < 0.6).map((q) => q.name);
      if (!a.queues.length) a.queues = [pick(queues).name];
      setStatus(a, 'available');
    } else if (a.status === 'break' && random() < 0.05 * dt) setStatus(a, 'available');
    else if (a.status === 'busy' && now() - a.session.started > a.session.length) finish(a);
  }
  let arrivals = rate * dt;
  while (arrivals >= 1 || random() < arrivals) { arrive(); arrivals -= 1; }
  for (const q of queues) {
    for (const s of [...q.waiting]) {
      if (now() - s.since > s.patience) {
        q.waiting.splice(q.waiting.indexOf(s), 1);
        const wait = Math.round(now() - s.since);
        emit('queue.abandoned', q.name, { queue_id: q.name, session_id: s.id, wait_seconds: wait });
        emit('session.dropped', q.name, { session_id: s.id, queue_id: q.name, wait_seconds: wait, reason: 'caller_hung_up' });
        queueDepth(q);
      }
    }
    let agent;
    while (q.waiting.length && (agent = agents.find((a) => a.status === 'available' && a.queues.includes(q.name)))) connect(agent, q);
  }
}

// ---- the HTTP side ---------------------------------------------------------------------------
let token = null, tokenExpires = 0;
async function getToken() {
  if (token && Date.now() < tokenExpires - 60_000) return token;
  const basic = Buffer.from(`${encodeURIComponent(args['client-id'])}:${encodeURIComponent(args['client-secret'])}`).toString('base64');
  const res = await fetch(new URL('/oauth/token', args.server), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`token request refused: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
  token = body.access_token;
  tokenExpires = Date.now() + body.expires_in * 1000;
  return token;
}

async function flush() {
  if (!pending.length) return;
  const events = pending;
  pending = [];
  const res = await fetch(new URL('/v1/events', args.server), {
    method: 'POST',
    headers: { authorization: `Bearer ${await getToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`publish refused: ${res.status} ${body.error ?? ''} ${body.message ?? ''}`);
  }
  published += events.length;
}

let published = 0, stopping = false;
const started = Date.now();
const tickMs = 250;
process.on('SIGINT', () => { stopping = true; });
process.on('SIGTERM', () => { stopping = true; });
console.log(JSON.stringify({ msg: 'simulating', server: args.server, queues: queues.map((q) => q.name), agents: agentCount, rate }));
let failures = 0;
while (!stopping && !(args.duration && Date.now() - started >= Number(args.duration) * 1000)) {
  step(tickMs / 1000);
  try {
    await flush();
    failures = 0;
  } catch (e) {
    failures += 1;
    console.error(JSON.stringify({ msg: 'publish failed', error: e.message, attempt: failures }));
    pending = [];
    token = null;
    await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(failures, 6))));
  }
  await new Promise((r) => setTimeout(r, tickMs));
}
console.log(JSON.stringify({ msg: 'stopped', published }));
