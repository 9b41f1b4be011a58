import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import { LeakProbe } from '@zkit/testing';
import { QueuedIterator } from '@zkit/core';

const PUSHES = 50_000;

describe('queued iterator', () => {
  test('queued iterator - 50 000 values through a producer that waits for each pull keep the heap flat and add no listener', async () => {
    const user = new AbortController();
    let it: QueuedIterator<number> | undefined;
    const source = new QueuedIterator<number>(
      async (self) => {
        it = self;
        for (let n = 0; !self.signal.aborted; n++) {
          self.push(n);
          if (!(await self.wanted())) return;
          await self.until(Promise.resolve());
        }
      },
      { signal: user.signal },
    );
    let seen = 0;
    const probe = LeakProbe.start(() => (it ? [user.signal, it.signal] : [user.signal]));
    for await (const n of source) {
      expect(n).toBe(seen);
      seen += 1;
      if (seen === 1000) probe.rebase();
      if (seen % 1000 === 0) probe.sample();
      if (seen === PUSHES) break;
    }
    const report = probe.stop();
    // The user's signal carries the iterator's one listener while it runs, the iterator's own
    // signal at most the wait in progress.
    expect(report.maxListeners[0]).toBeLessThanOrEqual(1);
    expect(report.maxListeners[1]).toBeLessThanOrEqual(1);
    expect(report.listenerWarnings).toEqual([]);
    // Stated bound: under 20 bytes per value on average (1 MB for 49 000 values).
    expect(report.heapGrowth).toBeLessThan(1024 * 1024);
    expect(getEventListeners(user.signal, 'abort')).toHaveLength(0);
    expect(it?.signal.aborted).toBe(true);
  });

  test('queued iterator - 50 000 pushes queue up and are pulled in order, then stop ends the loop', async () => {
    const it = new QueuedIterator<number>();
    for (let n = 0; n < PUSHES; n++) it.push(n);
    it.stop();
    it.push(-1); // ignored after stop
    expect(it.size).toBe(PUSHES);
    let expected = 0;
    for await (const n of it) expect(n).toBe(expected++);
    expect(expected).toBe(PUSHES);
    expect(it.size).toBe(0);
  });

  test('queued iterator - a producer error reaches the consumer after the values pushed before it', async () => {
    const failure = new Error('broken');
    const it = new QueuedIterator<string>(async (self) => {
      self.push('a');
      self.push('b');
      throw failure;
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const v of it) seen.push(v);
      })(),
    ).rejects.toBe(failure);
    expect(seen).toEqual(['a', 'b']);
    await expect(it.next()).resolves.toEqual({ done: true, value: undefined });
  });

  test('queued iterator - break stops the producer and waits for its cleanup', async () => {
    const events: string[] = [];
    const it = new QueuedIterator<number>(async (self) => {
      try {
        for (let n = 0; ; n++) {
          self.push(n);
          if (!(await self.wanted())) return;
        }
      } finally {
        await Promise.resolve();
        events.push('released');
      }
    });
    for await (const n of it) if (n === 2) break;
    expect(events).toEqual(['released']);
    expect(it.signal.aborted).toBe(true);
  });

  test('queued iterator - the signal ends a waiting loop without an error and removes its listener', async () => {
    const user = new AbortController();
    const it = new QueuedIterator<number>(
      async (self) => {
        self.push(1);
        await self.until();
      },
      { signal: user.signal },
    );
    const seen: number[] = [];
    const loop = (async () => {
      for await (const n of it) {
        seen.push(n);
        expect(getEventListeners(user.signal, 'abort')).toHaveLength(1);
        user.abort();
      }
    })();
    await loop;
    expect(seen).toEqual([1]);
    expect(getEventListeners(user.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(it.signal, 'abort')).toHaveLength(0);
  });

  test('queued iterator - an iterator that is never pulled starts nothing and adds no listener', async () => {
    const user = new AbortController();
    let started = false;
    const it = new QueuedIterator<number>(
      async () => {
        started = true;
      },
      { signal: user.signal },
    );
    expect(getEventListeners(user.signal, 'abort')).toHaveLength(0);
    await it.return();
    await expect(it.next()).resolves.toEqual({ done: true, value: undefined });
    expect(started).toBe(false);
    expect(() => new QueuedIterator(42 as never)).toThrow(TypeError);
  });
});
