import { DataTooLargeError, InvalidArgumentError, InvalidPathError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { LeaderLatch, LeaderSelector } from '../src/index.js';

test('input - an election at the root is refused: every child of the path would take part', async ({
  zk,
}) => {
  const client = await zk.client();
  await client.create('/unrelated', 'x');
  expect(() => new LeaderLatch(client, '/')).toThrow(InvalidPathError);
  expect(() => new LeaderSelector(client, '/')).toThrow(InvalidPathError);
  expect((await client.getChildren('/')).sort()).toEqual(['unrelated']);
});

test('input - a missing client is an InvalidArgumentError from the constructor', () => {
  for (const client of [undefined, null, {}]) {
    expect(() => new LeaderLatch(client as never, '/e')).toThrow(InvalidArgumentError);
    expect(() => new LeaderSelector(client as never, '/e')).toThrow(InvalidArgumentError);
  }
});

test("input - an id larger than the client's maxDataBytes fails in the constructor", async ({
  zk,
}) => {
  const client = await zk.client({ maxDataBytes: 8 });
  expect(() => new LeaderLatch(client, '/e', { id: 'ninebytes' })).toThrow(DataTooLargeError);
  expect(() => new LeaderSelector(client, '/e', { id: 'é'.repeat(5) })).toThrow(DataTooLargeError);
  const latch = new LeaderLatch(client, '/e', { id: 'eight-bb' });
  await latch.start();
  expect(latch.hasLeadership).toBe(true);
  await latch.close();
});

test('input - a start or run with a bad signal changes nothing and sends nothing', async ({
  zk,
}) => {
  const client = await zk.client();
  const bogus = 'stop' as unknown as AbortSignal;
  const latch = new LeaderLatch(client, '/e', { id: 'a' });
  expect(() => latch.start({ signal: bogus })).toThrow(InvalidArgumentError);
  expect(latch.state).toBe('latent');
  const selector = new LeaderSelector(client, '/s');
  expect(() => selector.run(async () => undefined, { signal: bogus })).toThrow(
    InvalidArgumentError,
  );
  expect(selector.state).toBe('latent');
  expect(await client.getChildren('/')).toEqual([]);
  // Both still work with good options.
  await latch.start({ timeout: 10_000 });
  expect(latch.hasLeadership).toBe(true);
  await latch.close();
  await selector.run(async () => undefined, { timeout: 10_000 });
  await selector.close();
});
