import diagnostics from 'node:diagnostics_channel';
import type { OpMessage, ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { AtomicLong, AtomicOutcomeUnknownError, CounterDataError } from '../src/index.js';

const PATH = '/counters/orders';
/** Sessions and increments per session of the contention test (about 15 s on two cores). */
const SESSIONS = 16;
const INCREMENTS = 1000;

describe('AtomicLong', () => {
  test('atomic long - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new AtomicLong(client, 'x')).toThrow(InvalidPathError);
    expect(() => new AtomicLong(undefined as unknown as ZkClient, PATH)).toThrow(
      InvalidArgumentError,
    );
    expect(() => new AtomicLong(client, PATH, { retry: { retries: -1 } })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new AtomicLong(client, PATH, { promoted: { lockPath: 'nope' } })).toThrow(
      InvalidPathError,
    );
    const counter = new AtomicLong(client, PATH);
    expect(() => counter.add(2 ** 53)).toThrow(InvalidArgumentError);
    expect(() => counter.add(1.5)).toThrow(InvalidArgumentError);
    expect(() => counter.trySet(2n ** 63n)).toThrow(InvalidArgumentError);
    expect(() => counter.increment({ timeout: -1 })).toThrow(InvalidArgumentError);
    expect(await client.exists('/counters')).toBeNull();
  });

  test('atomic long - Curator layout: 8 bytes big-endian, a missing node reads 0, results carry pre and post values', async ({
    zk,
  }) => {
    const client = await zk.client();
    const counter = new AtomicLong(client, PATH);
    expect(await counter.get()).toEqual({ succeeded: true, preValue: 0n, postValue: 0n });
    expect(await client.exists(PATH)).toBeNull();
    expect(await counter.increment()).toEqual({ succeeded: true, preValue: 0n, postValue: 1n });
    expect(await counter.add(41)).toEqual({ succeeded: true, preValue: 1n, postValue: 42n });
    expect(await counter.decrement()).toEqual({ succeeded: true, preValue: 42n, postValue: 41n });
    expect((await client.get(PATH)).data).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 41]));
    expect(await counter.trySet(-2n)).toEqual({ succeeded: true, preValue: 41n, postValue: -2n });
    expect((await client.get(PATH)).data).toEqual(Buffer.alloc(8, 0xff).fill(0xfe, 7));
    // Wraps around like Java's long.
    await counter.forceSet(2n ** 63n - 1n);
    expect((await counter.increment()).postValue).toBe(-(2n ** 63n));
    // Empty data reads 0, as Curator reads it.
    await client.set(PATH, '');
    expect((await counter.get()).postValue).toBe(0n);
    await client.set(PATH, 'abc');
    await expect(counter.increment()).rejects.toBeInstanceOf(CounterDataError);
  });

  test('atomic long - compareAndSet writes only over the expected value', async ({ zk }) => {
    const client = await zk.client();
    const counter = new AtomicLong(client, PATH);
    expect(await counter.compareAndSet(0, 5)).toEqual({
      succeeded: true,
      preValue: 0n,
      postValue: 5n,
    });
    expect(await counter.compareAndSet(4, 9)).toEqual({
      succeeded: false,
      preValue: 5n,
      postValue: 9n,
    });
    expect((await counter.get()).postValue).toBe(5n);
  });

  test(`atomic long - ${SESSIONS} sessions × ${INCREMENTS} increments end exact`, async ({
    zk,
  }) => {
    const clients = await Promise.all(Array.from({ length: SESSIONS }, () => zk.client()));
    let succeeded = 0;
    let failed = 0;
    await Promise.all(
      clients.map(async (client) => {
        // Few retries, so that some increments run out of them: those must count nothing.
        const counter = new AtomicLong(client, PATH, { retry: { retries: 3 } });
        for (let i = 0; i < INCREMENTS; i++) {
          const result = await counter.increment();
          if (result.succeeded) {
            succeeded++;
            expect(result.postValue).toBe(result.preValue + 1n);
          } else failed++;
        }
      }),
    );
    expect(succeeded + failed).toBe(SESSIONS * INCREMENTS);
    expect((await new AtomicLong(clients[0] as ZkClient, PATH).get()).postValue).toBe(
      BigInt(succeeded),
    );
  });

  test('atomic long - promoted mode takes the mutex when the optimistic attempts lose, and every increment lands', async ({
    zk,
  }) => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => zk.client()));
    const lockPath = '/counters/orders-lock';
    let promoted = 0;
    const onAcquired = () => promoted++;
    diagnostics.subscribe('zkit:lock:acquired', onAcquired);
    try {
      const results = await Promise.all(
        clients.map(async (client) => {
          const counter = new AtomicLong(client, PATH, {
            retry: { retries: 0 },
            promoted: { lockPath, retry: { retries: 1000 } },
          });
          const out = [];
          for (let i = 0; i < 50; i++) out.push(await counter.increment());
          return out;
        }),
      );
      expect(results.flat().every((r) => r.succeeded)).toBe(true);
      expect((await new AtomicLong(clients[0] as ZkClient, PATH).get()).postValue).toBe(400n);
      expect(promoted).toBeGreaterThan(0);
    } finally {
      diagnostics.unsubscribe('zkit:lock:acquired', onAcquired);
    }
  });

  test('atomic long - an increment whose write reply is lost is typed as unknown, never counted twice', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const other = await zk.client();
    const counter = new AtomicLong(client, PATH);
    await counter.forceSet(10);
    // Hold our conditional write on the wire (the read before it went through), let someone
    // else increment, then drop the connection: the write is retried and fails its version
    // check, which cannot tell "not written" from "written, reply lost".
    let held!: () => void;
    const partitioned = new Promise<void>((resolve) => (held = resolve));
    const onOp = (message: unknown) => {
      const { client: from, op } = message as OpMessage;
      if (from !== client || op !== 'get') return;
      proxy.partition();
      held();
    };
    diagnostics.subscribe('zkit:op', onOp);
    let outcome: unknown;
    try {
      const incrementing = counter.increment().catch((error: unknown) => error);
      await partitioned;
      diagnostics.unsubscribe('zkit:op', onOp);
      expect((await new AtomicLong(other, PATH).increment()).postValue).toBe(11n);
      proxy.drop();
      proxy.heal();
      outcome = await incrementing;
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    expect(outcome).toBeInstanceOf(AtomicOutcomeUnknownError);
    expect(outcome).toMatchObject({ code: 'UNKNOWN_OUTCOME', preValue: 10n, postValue: 11n });
    expect((await new AtomicLong(other, PATH).get()).postValue).toBe(11n);
  });
});
