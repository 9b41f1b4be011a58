import {
  ClientClosedError,
  Emitter,
  NoNodeError,
  QueuedIterator,
  SessionExpiredError,
  basename,
  waitSignal,
  delay,
  isRetryable,
  join,
  parent,
  raceSignal,
  watchRecursive,
  type ConnectionState,
  type RecursiveWatch,
  type RecursiveWatchEvent,
  type Stat,
  type WaitOptions,
  type Watched,
  type ZkClient,
} from '@zkit/core';
import { MalformedInstanceError, RegistryClosedError } from './errors.js';
import { parse, type ServiceInstance } from './instance.js';

/**
 * One change of a {@link ServiceCache}'s view.
 *
 * @example
 * ```ts
 * for await (const change of cache.changes()) {
 *   if (change.type === 'updated') console.log(change.previous.port, '→', change.instance.port);
 * }
 * ```
 */
export type CacheChange =
  | { readonly type: 'added'; readonly instance: ServiceInstance }
  | {
      readonly type: 'updated';
      readonly instance: ServiceInstance;
      readonly previous: ServiceInstance;
    }
  | { readonly type: 'removed'; readonly instance: ServiceInstance };

/**
 * Typed events of {@link ServiceCache}.
 *
 * @example
 * ```ts
 * cache.on('removed', (instance) => pool.drain(instance.id));
 * cache.on('stale', (stale) => metrics.gauge('discovery.stale', stale ? 1 : 0));
 * ```
 */
export interface ServiceCacheEvents {
  added: [instance: ServiceInstance];
  updated: [instance: ServiceInstance, previous: ServiceInstance];
  removed: [instance: ServiceInstance];
  /** Every change, in order (the three events above, as one stream). */
  change: [change: CacheChange];
  /** `stale` flipped: `true` when the view may be behind the server, `false` once fresh again. */
  stale: [stale: boolean];
  /** A node whose data is not a readable instance: skipped, not in the view. */
  quarantined: [error: MalformedInstanceError];
  /**
   * A read failed with a non-connection error (e.g. `NoAuthError`); the cache retries later.
   * Also a `ListenerError` when another listener of the cache threw or rejected: that changes
   * nothing for the cache (see core's `Emitter`).
   */
  error: [error: unknown];
  /** The cache was closed. */
  closed: [];
}

/**
 * Options of {@link ServiceCache}.
 *
 * @example
 * ```ts
 * const cache = new ServiceCache(client, '/services/api', 'api', { recursiveWatch: false });
 * ```
 */
export interface ServiceCacheOptions {
  /**
   * Also watch the service with a persistent recursive watch (ZooKeeper 3.6+), so that a new or
   * changed instance is read as soon as its event arrives: one round trip instead of a listing
   * plus a read. The client opens one extra watch-only connection for it (shared by all its
   * caches). The cache's own child and data watches stay the source of truth; without the extra
   * watch (`false`, an older server, or while its connection is down) the cache is exactly as
   * correct, only a round trip slower. Default `true`.
   */
  readonly recursiveWatch?: boolean | undefined;
}

interface Entry {
  /** `null` while the node is quarantined. */
  instance: ServiceInstance | null;
  key: string;
  czxid: bigint;
  mzxid: bigint;
  /** Order in which the read was issued, against listings (see `#apply`). */
  seq: number;
  /** Session whose data watch covers this entry; another session means re-read. */
  session: string | undefined;
  watch: Watched<unknown> | undefined;
}

/** A listing of the service: `pzxid` is missing while the service node does not exist. */
interface Listing {
  readonly children: string[];
  readonly pzxid?: bigint;
  /** Order in which the listing's request was issued, against reads. */
  readonly seq: number;
}

const IDLE_RETRY_MS = 1000;
/**
 * While the recursive watch is active, how long a child-watch listing waits so that one listing
 * confirms a burst of registrations (it also bounds how late a change the recursive watch does
 * not report, e.g. on a node its connection may not read, is seen).
 */
