import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { expireSession, waitFor } from '@zkit/testing';
import {
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  Perms,
  type ZkClient,
} from '@zkit/core';
import {
  GroupClosedError,
  PartitionFailedError,
  SetPartitioner,
  kazooPartition,
  type PartitionState,
} from '../src/index.js';

const ITEMS = ['s0', 's1', 's2', 's3', 's4', 's5'];

/**
 * Watches several partitioners: every time one reaches `acquired`, checks that no item is held
 * by two of them whose shares are still valid, and that whoever calls `release` gets it.
 */
class Observer {
  overlaps = 0;
  readonly states = new Map<SetPartitioner, PartitionState[]>();

  watch(p: SetPartitioner, autoRelease = true): void {
    this.states.set(p, []);
    p.on('state', (now) => {
      this.states.get(p)!.push(now);
      if (now === 'acquired') this.check();
      if (now === 'release' && autoRelease) void p.release();
    });
  }

  check(): void {
    const owner = new Map<string, SetPartitioner>();
    for (const p of this.states.keys()) {
      if (p.state !== 'acquired') continue;
      for (const item of p.items) {
        if (owner.has(item)) this.overlaps++;
        owner.set(item, p);
      }
    }
  }

  /** Whether the acquired shares of `ps` are a partition of ITEMS. */
  partitioned(ps: SetPartitioner[]): boolean {
    if (!ps.every((p) => p.state === 'acquired')) return false;
    const all = ps.flatMap((p) => [...p.items]).sort();
    return JSON.stringify(all) === JSON.stringify([...ITEMS].sort());
  }
}

