import { ZkError, ZkTimeoutError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Queue } from '../src/index.js';

const PATH = '/queues/jobs';

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

describe('queue timeouts', () => {
  test('queue - take({ timeout: 0 }) takes an item at once and fails at once when empty', async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new Queue<string>(client, PATH);
    expectTimeout(
      await rejection(queue.take({ timeout: 0 })),
      `Queue ${PATH}: nothing taken within 0 ms`,
    );
    await queue.put('a');
    await queue.put('b');
    expect(await queue.take({ timeout: 0 })).toBe('a');
    expect(await queue.take({ timeout: 0 })).toBe('b');
    expectTimeout(
      await rejection(queue.take({ timeout: 0 })),
      `Queue ${PATH}: nothing taken within 0 ms`,
    );
    expectTimeout(
      await rejection(queue.take({ timeout: 100 })),
      `Queue ${PATH}: nothing taken within 100 ms`,
    );
    await queue.close();
  });
});
