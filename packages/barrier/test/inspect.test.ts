import { InvalidPathError, defaultNodeData } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import { Barrier, DoubleBarrier, inspectBarrier } from '../src/index.js';

test('inspectBarrier - a bad path is rejected before any request', async ({ zk }) => {
  const client = await zk.client();
  expect(() => inspectBarrier(client, '/')).toThrow(InvalidPathError);
});

test('inspectBarrier - a plain barrier down, then up', async ({ zk }) => {
  const client = await zk.client();
  const down = { path: '/deploy/gate', up: false, members: [], ready: false };
  expect(await inspectBarrier(client, '/deploy/gate')).toEqual(down);
  const gate = new Barrier(client, '/deploy/gate');
  await gate.raise();
  expect(await inspectBarrier(client, '/deploy/gate')).toEqual({ ...down, up: true });
  await gate.lower();
  expect(await inspectBarrier(client, '/deploy/gate')).toEqual(down);
});

test('inspectBarrier - a double barrier: who entered, in order, then ready', async ({ zk }) => {
  const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
  const first = new DoubleBarrier(a, '/batch/round', { members: 2 });
  const entering = first.enter({ timeout: 30_000 });
  await waitFor(async () => (await inspectBarrier(c, '/batch/round')).members.length === 1);
  const waiting = await inspectBarrier(c, '/batch/round');
  expect(waiting.up).toBe(true);
  expect(waiting.ready).toBe(false);
  expect(waiting.members.map((m) => [m.name, m.sessionId])).toEqual([
    [first.nodePath.slice('/batch/round/'.length), a.sessionId],
  ]);
  const second = new DoubleBarrier(b, '/batch/round', { members: 2 });
  await Promise.all([entering, second.enter({ timeout: 30_000 })]);
  const inside = await inspectBarrier(c, '/batch/round');
  expect(inside.ready).toBe(true);
  expect(inside.members.map((m) => m.sessionId)).toEqual([a.sessionId, b.sessionId]);
  await Promise.all([first.leave({ timeout: 30_000 }), second.leave({ timeout: 30_000 })]);
});

test('barrier nodes carry the local address, as Curator writes by default', async ({ zk }) => {
  const client = await zk.client();
  await new Barrier(client, '/deploy/gate').raise();
  expect((await client.get('/deploy/gate')).data.toString()).toBe(defaultNodeData());
  const double = new DoubleBarrier(client, '/batch/1', { members: 1 });
  await double.enter({ timeout: 10_000 });
  expect((await client.get(double.nodePath)).data.toString()).toBe(defaultNodeData());
  expect((await client.get('/batch/1/ready')).data.toString()).toBe(defaultNodeData());
  await double.leave({ timeout: 10_000 });
});
