import { getEventListeners } from 'node:events';
import { describe, expect, test, vi } from 'vitest';
import { anySignal, combineSignals, delay, InvalidArgumentError, raceSignal } from '@zkit/core';
// The timers endWait stops are kept by the module instance that started them: one instance here.
import { ZkTimeoutError } from '../src/errors.js';
import { endWait, endWhenSettled, follow, waitSignal } from '../src/signals.js';

describe('signals', () => {
  test('signals - endWait stops a wait timer; without it the signal times out', async () => {
    vi.useFakeTimers();
    try {
      const own = new AbortController();
      const ended = waitSignal('ended: not done', { timeout: 60_000, signal: own.signal });
      const open = waitSignal('open: not done', { timeout: 60_000 });
      const settled = Promise.resolve('value');
      const settledOptions = { timeout: 60_000 };
      const settledSignal = waitSignal('settled: not done', settledOptions);
      // A wait inside that one, given its signal and no timeout of its own, gets that very
      // signal back: ending it must leave the outer wait's timer alone.
      const innerOptions = { signal: settledSignal };
      const inner = waitSignal('inner: not done', innerOptions);
      expect(inner).toBe(settledSignal);
      expect(endWhenSettled(settled, inner, innerOptions)).toBe(settled);
      await settled;
      expect(vi.getTimerCount()).toBe(3);
      endWait(ended);
      endWait(ended); // twice is harmless
      endWait(undefined);
      expect(vi.getTimerCount()).toBe(2);
      expect(endWhenSettled(settled, settledSignal, settledOptions)).toBe(settled);
      await settled;
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(60_000);
      expect(ended?.aborted).toBe(false);
      expect(settledSignal?.aborted).toBe(false);
      expect(open?.aborted).toBe(true);
      expect(open?.reason).toBeInstanceOf(ZkTimeoutError);
      expect((open?.reason as Error).message).toBe('open: not done within 60000 ms');
      // The caller's own signal still ends a wait whose timer was stopped.
      own.abort(new Error('stop'));
      expect(ended?.aborted).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  test('signals - delay removes its abort listener when the timer fires', async () => {
    const lifetime = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 20; i++) await delay(0, lifetime.signal);
      expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('signals - delay rejects with the reason on abort, at once when already aborted', async () => {
    const controller = new AbortController();
    const waiting = delay(60_000, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(delay(10, controller.signal)).rejects.toBe(reason);
    await expect(delay(10, {} as AbortSignal)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  test('signals - followers of one signal share one listener, gone with the last of them', () => {
    const lifetime = new AbortController();
    const children = Array.from({ length: 50 }, () => new AbortController());
    const unlinks = children.map((c) => follow(lifetime.signal, c));
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(1);
    for (const unlink of unlinks.slice(1)) unlink();
    unlinks[1]?.(); // twice is harmless
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(1);
    const reason = new Error('over');
    lifetime.abort(reason);
    expect(children[0]?.signal.reason).toBe(reason);
    expect(children[1]?.signal.aborted).toBe(false);
    const late = new AbortController();
    follow(lifetime.signal, late);
    expect(late.signal.reason).toBe(reason);
    const other = new AbortController();
    const unlink = follow(other.signal, new AbortController());
    unlink();
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
  });

  test("signals - anySignal aborts with the first source's reason, at once when one already has", () => {
    const a = new AbortController();
    const b = new AbortController();
    const combined = anySignal([a.signal, b.signal]);
    let fired = 0;
    combined.addEventListener('abort', () => fired++);
    b.abort(new Error('b'));
    a.abort(new Error('a'));
    expect(fired).toBe(1);
    expect((combined.reason as Error).message).toBe('b');
    const early = anySignal([new AbortController().signal, a.signal]);
    expect(early.aborted).toBe(true);
    expect((early.reason as Error).message).toBe('a');
  });

  test('signals - waits combined with a long-lived signal keep nothing in it, however many', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc').toBeTypeOf('function');
    const session = new AbortController();
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        gc?.();
      }
    };
    const N = 200_000;
    const waits = async () => {
      for (let i = 0; i < N; i++) {
        // What every recipe's wait does: the caller's signal, the session's, and a race on them.
        const caller = new AbortController();
        const signal = combineSignals({ signal: caller.signal }, session.signal);
        await raceSignal(Promise.resolve(i), signal);
      }
    };
    // The first round sets the high-water mark of the bookkeeping; what the second adds stays.
    await waits();
    await settle();
    const before = process.memoryUsage().heapUsed;
    await waits();
    await settle();
    const perWait = (process.memoryUsage().heapUsed - before) / N;
    // AbortSignal.any kept about 60 bytes a wait here, round after round.
    expect(perWait).toBeLessThan(5);
    // One shared listener at most, gone once every combined signal has been collected.
    expect(getEventListeners(session.signal, 'abort').length).toBeLessThanOrEqual(1);
    expect(session.signal.aborted).toBe(false);
  });

  test('signals - a pending wait keeps its combined signal, collected or not', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const session = new AbortController();
    // Nothing but the pending race holds the combined signal.
    const waiting = raceSignal(new Promise<never>(() => undefined), anySignal([session.signal]));
    waiting.catch(() => undefined);
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc?.();
    }
    const reason = new Error('session lost');
    session.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
