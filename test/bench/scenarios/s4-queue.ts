import type { ZkClient } from '@zkit/core';
import { Queue, stringSerializer } from '@zkit/queue';
import { rate } from '../report.js';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { payload } from '../scenario.js';

/** SCENARIOS.md "Bounded waits": queue drain 300 s. */
const DRAIN_MS = 300_000;
const CONSUMERS = 4;

type Mode = 'take' | 'consume';

/**
 * S4: one producer puts N 16-byte items one after another (item 0 untimed); then 4 consumers on
 * their own sessions drain the queue. S4a and S4b use `take()` (at-most-once; zkit has one
 * get-then-delete queue, so S4b measures the same path as S4a), S4c `consume()` with claims
 * under a lock path, acking each item. Exactly-once check as SCENARIOS.md §S4.
 */
function s4(name: string, title: string, base: string, n: number, mode: Mode): Scenario {
  return {
    name,
    title,
    async run(ctx: ScenarioContext) {
      const items = ctx.param('items', ctx.count(n, 50));
      const path = `${base}/queue`;
      const lockPath = `${base}/locks`;
      const producerClient = await ctx.client();
      const producer = new Queue(producerClient, path, { serializer: stringSerializer, lockPath });
      await producer.put(payload(0));
      const produce = await ctx.section('produce', items - 1, async () => {
        for (let i = 1; i < items; i++) await producer.put(payload(i));
      });
      ctx.row('produce items/s', rate((items - 1) / produce.wall_s, 'items'), produce.mntr);

      const clients: ZkClient[] = [];
      for (let c = 0; c < CONSUMERS; c++) clients.push(await ctx.client());
      const queues = clients.map(
        (c) => new Queue(c, path, { serializer: stringSerializer, lockPath }),
      );
      const counts = new Uint32Array(items);
      let distinct = 0;
      let malformed = 0;
      let done: () => void = () => undefined;
      const allSeen = new Promise<void>((resolve) => (done = resolve));
      const receive = (value: string): void => {
        const i = /^\d{16}$/.test(value) ? Number(value) : -1;
        if (i < 0 || i >= items) {
          malformed++;
          return;
        }
        const count = (counts[i] ?? 0) + 1;
        counts[i] = count;
        if (count === 1 && ++distinct === items) done();
      };
      const stop = new AbortController();
      const run = async (queue: Queue<string>): Promise<void> => {
        try {
          if (mode === 'take') {
            for (;;) receive(await queue.take({ signal: stop.signal }));
          }
          for await (const msg of queue.consume({ signal: stop.signal, concurrency: 8 })) {
            receive(msg.value);
            void msg.ack().catch(() => undefined);
          }
        } catch (error) {
          if (!stop.signal.aborted) throw error;
        }
      };
      let workers: Promise<void>[] = [];
      const consume = await ctx.section('consume', items, () =>
        ctx.bounded('queue drain', DRAIN_MS, async (signal) => {
          signal.addEventListener('abort', () => stop.abort(), { once: true });
          workers = queues.map((q) => run(q));
          await Promise.race([allSeen, ...workers.map((w) => w.then(() => allSeen))]);
        }),
      );
      // Late duplicates, then stop the consumers (in-flight acks finish first).
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop.abort();
      await Promise.all(workers);
      await Promise.all(queues.map((q) => q.close()));
      const missing = counts.reduce((m, c) => m + (c === 0 ? 1 : 0), 0);
      const duplicates = counts.reduce((d, c) => d + (c > 1 ? c - 1 : 0), 0);
      const left = await producer.size();
      ctx.row('consume items/s', rate(items / consume.wall_s, 'items'), consume.mntr);
      ctx.row(
        'missing / duplicates / malformed / left',
        `${missing} / ${duplicates} / ${malformed} / ${left}`,
      );
      return {
        produce_items_per_s: (items - 1) / produce.wall_s,
        consume_items_per_s: items / consume.wall_s,
        missing,
        duplicates,
        malformed,
        exactly_once: missing === 0 && duplicates === 0 && malformed === 0,
        left_in_queue: left,
      };
    },
  };
}

export const s4a = s4('S4a', 'queue: take(), 4 consumers', '/bench/s4a', 5000, 'take');
export const s4b = s4('S4b', 'queue: take() (same path as S4a)', '/bench/s4b', 5000, 'take');
export const s4c = s4('S4c', 'queue: consume() with claims, ack', '/bench/s4c', 2000, 'consume');
