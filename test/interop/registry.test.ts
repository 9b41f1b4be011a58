import { ServiceRegistry } from '@zkit/registry';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { startCuratorAgent } from './curator-agent.js';

// A Curator ServiceDiscovery<Void> and a zkit ServiceRegistry on one base path must see each
// other's instances, and both caches must follow registrations and departures.

const BASE = '/discovery';

interface CuratorInstance {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  serviceType: string;
}

test('interop - Curator discovery sees zkit instances and zkit sees Curator instances', async ({
  zk,
}) => {
  const client = await zk.client();
  const agent = await startCuratorAgent(zk.connectString);
  const registry = new ServiceRegistry(client, { basePath: BASE });
  try {
    // Curator registers first: it creates the container parents.
    await agent.send('discovery.register', BASE, 'api', 'java-1', '10.0.0.1', 8081);
    const javaRaw = JSON.parse((await client.get(`${BASE}/api/java-1`)).data.toString('utf8')) as {
      [key: string]: unknown;
    };
    // What Curator 5.4 writes by default is what zkit writes: the nine compatible-mode fields.
    expect(Object.keys(javaRaw).sort()).toEqual(
      [
        'address',
        'id',
        'name',
        'payload',
        'port',
        'registrationTimeUTC',
        'serviceType',
        'sslPort',
        'uriSpec',
      ].sort(),
    );

    const cache = registry.cache('api');
    await cache.ready();
    expect(cache.instances().map((i) => [i.id, i.address, i.port, i.serviceType])).toEqual([
      ['java-1', '10.0.0.1', 8081, 'DYNAMIC'],
    ]);

    // Curator watches the service; zkit registers into it.
    const watched = await agent.send('discovery.watch', BASE, 'api');
    expect(watched['ids']).toEqual(['java-1']);
    await registry.register({
      name: 'api',
      id: 'node-1',
      address: '10.0.0.2',
      port: 8082,
      uriSpec: '{scheme}://{address}:{port}',
    });
    await agent.next('discovery.changed', {
      where: (e) => (e['ids'] as string[]).includes('node-1'),
    });
    const { instances } = await agent.send('discovery.query', BASE, 'api');
    const list = (instances as CuratorInstance[]).map((i) => [i.id, i.address, i.port]);
    expect(list.sort()).toEqual([
      ['java-1', '10.0.0.1', 8081],
      ['node-1', '10.0.0.2', 8082],
    ]);
    const mine = (instances as CuratorInstance[]).find((i) => i.id === 'node-1');
    expect(mine).toMatchObject({ name: 'api', serviceType: 'DYNAMIC' });
    expect((await registry.instances('api')).map((i) => i.id)).toEqual(['java-1', 'node-1']);

    // Departures on both sides reach both caches.
    await agent.send('discovery.unregister', BASE, 'api', 'java-1');
    await waitFor(() => cache.instance('java-1') === undefined, { message: 'zkit to drop java-1' });
    await registry.unregister('node-1');
    await agent.next('discovery.changed', {
      where: (e) => (e['ids'] as string[]).length === 0,
    });
    await waitFor(() => cache.instances().length === 0, { message: 'zkit to drop node-1' });
  } finally {
    await registry.close();
    await agent.close();
  }
});
