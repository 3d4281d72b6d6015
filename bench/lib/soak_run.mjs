// bench/soak's driver: runs runSoak() (soak.mjs) at the full size, or --quick, and writes
// bench/results/<stamp>-soak/: samples.csv (one row per sample), summary.json and report.md.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { runSoak, samplesCsv } from './soak.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = args.includes('--quick');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const build = process.env.GLOBEMEET_BUILD_DIR || path.join(root, 'build/bench');
const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, 'Z');
const out = path.join(root, 'bench/results', `${stamp}-soak${quick ? '-quick' : ''}`);
// As bench/run: the driver (and the server it starts) in a scheduler autogroup of raised
// priority, so other jobs on a shared machine stall them less (a driver that stops reading for
// 2 s would be dropped by the server like a slow client).
const NICE = process.env.BENCH_NICE ?? (process.getuid?.() === 0 ? '-10' : '0');
if (Number(NICE) < 0 && existsSync('/proc/self/autogroup')) {
  try { writeFileSync('/proc/self/autogroup', NICE); } catch { /* not permitted: plain nice only */ }
}
const log = (...m) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...m);

const options = {
  connections: flag('--connections', quick ? 2000 : 10000),
  durationS: flag('--minutes', quick ? 4 : 30) * 60,
  warmupS: flag('--warmup-minutes', quick ? 2 : 5) * 60,
  sampleEveryS: 5,
  rate: flag('--rate', 100),
  topics: 100,
  bulkRate: 20,
  bulkBytes: 16384,
  slowFraction: 0.005,
  stallEveryS: 60,
  stallS: 30,
  lifetimeS: flag('--lifetime', 120),
  tokenTtlS: 300,
  refreshEveryS: 60,
  overflowLagMs: 2000,
  retentionEvents: 10000,
};

// A copy of the binary, so a rebuild of the build directory cannot change it mid-run.
const dir = mkdtempSync(path.join(os.tmpdir(), 'globemeet-soak-'));
const serverBinary = path.join(dir, 'globemeet-server');
copyFileSync(path.join(build, 'server/net/globemeet-server'), serverBinary);
execFileSync('chmod', ['+x', serverBinary]);
// The commit the build was configured from (its source tree may be a worktree of its own).
const cache = readFileSync(path.join(build, 'CMakeCache.txt'), 'utf8');
const source = /^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m.exec(cache)[1];
const commit = execFileSync('git', ['-C', source, 'rev-parse', '--short', 'HEAD']).toString().trim();
const dirty = execFileSync('git', ['-C', source, 'status', '--porcelain', '--untracked-files=no']).toString().trim() !== '';
const loadBefore = os.loadavg()[0].toFixed(2);
log(`server from ${build} (commit ${commit}); load average ${loadBefore}; results in ${out}`);

const r = await runSoak({ ...options, serverBinary, dir, log });
rmSync(dir, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'samples.csv'), samplesCsv(r.samples));
const { samples, ...summary } = r;
summary.options = { ...options, build };
summary.commit = dirty ? `${commit} with local changes` : commit;
summary.load_average_before = Number(loadBefore);
summary.load_average_after = Number(os.loadavg()[0].toFixed(2));
writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

const c = r.counts;
const kb = (x) => `${(x / 1024).toFixed(1)} MB`;
const report = `# Soak ${stamp}

globemeet-server at ${summary.commit} (${path.relative(root, build) || build}, --threads 1, memory log of ${options.retentionEvents.toLocaleString('en-US')} events),
${options.connections.toLocaleString('en-US')} connections for ${options.durationS / 60} minutes (warm-up ${options.warmupS / 60} min), one Node driver.
Load average ${loadBefore} before, ${summary.load_average_after} after (2 cores, shared); driver and server at nice ${NICE}.

Load: ${options.rate} events/s over ${options.topics} topics (each connection takes one) plus ${options.bulkRate} events/s of
${options.bulkBytes / 1024} KiB on a bulk topic; connections live ${options.lifetimeS} s on average (half close with 1000, half
drop TCP) and resume from their last event, refresh a ${options.tokenTtlS} s token every ${options.refreshEveryS} s on average;
the slow pool (${options.slowFraction * 100}% of the connections) takes the bulk topic and stops reading for ${options.stallS} s
about every ${options.stallEveryS} s, until the server drops it (\`--overflow-lag-ms ${options.overflowLagMs}\`).

| memory (VmRSS) | |
| --- | --- |
| before any connection | ${kb(r.rss_baseline_kb)} |
| end of warm-up (median of the last samples) | ${kb(r.rss_warm_kb)} |
| end of the load | ${kb(r.rss_end_kb)} |
| change after warm-up | **${r.rss_growth_pct}%** |
| slope after warm-up (least squares) | ${r.rss_slope_kb_per_min} KB/min |
| peak | ${kb(r.rss_peak_kb)} |

| descriptors (/proc/PID/fd) | |
| --- | --- |
| before any connection | ${r.fd_baseline} |
| peak | ${r.fd_peak} |
| after every connection closed | **${r.fd_after_close}** |

| churn and correctness | |
| --- | --- |
| connections made | ${c.connects.toLocaleString('en-US')} (handshakes refused: ${c.handshake_failures}) |
| resumed (\`from\` the last id) | ${c.resumes.toLocaleString('en-US')} |
| client closes / drops | ${c.client_closes.toLocaleString('en-US')} / ${c.client_drops.toLocaleString('en-US')} |
| token refreshes (\`refreshed\`) / refused | ${c.refreshes.toLocaleString('en-US')} / ${c.refresh_errors} (\`expiring\` seen: ${c.expiring}) |
| stalls / overflow closes (server's count) | ${c.stalls} / ${r.overflow_closes} |
| events published / delivered | ${c.published.toLocaleString('en-US')} / ${c.events.toLocaleString('en-US')} |
| gaps / duplicates / resets | **${c.gaps} / ${c.duplicates} / ${c.resets}** (events missing: ${c.missing_events}) |
| close codes seen | ${Object.entries(r.close_codes).map(([k, v]) => `${k}: ${v}`).join(', ')} |
| server exit after SIGTERM | ${JSON.stringify(r.server_exit)} |

Samples every ${options.sampleEveryS} s: [samples.csv](samples.csv); every figure: [summary.json](summary.json).
`;
writeFileSync(path.join(out, 'report.md'), report);
console.log(report);
