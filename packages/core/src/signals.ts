import { InvalidArgumentError, ZkTimeoutError } from './errors.js';

/** Options of every zkit call that can wait. */
export interface WaitOptions {
  /** Aborts the wait; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Upper bound in milliseconds; the call rejects with a {@link ZkTimeoutError} (`name`
   * `'TimeoutError'`) naming what it waited for when it is reached. Never resolves with `false`
   * instead. `0` tries once without waiting.
   */
  readonly timeout?: number | undefined;
}

/**
 * The longest wait a timer can express, ms (2^31 − 1, about 24.8 days). Node fires a longer
 * `setTimeout` after 1 ms, so a longer bound would end a wait almost at once.
 */
const MAX_TIMEOUT = 0x7fffffff;

/**
 * Checks a `timeout` option: an integer number of milliseconds in [0, 2^31 − 1], or
 * `undefined` for no bound. Throws {@link InvalidArgumentError} before any I/O otherwise (Node's
 * timers reject fractions with a `RangeError` and cut longer waits to 1 ms).
 */
export function validateTimeout(timeout: unknown, name = 'timeout'): void {
  if (timeout === undefined) return;
  if (
    typeof timeout !== 'number' ||
    !Number.isInteger(timeout) ||
    timeout < 0 ||
    timeout > MAX_TIMEOUT
  ) {
    throw new InvalidArgumentError(
      `${name} must be an integer number of milliseconds in [0, ${MAX_TIMEOUT}]`,
    );
  }
}

/**
 * Checks a `signal` option: an `AbortSignal`, or `undefined`. Throws {@link InvalidArgumentError}
 * before any I/O otherwise (anything else would fail later with a `TypeError`, possibly after a
 * request was sent).
 */
export function validateSignal(signal: unknown, name = 'signal'): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`${name} must be an AbortSignal`);
  }
}

/**
 * One signal that aborts when any of the given ones does, or when `timeout` ms have passed (with
 * a {@link ZkTimeoutError} saying "not done within … ms"). `undefined` entries are skipped. A
 * wait that can name what it waits for uses {@link waitSignal} instead.
 */
export function combineSignals(
  options: WaitOptions,
  ...more: (AbortSignal | undefined)[]
): AbortSignal | undefined {
  return waitSignal('not done', options, ...more);
}

/**
 * The signal of one wait: aborts when `options.signal` or any of `more` does, or when
 * `options.timeout` ms have passed — then with a {@link ZkTimeoutError} whose message is `what`
 * followed by the bound, e.g. `waitSignal('Mutex /locks/a: not acquired', { timeout: 5000 })`
 * times out with "Mutex /locks/a: not acquired within 5000 ms". Every zkit wait that takes
 * `{ signal, timeout }` builds its signal here, so every timeout reads alike.
 *
 * With `timeout: 0` the signal is already aborted: a wait that looks before it waits (and
 * races only its waiting with the signal) resolves when the thing is there and fails at once
 * otherwise. A wait whose first attempt needs requests uses {@link attemptSignal}.
 *
 * @throws {@link InvalidArgumentError} for a bad `timeout` or `signal`, before any I/O
 */
export function waitSignal(
  what: string,
  options: WaitOptions,
  ...more: (AbortSignal | undefined)[]
): AbortSignal | undefined {
  return buildSignal(what, options, more, false);
}

/**
 * {@link waitSignal} for a wait that calls {@link aboutToBlock} at every point where it blocks:
 * with `timeout: 0` the signal aborts there, not before, so the wait makes its first attempt
 * (and succeeds when the thing is free) but never waits. With any other timeout it is
 * {@link waitSignal}.
 */
export function attemptSignal(
  what: string,
  options: WaitOptions,
  ...more: (AbortSignal | undefined)[]
): AbortSignal | undefined {
  return buildSignal(what, options, more, true);
}

function buildSignal(
  what: string,
  options: WaitOptions,
  more: (AbortSignal | undefined)[],
  attempt: boolean,
): AbortSignal | undefined {
  validateTimeout(options.timeout);
  validateSignal(options.signal);
  const all: AbortSignal[] = [];
  if (options.signal) all.push(options.signal);
  let once: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (attempt && options.timeout === 0) {
    once = new AbortController();
    all.push(once.signal);
  } else if (options.timeout !== undefined) {
    const controller = new AbortController();
    timer = startTimeout(controller, what, options.timeout);
    all.push(controller.signal);
  }
  for (const s of more) if (s) all.push(s);
  if (all.length === 0) return undefined;
  const signal = all.length === 1 ? (all[0] as AbortSignal) : anySignal(all);
  if (timer) timers.set(signal, timer);
  if (once) {
    const controller = once;
    tryOnceSignals.set(signal, () => controller.abort(new ZkTimeoutError(what, 0)));
  }
  return signal;
}

/** Signals of `timeout: 0` waits: each aborts when its wait is about to block. */
const tryOnceSignals = new WeakMap<AbortSignal, () => void>();

