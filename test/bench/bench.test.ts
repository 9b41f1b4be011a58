import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderFiles } from './chart.js';
import {
  buildTable,
  cellText,
  median,
  type Lib,
  type PeerRun,
  type TableRow,
} from './peer-table.js';
import { PEER_SCENARIOS, roundOrder, runPeers } from './peers.js';
import { parseScale, selectNames, selectScenarios } from './select.js';
import { sectionDelta, ZERO_COUNTERS, type MntrCounters, type MntrSnapshot } from './mntr.js';
import { payload, type Scenario } from './scenario.js';
import type { IdleFigures } from './scenarios/s0-idle.js';
import { sideOrder, SIDES, type SideRatio, type SideReport } from './scenarios/s0-raw.js';
import { percentile, summarize } from './stats.js';

describe('bench statistics', () => {
  it('bench - nearest-rank p99 of fewer than 100 samples is the maximum', () => {
    const sorted = Array.from({ length: 30 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(30);
    expect(percentile(sorted, 50)).toBe(15);
  });

  it('bench - nearest-rank percentiles of 1000 samples pick index ceil(p/100·n) − 1', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i);
    expect(percentile(sorted, 50)).toBe(499);
    expect(percentile(sorted, 99)).toBe(989);
  });

  it('bench - a summary reports n, p50, p99, mean, min and max of unsorted samples', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ n: 5, p50: 3, p99: 5, mean: 3, min: 1, max: 5 });
  });

  it('bench - payload i is the decimal i left-padded with zeros to 16 bytes', () => {
    expect(payload(42)).toBe('0000000000000042');
    expect(Buffer.byteLength(payload(123_456))).toBe(16);
  });
});

function snapshot(values: Partial<Record<string, number>>): MntrSnapshot {
  const base: Record<string, number> = {
    zk_packets_received: 0,
    zk_packets_sent: 0,
    zk_bytes_received_count: 0,
    zk_response_bytes: 0,
    zk_watch_bytes: 0,
    zk_cnt_updatelatency: 0,
    zk_sum_updatelatency: 0,
    zk_cnt_readlatency: 0,
    zk_sum_readlatency: 0,
    zk_cnt_fsynctime: 0,
    zk_sum_fsynctime: 0,
    zk_sum_node_created_watch_count: 0,
    zk_sum_node_deleted_watch_count: 0,
    zk_sum_node_changed_watch_count: 0,
    zk_sum_node_children_watch_count: 0,
  };
  for (const [k, v] of Object.entries(values)) if (v !== undefined) base[k] = v;
  return base;
}

describe('bench mntr deltas', () => {
  it('bench - a section subtracts one mntr probe and divides by its units', () => {
    const overhead: MntrCounters = {
      ...ZERO_COUNTERS,
      packets_received: 1,
      packets_sent: 2,
      bytes_received: 4,
    };
    const before = snapshot({ zk_packets_received: 10, zk_packets_sent: 10 });
    const after = snapshot({
      zk_packets_received: 311,
      zk_packets_sent: 312,
      zk_bytes_received_count: 4,
      zk_cnt_updatelatency: 200,
      zk_sum_updatelatency: 100,
      zk_cnt_readlatency: 100,
      zk_sum_node_deleted_watch_count: 3,
      zk_sum_node_children_watch_count: 2,
    });
    const d = sectionDelta(before, after, overhead, 100);
    expect(d.total.packets_received).toBe(300);
    expect(d.per_unit.packets_received).toBe(3);
    expect(d.per_unit.packets_sent).toBe(3);
    expect(d.total.bytes_received).toBe(0);
    expect(d.per_unit.writes).toBe(2);
    expect(d.total.watch_notifications).toBe(5);
    expect(d.server.write_ms_avg).toBe(0.5);
    expect(d.server.fsync_ms_avg).toBeNull();
  });
});

