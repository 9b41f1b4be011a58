import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'eventemitter3';
import { ZkError } from './errors.js';

/**
 * Published on `zkit:listener:error` each time a listener (or a callback handed to zkit, such as
 * a `watchRecursive` listener) throws or returns a promise that rejects.
 */
export interface ListenerErrorMessage {
  /** The object whose listener failed: an {@link Emitter}, a `RecursiveWatch`, a queue…. */
  readonly emitter: object;
  /** The event the listener was called for (or the callback's name, e.g. `'onMalformed'`). */
  readonly event: string | symbol;
  /** What the listener threw, or the reason its promise rejected. */
  readonly error: unknown;
}

/**
 * A listener failed: it threw, or returned a promise that rejected. Delivered on the `'error'`
 * event of the emitter whose listener failed, or as a process warning (see {@link Emitter}).
 * The listener's own error is the `cause`.
 *
 * @example
 * ```ts
 * client.on('error', (error) => {
 *   if (error instanceof ListenerError) log.error(`${String(error.event)} listener`, error.cause);
 * });
 * ```
 */
export class ListenerError extends ZkError {
  /** The object whose listener failed. */
  readonly emitter: object;
  /** The event the listener was called for. */
  readonly event: string | symbol;

  constructor(emitter: object, event: string | symbol, cause: unknown) {
    const owner = nameOf(emitter);
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('LISTENER_FAILED', 0, `${owner}: a '${String(event)}' listener failed: ${reason}`, {
      cause,
    });
    this.emitter = emitter;
    this.event = event;
  }
}

/** The emitter's `Symbol.toStringTag` if it has one, else its class name. */
function nameOf(emitter: object): string {
  const tag = (emitter as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  if (typeof tag === 'string') return tag;
  return (emitter.constructor as { name?: string } | undefined)?.name ?? 'object';
}

/** Options of {@link Emitter}. */
export interface EmitterOptions {
  /**
   * Whether a failed listener is also reported as this emitter's `'error'` event (when it has
   * `'error'` listeners). Default `true`. Turned off by emitters whose `'error'` event carries a
   * narrower meaning and other arguments.
   */
  readonly errorEvent?: boolean;
}

const listenerErrorChannel = diagnostics.channel('zkit:listener:error');
/** Emitters built with `errorEvent: false`. */
const noErrorEvent = new WeakSet<object>();

/** How eventemitter3 stores one registration (unchanged since its 1.x releases). */
interface Registration {
  readonly fn: (...args: unknown[]) => unknown;
  readonly context: unknown;
  readonly once: boolean;
}

/**
 * The event emitter every zkit class extends: eventemitter3's API and typed events, with one
 * difference — a listener can never change what the emitter does.
 *
 * eventemitter3 calls listeners in a bare loop, so a listener that throws skips the listeners
 * after it and throws into whatever emitted — for a client, into its state machine, where it
 * could leave a closed session open or keep a lost one from being replaced. Here each listener
 * is called on its own:
 * - every listener registered when `emit` is called is called, in order, whatever the others
 *   did; `once` listeners are removed before they are called;
 * - a listener that throws, or returns a promise that rejects, is reported and nothing else
 *   happens: `emit` returns normally and no unhandled rejection is left behind.
 *
 * A failure is reported, with the listener's error, as follows:
 * 1. on the `node:diagnostics_channel` channel `zkit:listener:error`
 *    ({@link ListenerErrorMessage}), when it has subscribers;
 * 2. as a {@link ListenerError} on this emitter's own `'error'` event, when it has `'error'`
 *    listeners (and unless the emitter turned that off). A failing `'error'` listener skips
 *    this step, so a failure never loops;
 * 3. when neither of those reached anyone, as a process warning (`process.emitWarning` with the
 *    {@link ListenerError}), which Node prints to stderr unless it runs with `--no-warnings`:
 *    a failure is never silent.
 *
 * @example
 * ```ts
 * import { Emitter } from '@zkit/core';
 *
 * interface TickerEvents {
 *   tick: [n: number];
 *   error: [error: unknown];
 * }
 *
 * class Ticker extends Emitter<TickerEvents> {
 *   beat(n: number): void {
 *     this.emit('tick', n); // never throws, whatever the listeners do
 *   }
 * }
 * ```
 */
export class Emitter<
  Events extends EventEmitter.ValidEventTypes = string | symbol,
> extends EventEmitter<Events> {
  /** @param options - see {@link EmitterOptions} */
  constructor(options: EmitterOptions = {}) {
    super();
    if (options.errorEvent === false) noErrorEvent.add(this);
  }

  /**
   * Calls every listener of `event` with `args`, each on its own (see {@link Emitter}).
   * Returns whether the event had listeners. Never throws because of a listener.
   */
  override emit<T extends EventEmitter.EventNames<Events>>(
    event: T,
    ...args: EventEmitter.EventArgs<Events, T>
  ): boolean {
    // eventemitter3 offers no per-listener hook, so its registrations are read directly: they
    // carry the `once` flag and the `context` that `listeners()` leaves out.
    const key = EventEmitter.prefixed ? `${String(EventEmitter.prefixed)}${String(event)}` : event;
    const stored = (this as unknown as { _events: Record<PropertyKey, unknown> })._events[
      key as PropertyKey
    ] as Registration | Registration[] | undefined;
    if (stored === undefined) return false;
    // A copy: a listener added while emitting waits for the next emit.
    const registrations = Array.isArray(stored) ? [...stored] : [stored];
    for (const r of registrations) {
      if (r.once) this.removeListener(event, r.fn as never, undefined, true);
      invoke(this, event, r.fn, args, r.context);
    }
    return true;
  }
}

/**
 * Calls a user-supplied callback the way {@link Emitter} calls a listener: a throw or a rejected
 * promise is reported (channel `zkit:listener:error`, the source's `'error'` event when it is an
 * {@link Emitter} with `'error'` listeners, else a process warning) and never reaches the caller.
 * For recipes that take callbacks outside of events.
 *
 * @param source - the object the callback belongs to, reported as `emitter`
 * @param name - the event or callback name, reported as `event`
 * @param listener - the callback
 * @param args - its arguments
 * @example
 * ```ts
 * callListener(queue, 'onMalformed', options.onMalformed, [error]);
 * ```
 */
export function callListener(
  source: object,
  name: string | symbol,
  listener: (...args: never[]) => unknown,
  args: readonly unknown[],
): void {
  invoke(source, name, listener as (...args: unknown[]) => unknown, args, undefined);
}

function invoke(
  source: object,
  event: string | symbol,
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  context: unknown,
): void {
  try {
    const result = fn.apply(context, args as unknown[]);
    if (isThenable(result)) {
      result.then(undefined, (error: unknown) => report(source, event, error));
    }
  } catch (error) {
    report(source, event, error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function report(source: object, event: string | symbol, error: unknown): void {
  let heard = false;
  if (listenerErrorChannel.hasSubscribers) {
    listenerErrorChannel.publish({ emitter: source, event, error } satisfies ListenerErrorMessage);
    heard = true;
  }
  const failure = new ListenerError(source, event, error);
  if (
    event !== 'error' &&
    source instanceof Emitter &&
    !noErrorEvent.has(source) &&
    source.listenerCount('error') > 0
  ) {
    (source as Emitter<{ error: [ListenerError] }>).emit('error', failure);
    heard = true;
  }
  if (!heard) process.emitWarning(failure);
}
