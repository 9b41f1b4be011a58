import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { LeaderLatch, looksLikeLatch } from '../src/index.js';

describe('looksLikeLatch', () => {
  test('looksLikeLatch - a latch election is one; a lock and other listings are not', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = new LeaderLatch(a, '/election/jobs', { id: 'one' });
    const second = new LeaderLatch(b, '/election/jobs', { id: 'two' });
    await Promise.all([first.start(), second.start()]);
    expect(looksLikeLatch(await a.getChildren('/election/jobs'))).toBe(true);
    expect(looksLikeLatch(['latch-0000000000'])).toBe(true);

    expect(looksLikeLatch([])).toBe(false);
    expect(looksLikeLatch(['_c_x-lock-0000000001', 'latch-config', 'ready'])).toBe(false);
    await Promise.all([first.close(), second.close()]);
  });
});
