import { latency, number } from '../report.js';
import { payload, type Scenario } from '../scenario.js';
import { now, nsToMs, summarize } from '../stats.js';

/**
 * S9 — N creates committed as one transaction against the same N creates pipelined (all sent
 * at once, each its own request), on the wire transport. Rounds alternate between the two so
 * that drift and background load fall on both alike; each round's nodes are deleted, untimed,
 * before the next. Figures: round latency (p50 / p99 / mean) and ZooKeeper requests per round.
 */

const BASE = '/bench/s9';
const N = 10;

export const s9: Scenario = {
  name: 'S9',
  title: `${N} creates: one transaction vs ${N} pipelined requests`,
  async run(ctx) {
    const rounds = ctx.param('rounds', ctx.count(500, 20));
    ctx.param('creates_per_round', N);
    const client = await ctx.client();
    await client.ensurePath(BASE);
    const paths = Array.from({ length: N }, (_, i) => `${BASE}/n${i}`);
    const data = Array.from({ length: N }, (_, i) => payload(i));
    const clear = () => Promise.all(paths.map((p) => client.delete(p)));

    const samples = { transaction: [] as number[], pipelined: [] as number[] };
    const requests = { transaction: 0, pipelined: 0 };
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0
        ? (['transaction', 'pipelined'] as const)
        : (['pipelined', 'transaction'] as const)) {
        const section = await ctx.measure(1, async () => {
          const t = now();
          if (kind === 'transaction') {
            const tx = client.transaction();
            for (const [i, p] of paths.entries()) tx.create(p, data[i]);
            await tx.commit();
          } else {
            await Promise.all(paths.map((p, i) => client.create(p, data[i])));
          }
          return nsToMs(now() - t);
        });
        samples[kind].push(section.value);
        requests[kind] += section.mntr.total.packets_received;
        await clear();
      }
    }
    const tx = summarize(samples.transaction);
    const pipe = summarize(samples.pipelined);
    const perTx = requests.transaction / rounds;
    const perPipe = requests.pipelined / rounds;
    ctx.row(`transaction of ${N} creates p50 / p99 / mean`, latency(tx, 'ms'));
    ctx.row(`${N} pipelined creates p50 / p99 / mean`, latency(pipe, 'ms'));
    ctx.row('requests per round: transaction / pipelined', `${number(perTx)} / ${number(perPipe)}`);
    return {
      transaction_ms: tx,
      pipelined_ms: pipe,
      requests_per_round_transaction: perTx,
      requests_per_round_pipelined: perPipe,
    };
  },
};
