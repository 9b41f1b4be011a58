import { InvalidPathError } from '@zkit/core';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { LeaderLatch, LeaderSelector, inspectElection } from '../src/index.js';

test('inspectElection - a bad path is rejected before any request', async ({ zk }) => {
  const client = await zk.client();
  expect(() => inspectElection(client, '/')).toThrow(InvalidPathError);
});

test('inspectElection - missing, empty and unknown layouts', async ({ zk }) => {
  const client = await zk.client();
  expect(await inspectElection(client, '/election/missing')).toBeNull();
  await client.ensurePath('/election/empty');
  expect(await inspectElection(client, '/election/empty')).toEqual({
    path: '/election/empty',
    layout: null,
    participants: [],
  });
  await client.ensurePath('/election/other/config');
  expect((await inspectElection(client, '/election/other'))?.layout).toBe('unknown');
});

test('inspectElection - a latch: leader first, with id, session and ctime', async ({ zk }) => {
  const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
  const first = new LeaderLatch(a, '/election/latch', { id: 'node-a' });
  await first.start();
  const second = new LeaderLatch(b, '/election/latch', { id: 'node-b' });
  await second.start();
  const seen = await inspectElection(c, '/election/latch');
  expect(seen?.layout).toBe('latch');
  expect(seen?.participants.map((p) => [p.id, p.sessionId, p.isLeader])).toEqual([
    ['node-a', a.sessionId, true],
    ['node-b', b.sessionId, false],
  ]);
  expect(seen?.participants[0]?.path).toBe(first.nodePath);
  expect(Math.abs((seen?.participants[0]?.ctime ?? 0) - Date.now())).toBeLessThan(60_000);
  await Promise.all([first.close(), second.close()]);
});

test('inspectElection - a selector', async ({ zk }) => {
  const [a, c] = await Promise.all([zk.client(), zk.client()]);
  const selector = new LeaderSelector(a, '/election/selector', { id: 'sel-a' });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const run = selector.run(async () => {
    entered();
    await held;
  });
  await inside;
  const seen = await inspectElection(c, '/election/selector');
  expect(seen?.layout).toBe('selector');
  expect(seen?.participants.map((p) => [p.id, p.sessionId, p.isLeader])).toEqual([
    ['sel-a', a.sessionId, true],
  ]);
  release();
  await run;
  await selector.close();
});
