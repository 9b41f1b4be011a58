import diagnostics from 'node:diagnostics_channel';
import type { ListenerErrorMessage } from '@zkit/core';

const CHANNEL = 'zkit:listener:error';

/** What {@link recordListenerErrors} returns. */
export interface ListenerErrorRecorder extends Disposable {
  /** Every failure published so far, oldest first. */
  readonly messages: readonly ListenerErrorMessage[];
  /** The failures of listeners of `emitter` (optionally of one event only). */
  of(emitter: object, event?: string | symbol): ListenerErrorMessage[];
  /** Stops recording. Same as `[Symbol.dispose]`. */
  stop(): void;
}

/**
 * Records what zkit publishes on the `zkit:listener:error` diagnostics channel: every listener
 * (or callback handed to zkit) that threw or returned a promise that rejected. Use it to check
 * that such a failure was reported, and with `using` so recording stops with the test.
 *
 * @example
 * ```ts
 * using failures = recordListenerErrors();
 * client.on('state', () => {
 *   throw new Error('boom');
 * });
 * await client.close();
 * expect(failures.of(client, 'state')).toHaveLength(1);
 * ```
 */
export function recordListenerErrors(): ListenerErrorRecorder {
  const messages: ListenerErrorMessage[] = [];
  const onMessage = (message: unknown) => messages.push(message as ListenerErrorMessage);
  diagnostics.subscribe(CHANNEL, onMessage);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    diagnostics.unsubscribe(CHANNEL, onMessage);
  };
  return {
    messages,
    of: (emitter, event) =>
      messages.filter((m) => m.emitter === emitter && (event === undefined || m.event === event)),
    stop,
    [Symbol.dispose]: stop,
  };
}
