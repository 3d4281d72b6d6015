// The benchmark plan: which generator runs make up each workload, for the full run and --quick.
// Rates are chosen as deliveries per second (what the targets are stated in) and turned
// into events per second by the run's fan-out.

export const TARGETS = ['globemeet', 'nats', 'bun', 'ws'];

// Deliveries/s steps for the rate ladder (workloads 1 and 2); a server stops at its first failure.
const FULL_LADDER = [25e3, 50e3, 100e3, 150e3, 200e3, 300e3, 400e3, 500e3, 650e3, 800e3, 1e6, 1.25e6, 1.5e6, 2e6, 2.5e6, 3e6, 4e6];
const QUICK_LADDER = [50e3, 100e3, 200e3, 400e3, 800e3, 1.6e6, 3.2e6];

// Receivers per event, averaged over the topics (the generator's SubscriptionLayout, in JS).
export function averageFanout(connections, topics, wildcard) {
  let total = 0;
  for (let k = 0; k < topics; k++) {
    for (let i = 0; i < connections; i++) {
      if ((wildcard && i % 10 === 0) || i % topics === k) total++;
    }
  }
  return total / topics;
}

function ladder(deliveries, connections, topics, wildcard) {
  const fanout = averageFanout(connections, topics, wildcard);
  return deliveries.map((d) => Math.max(1, Math.round((d / fanout) * 100) / 100));
}

// Each entry: { id, workload, title, config (shown in the report), targets, args (loadgen flags) }.
export function plan({ quick }) {
  const runs = [];
  const step = quick ? ['--warmup', '0.3', '--step', '1', '--drain', '1.5'] : ['--warmup', '0.5', '--step', '2', '--drain', '2'];
  const sizes = quick ? [128] : [128, 1024];
  const counts = quick ? [1000] : [1000, 10000];
  const steps = quick ? QUICK_LADDER : FULL_LADDER;
  for (const n of counts) {
    for (const size of sizes) {
      runs.push({
        id: `w1-n${n}-b${size}`, workload: 1, title: `one topic, ${n.toLocaleString('en-US')} subscribers, ${size} B events`,
        config: { connections: n, payload_bytes: size, topics: 1 },
        targets: TARGETS,
        args: ['--mode', 'fanout', '--connections', String(n), '--payload-bytes', String(size), '--topics', '1',
          '--rates', ladder(steps, n, 1, false).join(','), ...step],
      });
    }
  }
  const wildN = quick ? 500 : 1000;
  runs.push({
    id: `w2-n${wildN}`, workload: 2, title: `100 topics, ${wildN.toLocaleString('en-US')} subscribers with overlapping wildcards, 128 B events`,
    config: { connections: wildN, payload_bytes: 128, topics: 100, wildcard: true, fanout: averageFanout(wildN, 100, true) },
    targets: TARGETS,
    args: ['--mode', 'fanout', '--connections', String(wildN), '--payload-bytes', '128', '--topics', '100', '--wildcard',
      '--rates', ladder(steps, wildN, 100, true).join(','), ...step],
  });
  const idleN = quick ? 2000 : 10000;
  runs.push({
    id: `w3-idle-n${idleN}`, workload: 3, title: `${idleN.toLocaleString('en-US')} idle subscribed connections (memory), connected all at once (storm)`,
    config: { connections: idleN },
    targets: TARGETS,
    args: ['--mode', 'idle', '--connections', String(idleN), '--settle', quick ? '1' : '2', '--connect-timeout', '90'],
  });
  runs.push({
    id: 'w4-resume', workload: 4, title: `resume ${quick ? '10,000' : '100,000'} events behind while 1,000 live subscribers get 200 events/s`,
    config: { connections: 1000, behind: quick ? 10000 : 100000, live_rate_eps: 200 },
    targets: ['globemeet'],
    args: ['--mode', 'resume', '--connections', '1000', '--rates', '200', '--resume-events', quick ? '10000' : '100000',
      '--payload-bytes', '128', '--warmup', '0.3'],
  });
  // The slow 1% subscribe to every topic (a stalled dashboard): they get 1,000 events/s, the
  // others 10, so the slow ones fill their socket buffers within seconds while the server's
  // total work stays light for every server.
  runs.push({
    id: 'w5-slow', workload: 5, title: '1% of 1,000 subscribers (taking all 100 topics) stop reading; 1 KB events, 1,000 events/s over 100 topics',
    config: { connections: 1000, payload_bytes: 1024, rate_eps: 1000, topics: 100, slow_fraction: 0.01 },
    targets: TARGETS,
    args: ['--mode', 'slow', '--connections', '1000', '--payload-bytes', '1024', '--rates', '1000', '--topics', '100',
      '--slow-subscribe-all', '--slow-fraction', '0.01', '--slow-after', quick ? '1' : '3', '--slow-seconds', quick ? '5' : '15',
      '--warmup', '0.3'],
  });
  return runs;
}
