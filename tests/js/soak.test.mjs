// The soak in small (issue 16; `bench/soak` is the 30-minute, 10,000-connection run): 1,000
// connections for two minutes against the real server, closing and reconnecting with resume,
// refreshing short-lived tokens, a slow pool dropped by overflow, a publisher throughout.
// Asserts behaviour, never speed: no event lost or doubled across any reconnect, no descriptor
// left open once every connection has closed, memory after warm-up within a generous bound.
// About 2 minutes 10 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { runSoak } from '../../bench/lib/soak.mjs';
import { makeTempDir, serverBinary } from './helpers/server.mjs';

test('soak: churn, resume, refresh and overflow for two minutes leak no descriptor and lose no event', { timeout: 300000 }, async () => {
  const dir = makeTempDir();
  let r;
  try {
    r = await runSoak({ serverBinary: serverBinary(), dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const c = r.counts;
  const summary = JSON.stringify({ ...r, samples: undefined, options: undefined });
  // The churn happened: reconnects that resumed, refreshes, slow connections dropped.
  assert.ok(c.resumes > 100, summary);
  assert.ok(c.refreshes > 100, summary);
  assert.ok(r.overflow_closes > 0, `no overflow close: ${summary}`);
  assert.ok(c.events > 0 && c.published > 0, summary);
  // Every resumed connection got every event of its topics, once and in order.
  assert.equal(c.gaps, 0, summary);
  assert.equal(c.duplicates, 0, summary);
  assert.equal(c.resets, 0, summary);
  assert.equal(c.errors, 0, summary);
  assert.equal(c.refresh_errors, 0, summary);
  assert.equal(c.handshake_failures, 0, summary);
  assert.equal(r.close_codes[4001] ?? 0, 0, `a token expired although it was refreshed: ${summary}`);
  assert.equal(c.publish_failures, 0, summary);
  // No descriptor leak: back to the count before the first connection (a little slack for
  // what the server may open meanwhile, none of it per connection).
  assert.ok(r.fd_after_close <= r.fd_baseline + 2, `fds ${r.fd_baseline} before, ${r.fd_after_close} after: ${summary}`);
  // Memory after warm-up does not run away (the full soak measures flatness; this bound only
  // catches a per-connection or per-event leak, which would grow far more in 80 s of churn).
  assert.ok(r.rss_end_kb <= r.rss_warm_kb * 1.5, `RSS ${r.rss_warm_kb} KB after warm-up, ${r.rss_end_kb} KB at the end`);
  assert.equal(r.server_exit.code, 0, summary);
});
