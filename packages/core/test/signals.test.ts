import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import { delay, InvalidArgumentError } from '@zkit/core';
import { follow } from '../src/signals.js';

describe('signals', () => {
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
});
