import { DelayQueue, IdQueue, stringSerializer } from '@zkit/queue';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { withCuratorAgent as withAgent } from './helpers.js';

// Curator's DistributedDelayQueue and DistributedIdQueue against zkit's DelayQueue and IdQueue
// on the same paths, both directions. One Curator process for the file (a JVM start is the
// expensive part), so the checks share one test.

test("interop - delay and id queues: zkit and Curator read each other's due times and ids", async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    // Curator puts delayed items; zkit takes each at its due time, earliest first.
    const fromCurator = new DelayQueue(client, '/d/curator', { serializer: stringSerializer });
    const now = Date.now();
    await agent.send('dqueue.put', '/d/curator', now + 900, 'later');
    await agent.send('dqueue.put', '/d/curator', now + 300, 'sooner');
    expect(await fromCurator.take({ timeout: 10_000 })).toBe('sooner');
    expect(Date.now()).toBeGreaterThanOrEqual(now + 300);
    expect(await fromCurator.take({ timeout: 10_000 })).toBe('later');
    expect(Date.now()).toBeGreaterThanOrEqual(now + 900);

    // zkit puts delayed items; Curator's consumer delivers each at its due time.
    const toCurator = new DelayQueue(client, '/d/zkit', { serializer: stringSerializer });
    const start = Date.now();
    await toCurator.put('z-later', { until: start + 900 });
    await toCurator.put('z-sooner', { until: start + 300 });
    await agent.send('dqueue.consume', '/d/zkit');
    const first = await agent.next('consumed', { timeout: 15_000 });
    const second = await agent.next('consumed', { timeout: 15_000 });
    expect([first.item, second.item]).toEqual(['z-sooner', 'z-later']);
    expect(first.at as number).toBeGreaterThanOrEqual(start + 300);
    expect(second.at as number).toBeGreaterThanOrEqual(start + 900);
    await agent.send('dqueue.stop', '/d/zkit');

    // Curator puts items with ids; zkit removes one id and takes the rest in put order.
    const ids = new IdQueue(client, '/i/curator', { serializer: stringSerializer });
    await agent.send('idqueue.put', '/i/curator', 'a', 'a1');
    await agent.send('idqueue.put', '/i/curator', 'b', 'b1');
    await agent.send('idqueue.put', '/i/curator', 'a', 'a2');
    await agent.send('idqueue.put', '/i/curator', 'c', 'c1');
    expect(await ids.remove('a')).toBe(2);
    expect(await ids.drain()).toEqual(['b1', 'c1']);

    // zkit puts items with ids; Curator removes one id and consumes the rest in put order.
    const toIds = new IdQueue(client, '/i/zkit', { serializer: stringSerializer });
    await toIds.put('x1', { id: 'x' });
    await toIds.put('y1', { id: 'y' });
    await toIds.put('x2', { id: 'x' });
    await toIds.putMany(['z1', 'z2'], { id: 'z' });
    expect((await agent.send('idqueue.remove', '/i/zkit', 'x')).removed).toBe(2);
    await agent.send('idqueue.consume', '/i/zkit');
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) got.push((await agent.next('consumed', { timeout: 15_000 })).item);
    expect(got).toEqual(['y1', 'z1', 'z2']);
    await agent.send('idqueue.stop', '/i/zkit');
    expect(await toIds.size()).toBe(0);
  });
});
