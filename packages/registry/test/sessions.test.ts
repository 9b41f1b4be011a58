import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { ServiceRegistry, type CacheChange } from '../src/index.js';

const BASE = '/services';

test('registry - after session expiry the instance is registered again and the cache sees it', async ({
  zk,
}) => {
  const serviceClient = await zk.client({ sessionTimeout: 3000 });
  const watchClient = await zk.client({ sessionTimeout: 4000 });
  const registry = new ServiceRegistry(serviceClient, { basePath: BASE });
  const watcher = new ServiceRegistry(watchClient, { basePath: BASE });
  const reg = await registry.register({ name: 'api', id: 'api-1', address: 'h', port: 1 });
  const cache = watcher.cache('api');
  await cache.ready();
  expect(cache.instances().map((i) => i.id)).toEqual(['api-1']);
  const reregistered: string[] = [];
  registry.on('reregistered', (i) => reregistered.push(i.id));
  const errors: unknown[] = [];
  registry.on('error', (e) => errors.push(e));

  const oldSession = serviceClient.sessionId;
  await expireSession(serviceClient);
  await waitFor(() => reregistered.length === 1, { message: 'the re-registration' });
  const stat = await watchClient.exists(reg.path);
  expect(stat?.ephemeralOwner).toBe(serviceClient.sessionId);
  expect(stat?.ephemeralOwner).not.toBe(oldSession);
  await waitFor(() => cache.instance('api-1'), { message: 'the cache to hold it again' });
  // Same data, registration time kept.
  expect(cache.instance('api-1')?.registrationTimeUTC).toBe(reg.instance.registrationTimeUTC);
  expect(errors).toEqual([]);
  await registry.close();
  await watcher.close();
});

test('registry - the watcher expiring re-reads the view, with only real changes reported', async ({
  zk,
}) => {
  const serviceClient = await zk.client({ sessionTimeout: 4000 });
  const watchClient = await zk.client({ sessionTimeout: 3000 });
  const registry = new ServiceRegistry(serviceClient, { basePath: BASE });
  const watcher = new ServiceRegistry(watchClient, { basePath: BASE });
  await registry.register({ name: 'api', id: 'keep', port: 1 });
  await registry.register({ name: 'api', id: 'gone', port: 2 });
  const cache = watcher.cache('api');
  await cache.ready();
  const changes: CacheChange[] = [];
  cache.on('change', (c) => changes.push(c));
  const staleFlips: boolean[] = [];
  cache.on('stale', (s) => staleFlips.push(s));

  // Changes made while the watcher's session is being replaced are picked up by the re-read.
  const expired = expireSession(watchClient);
  await registry.unregister('gone');
  await registry.register({ name: 'api', id: 'new', port: 3 });
  await expired;
  await waitFor(() => !cache.stale && cache.instances().length === 2, {
    message: 'the view to be fresh again',
  });
  expect(cache.instances().map((i) => i.id)).toEqual(['keep', 'new']);
  expect(changes.map((c) => `${c.type}:${c.instance.id}`).sort()).toEqual([
    'added:new',
    'removed:gone',
  ]);
  expect(staleFlips[0]).toBe(true);
  expect(staleFlips.at(-1)).toBe(false);

  // The data watches work under the new session.
  await registry.update({ name: 'api', id: 'keep', port: 10 });
  await waitFor(() => cache.instance('keep')?.port === 10, { message: 'the update' });
  await registry.close();
  await watcher.close();
});

test('registry - a connection drop marks the cache stale, then fresh, with no spurious diffs', async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const serviceClient = await zk.client({
    connectString: proxy.connectString,
    sessionTimeout: 8000,
  });
  const watchClient = await zk.client({ connectString: proxy.connectString, sessionTimeout: 8000 });
  const observer = await zk.client();
  const registry = new ServiceRegistry(serviceClient, { basePath: BASE });
  const watcher = new ServiceRegistry(watchClient, { basePath: BASE });
  const reg = await registry.register({ name: 'api', id: 'api-1', port: 1 });
  const czxid = (await observer.exists(reg.path))!.czxid;
  const cache = watcher.cache('api');
  await cache.ready();
  const changes: CacheChange[] = [];
  cache.on('change', (c) => changes.push(c));
  const staleFlips: boolean[] = [];
  cache.on('stale', (s) => staleFlips.push(s));
  const reregistered: string[] = [];
  registry.on('reregistered', (i) => reregistered.push(i.id));

  // The last view is still served while suspended.
  const servedWhileStale: string[][] = [];
  cache.on('stale', (s) => {
    if (s) servedWhileStale.push(cache.instances().map((i) => i.id));
  });
  proxy.drop();
  await waitFor(() => staleFlips.length === 2, { message: 'the cache to be stale, then fresh' });
  expect(servedWhileStale).toEqual([['api-1']]);
  await waitFor(() => serviceClient.state === 'reconnected', {
    message: 'the service to reconnect',
  });
  expect(staleFlips).toEqual([true, false]);
  expect(changes).toEqual([]);
  expect(reregistered).toEqual([]);
  // Same session: the node was never deleted and re-created.
  expect((await observer.exists(reg.path))?.czxid).toBe(czxid);
  expect(cache.instances().map((i) => i.id)).toEqual(['api-1']);
  await registry.close();
  await watcher.close();
});

test('registry - a node left by an earlier session of ours is replaced, not a conflict', async ({
  zk,
}) => {
  const proxy = await zk.proxy();
  const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 3000 });
  const observer = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  const errors: unknown[] = [];
  registry.on('error', (e) => errors.push(e));
  const reregistered: string[] = [];
  registry.on('reregistered', (i) => reregistered.push(i.id));
  const reg = await registry.register({ name: 'api', id: 'api-1', port: 1 });
  const oldSession = client.sessionId;

  // Cut the client off, and keep its session alive on the server through a twin handle: the
  // client gives the session up (client-side expiry) while its node is still there.
  proxy.partition();
  await zk.client({ session: client.sessionCredentials(), sessionTimeout: 3000 });
  await waitFor(() => client.state === 'lost', { timeout: 15_000, message: 'client-side expiry' });
  expect((await observer.exists(reg.path))?.ephemeralOwner).toBe(oldSession);
  proxy.heal();
  await waitFor(() => reregistered.length === 1, {
    timeout: 15_000,
    message: 'the re-registration',
  });
  const stat = await observer.exists(reg.path);
  expect(stat?.ephemeralOwner).toBe(client.sessionId);
  expect(client.sessionId).not.toBe(oldSession);
  expect(errors).toEqual([]);
  await registry.close();
});
