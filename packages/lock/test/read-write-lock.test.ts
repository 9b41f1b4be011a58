import { InvalidPathError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Mutex, ReadWriteLock } from '../src/index.js';
import { children, settled } from './helpers.js';
import { sessionPathTests } from './session-paths.js';

const PATH = '/locks/catalog';

describe('ReadWriteLock', () => {
  test('read-write lock - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new ReadWriteLock(client, 'catalog')).toThrow(InvalidPathError);
    const rw = new ReadWriteLock(client, PATH);
    expect(() => rw.readLock.acquire({ timeout: -5 })).toThrow();
    expect(() => rw.writeLock.acquire({ timeout: -5 })).toThrow();
    expect(await client.exists('/locks')).toBeNull();
  });

  test('read-write lock - readers share the lock and use the Curator node names', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const r1 = await new ReadWriteLock(a, PATH).readLock.acquire();
    const r2 = await new ReadWriteLock(b, PATH).readLock.acquire({ timeout: 5000 });
    expect(r1.path).toMatch(/\/_c_[0-9a-f-]{36}-__READ__\d{10}$/);
    const participants = await new ReadWriteLock(a, PATH).participants();
    expect(participants.map((p) => [p.mode, p.role])).toEqual([
      ['read', 'holder'],
      ['read', 'holder'],
    ]);
    await Promise.all([r1.release(), r2.release()]);
    expect(await children(a, PATH)).toEqual([]);
  });

  test('read-write lock - a writer waits for the readers ahead of it', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const reader = await new ReadWriteLock(a, PATH).readLock.acquire();
    const writing = new ReadWriteLock(b, PATH).writeLock.acquire();
    await waitFor(async () => (await children(a, PATH)).length === 2);
    expect(await settled(writing)).toBe(false);
    await reader.release();
    const writer = await writing;
    expect(writer.path).toMatch(/-__WRIT__\d{10}$/);
    expect(writer.fencingToken).toBeGreaterThan(reader.fencingToken);
    await writer.release();
  });

  test('read-write lock - readers behind a writer wait for it, then go together', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const writer = await new ReadWriteLock(a, PATH).writeLock.acquire();
    const readers = [
      new ReadWriteLock(b, PATH).readLock.acquire(),
      new ReadWriteLock(c, PATH).readLock.acquire(),
    ];
    await waitFor(async () => (await children(a, PATH)).length === 3);
    expect(await settled(readers[0] as Promise<unknown>)).toBe(false);
    const roles = (await new ReadWriteLock(a, PATH).participants()).map((p) => p.role);
    expect(roles).toEqual(['holder', 'waiter', 'waiter']);
    await writer.release();
    const held = await Promise.all(readers);
    await Promise.all(held.map((l) => l.release()));
    expect(await children(a, PATH)).toEqual([]);
  });

  test('read-write lock - a waiting writer holds back readers that arrive after it', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const first = await new ReadWriteLock(a, PATH).readLock.acquire();
    const writing = new ReadWriteLock(b, PATH).writeLock.acquire();
    await waitFor(async () => (await children(a, PATH)).length === 2);
    const late = new ReadWriteLock(c, PATH).readLock.acquire();
    await waitFor(async () => (await children(a, PATH)).length === 3);
    expect(await settled(late)).toBe(false);
    expect(await new ReadWriteLock(c, PATH).readLock.tryAcquire()).toBeNull();
    await first.release();
    const writer = await writing;
    expect(await settled(late)).toBe(false);
    await writer.release();
    await (await late).release();
  });

  test('read-write lock - the write side excludes a mutex on another path only', async ({ zk }) => {
    const client = await zk.client();
    const writer = await new ReadWriteLock(client, PATH).writeLock.acquire();
    const other = await new Mutex(client, `${PATH}-other`).acquire({ timeout: 5000 });
    await Promise.all([writer.release(), other.release()]);
  });

  sessionPathTests({
    name: 'read-write lock',
    holder: (client, path) => new ReadWriteLock(client, path).writeLock,
    waiter: (client, path) => new ReadWriteLock(client, path).readLock,
    queuedNodes: 2,
  });
});
