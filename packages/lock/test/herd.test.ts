import diagnostics from 'node:diagnostics_channel';
import { ZkClient, type OpMessage } from '@zkit/core';
import { ZooKeeperServer, waitFor } from '@zkit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Mutex, ReadWriteLock, type Lease } from '../src/index.js';
import { children, settled } from './helpers.js';

// Counting requests needs a server nobody else talks to: the shared one serves other suites.
let server: ZooKeeperServer;
const clients: ZkClient[] = [];

beforeAll(async () => {
  // No container sweeps during the counts: a reaped lock parent costs extra writes to recreate.
  server = await ZooKeeperServer.start({ containerCheckIntervalMs: 600_000 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

async function client(): Promise<ZkClient> {
  const c = new ZkClient(server.connectString, { sessionTimeout: 10_000 });
  clients.push(c);
  await c.start();
  return c;
}

interface Counts {
  reads: number;
  writes: number;
  watches: number;
}

async function counts(): Promise<Counts> {
  const m = await server.mntr();
  const n = (key: string) => Number(m[key]);
  return {
    reads: n('zk_cnt_readlatency'),
    writes: n('zk_cnt_updatelatency'),
    watches: ['created', 'deleted', 'changed', 'children']
      .map((kind) => n(`zk_sum_node_${kind}_watch_count`))
      .reduce((a, b) => a + b, 0),
  };
}

function delta(before: Counts, after: Counts): Counts {
  return {
    reads: after.reads - before.reads,
    writes: after.writes - before.writes,
    watches: after.watches - before.watches,
  };
}

describe('herd', () => {
  test('mutex - one release among 50 waiters wakes exactly one of them', async () => {
    const path = '/herd/mutex';
    // 50 waiters over 5 sessions (each waiter is its own node and its own watch).
    const sessions = await Promise.all([client(), client(), client(), client(), client()]);
    const holderClient = await client();
    const holder = await new Mutex(holderClient, path).acquire();
    const waiters: Promise<Lease>[] = [];
    for (let i = 0; i < 50; i++) {
      const waiting = new Mutex(sessions[i % sessions.length] as ZkClient, path).acquire();
      waiters.push(waiting);
      // One at a time, so every waiter has listed and set its watch before the release.
      await waitFor(async () => (await children(holderClient, path)).length === i + 2);
    }
    // Every waiter has its watch armed: one per waiter, each on its own predecessor.
    await waitFor(async () => Number((await server.mntr())['zk_watch_count']) === 50);
    const before = await counts();
    await holder.release();
    const next = await Promise.race(waiters);
    const after = await counts();
    const cost = delta(before, after);
    expect(cost.watches).toBe(1);
    // The release (one delete) and the woken waiter's one re-listing; the mntr probes are not
    // requests.
    expect(cost).toEqual({ reads: 1, writes: 1, watches: 1 });
    expect(next).toBe(await waiters[0]);
    const stillWaiting = await Promise.all(waiters.slice(1).map((w) => settled(w)));
    expect(stillWaiting.every((s) => !s)).toBe(true);

    // Drain the queue in order: each hand-off costs one delete and one listing.
    let lease = next;
    for (let i = 1; i < waiters.length; i++) {
      await lease.release();
      lease = await (waiters[i] as Promise<Lease>);
    }
    await lease.release();
    expect(await children(holderClient, path)).toEqual([]);
  });

  test('mutex - an uncontended cycle is three requests, a contended acquisition five', async () => {
    const path = '/herd/cost';
    const [a, b] = await Promise.all([client(), client()]);
    const mutex = new Mutex(a, path);
    await (await mutex.acquire()).release(); // creates the parents
    let before = await counts();
    for (let i = 0; i < 10; i++) await (await mutex.acquire()).release();
    let cost = delta(before, await counts());
    expect(cost).toEqual({ reads: 10, writes: 20, watches: 0 });

    // A waiter: create, list, watch the predecessor, re-list on wake-up, delete. Counted on
    // the client (the polling below makes requests of its own).
    const held = await mutex.acquire();
    const ops: string[] = [];
    const onOp = (message: unknown) => {
      const m = message as OpMessage;
      if (m.client === b) ops.push(m.op);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      before = await counts();
      const waiting = new Mutex(b, path).acquire();
      await waitFor(async () => (await children(a, path)).length === 2);
      await waitFor(async () => Number((await server.mntr())['zk_watch_count']) === 1);
      await held.release();
      await (await waiting).release();
      cost = delta(before, await counts());
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    // The create and the listing go out together, so either may be reported first.
    expect([...ops.slice(0, 2)].sort()).toEqual(['create', 'getChildren']);
    expect(ops.slice(2)).toEqual(['get', 'getChildren', 'delete']);
    expect(cost.watches).toBe(1);
  });

  test('mutex - the listing is sent with the create, not after its reply', async () => {
    const c = await client();
    const mutex = new Mutex(c, '/herd/pipelined');
    await (await mutex.acquire()).release(); // creates the parents
    const spans = new Map<string, { start: number; end: number }>();
    const onOp = (message: unknown) => {
      const m = message as OpMessage;
      if (m.client !== c) return;
      const end = performance.now();
      spans.set(m.op, { start: end - m.durationMs, end });
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      await (await mutex.acquire()).release();
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    const create = spans.get('create');
    const list = spans.get('getChildren');
    expect(create).toBeDefined();
    expect(list).toBeDefined();
    expect(list!.start).toBeLessThan(create!.end);
  });

  test('read-write lock - readers queued behind a writer all wake when it leaves', async () => {
    const path = '/herd/rw';
    const [a, b, c] = await Promise.all([client(), client(), client()]);
    const writer = await new ReadWriteLock(a, path).writeLock.acquire();
    const readers = [b, c, b, c].map((s) => new ReadWriteLock(s, path).readLock.acquire());
    await waitFor(async () => (await children(a, path)).length === 5);
    await waitFor(async () => Number((await server.mntr())['zk_watch_count']) === 2);
    const before = await counts();
    await writer.release();
    const held = await Promise.all(readers);
    const cost = delta(before, await counts());
    // The server keeps one watch per session and path: two sessions, two notifications, four
    // readers woken.
    expect(cost.watches).toBe(2);
    await Promise.all(held.map((l) => l.release()));
  });
});
