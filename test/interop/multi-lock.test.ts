import { MultiLock } from '@zkit/lock';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { childrenOrNone as children, withCuratorAgent as withAgent } from './helpers.js';

// Curator's InterProcessMultiLock and zkit's MultiLock are both made of mutexes in the mutex
// layout: on overlapping paths, neither is granted while the other holds a shared part, and a
// multi-lock that gives up leaves nothing on the parts it did take.

test("interop - zkit's MultiLock and Curator's InterProcessMultiLock exclude each other on a shared part", async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    // Curator holds a and b: zkit's b + c cannot be had, and its c is given back on the timeout.
    await agent.send('multilock.acquire', '/ml/a,/ml/b', 10_000);
    const zkitLock = new MultiLock(client, ['/ml/c', '/ml/b']);
    await expect(zkitLock.acquire({ timeout: 500 })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(await children(client, '/ml/c')).toEqual([]);
    expect(await children(client, '/ml/b')).toHaveLength(1);

    // zkit waits behind Curator and is granted only once Curator has released.
    let curatorHolds = true;
    let grantedWhileCuratorHeld: boolean | undefined;
    const acquiring = zkitLock.acquire({ timeout: 30_000 }).then((lease) => {
      grantedWhileCuratorHeld = curatorHolds;
      return lease;
    });
    await waitFor(async () => (await children(client, '/ml/b')).length === 2, {
      message: "zkit's node to queue behind Curator's on the shared part",
    });
    expect(grantedWhileCuratorHeld).toBeUndefined();
    curatorHolds = false;
    await agent.send('multilock.release', '/ml/a,/ml/b');
    const lease = await acquiring;
    expect(grantedWhileCuratorHeld).toBe(false);
    expect(lease.leases).toHaveLength(2);

    // The other way round: Curator's a + c waits for zkit's c.
    let zkitHolds = true;
    let grantedWhileZkitHeld: boolean | undefined;
    const curatorAcquiring = agent.send('multilock.acquire', '/ml/a,/ml/c', 30_000).then(() => {
      grantedWhileZkitHeld = zkitHolds;
    });
    await waitFor(async () => (await children(client, '/ml/c')).length === 2, {
      message: "Curator's node to queue behind zkit's on the shared part",
    });
    expect(grantedWhileZkitHeld).toBeUndefined();
    zkitHolds = false;
    await lease.release();
    await curatorAcquiring;
    expect(grantedWhileZkitHeld).toBe(false);
    await agent.send('multilock.release', '/ml/a,/ml/c');
    for (const part of ['/ml/a', '/ml/b', '/ml/c'])
      expect(await children(client, part)).toEqual([]);
  });
});
