import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  ClientClosedError,
  Emitter,
  InvalidArgumentError,
  NoNodeError,
  SessionExpiredError,
  anySignal,
  delay,
  isRetryable,
  join,
  raceSignal,
  validateName,
  validatePath,
  validateTimeout,
  waitSignal,
  type ListenerError,
  type Watched,
  type WaitOptions,
  type ZkClient,
  checkClient,
} from '@zkit/core';
import { GroupClosedError, PartitionFailedError } from './errors.js';
import { Party } from './party.js';

/**
 * States of a {@link SetPartitioner}, as in kazoo:
 * - `allocating`: waiting for the party to be stable, then taking this member's share.
 * - `acquired`: this member holds the lock of every item of its share ({@link SetPartitioner.items}).
 * - `release`: the party changed, or the connection is in trouble: stop working on the share
 *   and call {@link SetPartitioner.release}; the items stay locked until then.
 * - `failure`: an error that waiting does not fix; the member left the party. Make a new
 *   partitioner to take part again.
 * - `closed`: {@link SetPartitioner.close} was called.
 */
export type PartitionState = 'allocating' | 'acquired' | 'release' | 'failure' | 'closed';

/**
 * Divides the items among the members: returns the items of `identifier`. Every member must
 * compute the same division from the same inputs.
 */
export type PartitionFunction = (
  identifier: string,
  members: readonly string[],
  items: readonly string[],
) => readonly string[];

/**
 * Options of {@link SetPartitioner}.
 *
 * @example
 * ```ts
 * new SetPartitioner(client, '/partitions/shards', shards, { identifier: 'worker-1', timeBoundary: 2000 });
 * ```
 */
export interface SetPartitionerOptions {
  /**
   * This member's identifier, unique in the party (kazoo's `identifier`). Default
   * `<hostname>-<pid>`. It is part of a node name: no `/`.
   */
  readonly identifier?: string;
  /**
   * How long the party must stay unchanged before the share is taken, ms (kazoo's
   * `time_boundary`, which defaults to 30 s). Default 1000.
   */
  readonly timeBoundary?: number;
  /**
   * The division (kazoo's `partition_func`). Default kazoo's: items and members sorted, this
   * member takes every n-th item starting at its own index.
   */
  readonly partition?: PartitionFunction;
}

/**
 * This member's share, while it lasts: the value {@link SetPartitioner.whenAcquired} resolves
 * with.
 *
 * @example
 * ```ts
 * const share = await partitioner.whenAcquired();
 * await Promise.all(share.items.map((item) => work(item, share.signal)));
 * ```
 */
export interface Partition {
  /** The items this member holds. */
  readonly items: readonly string[];
  /**
   * Aborts when the share can no longer be trusted: the party changed, the client's error
   * policy fired (by default: the connection is `suspended`), the session was lost, a lock node
   * was deleted, or the partitioner closed. Stop working on the items, then call
   * {@link SetPartitioner.release}.
   */
  readonly signal: AbortSignal;
}

/**
 * Typed events of {@link SetPartitioner}.
 *
 * @example
 * ```ts
 * partitioner.on('state', (now, before) => log.info(`partition ${before} → ${now}`));
 * ```
 */
export interface SetPartitionerEvents {
  /** The state changed. */
  state: [now: PartitionState, before: PartitionState];
  /** A listener of this partitioner threw or rejected; it changed nothing (see `Emitter`). */
  error: [error: ListenerError];
}

/** Python's sort order for strings: by code point (JavaScript's default compares UTF-16 units). */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** kazoo's default division: sorted items, every n-th from this member's index among sorted members. */
export const kazooPartition: PartitionFunction = (identifier, members, items) => {
  const all = [...items].sort(byCodePoint);
  const workers = [...members].sort(byCodePoint);
  const i = workers.indexOf(identifier);
  if (i < 0) return [];
  return all.filter((_, k) => k % workers.length === i);
};

/** A lock contender in kazoo's `Lock` layout: `<32 hex>__lock__<sequence>`. */
const CONTENDER = /__lock__(-?\d{10})$/;
const LOCK_MARK = '__lock__';
const MAX_PAUSE = 5000;

/** Our lock node vanished or belongs to an earlier session: allocate again. */
class Restart extends Error {}

interface ItemLock {
  readonly dir: string;
  readonly prefix: string;
  /** The node, once created. */
  path: string | undefined;
}

