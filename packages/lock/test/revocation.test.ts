import diagnostics from 'node:diagnostics_channel';
import type { ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import {
  MultiLock,
  Mutex,
  RevocationRequestedError,
  type Lease,
  type LockMessage,
} from '../src/index.js';

const PATH = '/locks/report';

describe('revocation', () => {
  test('revocation - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    await expect(async () => Mutex.revoke(client, 'nope')).rejects.toThrow(InvalidPathError);
    expect(() => Mutex.revoke(undefined as unknown as ZkClient, '/a/b')).toThrow(
      InvalidArgumentError,
    );
    expect(() => new Mutex(client, PATH).acquire({ revoke: 'yes' as unknown as boolean })).toThrow(
      InvalidArgumentError,
    );
    expect(await client.exists('/locks')).toBeNull();
  });

  test('revocation - an operator asks, the holder hears it (signal and channel) and keeps the lock until it releases', async ({
    zk,
  }) => {
    const [holderClient, operator] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new Mutex(holderClient, PATH).acquire();
    const requested = lease.revocationRequested;
    const heard: LockMessage[] = [];
    const onRevocation = (message: unknown) => heard.push(message as LockMessage);
    diagnostics.subscribe('zkit:lock:revocation', onRevocation);
    try {
      const [holder] = await new Mutex(operator, PATH).participants();
      expect(await Mutex.revoke(operator, holder?.path as string)).toBe(true);
      await waitFor(() => requested.aborted);
      expect(requested.reason).toBeInstanceOf(RevocationRequestedError);
      expect(heard).toEqual([expect.objectContaining({ path: lease.path })]);
      // Only a request: still held, still exclusive.
      expect(lease.held).toBe(true);
      expect(lease.signal.aborted).toBe(false);
      expect(await new Mutex(operator, PATH).tryAcquire()).toBeNull();
      await lease.release();
      expect(await Mutex.revoke(operator, holder?.path as string)).toBe(false);
    } finally {
      diagnostics.unsubscribe('zkit:lock:revocation', onRevocation);
    }
  });

  test('revocation - a request made before the holder listens is heard when it does', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new Mutex(a, PATH).acquire();
    await Mutex.revoke(b, lease.path);
    await waitFor(() => lease.revocationRequested.aborted);
    await lease.release();
  });

  test('revocation - a waiter acquiring with revoke asks the holder, which gives the lock up', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = await new Mutex(a, PATH).acquire();
    first.revocationRequested.addEventListener('abort', () => void first.release(), {
      once: true,
    });
    const second = await new Mutex(b, PATH).acquire({ revoke: true, timeout: 10_000 });
    expect(first.held).toBe(false);
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    await second.release();
  });

  test('revocation - a multi-lock hears a request made to any of its parts', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new MultiLock(a, ['/locks/x', '/locks/y']).acquire();
    const requested = lease.revocationRequested;
    await Mutex.revoke(b, (lease.leases[1] as Lease).path);
    await waitFor(() => requested.aborted);
    expect(requested.reason).toBeInstanceOf(RevocationRequestedError);
    await lease.release();
  });
});
