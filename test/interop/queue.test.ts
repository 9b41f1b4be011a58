import { Queue, stringSerializer } from '@zkit/queue';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { withCuratorAgent as withAgent } from './helpers.js';

// Curator's DistributedQueue and zkit's Queue on the same path: same node names, same item
// framing, so items flow both ways; priorities sort the same.

test("interop - a zkit consumer takes a Curator producer's items in order", async ({ zk }) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    for (let i = 0; i < 5; i++) await agent.send('queue.put', '/q/jobs', `job-${i}`);
    const queue = new Queue(client, '/q/jobs', { serializer: stringSerializer });
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(await queue.take({ timeout: 10_000 }));
    expect(got).toEqual(['job-0', 'job-1', 'job-2', 'job-3', 'job-4']);
    expect(await queue.size()).toBe(0);
  });
});

test("interop - Curator consumes a zkit producer's items, including a multi-item node", async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const queue = new Queue(client, '/q/work', { serializer: stringSerializer });
    await queue.put('a');
    await queue.putMany(['b', 'c']);
    await queue.put('d');
    await agent.send('queue.consume', '/q/work');
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      got.push((await agent.next('consumed', { timeout: 15_000 })).item as string);
    }
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    await agent.send('queue.stop', '/q/work');
    expect(await queue.size()).toBe(0);
  });
});

test("interop - a zkit consumer follows Curator's priority order", async ({ zk }) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const puts: [number, string][] = [
      [5, 'five'],
      [-3, 'minus-three'],
      [0, 'zero'],
      [5, 'five-again'],
    ];
    for (const [priority, item] of puts) await agent.send('pqueue.put', '/q/prio', priority, item);
    const queue = new Queue(client, '/q/prio', { serializer: stringSerializer });
    await queue.put('minus-ten', { priority: -10 });
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(await queue.take({ timeout: 10_000 }));
    expect(got).toEqual(['minus-ten', 'minus-three', 'zero', 'five', 'five-again']);
  });
});
