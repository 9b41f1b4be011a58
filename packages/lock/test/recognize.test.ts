import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Mutex, looksLikeMutex } from '../src/index.js';

describe('looksLikeMutex', () => {
  test('looksLikeMutex - a held and waited-for lock is one; other listings are not', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new Mutex(a, '/locks/job', { data: 'a' }).acquire();
    const waiting = new Mutex(b, '/locks/job').acquire();
    await waitFor(async () => (await a.getChildren('/locks/job')).length === 2);
    expect(looksLikeMutex(await a.getChildren('/locks/job'))).toBe(true);
    // Curator's name without the protection prefix, and a mix with a stray node.
    expect(looksLikeMutex(['lock-0000000003'])).toBe(true);
    expect(looksLikeMutex(['notes', '_c_x-lock-0000000001'])).toBe(true);

    expect(looksLikeMutex([])).toBe(false);
    expect(looksLikeMutex(['config', 'lock-files', 'block-0000000001x'])).toBe(false);
    expect(looksLikeMutex(['_c_x-latch-0000000001', 'queue-0000000001'])).toBe(false);
    await lease.release();
    await (await waiting).release();
  });
});
