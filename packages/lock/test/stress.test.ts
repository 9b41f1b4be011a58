import type { ZkClient } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Mutex } from '../src/index.js';
import { ExclusionCheck, children } from './helpers.js';

describe('stress', () => {
  test('mutex - 16 sessions × 200 acquisitions: never two holders, tokens always increase', async ({
    zk,
  }) => {
    const path = '/locks/stress';
    const sessions: ZkClient[] = await Promise.all(
      Array.from({ length: 16 }, () => zk.client({ sessionTimeout: 10_000 })),
    );
    const check = new ExclusionCheck();
    let counter = 0;
    await Promise.all(
      sessions.map(async (client, i) => {
        const mutex = new Mutex(client, path);
        for (let n = 0; n < 200; n++) {
          const lease = await mutex.acquire({ timeout: 60_000 });
          check.enter(`w${i}`, lease);
          const v = counter;
          await new Promise(setImmediate);
          counter = v + 1;
          check.leave(`w${i}`);
          await lease.release();
        }
      }),
    );
    expect(check.violations).toBe(0);
    expect(check.tokenViolations).toBe(0);
    expect(check.acquisitions).toBe(3200);
    expect(counter).toBe(3200);
    expect(await children(sessions[0] as ZkClient, path)).toEqual([]);
  }, 120_000);
});
