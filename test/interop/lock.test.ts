import { Mutex, ReadWriteLock } from '@zkit/lock';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { childrenOrNone as children, withCuratorAgent as withAgent } from './helpers.js';

// zkit and Curator 5 on the same lock paths must exclude each other. Each test records, at the
// moment a side is granted the lock, whether the other side still held it: that must never be.

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

test('interop - a zkit reader waits for a Curator writer, a Curator reader for a zkit writer', async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const rw = new ReadWriteLock(client, '/locks/rw');
    await agent.send('rwlock.write.acquire', '/locks/rw', 10_000, 'writer');
    let curatorWrites = true;
    let grantedWhileCuratorWrote: boolean | undefined;
    const reading = rw.readLock.acquire({ timeout: 30_000 }).then((l) => {
      grantedWhileCuratorWrote = curatorWrites;
      return l;
    });
    await waitFor(async () => (await children(client, '/locks/rw')).length === 2, {
      message: "the zkit reader's node",
    });
    expect(grantedWhileCuratorWrote).toBeUndefined();
    curatorWrites = false;
    await agent.send('rwlock.write.release', '/locks/rw', 'writer');
    const zkitRead = await reading;
    expect(grantedWhileCuratorWrote).toBe(false);
    await zkitRead.release();

    const zkitWrite = await rw.writeLock.acquire({ timeout: 10_000 });
    let zkitWrites = true;
    let grantedWhileZkitWrote: boolean | undefined;
    const curatorReading = agent
      .send('rwlock.read.acquire', '/locks/rw', 30_000, 'reader')
      .then((a) => {
        grantedWhileZkitWrote = zkitWrites;
        return a;
      });
    await waitFor(async () => (await children(client, '/locks/rw')).length === 2, {
      message: "the Curator reader's node",
    });
    expect(grantedWhileZkitWrote).toBeUndefined();
    zkitWrites = false;
    await zkitWrite.release();
    await curatorReading;
    expect(grantedWhileZkitWrote).toBe(false);
    await agent.send('rwlock.read.release', '/locks/rw', 'reader');
    expect(await children(client, '/locks/rw')).toEqual([]);
  });
});

test('interop - a queue of zkit and Curator waiters is served in arrival order', async ({ zk }) => {
  const [a, b] = await Promise.all([zk.client(), zk.client()]);
  await withAgent(zk.connectString, async (agent) => {
    const path = '/locks/queue';
    const order: string[] = [];
    let holders = 0;
    let maxHolders = 0;
    const enter = (who: string) => {
      holders += 1;
      maxHolders = Math.max(maxHolders, holders);
      order.push(who);
    };
    const first = await new Mutex(a, path).acquire();
    enter('zkit-1');
    // Curator queues second, a zkit waiter third, Curator again fourth.
    const curator2 = agent.send('mutex.acquire', path, 30_000, 'c2').then(() => enter('curator-2'));
    await waitFor(async () => (await children(a, path)).length === 2);
    const zkit3 = new Mutex(b, path).acquire({ timeout: 30_000 }).then((l) => {
      enter('zkit-3');
      return l;
    });
    await waitFor(async () => (await children(a, path)).length === 3);
    const curator4 = agent.send('mutex.acquire', path, 30_000, 'c4').then(() => enter('curator-4'));
    await waitFor(async () => (await children(a, path)).length === 4);

    holders -= 1;
    await first.release();
    await curator2;
    holders -= 1;
    await agent.send('mutex.release', path, 'c2');
    const third = await zkit3;
    holders -= 1;
    await third.release();
    await curator4;
    holders -= 1;
    await agent.send('mutex.release', path, 'c4');

    expect(order).toEqual(['zkit-1', 'curator-2', 'zkit-3', 'curator-4']);
    expect(maxHolders).toBe(1);
    expect(await children(a, path)).toEqual([]);
  });
});

test("interop - Curator takes the lock when a zkit holder's session expires", async ({ zk }) => {
  const client = await zk.client({ sessionTimeout: 2000 });
  await withAgent(zk.connectString, async (agent) => {
    const path = '/locks/expiry';
    const lease = await new Mutex(client, path).acquire();
    const signal = lease.signal;
    const curator = agent.send('mutex.acquire', path, 30_000);
    await waitFor(async () => (await children(client, path)).length === 2);
    await expireSession(client);
    expect(signal.aborted).toBe(true);
    const { node } = await curator;
    // The old holder's release does not touch Curator's node.
    await lease.release();
    const { participants } = await agent.send('participants', path);
    expect(participants).toEqual([node]);
    await agent.send('mutex.release', path);
  });
});