describe('bench scenario selection', () => {
  const named = (name: string): Scenario => ({ name, title: name, run: async () => ({}) });
  const all = ['S0', 'S0-binding', 'S1', 'S2-c8', 'S2-c32', 'S3', 'S3-crash'].map(named);

  it('bench - BENCH_ONLY selects whole families and keeps the defined order', () => {
    expect(selectScenarios(all, 'S3,S0').map((s) => s.name)).toEqual([
      'S0',
      'S0-binding',
      'S3',
      'S3-crash',
    ]);
    expect(selectScenarios(all, 'S2-c32').map((s) => s.name)).toEqual(['S2-c32']);
    expect(selectScenarios(all, undefined)).toHaveLength(all.length);
  });

  it('bench - --peers selects from its own scenario list the same way', () => {
    expect(selectNames(PEER_SCENARIOS, 'S2,S4c')).toEqual(['S2-c8', 'S2-c32', 'S4c']);
    expect(selectNames(PEER_SCENARIOS, undefined)).toEqual([...PEER_SCENARIOS]);
    expect(() => selectNames(PEER_SCENARIOS, 'S0-binding')).toThrow(/no scenario named/);
  });

  it('bench - BENCH_ONLY naming an unknown scenario fails before anything runs', () => {
    expect(() => selectScenarios(all, 'S9')).toThrow(/no scenario named S9/);
  });

  it('bench - BENCH_SCALE must be a positive number', () => {
    expect(parseScale(undefined)).toBe(1);
    expect(parseScale('0.1')).toBe(0.1);
    expect(() => parseScale('0')).toThrow(/positive/);
    expect(() => parseScale('fast')).toThrow(/positive/);
  });
});

describe('bench peers table', () => {
  const run = (lib: Lib, round: number, scenarios: Record<string, Record<string, unknown>>) => ({
    round,
    position: 0,
    lib,
    results: { lib, lib_version: '0', scenarios },
  });
  const s1 = (p50: number, req: number) => ({
    cycle_us: { n: 1, p50, p99: p50, mean: p50, min: p50, max: p50 },
    cycles_per_s: 1e6 / p50,
    mntr_cycle: { per_unit: { packets_received: req, response_bytes: 0, watch_bytes: 0 } },
  });

  it('bench - the table holds each library’s median over the rounds and zkit ÷ peer ratios', () => {
    const runs: PeerRun[] = [
      run('zkit', 0, { S1: s1(1000, 3) }),
      run('zkit', 1, { S1: s1(3000, 3) }),
      run('zkit', 2, { S1: s1(2000, 3) }),
      run('curator', 0, { S1: s1(4000, 3) }),
      run('curator', 1, { S1: s1(4000, 3) }),
      run('curator', 2, { S1: { error: 'BoundExceededError: lock acquire' } }),
      run('kazoo', 0, { S1: s1(500, 4) }),
      run('kazoo', 1, { S1: s1(1500, 4) }),
      run('kazoo', 2, { S1: s1(1000, 4) }),
    ];
    const { rows } = buildTable(runs);
    const p50 = rows.find((r) => r.scenario === 'S1' && r.figure === 'cycle p50') as TableRow;
    expect(p50.values.zkit).toEqual({ median: 2000, rounds: [1000, 3000, 2000], note: null });
    expect(p50.values.curator).toEqual({ median: 4000, rounds: [4000, 4000, null], note: 'error' });
    expect(p50.ratio.curator).toBe(0.5);
    expect(p50.ratio.kazoo).toBe(2);
    const req = rows.find((r) => r.figure === 'requests per cycle') as TableRow;
    expect(req.ratio.kazoo).toBe(0.75);
    expect(rows.every((r) => r.scenario === 'S1')).toBe(true);
  });

  it('bench - a scenario a library has no recipe for shows "–" and no ratio', () => {
    const queue = {
      produce_items_per_s: 100,
      consume_items_per_s: 200,
      exactly_once: true,
      left_in_queue: 0,
    };
    const { rows, checks } = buildTable([
      run('zkit', 0, { S4b: queue }),
      run('curator', 0, { S4b: queue }),
      run('kazoo', 0, { S4b: { skipped: 'no such recipe' } }),
    ]);
    const produce = rows.find((r) => r.figure === 'produce') as TableRow;
    expect(cellText(produce.values.kazoo, 0)).toBe('–');
    expect(produce.ratio).toEqual({ curator: 1, kazoo: null });
    expect(checks[0]?.values.kazoo.ok).toBeNull();
    expect(checks[0]?.values.curator.ok).toBe(true);
  });

  it('bench - rounds rotate the order, so each library runs in every position', () => {
    const orders = [0, 1, 2].map((r) => roundOrder(['zkit', 'curator', 'kazoo'], r));
    expect(orders).toEqual([
      ['zkit', 'curator', 'kazoo'],
      ['curator', 'kazoo', 'zkit'],
      ['kazoo', 'zkit', 'curator'],
    ]);
    expect(median([3, null, 1, 2])).toBe(2);
    expect(median([4, 1])).toBe(2.5);
  });
});