const CONFIRM_DELAY_MS = 50;

/**
 * A live, locally held view of one service's instances (`basePath/<name>/*`), kept current by
 * watches: one child watch on the service node and one data watch per instance. Every change is
 * reported as a typed diff — `added`, `updated`, `removed` — as events and through
 * {@link ServiceCache.changes}.
 *
 * New instances are read in parallel (pipelined), so a cold start over hundreds of instances
 * costs one round trip, not one per instance.
 *
 * **Speed.** A child watch only says that the children changed, so a new instance costs a
 * listing and then a read. Unless turned off ({@link ServiceCacheOptions.recursiveWatch}), the
 * cache also sets a persistent recursive watch (ZooKeeper 3.6+, through `watchRecursive` of
 * `@zkit/core`: on the client's own session, or with `transport: 'native'` on one extra
 * watch-only connection per client) whose event names the new instance, and reads it at once:
 * visible one round trip after the server commits it. The child and data watches stay the
 * source of truth; the recursive watch only makes them early, so a refused, cut or lagging
 * recursive watch makes the cache slower, never wrong.
 *
 * **Sessions.** While the connection is `suspended` (or the session `lost`), the cache keeps
 * serving its last view and sets {@link ServiceCache.stale} (`stale` event). On a reconnect to
 * the same session it re-lists the service once (watches survive on the server) and reports only
 * real changes — no spurious removed/added. After a new session it re-reads everything, since
 * the old session's watches are gone, and reports the difference. `stale` clears once the view
 * has been re-read.
 *
 * @example
 * ```ts
 * const cache = registry.cache('api');
 * await cache.ready();
 * console.log(cache.instances().map((i) => `${i.address}:${i.port}`));
 * for await (const change of cache.changes()) console.log(change.type, change.instance.id);
 * ```
 */
export class ServiceCache extends Emitter<ServiceCacheEvents> {
  readonly client: ZkClient;
  /** The service node, `basePath/<name>`. */
  readonly path: string;
  /** The service name. */
  readonly name: string;
  readonly #entries = new Map<string, Entry>();
  readonly #stop = new AbortController();
  readonly #ready: Promise<void>;
  #resolveReady!: () => void;
  #rejectReady!: (reason: unknown) => void;
  readonly #failureWaiters = new Set<(error: unknown) => void>();
  #isReady = false;
  #stale = true;
  #view: ServiceInstance[] | undefined;
  #kick: (() => void) | undefined;
  #kicked = false;
  /** Reads in flight, by id, so that a listing and an event share one read. */
  readonly #reading = new Map<string, Promise<void>>();
  #seq = 0;
  readonly #recursive: RecursiveWatch | undefined;
  /** Something the recursive watch did not explain happened: list without delay. */
  #listNow = false;

