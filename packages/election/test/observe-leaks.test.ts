import { probeIterables } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { LeaderLatch, LeaderSelector } from '../src/index.js';

/**
 * Leader changes seen through each observer. Each takes a create or a delete plus the
 * observer's own reads: 10 000 each, both observers at once, took about 12 s on a shared 2-core
 * machine (50 000 would take about a minute).
 */
const CHANGES = 10_000;

test('observe - LeaderLatch and LeaderSelector observers keep a flat heap and add no listener over many leader changes', async ({
  zk,
}) => {
  const client = await zk.client();
  const writer = await zk.client();
  await writer.create('/latch', undefined, { parents: 'persistent' });
  await writer.create('/selector', undefined, { parents: 'persistent' });
  const latchStop = new AbortController();
  const selectorStop = new AbortController();
  let done = false;
  // Lockstep: one participant comes or goes, then the observer sees the new leader (or none)
  // before the next step, so every step is one value and no observer falls behind.
  const seen: (() => void)[] = [];
  // Each churn starts once its observer has reported the empty election.
  const first = [0, 1].map((i) => new Promise<void>((resolve) => (seen[i] = resolve)));
  // The observer may report the change before the writer has the reply: wait for both.
  const step = (i: number, write: () => Promise<unknown>) =>
    Promise.all([new Promise<void>((resolve) => (seen[i] = resolve)), write()]);
  const churn = async (i: number, parent: string, nodeName: string) => {
    await first[i];
    for (let n = 0; !done; n++) {
      let node = '';
      await step(i, async () => {
        node = await writer.create(`${parent}/${nodeName}`, `id-${n}`, {
          mode: 'ephemeralSequential',
        });
      });
      if (!done) await step(i, () => writer.delete(node));
    }
  };
  const [report] = await Promise.all([
    probeIterables(
      [
        new LeaderLatch(client, '/latch').observe({ signal: latchStop.signal }),
        new LeaderSelector(client, '/selector').observe({ signal: selectorStop.signal }),
      ],
      {
        count: CHANGES,
        signals: () => [latchStop.signal, selectorStop.signal, client.sessionSignal()],
        onValue: (_, i) => seen[i]?.(),
      },
    ).finally(() => {
      done = true;
      for (const resolve of seen) resolve();
    }),
    churn(0, '/latch', 'latch-'),
    churn(1, '/selector', 'lock-'),
  ]);
  expect(report.listenerWarnings).toEqual([]);
  // Each caller's signal carries one listener for the iteration's lifetime (shared by every
  // signal combined from it); the session signal none.
  expect(report.maxListeners).toEqual([1, 1, 0]);
  // Stated bound: under 200 bytes per leader change on average.
  expect(report.heapGrowth).toBeLessThan(2 * CHANGES * 200);
  expect(client.watchCount).toBe(0);
});
