import type { ZkClient, Data } from './client.js';
import { checkClient } from './check-client.js';
import { Emitter, type ListenerError } from './emitter.js';
import {
  BadVersionError,
  ClientClosedError,
  DataTooLargeError,
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  ZkError,
  isRetryable,
} from './errors.js';
import { basename, parent, validatePath } from './paths.js';
import { delay, raceSignal, validateTimeout, waitSignal, type WaitOptions } from './signals.js';
import type { Stat } from './stat.js';

/**
 * Modes of a {@link PersistentNode}:
 * - `'ephemeral'`: the node lives with the session; re-created under every new session.
 * - `'ephemeralSequential'`: as `'ephemeral'`, created with Curator's protection
 *   (`_c_<uuid>-<name><seq>`); its path changes with every re-creation.
 * - `'persistent'`: re-created when someone deletes it; left in place when the process dies.
 * - `'persistentWithTtl'`: a TTL node (the server needs `extendedTypesEnabled=true`), touched
 *   every `ttl / 2` ms while the object lives, so the server removes it about `ttl` ms after the
 *   process stops touching it.
 */
export type PersistentNodeMode =
  'ephemeral' | 'ephemeralSequential' | 'persistent' | 'persistentWithTtl';

/**
 * Options of {@link PersistentNode}.
 *
 * @example
 * ```ts
 * new PersistentNode(client, '/workers/worker-', 'host-a', { mode: 'ephemeralSequential' });
 * ```
 */
export interface PersistentNodeOptions {
  /** Default `'ephemeral'`. */
  readonly mode?: PersistentNodeMode;
  /** Time-to-live in ms; required for `'persistentWithTtl'`, rejected otherwise. */
  readonly ttl?: number;
  /**
   * How missing parents are created: `'container'` (default, as Curator does) or
   * `'persistent'` (for layouts whose other users expect parents that stay).
   */
  readonly parents?: 'container' | 'persistent';
}

/**
 * Typed events of {@link PersistentNode}.
 *
 * @example
 * ```ts
 * node.on('created', (path) => log.info(`registered as ${path}`));
 * ```
 */
export interface PersistentNodeEvents {
  /** The node was created (the first time, or again after it disappeared). */
  created: [path: string];
  /**
   * The node could not be created or checked for a reason that waiting for the connection does
   * not fix (e.g. `NoAuthError`). The node keeps trying, with a growing pause.
   */
  failure: [error: unknown];
  /** A listener of this node threw or rejected; it changed nothing (see `Emitter`). */
  error: [error: ListenerError];
}

/**
 * The {@link PersistentNode} was closed: {@link PersistentNode.whenCreated} and
 * {@link PersistentNode.setData} reject with it. Code `'NODE_CLOSED'`.
 *
 * @example
 * ```ts
 * await node.whenCreated().catch((e) => { if (!(e instanceof PersistentNodeClosedError)) throw e; });
 * ```
 */
export class PersistentNodeClosedError extends ZkError {
  constructor(path: string) {
    super('NODE_CLOSED', 0, 'the persistent node is closed', { path });
  }
}

const MODES: readonly unknown[] = [
  'ephemeral',
  'ephemeralSequential',
  'persistent',
  'persistentWithTtl',
];
const MAX_PAUSE = 5000;

/**
 * A node that stays in ZooKeeper for as long as this object lives (Curator's `PersistentNode`
 * and `PersistentTtlNode`): created on {@link PersistentNode.start}, created again when the
 * session is lost or when someone deletes it (it watches the node), and deleted by
 * {@link PersistentNode.close} (a guaranteed delete).
 *
 * **Never two copies.** A sequential node is created with core's protected create: when a reply
 * is lost, the node is found again by its uuid instead of being created twice. Before a new
 * copy is created, a copy left by an earlier session of the client (the client can declare a
 * session lost before the server removes its nodes) is deleted.
 *
 * **Sessions.** While the connection is `suspended` nothing is done: the node is still there if
 * the session survives. On a reconnect to the same session the watch is restored and nothing is
 * written. After `lost`, an ephemeral node is created again under the new session as soon as
 * it is up, and `created` is emitted. A non-sequential node that another session (not this
 * client's) owns is left alone: this node waits for it to disappear, then creates its own.
 *
 * Missing parents are created as containers (as Curator does) unless `parents` says otherwise.
 *
 * @example
 * ```ts
 * import { PersistentNode } from '@zkit/core';
 *
 * const node = new PersistentNode(client, '/workers/worker-', 'host-a', { mode: 'ephemeralSequential' });
 * node.start();
 * const path = await node.whenCreated({ timeout: 10_000 });
 * node.on('created', (now) => console.log(`present again as ${now}`));
 * // …
 * await node.close(); // the node is deleted
 * ```
 */
