import diagnostics from 'node:diagnostics_channel';
import { ZkError, ZkTimeoutError, type OpMessage, type ZkClient } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Mutex, ReadWriteLock, Semaphore } from '../src/index.js';
import { children, rejection } from './helpers.js';

const PATH = '/locks/invoice-42';

/** Counts the requests `client` makes while `run` runs. */
async function requests(client: ZkClient, run: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const onOp = (m: unknown) => {
    if ((m as OpMessage).client === client) n++;
  };
  diagnostics.subscribe('zkit:op', onOp);
  try {
    await run();
  } finally {
    diagnostics.unsubscribe('zkit:op', onOp);
  }
  return n;
}

function expectTimeout(error: unknown, message: string): void {
  expect(error).toBeInstanceOf(ZkTimeoutError);
  expect(error).toBeInstanceOf(ZkError);
  // Code that tells timeouts apart by name, as for AbortSignal.timeout(), keeps working.
  expect((error as Error).name).toBe('TimeoutError');
  expect((error as Error).message).toBe(message);
}

describe('lock timeouts', () => {
  test('mutex - acquire({ timeout: 0 }) takes a free lock at once', async ({ zk }) => {
    const client = await zk.client();
    const lease = await new Mutex(client, PATH).acquire({ timeout: 0 });
    expect(lease.held).toBe(true);
    await lease.release();
  });

  test('mutex - acquire({ timeout: 0 }) on a held lock fails at once after one attempt', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const held = await new Mutex(a, PATH).acquire();
    let error: unknown;
    const sent = await requests(b, async () => {
      error = await rejection(new Mutex(b, PATH).acquire({ timeout: 0 }));
    });
    expectTimeout(error, `Mutex ${PATH}: not acquired within 0 ms`);
    // One attempt: create, list, delete our node.
    expect(sent).toBe(3);
    expect(await children(a, PATH)).toEqual([held.path.slice(PATH.length + 1)]);
    await held.release();
  });

  test('mutex - a timed-out wait names the recipe and the path', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const held = await new Mutex(a, PATH).acquire();
    expectTimeout(
      await rejection(new Mutex(b, PATH).acquire({ timeout: 200 })),
      `Mutex ${PATH}: not acquired within 200 ms`,
    );
    await held.release();
  });

  test('read-write lock - timeout 0 takes a free side and fails at once on a held one', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const read = await new ReadWriteLock(a, PATH).readLock.acquire({ timeout: 0 });
    expect(read.held).toBe(true);
    const other = await new ReadWriteLock(b, PATH).readLock.acquire({ timeout: 0 });
    await other.release();
    expectTimeout(
      await rejection(new ReadWriteLock(b, PATH).writeLock.acquire({ timeout: 0 })),
      `ReadWriteLock (write) ${PATH}: not acquired within 0 ms`,
    );
    await read.release();
    const write = await new ReadWriteLock(b, PATH).writeLock.acquire({ timeout: 0 });
    expect(write.held).toBe(true);
    await write.release();
  });

  test('semaphore - timeout 0 takes a free lease and fails at once when none is free', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = await new Semaphore(a, PATH, 1).acquire({ timeout: 0 });
    expectTimeout(
      await rejection(new Semaphore(b, PATH, 1).acquire({ timeout: 0 })),
      `Semaphore ${PATH}: no lease within 0 ms`,
    );
    expectTimeout(
      await rejection(new Semaphore(b, PATH, 1).acquire({ timeout: 200 })),
      `Semaphore ${PATH}: no lease within 200 ms`,
    );
    await first.release();
    const second = await new Semaphore(b, PATH, 1).acquire({ timeout: 0 });
    await second.release();
  });
});
