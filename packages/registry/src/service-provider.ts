import { Emitter, InvalidArgumentError, type ListenerError, type WaitOptions } from '@zkit/core';
import type { ServiceInstance } from './instance.js';
import { ServiceCache } from './service-cache.js';

/**
 * How {@link ServiceProvider.getInstance} picks among the instances that are up:
 * - `roundRobin` — each in turn (by id order);
 * - `random` — uniformly at random;
 * - `sticky` — the same instance as last time while it is still there and up, else the next
 *   one in round-robin order.
 *
 * @example
 * ```ts
 * const sessions = registry.provider('session-store', { strategy: 'sticky' });
 * ```
 */
export type ProviderStrategy = 'roundRobin' | 'random' | 'sticky';

/**
 * When an instance counts as down: after `errorThreshold` calls to
 * {@link ServiceProvider.noteError} within `timeout` ms of the first one. It is up again once
 * `timeout` ms have passed since that first error. Curator's defaults: 30 s, 2 errors.
 *
 * @example
 * ```ts
 * registry.provider('api', { downInstancePolicy: { timeout: 10_000, errorThreshold: 3 } });
 * ```
 */
export interface DownInstancePolicy {
  /** Default 30 000 ms. */
  readonly timeout?: number;
  /** Default 2. */
  readonly errorThreshold?: number;
}

/**
 * Options of {@link ServiceProvider}.
 *
 * @example
 * ```ts
 * registry.provider('api', { strategy: 'random' });
 * ```
 */
export interface ServiceProviderOptions {
  /** Default `'roundRobin'` (Curator's default). */
  readonly strategy?: ProviderStrategy;
  readonly downInstancePolicy?: DownInstancePolicy;
}

/**
 * Typed events of {@link ServiceProvider}.
 *
 * @example
 * ```ts
 * provider.once('closed', () => log.info('api provider closed'));
 * ```
 */
export interface ServiceProviderEvents {
  /** The provider was closed. */
  closed: [];
  /** A listener of this provider threw or rejected; it changed nothing (see core's `Emitter`). */
  error: [error: ListenerError];
}

const DEFAULT_POLICY = Object.freeze({ timeout: 30_000, errorThreshold: 2 });
const STRATEGIES: ReadonlySet<string> = new Set(['roundRobin', 'random', 'sticky']);

/**
 * Picks an instance of one service for each call, by a strategy, over a live
 * {@link ServiceCache} (so picking costs no request), skipping disabled instances
 * (`enabled: false`) and instances reported down through {@link ServiceProvider.noteError}.
 *
 * While the connection is `suspended` it keeps picking from the last known view (see
 * {@link ServiceCache.stale}); after a new session the view is refreshed by the cache.
 *
 * @example
 * ```ts
 * const provider = registry.provider('api', { strategy: 'roundRobin' });
 * const api = await provider.getInstance();
 * if (api) {
 *   try {
 *     await call(api);
 *   } catch (error) {
 *     provider.noteError(api); // two errors within 30 s take it out for 30 s
 *   }
 * }
 * ```
 */
export class ServiceProvider extends Emitter<ServiceProviderEvents> {
  /** The cache the provider picks from. */
  readonly cache: ServiceCache;
  readonly strategy: ProviderStrategy;
  readonly #policy: { timeout: number; errorThreshold: number };
  readonly #errors = new Map<string, { since: number; count: number }>();
  #next = 0;
  #sticky: string | undefined;

  /**
   * Usually made by {@link ServiceRegistry.provider}. The provider owns the cache and closes it.
   * @throws `InvalidArgumentError` for an unknown strategy or a bad policy
   */
  constructor(cache: ServiceCache, options: ServiceProviderOptions = {}) {
    super();
    if (!(cache instanceof ServiceCache)) {
      throw new InvalidArgumentError('a ServiceProvider needs a ServiceCache');
    }
    const { strategy, timeout, errorThreshold } = checkProviderOptions(options);
    this.cache = cache;
    this.strategy = strategy;
    this.#policy = { timeout, errorThreshold };
    cache.once('closed', () => this.emit('closed'));
  }

  /**
   * An instance that is up, picked by the strategy; `null` when there is none. Waits for the
   * cache's first view.
   * @throws `RegistryClosedError` when closed first, the signal's reason, a `TimeoutError`
   */
  async getInstance(options: WaitOptions = {}): Promise<ServiceInstance | null> {
    await this.cache.ready(options);
    const up = this.getAllInstances();
    if (up.length === 0) return null;
    if (this.strategy === 'random') return up[Math.floor(Math.random() * up.length)] ?? null;
    if (this.strategy === 'sticky' && this.#sticky !== undefined) {
      const kept = up.find((i) => i.id === this.#sticky);
      if (kept) return kept;
    }
    const picked = up[this.#next++ % up.length] ?? null;
    if (this.#next >= Number.MAX_SAFE_INTEGER) this.#next = 0;
    this.#sticky = picked?.id;
    return picked;
  }

  /**
   * The instances that are up, from the cache's current view (synchronous): enabled (see
   * {@link ServiceInstance.enabled}) and not reported down.
   */
  getAllInstances(): ServiceInstance[] {
    const now = performance.now();
    return this.cache.instances().filter((i) => i.enabled && !this.#isDown(i.id, now));
  }

  /**
   * Reports a failed call to an instance. After `errorThreshold` reports within `timeout` ms it
   * is skipped by {@link ServiceProvider.getInstance} until `timeout` ms after the first report.
   */
  noteError(instance: Pick<ServiceInstance, 'id'>): void {
    const now = performance.now();
    const status = this.#errors.get(instance.id);
    if (!status || now - status.since > this.#policy.timeout) {
      this.#errors.set(instance.id, { since: now, count: 1 });
    } else {
      status.count++;
    }
  }

  /** Closes the provider and its cache. Idempotent. */
  async close(): Promise<void> {
    await this.cache.close();
  }

  /** Same as {@link ServiceProvider.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #isDown(id: string, now: number): boolean {
    const status = this.#errors.get(id);
    if (!status) return false;
    if (now - status.since > this.#policy.timeout) {
      this.#errors.delete(id);
      return false;
    }
    return status.count >= this.#policy.errorThreshold;
  }
}

/**
 * The provider's options with defaults applied, checked before anything is started.
 * @internal
 */
export function checkProviderOptions(options: ServiceProviderOptions): {
  strategy: ProviderStrategy;
  timeout: number;
  errorThreshold: number;
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('provider options must be an object');
  }
  const strategy = options.strategy ?? 'roundRobin';
  if (!STRATEGIES.has(strategy)) {
    throw new InvalidArgumentError(`strategy must be roundRobin, random or sticky`);
  }
  const policy: unknown = options.downInstancePolicy ?? {};
  if (typeof policy !== 'object' || policy === null) {
    throw new InvalidArgumentError('downInstancePolicy must be an object');
  }
  const { timeout = DEFAULT_POLICY.timeout, errorThreshold = DEFAULT_POLICY.errorThreshold } =
    policy as Partial<DownInstancePolicy>;
  if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 0) {
    throw new InvalidArgumentError('downInstancePolicy.timeout must be an integer ≥ 0 ms');
  }
  if (!Number.isSafeInteger(errorThreshold) || errorThreshold < 1) {
    throw new InvalidArgumentError('downInstancePolicy.errorThreshold must be an integer ≥ 1');
  }
  return { strategy, timeout, errorThreshold };
}
