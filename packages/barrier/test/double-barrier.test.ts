import diagnostics from 'node:diagnostics_channel';
import type { OpMessage, ZkClient } from '@zkit/core';
import { InvalidArgumentError, InvalidPathError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { BarrierFullError, BarrierStateError, DoubleBarrier } from '../src/index.js';
import { children, rejection, settled, track } from './helpers.js';

const PATH = '/batches/nightly';

/** Runs one round with `n` members: checks nobody enters or leaves before everybody has. */
async function round(clients: ZkClient[], observer: ZkClient, path: string): Promise<void> {
  const n = clients.length;
  const barriers = clients.map((c) => new DoubleBarrier(c, path, { members: n }));
  const last = barriers[n - 1] as DoubleBarrier;
  let lastEntered = false;
  const enteredEarly: boolean[] = [];
  const entering = barriers
    .slice(0, -1)
    .map((b) => track(b.enter({ timeout: 30_000 }).then(() => enteredEarly.push(!lastEntered))));
  await waitFor(async () => (await children(observer, path)).length === n - 1, {
    message: `${n - 1} members to wait at the barrier`,
  });
  for (const e of entering) expect(await settled(e)).toBe(false);
  expect(await children(observer, path)).not.toContain('ready');

  lastEntered = true;
  await last.enter({ timeout: 30_000 });
  await Promise.all(entering);
  expect(enteredEarly).toEqual(new Array<boolean>(n - 1).fill(false));
  expect(barriers.every((b) => b.state === 'entered')).toBe(true);
  expect(await children(observer, path)).toContain('ready');

  let lastLeft = false;
  const leftEarly: boolean[] = [];
  const leaving = barriers
    .slice(0, -1)
    .map((b) => track(b.leave({ timeout: 30_000 }).then(() => leftEarly.push(!lastLeft))));
  // Everybody but the last to leave and (perhaps) the lowest has removed its node.
  await waitFor(async () => (await children(observer, path)).length <= 3, {
    message: 'the other members to start leaving',
  });
  for (const l of leaving) expect(await settled(l)).toBe(false);
  lastLeft = true;
  await last.leave({ timeout: 30_000 });
  await Promise.all(leaving);
  expect(leftEarly).toEqual(new Array<boolean>(n - 1).fill(false));
  expect(barriers.every((b) => b.state === 'idle')).toBe(true);
  expect(await children(observer, path)).toEqual([]);
}

describe('DoubleBarrier', () => {
  test('double barrier - bad input is rejected before any request', async ({ zk }) => {
    const client = await zk.client();
    const make = (members: unknown) =>
      new DoubleBarrier(client, PATH, { members } as { members: number });
    expect(() => make(0)).toThrow(InvalidArgumentError);
    expect(() => make(1.5)).toThrow(InvalidArgumentError);
    expect(() => make('3')).toThrow(InvalidArgumentError);
    expect(() => new DoubleBarrier(client, 'x', { members: 2 })).toThrow(InvalidPathError);
    expect(() => new DoubleBarrier(client, '/', { members: 2 })).toThrow(InvalidPathError);
    expect(() => new DoubleBarrier(undefined as unknown as ZkClient, PATH, { members: 2 })).toThrow(
      InvalidArgumentError,
    );
    const barrier = new DoubleBarrier(client, PATH, { members: 2 });
    expect(() => barrier.enter({ timeout: -5 })).toThrow(InvalidArgumentError);
    expect(await rejection(barrier.leave())).toBeInstanceOf(BarrierStateError);
    expect(barrier.nodePath).toMatch(/^\/batches\/nightly\/[0-9a-f-]{36}$/);
    expect(await client.exists('/batches')).toBeNull();
  });

  test('double barrier - 16 members enter together and leave together, twice on one path', async ({
    zk,
  }) => {
    const clients = await Promise.all(Array.from({ length: 16 }, () => zk.client()));
    const observer = clients[0] as ZkClient;
    await round(clients, observer, PATH);
    // The same path again, with fresh members: nothing of the first round is in the way.
    await round(clients, observer, PATH);
  });

  test('double barrier - the last one out removes its node and the ready node together', async ({
    zk,
  }) => {
    const client = await zk.client();
    const barrier = new DoubleBarrier(client, PATH, { members: 1 });
    await barrier.enter({ timeout: 10_000 });
    expect((await children(client, PATH)).sort()).toEqual(
      [barrier.nodePath.slice(PATH.length + 1), 'ready'].sort(),
    );
    const ops: string[] = [];
    const onOp = (m: unknown) => {
      if ((m as OpMessage).client === client) ops.push((m as OpMessage).op);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      await barrier.leave({ timeout: 10_000 });
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    // One transaction: nobody of a next round can see the ready node without this round's
    // member (the native transport has none: two deletes, sent together).
    expect(ops).toEqual(
      client.transport === 'wire' ? ['getChildren', 'multi'] : ['getChildren', 'delete', 'delete'],
    );
    expect(await children(client, PATH)).toEqual([]);
  });

  test('double barrier - one member passes at once', async ({ zk }) => {
    const client = await zk.client();
    const barrier = new DoubleBarrier(client, PATH, { members: 1 });
    await barrier.enter({ timeout: 10_000 });
    expect(await rejection(barrier.enter())).toBeInstanceOf(BarrierStateError);
    await barrier.leave({ timeout: 10_000 });
    expect(await children(client, PATH)).toEqual([]);
  });

  test('double barrier - an extra member is rejected with BarrierFullError and leaves no node', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await Promise.all([first.enter({ timeout: 10_000 }), second.enter({ timeout: 10_000 })]);
    const inside = await children(c, PATH);

    const extra = new DoubleBarrier(c, PATH, { members: 2 });
    const error = await rejection(extra.enter({ timeout: 10_000 }));
    expect(error).toBeInstanceOf(BarrierFullError);
    expect((error as BarrierFullError).code).toBe('BARRIER_FULL');
    expect((error as BarrierFullError).members).toBe(2);
    expect(extra.state).toBe('idle');
    expect(await children(c, PATH)).toEqual(inside);

    // Full before anyone made the ready node (members that are not zkit's): turned away too.
    await c.create('/other/x', undefined, { mode: 'ephemeral', parents: 'container' });
    await c.create('/other/y', undefined, { mode: 'ephemeral' });
    const late = new DoubleBarrier(a, '/other', { members: 2 });
    // Ranked by creation: the others' nodes are read, ours is known from its create.
    const reads: string[] = [];
    const onOp = (m: unknown) => {
      const op = m as OpMessage;
      if (op.client === a && op.op === 'exists') reads.push(op.path);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      expect(await rejection(late.enter({ timeout: 10_000 }))).toBeInstanceOf(BarrierFullError);
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    expect(reads).toEqual(expect.arrayContaining(['/other/x', '/other/y']));
    if (a.transport === 'wire') expect(reads).not.toContain(late.nodePath);
    else expect(reads).toContain(late.nodePath);
    expect(await children(c, '/other')).toEqual(['x', 'y']);

    await Promise.all([first.leave({ timeout: 10_000 }), second.leave({ timeout: 10_000 })]);
    expect(await children(c, PATH)).toEqual([]);
  });

  test('double barrier - two members racing for the last place: never more than one too many, and a rejected one leaves no node', async ({
    zk,
  }) => {
    const [a, b, c] = await Promise.all([zk.client(), zk.client(), zk.client()]);
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    const entering = track(first.enter({ timeout: 10_000 }));
    await waitFor(async () => (await children(a, PATH)).length === 1);
    const racers = [
      new DoubleBarrier(b, PATH, { members: 2 }),
      new DoubleBarrier(c, PATH, { members: 2 }),
    ];
    const results = await Promise.allSettled(racers.map((r) => r.enter({ timeout: 10_000 })));
    await entering;
    const passed = racers.filter((_, i) => results[i]?.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(passed.length).toBeGreaterThanOrEqual(1);
    for (const r of rejected) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BarrierFullError);
    }
    const nodes = await children(a, PATH);
    expect(nodes).toContain('ready');
    expect(nodes.length).toBe(2 + passed.length); // ready + first + the racers that passed
    await Promise.all([first, ...passed].map((m) => m.leave({ timeout: 10_000 })));
    expect(await children(a, PATH)).toEqual([]);
  });

  test('double barrier - timeout and abort of enter leave no node', async ({ zk }) => {
    const client = await zk.client();
    const barrier = new DoubleBarrier(client, PATH, { members: 3 });
    const timedOut = await rejection(barrier.enter({ timeout: 200 }));
    expect((timedOut as Error).name).toBe('TimeoutError');
    expect(barrier.state).toBe('idle');
    expect(await children(client, PATH)).toEqual([]);

    const controller = new AbortController();
    const entering = track(barrier.enter({ signal: controller.signal }));
    await waitFor(async () => (await children(client, PATH)).length === 1);
    controller.abort(new Error('shutting down'));
    expect(((await rejection(entering)) as Error).message).toBe('shutting down');
    expect(await children(client, PATH)).toEqual([]);
    expect(client.watchCount).toBe(0);
  });

  test('double barrier - a timed-out leave removes its node and the others still get out', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await Promise.all([first.enter({ timeout: 10_000 }), second.enter({ timeout: 10_000 })]);
    // The other member never leaves in time: whether lowest or not, this one gives up.
    const timedOut = await rejection(first.leave({ timeout: 300 }));
    expect((timedOut as Error).name).toBe('TimeoutError');
    expect(first.state).toBe('idle');
    expect(await a.exists(first.nodePath)).toBeNull();
    await second.leave({ timeout: 10_000 });
    expect(await children(b, PATH)).toEqual([]);
  });

  test('double barrier - a spurious session event while waiting does not pass the barrier', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    let secondIn = false;
    let passedEarly: boolean | undefined;
    const entering = track(
      first.enter({ timeout: 20_000 }).then(() => {
        passedEarly = !secondIn;
      }),
    );
    await waitFor(async () => (await children(b, PATH)).length === 1 && a.watchCount === 1);
    // Events the client (or the binding) may deliver without any change to the barrier.
    a.emit('state', 'reconnected', 'suspended');
    a.emit('state', 'reconnected', 'connected');
    a.emit('state', 'lost', 'connected');
    await waitFor(() => a.watchCount === 1, { message: 'the watch to be re-armed' });
    await a.sync(PATH);
    expect(await settled(entering)).toBe(false);
    expect(await children(b, PATH)).toEqual([first.nodePath.split('/').pop()]);

    secondIn = true;
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await second.enter({ timeout: 10_000 });
    await entering;
    expect(passedEarly).toBe(false);
    await Promise.all([first.leave(), second.leave()]);
  });

  test('double barrier - await using leaves an entered barrier', async ({ zk }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    const other = new DoubleBarrier(b, PATH, { members: 2 });
    const otherIn = other.enter({ timeout: 10_000 });
    let otherOut: Promise<void>;
    {
      await using barrier = new DoubleBarrier(a, PATH, { members: 2 });
      await barrier.enter({ timeout: 10_000 });
      await otherIn;
      // Leaving waits for every member: it completes once the block has left for `barrier`.
      otherOut = track(other.leave({ timeout: 10_000 }));
    }
    await otherOut;
    expect(other.state).not.toBe('entered');
    await waitFor(async () => (await children(a, PATH)).length === 0);
  });

  test('double barrier - a ready node left without members is cleared by the next round', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    await a.create(`${PATH}/ready`, undefined, { parents: 'persistent' });
    const first = new DoubleBarrier(a, PATH, { members: 2 });
    const entering = track(first.enter({ timeout: 10_000 }));
    await waitFor(async () => (await children(b, PATH)).length === 1);
    expect(await settled(entering)).toBe(false);
    const second = new DoubleBarrier(b, PATH, { members: 2 });
    await Promise.all([entering, second.enter({ timeout: 10_000 })]);
    await Promise.all([first.leave(), second.leave()]);
    expect(await children(a, PATH)).toEqual([]);
  });

  test('double barrier - the member node and the listing go out together, and so do a leave and its watch', async ({
    zk,
  }) => {
    const [a, b] = await Promise.all([zk.client(), zk.client()]);
    await a.create('/pipelined');
    const spans: { client: ZkClient; op: string; start: number; end: number }[] = [];
    const onOp = (message: unknown) => {
      const m = message as OpMessage;
      const end = performance.now();
      spans.push({ client: m.client, op: m.op, start: end - m.durationMs, end });
    };
    const span = (client: ZkClient, op: string) => {
      const found = spans.find((s) => s.client === client && s.op === op);
      expect(found, `${op} of a client`).toBeDefined();
      return found!;
    };
    const first = new DoubleBarrier(a, '/pipelined/round', { members: 2 });
    const second = new DoubleBarrier(b, '/pipelined/round', { members: 2 });
    const round = async () => {
      await Promise.all([first.enter({ timeout: 10_000 }), second.enter({ timeout: 10_000 })]);
      await Promise.all([first.leave({ timeout: 10_000 }), second.leave({ timeout: 10_000 })]);
    };
    // The first round finds no barrier node: a listing sent with the create would fail and be
    // made again, so it is sent after the create. From then on they go out together.
    await round();
    diagnostics.subscribe('zkit:op', onOp);
    try {
      await round();
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    for (const client of [a, b]) {
      expect(span(client, 'getChildren').start).toBeLessThan(span(client, 'create').end);
    }
    // One of the two is not the lowest: it deletes its node and watches the lowest at once.
    const leavers = [a, b].filter((c) =>
      spans.some(
        (s) =>
          s.client === c &&
          s.op === 'delete' &&
          spans.some((t) => t.client === c && t.op === 'exists'),
      ),
    );
    for (const client of leavers) {
      const del = spans.find((s) => s.client === client && s.op === 'delete')!;
      const watch = spans.find(
        (s) => s.client === client && s.op === 'exists' && s.start > span(client, 'create').end,
      )!;
      expect(watch.start).toBeLessThan(del.end);
    }
    expect(leavers.length).toBeGreaterThan(0);
  });
});
