import type { ZkClient } from '@zkit/core';
import type { BindingClient } from '../binding.js';
import { ZERO_COUNTERS, type MntrCounters, type MntrDelta } from '../mntr.js';
import { latency, number, rate } from '../report.js';
import { payload, type Comparison, type Scenario, type ScenarioContext } from '../scenario.js';
import { now, nsToUs, scaleSummary, summarize, type Summary } from '../stats.js';

/**
 * S0 — the raw client floor (SCENARIOS.md "S0"), run through `@zkit/core`'s `ZkClient` on the
 * wire transport, on the native one, and through the bare binding, each with pipelined
 * throughput (N requests in flight) for create/get/set/delete. Run one after the other, they are
 * not a fair set on a fresh server (the first warms the server's JIT for the next), so
 * S0-overhead compares the three on interleaved blocks, which spreads drift and background load
 * over all of them alike.
 */

/** The operations S0 needs, implemented once per client. */
interface RawOps {
  exists(path: string): Promise<unknown>;
  create(path: string, data: Buffer | undefined, ephemeral: boolean): Promise<unknown>;
  delete(path: string): Promise<unknown>;
  get(path: string): Promise<unknown>;
  set(path: string, data: Buffer): Promise<unknown>;
  /** Creates a persistent node unless it exists (setup only). */
  ensure(path: string): Promise<void>;
}

function clientOps(c: ZkClient): RawOps {
  return {
    exists: (path) => c.exists(path),
    create: (path, data, ephemeral) =>
      c.create(path, data, { mode: ephemeral ? 'ephemeral' : 'persistent' }),
    delete: (path) => c.delete(path),
    get: (path) => c.get(path),
    set: (path, data) => c.set(path, data),
    ensure: async (path) => {
      if ((await c.exists(path)) === null) await c.create(path);
    },
  };
}

function bindingOps(b: BindingClient): RawOps {
  return {
    exists: (path) => b.exists(path),
    create: (path, data, ephemeral) => b.create(path, data ?? '', ephemeral),
    delete: (path) => b.delete(path),
    get: (path) => b.get(path),
    set: (path, data) => b.set(path, data),
    ensure: (path) => b.ensure(path),
  };
}

/** Keeps `inFlight` operations outstanding until `total` have completed. */
async function pipelined(
  total: number,
  inFlight: number,
  op: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const i = next++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
}

const PIPELINED = ['create', 'get', 'set', 'delete'] as const;
type PipelinedOp = (typeof PIPELINED)[number];

/** Operation `op` on node `i` of a pipelined set under `parent` (16-byte payloads). */
function pipelinedOp(zk: RawOps, parent: string, op: PipelinedOp): (i: number) => Promise<unknown> {
  const path = (i: number) => `${parent}/n-${i}`;
  switch (op) {
    case 'create':
      return (i) => zk.create(path(i), Buffer.from(payload(i)), false);
    case 'get':
      return (i) => zk.get(path(i));
    case 'set':
      return (i) => zk.set(path(i), Buffer.from(payload(i + 1)));
    case 'delete':
      return (i) => zk.delete(path(i));
  }
}

export interface PipelinedFigure {
  ops: number;
  in_flight: number;
  wall_s: number;
  ops_per_s: number;
  requests_per_op: number;
}

