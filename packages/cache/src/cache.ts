import {
  ClientClosedError,
  Emitter,
  NoNodeError,
  QueuedIterator,
  SessionExpiredError,
  delay,
  getMany,
  isRetryable,
  join,
  parent,
  validatePath,
  watchRecursive,
  watchesOnOwnSession,
  type ConnectionState,
  type RecursiveWatch,
  type RecursiveWatchEvent,
  type Stat,
  type Watched,
  type ZkClient,
  checkClient,
} from '@zkit/core';
import { CacheClosedError } from './errors.js';

/** One node of a cache's view. Frozen: a change replaces it. */
export interface CachedNode {
  /** The node's path, as the client names it (without the client's namespace). */
  readonly path: string;
  /** The node's stat as last read. */
  readonly stat: Stat;
  /** The node's data, or `undefined` where the cache does not keep data for it. */
  readonly data: Buffer | undefined;
}

/**
 * One change of a cache's view, in the order the cache applied them.
 * - `added` / `updated` / `removed`: a node entered the view, changed (its data, or it was
 *   deleted and created again), or left it. `previous` is what the view held before.
 * - `initialized`: the first load is complete (once per cache).
 * - `reset`: the client's session was lost and a new one began; the changes that follow bring
 *   the view to the server's tree as the new session reads it.
 *
 * @example
 * ```ts
 * for await (const change of cache.changes()) {
 *   if (change.type === 'updated') console.log(change.path, change.previous.stat.version, '→', change.node.stat.version);
 * }
 * ```
 */
export type CacheChange =
  | { readonly type: 'added'; readonly path: string; readonly node: CachedNode }
  | {
      readonly type: 'updated';
      readonly path: string;
      readonly node: CachedNode;
      readonly previous: CachedNode;
    }
  | { readonly type: 'removed'; readonly path: string; readonly previous: CachedNode }
  | { readonly type: 'initialized' }
  | { readonly type: 'reset' };

/**
 * Typed events of every cache ({@link NodeCache}, {@link ChildrenCache}, {@link TreeCache}).
 *
 * @example
 * ```ts
 * cache.on('added', (node) => console.log('added', node.path));
 * cache.on('removed', (previous) => console.log('removed', previous.path));
 * cache.on('initialized', () => console.log('loaded', cache.size, 'nodes'));
 * ```
 */
export interface CacheEvents {
  added: [node: CachedNode];
  updated: [node: CachedNode, previous: CachedNode];
  removed: [previous: CachedNode];
  /** The first load is complete. */
  initialized: [];
  /** A new session replaced a lost one; the changes that follow resynchronise the view. */
  reset: [];
  /** Every change above, in order, as one stream. */
  change: [change: CacheChange];
  /**
   * A read failed for a reason other than the connection (e.g. `NoAuthError`); the cache reads
   * everything again a second later. Also a `ListenerError` when a listener of the cache threw
   * or rejected: that changes nothing for the cache (see core's `Emitter`).
   */
  error: [error: unknown];
  /** The cache was closed. */
  closed: [];
}

/** Where a cache is in its life: `latent` until `start()`, `closed` after `close()`. */
export type CacheState = 'latent' | 'started' | 'closed';

/** What the subclasses decide about the part of the tree a cache keeps. @internal */
export interface Scope {
  readonly root: string;
  /** How many levels below the root are kept (0: the root alone). */
  readonly depth: number;
  /** Whether the root is part of the view (a children cache keeps only the children). */
  readonly includeRoot: boolean;
  /** Whether the data of a node is read and kept. */
  readonly wantsData: (path: string) => boolean;
  /** Whether to use a persistent recursive watch (else one-shot watches). */
  readonly recursiveWatch: boolean;
}

interface Entry {
  node: CachedNode;
  /** Names of the children in the view; `undefined` while it has none (most nodes: leaves). */
  children: Set<string> | undefined;
}

