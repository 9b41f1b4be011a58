import type { ZkClient } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { LockLostError, type Lease, type Lock } from '../src/index.js';
import { children, settled } from './helpers.js';

/** A primitive under test, seen as two locks on one path that exclude each other. */
export interface ExclusivePair {
  /** e.g. `mutex`, `read-write lock`. */
  readonly name: string;
  /** The lock the first party takes. */
  holder(client: ZkClient, path: string): Lock;
  /** The lock a second party waits for. */
  waiter(client: ZkClient, path: string): Lock;
  /** How many lease nodes exist once the holder holds and the waiter is queued. */
  readonly queuedNodes: number;
}

const PATH = '/locks/shared';
const SHORT = { sessionTimeout: 2000 };

/** Every lease node (`_c_…`) below `path`, at any depth. */
export async function leaseNodes(client: ZkClient, path: string): Promise<string[]> {
  const out: string[] = [];
  for (const child of await children(client, path)) {
    const full = `${path}/${child}`;
    if (child.startsWith('_c_')) out.push(full);
    else out.push(...(await leaseNodes(client, full)));
  }
  return out.sort();
}

async function owners(client: ZkClient, path: string): Promise<string[]> {
  const nodes = await leaseNodes(client, path);
  const stats = await Promise.all(nodes.map((n) => client.exists(n)));
  return stats.flatMap((s) => (s ? [s.ephemeralOwner] : []));
}

/**
 * The three session paths every primitive is tested on: normal use is in each primitive's own
 * file; these are the connection drop and the session expiry, while holding and while waiting.
 */
export function sessionPathTests(pair: ExclusivePair): void {
  const { name } = pair;

  test(`${name} - a holder's signal aborts when its connection drops, and the lock stays exclusive`, async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const holderClient = await zk.client({
      connectString: proxy.connectString,
      sessionTimeout: 8000,
    });
    const other = await zk.client();
    const lease = await pair.holder(holderClient, PATH).acquire();
    const signal = lease.signal;
    const waiting = pair.waiter(other, PATH).acquire();
    waiting.catch(() => undefined); // settled by the test or by the client's close
    await waitFor(async () => (await leaseNodes(other, PATH)).length === pair.queuedNodes);

    proxy.drop();
    await waitFor(() => signal.aborted, { message: 'the lease signal to abort' });
    expect(signal.reason).toBeInstanceOf(LockLostError);
    expect((signal.reason as LockLostError).reason).toBe('session');
    expect(lease.held).toBe(false);

    // Same session after the reconnect: the node is still there, so the waiter must still wait.
    await waitFor(() => holderClient.state === 'reconnected');
    expect(await other.exists(lease.path)).not.toBeNull();
    expect(await settled(waiting)).toBe(false);

    await lease.release();
    const next = await waiting;
    expect(next.fencingToken).toBeGreaterThan(lease.fencingToken);
    await next.release();
    expect(await leaseNodes(other, PATH)).toEqual([]);
  });

  test(`${name} - a waiter keeps its place through a connection drop`, async ({ zk }) => {
    const proxy = await zk.proxy();
    const waiterClient = await zk.client({
      connectString: proxy.connectString,
      sessionTimeout: 8000,
    });
    const other = await zk.client();
    const lease = await pair.holder(other, PATH).acquire();
    const waiting = pair.waiter(waiterClient, PATH).acquire();
    waiting.catch(() => undefined); // settled by the test or by the client's close
    const queued = await waitFor(async () => {
      const nodes = await leaseNodes(other, PATH);
      return nodes.length === pair.queuedNodes ? nodes : undefined;
    });

    proxy.drop();
    // The native client does not always announce a reset it recovers from at once, so wait for
    // the new connection rather than for a state change.
    await waitFor(() => proxy.connections === 1 && waiterClient.isConnected);
    await waiterClient.sync(PATH);
    expect(await settled(waiting)).toBe(false);
    await lease.release();
    const next = await waiting;
    // Still the node it queued with: no new node, no second place in the queue.
    expect(queued).toContain(next.path);
    expect(next.signal.aborted).toBe(false);
    await next.release();
    expect(await leaseNodes(other, PATH)).toEqual([]);
  });

  test(`${name} - a waiter takes over when the holder's session expires`, async ({ zk }) => {
    const holderClient = await zk.client(SHORT);
    const other = await zk.client();
    const lease = await pair.holder(holderClient, PATH).acquire();
    const signal = lease.signal;
    const waiting = pair.waiter(other, PATH).acquire();
    waiting.catch(() => undefined); // settled by the test or by the client's close
    await waitFor(async () => (await leaseNodes(other, PATH)).length === pair.queuedNodes);

    await expireSession(holderClient);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(LockLostError);
    const next = await waiting;
    expect(next.fencingToken).toBeGreaterThan(lease.fencingToken);

    // The old holder's release is a harmless no-op: the new holder keeps its node.
    await waitFor(() => holderClient.state === 'reconnected');
    await lease.release();
    expect(await other.exists(next.path)).not.toBeNull();
    expect(await owners(other, PATH)).toEqual([other.sessionId]);
    await next.release();
    expect(await leaseNodes(other, PATH)).toEqual([]);
  });

  test(`${name} - a waiter whose session expires queues again on its new session`, async ({
    zk,
  }) => {
    const waiterClient = await zk.client(SHORT);
    const other = await zk.client();
    const lease = await pair.holder(other, PATH).acquire();
    const waiting = pair.waiter(waiterClient, PATH).acquire();
    waiting.catch(() => undefined); // settled by the test or by the client's close
    await waitFor(async () => (await leaseNodes(other, PATH)).length === pair.queuedNodes);
    const oldSession = waiterClient.sessionId;

    await expireSession(waiterClient);
    await waitFor(() => waiterClient.state === 'reconnected');
    expect(waiterClient.sessionId).not.toBe(oldSession);
    // Queued again under the new session, with nothing left of the old one.
    await waitFor(async () => {
      const found = await owners(other, PATH);
      return (
        found.includes(waiterClient.sessionId as string) && !found.includes(oldSession as string)
      );
    });
    expect(await settled(waiting)).toBe(false);

    await lease.release();
    const next = await waiting;
    expect((await other.exists(next.path))?.ephemeralOwner).toBe(waiterClient.sessionId);
    expect(next.fencingToken).toBeGreaterThan(lease.fencingToken);
    await next.release();
    expect(await leaseNodes(other, PATH)).toEqual([]);
  });

  test(`${name} - timeout and abort leave no node behind`, async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease: Lease = await pair.holder(a, PATH).acquire();
    const before = await leaseNodes(a, PATH);
    const timedOut = await pair
      .waiter(b, PATH)
      .acquire({ timeout: 200 })
      .catch((e: unknown) => e);
    expect((timedOut as DOMException).name).toBe('TimeoutError');
    expect(await leaseNodes(a, PATH)).toEqual(before);
    const controller = new AbortController();
    const aborted = pair.waiter(b, PATH).acquire({ signal: controller.signal });
    await waitFor(async () => (await leaseNodes(a, PATH)).length > before.length);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(await leaseNodes(a, PATH)).toEqual(before);
    expect(await pair.waiter(b, PATH).tryAcquire()).toBeNull();
    expect(await leaseNodes(a, PATH)).toEqual(before);
    await lease.release();
    expect(await leaseNodes(a, PATH)).toEqual([]);
  });
}
