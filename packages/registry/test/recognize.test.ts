import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { ServiceRegistry, looksLikeServiceInstance } from '../src/index.js';

describe('looksLikeServiceInstance', () => {
  test('looksLikeServiceInstance - a registered instance is one; other nodes are not', async ({
    zk,
  }) => {
    const client = await zk.client();
    const registry = new ServiceRegistry(client, { basePath: '/services' });
    await registry.register({ name: 'api', id: 'api-1', address: '10.0.0.5', port: 8080 });
    const { data } = await client.get('/services/api/api-1');
    expect(looksLikeServiceInstance('api-1', data)).toBe(true);

    // Named after another id, or not an instance at all.
    expect(looksLikeServiceInstance('api-2', data)).toBe(false);
    expect(looksLikeServiceInstance('api', (await client.get('/services/api')).data)).toBe(false);
    for (const other of ['', 'mode=fast', '{"name":"api"}', '[1]', '{"id":"x","name":""}']) {
      expect({ other, instance: looksLikeServiceInstance('x', Buffer.from(other)) }).toEqual({
        other,
        instance: false,
      });
    }
    await registry.close();
  });
});