/** One read node: `null` where it does not exist. `children` where it was listed. */
interface Read {
  readonly stat: Stat;
  readonly data: Buffer | undefined;
  children?: string[];
}

/** Pause after a failed refresh before everything is read again. */
const RETRY_MS = 1000;

/**
 * What {@link NodeCache}, {@link ChildrenCache} and {@link TreeCache} share: a local view of part
 * of the tree under one path, kept current by one persistent recursive watch (ZooKeeper 3.6+,
 * through core's `watchRecursive`: on the client's own session on the wire transport), with a
 * synchronous view, typed events and an async iterator of changes.
 *
 * **How it stays current.** The watch is set before the first load, so no change is missed
 * between them. The first load reads the tree level by level: the data of every node through
 * core's `getMany` (one multi-read per 128 nodes, all sent at once), then the listing of only
 * those nodes whose stat says they have children. Afterwards each event costs at most one
 * request: a read of the node it names (the events that arrive together share their
 * multi-reads; a new node with children is then listed). Events are hints: only what the reads
 * say is applied, one batch at a time, so the view moves forward only.
 *
 * **Ordering.** No change reports a state older than one already reported: a node's read is
 * applied only if its `czxid` (created again) or `mzxid` (data changed) moved forward, and all
 * of a cache's requests go over one session, which never reads behind what it read before.
 *
 * **Sessions.** While the client is `suspended` the view is kept as it was. Once the watch is
 * set again (same session: the client sets it again as it reconnects; new session after `lost`:
 * added again), the cache reads the whole scope again and reports exactly the differences — a
 * change made while disconnected is reported once. After a new session the differences are
 * preceded by `reset`. When the client closes, the cache closes.
 *
 * **Without a recursive watch** (a server older than 3.6, or `recursiveWatch: false`), one-shot
 * watches do the same job: a data watch on every node and a child watch on every node above the
 * depth limit, set before the node is read and set again after each event.
 *
 * **What is never read.** Nodes deeper than the scope's depth are never listed nor read, and the
 * data of a node the `dataFilter` refuses (or of every node, with `cacheData: false`) is never
 * read: its stat comes from `exists`, or from the listing (`getChildren` with stat) where it has
 * children to list.
 */
export abstract class Cache extends Emitter<CacheEvents> {
  /** The client the cache reads through (borrowed, never closed by the cache). */
  readonly client: ZkClient;
  /** The watched path. */
  readonly path: string;
  readonly #scope: Scope;
  readonly #entries = new Map<string, Entry>();
  #state: CacheState = 'latent';
  #started: Promise<void> | undefined;
  #resolveStarted!: () => void;
  #rejectStarted!: (error: unknown) => void;
  #initialized = false;
  #watch: RecursiveWatch | undefined;
  /** Node events not applied yet, in the order the server sent them. */
  #pending: { readonly path: string }[] = [];
  /** The whole scope must be read again (first load, watch set again, failed refresh). */
  #resync = true;
  /** The client lost its session since the last full read: `reset` comes before the next. */
  #lost = false;
  #kick: (() => void) | undefined;
  readonly #stop = new AbortController();
  /** One-shot watches instead of the recursive one (asked for, or refused by the server). */
  #oneShot = false;
  /** One-shot data watches set and not fired yet, by path. */
  readonly #dataWatches = new Map<string, Promise<Watched<unknown> | undefined>>();
  /** One-shot child watches set and not fired yet, by path. */
  readonly #childWatches = new Map<string, Promise<Watched<unknown> | undefined>>();
  /** Nodes whose child watch fired: list them at their next read. */
  readonly #mustList = new Set<string>();

  /**
   * Made through {@link NodeCache}, {@link ChildrenCache} or {@link TreeCache}.
   * @hidden
   */
  protected constructor(client: ZkClient, scope: Scope) {
    super();
    checkClient(client);
    validatePath(scope.root);
    this.client = client;
    this.path = scope.root;
    this.#scope = scope;
  }

  /** `latent` until {@link Cache.start}, `started`, then `closed` after {@link Cache.close}. */
  get state(): CacheState {
    return this.#state;
  }

