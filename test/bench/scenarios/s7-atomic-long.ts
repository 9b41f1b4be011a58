import type { ZkClient } from '@zkit/core';
import { AtomicLong } from '@zkit/counter';
import { number, rate } from '../report.js';
import type { Scenario } from '../scenario.js';

/**
 * S7 — atomic counter, contended (SCENARIOS.md "S7"): C sessions, one `AtomicLong` each on one
 * node, T increments in total behind a start gate, each retried until it succeeds. The final
 * value must be exactly T.
 */
function s7(sessions: number): Scenario {
  return {
    name: `S7-c${sessions}`,
    title: `atomic long increments, ${sessions} session${sessions === 1 ? '' : 's'}`,
    async run(ctx) {
      const total = ctx.param('increments', ctx.count(2000, 2 * sessions));
      ctx.param('sessions', sessions);
      const path = `/bench/s7-c${sessions}/counter`;
      const clients: ZkClient[] = [];
      for (let i = 0; i < sessions; i++) clients.push(await ctx.client());
      const counters = clients.map(
        (c) =>
          new AtomicLong(c, path, { retry: { retries: 10_000, minTimeout: 1, maxTimeout: 50 } }),
      );
      // Untimed: create the node (at 0) and warm every session up with one read.
      await counters[0]?.forceSet(0);
      await Promise.all(counters.map((c) => c.get()));

      let failed = 0;
      const quota = (i: number) => Math.floor(total / sessions) + (i < total % sessions ? 1 : 0);
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const workers = counters.map(async (counter, me) => {
        await gate;
        for (let n = quota(me); n > 0; n--) {
          if (!(await counter.increment()).succeeded) failed++;
        }
      });
      const section = await ctx.section('increment', total, async () => {
        open();
        await Promise.all(workers);
      });
      const final = (await counters[0]!.get()).postValue;
      const perSecond = total / section.wall_s;
      ctx.row('increments/s', rate(perSecond, 'inc'), section.mntr);
      ctx.row('failed / final value', `${failed} / ${final} of ${total}`);
      ctx.row('wall', `${number(section.wall_s, 3)} s`);
      return {
        wall_s: section.wall_s,
        increments_per_s: perSecond,
        failed,
        counter_ok: failed === 0 && final === BigInt(total),
      };
    },
  };
}

export const s7c1 = s7(1);
export const s7c8 = s7(8);
export const s7c32 = s7(32);
