import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import { delay, InvalidArgumentError } from '@zkit/core';

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
});
