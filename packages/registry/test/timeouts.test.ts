import { ZkError, ZkTimeoutError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { ServiceRegistry } from '../src/index.js';

function expectTimeout(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(ZkTimeoutError);
  expect(error).toBeInstanceOf(ZkError);
  // Code that tells timeouts apart by name, as for AbortSignal.timeout(), keeps working.
  expect((error as Error).name).toBe('TimeoutError');
  expect((error as Error).message).toBe(message);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('registry timeouts', () => {
  test('service cache - ready({ timeout: 0 }) fails at once before the first view, resolves after', async ({
    zk,
  }) => {
    const client = await zk.client();
    const registry = new ServiceRegistry(client, { basePath: '/services' });
    const cache = registry.cache('api');
    // The first view needs a reply from the server: it cannot be there yet.
    expectTimeout(
      await rejection(cache.ready({ timeout: 0 })),
      'ServiceCache /services/api: not ready within 0 ms',
    );
    await cache.ready({ timeout: 10_000 });
    await cache.ready({ timeout: 0 });
    await registry.close();
  });
});