async function runRawFloor(
  ctx: ScenarioContext,
  base: string,
  open: () => Promise<RawOps>,
): Promise<Record<string, unknown>> {
  ctx.param('path', base);
  const warmup = ctx.param('warmup', ctx.count(100, 10));
  const ops = ctx.param('ops', ctx.count(1000, 20));
  const pipeOps = ctx.param('pipelined_ops', ctx.count(10_000, 200));
  const inFlight = ctx.param('in_flight', 100);

  const zk = await open();
  await zk.ensure('/bench');
  await zk.ensure(base);
  await zk.ensure(`${base}/pipe`);
  const node = `${base}/n`;

  for (let i = 0; i < warmup; i++) await zk.exists(base);
  for (let i = 0; i < warmup; i++) {
    await zk.create(node, undefined, true);
    await zk.delete(node);
  }

  // Phase A: sequential exists; one sample per call.
  const existsNs: number[] = [];
  const a = await ctx.section('exists', ops, async () => {
    for (let i = 0; i < ops; i++) {
      const t = now();
      await zk.exists(base);
      existsNs.push(Number(now() - t));
    }
  });

  // Phase B: create ephemeral + delete; one sample per pair.
  const pairNs: number[] = [];
  const b = await ctx.section('create_delete', ops, async () => {
    for (let i = 0; i < ops; i++) {
      const t = now();
      await zk.create(node, undefined, true);
      await zk.delete(node);
      pairNs.push(Number(now() - t));
    }
  });

  const exists = scaleSummary(summarize(existsNs), nsToUs(1n));
  const pair = scaleSummary(summarize(pairNs), nsToUs(1n));
  ctx.row('exists p50 / p99 / mean', latency(exists, 'µs'), a.mntr);
  ctx.row('create+delete p50 / p99 / mean', latency(pair, 'µs'), b.mntr);

  // Pipelined phases: a small untimed warm-up, then create, get, set and delete over one node set.
  const warm = Math.min(pipeOps, inFlight * 2);
  for (const op of PIPELINED) await pipelined(warm, inFlight, pipelinedOp(zk, `${base}/pipe`, op));
  const pipelinedFigures = {} as Record<PipelinedOp, PipelinedFigure>;
  for (const op of PIPELINED) {
    const s = await ctx.section(`pipelined_${op}`, pipeOps, () =>
      pipelined(pipeOps, inFlight, pipelinedOp(zk, `${base}/pipe`, op)),
    );
    const figure: PipelinedFigure = {
      ops: pipeOps,
      in_flight: inFlight,
      wall_s: s.wall_s,
      ops_per_s: pipeOps / s.wall_s,
      requests_per_op: s.mntr.per_unit.packets_received,
    };
    pipelinedFigures[op] = figure;
    ctx.row(`pipelined ${op} (${inFlight} in flight)`, rate(figure.ops_per_s, 'ops'), s.mntr);
  }

  return {
    exists_us: exists,
    create_delete_us: pair,
    exists_ops_s: ops / a.wall_s,
    create_delete_pairs_s: ops / b.wall_s,
    pipelined: pipelinedFigures,
  };
}

export const s0: Scenario = {
  name: 'S0',
  title: 'raw client floor through @zkit/core ZkClient (wire transport)',
  run: (ctx) =>
    runRawFloor(ctx, '/bench/s0', async () => clientOps(await ctx.client({ transport: 'wire' }))),
};

export const s0Native: Scenario = {
  name: 'S0-native',
  title: 'raw client floor through @zkit/core ZkClient (native transport)',
  run: (ctx) =>
    runRawFloor(ctx, '/bench/s0-native', async () =>
      clientOps(await ctx.client({ transport: 'native' })),
    ),
};

export const s0Binding: Scenario = {
  name: 'S0-binding',
  title: 'raw client floor through the bare zookeeper binding',
  run: (ctx) => runRawFloor(ctx, '/bench/s0-binding', async () => bindingOps(await ctx.binding())),
};

/** The sides of the interleaved comparison, in the order of the first round. */
export const SIDES = ['wire', 'native', 'binding'] as const;
export type SideName = (typeof SIDES)[number];

/** The sequential phases and the pipelined ones, as keys of the figures. */
const OPERATIONS = [
  'exists',
  'create_delete',
  ...PIPELINED.map((op) => `pipelined_${op}`),
] as const;

/** Samples and server-side cost of one side in the interleaved comparison. */
class Tally {
  readonly existsNs: number[] = [];
  readonly pairNs: number[] = [];
  readonly pipelined = Object.fromEntries(PIPELINED.map((op) => [op, { ops: 0, ns: 0 }])) as Record<
    PipelinedOp,
    { ops: number; ns: number }
  >;
  /** Per operation key: units done and the mntr totals over all its blocks. */
  readonly cost: Record<string, { units: number; total: MntrCounters }> = {};

  add(key: string, mntr: MntrDelta): void {
    const cost = (this.cost[key] ??= { units: 0, total: { ...ZERO_COUNTERS } });
    cost.units += mntr.units;
    for (const k of Object.keys(cost.total) as (keyof MntrCounters)[]) {
      cost.total[k] += mntr.total[k];
    }
  }

  report(): SideReport {
    const perUnit = (key: string, counter: keyof MntrCounters) => {
      const cost = this.cost[key];
      return cost && cost.units > 0 ? cost.total[counter] / cost.units : null;
    };
    return {
      exists_us: scaleSummary(summarize(this.existsNs), nsToUs(1n)),
      create_delete_us: scaleSummary(summarize(this.pairNs), nsToUs(1n)),
      pipelined_ops_s: Object.fromEntries(
        PIPELINED.map((op) => [op, this.pipelined[op].ops / (this.pipelined[op].ns / 1e9)]),
      ) as Record<PipelinedOp, number>,
      requests_per_op: Object.fromEntries(
        OPERATIONS.map((k) => [k, perUnit(k, 'packets_received')]),
      ),
      responses_per_op: Object.fromEntries(OPERATIONS.map((k) => [k, perUnit(k, 'packets_sent')])),
      mntr: this.cost,
    };
  }
}

