import { probeIterables } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { Queue, type Message } from '../src/index.js';

/**
 * Items consumed: 20 000 took about 12 s on a shared 2-core machine (50 000 would take about
 * 30 s). The bound below is stated per item.
 */
const ITEMS = 20_000;
/** Items put ahead of the consumer: enough to keep 32 claims busy, few enough to list cheaply. */
const AHEAD = 256;

test('queue - consume({ concurrency: 32 }) keeps a flat heap and adds no listener over many items', async ({
  zk,
}) => {
  const client = await zk.client();
  const producer = await zk.client();
  const queue = new Queue<number>(client, '/jobs');
  const source = new Queue<number>(producer, '/jobs');
  const stop = new AbortController();
  let done = false;
  let put = 0;
  let acked = 0;
  let credit: (() => void) | undefined;
  // Puts in pipelined batches, never more than AHEAD items past the last ack.
  const produce = async () => {
    while (!done) {
      if (put - acked >= AHEAD) {
        await new Promise<void>((resolve) => (credit = resolve));
        continue;
      }
      const batch = Array.from({ length: 32 }, () => source.put(put++));
      await Promise.all(batch);
    }
  };
  const [report] = await Promise.all([
    probeIterables([queue.consume({ signal: stop.signal, concurrency: 32 })], {
      count: ITEMS,
      signals: () => [stop.signal, client.sessionSignal()],
      onValue: (msg) => {
        void (msg as Message<number>).ack().then(() => {
          acked += 1;
          credit?.();
        });
      },
    }).finally(() => {
      done = true;
      credit?.();
    }),
    produce(),
  ]);
  expect(report.listenerWarnings).toEqual([]);
  // At most one listener on each, however many waits: the caller's signal carries the one
  // shared by every signal combined from it, the session signal the one shared by the acks in
  // flight (each release is bounded by its claim's session).
  expect(report.maxListeners).toEqual([1, 1]);
  // Stated bound: under 100 bytes per item on average.
  expect(report.heapGrowth).toBeLessThan(ITEMS * 100);
});
