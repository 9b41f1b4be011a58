import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer } from '@zkit/testing';
import { runBench } from './harness.js';
import { parseScale, selectScenarios } from './select.js';
import { comparisons, scenarios } from './registry.js';
import { writeResults } from './report.js';

// `npm run bench`: one fresh, untuned server; every selected scenario in order; a table on
// stdout and a JSON file in bench-results/. BENCH_ONLY=S0,S1 selects, BENCH_SCALE=0.1 shrinks.

const require = createRequire(import.meta.url);
const { version } = require('@zkit/core/package.json') as { version: string };

const scale = parseScale(process.env['BENCH_SCALE']);
const selected = selectScenarios(scenarios, process.env['BENCH_ONLY']);
const outDir =
  process.env['BENCH_OUT'] ?? fileURLToPath(new URL('../../../bench-results/', import.meta.url));

const server = await ZooKeeperServer.start({ testDefaults: false });
try {
  process.stdout.write(
    `zkit ${version} bench on ${server.connectString}, scale ${scale}, ${selected.length} scenarios\n`,
  );
  const results = await runBench({
    server,
    scenarios: selected,
    comparisons,
    scale,
    libVersion: version,
  });
  const file = writeResults(outDir, results.started_utc, results);
  process.stdout.write(`\nresults: ${file}\n`);
  const failed = Object.entries(results.scenarios).filter(([, r]) => 'error' in r);
  if (failed.length > 0) process.exitCode = 1;
} finally {
  await server.stop();
}
