import diagnostics from 'node:diagnostics_channel';
import { InvalidArgumentError, ZkTimeoutError } from '@zkit/core';
import type { OpMessage, ZkClient } from '@zkit/core';
import { expireSession } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { DelayQueue } from '../src/index.js';

const PATH = '/jobs/later';

/** Counts the listings `client` makes of `path` while subscribed. */
function countListings(client: ZkClient, path: string): { count(): number; stop(): void } {
  let n = 0;
  const listener = (message: unknown) => {
    const op = message as OpMessage;
    if (op.client === client && op.op.startsWith('getChildren') && op.path === path) n += 1;
  };
  diagnostics.subscribe('zkit:op', listener);
  return { count: () => n, stop: () => diagnostics.unsubscribe('zkit:op', listener) };
}

describe('DelayQueue', () => {
  test("delay queue - items are Curator's `queue-|<due hex>|<seq>` nodes, visible from their due time, earliest first", async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new DelayQueue<string>(client, PATH);
    const now = Date.now();
    const late = await queue.put('late', { delay: 900 });
    const soon = await queue.put('soon', { until: new Date(now + 300) });
    await queue.put('past', { until: now - 60_000 });
    const hex = (t: number) => t.toString(16).toUpperCase().padStart(8, '0');
    expect(soon).toBe(`${PATH}/queue-|${hex(now + 300)}|0000000001`);
    expect(late).toMatch(/\/queue-\|[0-9A-F]{8,}\|0000000000$/);

    // Only the past item is due now.
    expect(await queue.take({ timeout: 0 })).toBe('past');
    await expect(queue.take({ timeout: 0 })).rejects.toBeInstanceOf(ZkTimeoutError);
    expect(await queue.size()).toBe(2);

    // The consumer waits on a timer and a child watch: a couple of listings, no polling.
    const listings = countListings(client, PATH);
    try {
      expect(await queue.take({ timeout: 10_000 })).toBe('soon');
      expect(Date.now()).toBeGreaterThanOrEqual(now + 300);
      expect(await queue.take({ timeout: 10_000 })).toBe('late');
      expect(Date.now()).toBeGreaterThanOrEqual(now + 900);
    } finally {
      listings.stop();
    }
    expect(listings.count()).toBeLessThanOrEqual(6);
  });

  test('delay queue - a consumer waiting for a far item wakes for an item put due earlier', async ({
    zk,
  }) => {
    const client = await zk.client();
    const producer = new DelayQueue<string>(await zk.client(), PATH);
    const queue = new DelayQueue<string>(client, PATH);
    await producer.put('next hour', { delay: 3_600_000 });
    const stop = new AbortController();
    const iterator = queue.consume({ signal: stop.signal })[Symbol.asyncIterator]();
    const first = iterator.next();
    await producer.put('now', { delay: 0 });
    const step = await first;
    expect(step.done).toBe(false);
    if (step.done === true) return;
    expect(step.value.value).toBe('now');
    await step.value.ack();
    stop.abort();
    await iterator.return?.();
    expect(await queue.size()).toBe(1);
  });

  test('delay queue - a take waiting for a due item gets it across a connection drop', async ({
    zk,
  }) => {
    const proxy = await zk.proxy();
    const client = await zk.client({ connectString: proxy.connectString });
    const queue = new DelayQueue<string>(client, PATH);
    const due = Date.now() + 400;
    await queue.put('x', { until: due });
    const taking = queue.take({ timeout: 15_000 });
    proxy.drop();
    expect(await taking).toBe('x');
    expect(Date.now()).toBeGreaterThanOrEqual(due);
  });

  test('delay queue - a consumer waiting for a due item gets it after its session expired', async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new DelayQueue<string>(client, PATH);
    const due = Date.now() + 500;
    await queue.put('x', { until: due });
    const stop = new AbortController();
    const iterator = queue.consume({ signal: stop.signal })[Symbol.asyncIterator]();
    const first = iterator.next();
    await expireSession(client);
    const step = await first;
    expect(step.done).toBe(false);
    if (step.done === true) return;
    expect(step.value.value).toBe('x');
    expect(Date.now()).toBeGreaterThanOrEqual(due);
    await step.value.ack();
    stop.abort();
    await iterator.return?.();
    expect(await queue.size()).toBe(0);
  });

  test('delay queue - a missing, double or bad due time is refused before any request', async ({
    zk,
  }) => {
    const client = await zk.client();
    const queue = new DelayQueue<string>(client, PATH);
    const seen: string[] = [];
    const onOp = (message: unknown) => {
      const op = message as OpMessage;
      if (op.client === client) seen.push(op.op);
    };
    diagnostics.subscribe('zkit:op', onOp);
    try {
      const bad: unknown[] = [
        undefined,
        {},
        { delay: 1, until: 2 },
        { delay: -1 },
        { delay: Number.NaN },
        { delay: '5' },
        { until: -5 },
        { until: new Date(Number.NaN) },
        { until: '2030-01-01' },
      ];
      for (const options of bad) {
        expect(() => queue.put('x', options as { delay: number })).toThrow(InvalidArgumentError);
      }
      expect(() => queue.putMany([], { delay: 0 })).toThrow(InvalidArgumentError);
    } finally {
      diagnostics.unsubscribe('zkit:op', onOp);
    }
    expect(seen).toEqual([]);
  });
});
