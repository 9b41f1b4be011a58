import { ZkError, ZkTimeoutError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { LeaderLatch, LeaderSelector } from '../src/index.js';

const PATH = '/election/billing';

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

describe('election timeouts', () => {
  test('leader latch - awaitLeadership({ timeout: 0 }) answers at once', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const leader = new LeaderLatch(a, PATH, { id: 'a' });
    await leader.start();
    const term = await leader.awaitLeadership({ timeout: 0 });
    expect(term).toBe(leader.term);
    const follower = new LeaderLatch(b, PATH, { id: 'b' });
    await follower.start();
    expectTimeout(
      await rejection(follower.awaitLeadership({ timeout: 0 })),
      `LeaderLatch ${PATH}: not leader within 0 ms`,
    );
    expectTimeout(
      await rejection(follower.awaitLeadership({ timeout: 100 })),
      `LeaderLatch ${PATH}: not leader within 100 ms`,
    );
    await follower.close();
    await leader.close();
  });

  test('leader selector - a run that times out waiting names the selector and path', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const holder = new LeaderSelector(a, PATH, { id: 'holder' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const run = holder.run(async () => {
      held();
      await released;
    });
    await holding;
    const waiter = new LeaderSelector(b, PATH, { id: 'waiter' });
    expectTimeout(
      await rejection(waiter.run(() => undefined, { timeout: 200 })),
      `LeaderSelector ${PATH}: run not finished within 200 ms`,
    );
    release();
    await run;
    await Promise.all([holder.close(), waiter.close()]);
  });
});
