import { defaultNodeData, type ZkClient } from '@zkit/core';
import { Mutex } from '@zkit/lock';
import { latency, number, rate } from '../report.js';
import type { Scenario } from '../scenario.js';
import { now, nsToUs, scaleSummary, summarize } from '../stats.js';

/** The lock-acquire bound of SCENARIOS.md §0 "Bounded waits". */
const ACQUIRE_BOUND_MS = 60_000;

/**
 * S1 — mutex, uncontended (SCENARIOS.md "S1"): one session, one `Mutex` reused for every cycle;
 * a cycle is `acquire()` then `release()`, timed from before the acquire to after the release
 * returns.
 */
export const s1: Scenario = {
  name: 'S1',
  title: 'mutex, uncontended',
  async run(ctx) {
    const warmup = ctx.param('warmup', ctx.count(200, 10));
    const cycles = ctx.param('cycles', ctx.count(2000, 50));
    const client = await ctx.client();
    const mutex = new Mutex(client, '/bench/s1/lock');
    for (let i = 0; i < warmup; i++) {
      await (await mutex.acquire({ timeout: ACQUIRE_BOUND_MS })).release();
    }

    const samples: number[] = [];
    const section = await ctx.section('cycle', cycles, async () => {
      for (let i = 0; i < cycles; i++) {
        const t = now();
        const lease = await mutex.acquire({ timeout: ACQUIRE_BOUND_MS });
        await lease.release();
        samples.push(Number(now() - t));
      }
    });
    const cycle = scaleSummary(summarize(samples), nsToUs(1n));
    ctx.row('cycle p50 / p99 / mean', latency(cycle, 'µs'), section.mntr);
    ctx.row('cycles/s', rate(cycles / section.wall_s, 'cycles'), section.mntr);

    // The floor under any mutex on this client and server: the cycle's own requests, sent as the
    // recipe sends them (the create and the listing together, then the delete), with no recipe
    // code around them. Not part of the scenario's definition; it shows how much of a cycle is
    // the server's and how much the recipe's.
    const floorSamples: number[] = [];
    const parent = '/bench/s1/floor';
    const data = defaultNodeData();
    // A persistent parent: the listing sent with the create needs it, and it is never reaped.
    await client.create(parent, undefined, { parents: 'persistent' });
    const createOptions = { mode: 'ephemeralSequential' } as const;
    const floorCycle = async () => {
      const created = client.createProtected(parent, 'lock-', data, createOptions);
      const listed = client.getChildren(parent, { withStat: true });
      const node = await created;
      await listed;
      await client.delete(node);
    };
    for (let i = 0; i < warmup; i++) await floorCycle();
    const floor = await ctx.section('floor_cycle', cycles, async () => {
      for (let i = 0; i < cycles; i++) {
        const t = now();
        await floorCycle();
        floorSamples.push(Number(now() - t));
      }
    });
    const floorCycleUs = scaleSummary(summarize(floorSamples), nsToUs(1n));
    ctx.row('floor: the requests alone p50 / p99 / mean', latency(floorCycleUs, 'µs'), floor.mntr);
    return {
      cycle_us: cycle,
      cycles_per_s: cycles / section.wall_s,
      wall_s: section.wall_s,
      floor_cycle_us: floorCycleUs,
    };
  },
};

/**
 * S2 — mutex, contended (SCENARIOS.md "S2"): C sessions, one worker and one `Mutex` each,
 * T acquisitions in total behind a start gate. Inside the lock each worker checks and sets an
 * in-process holder flag (one synchronous step, so the check cannot report a false violation),
 * increments a shared counter across one yield to the event loop, and checks the flag again.
 * Fencing tokens are checked to increase from one holder to the next, too.
 */
function s2(sessions: number): Scenario {
  return {
    name: `S2-c${sessions}`,
    title: `mutex, contended, ${sessions} sessions`,
    async run(ctx) {
      const total = ctx.param('acquisitions', ctx.count(2000, 2 * sessions));
      ctx.param('sessions', sessions);
      const path = `/bench/s2-c${sessions}/lock`;
      const clients: ZkClient[] = [];
      for (let i = 0; i < sessions; i++) clients.push(await ctx.client());
      const mutexes = clients.map((c) => new Mutex(c, path));
      // Untimed warm-up: one acquire + release per client, one after another.
      for (const mutex of mutexes) {
        await (await mutex.acquire({ timeout: ACQUIRE_BOUND_MS })).release();
      }

      let holder: number | undefined;
      let violations = 0;
      let tokenViolations = 0;
      let lastToken = -1n;
      let counter = 0;
      const quota = (i: number) => Math.floor(total / sessions) + (i < total % sessions ? 1 : 0);

      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const workers = mutexes.map(async (mutex, me) => {
        await gate;
        for (let n = quota(me); n > 0; n--) {
          const lease = await mutex.acquire({ timeout: ACQUIRE_BOUND_MS });
          if (holder !== undefined) violations++;
          holder = me;
          if (lease.fencingToken <= lastToken) tokenViolations++;
          lastToken = lease.fencingToken;
          const v = counter;
          await new Promise(setImmediate);
          counter = v + 1;
          if (holder !== me) violations++;
          holder = undefined;
          await lease.release();
        }
      });
      const section = await ctx.section('acquisition', total, async () => {
        open();
        await Promise.all(workers);
      });

      const perSecond = total / section.wall_s;
      ctx.row('acquisitions/s', rate(perSecond, 'acq'), section.mntr);
      ctx.row(
        'violations / token violations / counter',
        `${violations} / ${tokenViolations} / ${counter} of ${total}`,
      );
      ctx.row('wall', `${number(section.wall_s, 3)} s`);
      return {
        wall_s: section.wall_s,
        acquisitions_per_s: perSecond,
        violations,
        token_violations: tokenViolations,
        counter_ok: counter === total,
      };
    },
  };
}

export const s2c8 = s2(8);
export const s2c32 = s2(32);