/**
 * Members of a party divide a set of work items among themselves: kazoo's `SetPartitioner`,
 * in kazoo's layout. The party is a `ShallowParty` at `path/party`; each item is guarded by a
 * lock at `path/locks/<item>` in kazoo's `Lock` layout, so a kazoo partitioner and zkit
 * partitioners in one party divide the set together.
 *
 * Those item locks (`<32 hex>__lock__<sequence>`) are **not** Curator-compatible: a Curator
 * lock on the same path would grant itself beside a kazoo-style holder. They exist only inside
 * this recipe's `path/locks`, for kazoo interoperability; use `@zkit/lock` for locks of your own.
 *
 * **How it works.** Once the party has stayed unchanged for `timeBoundary` ms, each member
 * computes its share and takes the lock of each of its items. When every lock is held the state
 * is `acquired`. When the party changes, the state becomes `release`: the member stops working
 * and calls {@link SetPartitioner.release}, which frees its locks, and allocation starts again.
 * No item is held by two members at once: a member takes an item only through its lock, and
 * gives the lock back only after it has stopped (or when its session is gone).
 *
 * **Sessions.** Under the client's default error policy, `suspended` already ends the share
 * (`release`); so does `lost` under either policy. The member stays in the party across a lost
 * session (its party node is re-created), and allocation starts again after `release()`.
 * Errors that waiting does not fix (e.g. `NoAuthError`) end in `failure`.
 *
 * @example
 * ```ts
 * import { SetPartitioner } from '@zkit/group';
 *
 * const partitioner = new SetPartitioner(client, '/partitions/shards', ['s0', 's1', 's2', 's3']);
 * partitioner.start();
 * for (;;) {
 *   const share = await partitioner.whenAcquired();
 *   await processShards(share.items, share.signal); // until share.signal aborts
 *   await partitioner.release();
 * }
 * ```
 */
export class SetPartitioner extends Emitter<SetPartitionerEvents> {
  /** The client (borrowed, never closed here). */
  readonly client: ZkClient;
  /** The partitioner's root: `path/party` and `path/locks`. */
  readonly path: string;
  /** This member's identifier in the party. */
  readonly identifier: string;
  /** The items to divide, as given (deduplicated). */
  readonly set: readonly string[];
  readonly #timeBoundary: number;
  readonly #partition: PartitionFunction;
  readonly #party: Party;
  readonly #partyPath: string;
  readonly #lockPath: string;
  readonly #closing = new AbortController();
  #state: PartitionState = 'allocating';
  #started = false;
  #share: Partition | undefined;
  #failure: PartitionFailedError | undefined;
  #held: ItemLock[] = [];
  #waiters: (() => void)[] = [];
  #releaseAsked: (() => void) | undefined;
  #released: Promise<void> = Promise.resolve();
  #run: Promise<void> | undefined;

