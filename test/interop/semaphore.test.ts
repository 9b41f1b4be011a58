import { Semaphore } from '@zkit/lock';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { CuratorAgentError } from './curator-agent.js';
import { childrenOrNone as children, withCuratorAgent as withAgent } from './helpers.js';

// zkit's Semaphore and Curator's InterProcessSemaphoreV2 on one path share the same permits:
// `path/locks` serialises acquirers, `path/leases` holds one node per lease. Each test counts the
// leases held on both sides at every grant; it must never exceed the permits.

test('interop - zkit and Curator leases count against the same permits', async ({ zk }) => {
  const client = await zk.client();
  const slots = new Semaphore(client, '/limits/api', 2);
  await withAgent(zk.connectString, async (agent) => {
    let held = 0;
    let most = 0;
    const granted = () => {
      held++;
      most = Math.max(most, held);
    };

    await agent.send('semaphore.acquire', '/limits/api', 2, 10_000);
    granted();
    const first = await slots.acquire({ timeout: 10_000 });
    granted();
    expect(await children(client, '/limits/api/leases')).toHaveLength(2);

    // Both permits are taken: a third acquirer waits inside the acquirers' mutex.
    let curatorReleased = false;
    let grantedBeforeRelease: boolean | undefined;
    const third = slots.acquire({ timeout: 30_000 }).then((lease) => {
      grantedBeforeRelease = !curatorReleased;
      granted();
      return lease;
    });
    await waitFor(async () => (await children(client, '/limits/api/locks')).length === 1, {
      message: 'the third acquirer to wait on the leases',
    });
    expect(grantedBeforeRelease).toBeUndefined();

    curatorReleased = true;
    held--;
    await agent.send('semaphore.release', '/limits/api');
    const lease = await third;
    expect(grantedBeforeRelease).toBe(false);
    expect(most).toBe(2);
    expect(await children(client, '/limits/api/leases')).toHaveLength(2);

    await Promise.all([first.release(), lease.release()]);
    expect(await children(client, '/limits/api/leases')).toEqual([]);
  });
});

test('interop - Curator waits for a permit that zkit holds and gets it on release', async ({
  zk,
}) => {
  const client = await zk.client();
  const slots = new Semaphore(client, '/limits/db', 2);
  await withAgent(zk.connectString, async (agent) => {
    const leases = [await slots.acquire(), await slots.acquire()];

    // Every permit is held by zkit: Curator's bounded attempt must give up, leaving no lease.
    const refused = await agent.send('semaphore.acquire', '/limits/db', 2, 300).catch((e) => e);
    expect(refused).toBeInstanceOf(CuratorAgentError);
    expect((refused as CuratorAgentError).type).toBe('timeout');
    expect(await children(client, '/limits/db/leases')).toHaveLength(2);

    let zkitReleased = false;
    let grantedBeforeRelease: boolean | undefined;
    const curator = agent.send('semaphore.acquire', '/limits/db', 2, 30_000).then((ack) => {
      grantedBeforeRelease = !zkitReleased;
      return ack;
    });
    await waitFor(async () => (await children(client, '/limits/db/locks')).length === 1, {
      message: "Curator's acquirer to wait on the leases",
    });
    expect(grantedBeforeRelease).toBeUndefined();

    zkitReleased = true;
    await leases[0]!.release();
    const ack = await curator;
    expect(grantedBeforeRelease).toBe(false);
    const names = await children(client, '/limits/db/leases');
    expect(names).toHaveLength(2);
    expect(names).toContain((ack['node'] as string).split('/').pop());

    await agent.send('semaphore.release', '/limits/db');
    await leases[1]!.release();
    expect(await children(client, '/limits/db/leases')).toEqual([]);
  });
});
