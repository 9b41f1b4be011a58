import { InvalidArgumentError, InvalidPathError, type ZkClient } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import {
  CacheClosedError,
  ChildrenCache,
  NodeCache,
  TreeCache,
  type CacheChange,
} from '../src/index.js';
import { ChangeLog, OpLog, cacheTree, serverTree, sessionWatches } from './helpers.js';

async function build(client: ZkClient, nodes: Record<string, string>): Promise<void> {
  for (const [path, data] of Object.entries(nodes)) await client.create(path, data);
}

describe('TreeCache', () => {
  test('tree cache - loads the tree, then reports added, updated and removed in order', async ({
    zk,
  }) => {
    const writer = await zk.client();
    const client = await zk.client();
    await build(writer, { '/t': 'root', '/t/a': 'A', '/t/a/x': 'X', '/t/b': 'B' });
    const cache = new TreeCache(client, '/t');
    expect(cache.state).toBe('latent');
    const log = new ChangeLog(cache);
    const iterated: CacheChange[] = [];
    const iterator = cache.changes();
    const consumed = (async () => {
      for await (const change of iterator) iterated.push(change);
    })();
    await cache.start();
    expect(cache.state).toBe('started');
    expect(cache.initialized).toBe(true);
    expect(log.lines).toEqual([
      'added /t=root',
      'added /t/a=A',
      'added /t/b=B',
      'added /t/a/x=X',
      'initialized',
    ]);
    expect(cache.size).toBe(4);
    expect(cache.get('/t/a/x')?.data?.toString()).toBe('X');
    expect(cache.children('/t').map((n) => n.path)).toEqual(['/t/a', '/t/b']);
    expect(cacheTree(cache)).toEqual(await serverTree(writer, '/t'));

    log.clear();
    await writer.set('/t/b', 'B2');
    await writer.create('/t/c', 'C');
    await writer.create('/t/c/y', 'Y');
    await writer.deleteRecursive('/t/a');
    await waitFor(() => log.lines.length === 5, { message: 'five changes' });
    // Changes that arrive together are applied by depth: parents are added before their
    // children, and removed after them.
    expect([...log.lines].sort()).toEqual([
      'added /t/c/y=Y',
      'added /t/c=C',
      'removed /t/a',
      'removed /t/a/x',
      'updated /t/b=B2',
    ]);
    const at = (line: string) => log.lines.indexOf(line);
    expect(at('added /t/c=C')).toBeLessThan(at('added /t/c/y=Y'));
    expect(at('removed /t/a/x')).toBeLessThan(at('removed /t/a'));
    const updated = log.changes.find((c) => c.type === 'updated');
    expect(updated?.type === 'updated' && updated.previous.data?.toString()).toBe('B');
    expect(cacheTree(cache)).toEqual(await serverTree(writer, '/t'));

    // The root itself leaves and comes back.
    log.clear();
    await writer.deleteRecursive('/t');
    await waitFor(() => cache.size === 0, { message: 'an empty view' });
    await writer.create('/t', 'again');
    await waitFor(() => cache.size === 1, { message: 'the root back' });
    expect([...log.lines].sort()).toEqual([
      'added /t=again',
      'removed /t',
      'removed /t/b',
      'removed /t/c',
      'removed /t/c/y',
    ]);
    expect(log.lines.slice(-2)).toEqual(['removed /t', 'added /t=again']);
    expect(log.backwards).toEqual([]);

    await cache.close();
    await consumed;
    expect(iterated.map((c) => c.type).slice(0, 5)).toEqual([
      'added',
      'added',
      'added',
      'added',
      'initialized',
    ]);
    expect(iterated).toHaveLength(15);
    expect(cache.state).toBe('closed');
    expect(cache.size).toBe(0);
  });

  test('tree cache - loads a wide tree in few requests, pipelined', async ({ zk }) => {
    const writer = await zk.client();
    const client = await zk.client();
    await writer.create('/w');
    const creates: Promise<string>[] = [];
    for (let i = 0; i < 20; i++) {
      creates.push(writer.create(`/w/p${i}`, `p${i}`));
      for (let j = 0; j < 20; j++)
        creates.push(writer.create(`/w/p${i}/c${j}`, `${i}.${j}`, { parents: 'persistent' }));
    }
    await Promise.all(creates);
    const ops = new OpLog(client);
    await using cache = new TreeCache(client, '/w');
    await cache.start();
    ops.close();
    expect(cache.size).toBe(1 + 20 + 400);
    expect(cacheTree(cache)).toEqual(await serverTree(writer, '/w'));
    const count = (op: string) => ops.ops.filter((o) => o.op === op).length;
    // 421 nodes: 4 multi-reads for the data, a listing for each of the 21 nodes with children,
    // none for the 400 leaves, no read node by node.
    expect(count('multiRead')).toBe(1 + 1 + 4);
    expect(count('getChildren')).toBe(21);
    expect(count('get')).toBe(0);
    expect(count('exists')).toBe(0);

    // After the load, one request per change at most.
    const log = new ChangeLog(cache);
    const during = new OpLog(client);
    await writer.set('/w/p3/c3', 'changed');
    await writer.create('/w/p3/c99', 'new');
    await writer.delete('/w/p4/c4');
    await waitFor(() => log.lines.length === 3, { message: 'three changes' });
    during.close();
    // One multi-read per change at most (changes that arrive together share one).
    expect(during.ops.length).toBeGreaterThanOrEqual(1);
    expect(during.ops.length).toBeLessThanOrEqual(3);
    expect(new Set(during.ops.map((o) => o.op))).toEqual(new Set(['multiRead']));
    expect([...log.lines].sort()).toEqual([
      'added /w/p3/c99=new',
      'removed /w/p4/c4',
      'updated /w/p3/c3=changed',
    ]);
  });

  test('tree cache - never lists nor reads beyond depth, never reads filtered data', async ({
    zk,
  }) => {
    const writer = await zk.client();
    const client = await zk.client();
    await build(writer, {
      '/d': 'root',
      '/d/a': 'A',
      '/d/a/deep': 'D',
      '/d/a/deep/deeper': 'E',
      '/d/secret': 'S',
      '/d/secret/inner': 'I',
    });
    const ops = new OpLog(client);
    await using cache = new TreeCache(client, '/d', {
      depth: 1,
      dataFilter: (path) => !path.startsWith('/d/secret'),
    });
    const log = new ChangeLog(cache);
    await cache.start();
    expect(cacheTree(cache)).toEqual(
      new Map([
        ['/d', 'root'],
        ['/d/a', 'A'],
        ['/d/secret', ''],
      ]),
    );
    expect(cache.get('/d/secret')?.stat.numChildren).toBe(1);
    expect(cache.get('/d/secret')?.data).toBeUndefined();
    // Changes beyond the depth are not reported; a filtered node's change is, without data.
    await writer.set('/d/a/deep', 'D2');
    await writer.create('/d/a/deep/more', 'M');
    await writer.set('/d/secret', 'S2');
    await writer.set('/d/a', 'A2');
    await waitFor(() => log.lines.includes('updated /d/a=A2'), { message: 'the update of /d/a' });
    expect(log.lines.slice(-2).sort()).toEqual(['updated /d/a=A2', 'updated /d/secret=-']);
    ops.close();
    const touched = ops.ops.filter(
      (o) => o.path.startsWith('/d/a/') || o.path.startsWith('/d/secret'),
    );
    // `/d/secret` is read by stat only: `exists` (at the depth limit), never `get` nor a multi-read.
    expect(touched.map((o) => `${o.op} ${o.path}`)).toEqual([
      'exists /d/secret',
      'exists /d/secret',
    ]);
    // The depth-1 node `/d/a` is read with its data, in a multi-read, never listed.
    expect(ops.ops.filter((o) => o.op === 'getChildren').map((o) => o.path)).toEqual(['/d']);
  });

  test('tree cache - bad input is a typed error before any request; state and close contract', async ({
    zk,
  }) => {
    const client = await zk.client();
    const ops = new OpLog(client);
    expect(() => new TreeCache(client, 'no-slash')).toThrow(InvalidPathError);
    expect(() => new TreeCache(client, '/a/')).toThrow(InvalidPathError);
    expect(() => new TreeCache(client, '/a', { depth: -1 })).toThrow(InvalidArgumentError);
    expect(() => new TreeCache(client, '/a', { depth: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new TreeCache(client, '/a', { dataFilter: 'x' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new ChildrenCache(client, '/a', { cacheData: 'no' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new NodeCache({} as ZkClient, '/a')).toThrow(InvalidArgumentError);
    expect(() => new NodeCache(client, '/a', { recursiveWatch: 1 as never })).toThrow(
      InvalidArgumentError,
    );
    expect(ops.ops).toEqual([]);
    ops.close();

    const never = new TreeCache(client, '/n');
    await never.close();
    await never.close();
    await expect(never.start()).rejects.toBeInstanceOf(CacheClosedError);

    const cache = new TreeCache(client, '/n');
    const first = cache.start();
    expect(cache.start()).toBe(first);
    await first;
    expect(await sessionWatches(zk.serverConnectString, client.sessionId as string)).toEqual([
      `${zk.chroot}/n`,
    ]);
    await Promise.all([cache.close(), cache.close()]);
    expect(await sessionWatches(zk.serverConnectString, client.sessionId as string)).toEqual([]);
    expect(cache.state).toBe('closed');

    // `await using` closes it and removes its watch.
    {
      await using disposable = new ChildrenCache(client, '/n');
      await disposable.start();
      expect(await sessionWatches(zk.serverConnectString, client.sessionId as string)).toHaveLength(
        1,
      );
    }
    expect(await sessionWatches(zk.serverConnectString, client.sessionId as string)).toEqual([]);

    // Closing the client closes the cache.
    const other = await zk.client();
    const orphan = new TreeCache(other, '/n');
    await orphan.start();
    await other.close();
    expect(orphan.state).toBe('closed');
  });
});

describe('ChildrenCache', () => {
  test('children cache - the children with their data; the parent is neither in the view nor read', async ({
    zk,
  }) => {
    const writer = await zk.client();
    const client = await zk.client();
    await build(writer, { '/c': 'parent', '/c/one': '1', '/c/one/grand': 'g' });
    const ops = new OpLog(client);
    await using cache = new ChildrenCache(client, '/c');
    const log = new ChangeLog(cache);
    await cache.start();
    expect(log.lines).toEqual(['added /c/one=1', 'initialized']);
    expect(cache.get('/c')).toBeUndefined();
    expect(cache.size).toBe(1);
    expect(cache.children().map((n) => n.data?.toString())).toEqual(['1']);
    // One step at a time: changes that arrive together are read together, and a node created
    // and deleted before the read is never seen (as with any watch).
    await writer.create('/c/two', '2');
    await waitFor(() => log.lines.length === 3, { message: 'the new child' });
    await writer.set('/c', 'parent2');
    await writer.set('/c/one/grand', 'g2');
    await writer.set('/c/one', '1b');
    await waitFor(() => log.lines.length === 4, { message: 'the update' });
    await writer.delete('/c/two');
    await waitFor(() => log.lines.length === 5, { message: 'the removal' });
    expect(log.lines.slice(2)).toEqual(['added /c/two=2', 'updated /c/one=1b', 'removed /c/two']);
    ops.close();
    expect(ops.ops.filter((o) => o.path.startsWith('/c/one/'))).toEqual([]);
    expect(ops.ops.filter((o) => o.path === '/c').map((o) => o.op)).toEqual([
      'addWatch',
      'getChildren',
    ]);
    expect(log.backwards).toEqual([]);
  });
});

describe('NodeCache', () => {
  test('node cache - an absent node, created, changed, deleted, with stat-only mode', async ({
    zk,
  }) => {
    const writer = await zk.client();
    const client = await zk.client();
    await using cache = new NodeCache(client, '/flag');
    await using statOnly = new NodeCache(client, '/flag', { cacheData: false });
    const log = new ChangeLog(cache);
    const statLog = new ChangeLog(statOnly);
    await Promise.all([cache.start(), statOnly.start()]);
    expect(cache.current).toBeUndefined();
    expect(log.lines).toEqual(['initialized']);
    const steps = async (n: number) =>
      waitFor(() => log.lines.length === n && statLog.lines.length === n, {
        message: `${n} changes each`,
      });
    await writer.create('/flag', 'on');
    await steps(2);
    await writer.create('/flag/child', 'ignored');
    await writer.set('/flag', 'off');
    await steps(3);
    await writer.deleteRecursive('/flag');
    await steps(4);
    expect(log.lines).toEqual([
      'initialized',
      'added /flag=on',
      'updated /flag=off',
      'removed /flag',
    ]);
    expect(statLog.lines).toEqual([
      'initialized',
      'added /flag=-',
      'updated /flag=-',
      'removed /flag',
    ]);
    await writer.create('/flag', 'back');
    await waitFor(() => cache.current?.data?.toString() === 'back', { message: 'the node back' });
    expect(cache.current?.stat.version).toBe(0);
  });
});
