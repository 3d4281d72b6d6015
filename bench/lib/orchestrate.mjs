// bench/run's driver: runs every workload of the plan against every server, one fresh server
// per run, collects the generator's JSON lines, writes results.jsonl, report.md and the charts.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { plan } from './workloads.mjs';
import { NICE, ROOT, runLoadgen, serverVersion, startServer } from './servers.mjs';
import { writeReport } from './report.mjs';
import { hasRsvg } from './charts.mjs';

const args = process.argv.slice(2);
const usage = `usage: bench/run [--quick] [--targets globemeet,nats,bun,ws] [--only w1,w3] [--out DIR]
  --quick     small counts and short steps (a smoke run, not for comparison)
  --targets   servers to measure (default: all four)
  --only      workload id prefixes to run (default: all)
  --out       results folder (default: bench/results/<timestamp>)`;
// A flag this driver does not know must not start a 10-minute run.
const valued = new Set(['--targets', '--only', '--out', '--build-dir']);
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--help' || args[i] === '-h') { console.log(usage); process.exit(0); }
  if (valued.has(args[i])) { i += 1; continue; }
  if (args[i] !== '--quick') { console.error(`bench/run: unknown argument '${args[i]}'\n${usage}`); process.exit(2); }
}
const quick = args.includes('--quick');
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const onlyTargets = option('--targets')?.split(',');
const onlyRuns = option('--only')?.split(',');
const buildDir = option('--build-dir') ?? path.join(ROOT, 'build/bench');
const loadgen = path.join(buildDir, 'bench/loadgen/globemeet-loadgen');
const serverBinary = path.join(buildDir, 'server/net/globemeet-server');
const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, 'Z');
const dir = option('--out') ?? path.join(ROOT, 'bench/results', `${stamp}${quick ? '-quick' : ''}`);
mkdirSync(dir, { recursive: true });

// With autogroup scheduling (Linux desktops and many VMs) nice works only inside a session's
// group: bench/run starts this driver in a session of its own, and here that group's weight is
// raised as well, so compilers in other sessions do not preempt the measured processes.
if (Number(NICE) < 0 && existsSync('/proc/self/autogroup')) {
  try { writeFileSync('/proc/self/autogroup', NICE); } catch { /* not permitted: plain nice only */ }
}

const log = (...m) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...m);

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.cpus().length,
    cpu: (cpuinfo.match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU',
    kernel: os.release(),
    loadBefore: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  };
}

const started = new Date().toISOString().slice(0, 19);
const info = machine();
const runs = plan({ quick }).filter((r) => !onlyRuns || onlyRuns.some((o) => r.id.startsWith(o)));
const targets = (r) => r.targets.filter((t) => !onlyTargets || onlyTargets.includes(t));
const versions = {};
for (const t of new Set(runs.flatMap(targets))) versions[t] = await serverVersion(t, serverBinary);
log(`results in ${dir}; ${runs.length} workloads${quick ? ' (quick)' : ''}`);

const entries = [];
for (const run of runs) {
  const entry = { ...run, results: {} };
  entries.push(entry);
  for (const target of targets(run)) {
    log(`${run.id} ${target}`);
    let server;
    try {
      server = await startServer(target, { dir, cpu: 0, serverBinary, tag: run.id });
      const argv = ['--target', target, '--port', String(server.port), '--server-pid', String(server.pid), '--cpu', '1',
        '--label', run.id, ...server.loadgenArgs, ...run.args];
      const res = await runLoadgen(loadgen, argv, quick ? 120000 : 600000);
      for (const l of res.lines) appendFileSync(path.join(dir, 'results.jsonl'), JSON.stringify(l) + '\n');
      entry.results[target] = { lines: res.lines };
      if (res.lines.length === 0) entry.results[target].error = `generator exited ${res.code ?? res.signal}: ${res.stderr.slice(0, 300)}`;
      const best = res.lines.filter((l) => l.pass).map((l) => l.deliveries_per_s).sort((a, b) => b - a)[0];
      log(`  ${res.lines.length} lines${best ? `, best ${Math.round(best).toLocaleString('en-US')} deliveries/s` : ''}`);
    } catch (e) {
      entry.results[target] = { lines: [], error: String(e.message ?? e).slice(0, 300) };
      log(`  failed: ${entry.results[target].error}`);
    } finally {
      if (server) await server.stop();
    }
  }
}

info.loadAfter = os.loadavg().map((v) => v.toFixed(2)).join(' ');
const notes = [
  'The machine is shared: other jobs (compilers) may run on both cores during the run, so absolute figures are noisy; compare servers within this run, and read the load averages above.',
  `Servers and generator run at nice ${NICE} (and in a scheduler autogroup of that nice: ${(() => { try { return readFileSync('/proc/self/autogroup', 'utf8').trim(); } catch { return 'none'; } })()}) so that other jobs on the machine preempt them less.`,
  'Only two cores: the generator has one core for up to millions of deliveries/s. Its CPU is shown; "saturated" (>90% of its core) means the figure is a floor for the server, not its limit.',
  'Payload: every server delivers the same data object of the stated size (it carries the send timestamp). GlobeMeet wraps it in its CloudEvents envelope (about 330 bytes more per frame: id, source, type, subject, time, topic, tenant), the peers send it bare; GlobeMeet publishes by HTTP POST batches (at most 1,000 events per request), nats by PUB over WebSocket, Bun/ws by one text frame per event.',
  'nats delivers once per matching subscription, so its wildcard holders subscribe to the wildcard only; Bun and ws have no wildcards, so their wildcard holders list all 100 topics.',
];
if (!hasRsvg()) notes.push('rsvg-convert was not available: the charts are SVG files.');
const report = writeReport({ dir, entries, machine: info, versions, quick, started, finished: new Date().toISOString().slice(0, 19), notes });
writeFileSync(path.join(dir, 'report.md'), report);
writeFileSync(path.join(dir, 'entries.json'), JSON.stringify(entries.map(({ results, ...rest }) => ({ ...rest, results })), null, 1));
log(`report: ${path.join(dir, 'report.md')}`);
