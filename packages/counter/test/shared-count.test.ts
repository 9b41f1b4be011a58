import type { ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError, UnknownWriteOutcomeError } from '@zkit/core';
import { expireSession, waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import {
  CounterDataError,
  CounterStateError,
  SharedCount,
  type VersionedCount,
} from '../src/index.js';

const PATH = '/counts/workers';

describe('SharedCount', () => {
  test('shared count - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    expect(() => new SharedCount(client, 'counts')).toThrow(InvalidPathError);
    expect(() => new SharedCount(client, '/')).toThrow(InvalidPathError);
    expect(() => new SharedCount(undefined as unknown as ZkClient, PATH)).toThrow(
      InvalidArgumentError,
    );
    expect(() => new SharedCount(client, PATH, 2 ** 31)).toThrow(InvalidArgumentError);
    expect(() => new SharedCount(client, PATH, 1.5)).toThrow(InvalidArgumentError);
    const count = new SharedCount(client, PATH);
    expect(() => count.trySet(1, 0)).toThrow(CounterStateError);
    expect(() => count.set(1)).toThrow(CounterStateError);
    expect(() => count.start({ timeout: -1 })).toThrow(InvalidArgumentError);
    await count.start();
    expect(() => count.start()).toThrow(CounterStateError);
    expect(() => count.trySet(-(2 ** 31) - 1, 0)).toThrow(InvalidArgumentError);
    expect(() => count.trySet(1, -1)).toThrow(InvalidArgumentError);
    await count.close();
    expect(() => count.set(1)).toThrow(CounterStateError);
  });

  test('shared count - start creates the node with the seed in Curator layout, and keeps an existing value', async ({
    zk,
  }) => {
    const client = await zk.client();
    await using first = new SharedCount(client, PATH, -7);
    expect(first.get()).toEqual({ value: -7, version: -1 });
    await first.start();
    expect(first.get()).toEqual({ value: -7, version: 0 });
    // 4 bytes, big-endian, two's complement.
    expect((await client.get(PATH)).data).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xf9]));
    await using second = new SharedCount(client, PATH, 100);
    await second.start();
    expect(second.get()).toEqual({ value: -7, version: 0 });
  });

  test('shared count - trySet is a compare-and-set on the version; others see the change', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    await using mine = new SharedCount(a, PATH);
    await using theirs = new SharedCount(b, PATH);
    await mine.start();
    await theirs.start();
    const seen: VersionedCount[] = [];
    theirs.on('change', (c) => seen.push(c));
    const { value, version } = mine.get();
    expect(await mine.trySet(value + 5, version)).toBe(true);
    expect(mine.get()).toEqual({ value: 5, version: 1 });
    // A stale version loses.
    expect(await theirs.trySet(42, version)).toBe(false);
    await waitFor(() => theirs.get().version === 1);
    expect(seen).toEqual([{ value: 5, version: 1 }]);
    expect(await theirs.trySet(42, 1)).toBe(true);
    await waitFor(() => mine.get().value === 42);
    await mine.set(-1);
    expect(await theirs.read()).toEqual({ value: -1, version: 3 });
  });

  test('shared count - changes() yields the current value, then each change, and ends on close', async ({
    zk,
  }) => {
    const client = await zk.client();
    const other = await zk.client();
    const count = new SharedCount(client, PATH, 1);
    await count.start();
    await using writer = new SharedCount(other, PATH);
    await writer.start();
    const values: number[] = [];
    const reading = (async () => {
      for await (const c of count.changes()) {
        values.push(c.value);
        if (c.value === 1) await writer.trySet(2, c.version);
        else if (c.value === 2) await writer.trySet(3, c.version);
        else if (c.value === 3) await count.close();
      }
    })();
    await reading;
    expect(values).toEqual([1, 2, 3]);
    expect(count.listenerCount('change')).toBe(0);
  });

  test('shared count - a lost session is survived: the count is read again on the new one', async ({
    zk,
  }) => {
    const client = await zk.client({ sessionTimeout: 4000 });
    const other = await zk.client();
    await using count = new SharedCount(client, PATH, 10);
    await count.start();
    await expireSession(client);
    await other.set(PATH, Buffer.from([0, 0, 0, 11]));
    await waitFor(() => count.get().value === 11, { timeout: 20_000 });
    expect(await count.trySet(12, count.get().version)).toBe(true);
  });

  test('shared count - a conditional write whose reply was lost is never reported as a plain loss', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, sessionTimeout: 4000 });
    const other = await zk.client();
    await using count = new SharedCount(client, PATH);
    await count.start();
    proxy.partition();
    const writing = count.trySet(1, 0).catch((error: unknown) => error);
    await other.set(PATH, Buffer.from([0, 0, 0, 9]));
    proxy.drop();
    proxy.heal();
    expect(await writing).toBeInstanceOf(UnknownWriteOutcomeError);
  });

  test('shared count - a node holding something else is reported, not misread', async ({ zk }) => {
    const client = await zk.client();
    await client.create(PATH, 'not a count', { parents: 'persistent' });
    const count = new SharedCount(client, PATH);
    const errors: unknown[] = [];
    count.on('error', (e) => errors.push(e));
    await expect(count.start()).rejects.toBeInstanceOf(CounterDataError);
    expect(count.state).toBe('closed');
    expect(errors[0]).toBeInstanceOf(CounterDataError);
    await expect(count.read()).rejects.toBeInstanceOf(CounterDataError);
  });
});
