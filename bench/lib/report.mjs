// report.md from the generator's JSON lines: one table per workload, each server's figures,
// and GlobeMeet's ratio to each peer measured in the same run.
import { latencyChartSvg, writeChart } from './charts.mjs';

const f = (v, digits = 1) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));
const int = (v) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const rate = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : f(v, 0));
const ratio = (a, b) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

// Best passing step of a ladder, and the first failing one.
export function summarizeLadder(lines) {
  const steps = lines.filter((l) => l.mode === 'fanout' && l.rate_eps !== undefined);
  const passing = steps.filter((l) => l.pass);
  const best = passing.reduce((a, b) => (!a || b.deliveries_per_s > a.deliveries_per_s ? b : a), null);
  const failed = steps.find((l) => !l.pass) ?? null;
  const setupError = lines.find((l) => l.error && l.rate_eps === undefined);
  return { steps, best, failed, setupError };
}

function ladderTable(entry) {
  const rows = [];
  rows.push('| server | best sustained deliveries/s | events/s | p50 ms | p99 ms | p99.9 ms | server CPU % | generator CPU % | stopped because | GlobeMeet ÷ server |');
  rows.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
  const gm = summarizeLadder(entry.results.globemeet?.lines ?? []);
  for (const [name, res] of Object.entries(entry.results)) {
    const s = summarizeLadder(res.lines);
    if (res.error || s.setupError) {
      rows.push(`| ${name} | – | – | – | – | – | – | – | ${(res.error ?? s.setupError.error).replace(/\|/g, '/').slice(0, 160)} | – |`);
      continue;
    }
    const b = s.best;
    const stop = s.failed ? stopText(s.failed) : 'top of the ladder reached';
    rows.push(`| ${name} | ${b ? rate(b.deliveries_per_s) : 'no step passed'} | ${b ? f(b.publish_eps, 0) : '–'} | ${f(b?.p50_ms, 2)} | ${f(b?.p99_ms, 2)} | ${f(b?.p999_ms, 2)} | ${f(b?.server_cpu_pct, 0)} | ${f(b?.gen_cpu_pct, 0)}${b?.gen_saturated ? ' (saturated)' : ''} | ${stop} | ${name === 'globemeet' ? '1.00×' : ratio(gm.best?.deliveries_per_s, b?.deliveries_per_s)} |`);
  }
  return rows.join('\n');
}

function stopText(l) {
  const why = [];
  if (l.delivered_fraction < 1) why.push(`delivered ${f(l.delivered_fraction * 100, 2)}%`);
  if (l.p99_ms > 200) why.push(`p99 ${f(l.p99_ms, 0)} ms`);
  if (l.publisher_kept_up === false) why.push(`publisher made ${f(l.publish_eps, 1)} of ${f(l.rate_eps, 1)} events/s`);
  if (l.closed_subscribers > 0) why.push(`${l.closed_subscribers} subscribers closed`);
  if (l.gen_saturated) why.push(`generator saturated (${f(l.gen_cpu_pct, 0)}% CPU)`);
  return `${rate(l.offered_deliveries_per_s)} deliveries/s offered: ${why.join(', ') || 'failed'}`;
}

function ladderChart(dir, entry) {
  const series = Object.entries(entry.results).map(([name, res]) => ({
    name,
    points: summarizeLadder(res.lines).steps.map((l) => ({ x: l.deliveries_per_s, p50: l.p50_ms, p99: l.p99_ms, pass: l.pass })),
  }));
  const svg = latencyChartSvg(entry.title, series);
  return svg ? writeChart(dir, entry.id, svg) : null;
}

