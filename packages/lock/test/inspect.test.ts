import { InvalidArgumentError, InvalidPathError, defaultNodeData } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import {
  Mutex,
  ReadWriteLock,
  Semaphore,
  detectLockKind,
  inspectLock,
  inspectReadWriteLock,
  inspectSemaphore,
} from '../src/index.js';

describe('inspectLock', () => {
  test('inspectLock - a bad path is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => inspectLock(client, '/')).toThrow(InvalidPathError);
    expect(() => inspectLock(client, 'no-slash')).toThrow(InvalidPathError);
  });

  test('inspectLock - null for a missing path, no holder for an empty lock', async ({ zk }) => {
    const client = await zk.client();
    expect(await inspectLock(client, '/locks/missing')).toBeNull();
    await client.ensurePath('/locks/empty');
    expect(await inspectLock(client, '/locks/empty')).toEqual({
      path: '/locks/empty',
      nodes: [],
      fencingToken: null,
    });
  });

  test('inspectLock - holder then waiters in order, with session, data, ctime and the token', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const lease = await new Mutex(a, '/locks/invoice-42', { data: 'worker-a' }).acquire();
    const alone = await inspectLock(c, '/locks/invoice-42');
    // Uncontended: the grant listing followed the holder's own create, nothing changed since.
    expect(alone?.fencingToken).toEqual({ min: lease.fencingToken, max: lease.fencingToken });
    const waiting = new Mutex(b, '/locks/invoice-42', { data: 'worker-b' }).acquire();
    await waitFor(async () => (await inspectLock(c, '/locks/invoice-42'))?.nodes.length === 2);
    const seen = await inspectLock(c, '/locks/invoice-42');
    expect(seen?.nodes.map((n) => [n.role, n.sessionId, n.data.toString()])).toEqual([
      ['holder', a.sessionId, 'worker-a'],
      ['waiter', b.sessionId, 'worker-b'],
    ]);
    const holder = seen?.nodes[0];
    expect(holder?.path).toBe(`/locks/invoice-42/${holder?.name}`);
    expect(Math.abs((holder?.ctime ?? 0) - Date.now())).toBeLessThan(60_000);
    // The waiter's create raised the lock node's pzxid: the token lies within the range.
    expect(seen?.fencingToken?.min).toBe(lease.fencingToken);
    expect(seen?.fencingToken?.max).toBeGreaterThan(lease.fencingToken);
    await lease.release();
    const next = await waiting;
    const after = await inspectLock(c, '/locks/invoice-42');
    expect(after?.nodes.map((n) => n.sessionId)).toEqual([b.sessionId]);
    const token = after?.fencingToken;
    expect(token && next.fencingToken >= token.min && next.fencingToken <= token.max).toBe(true);
    await next.release();
  });
});

