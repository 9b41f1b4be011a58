import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import type { ZkClient } from '@zkit/core';
import { expect } from 'vitest';
import { ServiceCache, ServiceRegistry } from '../src/index.js';

const BASE = '/services';
const SERVICE = `${BASE}/api`;

/** Every change the cache reports, as `type id`. */
function ledger(cache: ServiceCache): string[] {
  const log: string[] = [];
  cache.on('change', (c) => log.push(`${c.type} ${c.instance.id}`));
  return log;
}

/**
 * Registers and unregisters a marker instance and waits for both in the cache. The removal comes
 * through the cache's listing, after every earlier reply of its session: any late duplicate of
 * an earlier change would be in the ledger by then.
 */
async function settle(registry: ServiceRegistry, cache: ServiceCache): Promise<void> {
  const marker = await registry.register({ name: 'api', id: 'zz-marker', port: 1 });
  await waitFor(() => cache.instance('zz-marker') !== undefined);
  await marker.unregister();
  await waitFor(() => cache.instance('zz-marker') === undefined);
}

/** Registers `ids` one by one, each waited for in the cache, then updates and removes some. */
async function exercise(
  registry: ServiceRegistry,
  cache: ServiceCache,
  ids: string[],
): Promise<void> {
  const regs = [];
  for (const [i, id] of ids.entries()) {
    regs.push(await registry.register({ name: 'api', id, port: 1000 + i }));
    await waitFor(() => cache.instance(id) !== undefined, { message: `${id} in the cache` });
  }
  for (const id of ids.slice(0, 2)) {
    await registry.update({ name: 'api', id, port: 2000 });
    await waitFor(() => cache.instance(id)?.port === 2000, { message: `${id} updated` });
  }
  for (const reg of regs.slice(2, 4)) {
    await reg.unregister();
    await waitFor(() => cache.instance(reg.instance.id) === undefined);
  }
}

function expected(ids: string[]): string[] {
  return [
    ...ids.map((id) => `added ${id}`),
    ...ids.slice(0, 2).map((id) => `updated ${id}`),
    ...ids.slice(2, 4).map((id) => `removed ${id}`),
    'added zz-marker',
    'removed zz-marker',
  ];
}

const IDS = Array.from({ length: 12 }, (_, i) => `inst-${String(i).padStart(2, '0')}`);

test('registry - with the recursive watch, each instance is added, updated and removed exactly once', async ({
  zk,
}) => {
  const registry = new ServiceRegistry(await zk.client(), { basePath: BASE });
  const watcher = new ServiceRegistry(await zk.client(), { basePath: BASE });
  const cache = watcher.cache('api');
  const log = ledger(cache);
  await cache.ready();
  await waitFor(() => cache.accelerated, { message: 'the recursive watch to be set' });

  await exercise(registry, cache, IDS);
  await settle(registry, cache);
  expect(log).toEqual(expected(IDS));
  expect(cache.instances().map((i) => i.id)).toEqual(IDS.filter((_, i) => i < 2 || i >= 4));
  expect(cache.accelerated).toBe(true);
  await cache.close();
  expect(cache.accelerated).toBe(false);
  await registry.close();
});

test('registry - with the recursive watch turned off, the cache reports the same changes', async ({
  zk,
}) => {
  const registry = new ServiceRegistry(await zk.client(), { basePath: BASE });
  const client = await zk.client();
  await client.ensurePath(SERVICE);
  const cache = new ServiceCache(client, SERVICE, 'api', { recursiveWatch: false });
  const log = ledger(cache);
  await cache.ready();

  await exercise(registry, cache, IDS);
  await settle(registry, cache);
  expect(log).toEqual(expected(IDS));
  expect(cache.accelerated).toBe(false);
  await cache.close();
  await registry.close();
});

test('registry - a node deleted and re-created before the cache lists again is read anew, data and watch', async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const writer = await zk.client();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 8000 });
  const raw = (port: number) => JSON.stringify({ name: 'api', id: 'a', port });
  await writer.create(`${SERVICE}/a`, raw(1), { parents: 'persistent' });
  const cache = new ServiceCache(client, SERVICE, 'api', { recursiveWatch: false });
  const log = ledger(cache);
  await cache.ready();
  // Held back while both changes happen, the cache's next listing still shows `a`.
  proxy.partition();
  await writer.delete(`${SERVICE}/a`);
  await writer.create(`${SERVICE}/a`, raw(2));
  proxy.heal();
  await waitFor(() => cache.instance('a')?.port === 2, { message: 'the new node read' });
  // The data watch is armed on the new node: a later change is seen too.
  await writer.set(`${SERVICE}/a`, raw(3));
  await waitFor(() => cache.instance('a')?.port === 3, { message: 'the change seen' });
  expect(log).toEqual(['added a', 'updated a', 'updated a']);
  expect(client.state).toBe('connected');
  await cache.close();
});

