import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { DoubleBarrier, looksLikeDoubleBarrier } from '../src/index.js';

describe('looksLikeDoubleBarrier', () => {
  test('looksLikeDoubleBarrier - members, with and without ready, are one; other listings are not', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = new DoubleBarrier(a, '/batch/round', { members: 2 });
    const entering = first.enter({ timeout: 30_000 });
    await waitFor(async () => (await b.getChildren('/batch/round').catch(() => [])).length === 1);
    expect(looksLikeDoubleBarrier(await b.getChildren('/batch/round'))).toBe(true);
    const second = new DoubleBarrier(b, '/batch/round', { members: 2 });
    await Promise.all([entering, second.enter({ timeout: 30_000 })]);
    const full = await b.getChildren('/batch/round');
    expect(full).toContain('ready');
    expect(looksLikeDoubleBarrier(full)).toBe(true);

    expect(looksLikeDoubleBarrier([])).toBe(false);
    expect(looksLikeDoubleBarrier(['ready'])).toBe(false);
    expect(looksLikeDoubleBarrier(['2d054a5d-d4ef-4c78-ab5a-1d570075d1fa', 'config'])).toBe(false);
    await Promise.all([first.leave({ timeout: 30_000 }), second.leave({ timeout: 30_000 })]);
  });
});
