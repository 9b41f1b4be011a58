import { describe, expect } from 'vitest';
import { test } from '@zkit/testing/vitest';
import { expireSession, waitFor } from '@zkit/testing';
import type { ZkClient } from '@zkit/core';
import {
  ClientClosedError,
  DataTooLargeError,
  InvalidArgumentError,
  InvalidPathError,
  PersistentNode,
  PersistentNodeClosedError,
} from '@zkit/core';

describe('persistent node', () => {
  test('persistent node - bad input is refused before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new PersistentNode(client, 'no-slash')).toThrow(InvalidPathError);
    expect(() => new PersistentNode(client, '/')).toThrow(InvalidArgumentError);
    expect(() => new PersistentNode(client, '/a', '', { mode: 'container' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new PersistentNode(client, '/a', '', { mode: 'persistentWithTtl' })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new PersistentNode(client, '/a', '', { ttl: 1000 })).toThrow(InvalidArgumentError);
    expect(() => new PersistentNode(client, '/a', 42 as never)).toThrow(InvalidArgumentError);
    expect(() => new PersistentNode(client, '/a', Buffer.alloc(client.maxDataBytes + 1))).toThrow(
      DataTooLargeError,
    );
    expect(() => new PersistentNode({} as ZkClient, '/a')).toThrow(InvalidArgumentError);
    const node = new PersistentNode(client, '/a');
    await expect(node.setData(7 as never)).rejects.toThrow(InvalidArgumentError);
    await expect(node.whenCreated({ timeout: -1 })).rejects.toThrow(InvalidArgumentError);
    expect(await client.exists('/a')).toBeNull();
    await node.close();
    expect(() => node.start()).toThrow(PersistentNodeClosedError);
  });

  test('persistent node - an ephemeral node is created, updated, re-created after a foreign delete, and removed on close', async ({
    zk,
  }) => {
    const client = await zk.client();
    const other = await zk.client();
    const node = new PersistentNode(client, '/members/a', 'one');
    const created: string[] = [];
    node.on('created', (path) => created.push(path));
    node.start();
    expect(await node.whenCreated({ timeout: 10_000 })).toBe('/members/a');
    const first = await client.get('/members/a');
    expect(first.data.toString()).toBe('one');
    expect(first.stat.ephemeralOwner).toBe(client.sessionId);

    await node.setData('two');
    expect((await other.get('/members/a')).data.toString()).toBe('two');

    await other.delete('/members/a');
    await waitFor(() => created.length === 2, { message: 'the node to be re-created' });
    const again = await other.get('/members/a');
    expect(again.data.toString()).toBe('two');
    expect(again.stat.ephemeralOwner).toBe(client.sessionId);

    await node.close();
    expect(await other.exists('/members/a')).toBeNull();
    await expect(node.whenCreated()).rejects.toThrow(PersistentNodeClosedError);
    expect(created).toEqual(['/members/a', '/members/a']);
    expect(client.watchCount).toBe(0);
  });

  test('persistent node - a connection drop keeps the node; an expired session re-creates one copy', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const observer = await zk.client();
    const node = new PersistentNode(client, '/workers/w-', 'host-a', {
      mode: 'ephemeralSequential',
    });
    const created: string[] = [];
    node.on('created', (path) => created.push(path));
    node.start();
    const first = await node.whenCreated({ timeout: 10_000 });
    expect(first).toMatch(/^\/workers\/_c_[0-9a-f-]{36}-w-\d{10}$/);

    proxy.drop();
    await waitFor(() => client.state === 'reconnected', { message: 'the client to reconnect' });
    // Same session: the node is still ours and nothing is re-created.
    expect(await observer.getChildren('/workers')).toEqual([first.slice('/workers/'.length)]);
    expect(node.path).toBe(first);

    const before = client.sessionId;
    await expireSession(client);
    await waitFor(() => created.length === 2, { message: 'the node to be re-created' });
    expect(client.sessionId).not.toBe(before);
    const second = await node.whenCreated();
    expect(second).not.toBe(first);
    const children = await observer.getChildren('/workers');
    expect(children).toEqual([second.slice('/workers/'.length)]);
    expect((await observer.get(second)).stat.ephemeralOwner).toBe(client.sessionId);
    expect((await observer.get(second)).data.toString()).toBe('host-a');

    await node.close();
    expect(await observer.getChildren('/workers').catch(() => [])).toEqual([]);
  });

  test('persistent node - a node held by another session is left alone until it goes', async ({
    zk,
  }) => {
    const client = await zk.client();
    const other = await zk.client();
    await other.create('/slot', 'theirs', { mode: 'ephemeral' });
    const node = new PersistentNode(client, '/slot', 'mine');
    node.start();
    // Ours is created only once theirs is gone.
    const waiting = node.whenCreated({ timeout: 20_000 });
    await waitFor(async () => (await other.exists('/slot'))?.ephemeralOwner === other.sessionId);
    expect(node.path).toBeUndefined();
    await other.close();
    expect(await waiting).toBe('/slot');
    const { data, stat } = await client.get('/slot');
    expect(data.toString()).toBe('mine');
    expect(stat.ephemeralOwner).toBe(client.sessionId);
    await node.close();
    expect(await client.exists('/slot')).toBeNull();
  });

  test('persistent node - close leaves alone a node another session created at its path', async ({
    zk,
  }) => {
    const client = await zk.client();
    const other = await zk.client();
    const node = new PersistentNode(client, '/seat', 'mine');
    node.start();
    await node.whenCreated({ timeout: 10_000 });
    // Delete ours and create theirs in one go; our re-create may win the race: then again.
    await waitFor(
      async () => {
        const [removed, created] = await Promise.allSettled([
          other.delete('/seat'),
          other.create('/seat', 'theirs', { mode: 'ephemeral' }),
        ]);
        return removed.status === 'fulfilled' && created.status === 'fulfilled';
      },
      { message: 'the other session to take the path' },
    );
    await waitFor(() => node.path === undefined, { message: 'the node to see it is not ours' });
    await node.close();
    const { data, stat } = await other.get('/seat');
    expect(data.toString()).toBe('theirs');
    expect(stat.ephemeralOwner).toBe(other.sessionId);
  });

  test('persistent node - a wait for the node ends when the client closes', async ({ zk }) => {
    const client = await zk.client();
    const other = await zk.client();
    await other.create('/taken', '', { mode: 'ephemeral' });
    const node = new PersistentNode(client, '/taken');
    node.start();
    const waiting = expect(node.whenCreated()).rejects.toThrow(ClientClosedError);
    await client.close();
    await waiting;
    await expect(node.whenCreated()).rejects.toThrow(ClientClosedError);
    await node.close();
  });

  test('persistent node - a TTL node is touched while it lives and re-created when removed', async ({
    zk,
  }) => {
    const client = await zk.client();
    const node = new PersistentNode(client, '/leases/t', 'x', {
      mode: 'persistentWithTtl',
      ttl: 400,
    });
    const created: string[] = [];
    node.on('created', (path) => created.push(path));
    node.start();
    await node.whenCreated({ timeout: 10_000 });
    const first = await client.exists('/leases/t');
    expect(first?.ephemeralOwner).toBe('0');
    // Touched every ttl / 2: its modification time moves on.
    await waitFor(async () => ((await client.exists('/leases/t'))?.version ?? 0) >= 2);
    await client.delete('/leases/t');
    await waitFor(() => created.length === 2, { message: 'the TTL node to be re-created' });
    await node.close();
    expect(await client.exists('/leases/t')).toBeNull();
  });
});
