#!/usr/bin/env node
// A contact-center simulator: runs the model of model.mjs (arrivals that vary over time,
// agents who take calls, wrap up, take breaks and leave, callers who abandon) against the
// clock and publishes its events to a GlobeMeet server through the public HTTP API
// (publisher.mjs). Used by scripts/run so the demo has live data, and by the browser tests.
import { parseArgs } from 'node:util';
import { ContactCenter } from './model.mjs';
import { Publisher } from './publisher.mjs';

const usage = `usage: simulate.mjs [options]
  --server URL          server base URL (default http://127.0.0.1:8080, env GLOBEMEET_SERVER)
  --client-id ID        OAuth client id with publish permission (env GLOBEMEET_CLIENT_ID)
  --client-secret S     its secret (env GLOBEMEET_CLIENT_SECRET)
  --rate N              mean callers per second over all queues (default 0.25); the rate rises
                        and falls around it in a 4-minute wave with a peak
  --queues a,b,c        queue names (default support,sales,billing)
  --agents N            number of agents (default 12)
  --threshold S         longest wait that raises queue.max-wait-exceeded (default 60)
  --speed F             simulated seconds per real second (default 1; e.g. 5 in tests)
  --duration S          stop after S real seconds (default: run until interrupted)
  --seed N              random seed (default: time based); the same seed gives the same events`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.GLOBEMEET_SERVER ?? 'http://127.0.0.1:8080' },
      'client-id': { type: 'string', default: process.env.GLOBEMEET_CLIENT_ID },
      'client-secret': { type: 'string', default: process.env.GLOBEMEET_CLIENT_SECRET },
      rate: { type: 'string', default: '0.25' },
      queues: { type: 'string', default: 'support,sales,billing' },
      agents: { type: 'string', default: '12' },
      threshold: { type: 'string', default: '60' },
      speed: { type: 'string', default: '1' },
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
const fail = (message) => { console.error(`simulate: ${message}\n${usage}`); process.exit(2); };
if (!args['client-id'] || !args['client-secret']) fail('--client-id and --client-secret are required');
const rate = Number(args.rate), agents = Number(args.agents), threshold = Number(args.threshold);
const speed = Number(args.speed), duration = args.duration === undefined ? Infinity : Number(args.duration);
const queues = args.queues.split(',').filter(Boolean);
const segment = /^[A-Za-z0-9_-]{1,64}$/;
if (!(rate > 0 && rate <= 1000)) fail('--rate must be in (0, 1000]');
if (!(Number.isInteger(agents) && agents > 0 && agents <= 1000)) fail('--agents must be an integer in [1, 1000]');
if (!(threshold > 0)) fail('--threshold must be positive');
if (!(speed > 0 && speed <= 100)) fail('--speed must be in (0, 100]');
if (!(duration > 0)) fail('--duration must be positive');
if (!queues.length || !queues.every((q) => segment.test(q)) || new Set(queues).size !== queues.length) {
  fail('--queues must be distinct topic segments (A-Z a-z 0-9 _ -)');
}
const seed = args.seed === undefined ? Date.now() >>> 0 : Number(args.seed);
if (!Number.isInteger(seed)) fail('--seed must be an integer');

const model = new ContactCenter({ queues, agents, rate, seed, thresholdSeconds: threshold });
const publisher = new Publisher({ server: args.server, clientId: args['client-id'], clientSecret: args['client-secret'] });

// The model moves in fixed simulated steps, so the event sequence depends on the seed only;
// the clock decides how many steps are due at each tick.
const stepSeconds = 0.25, tickMs = 250;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let stopping = false;
process.on('SIGINT', () => { stopping = true; });
process.on('SIGTERM', () => { stopping = true; });
console.log(JSON.stringify({ msg: 'simulating', server: args.server, queues, agents, rate, speed, seed }));

publisher.add(model.start());
const started = Date.now();
let steps = 0, failures = 0;
while (!stopping && Date.now() - started < duration * 1000) {
  const due = Math.floor(((Date.now() - started) / 1000) * speed / stepSeconds);
  for (; steps < due; steps++) publisher.add(model.step(stepSeconds));
  try {
    await publisher.flush();
    if (failures) console.log(JSON.stringify({ msg: 'publishing again', after_failures: failures }));
    failures = 0;
    await sleep(tickMs);
  } catch (e) {
    failures += 1;
    console.error(JSON.stringify({ msg: 'publish failed', error: e.message, attempt: failures, retry: e.retry, pending: publisher.pending }));
    await sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)));
  }
}
// One last attempt at what is still queued, so that a stop loses nothing the server could take.
await publisher.flush().catch((e) => console.error(JSON.stringify({ msg: 'publish failed', error: e.message })));
// The final state (every agent's status, every queue's last gauge) is what a dashboard opened
// now should show: the browser tests compare it with the page.
console.log(JSON.stringify({
  msg: 'stopped', published: publisher.published, pending: publisher.pending, dropped: publisher.dropped, ...model.state(),
}));
