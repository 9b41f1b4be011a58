import { probeIterables } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { ServiceCache, ServiceRegistry } from '../src/index.js';

/**
 * Changes pulled through the iterable: 20 000 took about 20 s on a shared 2-core machine (50 000
 * would take about 50 s). The bound below is stated per change.
 */
const CHANGES = 20_000;

test('registry - changes() keeps a flat heap and adds no listener over many changes', async ({
  zk,
}) => {
  const client = await zk.client();
  const writer = await zk.client();
  const registry = new ServiceRegistry(writer, { basePath: '/services' });
  const ids = ['a', 'b', 'c', 'd'];
  for (const id of ids) await registry.register({ name: 'api', id, port: 1 });
  const cache = new ServiceCache(client, '/services/api', 'api');
  await cache.ready({ timeout: 10_000 });
  const stop = new AbortController();
  let done = false;
  // One lane of updates per instance: each update is one change the cache reports.
  const lane = async (id: string) => {
    for (let port = 2; !done; port++) {
      await registry.update({ name: 'api', id, port: 1 + (port % 60_000) });
    }
  };
  const [report] = await Promise.all([
    probeIterables([cache.changes({ signal: stop.signal })], {
      count: CHANGES,
      signals: () => [stop.signal, client.sessionSignal()],
    }).finally(() => (done = true)),
    ...ids.map(lane),
  ]);
  expect(report.listenerWarnings).toEqual([]);
  expect(report.maxListeners).toEqual([1, 0]);
  // Stated bound: under 50 bytes per change on average (the cache's reads once kept ~110).
  expect(report.heapGrowth).toBeLessThan(CHANGES * 50);
  expect(cache.listenerCount('change')).toBe(0);
  await cache.close();
});
