import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Mutex, ReadWriteLock, Semaphore, looksLikeLock } from '../src/index.js';

describe('looksLikeLock', () => {
  test('looksLikeLock - a mutex, a read-write lock and a semaphore in use; other listings are none', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const lease = await new Mutex(a, '/locks/job', { data: 'a' }).acquire();
    const waiting = new Mutex(b, '/locks/job').acquire();
    await waitFor(async () => (await a.getChildren('/locks/job')).length === 2);
    expect(looksLikeLock(await a.getChildren('/locks/job'))).toBe('mutex');

    const rw = await new ReadWriteLock(a, '/locks/catalog').readLock.acquire();
    expect(looksLikeLock(await a.getChildren('/locks/catalog'))).toBe('readWrite');
    const permit = await new Semaphore(a, '/limits/api', 2).acquire();
    expect(looksLikeLock(await a.getChildren('/limits/api'))).toBe('semaphore');
    // Its queue of acquirers is a mutex of its own, once somebody waits in it.
    expect(looksLikeLock(['_c_x-lock-0000000001'])).toBe('mutex');

    // Curator's name without the protection prefix, and a mix with a stray node.
    expect(looksLikeLock(['lock-0000000003'])).toBe('mutex');
    expect(looksLikeLock(['notes', '_c_x-lock-0000000001'])).toBe('mutex');
    expect(looksLikeLock(['_c_x-__WRIT__0000000004'])).toBe('readWrite');
    expect(looksLikeLock(['leases'])).toBe('semaphore');

    expect(looksLikeLock([])).toBeNull();
    // A folder of locks is not a semaphore.
    expect(looksLikeLock(['locks'])).toBeNull();
    expect(looksLikeLock(['leases', 'config'])).toBeNull();
    expect(looksLikeLock(['config', 'lock-files', 'block-0000000001x'])).toBeNull();
    expect(looksLikeLock(['_c_x-latch-0000000001', 'queue-0000000001'])).toBeNull();
    await Promise.all([lease.release(), rw.release(), permit.release()]);
    await (await waiting).release();
  });
});