export interface SideReport {
  exists_us: Summary;
  create_delete_us: Summary;
  pipelined_ops_s: Record<PipelinedOp, number>;
  /** Packets the server received per operation (a create+delete pair counts as one unit). */
  requests_per_op: Record<string, number | null>;
  responses_per_op: Record<string, number | null>;
  mntr: Record<string, { units: number; total: MntrCounters }>;
}

/** a ÷ b for every figure: latency p50/p99 (below 1.00 favours a) and ops/s (above 1.00 does). */
export interface SideRatio {
  exists_p50: number;
  exists_p99: number;
  create_delete_p50: number;
  create_delete_p99: number;
  pipelined_ops_s: Record<PipelinedOp, number>;
}

function sideRatio(a: SideReport, b: SideReport): SideRatio {
  return {
    exists_p50: a.exists_us.p50 / b.exists_us.p50,
    exists_p99: a.exists_us.p99 / b.exists_us.p99,
    create_delete_p50: a.create_delete_us.p50 / b.create_delete_us.p50,
    create_delete_p99: a.create_delete_us.p99 / b.create_delete_us.p99,
    pipelined_ops_s: Object.fromEntries(
      PIPELINED.map((op) => [op, a.pipelined_ops_s[op] / b.pipelined_ops_s[op]]),
    ) as Record<PipelinedOp, number>,
  };
}