describe('bench peers smoke run', () => {
  it(
    'bench - zkit, Curator and kazoo each run at a tiny scale into one well-formed table',
    { timeout: 240_000 },
    async () => {
      const outDir = mkdtempSync(join(tmpdir(), 'zkit-peers-test-'));
      try {
        const { file, results } = await runPeers({
          rounds: 1,
          scale: 0.01,
          scenarios: ['S0', 'S1', 'S4b'],
          outDir,
          log: () => undefined,
        });
        expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(JSON.stringify(results)));
        expect(results.runs.map((r) => r.lib)).toEqual(['zkit', 'curator', 'kazoo']);
        for (const r of results.runs) {
          expect(r.error).toBeUndefined();
          const scenarios = r.results?.scenarios ?? {};
          expect(Object.keys(scenarios)).toEqual(['S0', 'S1', 'S4b']);
          for (const [name, s] of Object.entries(scenarios)) {
            expect(s, `${r.lib} ${name}`).not.toHaveProperty('error');
          }
          // An uncontended mutex cycle takes at least a create, a children read and a delete.
          const cycle = scenarios['S1']?.['mntr_cycle'] as { per_unit: MntrCounters };
          expect(cycle.per_unit.packets_received).toBeGreaterThanOrEqual(3);
          expect(cycle.per_unit.writes).toBeGreaterThanOrEqual(2);
          expect(scenarios['S1']?.['cycles_per_s']).toBeGreaterThan(0);
        }
        expect(results.runs[1]?.results?.lib_version).toMatch(/^5\./);
        expect(results.runs[2]?.results?.lib_version).toMatch(/^2\./);
        expect(results.runs[2]?.results?.scenarios['S4b']).toHaveProperty('skipped');
        const curatorS4b = results.runs[1]?.results?.scenarios['S4b'];
        expect(curatorS4b).toMatchObject({ exactly_once: true, left_in_queue: 0 });

        const rows = results.table.rows;
        const req = rows.find((r) => r.scenario === 'S1' && r.figure === 'requests per cycle');
        const z = req?.values.zkit.median as number;
        const c = req?.values.curator.median as number;
        const k = req?.values.kazoo.median as number;
        expect(req?.ratio.curator).toBeCloseTo(z / c, 10);
        expect(req?.ratio.kazoo).toBeCloseTo(z / k, 10);
        const produce = rows.find((r) => r.scenario === 'S4b' && r.figure === 'produce');
        expect(produce?.values.kazoo.note).toBe('skipped');
        expect(produce?.ratio.curator).toBeGreaterThan(0);

        const written = renderFiles(file);
        const markdown = readFileSync(written.markdown, 'utf8');
        expect(markdown).toContain('| S1 | requests per cycle | req |');
        expect(markdown).toContain('kazoo 2.');
        const svg = readFileSync(written.svg, 'utf8');
        expect(svg.startsWith('<svg')).toBe(true);
        expect(svg.match(/<rect /g)?.length).toBeGreaterThan(rows.length * 2);
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    },
  );
});