export class PersistentNode extends Emitter<PersistentNodeEvents> {
  /** The client the node lives in (borrowed, never closed here). */
  readonly client: ZkClient;
  /** The path given: the node's path, or for a sequential mode the prefix of its name. */
  readonly basePath: string;
  /** The mode given (see {@link PersistentNodeMode}). */
  readonly mode: PersistentNodeMode;
  readonly #ttl: number | undefined;
  readonly #parents: 'container' | 'persistent';
  #data: Buffer;
  #state: 'latent' | 'started' | 'closed' = 'latent';
  /** The node known to exist and be ours, `undefined` while there is none. */
  #current: string | undefined;
  /** The last path created, even if it may be gone: a leftover copy to remove before the next. */
  #last: string | undefined;
  readonly #closing = new AbortController();
  /** Sessions of this client seen while the node lived: nodes they own are ours to replace. */
  readonly #sessions = new Set<string>();
  #waiters: (() => void)[] = [];
  /** Wakes the loop: a new session, or new data to write. */
  #wake: (() => void) | undefined;
  #run: Promise<void> | undefined;
  #touch: ReturnType<typeof setInterval> | undefined;

  /**
   * @param path - the node's path; for `'ephemeralSequential'`, the parent plus the name prefix
   * @param data - the node's data (default empty)
   * @throws `InvalidPathError`, `InvalidArgumentError` (bad mode, TTL, client), `DataTooLargeError`
   *   — before any request
   */
  constructor(
    client: ZkClient,
    path: string,
    data: Data = '',
    options: PersistentNodeOptions = {},
  ) {
    super();
    checkClient(client);
    validatePath(path);
    if (path === '/') throw new InvalidArgumentError('a persistent node cannot be the root');
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options must be an object');
    }
    const mode = options.mode ?? 'ephemeral';
    if (!MODES.includes(mode)) throw new InvalidArgumentError(`unknown mode ${String(mode)}`);
    if (mode === 'persistentWithTtl') {
      if (options.ttl === undefined)
        throw new InvalidArgumentError('persistentWithTtl needs a ttl');
      validateTimeout(options.ttl, 'ttl');
      if (options.ttl < 1) throw new InvalidArgumentError('ttl must be at least 1 ms');
    } else if (options.ttl !== undefined) {
      throw new InvalidArgumentError(
        `a ttl is only valid with mode persistentWithTtl, not ${mode}`,
      );
    }
    this.client = client;
    this.basePath = path;
    this.mode = mode;
    this.#ttl = options.ttl;
    if (
      options.parents !== undefined &&
      options.parents !== 'container' &&
      options.parents !== 'persistent'
    ) {
      throw new InvalidArgumentError("parents must be 'container' or 'persistent'");
    }
    this.#parents = options.parents ?? 'container';
    this.#data = this.#toBuffer(data);
  }

  /**
   * The node's path while it is known to exist, else `undefined`. For `'ephemeralSequential'`
   * it changes with every re-creation.
   */
  get path(): string | undefined {
    return this.#current;
  }

  /** The data the node is kept with (a copy). */
  get data(): Buffer {
    return Buffer.from(this.#data);
  }

  /** `'latent'` until {@link PersistentNode.start}, `'started'`, then `'closed'`. */
  get state(): 'latent' | 'started' | 'closed' {
    return this.#state;
  }

  /**
   * Starts keeping the node present; returns at once (see {@link PersistentNode.whenCreated}).
   * @throws `InvalidArgumentError` when started twice, {@link PersistentNodeClosedError} after close
   */
  start(): void {
    if (this.#state === 'closed') throw new PersistentNodeClosedError(this.basePath);
    if (this.#state === 'started') throw new InvalidArgumentError('already started');
    this.#state = 'started';
    if (this.client.sessionId !== undefined) this.#sessions.add(this.client.sessionId);
    this.client.on('session', this.#onSession);
    this.#run = this.#loop();
  }

  /**
   * Resolves with the node's path once it exists (at once if it does now).
   *
   * @throws {@link PersistentNodeClosedError} on close, `ClientClosedError` once the client is
   *   closed, the signal's reason on abort, a `TimeoutError` on timeout
   */
  async whenCreated(options: WaitOptions = {}): Promise<string> {
    const signal = waitSignal(`PersistentNode ${this.basePath}: not created`, options);
    for (;;) {
      if (this.#state === 'closed') throw new PersistentNodeClosedError(this.basePath);
      if (this.client.state === 'closed') throw new ClientClosedError({ path: this.basePath });
      if (this.#current !== undefined) return this.#current;
      await raceSignal(new Promise<void>((resolve) => this.#waiters.push(resolve)), signal);
    }
  }

  /**
   * Replaces the node's data: written now if the node exists, and used for every re-creation.
   * Resolves once written (or, while the node is missing, once stored for its re-creation).
   *
   * @throws `DataTooLargeError` before any request, {@link PersistentNodeClosedError}, core's
   *   connection errors (the new data is kept and written on the next re-creation)
   */
  async setData(data: Data, options: WaitOptions = {}): Promise<void> {
    const buffer = this.#toBuffer(data);
    const signal = waitSignal(`PersistentNode ${this.basePath}: data not written`, options);
    if (this.#state === 'closed') throw new PersistentNodeClosedError(this.basePath);
    this.#data = buffer;
    const path = this.#current;
    if (path === undefined || this.#state !== 'started') return;
    try {
      await this.client.set(path, buffer, signal ? { signal } : {});
    } catch (error) {
      // Gone meanwhile: the loop re-creates it with the new data.
      if (!(error instanceof NoNodeError)) throw error;
      this.#wake?.();
    }
  }

  /**
   * Stops keeping the node and deletes it (a guaranteed delete: retried across reconnects while
   * the client is open). A node at the path that another process's session owns (created there
   * after ours went) is left alone. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const started = this.#state === 'started';
    this.#state = 'closed';
    this.client.off('session', this.#onSession);
    this.#closing.abort(new PersistentNodeClosedError(this.basePath));
    this.#stopTouch();
    this.#release();
    await this.#run;
    const path = this.#current ?? this.#last;
    this.#current = undefined;
    if (!started || path === undefined || this.client.state === 'closed') return;
    if (this.mode === 'ephemeralSequential') {
      // The name carries our uuid: whatever is at this path is ours.
      await this.client.deleteGuaranteed(path, { ephemeral: true }).catch(() => undefined);
      return;
    }
    await this.#deleteIfOurs(path).catch(() => undefined);
  }

  /** Same as {@link PersistentNode.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  readonly #onSession = (sessionId: string): void => {
    this.#sessions.add(sessionId);
    this.#wake?.();
  };

  #toBuffer(data: Data): Buffer {
    let buffer: Buffer;
    if (typeof data === 'string') buffer = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) buffer = Buffer.from(data);
    else throw new InvalidArgumentError('data must be a string or a Uint8Array');
    if (buffer.length > this.client.maxDataBytes) {
      throw new DataTooLargeError(buffer.length, this.client.maxDataBytes, { path: this.basePath });
    }
    return buffer;
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #ephemeral(): boolean {
    return this.mode === 'ephemeral' || this.mode === 'ephemeralSequential';
  }

  /** Whether a node with this stat is ours to keep (an ephemeral one of the current session). */
  #owned(stat: Stat): boolean {
    return this.#ephemeral() ? stat.ephemeralOwner === this.client.sessionId : true;
  }

  async #loop(): Promise<void> {
    const signal = this.#closing.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.client.whenConnected({ signal });
        if (this.#current === undefined) await this.#create(signal);
        failures = 0;
        await this.#watch(signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ClientClosedError) {
          // Nothing more can be done: waiters learn it from the client's state.
          this.#gone();
          this.#release();
          return;
        }
        if (isRetryable(error) || error instanceof SessionExpiredError) continue;
        this.emit('failure', error);
        failures++;
        await delay(Math.min(MAX_PAUSE, 100 * 2 ** failures), signal).catch(() => undefined);
      }
    }
  }

  /** Waits until the node needs attention: deleted, a new session, closed. */
  async #watch(signal: AbortSignal): Promise<void> {
    const path = this.#current;
    if (path === undefined) return;
    const session = this.client.sessionId;
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    const watched = await this.client.existsWatched(path, { signal });
    try {
      if (watched.value === null || !this.#owned(watched.value)) {
        this.#gone();
        return;
      }
      if (session !== this.client.sessionId) return;
      await raceSignal(Promise.race([watched.changed.then(() => undefined), woken]), signal);
    } finally {
      watched.cancel();
      this.#wake = undefined;
    }
  }

  #gone(): void {
    this.#current = undefined;
    this.#stopTouch();
  }

  async #create(signal: AbortSignal): Promise<void> {
    const opts = { signal };
    // A copy from an earlier session may outlive it on the server for a while: remove it first.
    if (this.#last !== undefined) {
      const stat = await this.client.exists(this.#last, opts);
      if (stat !== null) {
        if (this.#owned(stat)) {
          this.#adopt(this.#last);
          return;
        }
        // Ours from an earlier session of the client, or (sequential) named with our uuid; a
        // node another process created at a non-sequential path since is not ours to remove.
        if (this.mode === 'ephemeralSequential' || this.#sessions.has(stat.ephemeralOwner)) {
          await this.#deleteStale(this.#last, stat);
        }
      }
    }
    const data = this.#data;
    let path: string;
    if (this.mode === 'ephemeralSequential') {
      path = await this.client.createProtected(
        parent(this.basePath),
        basename(this.basePath),
        data,
        { mode: 'ephemeralSequential', parents: this.#parents, signal },
      );
    } else {
      const options =
        this.mode === 'persistentWithTtl'
          ? { mode: 'persistentWithTtl' as const, ttl: this.#ttl ?? 0 }
          : { mode: this.mode };
      try {
        path = await this.client.create(this.basePath, data, {
          ...options,
          parents: this.#parents,
          signal,
        });
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
        await this.#existing(signal);
        return;
      }
    }
    this.#last = path;
    this.#created(path, data, signal);
  }

  /** The non-sequential node exists already: adopt it, replace it, or wait for it to go. */
  async #existing(signal: AbortSignal): Promise<void> {
    const path = this.basePath;
    let found: { data: Buffer; stat: Stat };
    try {
      found = await this.client.get(path, { signal });
    } catch (error) {
      if (error instanceof NoNodeError) return; // gone meanwhile: the loop creates it
      throw error;
    }
    if (this.#owned(found.stat)) {
      this.#last = path;
      if (!found.data.equals(this.#data)) {
        await this.client.set(path, this.#data, { version: found.stat.version, signal });
      }
      this.#adopt(path);
      return;
    }
    if (this.#sessions.has(found.stat.ephemeralOwner)) {
      await this.#deleteStale(path, found.stat);
      return;
    }
    // Another process's node: never delete it; take over once its session ends.
    await this.client.waitForDeletion(path, { signal });
  }

  /**
   * Deletes the node at `path` unless another process's session owns it (someone may have
   * created their own node there since ours went), retrying across reconnects until done.
   */
  async #deleteIfOurs(path: string): Promise<void> {
    for (;;) {
      try {
        const stat = await this.client.exists(path);
        if (stat === null) return;
        const owner = stat.ephemeralOwner;
        if (this.#ephemeral() && owner !== this.client.sessionId && !this.#sessions.has(owner)) {
          return;
        }
        await this.client.delete(path, { version: stat.version });
        return;
      } catch (error) {
        if (error instanceof NoNodeError) return;
        if (error instanceof BadVersionError) continue;
        if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
        await this.client.whenConnected();
      }
    }
  }

  async #deleteStale(path: string, stat: Stat): Promise<void> {
    try {
      await this.client.delete(path, { version: stat.version });
    } catch (error) {
      if (!(error instanceof NoNodeError) && !(error instanceof BadVersionError)) throw error;
    }
  }

  #adopt(path: string): void {
    this.#current = path;
    this.#startTouch();
    this.#release();
  }

  #created(path: string, data: Buffer, signal: AbortSignal): void {
    this.#current = path;
    this.#startTouch();
    this.emit('created', path);
    this.#release();
    // Data set while the create was in flight: write it now.
    if (!data.equals(this.#data)) {
      void this.client.set(path, this.#data, { signal }).catch(() => undefined);
    }
  }

  #startTouch(): void {
    if (this.mode !== 'persistentWithTtl' || this.#touch !== undefined) return;
    const every = Math.max(1, Math.floor((this.#ttl ?? 2) / 2));
    this.#touch = setInterval(() => {
      const path = this.#current;
      if (path === undefined) return;
      // A write refreshes the node's mtime, which the server's TTL counts from.
      void this.client.set(path, this.#data).catch(() => undefined);
    }, every);
    this.#touch.unref();
  }

  #stopTouch(): void {
    if (this.#touch !== undefined) clearInterval(this.#touch);
    this.#touch = undefined;
  }
}
