import diagnostics from 'node:diagnostics_channel';
import { InvalidArgumentError, type OpMessage } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Semaphore, type Lease } from '../src/index.js';
import { children, settled } from './helpers.js';
import { leaseNodes, sessionPathTests } from './session-paths.js';

const PATH = '/limits/api';

describe('Semaphore', () => {
  test('semaphore - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    for (const n of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Semaphore(client, PATH, n)).toThrow(InvalidArgumentError);
    }
    expect(() => new Semaphore(client, PATH, 2).acquire({ timeout: -1 })).toThrow(
      InvalidArgumentError,
    );
    expect(await client.exists('/limits')).toBeNull();
  });

  test('semaphore - at most n leases exist at once, the next one waits', async ({ zk }) => {
    const clients = await Promise.all([zk.client(), zk.client(), zk.client(), zk.client()]);
    const leases: Lease[] = [];
    for (const client of clients.slice(0, 3)) {
      leases.push(await new Semaphore(client, PATH, 3).acquire({ timeout: 5000 }));
    }
    expect(leases[0]?.path).toMatch(/^\/limits\/api\/leases\/_c_[0-9a-f-]{36}-lease-\d{10}$/);
    const fourth = new Semaphore(clients[3]!, PATH, 3).acquire();
    await waitFor(async () => (await leaseNodes(clients[0]!, PATH)).length === 5);
    expect(await settled(fourth)).toBe(false);
    expect(await new Semaphore(clients[0]!, PATH, 3).tryAcquire()).toBeNull();
    const participants = await new Semaphore(clients[0]!, PATH, 3).participants();
    expect(participants.map((p) => p.role)).toEqual([
      'holder',
      'holder',
      'holder',
      'holder',
      'waiter',
    ]);

    await leases[1]?.release();
    const granted = await fourth;
    expect(granted.fencingToken).toBeGreaterThan(leases[2]!.fencingToken);
    expect(await children(clients[0]!, `${PATH}/leases`)).toHaveLength(3);
    expect(await children(clients[0]!, `${PATH}/locks`)).toEqual([]);
    await Promise.all([leases[0]!.release(), leases[2]!.release(), granted.release()]);
    expect(await leaseNodes(clients[0]!, PATH)).toEqual([]);
  });

  test('semaphore - tryAcquire takes a free lease and refuses when none is', async ({ zk }) => {
    const client = await zk.client();
    const semaphore = new Semaphore(client, PATH, 1);
    const lease = await semaphore.tryAcquire();
    expect(lease).not.toBeNull();
    expect(await semaphore.tryAcquire()).toBeNull();
    expect(await leaseNodes(client, PATH)).toEqual([lease?.path]);
    await lease?.release();
  });

  sessionPathTests({
    name: 'semaphore',
    holder: (client, path) => new Semaphore(client, path, 1),
    waiter: (client, path) => new Semaphore(client, path, 1),
    queuedNodes: 3,
  });

  test('semaphore - acquire returns once the lease is held, without waiting for the internal mutex to go', async ({
    zk,
  }) => {
    const client = await zk.client();
    const semaphore = new Semaphore(client, '/pipelined/slots', 2);
    await (await semaphore.acquire()).release(); // creates the parents
    const deletes: { path: string; end: number }[] = [];
    const onOp = (message: unknown) => {
      const m = message as OpMessage;
      if (m.client === client && m.op === 'delete')
        deletes.push({ path: m.path, end: performance.now() });
    };
    diagnostics.subscribe('zkit:op', onOp);
    let acquired: number;
    let lease: Lease;
    try {
      lease = await semaphore.acquire();
      acquired = performance.now();
      await waitFor(() => deletes.length === 1);
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    const gate = deletes[0]!;
    expect(gate.path.startsWith('/pipelined/slots/locks/')).toBe(true);
    expect(gate.end).toBeGreaterThan(acquired);
    // The mutex is free for the next acquirer, and the lease still counts.
    expect(await children(client, '/pipelined/slots/locks')).toEqual([]);
    expect(await children(client, '/pipelined/slots/leases')).toHaveLength(1);
    await lease.release();
  });
});
