import diagnostics from 'node:diagnostics_channel';
import type { OpMessage, ZkClient } from '@zkit/core';
import { ConnectionLossError, NoNodeError, UnknownOutcomeError } from '@zkit/core';
import type { FaultProxy } from '@zkit/testing';
import type { ZooKeeperFixture } from '@zkit/testing/vitest';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Queue, TakeOutcomeUnknownError } from '../src/index.js';

const PATH = '/jobs/queue';

async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return (await client.getChildren(path)).sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

/**
 * How A's link is cut once its delete is held back: `reset` drops the connection at once;
 * `silence` keeps the partition until A's client gives up on the link by its own timer (2/3 of
 * the session timeout), then heals it before the session times out on the server.
 */
type Cut = 'reset' | 'silence';

type Outcome = { value: string } | { error: unknown };

/** Partitions `proxy` as soon as `client` has read `path`; resolves then. */
function cutAfterRead(
  client: ZkClient,
  path: string,
  proxy: FaultProxy,
): { read: Promise<void>; stop(): void } {
  let onRead: () => void = () => undefined;
  const read = new Promise<void>((resolve) => (onRead = resolve));
  let armed = true;
  const listener = (message: unknown) => {
    const op = message as OpMessage;
    if (armed && op.client === client && op.op === 'get' && op.path === path && !op.error) {
      armed = false;
      proxy.partition();
      onRead();
    }
  };
  diagnostics.subscribe('zkit:op', listener);
  return { read, stop: () => diagnostics.unsubscribe('zkit:op', listener) };
}

/**
 * A client that gives up on a request quickly: it retries once, and waits no longer than 500 ms
 * for a connection (well within its 2 s session).
 */
const GIVE_UP_FAST = { sessionTimeout: 2000, connectTimeout: 500, retry: { retries: 0 } };

/** Resolves when `client`'s delete of `path` has failed for good. */
function deleteFailed(client: ZkClient, path: string): { promise: Promise<void>; stop(): void } {
  let onFailed: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (onFailed = resolve));
  const listener = (message: unknown) => {
    const op = message as OpMessage;
    if (op.client === client && op.op === 'delete' && op.path === path && op.error) onFailed();
  };
  diagnostics.subscribe('zkit:op', listener);
  return { promise, stop: () => diagnostics.unsubscribe('zkit:op', listener) };
}

/**
 * Taker A (behind a proxy) reads the head item; the link goes dark right after that read, so
 * A's delete is held back. Taker B (direct) takes the same item meanwhile. Then A's link comes
 * back within the session timeout and A's delete is retried.
 */