describe('bench S0 family smoke run', () => {
  it('bench - S0 rounds rotate wire, native and binding, so each side takes every position', () => {
    expect([0, 1, 2, 3].map((r) => sideOrder(SIDES, r))).toEqual([
      ['wire', 'native', 'binding'],
      ['native', 'binding', 'wire'],
      ['binding', 'wire', 'native'],
      ['wire', 'native', 'binding'],
    ]);
  });

  it(
    'bench - the S0 family runs wire, native and binding side by side, twice, at a tiny scale',
    { timeout: 240_000 },
    () => {
      const outDir = mkdtempSync(join(tmpdir(), 'zkit-s0-test-'));
      try {
        const main = fileURLToPath(new URL('../dist/bench/main.js', import.meta.url));
        const run = spawnSync(process.execPath, [main, '--rounds', '2'], {
          env: { ...process.env, BENCH_ONLY: 'S0', BENCH_SCALE: '0.01', BENCH_OUT: outDir },
          encoding: 'utf8',
          timeout: 220_000,
        });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toContain('2 rounds; load average');
        expect(run.stdout).toContain('latency wire ÷ native, p50 / p99 (round 2)');

        const files = readdirSync(outDir).filter((f) => f.startsWith('zkit-'));
        expect(files).toHaveLength(2);
        for (const f of files) {
          const results = JSON.parse(readFileSync(join(outDir, f), 'utf8')) as {
            scenarios: Record<string, Record<string, unknown>>;
            comparisons: { transports: Record<string, SideRatio | boolean | null> };
            loadavg_start: number[];
          };
          expect(Object.keys(results.scenarios)).toEqual([
            'S0',
            'S0-native',
            'S0-binding',
            'S0-overhead',
            'S0-idle',
          ]);
          for (const [name, s] of Object.entries(results.scenarios)) {
            expect(s, name).not.toHaveProperty('error');
          }
          expect(results.loadavg_start).toHaveLength(3);

          const overhead = results.scenarios['S0-overhead'] as Record<string, SideReport>;
          for (const side of SIDES) {
            const r = overhead[side] as SideReport;
            // Rounds of 20 operations: p99 is the slowest of 60 samples.
            expect(r.exists_us.n).toBe(60);
            expect(r.pipelined_ops_s.get).toBeGreaterThan(0);
            // Each exists is one request and each pair two, plus any ping that fell in a block.
            expect(r.requests_per_op['exists']).toBeGreaterThanOrEqual(1);
            expect(r.requests_per_op['create_delete']).toBeGreaterThanOrEqual(2);
            expect(r.requests_per_op['pipelined_set']).toBeGreaterThanOrEqual(1);
          }
          const wire = overhead['wire'] as SideReport;
          const native = overhead['native'] as SideReport;
          const ratio = results.comparisons.transports['wire_vs_native'] as SideRatio;
          expect(ratio.exists_p50).toBeCloseTo(wire.exists_us.p50 / native.exists_us.p50, 10);
          expect(ratio.pipelined_ops_s.delete).toBeCloseTo(
            wire.pipelined_ops_s.delete / native.pipelined_ops_s.delete,
            10,
          );
          expect(results.comparisons.transports).toHaveProperty('wire_vs_binding');
          expect(typeof results.comparisons.transports['requests_per_op_identical']).toBe(
            'boolean',
          );

          const idle = results.scenarios['S0-idle'] as Record<'wire' | 'native', IdleFigures> & {
            passes: Record<'wire' | 'native', IdleFigures[]>;
          };
          expect(idle.passes.wire).toHaveLength(2);
          expect(idle.passes.native).toHaveLength(2);
          for (const transport of ['wire', 'native'] as const) {
            const f = idle[transport];
            expect(f.transport).toBe(transport);
            expect(f.sessions).toBe(10);
            expect(f.connect_all_ms).toBeGreaterThan(0);
            expect(f.connected.rss).toBeGreaterThan(0);
            expect(Number.isFinite(f.rss_per_session_bytes)).toBe(true);
            expect(f.idle_s).toBeGreaterThanOrEqual(0.5);
            expect(f.idle_cpu_ms).toBeGreaterThanOrEqual(0);
            if (process.platform === 'linux') expect(f.connected.threads).toBeGreaterThan(0);
          }
        }
      } finally {
        rmSync(outDir, { recursive: true, force: true });
      }
    },
  );
});