describe('inspectReadWriteLock, inspectSemaphore, detectLockKind', () => {
  test('inspect - bad arguments are rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => inspectReadWriteLock(client, '/')).toThrow(InvalidPathError);
    expect(() => inspectSemaphore(client, 'no-slash')).toThrow(InvalidPathError);
    expect(() => inspectSemaphore(client, '/s', { permits: 0 })).toThrow(InvalidArgumentError);
    expect(() => inspectSemaphore(client, '/s', { countPath: 'x' })).toThrow(InvalidPathError);
    expect(() => detectLockKind(client, '/')).toThrow(InvalidPathError);
  });

  test('detectLockKind - each kind from its children, null when missing, unknown otherwise', async ({
    zk,
  }) => {
    const client = await zk.client();
    expect(await detectLockKind(client, '/locks/missing')).toBeNull();
    await client.ensurePath('/locks/free');
    expect(await detectLockKind(client, '/locks/free')).toBe('mutex');
    const mutex = await new Mutex(client, '/locks/m').acquire();
    const read = await new ReadWriteLock(client, '/locks/rw').readLock.acquire();
    const lease = await new Semaphore(client, '/locks/s', 2).acquire();
    await client.ensurePath('/locks/other/child');
    expect(
      await Promise.all(
        ['/locks/m', '/locks/rw', '/locks/s', '/locks/other'].map((p) => detectLockKind(client, p)),
      ),
    ).toEqual(['mutex', 'readWrite', 'semaphore', 'unknown']);
    await Promise.all([mutex.release(), read.release(), lease.release()]);
  });

  test('inspectReadWriteLock - readers ahead of the first writer hold, each with its token; the rest wait', async ({
    zk,
  }) => {
    const [a, b, c, d] = await Promise.all([zk.client(), zk.client(), zk.client(), zk.client()]);
    expect(await inspectReadWriteLock(d, '/locks/catalog')).toBeNull();
    const r1 = await new ReadWriteLock(a, '/locks/catalog', {
      data: 'reader-a',
    }).readLock.acquire();
    const r2 = await new ReadWriteLock(b, '/locks/catalog', {
      data: 'reader-b',
    }).readLock.acquire();
    const writing = new ReadWriteLock(c, '/locks/catalog', {
      data: 'writer-c',
    }).writeLock.acquire();
    // The writer's node first, so that the next reader queues behind it (two sessions' creates
    // sent at once land in either order).
    await waitFor(
      async () => (await inspectReadWriteLock(d, '/locks/catalog'))?.nodes.length === 3,
    );
    const reading = new ReadWriteLock(a, '/locks/catalog').readLock.acquire();
    await waitFor(
      async () => (await inspectReadWriteLock(d, '/locks/catalog'))?.nodes.length === 4,
    );
    const seen = await inspectReadWriteLock(d, '/locks/catalog');
    expect(seen?.path).toBe('/locks/catalog');
    expect(
      seen?.nodes.map((n) => [n.role, n.mode, n.sessionId, n.data.toString(), n.fencingToken?.min]),
    ).toEqual([
      ['holder', 'read', a.sessionId, 'reader-a', r1.fencingToken],
      ['holder', 'read', b.sessionId, 'reader-b', r2.fencingToken],
      ['waiter', 'write', c.sessionId, 'writer-c', undefined],
      // No data given: the local address, as Curator writes.
      ['waiter', 'read', a.sessionId, defaultNodeData(), undefined],
    ]);
    const pzxid = (await d.exists('/locks/catalog'))?.pzxid;
    expect(seen?.nodes[0]?.fencingToken?.max).toBe(pzxid);
    expect(seen?.nodes[2]?.fencingToken).toBeNull();
    await Promise.all([r1.release(), r2.release()]);
    const w = await writing;
    const after = await inspectReadWriteLock(d, '/locks/catalog');
    expect(after?.nodes.map((n) => [n.role, n.mode, n.sessionId])).toEqual([
      ['holder', 'write', c.sessionId],
      ['waiter', 'read', a.sessionId],
    ]);
    const token = after?.nodes[0]?.fencingToken;
    expect(token && w.fencingToken >= token.min && w.fencingToken <= token.max).toBe(true);
    await w.release();
    await (await reading).release();
  });

  test('inspectSemaphore - leases with tokens, waiters in order, permits given or from a shared count', async ({
    zk,
  }) => {
    const [a, b, c, d] = await Promise.all([zk.client(), zk.client(), zk.client(), zk.client()]);
    expect(await inspectSemaphore(d, '/limits/api')).toBeNull();
    const l1 = await new Semaphore(a, '/limits/api', 2, { data: 'worker-a' }).acquire();
    const l2 = await new Semaphore(b, '/limits/api', 2).acquire();
    const waiting = new Semaphore(c, '/limits/api', 2, { data: 'worker-c' }).acquire();
    await waitFor(async () => (await inspectSemaphore(d, '/limits/api'))?.waiters.length === 1);
    const seen = await inspectSemaphore(d, '/limits/api');
    expect(seen?.permits).toBeNull();
    expect(seen?.leases.map((n) => [n.role, n.sessionId, n.data.toString()])).toEqual([
      ['holder', a.sessionId, 'worker-a'],
      ['holder', b.sessionId, defaultNodeData()],
    ]);
    expect(seen?.leases.map((n) => n.fencingToken.min)).toEqual([l1.fencingToken, l2.fencingToken]);
    expect(seen?.waiters.map((n) => [n.role, n.sessionId, n.data.toString()])).toEqual([
      ['waiter', c.sessionId, 'worker-c'],
    ]);
    expect((await inspectSemaphore(d, '/limits/api', { permits: 2 }))?.permits).toBe(2);
    const count = Buffer.alloc(4);
    count.writeInt32BE(5);
    await d.create('/limits/api-count', count);
    const counted = await inspectSemaphore(d, '/limits/api', {
      permits: 2,
      countPath: '/limits/api-count',
    });
    expect(counted?.permits).toBe(5);
    await l1.release();
    const l3 = await waiting;
    const after = await inspectSemaphore(d, '/limits/api');
    expect(after?.leases.map((n) => n.sessionId)).toEqual([b.sessionId, c.sessionId]);
    expect(after?.waiters).toEqual([]);
    await Promise.all([l2.release(), l3.release()]);
  });
});

test('mutex - a node made with no data carries the local address; data given wins', async ({
  zk,
}) => {
  const client = await zk.client();
  const address = defaultNodeData();
  expect(address).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
  const plain = await new Mutex(client, '/locks/plain').acquire();
  const given = await new Mutex(client, '/locks/given', { data: 'mine' }).acquire();
  expect((await inspectLock(client, '/locks/plain'))?.nodes[0]?.data.toString()).toBe(address);
  expect((await inspectLock(client, '/locks/given'))?.nodes[0]?.data.toString()).toBe('mine');
  await Promise.all([plain.release(), given.release()]);
});
