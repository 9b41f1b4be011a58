import { Queue, stringSerializer } from '@zkit/queue';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { childrenOrNone as children, withCuratorAgent as withAgent } from './helpers.js';

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

test('interop - zkit and Curator consumers share one lock path: every item consumed exactly once', async ({
  zk,
}) => {
  const client = await zk.client();
  const total = 120;
  const queue = new Queue(client, '/q/shared', {
    serializer: stringSerializer,
    lockPath: '/q/shared-claims',
  });
  const items = Array.from({ length: total }, (_, i) => `item-${String(i).padStart(3, '0')}`);
  await withAgent(zk.connectString, async (agent) => {
    await agent.send('queue.consume', '/q/shared', '/q/shared-claims');
    const byCurator: string[] = [];
    const byZkit: string[] = [];
    const stop = new AbortController();
    const consuming = (async () => {
      for await (const msg of queue.consume({ signal: stop.signal, concurrency: 2 })) {
        byZkit.push(msg.value);
        await msg.ack();
      }
    })();
    // Both consumers are running before the first item arrives, so both get a share.
    for (const item of items) await queue.put(item);
    // Every item is consumed by one side or the other; Curator reports each of its own.
    await waitFor(
      async () => {
        for (;;) {
          const event = await agent.next('consumed', { timeout: 50 }).catch(() => undefined);
          if (!event) break;
          byCurator.push(event.item as string);
        }
        return byCurator.length + byZkit.length >= total && (await queue.size()) === 0;
      },
      { timeout: 30_000, message: 'both consumers to drain the queue' },
    );
    // Claims go right after their items (Curator deletes its own a moment after the item, and
    // stopping its queue in that moment would leave the claim with its session): both
    // consumers are still running here.
    await waitFor(async () => (await children(client, '/q/shared-claims')).length === 0, {
      timeout: 5_000,
      message: 'every claim to be deleted',
    });
    stop.abort();
    await consuming;
    await agent.send('queue.stop', '/q/shared');

    const all = [...byCurator, ...byZkit].sort();
    expect(all).toEqual(items);
    expect(byZkit.length).toBeGreaterThan(0);
    expect(byCurator.length).toBeGreaterThan(0);
    // Stopping both consumers left nothing behind either.
    expect(await children(client, '/q/shared-claims')).toEqual([]);
  });
});

test('interop - Curator consumes once an item whose zkit put lost its reply', async ({ zk }) => {
  const proxy = await zk.proxy();
  // The test server allows sessions of at most 2 s.
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
  const queue = new Queue(client, '/q/lost', { serializer: stringSerializer });
  await queue.put('before');
  // The create goes out on a link that goes dark; the client gives the connection up, the link
  // comes back and delivers the create, and its reply goes to the closed connection.
  const healOnSuspend = (now: string) => {
    if (now === 'suspended') proxy.heal();
  };
  client.on('state', healOnSuspend);
  proxy.partition();
  try {
    await queue.put('lost reply');
  } finally {
    client.off('state', healOnSuspend);
    proxy.heal();
  }
  await queue.put('after');
  // One node per put: the lost reply queued nothing twice.
  expect(await queue.size()).toBe(3);
  await withAgent(zk.connectString, async (agent) => {
    await agent.send('queue.consume', '/q/lost');
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      got.push((await agent.next('consumed', { timeout: 15_000 })).item as string);
    }
    expect(got).toEqual(['before', 'lost reply', 'after']);
    await waitFor(async () => (await queue.size()) === 0, {
      timeout: 10_000,
      message: 'Curator to delete the items it consumed',
    });
    await agent.send('queue.stop', '/q/lost');
  });
});
