import { InvalidPathError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Mutex, inspectLock } from '../src/index.js';

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
