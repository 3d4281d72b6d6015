// Loads the scenarios and runs them for the drivers, a few at a time (each scenario has its own
// scripted server and driver process, so they do not interfere).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { drivers as allDrivers } from './drivers.mjs';
import { runScenario } from './harness.mjs';
import { liveScenario, runLive } from './live.mjs';

export async function loadScenarios() {
  const dir = path.join(import.meta.dirname, 'scenarios');
  const scenarios = [];
  // The table reads in this order; a new file goes after these.
  const order = ['delivery', 'resume', 'close_codes', 'resets', 'handshake', 'tokens', 'liveness', 'subscriptions', 'malformed', 'close_states'];
  const rank = (f) => { const i = order.indexOf(f.replace(/\.mjs$/, '')); return i < 0 ? order.length : i; };
  const files = readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'lib.mjs').sort().sort((a, b) => rank(a) - rank(b));
  for (const file of files) {
    const { default: list } = await import(pathToFileURL(path.join(dir, file)).href);
    for (const s of list) scenarios.push({ ...s, file });
  }
  scenarios.push({ ...liveScenario, live: true, file: 'live.mjs' });
  const ids = new Set();
  for (const s of scenarios) {
    if (ids.has(s.id)) throw new Error(`scenario id ${s.id} twice`);
    ids.add(s.id);
  }
  return scenarios;
}

// Most of a scenario is waiting (backoff, heartbeats), so several run at once even on 2 cores.
export async function runSuite({ drivers, scenarios, parallel = 6, onResult = () => {} } = {}) {
  const started = performance.now();
  const chosen = allDrivers.filter((d) => !drivers || drivers.includes(d.name));
  const missing = chosen.filter((d) => !d.available()).map((d) => d.name);
  const all = (await loadScenarios()).filter((s) => !scenarios || scenarios.includes(s.id));
  const jobs = [];
  for (const s of all) for (const d of chosen) if (d.available()) jobs.push([s, d]);
  const results = [];
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const [s, d] = jobs[next++];
      const r = s.live ? await runLive(d) : await runScenario(s, d);
      r.title = s.title;
      r.protocol = s.protocol;
      results.push(r);
      onResult(r);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return { results, missing, scenarios: all, drivers: chosen, ms: performance.now() - started };
}