/**
 * Call where a wait is about to block (for a watch, a change, a turn). A signal built by
 * {@link attemptSignal} with `timeout: 0` aborts here with its {@link ZkTimeoutError}, so such a
 * wait does its first look — and succeeds when the thing is free — but never waits; any other
 * signal is only checked. Throws the signal's reason when it is aborted.
 */
export function aboutToBlock(signal: AbortSignal | undefined): void {
  if (!signal) return;
  tryOnceSignals.get(signal)?.();
  signal.throwIfAborted();
}

/**
 * What `timeout: 0` means for a wait that has a one-shot form: the result of that one attempt,
 * or a {@link ZkTimeoutError} (`what` within 0 ms) when it found nothing free. Recipes use it so
 * that `acquire({ timeout: 0 })` is `tryAcquire()` with a typed failure, never a wait.
 *
 * @example
 * ```ts
 * // inside a recipe: acquire({ timeout: 0 }) tries once
 * if (options.timeout === 0) return tryOnce(`Mutex ${path}: not acquired`, this.tryAcquire(options));
 * ```
 */
export async function tryOnce<T>(what: string, attempt: Promise<T | null>): Promise<T> {
  const value = await attempt;
  if (value === null) throw new ZkTimeoutError(what, 0);
  return value;
}

/**
 * Aborts `controller` with a {@link ZkTimeoutError} after `timeout` ms, as `AbortSignal.timeout`
 * would. Its timer does not keep the process alive, as `AbortSignal.timeout`'s does not: a wait
 * that nobody else keeps alive is not what should hold a process open.
 */
function startTimeout(
  controller: AbortController,
  what: string,
  timeout: number,
): NodeJS.Timeout | undefined {
  if (timeout === 0) {
    controller.abort(new ZkTimeoutError(what, 0));
    return undefined;
  }
  return setTimeout(() => controller.abort(new ZkTimeoutError(what, timeout)), timeout).unref();
}

/** The timer behind each signal built with a timeout, until {@link endWait}. */
const timers = new WeakMap<AbortSignal, NodeJS.Timeout>();

/**
 * Ends a wait whose signal came from {@link waitSignal}, {@link attemptSignal} or
 * {@link combineSignals} called with a `timeout`: stops that timeout's timer. Not exported from
 * the package: recipes use {@link endWhenSettled}, which cannot end a caller's timer by mistake.
 * Call it once the wait has settled. Until then (or without it) the timer runs to its end and
 * keeps what the signal holds alive that long: a lock taken in a millisecond with
 * `timeout: 60_000` would keep its timer, controller and signal for a minute, and at a few
 * hundred acquisitions a second the process carries tens of thousands of them. Harmless for
 * `undefined` and for signals without a timer.
 *
 * Only for a signal built with a timeout by the same call: built without one, the signal may be
 * the caller's own (a single source is returned as it is), whose timer belongs to the caller's
 * wait. {@link endWhenSettled} checks that for you.
 *
 * @example
 * ```ts
 * const signal = waitSignal('Mutex /locks/a: not acquired', { timeout: 5000 });
 * try {
 *   return await acquireWith(signal);
 * } finally {
 *   endWait(signal);
 * }
 * ```
 */
export function endWait(signal: AbortSignal | undefined): void {
  if (!signal) return;
  const timer = timers.get(signal);
  if (timer === undefined) return;
  timers.delete(signal);
  clearTimeout(timer);
}

/**
 * Returns `wait` itself, and once it settles stops the timeout timer of `signal`, the signal
 * built from `options` — when `options` has a timeout, so that the timer is this wait's own.
 * Until then (or without it) the timer runs to its end and keeps what the signal holds alive that
 * long: a lock taken in a millisecond with `timeout: 60_000` would keep its timer, controller and
 * signal for a minute.
 *
 * @example
 * ```ts
 * const signal = waitSignal('Mutex /locks/a: not acquired', options);
 * return endWhenSettled(acquireWith(signal), signal, options);
 * ```
 */
export function endWhenSettled<T>(
  wait: Promise<T>,
  signal: AbortSignal | undefined,
  options: WaitOptions,
): Promise<T> {
  if (signal && options.timeout !== undefined && timers.has(signal)) {
    const end = () => endWait(signal);
    wait.then(end, end);
  }
  return wait;
}

/** Each source's dependants (weak references to the signals combined from it) and listener. */
interface Dependants {
  readonly refs: Set<WeakRef<AbortSignal>>;
  readonly onAbort: () => void;
}
const dependantsOf = new WeakMap<AbortSignal, Dependants>();
/** The controller behind each combined signal, kept alive by the signal itself. */
const controllerOf = new WeakMap<AbortSignal, AbortController>();
/** Forgets a combined signal in its sources once it has been collected. */
const forget = new FinalizationRegistry<{
  source: AbortSignal;
  dependants: Dependants;
  ref: WeakRef<AbortSignal>;
}>(({ source, dependants, ref }) => {
  dependants.refs.delete(ref);
  if (dependants.refs.size > 0 || dependantsOf.get(source) !== dependants) return;
  dependantsOf.delete(source);
  source.removeEventListener('abort', dependants.onAbort);
});