/** The order of round `r`: the sides rotated by `r`, so each side takes every position. */
export function sideOrder<T>(sides: readonly T[], r: number): T[] {
  const k = r % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

export const s0Overhead: Scenario = {
  name: 'S0-overhead',
  title: 'wire transport, native transport and bare binding: interleaved blocks, three sessions',
  async run(ctx) {
    const base = ctx.param('path', '/bench/s0-overhead');
    const rounds = ctx.param('rounds', ctx.count(12, 3));
    const blockOps = ctx.param('block_ops', ctx.count(100, 20));
    const pipeOps = ctx.param('pipelined_block_ops', ctx.count(1000, 100));
    const inFlight = ctx.param('in_flight', 100);
    ctx.param('order', 'rotates per round: wire, native, binding; native, binding, wire; …');

    const open: Record<SideName, () => Promise<RawOps>> = {
      wire: async () => clientOps(await ctx.client({ transport: 'wire' })),
      native: async () => clientOps(await ctx.client({ transport: 'native' })),
      binding: async () => bindingOps(await ctx.binding()),
    };
    const sides: { name: SideName; zk: RawOps; tally: Tally }[] = [];
    for (const name of SIDES) sides.push({ name, zk: await open[name](), tally: new Tally() });
    type Side = (typeof sides)[number];
    const first = sides[0] as Side;
    await first.zk.ensure('/bench');
    await first.zk.ensure(base);
    for (const side of sides) await side.zk.ensure(`${base}/pipe-${side.name}`);
    const node = (side: Side) => `${base}/n-${side.name}`;
    const sideOp = (side: Side, op: PipelinedOp) =>
      pipelinedOp(side.zk, `${base}/pipe-${side.name}`, op);

    const warmup = ctx.count(100, 10);
    for (const side of sides) {
      for (let i = 0; i < warmup; i++) await side.zk.exists(base);
      for (let i = 0; i < warmup; i++) {
        await side.zk.create(node(side), undefined, true);
        await side.zk.delete(node(side));
      }
      for (const op of PIPELINED) await pipelined(inFlight * 2, inFlight, sideOp(side, op));
    }

    // Each block runs between two mntr probes (outside its timing), so every side gets its own
    // requests per operation from the same run.
    for (let r = 0; r < rounds; r++) {
      const order = sideOrder(sides, r);
      for (const side of order) {
        const s = await ctx.measure(blockOps, async () => {
          for (let i = 0; i < blockOps; i++) {
            const t = now();
            await side.zk.exists(base);
            side.tally.existsNs.push(Number(now() - t));
          }
        });
        side.tally.add('exists', s.mntr);
      }
      for (const side of order) {
        const s = await ctx.measure(blockOps, async () => {
          for (let i = 0; i < blockOps; i++) {
            const t = now();
            await side.zk.create(node(side), undefined, true);
            await side.zk.delete(node(side));
            side.tally.pairNs.push(Number(now() - t));
          }
        });
        side.tally.add('create_delete', s.mntr);
      }
      for (const op of PIPELINED) {
        for (const side of order) {
          const s = await ctx.measure(pipeOps, () =>
            pipelined(pipeOps, inFlight, sideOp(side, op)),
          );
          side.tally.pipelined[op].ops += pipeOps;
          side.tally.pipelined[op].ns += Number(s.wall_ns);
          side.tally.add(`pipelined_${op}`, s.mntr);
        }
      }
    }

    const report = Object.fromEntries(sides.map((s) => [s.name, s.tally.report()])) as Record<
      SideName,
      SideReport
    >;
    const { wire, native, binding } = report;
    const ratio = {
      wire_vs_native: sideRatio(wire, native),
      wire_vs_binding: sideRatio(wire, binding),
      native_vs_binding: sideRatio(native, binding),
    };
    const requestsIdentical = OPERATIONS.every(
      (k) =>
        wire.requests_per_op[k] === native.requests_per_op[k] &&
        wire.requests_per_op[k] === binding.requests_per_op[k],
    );

    const us = (v: number) => number(v, 0);
    const req = (k: string) =>
      SIDES.map((s) => {
        const v = report[s].requests_per_op[k];
        return v === null || v === undefined ? '–' : number(v);
      }).join(' / ');
    const ratios = (w: (r: SideRatio) => number) =>
      `÷ native ${number(w(ratio.wire_vs_native))}, ÷ binding ${number(w(ratio.wire_vs_binding))}`;
    const latencyRow = (label: string, key: 'exists' | 'create_delete', p: 'p50' | 'p99') => {
      const pick = (s: SideReport) => (key === 'exists' ? s.exists_us : s.create_delete_us)[p];
      ctx.row(
        `${label} ${p} µs, wire / native / binding`,
        `${us(pick(wire))} / ${us(pick(native))} / ${us(pick(binding))}; wire ` +
          ratios((r) => r[`${key}_${p}`]) +
          `; req/op ${req(key)}`,
      );
    };
    latencyRow('exists', 'exists', 'p50');
    latencyRow('exists', 'exists', 'p99');
    latencyRow('create+delete', 'create_delete', 'p50');
    latencyRow('create+delete', 'create_delete', 'p99');
    for (const op of PIPELINED) {
      ctx.row(
        `pipelined ${op} ops/s (${inFlight} in flight), wire / native / binding`,
        `${us(wire.pipelined_ops_s[op])} / ${us(native.pipelined_ops_s[op])} / ` +
          `${us(binding.pipelined_ops_s[op])}; wire ` +
          ratios((r) => r.pipelined_ops_s[op]) +
          `; req/op ${req(`pipelined_${op}`)}`,
      );
    }
    return { ...report, ratio, requests_per_op_identical: requestsIdentical };
  },
};

/**
 * The wire transport against the native one and the bare binding, from S0-overhead's
 * interleaved blocks: a ÷ b for latency (1.00 = as fast, below favours a) and pipelined
 * throughput (above 1.00 favours a), and whether all three sent the same requests per operation.
 */
export const transports: Comparison = {
  name: 'transports',
  derive(scenarios) {
    const result = scenarios['S0-overhead'] as
      | {
          ratio?: Record<'wire_vs_native' | 'wire_vs_binding' | 'native_vs_binding', SideRatio>;
          requests_per_op_identical?: boolean;
        }
      | undefined;
    const ratio = result?.ratio;
    if (!ratio) return null;
    const latencyText = (r: SideRatio) =>
      `exists ${number(r.exists_p50)} / ${number(r.exists_p99)}, ` +
      `create+delete ${number(r.create_delete_p50)} / ${number(r.create_delete_p99)}`;
    const throughputText = (r: SideRatio) =>
      PIPELINED.map((op) => `${op} ${number(r.pipelined_ops_s[op])}`).join(', ');
    const rows: [string, string][] = [];
    for (const [key, label] of [
      ['wire_vs_native', 'wire ÷ native'],
      ['wire_vs_binding', 'wire ÷ binding'],
      ['native_vs_binding', 'native ÷ binding'],
    ] as const) {
      rows.push([`latency ${label}, p50 / p99`, latencyText(ratio[key])]);
      rows.push([`pipelined ops/s ${label}`, throughputText(ratio[key])]);
    }
    rows.push([
      'requests per operation identical',
      result.requests_per_op_identical ? 'yes' : 'no (see S0-overhead rows)',
    ]);
    return {
      figures: { ...ratio, requests_per_op_identical: result.requests_per_op_identical ?? null },
      rows,
    };
  },
};
