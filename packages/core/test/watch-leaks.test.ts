import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { probeIterables } from '@zkit/testing';

/**
 * Snapshots through each iterable. Both loops run at once, each at the speed of its own reads:
 * 20 000 each took about 30 s on a shared 2-core machine, so 50 000 would take about 75 s, more
 * than the suite can spend on one test. 20 000 show a leak of the size these loops once had
 * (about 1.5 KB a snapshot) many times over the bound.
 */
const SNAPSHOTS = 20_000;

/**
 * Keeps `lanes` writes in flight until `done()`: every snapshot a loop asks for finds a change
 * already waiting, so the loops run at the speed of their own reads.
 */
async function keepChanging(
  write: (i: number) => Promise<unknown>,
  done: () => boolean,
  lanes: number,
): Promise<void> {
  let i = 0;
  const lane = async () => {
    while (!done()) await write(i++);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

describe('watch leaks', () => {
  test('watches - watchData and watchChildren keep a flat heap and add no listener over 20 000 snapshots each', async ({
    zk,
  }) => {
    const client = await zk.client();
    const writer = await zk.client();
    await client.create('/hot', '0');
    await client.create('/set');
    const dataStop = new AbortController();
    const childStop = new AbortController();
    let done = false;
    const [report] = await Promise.all([
      probeIterables(
        [
          client.watchData('/hot', { signal: dataStop.signal }),
          client.watchChildren('/set', { signal: childStop.signal }),
        ],
        {
          count: SNAPSHOTS,
          signals: () => [dataStop.signal, childStop.signal, client.sessionSignal()],
        },
      ).finally(() => (done = true)),
      keepChanging(
        (i) => writer.set('/hot', String(i)),
        () => done,
        4,
      ),
      // One lane: each create is followed by its delete.
      keepChanging(
        (i) => (i % 2 === 0 ? writer.create(`/set/c${i >> 1}`) : writer.delete(`/set/c${i >> 1}`)),
        () => done,
        1,
      ),
    ]);
    expect(report.listenerWarnings).toEqual([]);
    // Each user signal holds its iteration's one listener; the session signal gains none.
    expect(report.maxListeners).toEqual([1, 1, 0]);
    // Stated bound: under 100 bytes per snapshot on average (the loops once kept ~1.5 KB).
    expect(report.heapGrowth).toBeLessThan(2 * SNAPSHOTS * 100);
    expect(client.watchCount).toBe(0);
    // About 30 s on a quiet machine; under the full suite's load it has taken close to 60 s.
  }, 150_000);
});