  /** Whether the first load is complete. */
  get initialized(): boolean {
    return this.#initialized;
  }

  /** How many nodes the view holds. */
  get size(): number {
    return this.#entries.size - (this.#scope.includeRoot || !this.#entries.has(this.path) ? 0 : 1);
  }

  /**
   * Sets the watch and loads the scope; resolves once the first load is complete (after the
   * `added` events of that load and `initialized`). Calling it again returns the same promise.
   *
   * @throws {@link CacheClosedError} when the cache is closed first or was already closed;
   * `ClientClosedError`; a read error other than the connection's (e.g. `NoAuthError`) — the
   * cache keeps trying. A server older than 3.6 is no error: the cache uses one-shot watches.
   */
  start(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new CacheClosedError(this.path));
    if (this.#started) return this.#started;
    this.#state = 'started';
    this.#started = new Promise<void>((resolve, reject) => {
      this.#resolveStarted = resolve;
      this.#rejectStarted = reject;
    });
    this.#started.catch(() => undefined);
    this.client.on('state', this.#onState);
    if (!this.#scope.recursiveWatch) {
      this.#oneShot = true;
      void this.#run();
      return this.#started;
    }
    const watch = watchRecursive(this.client, this.path, this.#onWatch);
    this.#watch = watch;
    watch.ready().then(
      () => void this.#run(),
      (error: unknown) => {
        if (this.#state === 'closed') return;
        if ((error as { code?: unknown }).code === 'UNIMPLEMENTED') {
          // A server older than 3.6: one-shot watches do the same job with more requests.
          this.#watch = undefined;
          void watch.close();
          this.#oneShot = true;
          void this.#run();
          return;
        }
        this.#rejectStarted(error);
        void this.close();
      },
    );
    return this.#started;
  }

  /** The node at `path` in the view, or `undefined`. Synchronous: no request. */
  get(path: string): CachedNode | undefined {
    if (path === this.path && !this.#scope.includeRoot) return undefined;
    return this.#entries.get(path)?.node;
  }

  /**
   * The children of `path` in the view (by default the watched path's), sorted by name.
   * Synchronous: no request. Empty where the view holds no such node.
   */
  children(path: string = this.path): CachedNode[] {
    const entry = this.#entries.get(path);
    if (!entry) return [];
    return [...(entry.children ?? [])]
      .sort()
      .map((name) => this.#entries.get(join(path, name))?.node)
      .filter((n): n is CachedNode => n !== undefined);
  }

  /** Every node of the view, sorted by path. Synchronous: no request. */
  nodes(): CachedNode[] {
    const out: CachedNode[] = [];
    for (const [path, entry] of this.#entries) {
      if (path === this.path && !this.#scope.includeRoot) continue;
      out.push(entry.node);
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * The changes from the first `next()` on, as an async iterable (core's `QueuedIterator`).
   * Ends when the cache closes, the signal aborts, or the consumer leaves the loop; the
   * listeners it added go with it. Changes are buffered per iterator: a slow consumer misses
   * nothing.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<CacheChange> {
    return new QueuedIterator<CacheChange>(
      async (it) => {
        if (this.#state === 'closed') return;
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

  /** Same as {@link Cache.changes} without options. */
  [Symbol.asyncIterator](): AsyncIterableIterator<CacheChange> {
    return this.changes();
  }

  /**
   * Stops the cache: removes its watch from the server (resolves once removed), clears the view
   * and ends every iterator of changes. Idempotent; also when the cache was never started.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stop.abort(new CacheClosedError(this.path));
    this.client.off('state', this.#onState);
    this.#rejectStarted?.(new CacheClosedError(this.path));
    this.#entries.clear();
    this.#pending = [];
    for (const watches of [this.#dataWatches, this.#childWatches]) {
      for (const w of watches.values()) void w.then((watched) => watched?.cancel());
      watches.clear();
    }
    this.#kick?.();
    this.emit('closed');
    await this.#watch?.close();
  }

  /** Same as {@link Cache.close}; enables `await using cache = …`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  readonly #onState = (now: ConnectionState): void => {
    if (now === 'lost') this.#lost = true;
    else if (now === 'closed') void this.close();
  };

  readonly #onWatch = (event: RecursiveWatchEvent): void => {
    if (this.#state === 'closed') return;
    if (event.type === 'interrupted') return;
    if (event.type === 'resumed') {
      // Changes made while the watch was not set were not reported: read everything again.
      this.#resync = true;
      this.#wake();
      return;
    }
    if (this.#depthOf(event.path) > this.#scope.depth) return;
    // A recursive watch reports no child events.
    if (event.type === 'childrenChanged') return;
    // The data of a root outside the view is not kept: its change needs no read.
    if (event.type === 'dataChanged' && event.path === this.path && !this.#scope.includeRoot) {
      return;
    }
    this.#pending.push({ path: event.path });
    this.#wake();
  };

  #wake(): void {
    const kick = this.#kick;
    this.#kick = undefined;
    kick?.();
  }

  #depthOf(path: string): number {
    if (path === this.path) return 0;
    const rest = this.path === '/' ? path : path.slice(this.path.length);
    let n = 0;
    for (const c of rest) if (c === '/') n++;
    return n;
  }

  /** The worker: applies one batch at a time, so that reads and events stay in order. */
  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      if (!this.#resync && this.#pending.length === 0) {
        await new Promise<void>((resolve) => (this.#kick = resolve));
        continue;
      }
      try {
        if (this.#resync) {
          this.#resync = false;
          // Events queued so far are covered by the full read that starts now.
          this.#pending = [];
          if (this.#lost && this.#initialized) {
            this.#lost = false;
            this.#report({ type: 'reset' });
          }
          await this.#refresh([this.path], true);
          if (stop.aborted) return;
          if (!this.#initialized) {
            this.#initialized = true;
            this.#report({ type: 'initialized' });
            this.#resolveStarted();
          }
        } else {
          // Every event is a hint, a deletion too: it may be older than a read already made
          // (the node created again since), so each named node is read, and only what the
          // reads say is applied — in the order they were made, so the view only moves forward.
          const toRead = new Set(this.#pending.map((event) => event.path));
          this.#pending = [];
          // Watches on another session than the reads (the native transport): that session's
          // server may be ahead of the client's, so the client catches up before it reads.
          if (!watchesOnOwnSession(this.client)) await this.client.sync(this.path);
          await this.#refresh([...toRead], false);
        }
      } catch (error) {
        if (stop.aborted) return;
        if (!(error instanceof ClientClosedError) && !isConnectionError(error)) {
          this.emit('error', error);
          if (!this.#initialized) this.#rejectStarted(error);
        }
        this.#resync = true;
        await delay(RETRY_MS, stop).catch(() => undefined);
        if (!stop.aborted && !this.client.isConnected) {
          await this.client.whenConnected({ signal: stop }).catch(() => undefined);
        }
      }
    }
  }

  /**
   * Reads `paths` (and, below them, what must be listed and loaded) and applies what was read.
   * `full`: every node below is read again (a full resync); else only nodes new to the view.
   */
  async #refresh(paths: readonly string[], full: boolean): Promise<void> {
    let level = [...paths].sort(byDepth);
    while (level.length > 0 && !this.#stop.signal.aborted) {
      const reads = await this.#read(level);
      const toList: string[] = [];
      const next: string[] = [];
      for (const path of level) {
        const read = reads.get(path) ?? null;
        const listed = this.#apply(path, read, full);
        if (listed === 'list') toList.push(path);
        else next.push(...listed);
      }
      if (toList.length > 0) {
        const listings = await Promise.all(
          toList.map((path) =>
            this.client.getChildren(path).catch((error: unknown) => {
              if (error instanceof NoNodeError) return null;
              throw error;
            }),
          ),
        );
        for (const [i, path] of toList.entries()) {
          const names = listings[i] ?? null;
          if (names === null) this.#remove(path);
          else next.push(...this.#applyListing(path, names, full));
        }
      }
      level = next.sort(byDepth);
    }
  }

  /**
   * With one-shot watches: sets the watches `paths` lack — a data watch on each, a child watch on
   * each above the depth limit — before they are read, so that no change after the read is
   * missed.
   */
  async #arm(paths: readonly string[]): Promise<void> {
    const setting: Promise<unknown>[] = [];
    for (const path of paths) {
      if (!this.#dataWatches.has(path)) {
        setting.push(
          this.#watchOne(this.#dataWatches, path, () => this.client.existsWatched(path)),
        );
      }
      if (this.#depthOf(path) < this.#scope.depth && !this.#childWatches.has(path)) {
        setting.push(
          this.#watchOne(this.#childWatches, path, () => this.client.getChildrenWatched(path)),
        );
      }
    }
    await Promise.all(setting);
  }

  /** Sets one one-shot watch; when it fires, the path is read again (and listed, for a child). */
  #watchOne(
    watches: Map<string, Promise<Watched<unknown> | undefined>>,
    path: string,
    set: () => Promise<Watched<unknown>>,
  ): Promise<Watched<unknown> | undefined> {
    const setting: Promise<Watched<unknown> | undefined> = set().then(
      (watched) => {
        watched.changed.then(
          (event) => {
            if (watches.get(path) === setting) watches.delete(path);
            if (this.#state === 'closed') return;
            if (event.type === 'childrenChanged') this.#mustList.add(path);
            this.#pending.push({ path });
            this.#wake();
          },
          (error: unknown) => {
            if (watches.get(path) === setting) watches.delete(path);
            // The session, and every watch it held, is gone: read (and watch) everything again.
            if (error instanceof SessionExpiredError && this.#state !== 'closed') {
              this.#resync = true;
              this.#wake();
            }
          },
        );
        return watched;
      },
      (error: unknown) => {
        if (watches.get(path) === setting) watches.delete(path);
        // No node to watch children of: its parent's child watch reports its creation.
        if (error instanceof NoNodeError) return undefined;
        throw error;
      },
    );
    watches.set(path, setting);
    return setting;
  }

  /** Reads the stats (and data where wanted) of `paths`; lists those without data at once. */
  async #read(paths: readonly string[]): Promise<Map<string, Read | null>> {
    if (this.#oneShot) await this.#arm(paths);
    const out = new Map<string, Read | null>();
    const withData = paths.filter((p) => this.#wantsData(p));
    const rest = paths.filter((p) => !this.#wantsData(p));
    const dataRead = getMany(this.client, withData);
    const restRead = Promise.all(
      rest.map(async (path): Promise<Read | null> => {
        try {
          if (this.#depthOf(path) < this.#scope.depth) {
            const { children, stat } = await this.client.getChildren(path, { withStat: true });
            return { stat, data: undefined, children };
          }
          const stat = await this.client.exists(path);
          return stat === null ? null : { stat, data: undefined };
        } catch (error) {
          if (error instanceof NoNodeError) return null;
          throw error;
        }
      }),
    );
    dataRead.catch(() => undefined);
    restRead.catch(() => undefined);
    const [data, stats] = await Promise.all([dataRead, restRead]);
    for (const [i, path] of withData.entries()) {
      const read = data[i];
      out.set(path, read ? { stat: read.stat, data: read.data } : null);
    }
    for (const [i, path] of rest.entries()) out.set(path, stats[i] ?? null);
    return out;
  }

  #wantsData(path: string): boolean {
    if (path === this.path && !this.#scope.includeRoot) return false;
    return this.#scope.wantsData(path);
  }

  /**
   * Applies one read node. Returns `'list'` when its children must be listed, else the paths of
   * children to read next (from a listing that came with the read).
   */
  #apply(path: string, read: Read | null, full: boolean): 'list' | string[] {
    if (read === null) {
      this.#remove(path);
      return [];
    }
    // A node whose parent left the view (or is not in it yet) waits for the parent's listing.
    if (path !== this.path && !this.#entries.has(parent(path))) return [];
    const old = this.#entries.get(path);
    if (old) {
      const was = old.node.stat;
      // Older than what was reported: a read that lost a race with a later one.
      if (read.stat.czxid < was.czxid) return [];
      if (read.stat.czxid === was.czxid && read.stat.mzxid < was.mzxid) return [];
    }
    const node: CachedNode = Object.freeze({ path, stat: read.stat, data: read.data });
    const recreated = old !== undefined && old.node.stat.czxid !== read.stat.czxid;
    if (old === undefined) {
      this.#entries.set(path, { node, children: undefined });
      const above = path === this.path ? undefined : this.#entries.get(parent(path));
      if (above) (above.children ??= new Set()).add(basenameOf(path));
      this.#report({ type: 'added', path, node });
    } else {
      const previous = old.node;
      old.node = node;
      // Only the data (or a new node under the same path) makes an update; a stat that moved
      // because of the children (pzxid, cversion) is kept without an event.
      if (recreated || read.stat.mzxid !== previous.stat.mzxid) {
        this.#report({ type: 'updated', path, node, previous });
      }
    }
    return this.#afterApply(path, read, full, old === undefined || recreated);
  }

  #afterApply(path: string, read: Read, full: boolean, isNew: boolean): 'list' | string[] {
    if (this.#depthOf(path) >= this.#scope.depth) return [];
    if (read.children !== undefined) {
      this.#mustList.delete(path);
      return this.#applyListing(path, read.children, full || isNew);
    }
    const mustList = this.#mustList.delete(path);
    if (read.stat.numChildren === 0) {
      this.#applyListing(path, [], full);
      return [];
    }
    return full || isNew || mustList ? 'list' : [];
  }

  /**
   * Applies a listing of `path`: children that left it leave the view; returns the children to
   * read (all of them on a full read, else only those new to the view).
   */
  #applyListing(path: string, names: readonly string[], all: boolean): string[] {
    const entry = this.#entries.get(path);
    if (!entry) return [];
    const listed = new Set(names);
    for (const name of [...(entry.children ?? [])]) {
      if (!listed.has(name)) this.#remove(join(path, name));
    }
    const next: string[] = [];
    for (const name of names) {
      const child = join(path, name);
      if (all || !this.#entries.has(child)) next.push(child);
    }
    return next;
  }

  /** Removes `path` and everything below it from the view, deepest first. */
  #remove(path: string): void {
    const entry = this.#entries.get(path);
    if (!entry) return;
    for (const name of [...(entry.children ?? [])]) this.#remove(join(path, name));
    this.#entries.delete(path);
    const above = path === this.path ? undefined : this.#entries.get(parent(path));
    if (above?.children?.delete(basenameOf(path)) && above.children.size === 0) {
      above.children = undefined;
    }
    this.#report({ type: 'removed', path, previous: entry.node });
  }

  #report(change: CacheChange): void {
    if (this.#state === 'closed') return;
    if ('path' in change && change.path === this.path && !this.#scope.includeRoot) return;
    switch (change.type) {
      case 'added':
        this.emit('added', change.node);
        break;
      case 'updated':
        this.emit('updated', change.node, change.previous);
        break;
      case 'removed':
        this.emit('removed', change.previous);
        break;
      case 'initialized':
        this.emit('initialized');
        break;
      case 'reset':
        this.emit('reset');
        break;
    }
    this.emit('change', change);
  }
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function byDepth(a: string, b: string): number {
  const da = a.split('/').length;
  const db = b.split('/').length;
  return da - db || (a < b ? -1 : a > b ? 1 : 0);
}

function isConnectionError(error: unknown): boolean {
  return error instanceof SessionExpiredError || isRetryable(error);
}
