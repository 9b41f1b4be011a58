import { ZkClient } from '@zkit/core';
import { ServiceRegistry, buildUri } from '@zkit/registry';
import { chapter, green, say, yellow } from './narrator.js';

/** Two api instances register; a web service finds them, and sees one leave. */
export async function registryChapter(connectString: string): Promise<string> {
  chapter('Services find each other, and notice when one leaves');
  const web = new ZkClient(connectString, { sessionTimeout: 4000 });
  const api1 = new ZkClient(connectString, { sessionTimeout: 4000 });
  const api2 = new ZkClient(connectString, { sessionTimeout: 4000 });
  await Promise.all([web.start(), api1.start(), api2.start()]);
  const registries = [web, api1, api2].map(
    (c) => new ServiceRegistry(c, { basePath: '/demo/services' }),
  );
  const [webRegistry, api1Registry, api2Registry] = registries as [
    ServiceRegistry,
    ServiceRegistry,
    ServiceRegistry,
  ];
  try {
    const cache = webRegistry.cache('api');
    await cache.ready();
    const appeared = new Promise<void>((resolve) => {
      cache.on('added', (i) => {
        say(`web sees ${green('api')} at ${buildUri(i)}`);
        if (cache.instances().length === 2) resolve();
      });
    });
    for (const [registry, port] of [
      [api1Registry, 8081],
      [api2Registry, 8082],
    ] as const) {
      await registry.register({
        name: 'api',
        id: `api-${port}`,
        address: '127.0.0.1',
        port,
        uriSpec: '{scheme}://{address}:{port}',
      });
      say(`api-${port} registered itself`);
    }
    await appeared;
    const provider = webRegistry.provider('api', { strategy: 'roundRobin' });
    const picks = [];
    for (let i = 0; i < 4; i++) picks.push((await provider.getInstance())?.port);
    say(`web's round-robin provider picks ports ${picks.join(', ')}`);
    const removed = new Promise<string>((resolve) => cache.on('removed', (i) => resolve(i.id)));
    say(yellow('api-8082 shuts down and unregisters'));
    await api2Registry.close();
    const gone = await removed;
    say(`web noticed: ${yellow(gone)} is gone; ${cache.instances().length} instance left`);
    return `web found api-8081 and api-8082 (round robin ${picks.join(', ')}), saw ${gone} leave`;
  } finally {
    await Promise.all(registries.map((r) => r.close()));
    await Promise.all([web, api1, api2].map((c) => c.close()));
  }
}
