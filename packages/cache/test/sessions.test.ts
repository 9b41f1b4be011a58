import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { TreeCache } from '../src/index.js';
import { ChangeLog, cacheTree, serverTree } from './helpers.js';

test('cache - suspended then reconnected on the same session: a change made meanwhile is reported once', async ({
  zk,
}) => {
  const writer = await zk.client();
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 8000 });
  for (const [path, data] of [
    ['/s', 'root'],
    ['/s/a', 'A'],
    ['/s/b', 'B'],
  ] as const) {
    await writer.create(path, data);
  }
  await using cache = new TreeCache(client, '/s');
  const log = new ChangeLog(cache);
  await cache.start();
  log.clear();
  const session = client.sessionId;

  proxy.partition();
  proxy.drop();
  await waitFor(() => client.state === 'suspended', { message: 'the client suspended' });
  await writer.set('/s/a', 'A2');
  await writer.create('/s/c', 'C');
  await writer.delete('/s/b');
  proxy.heal();
  await waitFor(() => client.state === 'reconnected', { message: 'the client back' });
  const server = await serverTree(writer, '/s');
  await waitFor(() => JSON.stringify([...cacheTree(cache)]) === JSON.stringify([...server]), {
    message: 'the cache converged',
  });
  expect(client.sessionId).toBe(session);
  expect([...log.lines].sort()).toEqual(['added /s/c=C', 'removed /s/b', 'updated /s/a=A2']);
  // Nothing more arrives: the resync reported each change once, and the events replayed nothing.
  await writer.set('/s', 'marker');
  await waitFor(() => log.lines.includes('updated /s=marker'), { message: 'the marker' });
  expect(log.lines).toHaveLength(4);
  expect(log.backwards).toEqual([]);
});

test('cache - a new session after expiry: reset, then exactly the differences', async ({ zk }) => {
  const writer = await zk.client();
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
  for (const [path, data] of [
    ['/e', 'root'],
    ['/e/a', 'A'],
    ['/e/b', 'B'],
    ['/e/b/x', 'X'],
    ['/e/keep', 'K'],
  ] as const) {
    await writer.create(path, data);
  }
  await using cache = new TreeCache(client, '/e');
  const log = new ChangeLog(cache);
  await cache.start();
  log.clear();
  const session = client.sessionId;

  proxy.partition();
  proxy.drop();
  await waitFor(() => client.state === 'suspended', { message: 'the client suspended' });
  await writer.set('/e/a', 'A2');
  await writer.deleteRecursive('/e/b');
  await writer.create('/e/c', 'C');
  await writer.create('/e/c/y', 'Y');
  await expireSession(client, { connectString: zk.connectString });
  proxy.heal();
  await waitFor(() => client.state === 'reconnected', { message: 'a new session' });
  expect(client.sessionId).not.toBe(session);
  const server = await serverTree(writer, '/e');
  await waitFor(() => JSON.stringify([...cacheTree(cache)]) === JSON.stringify([...server]), {
    message: 'the cache converged',
  });
  expect(log.lines[0]).toBe('reset');
  expect(log.lines.slice(1).sort()).toEqual([
    'added /e/c/y=Y',
    'added /e/c=C',
    'removed /e/b',
    'removed /e/b/x',
    'updated /e/a=A2',
  ]);
  expect(log.lines.indexOf('removed /e/b/x')).toBeLessThan(log.lines.indexOf('removed /e/b'));
  expect(log.lines.indexOf('added /e/c=C')).toBeLessThan(log.lines.indexOf('added /e/c/y=Y'));
  expect(log.backwards).toEqual([]);

  // The watch is set on the new session: later changes still arrive.
  await writer.set('/e/keep', 'K2');
  await waitFor(() => log.lines.includes('updated /e/keep=K2'), { message: 'a change after' });
});

test('cache - under a stream of writes and dropped connections no change goes back in zxid order', async ({
  zk,
}) => {
  const writer = await zk.client();
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 8000 });
  await writer.create('/z', 'root');
  for (let i = 0; i < 5; i++) await writer.create(`/z/n${i}`, '0');
  await using cache = new TreeCache(client, '/z');
  const log = new ChangeLog(cache);
  await cache.start();
  const writes: Promise<unknown>[] = [];
  for (let round = 1; round <= 60; round++) {
    const i = round % 5;
    writes.push(writer.set(`/z/n${i}`, String(round)));
    if (round % 7 === 0) writes.push(writer.create(`/z/new${round}`, String(round)));
    if (round % 11 === 0) writes.push(writer.delete(`/z/new${round - 4}`).catch(() => undefined));
    if (round % 20 === 0) proxy.drop();
    if (round % 10 === 0) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  const server = await serverTree(writer, '/z');
  await waitFor(() => JSON.stringify([...cacheTree(cache)]) === JSON.stringify([...server]), {
    message: 'the cache converged',
  });
  expect(log.backwards).toEqual([]);
  // Each node's reported versions only grow.
  const versions = new Map<string, number>();
  for (const change of log.changes) {
    if (change.type !== 'updated') continue;
    const before = versions.get(change.path) ?? -1;
    expect(change.node.stat.version).toBeGreaterThan(before);
    versions.set(change.path, change.node.stat.version);
  }
});
