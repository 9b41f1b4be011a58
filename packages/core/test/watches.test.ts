import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { expireSession, waitFor } from '@zkit/testing';
import { SessionExpiredError, ZkClient, type DataSnapshot } from '@zkit/core';

describe('watches', () => {
  test('watches - watchOnce resolves on the matching event only', async ({ zk }) => {
    const client = await zk.client();
    const writer = await zk.client();
    await client.create('/w', 'a');
    const deleted = client.watchOnce('/w', 'deleted');
    await writer.set('/w', 'b'); // a data change re-arms, it does not resolve
    await writer.delete('/w');
    expect(await deleted).toEqual({ type: 'deleted', path: '/w' });
    const kids = client.watchOnce('/parent', 'childrenChanged');
    await writer.create('/parent');
    await writer.create('/parent/kid');
    expect(await kids).toEqual({ type: 'childrenChanged', path: '/parent' });
  });

  test('watches - waitForDeletion resolves at once for a missing node, and on deletion', async ({
    zk,
  }) => {
    const client = await zk.client();
    const writer = await zk.client();
    await client.waitForDeletion('/never');
    await writer.create('/target');
    const waiting = client.waitForDeletion('/target');
    await writer.delete('/target');
    await waiting;
    expect(client.watchCount).toBe(0);
  });

  test('watches - a wait rejects with the signal reason on abort and with TimeoutError on timeout, and is released', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/stay');
    const controller = new AbortController();
    const waiting = client.waitForDeletion('/stay', { signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    const timed = await client.waitForDeletion('/stay', { timeout: 50 }).catch((e: unknown) => e);
    expect((timed as DOMException).name).toBe('TimeoutError');
    expect(client.watchCount).toBe(0);
  });

  test('watches - a pending wait rejects with SessionExpiredError when the session is lost', async ({
    zk,
  }) => {
    const client = await zk.client({ sessionTimeout: 2000 });
    await client.create('/stay');
    // The expectation is attached now: the wait may reject before expireSession returns, and a
    // rejection with no handler yet is reported as unhandled.
    const waiting = expect(client.waitForDeletion('/stay')).rejects.toBeInstanceOf(
      SessionExpiredError,
    );
    await expireSession(client);
    await waiting;
  });

  test('watches - watchData re-reads after every change and keeps going across a session loss', async ({
    zk,
  }) => {
    const client = await zk.client({ sessionTimeout: 2000 });
    const writer = await zk.client();
    const seen: (string | null)[] = [];
    const controller = new AbortController();
    const done = (async () => {
      for await (const snap of client.watchData('/cfg', { signal: controller.signal })) {
        seen.push(snapshotText(snap));
      }
    })();
    await waitFor(() => seen.length === 1, { timeout: 5000 });
    expect(seen[0]).toBeNull();
    await writer.create('/cfg', 'v1');
    await waitFor(() => seen.at(-1) === 'v1', { timeout: 5000 });
    await expireSession(client);
    await writer.set('/cfg', 'v2');
    await waitFor(() => seen.at(-1) === 'v2', { timeout: 15_000 });
    await writer.set('/cfg', 'v3');
    await waitFor(() => seen.at(-1) === 'v3', { timeout: 5000 });
    controller.abort();
    await done;
    expect(client.watchCount).toBe(0);
  });

  test('watches - watchChildren follows the children and ends when the client closes', async ({
    zk,
  }) => {
    const client = new ZkClient(zk.connectString, { sessionTimeout: 4000 });
    await client.start();
    const writer = await zk.client();
    const seen: (string[] | null)[] = [];
    const done = (async () => {
      for await (const snap of client.watchChildren('/set'))
        seen.push(snap ? snap.children.sort() : null);
    })();
    await waitFor(() => seen.length === 1, { timeout: 5000 });
    await writer.create('/set');
    await writer.create('/set/a');
    await waitFor(() => JSON.stringify(seen.at(-1)) === '["a"]', { timeout: 5000 });
    await writer.create('/set/b');
    await waitFor(() => JSON.stringify(seen.at(-1)) === '["a","b"]', { timeout: 5000 });
    await client.close();
    await done;
    expect(seen[0]).toBeNull();
  });

  test('watches - 100 000 watch registrations and firings keep memory flat', async ({ zk }) => {
    const client = await zk.client();
    const writer = await zk.client();
    await client.create('/hot', '0');
    const round = async (i: number) => {
      const watched = await Promise.all(
        Array.from({ length: 1000 }, () => client.existsWatched('/hot')),
      );
      await writer.set('/hot', String(i));
      await Promise.all(watched.map((w) => w.changed));
    };
    for (let i = 0; i < 10; i++) await round(i); // warm-up
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) await round(i);
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - before;
    expect(client.watchCount).toBe(0);
    // Stated bound: under 8 MB for 100 000 fired watches (the leaking w_* path grows ~13 MB).
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });
});

function snapshotText(snap: DataSnapshot): string | null {
  return snap === null ? null : snap.data.toString();
}
