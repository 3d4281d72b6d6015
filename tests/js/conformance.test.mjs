// The client conformance suite (tests/conformance, issue 13): every scenario for every client
// driver in tests/conformance/drivers.mjs, plus the live restart against the real server. Each
// scenario starts its own scripted server and driver process, so they run several at a time.
// A driver that is not built fails here: a client is never skipped silently.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { drivers } from '../conformance/drivers.mjs';
import { runScenario } from '../conformance/harness.mjs';
import { runLive } from '../conformance/live.mjs';
import { clientsDoc } from '../conformance/report.mjs';
import { loadScenarios } from '../conformance/suite.mjs';

const scenarios = await loadScenarios();

function explain(r) {
  return [
    r.error,
    `attempts: ${JSON.stringify(r.attempts ?? [])}`,
    'frames:', ...(r.frames ?? []).map((f) => `  ${JSON.stringify(f)}`),
    'observations:', ...r.observations.map((o) => `  ${JSON.stringify(o)}`),
    r.stderr ? `driver stderr: ${r.stderr}` : '',
  ].join('\n');
}

describe('client conformance', { concurrency: 6 }, () => {
  for (const driver of drivers) {
    it(`${driver.name}: the driver is built`, () => {
      assert.ok(driver.available(), `${driver.name}: ${driver.command.join(' ')} is missing (build it, or set its env var)`);
    });
    if (!driver.available()) continue;
    for (const s of scenarios) {
      it(`${driver.name}: ${s.id}`, async () => {
        const r = s.live ? await runLive(driver) : await runScenario(s, driver);
        assert.ok(r.pass, explain(r));
      });
    }
  }
});

it('docs/clients.md has a row for every scenario and a column for every driver', () => {
  const doc = readFileSync(clientsDoc, 'utf8');
  for (const s of scenarios) assert.match(doc, new RegExp(`\\| \`${s.id}\` \\|`), `${s.id}: run node tests/conformance/run.mjs --write-table`);
  const header = doc.split('\n').find((l) => l.startsWith('| scenario |'));
  assert.ok(header, 'the conformance table is missing');
  for (const d of drivers) assert.ok(header.includes(`| ${d.name} `) || header.endsWith(`| ${d.name} |`), `no column for ${d.name}`);
});
