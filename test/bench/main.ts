import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ZooKeeperServer } from '@zkit/testing';
import { runBench, type BenchResults } from './harness.js';
import { LIBS, type Lib } from './peer-table.js';
import { PEER_SCENARIOS, runPeers } from './peers.js';
import { parseScale, selectNames, selectScenarios } from './select.js';
import { comparisons, scenarios } from './registry.js';
import { roundsSummary, writeResults } from './report.js';

// `npm run bench`: one fresh, untuned server; every selected scenario in order; a table on
// stdout and a JSON file in bench-results/. BENCH_ONLY=S0,S1 selects, BENCH_SCALE=0.1 shrinks.
// `npm run bench -- --rounds 3` repeats the selection, each round on a fresh server.
// `npm run bench -- --peers [--rounds N] [--libs zkit,curator,kazoo]`: the same scenarios with
// Apache Curator and kazoo too, interleaved in rounds (peers.ts).

const require = createRequire(import.meta.url);
const { version } = require('@zkit/core/package.json') as { version: string };

const { values: args } = parseArgs({
  options: {
    peers: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    libs: { type: 'string' },
  },
});

const scale = parseScale(process.env['BENCH_SCALE']);
const outDir =
  process.env['BENCH_OUT'] ?? fileURLToPath(new URL('../../../bench-results/', import.meta.url));

if (args.peers) {
  const rounds = Number(args.rounds ?? '3');
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds must be a positive integer, got ${JSON.stringify(args.rounds)}`);
  }
  const libs = (args.libs ?? LIBS.join(',')).split(',').map((l) => l.trim());
  const unknown = libs.filter((l) => !(LIBS as readonly string[]).includes(l));
  if (unknown.length > 0) {
    throw new Error(`--libs: unknown ${unknown.join(', ')} (known: ${LIBS.join(', ')})`);
  }
  const names = selectNames(PEER_SCENARIOS, process.env['BENCH_ONLY']);
  process.stdout.write(
    `peers bench: ${libs.join(', ')}; ${rounds} rounds; scale ${scale}; ${names.join(', ')}\n`,
  );
  const { file, results } = await runPeers({
    rounds,
    scale,
    scenarios: names,
    libs: libs as Lib[],
    outDir,
  });
  process.stdout.write(`\nresults: ${file}\n`);
  const failed = results.runs.some(
    (r) => r.results === null || Object.values(r.results.scenarios).some((s) => 'error' in s),
  );
  if (failed) process.exitCode = 1;
} else {
  // BENCH_NAMES (exact names, no families) is how a --peers run asks for exactly its scenarios.
  const exact = process.env['BENCH_NAMES'];
  const selected =
    exact !== undefined && exact !== ''
      ? scenarios.filter((s) => exact.split(',').includes(s.name))
      : selectScenarios(scenarios, process.env['BENCH_ONLY']);

  // --rounds N: the whole selection N times, each on a fresh server, one JSON file per round,
  // then every comparison row of every round side by side with the load average.
  const rounds = Number(args.rounds ?? '1');
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds must be a positive integer, got ${JSON.stringify(args.rounds)}`);
  }
  const all: BenchResults[] = [];
  for (let round = 0; round < rounds; round++) {
    const server = await ZooKeeperServer.start({ testDefaults: false });
    try {
      process.stdout.write(
        `${rounds > 1 ? `round ${round + 1} of ${rounds}: ` : ''}zkit ${version} bench on ` +
          `${server.connectString}, scale ${scale}, ${selected.length} scenarios\n`,
      );
      const results = await runBench({
        server,
        scenarios: selected,
        comparisons,
        scale,
        libVersion: version,
      });
      const file = writeResults(outDir, results.started_utc, results);
      process.stdout.write(`\nresults: ${file}\n\n`);
      all.push(results);
      const failed = Object.entries(results.scenarios).filter(([, r]) => 'error' in r);
      if (failed.length > 0) process.exitCode = 1;
    } finally {
      await server.stop();
    }
  }
  if (rounds > 1) process.stdout.write(`${roundsSummary(all)}\n`);
}
