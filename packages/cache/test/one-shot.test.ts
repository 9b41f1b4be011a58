import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { ChildrenCache, TreeCache } from '../src/index.js';
import { ChangeLog, cacheTree, serverTree } from './helpers.js';

// One-shot watches: what a cache uses on a server without persistent watches (before 3.6), and
// with `recursiveWatch: false`. Same events, same guarantees, more requests.

test('cache - with one-shot watches: every change of a nested tree, and the session paths', async ({
  zk,
}) => {
  const writer = await zk.client();
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
  await writer.create('/o', 'root');
  await writer.create('/o/a', 'A');
  await writer.create('/o/a/x', 'X');
  await using cache = new TreeCache(client, '/o', { recursiveWatch: false });
  await using children = new ChildrenCache(client, '/o', { recursiveWatch: false });
  const log = new ChangeLog(cache);
  const childLog = new ChangeLog(children);
  await Promise.all([cache.start(), children.start()]);
  expect(log.lines).toEqual(['added /o=root', 'added /o/a=A', 'added /o/a/x=X', 'initialized']);
  expect(childLog.lines).toEqual(['added /o/a=A', 'initialized']);
  // One-shot waiters, not a recursive watch: a data watch per node, a child watch per parent.
  expect(client.watchCount).toBeGreaterThan(0);
  const converged = async () => {
    const server = await serverTree(writer, '/o');
    await waitFor(() => JSON.stringify([...cacheTree(cache)]) === JSON.stringify([...server]), {
      message: 'the cache converged',
    });
  };

  // Each step waits for its events: one-shot watches see each change (none coalesced here).
  await writer.create('/o/b', 'B');
  await waitFor(() => log.lines.includes('added /o/b=B'), { message: 'a new child' });
  await writer.create('/o/b/y', 'Y');
  await waitFor(() => log.lines.includes('added /o/b/y=Y'), { message: 'a new grandchild' });
  await writer.set('/o/a/x', 'X2');
  await waitFor(() => log.lines.includes('updated /o/a/x=X2'), { message: 'a data change' });
  await writer.deleteRecursive('/o/a');
  await waitFor(() => log.lines.includes('removed /o/a'), { message: 'a removal' });
  await converged();
  expect(log.lines.slice(4)).toEqual([
    'added /o/b=B',
    'added /o/b/y=Y',
    'updated /o/a/x=X2',
    'removed /o/a/x',
    'removed /o/a',
  ]);
  await waitFor(() => childLog.lines.includes('removed /o/a'), { message: 'the children' });
  expect(childLog.lines.slice(2)).toEqual(['added /o/b=B', 'removed /o/a']);

  // Cut off, changed meanwhile, back on the same session: watches set again report it, once.
  log.clear();
  proxy.partition();
  proxy.drop();
  await waitFor(() => client.state === 'suspended', { message: 'suspended' });
  await writer.set('/o/b', 'B2');
  proxy.heal();
  await waitFor(() => log.lines.includes('updated /o/b=B2'), { message: 'the change meanwhile' });
  expect(log.lines).toEqual(['updated /o/b=B2']);

  // A new session: reset, then the differences.
  log.clear();
  proxy.partition();
  proxy.drop();
  await waitFor(() => client.state === 'suspended', { message: 'suspended again' });
  await writer.create('/o/c', 'C');
  await writer.delete('/o/b/y');
  await expireSession(client, { connectString: zk.connectString });
  proxy.heal();
  await converged();
  expect(log.lines[0]).toBe('reset');
  expect(log.lines.slice(1).sort()).toEqual(['added /o/c=C', 'removed /o/b/y']);
  // Watches are set on the new session.
  await writer.set('/o/c', 'C2');
  await waitFor(() => log.lines.includes('updated /o/c=C2'), { message: 'a change after' });
  expect(log.backwards).toEqual([]);
  expect(childLog.backwards).toEqual([]);
  await Promise.all([cache.close(), children.close()]);
  // Closing forgets every waiter.
  expect(client.watchCount).toBe(0);
});
