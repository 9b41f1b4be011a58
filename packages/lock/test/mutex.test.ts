import type { ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError, ZkTimeoutError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { LockLostError, Mutex } from '../src/index.js';
import { children, packetsReceived, rejection, settled } from './helpers.js';
import { sessionPathTests } from './session-paths.js';

const PATH = '/locks/job';

describe('Mutex', () => {
  test('mutex - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new Mutex(client, 'locks/job')).toThrow(InvalidPathError);
    expect(() => new Mutex(client, '/locks/job/')).toThrow(InvalidPathError);
    expect(() => new Mutex(client, '/')).toThrow(InvalidPathError);
    expect(() => new Mutex(undefined as unknown as ZkClient, PATH)).toThrow(InvalidArgumentError);
    const mutex = new Mutex(client, PATH);
    expect(() => mutex.acquire({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => mutex.acquire({ timeout: Number.NaN })).toThrow(InvalidArgumentError);
    expect(await client.exists('/locks')).toBeNull();
  });

  test('mutex - an uncontended acquire and release leave no node behind', async ({ zk }) => {
    const client = await zk.client();
    const mutex = new Mutex(client, PATH, { data: 'worker-1' });
    const lease = await mutex.acquire();
    expect(lease.held).toBe(true);
    expect(lease.path).toMatch(/^\/locks\/job\/_c_[0-9a-f-]{36}-lock-\d{10}$/);
    expect(lease.fencingToken).toBeGreaterThan(0n);
    expect(await children(client, PATH)).toEqual([lease.path.slice(PATH.length + 1)]);
    const [holder] = await mutex.participants();
    expect(holder).toMatchObject({ path: lease.path, role: 'holder', sessionId: client.sessionId });
    expect(holder?.data.toString()).toBe('worker-1');
    await lease.release();
    expect(lease.held).toBe(false);
    expect(await children(client, PATH)).toEqual([]);
    await lease.release(); // idempotent
  });

  test('mutex - a waiter gets the lock when the holder releases, with a larger token', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = await new Mutex(a, PATH).acquire();
    const waiting = new Mutex(b, PATH).acquire();
    await waitFor(async () => (await children(a, PATH)).length === 2);
    expect(await settled(waiting)).toBe(false);
    const roles = (await new Mutex(a, PATH).participants()).map((p) => [p.sessionId, p.role]);
    expect(roles).toEqual([
      [a.sessionId, 'holder'],
      [b.sessionId, 'waiter'],
    ]);
    await first.release();
    const second = await waiting;
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    await second.release();
    expect(await children(a, PATH)).toEqual([]);
  });

  test('mutex - tryAcquire returns null while the lock is held and leaves no node', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const held = await new Mutex(a, PATH).acquire();
    expect(await new Mutex(b, PATH).tryAcquire()).toBeNull();
    expect(await children(a, PATH)).toHaveLength(1);
    await held.release();
    const lease = await new Mutex(b, PATH).tryAcquire();
    expect(lease).not.toBeNull();
    await lease?.release();
  });

  test('mutex - a timed-out wait rejects with TimeoutError and removes its node', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const held = await new Mutex(a, PATH).acquire();
    const error = await rejection(new Mutex(b, PATH).acquire({ timeout: 300 }));
    expect(error).toBeInstanceOf(ZkTimeoutError);
    expect((error as ZkTimeoutError).name).toBe('TimeoutError');
    expect((error as Error).message).toBe(`Mutex ${PATH}: not acquired within 300 ms`);
    expect(await children(a, PATH)).toEqual([held.path.slice(PATH.length + 1)]);
    expect(b.pendingDeletes).toBe(0);
    await held.release();
  });

  test('mutex - an aborted wait rejects with the reason and removes its node', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const held = await new Mutex(a, PATH).acquire();
    const controller = new AbortController();
    const waiting = new Mutex(b, PATH).acquire({ signal: controller.signal });
    await waitFor(async () => (await children(a, PATH)).length === 2);
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await rejection(waiting)).toBe(reason);
    expect(await children(a, PATH)).toHaveLength(1);
    // Aborting before the create's reply arrives leaves nothing behind either.
    const early = new AbortController();
    const racing = new Mutex(b, PATH).acquire({ signal: early.signal });
    early.abort(reason);
    expect(await rejection(racing)).toBe(reason);
    await waitFor(async () => (await children(a, PATH)).length === 1);
    expect(await rejection(new Mutex(b, PATH).acquire({ signal: early.signal }))).toBe(reason);
    await held.release();
    expect(await children(a, PATH)).toEqual([]);
  });

  test('mutex - it is not reentrant: a second acquire waits for the first lease', async ({
    zk,
  }) => {
    const client = await zk.client();
    const mutex = new Mutex(client, PATH);
    const first = await mutex.acquire();
    const second = mutex.acquire();
    await waitFor(async () => (await children(client, PATH)).length === 2);
    expect(await settled(second)).toBe(false);
    await first.release();
    await (await second).release();
  });

  test('mutex - fencing tokens keep increasing after the container parent is reaped', async ({
    zk,
  }) => {
    const client = await zk.client();
    const mutex = new Mutex(client, PATH);
    const first = await mutex.acquire();
    await first.release();
    // The test server reaps empty containers every 100 ms; sequence numbers then restart.
    await waitFor(async () => (await client.exists(PATH)) === null, { timeout: 15_000 });
    const second = await mutex.acquire();
    expect(second.path.slice(-10)).toBe(first.path.slice(-10));
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    await second.release();
  });

  test('mutex - a lease signal aborts when its node is deleted by someone else', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new Mutex(a, PATH).acquire();
    const signal = lease.signal;
    expect(signal.aborted).toBe(false);
    await b.delete(lease.path);
    await waitFor(() => signal.aborted);
    expect(signal.reason).toBeInstanceOf(LockLostError);
    expect((signal.reason as LockLostError).reason).toBe('deleted');
    expect((signal.reason as LockLostError).code).toBe('LOCK_LOST');
    expect(lease.held).toBe(false);
    await lease.release();
  });

  test('mutex - released leases do not report a loss', async ({ zk }) => {
    const client = await zk.client();
    const lease = await new Mutex(client, PATH).acquire();
    const signal = lease.signal;
    await lease.release();
    expect(signal.aborted).toBe(false);
    await client.close();
    expect(signal.aborted).toBe(false);
  });

  test('mutex - releasing a lease whose signal was read costs the delete alone: its own-node watch fires at that delete', async ({
    zk,
  }) => {
    // Pings come after a third of the session timeout of idleness: none during this test.
    const client = await zk.client({ sessionTimeout: 30_000 });
    const lease = await new Mutex(client, PATH).acquire();
    const before = await packetsReceived(zk.serverConnectString, client);
    const signal = lease.signal;
    // The watch is armed (one read) once its reply is in.
    await waitFor(() => client.watchCount === 1);
    expect(await packetsReceived(zk.serverConnectString, client)).toBe(before + 1);
    await lease.release();
    // Anything the release sent after its delete has reached the server before this sync.
    await client.sync(PATH);
    expect(await packetsReceived(zk.serverConnectString, client)).toBe(before + 3);
    expect(signal.aborted).toBe(false);
    expect(await children(client, PATH)).toEqual([]);
  });

  test('mutex - a lease signal aborts when the client closes', async ({ zk }) => {
    const client = await zk.client();
    const lease = await new Mutex(client, PATH).acquire();
    await client.close();
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as LockLostError).reason).toBe('session');
    await lease.release(); // harmless: the session took the node with it
  });

  test('mutex - a create whose reply was lost leaves no second node behind', async ({ zk }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 5000 });
    const observer = await zk.client();
    const mutex = new Mutex(client, PATH);
    await observer.ensurePath(PATH); // persistent: no container sweep in the middle of the test
    // The create goes out into a black hole; the client gives up on the connection (2/3 of the
    // session timeout), then the held request reaches the server after all.
    proxy.partition();
    const acquiring = mutex.acquire();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    proxy.heal();
    const lease = await acquiring;
    expect(await children(observer, PATH)).toEqual([lease.path.slice(PATH.length + 1)]);
    expect((await observer.exists(lease.path))?.ephemeralOwner).toBe(client.sessionId);
    await lease.release();
    expect(await children(observer, PATH)).toEqual([]);
  });

  sessionPathTests({
    name: 'mutex',
    holder: (client, path) => new Mutex(client, path),
    waiter: (client, path) => new Mutex(client, path),
    queuedNodes: 2,
  });
});