describe('set partitioner', () => {
  test('set partitioner - bad input is refused before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new SetPartitioner(client, 'x', ITEMS)).toThrow(InvalidPathError);
    expect(() => new SetPartitioner(client, '/x', ['a/b'])).toThrow(InvalidPathError);
    expect(() => new SetPartitioner(client, '/x', [7 as never])).toThrow(InvalidArgumentError);
    expect(() => new SetPartitioner(client, '/x', 5 as never)).toThrow(InvalidArgumentError);
    expect(() => new SetPartitioner(client, '/x', ITEMS, { identifier: 'a/b' })).toThrow(
      InvalidPathError,
    );
    expect(() => new SetPartitioner(client, '/x', ITEMS, { timeBoundary: -1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new SetPartitioner(client, '/x', ITEMS, { partition: 1 as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new SetPartitioner({} as ZkClient, '/x', ITEMS)).toThrow(InvalidArgumentError);
    const p = new SetPartitioner(client, '/x', ITEMS);
    await expect(p.whenAcquired({ timeout: 0.5 })).rejects.toThrow(InvalidArgumentError);
    expect(await client.exists('/x')).toBeNull();
    await p.close();
    expect(() => p.start()).toThrow(GroupClosedError);
    await expect(p.whenAcquired()).rejects.toThrow(GroupClosedError);
  });

  test("set partitioner - kazoo's division: sorted items, every n-th from the member's index", () => {
    expect(kazooPartition('b', ['c', 'a', 'b'], ['i5', 'i0', 'i1', 'i2', 'i3', 'i4'])).toEqual([
      'i1',
      'i4',
    ]);
    expect(kazooPartition('z', ['a'], ['x'])).toEqual([]);
  });

  test('set partitioner - members divide the set, and divide it again when one joins and one leaves', async ({
    zk,
  }) => {
    const observer = new Observer();
    const make = async (id: string) => {
      const p = new SetPartitioner(await zk.client(), '/work', ITEMS, {
        identifier: id,
        timeBoundary: 100,
      });
      observer.watch(p);
      p.start();
      return p;
    };
    const a = await make('a');
    const b = await make('b');
    await waitFor(() => observer.partitioned([a, b]), { message: 'a and b to divide the set' });
    expect([...a.items]).toEqual(['s0', 's2', 's4']);
    expect((await a.whenAcquired()).items).toEqual(a.items);

    const c = await make('c');
    await waitFor(() => observer.partitioned([a, b, c]), { message: 'a, b, c to divide the set' });
    expect([...c.items]).toEqual(['s2', 's5']);
    // Each went through release and allocation again.
    expect(observer.states.get(a)).toEqual(['acquired', 'release', 'allocating', 'acquired']);

    await b.close();
    expect(b.state).toBe('closed');
    await waitFor(() => observer.partitioned([a, c]), { message: 'a and c to divide the set' });
    expect(observer.overlaps).toBe(0);
    // The lock layout is kazoo's: path/locks/<item>/<32 hex>__lock__<seq>.
    const client = await zk.client();
    const [node] = await client.getChildren(`/work/locks/${a.items[0]}`);
    expect(node).toMatch(/^[0-9a-f]{32}__lock__\d{10}$/);
    const party = await client.getChildren('/work/party');
    expect(party.map((n) => n.replace(/^[0-9a-f]{32}-/, '')).sort()).toEqual(['a', 'c']);
    for (const n of party) expect(n).toMatch(/^[0-9a-f]{32}-[ac]$/);
    await a.close();
    await c.close();
    for (const item of ITEMS) expect(await client.getChildren(`/work/locks/${item}`)).toEqual([]);
    expect(await client.getChildren('/work/party')).toEqual([]);
    for (const p of [a, b, c]) expect(p.client.watchCount).toBe(0);
  });

  test('set partitioner - an item stays locked until its holder releases it', async ({ zk }) => {
    const observer = new Observer();
    const a = new SetPartitioner(await zk.client(), '/slow', ITEMS, {
      identifier: 'a',
      timeBoundary: 100,
    });
    observer.watch(a, false);
    a.start();
    const share = await a.whenAcquired({ timeout: 20_000 });
    expect(share.items).toEqual(ITEMS);
    const b = new SetPartitioner(await zk.client(), '/slow', ITEMS, {
      identifier: 'b',
      timeBoundary: 100,
    });
    observer.watch(b);
    b.start();
    await waitFor(() => a.state === 'release', { message: 'a to be told to release' });
    expect(share.signal.aborted).toBe(true);
    // b cannot hold its share while a has not released: a still holds every lock.
    await waitFor(async () => (await b.client.getChildren('/slow/locks/s1')).length === 2, {
      message: 'b to queue for s1',
    });
    expect(b.state).toBe('allocating');
    await a.release();
    await waitFor(() => observer.partitioned([a, b]), { message: 'a and b to divide the set' });
    expect(observer.overlaps).toBe(0);
    await a.close();
    await b.close();
  });

  test('set partitioner - a dropped connection or an expired session ends the share, which is taken again', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const flaky = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const observer = new Observer();
    const a = new SetPartitioner(flaky, '/faults', ITEMS, { identifier: 'a', timeBoundary: 100 });
    const b = new SetPartitioner(await zk.client(), '/faults', ITEMS, {
      identifier: 'b',
      timeBoundary: 100,
    });
    observer.watch(a);
    observer.watch(b);
    a.start();
    b.start();
    await waitFor(() => observer.partitioned([a, b]), { message: 'a and b to divide the set' });
    const first = await a.whenAcquired();

    proxy.drop();
    await waitFor(() => first.signal.aborted, { message: "a's share to end on the drop" });
    await waitFor(() => observer.partitioned([a, b]), { message: 'the set divided again' });

    const second = await a.whenAcquired();
    await expireSession(flaky);
    expect(second.signal.aborted).toBe(true);
    await waitFor(() => observer.partitioned([a, b]) && a.client.state === 'reconnected', {
      timeout: 20_000,
      message: 'the set divided again after the expiry',
    });
    expect(observer.overlaps).toBe(0);
    await a.close();
    await b.close();
  });

  test('set partitioner - a party it may not join ends in failure, and leaves nothing behind', async ({
    zk,
  }) => {
    const owner = await zk.client({ auth: [{ scheme: 'digest', credentials: 'ops:pw' }] });
    await owner.create('/locked', '', { acl: [{ perms: Perms.all, scheme: 'auth', id: '' }] });
    const stranger = await zk.client();
    const p = new SetPartitioner(stranger, '/locked/work', ITEMS, { identifier: 'x' });
    const states: string[] = [];
    p.on('state', (now) => states.push(now));
    p.start();
    const error = await p.whenAcquired({ timeout: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartitionFailedError);
    expect((error as PartitionFailedError).cause).toBeInstanceOf(NoAuthError);
    expect(p.state).toBe('failure');
    expect(p.failure).toBe(error);
    expect(states).toEqual(['failure']);
    await p.close();
    expect(await owner.getChildren('/locked')).toEqual([]);
    // Lets the fixture remove the test's nodes.
    await owner.setAcl('/locked', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
  });
});
