import type { ZkClient } from '@zkit/core';
import type { BindingClient } from '../binding.js';
import { latency, number, rate } from '../report.js';
import { payload, type Comparison, type Scenario, type ScenarioContext } from '../scenario.js';
import { now, nsToUs, scaleSummary, summarize, type Summary } from '../stats.js';

/**
 * S0 — the raw client floor (SCENARIOS.md "S0"), run once through `@zkit/core`'s `ZkClient`
 * and once through the bare binding, each with pipelined throughput (N requests in flight) for
 * create/get/set/delete. Run one after the other, the two are not a fair pair on a fresh server
 * (the first warms the server's JIT for the second), so S0-overhead measures core's overhead
 * over the binding on interleaved blocks, which cancels drift and background load.
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
  title: 'raw client floor through @zkit/core ZkClient',
  run: (ctx) => runRawFloor(ctx, '/bench/s0', async () => clientOps(await ctx.client())),
};

export const s0Binding: Scenario = {
  name: 'S0-binding',
  title: 'raw client floor through the bare zookeeper binding',
  run: (ctx) => runRawFloor(ctx, '/bench/s0-binding', async () => bindingOps(await ctx.binding())),
};

/** Samples of one client in the interleaved comparison. */
class Tally {
  readonly existsNs: number[] = [];
  readonly pairNs: number[] = [];
  readonly pipelined = Object.fromEntries(PIPELINED.map((op) => [op, { ops: 0, ns: 0 }])) as Record<
    PipelinedOp,
    { ops: number; ns: number }
  >;

  report(): {
    exists_us: Summary;
    create_delete_us: Summary;
    pipelined_ops_s: Record<PipelinedOp, number>;
  } {
    return {
      exists_us: scaleSummary(summarize(this.existsNs), nsToUs(1n)),
      create_delete_us: scaleSummary(summarize(this.pairNs), nsToUs(1n)),
      pipelined_ops_s: Object.fromEntries(
        PIPELINED.map((op) => [op, this.pipelined[op].ops / (this.pipelined[op].ns / 1e9)]),
      ) as Record<PipelinedOp, number>,
    };
  }
}

export const s0Overhead: Scenario = {
  name: 'S0-overhead',
  title: 'ZkClient against the bare binding, interleaved blocks on two sessions',
  async run(ctx) {
    const base = ctx.param('path', '/bench/s0-overhead');
    const rounds = ctx.param('rounds', ctx.count(10, 2));
    const blockOps = ctx.param('block_ops', ctx.count(100, 20));
    const pipeOps = ctx.param('pipelined_block_ops', ctx.count(1000, 100));
    const inFlight = ctx.param('in_flight', 100);

    const sides = [
      { name: 'binding', zk: bindingOps(await ctx.binding()), tally: new Tally() },
      { name: 'core', zk: clientOps(await ctx.client()), tally: new Tally() },
    ] as const;
    const [binding, core] = sides;
    await core.zk.ensure('/bench');
    await core.zk.ensure(base);
    for (const side of sides) await side.zk.ensure(`${base}/pipe-${side.name}`);
    type Side = (typeof sides)[number];
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

    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first, so neither side always runs on the warmer server.
      const order = r % 2 === 0 ? [binding, core] : [core, binding];
      for (const side of order) {
        for (let i = 0; i < blockOps; i++) {
          const t = now();
          await side.zk.exists(base);
          side.tally.existsNs.push(Number(now() - t));
        }
      }
      for (const side of order) {
        for (let i = 0; i < blockOps; i++) {
          const t = now();
          await side.zk.create(node(side), undefined, true);
          await side.zk.delete(node(side));
          side.tally.pairNs.push(Number(now() - t));
        }
      }
      for (const op of PIPELINED) {
        for (const side of order) {
          const t = now();
          await pipelined(pipeOps, inFlight, sideOp(side, op));
          side.tally.pipelined[op].ops += pipeOps;
          side.tally.pipelined[op].ns += Number(now() - t);
        }
      }
    }

    const b = binding.tally.report();
    const c = core.tally.report();
    const ratio = {
      exists_p50: c.exists_us.p50 / b.exists_us.p50,
      exists_p99: c.exists_us.p99 / b.exists_us.p99,
      create_delete_p50: c.create_delete_us.p50 / b.create_delete_us.p50,
      create_delete_p99: c.create_delete_us.p99 / b.create_delete_us.p99,
      pipelined_ops_s: Object.fromEntries(
        PIPELINED.map((op) => [op, c.pipelined_ops_s[op] / b.pipelined_ops_s[op]]),
      ),
    };
    ctx.row(
      'binding exists / create+delete p50',
      `${number(b.exists_us.p50, 0)} / ${number(b.create_delete_us.p50, 0)} µs`,
    );
    ctx.row(
      'ZkClient exists / create+delete p50',
      `${number(c.exists_us.p50, 0)} / ${number(c.create_delete_us.p50, 0)} µs`,
    );
    for (const op of PIPELINED) {
      ctx.row(
        `pipelined ${op}: binding / ZkClient`,
        `${rate(b.pipelined_ops_s[op], 'ops')} / ${rate(c.pipelined_ops_s[op], 'ops')}`,
      );
    }
    return { binding: b, core: c, ratio };
  },
};

function perUnitRequests(result: Record<string, unknown> | undefined, key: string): number | null {
  const section = result?.[key] as { per_unit?: { packets_received?: number } } | undefined;
  return section?.per_unit?.packets_received ?? null;
}

/**
 * Core's overhead over the binding: ZkClient ÷ binding for latency (1.00 = no overhead) and
 * pipelined throughput (1.00 = as fast), from S0-overhead; requests per operation of each, from
 * the S0 and S0-binding sections.
 */
export const coreVsBinding: Comparison = {
  name: 'core_vs_binding',
  derive(scenarios) {
    const interleaved = scenarios['S0-overhead'] as
      | {
          ratio?: {
            exists_p50: number;
            exists_p99: number;
            create_delete_p50: number;
            create_delete_p99: number;
            pipelined_ops_s: Record<PipelinedOp, number>;
          };
        }
      | undefined;
    const ratio = interleaved?.ratio;
    if (!ratio) return null;
    const requests = (name: string) =>
      Object.fromEntries(
        ['exists', 'create_delete', ...PIPELINED.map((op) => `pipelined_${op}`)].map((k) => [
          k,
          perUnitRequests(scenarios[name], `mntr_${k}`),
        ]),
      );
    return {
      figures: {
        ...ratio,
        requests_per_op: { core: requests('S0'), binding: requests('S0-binding') },
      },
      rows: [
        [
          'latency ZkClient ÷ binding, p50 / p99',
          `exists ${number(ratio.exists_p50)} / ${number(ratio.exists_p99)}, ` +
            `create+delete ${number(ratio.create_delete_p50)} / ${number(ratio.create_delete_p99)}`,
        ],
        [
          'pipelined ops/s ZkClient ÷ binding',
          PIPELINED.map((op) => `${op} ${number(ratio.pipelined_ops_s[op])}`).join(', '),
        ],
      ],
    };
  },
};
