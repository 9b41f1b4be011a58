import diagnostics from 'node:diagnostics_channel';
import { InvalidArgumentError, NoAuthError, Perms, type ZkClient } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import type { ServiceCache } from '../src/index.js';
import { ServiceProvider, ServiceRegistry, buildUri } from '../src/index.js';

/** Runs `fn` and returns how many requests the client sent meanwhile (zkit:op messages). */
async function requestsDuring(fn: () => unknown): Promise<number> {
  let count = 0;
  const onOp = () => count++;
  diagnostics.subscribe('zkit:op', onOp);
  try {
    await fn();
  } catch {
    // The caller checks the error separately.
  } finally {
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  return count;
}

test('registry input - bad arguments are refused with InvalidArgumentError before any request', async ({
  zk,
}) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: '/services' });
  const bad: [string, () => unknown][] = [
    ['no client', () => new ServiceRegistry(undefined as unknown as ZkClient, { basePath: '/s' })],
    ['a name that is not a string', () => registry.instances(42 as unknown as string)],
    ['a cache of a non-string name', () => registry.cache({} as unknown as string)],
    ['a provider of a non-string name', () => registry.provider(null as unknown as string)],
    ['an id that is not a string', () => registry.instance('api', 7 as unknown as string)],
    ['an id with a slash', () => registry.instance('api', 'a/b')],
    ['an empty id', () => registry.instance('api', '')],
    [
      'an unknown strategy',
      () => registry.provider('api', { strategy: 'bogus' as unknown as 'random' }),
    ],
    [
      'a fractional down timeout',
      () => registry.provider('api', { downInstancePolicy: { timeout: 0.5 } }),
    ],
    [
      'a down policy that is not an object',
      () => registry.provider('api', { downInstancePolicy: 3 as unknown as { timeout: 1 } }),
    ],
    [
      'takeover that is not a boolean',
      () => registry.register({ name: 'api', id: 'x' }, { takeover: 'no' as unknown as boolean }),
    ],
    ['a provider without a cache', () => new ServiceProvider({} as unknown as ServiceCache)],
    [
      'buildUri without an instance',
      () => buildUri(null as unknown as Parameters<typeof buildUri>[0]),
    ],
  ];
  for (const [what, call] of bad) {
    let error: unknown;
    const sent = await requestsDuring(async () => {
      try {
        await call();
      } catch (e) {
        error = e;
      }
    });
    expect(error, what).toBeInstanceOf(InvalidArgumentError);
    expect(sent, what).toBe(0);
  }
  // Nothing was started or written, and the registry still works.
  expect(await client.exists('/services')).toBeNull();
  expect(await registry.instances('api')).toEqual([]);
  await registry.close();
});

test('registry input - a cache of a service it may not read rejects ready() with NoAuthError, then serves once allowed', async ({
  zk,
}) => {
  const owner = await zk.client({ auth: [{ scheme: 'digest', credentials: 'ops:pw' }] });
  await owner.create('/services', '');
  await owner.create('/services/api', '', {
    acl: [{ perms: Perms.all, scheme: 'auth', id: '' }],
  });
  await new ServiceRegistry(owner, { basePath: '/services' }).register({
    name: 'api',
    id: 'a1',
    port: 8080,
  });
  const stranger = await zk.client();
  const registry = new ServiceRegistry(stranger, { basePath: '/services' });
  const cache = registry.cache('api');
  await expect(cache.ready({ timeout: 10_000 })).rejects.toBeInstanceOf(NoAuthError);
  // Asked again while it is still refused: the next attempt's answer.
  await expect(cache.ready()).rejects.toBeInstanceOf(NoAuthError);

  await stranger.addAuth('digest', 'ops:pw');
  await cache.ready({ timeout: 10_000 });
  expect(cache.instances().map((i) => i.id)).toEqual(['a1']);
  await registry.close();
  await owner.setAcl('/services/api', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
});
