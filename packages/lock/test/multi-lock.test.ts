import type { ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError, ZkTimeoutError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { LockLostError, MultiLock, Mutex, Semaphore } from '../src/index.js';
import { children, rejection, settled } from './helpers.js';

const A = '/locks/a';
const B = '/locks/b';
const C = '/locks/c';

describe('MultiLock', () => {
  test('multi-lock - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new MultiLock(client, [])).toThrow(InvalidArgumentError);
    expect(() => new MultiLock(client, [A, A])).toThrow(InvalidArgumentError);
    expect(() => new MultiLock(client, ['bad'])).toThrow(InvalidPathError);
    expect(() => new MultiLock([{} as Mutex])).toThrow(InvalidArgumentError);
    expect(() => new MultiLock(undefined as unknown as ZkClient, [A])).toThrow(
      InvalidArgumentError,
    );
    expect(() => new MultiLock(client, [A]).acquire({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(await client.exists('/locks')).toBeNull();
  });

  test('multi-lock - takes every part in path order, one token (the largest), releases all', async ({
    zk,
  }) => {
    const client = await zk.client();
    const multi = new MultiLock(client, [C, A, B]);
    expect(multi.paths).toEqual([A, B, C]);
    const lease = await multi.acquire();
    expect(lease.leases.map((l) => l.path.slice(0, 12))).toEqual([
      `${A}/_c_`,
      `${B}/_c_`,
      `${C}/_c_`,
    ]);
    expect(lease.fencingToken).toBe(
      lease.leases.reduce((m, l) => (l.fencingToken > m ? l.fencingToken : m), 0n),
    );
    expect(lease.held).toBe(true);
    for (const path of [A, B, C]) expect(await children(client, path)).toHaveLength(1);
    await lease.release();
    expect(lease.held).toBe(false);
    for (const path of [A, B, C]) expect(await children(client, path)).toEqual([]);
  });

  test('multi-lock - opposite orders never deadlock, and no part ever has two holders', async ({
    zk,
  }) => {
    const clients = await Promise.all([zk.client(), zk.client(), zk.client(), zk.client()]);
    const holders = new Map<string, number>();
    let violations = 0;
    await Promise.all(
      clients.map(async (client, i) => {
        const multi = new MultiLock(client, i % 2 === 0 ? [A, B] : [B, A]);
        const single = new Mutex(client, i % 2 === 0 ? A : B);
        for (let n = 0; n < 10; n++) {
          const lease = n % 3 === 2 ? await single.acquire() : await multi.acquire();
          const parts = 'leases' in lease ? [A, B] : [single.path];
          for (const p of parts) {
            if ((holders.get(p) ?? 0) > 0) violations++;
            holders.set(p, 1);
          }
          await new Promise((resolve) => setImmediate(resolve));
          for (const p of parts) holders.set(p, 0);
          await lease.release();
        }
      }),
    );
    expect(violations).toBe(0);
  });

  test('multi-lock - a timeout part-way releases the parts already taken', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const blocker = await new Mutex(b, B).acquire();
    const error = await rejection(new MultiLock(a, [A, B]).acquire({ timeout: 300 }));
    expect(error).toBeInstanceOf(ZkTimeoutError);
    expect(await children(a, A)).toEqual([]);
    expect(await new MultiLock(a, [A, B]).tryAcquire()).toBeNull();
    expect(await children(a, A)).toEqual([]);
    await blocker.release();
    const lease = await new MultiLock(a, [A, B]).tryAcquire();
    expect(lease).not.toBeNull();
    await lease?.release();
  });

  test('multi-lock - an abort part-way releases the parts already taken', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const blocker = await new Mutex(b, C).acquire();
    const controller = new AbortController();
    const acquiring = new MultiLock(a, [A, C]).acquire({ signal: controller.signal });
    await waitFor(async () => (await children(b, C)).length === 2);
    expect(await children(b, A)).toHaveLength(1);
    expect(await settled(acquiring)).toBe(false);
    controller.abort(new Error('stop'));
    await expect(acquiring).rejects.toThrow('stop');
    expect(await children(b, A)).toEqual([]);
    expect(await children(b, C)).toHaveLength(1);
    await blocker.release();
  });

  test('multi-lock - the signal aborts when any part is lost; parts may be any lock', async ({
    zk,
  }) => {
    const client = await zk.client();
    const admin = await zk.client();
    const multi = new MultiLock([new Semaphore(client, C, 2), new Mutex(client, A)]);
    expect(multi.paths).toEqual([A, C]);
    const lease = await multi.acquire();
    const signal = lease.signal;
    expect(signal.aborted).toBe(false);
    // An operator deletes one part's node: the joint lease is no longer safe.
    await admin.delete(lease.leases[1]?.path as string);
    await waitFor(() => signal.aborted);
    expect(signal.reason).toBeInstanceOf(LockLostError);
    expect(lease.held).toBe(false);
    await lease.release();
    expect(await children(admin, A)).toEqual([]);
  });
});