/**
 * A native-transport client whose watch connection goes through `proxy` while its own
 * connection goes straight to the server: the watch connection uses the connect string the
 * client was made with, the client's later sessions the servers given to `updateServers`.
 */
async function splitClient(
  zk: { client: (o: object) => Promise<ZkClient>; connectString: string },
  proxyConnectString: string,
): Promise<ZkClient> {
  const client = await zk.client({
    connectString: proxyConnectString,
    sessionTimeout: 4000,
    transport: 'native',
  });
  client.updateServers(zk.connectString);
  await expireSession(client);
  await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
  return client;
}

test('registry - cutting the recursive watch connection costs speed, never correctness (native: extra connection)', async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const client = await splitClient(zk, proxy.connectString);
  const registry = new ServiceRegistry(await zk.client(), { basePath: BASE });
  const watcher = new ServiceRegistry(client, { basePath: BASE });
  const cache = watcher.cache('api');
  const log = ledger(cache);
  await cache.ready();
  await waitFor(() => cache.accelerated, { message: 'the recursive watch to be set' });
  const stale: boolean[] = [];
  cache.on('stale', (s) => stale.push(s));

  // Black-holed: the cache goes on through its own watches.
  proxy.partition();
  await waitFor(() => !cache.accelerated, { timeout: 10_000, message: 'the cut to be noticed' });
  await exercise(registry, cache, IDS.slice(0, 6));
  // Reset: the watch connection comes back and is used again.
  proxy.heal();
  await waitFor(() => cache.accelerated, { timeout: 15_000, message: 'the watch to be back' });
  proxy.drop();
  await exercise(registry, cache, IDS.slice(6));
  await waitFor(() => cache.accelerated, { timeout: 15_000, message: 'the watch to be back' });
  await settle(registry, cache);

  expect(log).toEqual([
    ...expected(IDS.slice(0, 6)).slice(0, -2),
    ...IDS.slice(6).map((id) => `added ${id}`),
    ...IDS.slice(6, 8).map((id) => `updated ${id}`),
    ...IDS.slice(8, 10).map((id) => `removed ${id}`),
    'added zz-marker',
    'removed zz-marker',
  ]);
  // The client's own connection was never cut.
  expect(stale).toEqual([]);
  await watcher.close();
  await registry.close();
});

test('registry - a drop and a new session interrupt the recursive watch on the client’s own session: speed, never correctness (wire)', async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const client = await zk.client({
    connectString: proxy.connectString,
    sessionTimeout: 4000,
    transport: 'wire',
  });
  const registry = new ServiceRegistry(await zk.client(), { basePath: BASE });
  const watcher = new ServiceRegistry(client, { basePath: BASE });
  const cache = watcher.cache('api');
  const log = ledger(cache);
  await cache.ready();
  await waitFor(() => cache.accelerated, { message: 'the recursive watch to be set' });

  // Dropped: the watch is interrupted with the client's connection and set again on its return.
  proxy.drop();
  await exercise(registry, cache, IDS.slice(0, 6));
  await waitFor(() => cache.accelerated, { timeout: 15_000, message: 'the watch to be back' });
  // A new session starts without the watch: it is set again there.
  await expireSession(client);
  await exercise(registry, cache, IDS.slice(6));
  await waitFor(() => cache.accelerated, { timeout: 15_000, message: 'the watch to be back' });
  await settle(registry, cache);

  expect(log).toEqual([
    ...expected(IDS.slice(0, 6)).slice(0, -2),
    ...IDS.slice(6).map((id) => `added ${id}`),
    ...IDS.slice(6, 8).map((id) => `updated ${id}`),
    ...IDS.slice(8, 10).map((id) => `removed ${id}`),
    'added zz-marker',
    'removed zz-marker',
  ]);
  // Everything went over the client's one connection.
  expect(proxy.connections).toBe(1);
  await watcher.close();
  await registry.close();
});