  /**
   * Usually made by {@link ServiceRegistry.cache}. Starts at once.
   * @param path - the service node, `basePath/<name>`
   */
  constructor(client: ZkClient, path: string, name: string, options: ServiceCacheOptions = {}) {
    super();
    this.client = client;
    this.path = path;
    this.name = name;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.#ready.catch(() => undefined);
    client.on('state', this.#onState);
    if (options.recursiveWatch !== false) {
      const watch = watchRecursive(client, path, this.#onRecursiveEvent);
      // Refused (an older server) or closed: the cache goes on with its own watches alone.
      watch.ready().catch(() => void watch.close());
      this.#recursive = watch;
    }
    void this.#run();
  }

  /**
   * Resolves once the first view has been read; at once afterwards.
   * @throws {@link RegistryClosedError} if the cache closes first; the error of the cache's next
   * attempt to read the first view when it fails for a reason that waiting does not fix, such
   * as `NoAuthError` (the cache keeps trying once a second, so a later `ready()`, e.g. after
   * `addAuth`, resolves once an attempt succeeds); the signal's reason on abort; a
   * `ZkTimeoutError` (`name` `'TimeoutError'`; "ServiceCache /services/api: not ready within 5000
   * ms") on timeout, at once with `timeout: 0` unless the first view is read
   */
  ready(options: WaitOptions = {}): Promise<void> {
    // Looks before it waits: with `timeout: 0` a ready cache resolves, any other times out.
    const signal = waitSignal(`ServiceCache ${this.path}: not ready`, options);
    if (this.#stop.signal.aborted) return Promise.reject(new RegistryClosedError(this.path));
    if (this.#isReady) return Promise.resolve();
    let onFailure!: (error: unknown) => void;
    const failed = new Promise<never>((_, reject) => {
      onFailure = reject;
      this.#failureWaiters.add(reject);
    });
    failed.catch(() => undefined);
    return raceSignal(Promise.race([this.#ready, failed]), signal).finally(() =>
      this.#failureWaiters.delete(onFailure),
    );
  }

  /** `true` before the first read and while the view may be behind the server. */
  get stale(): boolean {
    return this.#stale;
  }

  /**
   * `true` while the recursive watch that speeds up the cache is set and its connection is up;
   * `false` when it is turned off, refused by the server (older than 3.6), or interrupted. The
   * cache is correct either way.
   */
  get accelerated(): boolean {
    return this.#recursive?.active ?? false;
  }

  /** The current view, sorted by id: synchronous, no request. Empty before {@link ready}. */
  instances(): ServiceInstance[] {
    this.#view ??= [...this.#entries.values()]
      .map((e) => e.instance)
      .filter((i): i is ServiceInstance => i !== null)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return [...this.#view];
  }

  /** One instance of the view by id. */
  instance(id: string): ServiceInstance | undefined {
    return this.#entries.get(id)?.instance ?? undefined;
  }

  /**
   * The changes from the first `next()` on, as an async iterable. Ends when the cache closes,
   * the signal aborts, or the consumer leaves the loop; the listeners it added go with it.
   * Changes are buffered per iterator, so a slow consumer misses nothing.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<CacheChange> {
    return new QueuedIterator<CacheChange>(
      async (it) => {
        if (this.#stop.signal.aborted) return;
        const onChange = (c: CacheChange) => it.push(c);
        const onEnd = () => it.stop();
        this.on('change', onChange);
        this.on('closed', onEnd);
        try {
          await it.until();
        } finally {
          this.off('change', onChange);
          this.off('closed', onEnd);
        }
      },
      { signal: options.signal },
    );
  }

  /** Same as {@link ServiceCache.changes} without options. */
  [Symbol.asyncIterator](): AsyncIterableIterator<CacheChange> {
    return this.changes();
  }

  /**
   * Stops watching and clears the view; resolves once the recursive watch is removed too.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort(new RegistryClosedError(this.path));
    this.client.off('state', this.#onState);
    const closing = this.#recursive?.close();
    this.#rejectReady(new RegistryClosedError(this.path));
    for (const e of this.#entries.values()) e.watch?.cancel();
    this.#entries.clear();
    this.#view = undefined;
    this.#kick?.();
    this.emit('closed');
    // The last recursive watch of the client takes its watch connection's session with it.
    await closing;
  }

  /** Same as {@link ServiceCache.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  readonly #onState = (now: ConnectionState): void => {
    if (now === 'suspended' || now === 'lost') this.#setStale(true);
    else if (now === 'reconnected') this.#wake();
    else if (now === 'closed') void this.close();
  };

  /**
   * An event of the recursive watch: a hint that lets a new or changed instance be read at once
   * instead of after the child watch's listing. A deletion makes the cache list at once.
   */
  readonly #onRecursiveEvent = (event: RecursiveWatchEvent): void => {
    if (!('path' in event) || parent(event.path) !== this.path || this.#stop.signal.aborted) return;
    if (event.type === 'deleted') {
      this.#wake();
      return;
    }
    if (event.type !== 'created' && event.type !== 'dataChanged') return;
    const id = basename(event.path);
    // A read already under way was issued after the change, or is followed by a watch that
    // reports it: either way the cache's own watches get there.
    if (this.#reading.has(id)) return;
    this.#read(id, this.#stop.signal, true).catch(() => undefined);
  };

  #wake(): void {
    this.#kicked = true;
    this.#kick?.();
  }

  #setStale(stale: boolean): void {
    if (this.#stale === stale) return;
    this.#stale = stale;
    if (this.#isReady) this.emit('stale', stale);
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#kicked = false;
      let watched: Watched<Listing>;
      try {
        watched = await this.#list(signal);
        await this.#apply(watched.value, signal);
      } catch (error) {
        if (signal.aborted || error instanceof ClientClosedError) return;
        if (!isRetryable(error) && !(error instanceof SessionExpiredError)) {
          if (!this.#isReady) {
            for (const reject of this.#failureWaiters) reject(error);
          }
          this.emit('error', error);
          await delay(IDLE_RETRY_MS, signal).catch(() => undefined);
        }
        await this.client.whenConnected({ signal }).catch(() => undefined);
        continue;
      }
      if (signal.aborted) {
        watched.cancel();
        return;
      }
      if (!this.#kicked && this.client.isConnected) this.#setStale(false);
      if (!this.#isReady) {
        this.#isReady = true;
        this.#resolveReady();
      }
      if (!this.#kicked) {
        await new Promise<void>((resolve) => {
          this.#kick = resolve;
          watched.changed.then(
            () => {
              if (!this.accelerated || this.#listNow) {
                this.#listNow = false;
                return resolve();
              }
              // The recursive watch has reported every creation (read at once) and kicks the
              // listing on every deletion: the listing only confirms, so one serves a burst.
              setTimeout(resolve, CONFIRM_DELAY_MS).unref();
            },
            () => resolve(),
          );
        });
      }
      this.#kick = undefined;
      // Kicked early, the child watch is still on the server: the next change of the service's
      // instances fires it, which costs less than a request to remove it.
      watched.cancel({ keepServerWatch: true });
      if (!this.client.isConnected && !signal.aborted) {
        await this.client.whenConnected({ signal }).catch(() => undefined);
      }
    }
  }

  /**
   * The service's children with a child watch, and the service node's `pzxid`; `[]` and a
   * creation watch while it is missing.
   */
  async #list(signal: AbortSignal): Promise<Watched<Listing>> {
    for (;;) {
      try {
        const seq = ++this.#seq;
        const w = await this.client.getChildrenWatched(this.path, { signal });
        const value = { children: w.value.children, pzxid: w.value.stat.pzxid, seq };
        return { value, changed: w.changed, cancel: w.cancel };
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
      const seq = ++this.#seq;
      const ex = await this.client.existsWatched(this.path, { signal });
      if (ex.value === null) {
        return { value: { children: [], seq }, changed: ex.changed, cancel: ex.cancel };
      }
      ex.cancel();
    }
  }

  /**
   * Brings the view in line with a listing. An instance missing from the listing is dropped only
   * if the listing is newer than what the cache read of it: a read prompted by the recursive
   * watch may have found an instance created after the listing was taken. With the service's
   * `pzxid`, an instance created (`czxid`) after it is newer; without (service node missing), a
   * read issued after the listing is.
   */
  async #apply(listing: Listing, signal: AbortSignal): Promise<void> {
    const present = new Set(listing.children);
    const { pzxid, seq } = listing;
    for (const [id, entry] of this.#entries) {
      if (present.has(id)) continue;
      const newer = pzxid === undefined ? entry.seq > seq : entry.czxid > pzxid;
      if (!newer) this.#drop(id, entry);
    }
    const results = await Promise.allSettled(
      listing.children.map((id) => this.#readIfNeeded(id, signal)),
    );
    for (const r of results) {
      if (r.status === 'rejected') throw r.reason;
    }
  }

  /** Reads an instance unless the view holds it under this session; shares a read in flight. */
  async #readIfNeeded(id: string, signal: AbortSignal): Promise<void> {
    const current = () => this.#entries.get(id)?.session === this.client.sessionId;
    if (current()) return;
    const inFlight = this.#reading.get(id);
    if (inFlight) {
      await inFlight.catch(() => undefined);
      if (current()) return;
    }
    await this.#read(id, signal, false);
  }

  /**
   * Reads one instance, recorded in `#reading` while in flight. A read prompted by the recursive
   * watch (`hint`) that finds no node changes nothing: the main client's server may not have
   * applied the creation yet, and the child watch will report it.
   */
  #read(id: string, signal: AbortSignal, hint: boolean): Promise<void> {
    const read = this.#readOne(id, signal, hint).finally(() => {
      if (this.#reading.get(id) === read) this.#reading.delete(id);
    });
    this.#reading.set(id, read);
    return read;
  }

  #drop(id: string, entry: Entry): void {
    this.#entries.delete(id);
    entry.watch?.cancel();
    if (entry.instance) {
      this.#view = undefined;
      this.#emitChange({ type: 'removed', instance: entry.instance });
    }
  }

  /** Reads one instance with a data watch and applies it to the view. */
  async #readOne(id: string, signal: AbortSignal, hint = false): Promise<void> {
    const path = join(this.path, id);
    const session = this.client.sessionId;
    const seq = ++this.#seq;
    let got: Watched<{ data: Buffer; stat: Stat }>;
    try {
      got = await this.client.getWatched(path, { signal });
    } catch (error) {
      if (error instanceof NoNodeError) {
        if (hint) {
          // Our server has not applied the creation yet: its child watch will report it, and
          // the listing it brings must not wait.
          this.#listNow = true;
          return;
        }
        const old = this.#entries.get(id);
        if (old) this.#drop(id, old);
        return;
      }
      throw error;
    }
    if (signal.aborted) {
      got.cancel();
      return;
    }
    const { data, stat } = got.value;
    const old = this.#entries.get(id);
    // A newer read already landed (a data watch and a listing raced): keep it.
    if (old && old.mzxid > stat.mzxid && old.session === session) {
      got.cancel();
      return;
    }
    old?.watch?.cancel();
    let instance: ServiceInstance | null = null;
    try {
      instance = parse(data, path, id);
    } catch (error) {
      if (!(error instanceof MalformedInstanceError)) throw error;
      if (!old || old.mzxid !== stat.mzxid) this.emit('quarantined', error);
    }
    const key = instance ? JSON.stringify(instance) : '';
    const entry: Entry = {
      instance,
      key,
      czxid: stat.czxid,
      mzxid: stat.mzxid,
      seq,
      session,
      watch: got,
    };
    this.#entries.set(id, entry);
    got.changed.then(
      (event) => {
        if (this.#entries.get(id) !== entry) return;
        if (event.type === 'dataChanged') {
          this.#read(id, this.#stop.signal, false).catch(() => {
            // Re-read on the next listing.
            entry.session = undefined;
            this.#wake();
          });
        } else if (event.type === 'deleted') {
          // The listing the child watch brings decides; if the node is back by then (deleted
          // and re-created in between), it must be read again, which also re-arms this watch.
          entry.session = undefined;
        }
      },
      () => undefined,
    );
    if (old?.instance && instance) {
      if (old.key !== key) {
        this.#view = undefined;
        this.#emitChange({ type: 'updated', instance, previous: old.instance });
      }
    } else if (old?.instance) {
      this.#view = undefined;
      this.#emitChange({ type: 'removed', instance: old.instance });
    } else if (instance) {
      this.#view = undefined;
      this.#emitChange({ type: 'added', instance });
    }
  }

  #emitChange(change: CacheChange): void {
    if (change.type === 'updated') this.emit('updated', change.instance, change.previous);
    else this.emit(change.type, change.instance);
    this.emit('change', change);
  }
}
