import { ListenerError, NoAuthError, Perms, type Acl } from '@zkit/core';
import { expireSession, recordListenerErrors, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { ServiceRegistry } from '../src/index.js';

/** How a failing listener fails: it throws, or it returns a promise that rejects. */
type Failure = 'throws' | 'rejects';
const FAILURES: readonly Failure[] = ['throws', 'rejects'];

/** A listener that fails as `how` says, every time it is called. */
function failing(how: Failure): () => unknown {
  return () => {
    const error = new Error(`listener ${how}`);
    if (how === 'throws') throw error;
    return Promise.reject(error);
  };
}

/** Everyone may do anything but read. */
const NO_READ: Acl[] = [
  {
    perms: Perms.write | Perms.create | Perms.delete | Perms.admin,
    scheme: 'world',
    id: 'anyone',
  },
];
/** Everyone may read and delete, nobody may create children. */
const NO_CREATE: Acl[] = [
  { perms: Perms.read | Perms.delete | Perms.admin, scheme: 'world', id: 'anyone' },
];

/**
 * On every event of `emitter` listed in `events`: first a listener that fails, then one that
 * records what it was called with (listeners after a failing one must still run).
 */
function attach<E extends string>(
  emitter: object,
  events: readonly E[],
  how: Failure,
): Map<E, unknown[][]> {
  // Typed per emitter elsewhere; here every event of a table gets the same two listeners.
  const target = emitter as { on(event: E, fn: (...args: unknown[]) => unknown): unknown };
  const heard = new Map<E, unknown[][]>();
  for (const event of events) {
    const calls: unknown[][] = [];
    heard.set(event, calls);
    target.on(event, failing(how));
    target.on(event, (...args) => void calls.push(args));
  }
  return heard;
}

const CACHE_EVENTS = [
  'added',
  'updated',
  'removed',
  'change',
  'stale',
  'quarantined',
  'error',
  'closed',
] as const;
const REGISTRY_EVENTS = ['reregistered', 'quarantined', 'error'] as const;

// Each event the cache, the registry and the provider emit, with a listener that fails on it:
// the recipe goes on as if the listener had returned, and the failure is reported.
describe.each(FAILURES)('a listener that %s', (how) => {
  test(`cache - listeners that ${how} on every event: the view still follows the service`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const writer = await zk.client();
    const proxy = await zk.proxy();
    const reader = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const registry = new ServiceRegistry(writer, { basePath: '/services' });
    await registry.register({ name: 'api', id: 'one', port: 1 });
    const cache = new ServiceRegistry(reader, { basePath: '/services' }).cache('api');
    const heard = attach(cache, CACHE_EVENTS, how);
    const count = (event: (typeof CACHE_EVENTS)[number]) => heard.get(event)?.length ?? 0;

    await cache.ready();
    await waitFor(() => count('added') === 1);
    await registry.update({ name: 'api', id: 'one', port: 2 });
    await waitFor(() => cache.instance('one')?.port === 2);
    await writer.create('/services/api/bad', 'not an instance');
    await waitFor(() => count('quarantined') === 1);
    // A service the cache may not list: it reports the error and keeps trying.
    await writer.setAcl('/services/api', NO_READ);
    await writer.create('/services/api/poke'); // wakes the cache's child watch
    await waitFor(() => heard.get('error')?.some(([e]) => e instanceof NoAuthError));
    await writer.setAcl('/services/api', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
    await writer.delete('/services/api/poke');
    await registry.unregister('one');
    await waitFor(() => count('removed') === 1);
    proxy.drop();
    await waitFor(() => count('stale') === 2, { timeout: 15_000 });
    expect(heard.get('stale')).toEqual([[true], [false]]);

    // Still following the service.
    await registry.register({ name: 'api', id: 'two', port: 3 });
    await waitFor(
      () =>
        cache
          .instances()
          .map((i) => i.id)
          .join() === 'two' && !cache.stale,
    );
    expect(count('change')).toBe(count('added') + count('updated') + count('removed'));
    await cache.close();
    expect(count('closed')).toBe(1);

    for (const event of CACHE_EVENTS) {
      await waitFor(() => failures.of(cache, event).length > 0, {
        message: `a report of ${event}`,
      });
    }
    // Failures of the other events also reached the 'error' listeners, as ListenerErrors.
    const reported = heard.get('error')?.flatMap(([e]) => (e instanceof ListenerError ? [e] : []));
    expect(new Set(reported?.map((e) => e.event))).toContain('added');
    await registry.close();
  });

  test(`registry - listeners that ${how} on every event: instances are still registered again and queried`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const admin = await zk.client();
    const client = await zk.client({ sessionTimeout: 3000 });
    // A service node that is not a container, so that it outlives its instances.
    await admin.create('/reg/locked', '', { parents: 'persistent' });
    const registry = new ServiceRegistry(client, { basePath: '/reg' });
    await registry.register({ name: 'open', id: 'o1', port: 1 });
    await registry.register({ name: 'locked', id: 'l1', port: 2 });
    const heard = attach(registry, REGISTRY_EVENTS, how);
    await admin.setAcl('/reg/locked', NO_CREATE);

    await admin.create('/reg/open/bad', 'not an instance');
    expect((await registry.instances('open')).map((i) => i.id)).toEqual(['o1']);
    expect(heard.get('quarantined')).toHaveLength(1);

    await expireSession(client);
    await waitFor(() => heard.get('reregistered')?.length === 1, { timeout: 15_000 });
    await waitFor(() => heard.get('error')?.length === 1);
    const [error, instance] = heard.get('error')?.[0] ?? [];
    expect(error).toBeInstanceOf(NoAuthError);
    expect((instance as { id: string }).id).toBe('l1');
    const stat = await admin.exists('/reg/open/o1');
    expect(stat?.ephemeralOwner).toBe(client.sessionId);

    // Still registering.
    await admin.setAcl('/reg/locked', [{ perms: Perms.all, scheme: 'world', id: 'anyone' }]);
    await registry.register({ name: 'locked', id: 'l2', port: 3 });
    expect(await admin.exists('/reg/locked/l2')).not.toBeNull();
    for (const event of REGISTRY_EVENTS) {
      await waitFor(() => failures.of(registry, event).length > 0, {
        message: `a report of ${event}`,
      });
    }
    // The registry's 'error' event names a failed re-registration, never a listener's failure.
    expect(heard.get('error')).toHaveLength(1);
    await registry.close();
  });

  test(`provider - listeners that ${how} on closed: the provider picks, closes, and reports the failure on 'error'`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const client = await zk.client();
    const registry = new ServiceRegistry(client, { basePath: '/services' });
    await registry.register({ name: 'api', id: 'one', port: 1 });
    const provider = registry.provider('api');
    const heard = attach(provider, ['closed', 'error'], how);
    expect((await provider.getInstance())?.id).toBe('one');
    await provider.close();
    expect(heard.get('closed')).toHaveLength(1);
    await waitFor(() => heard.get('error')?.length === 1);
    const [error] = heard.get('error')?.[0] ?? [];
    expect(error).toBeInstanceOf(ListenerError);
    expect((error as ListenerError).event).toBe('closed');
    // The failing 'error' listener is reported on the channel only.
    await waitFor(() => failures.of(provider, 'error').length === 1);
    await registry.close();
  });
});
