import { NoNodeError, type ZkClient } from '@zkit/core';
import { Mutex, ReadWriteLock } from '@zkit/lock';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { startCuratorAgent, type CuratorAgent } from './curator-agent.js';

// zkit and Curator 5 on the same lock paths must exclude each other. Each test records, at the
// moment a side is granted the lock, whether the other side still held it: that must never be.

async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return await client.getChildren(path);
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
}

async function withAgent(
  connectString: string,
  body: (agent: CuratorAgent) => Promise<void>,
): Promise<void> {
  const agent = await startCuratorAgent(connectString);
  try {
    await body(agent);
  } finally {
    await agent.close();
  }
}

test('interop - a zkit Mutex waits while Curator holds the lock and takes it on release', async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    await agent.send('mutex.acquire', '/locks/shared', 10_000);
    let curatorHolds = true;
    let grantedWhileCuratorHeld: boolean | undefined;
    const acquiring = new Mutex(client, '/locks/shared').acquire({ timeout: 30_000 }).then((l) => {
      grantedWhileCuratorHeld = curatorHolds;
      return l;
    });

    // The zkit waiter is queued behind Curator's node (Curator's own listing sees it).
    const queued = await waitFor(
      async () => {
        const { participants } = await agent.send('participants', '/locks/shared');
        return (participants as string[]).length === 2 && (participants as string[]);
      },
      { message: 'the zkit waiter to queue behind Curator' },
    );
    expect(grantedWhileCuratorHeld).toBeUndefined();

    curatorHolds = false;
    await agent.send('mutex.release', '/locks/shared');
    const lease = await acquiring;
    expect(grantedWhileCuratorHeld).toBe(false);
    expect(queued[1]).toBe(lease.path);
    await lease.release();
    expect(await children(client, '/locks/shared')).toEqual([]);
  });
});

test('interop - Curator waits while a zkit Mutex holds the lock and takes it on release', async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const lease = await new Mutex(client, '/locks/shared').acquire({ timeout: 10_000 });
    let zkitHolds = true;
    let grantedWhileZkitHeld: boolean | undefined;
    const acquiring = agent.send('mutex.acquire', '/locks/shared', 30_000).then((ack) => {
      grantedWhileZkitHeld = zkitHolds;
      return ack;
    });

    await waitFor(async () => (await children(client, '/locks/shared')).length === 2, {
      message: "Curator's node to queue behind ours",
    });
    // Curator sorts our node first: it is the holder in Curator's eyes too.
    const { participants } = await agent.send('participants', '/locks/shared');
    expect((participants as string[])[0]).toBe(lease.path);
    expect(grantedWhileZkitHeld).toBeUndefined();

    zkitHolds = false;
    await lease.release();
    const ack = await acquiring;
    expect(grantedWhileZkitHeld).toBe(false);
    expect(await children(client, '/locks/shared')).toEqual([
      (ack['node'] as string).slice('/locks/shared/'.length),
    ]);
    await agent.send('mutex.release', '/locks/shared');
  });
});

test('interop - zkit and Curator readers share a read-write lock while a Curator writer waits for both', async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const rw = new ReadWriteLock(client, '/locks/rw');
    const zkitRead = await rw.readLock.acquire({ timeout: 10_000 });
    // A Curator reader is let in beside the zkit reader.
    await agent.send('rwlock.read.acquire', '/locks/rw', 10_000, 'reader');

    let readersHold = 2;
    let readersAtGrant: number | undefined;
    const writing = agent.send('rwlock.write.acquire', '/locks/rw', 30_000, 'writer').then((a) => {
      readersAtGrant = readersHold;
      return a;
    });
    await waitFor(async () => (await children(client, '/locks/rw')).length === 3, {
      message: "the Curator writer's node",
    });
    const { readers, writers } = await agent.send('rwlock.participants', '/locks/rw');
    expect(readers).toHaveLength(2);
    expect(writers).toHaveLength(1);
    expect(readers).toContain(zkitRead.path);

    readersHold -= 1;
    await zkitRead.release();
    expect(readersAtGrant).toBeUndefined();
    readersHold -= 1;
    await agent.send('rwlock.read.release', '/locks/rw', 'reader');
    await writing;
    expect(readersAtGrant).toBe(0);

    // And a zkit writer now waits for the Curator writer.
    let curatorWrites = true;
    let grantedWhileCuratorWrote: boolean | undefined;
    const zkitWriting = rw.writeLock.acquire({ timeout: 30_000 }).then((l) => {
      grantedWhileCuratorWrote = curatorWrites;
      return l;
    });
    await waitFor(async () => (await children(client, '/locks/rw')).length === 2, {
      message: "the zkit writer's node",
    });
    curatorWrites = false;
    await agent.send('rwlock.write.release', '/locks/rw', 'writer');
    const zkitWrite = await zkitWriting;
    expect(grantedWhileCuratorWrote).toBe(false);
    await zkitWrite.release();
  });
});