function idleTable(entry) {
  const rows = ['| server | subscribed | time until all subscribed, s | connects/s | RSS before, MB | RSS after, MB | bytes per idle connection | GlobeMeet ÷ server (memory) | GlobeMeet ÷ server (storm time) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const gm = entry.results.globemeet?.lines?.[0];
  for (const [name, res] of Object.entries(entry.results)) {
    const l = res.lines[0];
    if (!l) { rows.push(`| ${name} | ${res.error ?? 'no result'} | | | | | | | |`); continue; }
    rows.push(`| ${name} | ${int(l.subscribed)} / ${int(l.connections)} | ${f(l.connect_seconds, 2)} | ${int(l.connects_per_s)} | ${f(l.rss_before_mb)} | ${f(l.rss_after_mb)} | ${int(l.bytes_per_connection)} | ${ratio(gm?.bytes_per_connection, l.bytes_per_connection)} | ${ratio(gm?.connect_seconds, l.connect_seconds)} |`);
  }
  return rows.join('\n');
}

function resumeTable(entry) {
  const l = entry.results.globemeet?.lines?.[0];
  if (!l) return `No result: ${entry.results.globemeet?.error ?? 'not run'}`;
  const closed = l.resumer_close_code ? `\n\nThe resuming client was closed with code ${l.resumer_close_code} after ${int(l.resumer_events)} replayed events${l.resumer_close_code === 4000 ? ' (overflow: its queue lagged more than 5 s)' : ''}.` : '';
  return ['| behind | replayed | replay time, s | replay events/s | live p50 / p99 before, ms | live p50 / p99 during replay, ms | live max during, ms | live delivered during |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${int(l.behind_events)} | ${l.replayed ? int(l.replayed_count) : 'not finished'} | ${f(l.replay_seconds, 2)} | ${int(l.replay_events_per_s)} | ${f(l.baseline_p50_ms, 2)} / ${f(l.baseline_p99_ms, 2)} | ${f(l.during_p50_ms, 2)} / ${f(l.during_p99_ms, 2)} | ${f(l.during_max_ms, 1)} | ${f(l.during_delivered_fraction * 100, 2)}% |`,
  ].join('\n') + closed + '\n\n"replayed" counts the backlog plus the live events published between the marker and the replay\'s end (the resuming client subscribes to `>`).';
}

function slowTable(entry) {
  const rows = ['| server | slow consumers | dropped (seen while not reading / after) | GlobeMeet overflow close after, s | others p50 / p99 before, ms | others p50 / p99 / p99.9 with slow ones, ms | others delivered | others closed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const [name, res] of Object.entries(entry.results)) {
    const l = res.lines[0];
    if (!l) { rows.push(`| ${name} | ${res.error ?? 'no result'} | | | | | | |`); continue; }
    rows.push(`| ${name} | ${l.slow_consumers} | ${l.slow_dropped_during_run} / ${l.slow_dropped_after_resume_read} | ${name === 'globemeet' ? f(l.all_overflow_closed_s ?? l.first_overflow_close_s, 1) : 'n/a'} | ${f(l.before_p50_ms, 2)} / ${f(l.before_p99_ms, 2)} | ${f(l.during_p50_ms, 2)} / ${f(l.during_p99_ms, 2)} / ${f(l.during_p999_ms, 2)} | ${f(l.during_delivered_fraction * 100, 2)}% | ${l.fast_closed} |`);
  }
  return rows.join('\n');
}

const ISSUE_TARGETS = `The issue's reference figures (one server core, 1,000 subscribers, 128 B messages): uWebSockets
(Bun) ~3 M deliveries/s at p99 8 ms, nats ~1 M/s at p99 36 ms, node ws ~0.28 M/s; uWS ~0.5 KB per
idle connection, Beast servers ~6-7 KB.`;

export function writeReport({ dir, entries, machine, versions, quick, started, finished, notes }) {
  const md = [];
  md.push(`# GlobeMeet benchmark report${quick ? ' (--quick smoke run: short steps, small counts; not for comparison)' : ''}`);
  md.push('');
  md.push(`Run ${started} to ${finished} (UTC). Machine: ${machine.nproc} cores, ${machine.cpu}, kernel ${machine.kernel}; load average before the run ${machine.loadBefore}, after ${machine.loadAfter}.`);
  md.push('');
  md.push('Servers: ' + Object.entries(versions).map(([k, v]) => `${k} = ${v}`).join('; ') + '.');
  md.push('');
  md.push('How: each server runs alone on core 0 (`taskset -c 0`; GlobeMeet with `--threads 1`, nats-server on one core so GOMAXPROCS=1), started fresh for every workload; the load generator (`globemeet-loadgen`, one thread, epoll) runs pinned to core 1. Latency is publish-to-receive on one CLOCK_MONOTONIC. A rate step passes when 100% of the deliveries arrive and p99 <= 200 ms and the publisher kept up; the ladder stops at the first failing step.');
  md.push('');
  for (const n of notes) md.push(`* ${n}`);
  md.push('');
  md.push(ISSUE_TARGETS);
  md.push('');
  for (const entry of entries) {
    md.push(`## Workload ${entry.workload}: ${entry.title}`);
    md.push('');
    if (entry.workload === 1 || entry.workload === 2) {
      md.push(ladderTable(entry));
      const chart = ladderChart(dir, entry);
      if (chart) md.push('', `![latency vs rate: ${entry.title}](${chart})`);
      md.push('', '<details><summary>every step</summary>', '', '| server | offered events/s | deliveries/s | delivered | p50 ms | p99 ms | p99.9 ms | server CPU % | gen CPU % | pass |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
      for (const [name, res] of Object.entries(entry.results)) {
        for (const l of summarizeLadder(res.lines).steps) {
          md.push(`| ${name} | ${f(l.rate_eps, 1)} | ${rate(l.deliveries_per_s)} | ${f(l.delivered_fraction * 100, 2)}% | ${f(l.p50_ms, 2)} | ${f(l.p99_ms, 2)} | ${f(l.p999_ms, 2)} | ${f(l.server_cpu_pct, 0)} | ${f(l.gen_cpu_pct, 0)} | ${l.pass ? 'yes' : 'no'} |`);
        }
      }
      md.push('', '</details>');
    } else if (entry.workload === 3) {
      md.push(idleTable(entry));
      md.push('', 'Workload 6 (connection storm) is the "time until all subscribed" column: every connection is opened at once; GlobeMeet verifies an HS256 JWT (Authorization header) on each, the peers have no authentication at all.');
    } else if (entry.workload === 4) {
      md.push('GlobeMeet only: none of the peers keeps a log to resume from.', '');
      md.push(resumeTable(entry));
    } else if (entry.workload === 5) {
      md.push(slowTable(entry));
      md.push('', 'The slow consumers (every 100th connection) subscribe to all 100 topics, set a 16 KB receive buffer and stop reading; on loopback the kernel still absorbs about 3.5 MB per connection on the server side (about 2.5 s of their 1.4 MB/s) before the server\'s own queue grows, so GlobeMeet\'s drop comes that long plus its 5 s lag limit after they stop. "Others" are the 99% that keep reading (10 events/s each). Peers have no lag limit: "dropped" there means the server closed them for its own reasons (nats slow-consumer handling, Bun backpressure).');
    }
    md.push('');
  }
  md.push('Raw generator output: `results.jsonl` (one JSON line per step or run). Server logs: `*.log`.');
  return md.join('\n') + '\n';
}