/**
 * A signal that aborts, with the first source's reason, when any of `signals` does — what
 * `AbortSignal.any` promises, without its cost on a long-lived source.
 *
 * On Node 20, every signal `AbortSignal.any` combines from a source stays reachable from that
 * source until it aborts: about 60 bytes a call once an abort listener was added and removed
 * (measured: 200,000 calls on one session signal kept 12 MB). Every zkit wait combines the
 * caller's signal with a long-lived one (the session's, a recipe's), so a worker taking locks
 * for days would grow by hundreds of MB. Here a source holds one listener however many signals
 * are combined from it (removed once none is left), and only weak references to them: a combined
 * signal nobody holds any more is collected and dropped from its sources.
 *
 * Hold the returned signal for as long as its abort matters: a pending {@link raceSignal} on it
 * does, and so does any wait whose promise the pending work still references.
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  const combined = controller.signal;
  for (const source of signals) {
    if (source.aborted) {
      controller.abort(source.reason);
      return combined;
    }
  }
  controllerOf.set(combined, controller);
  const ref = new WeakRef(combined);
  for (const source of signals) {
    let dependants = dependantsOf.get(source);
    if (!dependants) {
      const refs = new Set<WeakRef<AbortSignal>>();
      const onAbort = () => {
        dependantsOf.delete(source);
        for (const r of [...refs]) {
          const signal = r.deref();
          if (signal) controllerOf.get(signal)?.abort(source.reason);
        }
        refs.clear();
      };
      dependants = { refs, onAbort };
      dependantsOf.set(source, dependants);
      source.addEventListener('abort', onAbort, { once: true });
    }
    dependants.refs.add(ref);
    forget.register(combined, { source, dependants, ref });
  }
  return combined;
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it aborts. The work
 * behind `promise` is not cancelled; callers that own resources must clean up themselves.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (!(signal instanceof AbortSignal)) {
    promise.catch(() => undefined);
    return Promise.reject(new InvalidArgumentError('signal must be an AbortSignal'));
  }
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const race = join(signal, () => reject(signal.reason));
    promise.then(
      (value) => {
        race.leave();
        resolve(value);
      },
      (error: unknown) => {
        race.leave();
        reject(error);
      },
    );
  });
}

/** The races pending on each signal, all served by one abort listener. */
const racesOf = new Map<
  AbortSignal,
  { readonly losers: Set<() => void>; readonly onAbort: () => void }
>();

/**
 * Enters a race on `signal`: `lose` runs if it aborts before `leave()`. However many races are
 * pending on one signal (32 requests in flight under a shared one), the signal carries a single
 * listener, removed with the last race. The map also keeps the signal reachable while races are
 * pending: a signal combined by {@link anySignal} is held only weakly by its sources, and a
 * promise that never settles holds nothing.
 */
function join(signal: AbortSignal, lose: () => void): { leave(): void } {
  let races = racesOf.get(signal);
  if (!races) {
    const losers = new Set<() => void>();
    const onAbort = () => {
      racesOf.delete(signal);
      for (const l of [...losers]) l();
      losers.clear();
    };
    races = { losers, onAbort };
    racesOf.set(signal, races);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const { losers, onAbort } = races;
  const entry = () => lose();
  losers.add(entry);
  return {
    leave() {
      if (!losers.delete(entry) || losers.size > 0) return;
      if (racesOf.get(signal)?.losers === losers) racesOf.delete(signal);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Resolves after `ms`, or rejects with the signal's reason if it aborts first. Removes its
 * listener from the signal either way, so delays in a loop on a long-lived signal add nothing to
 * it.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    return Promise.reject(new InvalidArgumentError('signal must be an AbortSignal'));
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Followers {
  readonly controllers: Set<AbortController>;
  readonly onAbort: () => void;
}

const followersOf = new WeakMap<AbortSignal, Followers>();

/**
 * Aborts `child` with `parent`'s reason when `parent` aborts, until the returned function is
 * called. All children of one parent share a single listener on it, removed with the last
 * child: any number of waits on a long-lived signal add at most one listener to it and keep
 * nothing once unlinked (see {@link anySignal} for why `AbortSignal.any` cannot serve here).
 */
export function follow(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => undefined;
  }
  let followers = followersOf.get(parent);
  if (!followers) {
    const controllers = new Set<AbortController>();
    const onAbort = () => {
      followersOf.delete(parent);
      for (const c of controllers) c.abort(parent.reason);
    };
    followers = { controllers, onAbort };
    followersOf.set(parent, followers);
    parent.addEventListener('abort', onAbort, { once: true });
  }
  const { controllers, onAbort } = followers;
  controllers.add(child);
  return () => {
    if (!controllers.delete(child) || controllers.size > 0) return;
    if (followersOf.get(parent)?.controllers === controllers) followersOf.delete(parent);
    parent.removeEventListener('abort', onAbort);
  };
}
