import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { DelayQueue, IdQueue, Queue, looksLikeQueue } from '../src/index.js';

describe('looksLikeQueue', () => {
  test('looksLikeQueue - plain, priority, delay and id queues are queues; other listings are not', async ({
    zk,
  }) => {
    const client = await zk.client();
    await new Queue<string>(client, '/queues/plain').put('a');
    await new Queue<string>(client, '/queues/priority').put('b', { priority: 5 });
    await new DelayQueue<string>(client, '/queues/delay').put('c', { delay: 60_000 });
    await new IdQueue<string>(client, '/queues/id').put('d', { id: 'job-1' });
    for (const path of ['/queues/plain', '/queues/priority', '/queues/delay', '/queues/id']) {
      expect({ path, queue: looksLikeQueue(await client.getChildren(path)) }).toEqual({
        path,
        queue: true,
      });
    }
    expect(looksLikeQueue([])).toBe(false);
    expect(looksLikeQueue(['queue-config', 'config', '_c_x-lock-0000000001'])).toBe(false);
  });
});