async function racedTake(zk: ZooKeeperFixture, path: string, how: Cut) {
  const proxy = await zk.proxy();
  // The test server allows sessions of at most 2 s (20 ticks of 100 ms).
  const aClient = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
  const bClient = await zk.client();
  const a = new Queue<string>(aClient, path);
  const b = new Queue<string>(bClient, path);
  await b.put('first');
  await b.put('second');
  const [headName] = await children(bClient, path);
  const head = `${path}/${headName}`;

  const cut = cutAfterRead(aClient, head, proxy);
  const healOnSuspend = (now: string) => {
    if (now === 'suspended') proxy.heal();
  };
  try {
    const aTaking: Promise<Outcome> = a.take({ timeout: 30_000 }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // B starts once A has read the item, so both go for the same one.
    const aFirst = await Promise.race([cut.read.then(() => undefined), aTaking]);
    expect(aFirst).toBeUndefined();
    const bValue = await b.take({ timeout: 10_000 });
    if (how === 'reset') {
      proxy.drop();
      proxy.heal();
    } else {
      aClient.on('state', healOnSuspend);
    }
    const aOutcome = await aTaking;
    const left = await b.drain();
    return { bValue, aOutcome, left, head };
  } finally {
    cut.stop();
    aClient.off('state', healOnSuspend);
    proxy.heal();
  }
}

describe('Queue.take ownership', () => {
  for (const cut of ['reset', 'silence'] as const) {
    test(`queue - take never hands one item to two takers when a delete is retried (${cut})`, async ({
      zk,
    }) => {
      for (let trial = 0; trial < 3; trial++) {
        const { bValue, aOutcome, left, head } = await racedTake(zk, `${PATH}-${trial}`, cut);
        expect(bValue).toBe('first');
        // Never both: A must not resolve with the item B was given.
        expect('value' in aOutcome ? aOutcome.value : undefined).not.toBe('first');
        if ('value' in aOutcome) {
          // A learnt that it lost the race and moved on to the next item.
          expect(aOutcome.value).toBe('second');
          expect(left).toEqual([]);
        } else {
          // A cannot know whether its delete removed the item: it is told so, item in hand.
          const error = aOutcome.error;
          expect(error).toBeInstanceOf(TakeOutcomeUnknownError);
          expect(error).toMatchObject({
            code: 'TAKE_OUTCOME_UNKNOWN',
            path: head,
            node: head.slice(head.lastIndexOf('/') + 1),
            values: ['first'],
          });
          expect(left).toEqual(['second']);
        }
        if (cut === 'reset') {
          // A's delete was on the wire when the connection dropped: its outcome is unknowable.
          expect('error' in aOutcome).toBe(true);
          const cause = (aOutcome as { error: Error }).error.cause;
          expect(cause).toBeInstanceOf(UnknownOutcomeError);
        }
      }
    });
  }

  test('queue - a take whose delete gives up takes the same item again once it is seen in place', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString, ...GIVE_UP_FAST });
    const queue = new Queue<string>(client, PATH);
    await queue.put('first');
    await queue.put('second');
    const [head] = await children(client, PATH);
    const itemPath = `${PATH}/${head}`;
    const cut = cutAfterRead(client, itemPath, proxy);
    const failed = deleteFailed(client, itemPath);
    try {
      const taking = queue.take({ timeout: 30_000 });
      await cut.read;
      // The held delete goes with the connection, and no new one comes before retries run out.
      proxy.drop();
      await failed.promise;
      proxy.heal();
      // The item is still there, so it was not taken: it comes first, as put.
      expect(await taking).toBe('first');
    } finally {
      cut.stop();
      failed.stop();
    }
    expect(await queue.take({ timeout: 10_000 })).toBe('second');
    expect(await children(client, PATH)).toEqual([]);
  });

  test('queue - a take whose delete gives up and whose item is gone rejects with the item', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const aClient = await zk.client({ connectString: proxy.connectString, ...GIVE_UP_FAST });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH);
    const b = new Queue<string>(bClient, PATH);
    await b.put('first');
    await b.put('second');
    const [head] = await children(bClient, PATH);
    const itemPath = `${PATH}/${head}`;
    const cut = cutAfterRead(aClient, itemPath, proxy);
    const failed = deleteFailed(aClient, itemPath);
    try {
      const aTaking = a.take({ timeout: 30_000 }).catch((error: unknown) => error);
      await cut.read;
      expect(await b.take({ timeout: 10_000 })).toBe('first');
      proxy.drop();
      await failed.promise;
      proxy.heal();
      const error = await aTaking;
      expect(error).toBeInstanceOf(TakeOutcomeUnknownError);
      expect(error).toMatchObject({ values: ['first'], path: itemPath });
      expect((error as Error).cause).toBeInstanceOf(ConnectionLossError);
    } finally {
      cut.stop();
      failed.stop();
    }
    expect(await a.take({ timeout: 10_000 })).toBe('second');
  });

  test('queue - drain gives no item twice, and keeps what it took when it rejects', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const aClient = await zk.client({ connectString: proxy.connectString, sessionTimeout: 2000 });
    const bClient = await zk.client();
    const a = new Queue<string>(aClient, PATH);
    const b = new Queue<string>(bClient, PATH);
    await b.put('first');
    await b.put('second');
    await b.put('third');
    const second = (await children(bClient, PATH))[1] as string;
    const cut = cutAfterRead(aClient, `${PATH}/${second}`, proxy);
    try {
      const draining = a.drain().then(
        (values) => ({ values }),
        (error: unknown) => ({ error }),
      );
      await cut.read;
      expect(await b.take({ timeout: 10_000 })).toBe('second');
      proxy.drop();
      proxy.heal();
      const outcome = await draining;
      // Never both: the item B was given is not among A's.
      expect('values' in outcome ? outcome.values : []).not.toContain('second');
      expect(outcome).toMatchObject({
        error: { code: 'TAKE_OUTCOME_UNKNOWN', node: second, values: ['second'] },
      });
    } finally {
      cut.stop();
    }
    // 'first' was taken by the drain before it rejected: it is not lost.
    expect(await a.take({ timeout: 10_000 })).toBe('first');
    expect(await a.drain()).toEqual(['third']);
  });
});