  /**
   * @param items - the work items; each must be a valid node name (it names its lock's node)
   * @throws `InvalidPathError`, `InvalidArgumentError` before any request
   */
  constructor(
    client: ZkClient,
    path: string,
    items: Iterable<string>,
    options: SetPartitionerOptions = {},
  ) {
    super();
    checkClient(client);
    validatePath(path);
    if (items === null || typeof items !== 'object' || !(Symbol.iterator in items)) {
      throw new InvalidArgumentError('items must be an iterable of strings');
    }
    const set = [...new Set(items)];
    for (const item of set) {
      if (typeof item !== 'string') throw new InvalidArgumentError('every item must be a string');
      validateName(item);
    }
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options must be an object');
    }
    const identifier = options.identifier ?? `${hostname()}-${process.pid}`;
    if (typeof identifier !== 'string' || identifier === '') {
      throw new InvalidArgumentError('identifier must be a non-empty string');
    }
    validateTimeout(options.timeBoundary, 'timeBoundary');
    if (options.partition !== undefined && typeof options.partition !== 'function') {
      throw new InvalidArgumentError('partition must be a function');
    }
    this.client = client;
    this.path = path;
    this.identifier = identifier;
    this.set = set;
    this.#timeBoundary = options.timeBoundary ?? 1000;
    this.#partition = options.partition ?? kazooPartition;
    this.#partyPath = join(path, 'party');
    this.#lockPath = join(path, 'locks');
    for (const item of set) validatePath(join(this.#lockPath, item));
    // Checks the identifier as part of a node name.
    this.#party = new Party(client, this.#partyPath, identifier, { shallow: true });
  }

  /** The current state (see {@link PartitionState}). */
  get state(): PartitionState {
    return this.#state;
  }

  /** The items held while `acquired`, else `[]`. */
  get items(): readonly string[] {
    return this.#state === 'acquired' ? (this.#share?.items ?? []) : [];
  }

  /** Why the partitioner is in `failure`, else `undefined`. */
  get failure(): PartitionFailedError | undefined {
    return this.#failure;
  }

  /**
   * Joins the party and starts allocating; returns at once (see
   * {@link SetPartitioner.whenAcquired}).
   * @throws `InvalidArgumentError` when started twice, {@link GroupClosedError} after close
   */
  start(): void {
    if (this.#state === 'closed') throw new GroupClosedError(this.path);
    if (this.#started) throw new InvalidArgumentError('already started');
    this.#started = true;
    this.#run = this.#loop();
  }

  /**
   * Resolves with this member's share once the state is `acquired` (at once if it is).
   *
   * @throws {@link PartitionFailedError} in `failure`, {@link GroupClosedError} on close, the
   *   signal's reason on abort, a `TimeoutError` on timeout
   */
  async whenAcquired(options: WaitOptions = {}): Promise<Partition> {
    const signal = waitSignal(`SetPartitioner ${this.path}: not acquired`, options);
    for (;;) {
      if (this.#state === 'closed') throw new GroupClosedError(this.path);
      if (this.#state === 'failure') throw this.#failure!;
      if (this.#state === 'acquired' && this.#share && !this.#share.signal.aborted) {
        return this.#share;
      }
      await raceSignal(new Promise<void>((resolve) => this.#waiters.push(resolve)), signal);
    }
  }

  /**
   * Gives this member's items back (kazoo's `release_set`): call it in the `release` state once
   * work on the share has stopped. Called while `acquired`, it gives the share up early.
   * Resolves once the locks are freed and allocation has started again.
   */
  async release(): Promise<void> {
    if (this.#state !== 'acquired' && this.#state !== 'release') return;
    const released = this.#released;
    this.#wantRelease = true;
    this.#releaseAsked?.();
    this.#endRound?.();
    await released;
  }

  /** Frees the locks and leaves the party (kazoo's `finish`). Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#closing.abort(new GroupClosedError(this.path));
    await this.#run;
    await this.#freeLocks();
    await this.#party.close().catch(() => undefined);
    this.#setState('closed');
  }

  /** Same as {@link SetPartitioner.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  #endRound: (() => void) | undefined;
  /** {@link SetPartitioner.release} was called in this round. */
  #wantRelease = false;

  #setState(now: PartitionState): void {
    const before = this.#state;
    if (before === now) return;
    this.#state = now;
    this.emit('state', now, before);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #loop(): Promise<void> {
    const closing = this.#closing.signal;
    let failures = 0;
    try {
      await this.#party.join({ signal: closing });
    } catch (error) {
      if (!closing.aborted) await this.#fail(error);
      return;
    }
    while (!closing.aborted) {
      this.#setState('allocating');
      let resolveReleased!: () => void;
      this.#released = new Promise((resolve) => (resolveReleased = resolve));
      try {
        await this.#round(closing);
        failures = 0;
      } catch (error) {
        if (closing.aborted) break;
        if (error instanceof ClientClosedError || ++failures > 3) {
          await this.#fail(error);
          return;
        }
        const transient =
          error instanceof Restart || isRetryable(error) || error instanceof SessionExpiredError;
        if (transient) failures = 0;
        else await delay(Math.min(MAX_PAUSE, 100 * 2 ** failures), closing).catch(() => undefined);
      } finally {
        this.#share = undefined;
        this.#endRound = undefined;
        this.#releaseAsked = undefined;
        if (!closing.aborted) await this.#freeLocks();
        resolveReleased();
      }
    }
  }

  async #fail(error: unknown): Promise<void> {
    this.#failure = new PartitionFailedError(this.path, error);
    await this.#freeLocks();
    await this.#party.close().catch(() => undefined);
    this.#setState('failure');
  }

  /** One allocation: stable party, take the share, hold it until it ends, wait for release(). */
  async #round(closing: AbortSignal): Promise<void> {
    this.#wantRelease = false;
    await this.client.whenConnected({ signal: closing });
    const { members, changed, watched } = await this.#stableMembers(closing);
    const round = new AbortController();
    const end = () => round.abort(new Restart('the party changed'));
    changed.then(end, end);
    const signal = anySignal([round.signal, this.client.sessionSignal(), closing]);
    try {
      const share = [...this.#partition(this.identifier, members, this.set)];
      for (const item of share) {
        const lock: ItemLock = {
          dir: join(this.#lockPath, item),
          prefix: `${randomUUID().replaceAll('-', '')}${LOCK_MARK}`,
          path: undefined,
        };
        this.#held.push(lock);
        await this.#acquire(lock, signal);
      }
      signal.throwIfAborted();
      // A lock node deleted by someone else ends the share too.
      for (const lock of this.#held) {
        this.client.waitForDeletion(lock.path!, { signal }).then(end, () => undefined);
      }
      this.#share = Object.freeze({ items: Object.freeze(share), signal });
      this.#endRound = end;
      this.#setState('acquired');
      await raceSignal(new Promise<never>(() => undefined), signal).catch(() => undefined);
      if (closing.aborted) return;
      this.#endRound = undefined;
      const asked = new Promise<void>((resolve) => (this.#releaseAsked = resolve));
      this.#setState('release');
      if (!this.#wantRelease) await raceSignal(asked, closing);
    } finally {
      round.abort(new Restart('round over'));
      watched.cancel();
    }
  }

  /**
   * The party's members once it has stayed unchanged for `timeBoundary` ms and includes this
   * member, with the settling of its last watch (the next change).
   */
  async #stableMembers(
    signal: AbortSignal,
  ): Promise<{ members: string[]; changed: Promise<unknown>; watched: Watched<unknown> }> {
    for (;;) {
      let watched: Watched<{ children: string[] }>;
      try {
        watched = await this.client.getChildrenWatched(this.#partyPath, { signal });
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        // Our party node is being created again (with its parents).
        await delay(50, signal);
        continue;
      }
      const members = watched.value.children
        .filter((c) => c.includes('-'))
        .map((c) => c.slice(c.indexOf('-') + 1));
      const changed = watched.changed.then(
        () => true,
        () => true,
      );
      const quiet = new AbortController();
      const stillStable = await raceSignal(
        Promise.race([
          changed.then(() => false),
          delay(this.#timeBoundary, quiet.signal).then(
            () => true,
            () => false,
          ),
        ]),
        signal,
      )
        .catch((error: unknown) => {
          watched.cancel();
          throw error;
        })
        .finally(() => quiet.abort());
      if (!stillStable) continue;
      if (members.includes(this.identifier)) return { members, changed, watched };
      await raceSignal(changed, signal).catch((error: unknown) => {
        watched.cancel();
        throw error;
      });
    }
  }

  /** Takes one item's lock in kazoo's `Lock` layout; returns once it is held. */
  async #acquire(lock: ItemLock, signal: AbortSignal): Promise<void> {
    const session = this.client.sessionId;
    const created = await this.client.create(join(lock.dir, lock.prefix), '', {
      mode: 'ephemeralSequential',
      parents: 'persistent',
      signal,
    });
    lock.path = created;
    const name = created.slice(lock.dir.length + 1);
    for (;;) {
      const children = await this.client.getChildren(lock.dir, { signal });
      // A create retried after a lost reply may have left a second node of ours: remove it.
      for (const c of children) {
        if (c.startsWith(lock.prefix) && c !== name) {
          await this.client.delete(join(lock.dir, c)).catch(() => undefined);
        }
      }
      if (!children.includes(name) || this.client.sessionId !== session) {
        throw new Restart('our lock node is gone');
      }
      const contenders = children
        .filter((c) => CONTENDER.test(c) && (c === name || !c.startsWith(lock.prefix)))
        .sort((a, b) => {
          const x = CONTENDER.exec(a)![1]!;
          const y = CONTENDER.exec(b)![1]!;
          return x < y ? -1 : x > y ? 1 : 0;
        });
      const index = contenders.indexOf(name);
      if (index === 0) return;
      await this.client.waitForDeletion(join(lock.dir, contenders[index - 1]!), { signal });
    }
  }

  /** Deletes every lock node of ours (also one whose create reply was lost). */
  async #freeLocks(): Promise<void> {
    const held = this.#held;
    this.#held = [];
    if (this.client.state === 'closed') return;
    await Promise.all(
      held.map(async (lock) => {
        try {
          if (lock.path !== undefined) {
            await this.client.deleteGuaranteed(lock.path, { ephemeral: true });
            return;
          }
          const children = await this.client.getChildren(lock.dir);
          for (const c of children.filter((n) => n.startsWith(lock.prefix))) {
            await this.client.deleteGuaranteed(join(lock.dir, c), { ephemeral: true });
          }
        } catch {
          // Gone with the session, or the client closed: nothing of ours is left either way.
        }
      }),
    );
  }
}
