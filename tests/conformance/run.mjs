#!/usr/bin/env node
// Runs the conformance suite from the command line: every scenario for every driver found (or
// those named), prints one line per result and the details of each failure; --write-table
// regenerates docs/clients.md from the results.
import { parseArgs } from 'node:util';
import { runSuite } from './suite.mjs';
import { writeTable } from './report.mjs';

const { values } = parseArgs({
  options: {
    driver: { type: 'string', multiple: true }, scenario: { type: 'string', multiple: true },
    'write-table': { type: 'boolean' }, verbose: { type: 'boolean' }, parallel: { type: 'string' },
  },
});
const results = await runSuite({
  drivers: values.driver, scenarios: values.scenario, parallel: values.parallel ? Number(values.parallel) : undefined,
  onResult: (r) => {
    console.log(`${r.pass ? 'pass' : 'FAIL'} ${r.driver.padEnd(6)} ${r.scenario} (${r.ms} ms)`);
    if (!r.pass || values.verbose) {
      if (r.error) console.log(`  ${r.error}`);
      console.log(`  attempts: ${JSON.stringify(r.attempts ?? [])}`);
      console.log(`  frames:\n${(r.frames ?? []).map((f) => `    ${JSON.stringify(f)}`).join('\n')}`);
      console.log(`  observations:\n${r.observations.map((o) => `    ${JSON.stringify(o)}`).join('\n')}`);
      if (r.stderr) console.log(`  driver stderr:\n${r.stderr}`);
    }
  },
});
if (values['write-table']) writeTable(results);
const failed = results.results.filter((r) => !r.pass).length;
console.log(`${results.results.length - failed}/${results.results.length} passed, ${results.missing.length ? `drivers not built: ${results.missing.join(', ')}, ` : ''}${Math.round(results.ms / 1000)} s`);
process.exit(failed === 0 ? 0 : 1);
