import { DoubleBarrier } from '@zkit/barrier';
import { latency, number } from '../report.js';
import type { Scenario } from '../scenario.js';
import { now, nsToMs, summarize } from '../stats.js';

/** SCENARIOS.md "Bounded waits": barrier enter and leave, 60 s each. */
const BOUND_MS = 60_000;

/**
 * S5: N members on N sessions, R rounds of `enter()` then `leave()` on a fresh path per round.
 * Round time runs from the start gate opening to the return of the last member's `leave()`.
 * Also counts `leave()` calls that returned before every member had called `leave()` (must be 0).
 */
export const s5: Scenario = {
  name: 'S5',
  title: 'double barrier, 16 members',
  async run(ctx) {
    const members = ctx.param('members', 16);
    const rounds = ctx.param('rounds', ctx.count(20, 3));
    const clients = await Promise.all(Array.from({ length: members }, () => ctx.client()));
    // Built before the timed section: constructing a barrier sends nothing.
    const barriers = Array.from({ length: rounds }, (_, r) =>
      clients.map((c) => new DoubleBarrier(c, `/bench/s5/round-${r}`, { members })),
    );

    const samples: number[] = [];
    let earlyLeaves = 0;
    const section = await ctx.section('member_round', members * rounds, async () => {
      for (const round of barriers) {
        let leaving = 0;
        const t0 = now();
        await Promise.all(
          round.map(async (barrier) => {
            await barrier.enter({ timeout: BOUND_MS });
            leaving++;
            await barrier.leave({ timeout: BOUND_MS });
            if (leaving < members) earlyLeaves++;
          }),
        );
        samples.push(nsToMs(now() - t0));
      }
    });

    const round = summarize(samples);
    const perMemberRound = members * rounds;
    ctx.row('round p50 / p99 / mean', latency(round, 'ms'), section.mntr);
    ctx.row('early leaves', String(earlyLeaves));
    ctx.row('wall', `${number(section.wall_s, 3)} s`);
    return {
      round_ms: round,
      member_rounds: perMemberRound,
      early_leaves: earlyLeaves,
      wall_s: section.wall_s,
    };
  },
};
