import { describe, expect, it } from 'vitest';
import { parseScale, selectScenarios } from './select.js';
import { sectionDelta, ZERO_COUNTERS, type MntrCounters, type MntrSnapshot } from './mntr.js';
import { payload, type Scenario } from './scenario.js';
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
