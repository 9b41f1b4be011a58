import { InvalidArgumentError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { Mutex, ReadWriteLock, Semaphore } from '../src/index.js';

test('input - tryAcquire refuses a signal that is not an AbortSignal before creating a node', async ({
  zk,
}) => {
  const client = await zk.client();
  const bogus = { aborted: false } as unknown as AbortSignal;
  expect(() => new Mutex(client, '/m').tryAcquire({ signal: bogus })).toThrow(InvalidArgumentError);
  expect(() => new ReadWriteLock(client, '/rw').writeLock.tryAcquire({ signal: bogus })).toThrow(
    InvalidArgumentError,
  );
  expect(() => new Semaphore(client, '/s', 1).tryAcquire({ signal: bogus })).toThrow(
    InvalidArgumentError,
  );
  expect(await client.getChildren('/')).toEqual([]);
  const lease = await new Mutex(client, '/m').tryAcquire({ signal: new AbortController().signal });
  expect(lease?.held).toBe(true);
  await lease?.release();
});
