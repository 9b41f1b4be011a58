import type { ZkClient } from '@zkit/core';
import { Barrier, DoubleBarrier } from '@zkit/barrier';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import type { CuratorAgent } from './curator-agent.js';
import { childrenOrNone as children, withCuratorAgent as withAgent } from './helpers.js';

// zkit's DoubleBarrier and Curator's DistributedDoubleBarrier on one path must count each other,
// let nobody in before all members are there, and all leave together (Curator's lowest/highest
// protocol on both sides).

/** Whether a promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const result = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(marker))),
  ]);
  return result !== marker;
}

/**
 * One round with two Curator members (owners `java-1`, `java-2`) and two zkit members; `last`
 * says which side enters and leaves last.
 */
async function mixedRound(
  agent: CuratorAgent,
  clients: [ZkClient, ZkClient],
  path: string,
  last: 'zkit' | 'curator',
): Promise<void> {
  const [a, b] = clients;
  const zkit = [
    new DoubleBarrier(a, path, { members: 4 }),
    new DoubleBarrier(b, path, { members: 4 }),
  ];
  const early: string[] = [];
  let lastIn = false;
  const mark = (who: string) => () => {
    if (!lastIn) early.push(who);
  };
  const enter = {
    java1: () => agent.send('barrier.enter', path, 4, 30_000, 'java-1').then(mark('java-1')),
    java2: () => agent.send('barrier.enter', path, 4, 30_000, 'java-2').then(mark('java-2')),
    zkit1: () => (zkit[0] as DoubleBarrier).enter({ timeout: 30_000 }).then(mark('zkit-1')),
    zkit2: () => (zkit[1] as DoubleBarrier).enter({ timeout: 30_000 }).then(mark('zkit-2')),
  };
  const first =
    last === 'zkit'
      ? [enter.java1(), enter.zkit1(), enter.java2()]
      : [enter.zkit1(), enter.java1(), enter.zkit2()];
  for (const f of first) f.catch(() => undefined);
  await waitFor(async () => (await children(a, path)).length === 3, {
    message: 'three members to wait at the barrier',
  });
  await a.sync(path);
  for (const f of first) expect(await settled(f)).toBe(false);
  expect(await children(a, path)).not.toContain('ready');

  lastIn = true;
  await Promise.all([...first, last === 'zkit' ? enter.zkit2() : enter.java2()]);
  expect(early).toEqual([]);
  expect(await children(a, path)).toContain('ready');

  // Leaving: the three others start, the last one holds them all until it leaves too.
  let lastOut = false;
  const leftEarly: string[] = [];
  const markOut = (who: string) => () => {
    if (!lastOut) leftEarly.push(who);
  };
  const leave = {
    java1: () => agent.send('barrier.leave', path, 4, 30_000, 'java-1').then(markOut('java-1')),
    java2: () => agent.send('barrier.leave', path, 4, 30_000, 'java-2').then(markOut('java-2')),
    zkit1: () => (zkit[0] as DoubleBarrier).leave({ timeout: 30_000 }).then(markOut('zkit-1')),
    zkit2: () => (zkit[1] as DoubleBarrier).leave({ timeout: 30_000 }).then(markOut('zkit-2')),
  };
  const leaving =
    last === 'zkit'
      ? [leave.java1(), leave.zkit1(), leave.java2()]
      : [leave.zkit1(), leave.java1(), leave.zkit2()];
  for (const l of leaving) l.catch(() => undefined);
  // The last member's node is still there, and so (unless it is the last one) is the lowest.
  await waitFor(async () => (await children(a, path)).filter((c) => c !== 'ready').length <= 2, {
    message: 'the other members to start leaving',
  });
  await a.sync(path);
  for (const l of leaving) expect(await settled(l)).toBe(false);
  lastOut = true;
  await Promise.all([...leaving, last === 'zkit' ? leave.zkit2() : leave.java2()]);
  expect(leftEarly).toEqual([]);
  expect(await children(a, path)).toEqual([]);
}

test('interop - zkit and Curator double-barrier members count each other, whoever comes last', async ({
  zk,
}) => {
  const clients: [ZkClient, ZkClient] = [await zk.client(), await zk.client()];
  await withAgent(zk.connectString, async (agent) => {
    await mixedRound(agent, clients, '/batches/round-1', 'zkit');
    await mixedRound(agent, clients, '/batches/round-2', 'curator');
  });
});

test("interop - a zkit Barrier holds back Curator's waiters and the other way round", async ({
  zk,
}) => {
  const client = await zk.client();
  await withAgent(zk.connectString, async (agent) => {
    const gate = new Barrier(client, '/gates/deploy');
    await gate.raise();
    const curatorWait = agent.send('barrier.wait', '/gates/deploy', 30_000);
    curatorWait.catch(() => undefined);
    await client.sync('/gates/deploy');
    expect(await settled(curatorWait)).toBe(false);
    await gate.lower();
    await curatorWait;

    await agent.send('barrier.set', '/gates/deploy');
    const zkitWait = gate.wait({ timeout: 30_000 });
    zkitWait.catch(() => undefined);
    await waitFor(() => client.watchCount === 1);
    expect(await settled(zkitWait)).toBe(false);
    await agent.send('barrier.remove', '/gates/deploy');
    await zkitWait;
  });
});
