import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { waitFor } from '@zkit/testing';
import { ZkClient, join } from '@zkit/core';

describe('nodes', () => {
  test('nodes - an emptied container is reaped by the server', async ({ zk }) => {
    const client = await zk.client();
    const child = await client.create('/box/item', '', { parents: 'container' });
    expect((await client.exists('/box'))?.ephemeralOwner).toBe('0');
    await client.delete(child);
    await waitFor(async () => (await client.exists('/box')) === null, { timeout: 10_000 });
  });

  test('nodes - a create under a reaped container recreates the parents (the NoNode rule)', async ({
    zk,
  }) => {
    const client = await zk.client();
    for (let round = 0; round < 3; round++) {
      const node = await client.create('/jobs/box/item-', '', {
        mode: 'ephemeralSequential',
        parents: 'container',
      });
      await client.delete(node);
      // The server reaps the parents between our steps; the next create must not care.
      await waitFor(async () => (await client.exists('/jobs/box')) === null, { timeout: 10_000 });
    }
    const last = await client.create('/jobs/box/item-', '', {
      mode: 'ephemeralSequential',
      parents: 'container',
    });
    expect(last).toMatch(/^\/jobs\/box\/item-\d{10}$/);
  });

  test('nodes - a TTL node without children disappears after its TTL', async ({ zk }) => {
    const client = await zk.client();
    await client.create('/ttl', 'x', { mode: 'persistentWithTtl', ttl: 300 });
    expect(await client.exists('/ttl')).not.toBeNull();
    await waitFor(async () => (await client.exists('/ttl')) === null, { timeout: 10_000 });
  });

  test('nodes - protected creates carry the uuid prefix and are found again after a lost reply', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 4000 });
    await client.start();
    await client.create('/p');
    // Cut the link at different moments around the request: whether or not the request reached
    // the server, exactly one node of ours must exist afterwards.
    for (let i = 0; i < 4; i++) {
      const pending = client.createProtected('/p', `lock-`, `attempt-${i}`);
      setTimeout(() => proxy.drop(), i);
      const path = await pending;
      expect(path).toMatch(/^\/p\/_c_[0-9a-f-]{36}-lock-\d{10}$/);
      const prefix = path.slice(3, 3 + 3 + 36 + 1);
      const mine = (await client.getChildren('/p')).filter((c) => c.startsWith(prefix));
      expect(mine).toHaveLength(1);
      const stat = await client.exists(path);
      expect(stat?.ephemeralOwner).toBe(client.sessionId);
    }
    expect(await client.getChildren('/p')).toHaveLength(4);
  });

  test('nodes - a guaranteed delete survives a partition and completes after it heals', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    // A connect timeout far shorter than the outage: the delete must outlast it.
    await using client = new ZkClient(proxy.connectString, {
      sessionTimeout: 8000,
      connectTimeout: 300,
      retry: { retries: 1 },
    });
    await client.start();
    const observer = await zk.client();
    await client.create('/g', 'x');
    proxy.partition();
    const started = Date.now();
    const deleting = client.deleteGuaranteed('/g');
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    expect(await observer.exists('/g')).not.toBeNull();
    expect(client.pendingDeletes).toBe(1);
    await waitFor(() => client.pendingDeletes === 1 && Date.now() - started > 1500, {
      timeout: 10_000,
    });
    proxy.heal();
    await deleting;
    expect(await observer.exists('/g')).toBeNull();
    expect(client.pendingDeletes).toBe(0);
  });

  test('nodes - a guaranteed delete of an ephemeral resolves once its session is lost', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    await using client = new ZkClient(proxy.connectString, { sessionTimeout: 2000 });
    await client.start();
    await client.create('/eph', '', { mode: 'ephemeral' });
    proxy.partition();
    const deleting = client.deleteGuaranteed('/eph', { ephemeral: true });
    // The link stays dark: no new session can connect, yet the delete is moot once the old one is lost.
    await waitFor(() => client.state === 'lost', { timeout: 10_000 });
    await deleting;
    expect(client.state).toBe('lost');
    expect(client.pendingDeletes).toBe(0);
    proxy.heal();
  });

  test('nodes - a node left by an earlier session is not adopted by a protected create', async ({
    zk,
  }) => {
    const client = await zk.client();
    await client.create('/q');
    const other = await zk.client();
    // Same name grammar, different session: our create must make its own node.
    await other.create(join('/q', '_c_00000000-0000-0000-0000-000000000000-lock-'), '', {
      mode: 'ephemeralSequential',
    });
    const mine = await client.createProtected('/q', 'lock-');
    const stat = await client.exists(mine);
    expect(stat?.ephemeralOwner).toBe(client.sessionId);
    expect(await client.getChildren('/q')).toHaveLength(2);
  });
});
