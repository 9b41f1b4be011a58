import { randomBytes } from 'node:crypto';
import {
  BadVersionError,
  DataTooLargeError,
  InvalidArgumentError,
  InvalidPathError,
  NodeExistsError,
  NoNodeError,
  QueuedIterator,
  SessionExpiredError,
  UnknownOutcomeError,
  callListener,
  anySignal,
  waitSignal,
  ZkTimeoutError,
  isRetryable,
  join,
  raceSignal,
  validatePath,
  validateTimeout,
  defaultNodeData,
  checkClient,
  endWhenSettled,
} from '@zkit/core';
import type { Stat, WaitOptions, Watched, ZkClient } from '@zkit/core';
import {
  MalformedItemError,
  PutOutcomeUnknownError,
  QueueClosedError,
  QueueFullError,
  TakeOutcomeUnknownError,
} from './errors.js';
import { decodeItems, encodeItems, hasMark } from './framing.js';
import { fifoLayout, ITEM_PREFIX } from './layout.js';
import type { Layout } from './layout.js';
import { jsonSerializer } from './serializer.js';
import type { Serializer } from './serializer.js';

/** Upper bound of a timer to a due item: Node's timers take at most 2^31 − 1 ms. */
const MAX_TIMER_MS = 0x7fffffff;
/**
 * The key under which a queue class built on {@link Queue} passes its {@link Layout} in the
 * options; not exported from the package.
 */
export const LAYOUT: unique symbol = Symbol('zkit.queue.layout');
/** Random bytes after each node's item framing, by which a producer knows its own node. */
const MARK_BYTES = 16;
/** Creates a put sends at most, each known not to have landed before the next. */
const PUT_SENDS = 4;
/**
 * Once a race for an item has been lost (consumers on other sessions work on the same listing),
 * this many picks are made at random from the whole listing, so consumers fall out of step.
 */
const SPREAD_PICKS = 1000;
/**
 * Lost races in a row after which the listing is dropped and read again: most of its names
 * have been taken by others, and trying each would cost a request per name.
 */
const STALE_MISSES = 4;

/** Options of {@link Queue}. */
export interface QueueOptions<T> {
  /** How items become bytes. Default {@link jsonSerializer}. */
  readonly serializer?: Serializer<T>;
  /**
   * Where {@link Queue.consume} puts its claims: one ephemeral node per item being processed,
   * named like the item (Curator's `lockPath`). Must not be inside the queue path. Default
   * `<path>-locks`. Use Curator's lock path to share at-least-once consumption with Curator.
   */
  readonly lockPath?: string;
  /** Upper bound on the number of queued items; `put` beyond it rejects with {@link QueueFullError}. */
  readonly maxItems?: number;
  /**
   * Called with every item node that cannot be decoded (bad framing, a payload the serializer
   * rejects). The node is left in place and this queue object skips it from then on; delete or
   * move it here (`error.path`, `error.data`). A callback that throws or returns a promise that
   * rejects changes nothing for the queue: the failure is reported on the `zkit:listener:error`
   * channel, or as a process warning when nobody subscribes (see core's `Emitter`).
   */
  readonly onMalformed?: (error: MalformedItemError) => void;
}

/** Options of {@link Queue.put} and {@link Queue.putMany}. */
export interface PutOptions {
  /**
   * A signed 32-bit priority, Curator's `DistributedPriorityQueue` naming: lower values are
   * consumed first, equal ones in put order. Names are compared as text, so do not mix plain
   * and prioritised items in one queue (as with Curator's two classes).
   */
  readonly priority?: number;
  /** Aborts the put before it is sent (a create already sent may still land). */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link Queue.consume}. */
export interface ConsumeOptions {
  /** Ends the iteration (in-flight messages are nacked). */
  readonly signal?: AbortSignal | undefined;
  /** How many delivered messages may be unsettled (neither acked nor nacked) at once. Default 1. */
  readonly concurrency?: number;
}

/**
 * One item delivered by {@link Queue.consume}, claimed for this consumer until it is settled.
 * Settle it exactly once: `ack()` after the work is done, `nack()` to give it back. Later calls
 * are ignored.
 */
export interface Message<T> {
  /** The item. */
  readonly value: T;
  /** The item node's path. */
  readonly path: string;
  /**
   * Aborts when the claim can no longer be trusted (the client's error policy fired: connection
   * suspended under the default policy, or session lost). The item may then be delivered to
   * another consumer; finishing the work anyway yields a duplicate, never a loss.
   */
  readonly signal: AbortSignal;
  /** Whether `ack` or `nack` has been called. */
  readonly settled: boolean;
  /**
   * The work is done: deletes the item node and the claim (in one transaction on the wire
   * transport; on the native one, the item first). For a node carrying several items
   * (Curator's `putMulti`) the node goes once every item has been acked.
   * @throws a connection error when the delete could not be made; the item stays claimed and
   *   `ack` may be called again
   */
  ack(): Promise<void>;
  /**
   * Gives the item back: deletes the claim, the item keeps its place in the queue and is
   * delivered again (to any consumer). For a multi-item node, the whole node is redelivered once
   * all its items are settled.
   */
  nack(): Promise<void>;
}

interface Claim {
  readonly name: string;
  readonly itemPath: string;
  readonly claimPath: string;
  readonly signal: AbortSignal;
  /** The session whose ephemeral node the claim is. */
  readonly session: string | undefined;
  readonly hold: Hold;
  remaining: number;
  nacked: boolean;
}

/** A claim this process holds or is making, and the session it belongs to. */
interface Hold {
  session: string | undefined;
}

// Set by Queue's static block: the queue classes built on Queue reach its put through these.
let putNamedImpl: <T>(
  queue: Queue<T>,
  name: string,
  items: readonly T[],
  signal: AbortSignal | undefined,
) => Promise<string>;
let clientImpl: (queue: Queue<unknown>) => ZkClient;

/**
 * The claims made through each client in this process, by claim path. When a retried create
 * finds a node of its own session, core takes it for an earlier attempt of its own that landed
 * although its reply was lost. For a claim that is true only if no other consumer sharing the
 * client (another `consume()`, another `Queue` object) made it, so they all check here first.
 */
const holdsByClient = new WeakMap<ZkClient, Map<string, Hold>>();

/**
 * A distributed queue on ZooKeeper, laid out as Apache Curator's `DistributedQueue`: each item
 * is a persistent-sequential node `P/queue-<seq>` (or `P/queue-<p><8 hex><seq>` with a
 * priority, as `DistributedPriorityQueue`) holding Curator's item framing. Curator producers
 * feed zkit consumers and the other way round.
 *
 * Two ways to consume:
 * - {@link Queue.take} — at-most-once: read the item, delete it; whoever deletes the node owns
 *   the item. A crash after the delete loses that item. A delete cut off by a connection drop,
 *   after which the node is gone, makes the take reject with {@link TakeOutcomeUnknownError}
 *   carrying the item: never two owners, never a silent loss.
 * - {@link Queue.consume} — at-least-once with claims (Curator's `lockPath`): an ephemeral
 *   claim node per item, the item deleted only on `ack`. A crash or lost session releases the
 *   claims and the items are delivered again.
 *
 * Consumers read the children once and work through that listing item by item; they list
 * again only when it is exhausted. The cost per consumed item does not grow with the queue.
 * Items put while a listing is being worked through are seen on the next listing (a
 * high-priority item waits until then).
 *
 * Sizing: ZooKeeper is a coordination store. Keep items small (the server refuses node data
 * over ~1 MB, `jute.maxbuffer`; keep them well under 100 KB) and queues short: a listing of
 * 10 000 items is ~200 KB in one response; beyond ~50 000 items listings approach the server's
 * response limit. Put large payloads elsewhere and queue references.
 *
 * Connection states: operations wait through `suspended` (core's retry policy); a consumer
 * keeps running across `lost` (its claims are gone with the session and the items go back to
 * the queue; `Message.signal` has aborted). A `put` never queues its item twice: after a reply
 * lost to a connection drop it looks for its node (each carries a random 16-byte mark after the
 * item framing, which readers skip) and resolves with it, sends the create again when the node
 * certainly did not land, or rejects with {@link PutOutcomeUnknownError} when a consumer may
 * already have taken it.
 *
 * @example
 * ```ts
 * const queue = new Queue<{ id: number }>(client, '/jobs');
 * await queue.put({ id: 1 });
 * for await (const msg of queue.consume({ signal })) {
 *   await handle(msg.value);
 *   await msg.ack();
 * }
 * ```
 */
export class Queue<T = unknown> {
  /** The queue node. */
  readonly path: string;
  /** Where consumers put their claims. */
  readonly lockPath: string;
  readonly #client: ZkClient;
  readonly #serializer: Serializer<T>;
  readonly #maxItems: number | undefined;
  readonly #onMalformed: ((error: MalformedItemError) => void) | undefined;
  readonly #layout: Layout;
  readonly #closing = new AbortController();
  /** Names of the current listing not yet handed out, sorted. */
  #batch: string[] = [];
  /** Items found claimed by another consumer since the last listing. */
  readonly #claimedElsewhere = new Set<string>();
  #listing: Promise<void> | undefined;
  /** Per signal, the one wait on the listing its callers share. */
  readonly #listingWaits = new WeakMap<
    AbortSignal,
    { listing: Promise<void>; wait: Promise<void> }
  >();
  #spread = 0;
  #misses = 0;
  /** The queue node's stat as last read by a put (`null`: absent); see #put. */
  #known: { stat: Stat | null } | undefined;
  readonly #malformed = new Set<string>();
  /** Items of a multi-item node taken by `take`, returned by the next calls. */
  readonly #taken: T[] = [];
  readonly #unsettled = new Set<Message<T> & { nackNow(): Promise<void> }>();

  /**
   * @throws {@link @zkit/core!InvalidPathError} for a bad `path` or `lockPath`,
   *   `InvalidArgumentError` for a missing client, a lock path inside the queue, a bad `maxItems`
   *   or serializer
   */
  constructor(client: ZkClient, path: string, options: QueueOptions<T> = {}) {
    checkClient(client);
    validatePath(path);
    if (path === '/') throw new InvalidArgumentError('the queue path cannot be the root');
    const lockPath = options.lockPath ?? `${path}-locks`;
    validatePath(lockPath);
    if (lockPath === path || lockPath.startsWith(`${path}/`)) {
      throw new InvalidArgumentError('lockPath must not be inside the queue path');
    }
    const { maxItems } = options;
    if (maxItems !== undefined && (!Number.isSafeInteger(maxItems) || maxItems < 1)) {
      throw new InvalidArgumentError('maxItems must be a positive integer');
    }
    const serializer = options.serializer ?? (jsonSerializer as Serializer<T>);
    if (
      typeof serializer?.serialize !== 'function' ||
      typeof serializer.deserialize !== 'function'
    ) {
      throw new InvalidArgumentError('serializer must have serialize and deserialize');
    }
    if (options.onMalformed !== undefined && typeof options.onMalformed !== 'function') {
      throw new InvalidArgumentError('onMalformed must be a function');
    }
    this.#client = client;
    this.path = path;
    this.lockPath = lockPath;
    this.#serializer = serializer;
    this.#maxItems = maxItems;
    this.#onMalformed = options.onMalformed;
    this.#layout = (options as { [LAYOUT]?: Layout })[LAYOUT] ?? fifoLayout;
  }

  static {
    putNamedImpl = (queue, name, items, signal) => queue.#putItems(name, items, signal);
    clientImpl = (queue) => queue.#client;
  }

  /** Whether {@link Queue.close} has been called. */
  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /**
   * Adds one item. Resolves with the item node's path once the server has it.
   *
   * Two pipelined requests: the create, and a read of the queue node's stat sent just ahead of
   * it (the first put of a queue object, and every put with `maxItems`, waits for that read
   * before sending the create; the queue node is created on first use). Waits through `suspended`. The item is queued
   * once at most: after a lost reply the put looks for its node and resolves with it if it
   * landed; a create that certainly did not land is sent again; when neither can be told (a
   * consumer removed items meanwhile, and may have taken this one), it rejects with
   * {@link PutOutcomeUnknownError}.
   *
   * @throws `InvalidArgumentError` (bad priority, an item the serializer refuses) and
   *   `DataTooLargeError` before any request; {@link QueueFullError}; {@link QueueClosedError};
   *   {@link PutOutcomeUnknownError}; `SessionExpiredError` or connection errors when the create
   *   certainly did not land and retries run out
   * @example
   * ```ts
   * await queue.put({ id: 7 }, { priority: -10 }); // before every priority ≥ -9
   * ```
   */
  put(item: T, options: PutOptions = {}): Promise<string> {
    return this.putMany([item], options);
  }

  /**
   * Adds several items as one node (Curator's `putMulti`): all or none of them are queued, and
   * a consumer receives them together, in order. Keep the batch small (one node's data).
   *
   * @throws as {@link Queue.put}; `InvalidArgumentError` for an empty list
   * @example
   * ```ts
   * await queue.putMany([{ id: 1 }, { id: 2 }]);
   * ```
   */
  putMany(items: readonly T[], options: PutOptions = {}): Promise<string> {
    return this.#putItems(ITEM_PREFIX + priorityName(options.priority), items, options.signal);
  }

  /** Checks and frames `items`, then puts them as one node `<name><seq>`. */
  #putItems(name: string, items: readonly T[], signal: AbortSignal | undefined): Promise<string> {
    this.#checkOpen();
    if (!Array.isArray(items) || items.length === 0) {
      throw new InvalidArgumentError('items must be a non-empty array');
    }
    const mark = randomBytes(MARK_BYTES);
    const data = encodeItems(
      items.map((item) => this.#serializer.serialize(item)),
      mark,
    );
    // Checked here too: a put reads the queue's stat before its create, so core's checks of the
    // create (data size, the reserved /zookeeper tree) would come after a request.
    if (data.length > this.#client.maxDataBytes) {
      throw new DataTooLargeError(data.length, this.#client.maxDataBytes, { path: this.path });
    }
    const full = this.#client.namespace + this.path;
    if (full === '/zookeeper' || full.startsWith('/zookeeper/')) {
      throw new InvalidPathError(this.path, '/zookeeper is reserved');
    }
    return this.#put(name, data, mark, signal);
  }

  async #put(
    name: string,
    data: Buffer,
    mark: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    // Sent once per attempt: a create retried blindly after a lost reply can queue the item
    // twice. Whether an attempt landed is looked up instead (see #findPut).
    const opts = { mode: 'persistentSequential', signal, retry: false } as const;
    if (this.#maxItems !== undefined) {
      const stat = await this.#client.exists(this.path, { signal });
      this.#known = { stat };
      if (stat && stat.numChildren >= this.#maxItems) {
        throw new QueueFullError(this.path, this.#maxItems);
      }
    }
    // The first put of this queue object reads the stat before its create, so that even its
    // lost reply can be decided (see #findPut); with maxItems it was just read.
    let fresh = this.#maxItems !== undefined;
    if (!fresh && this.#known === undefined) {
      this.#known = { stat: await this.#client.exists(this.path, { signal }) };
      fresh = true;
    }
    let ensured = false;
    for (let sends = 1; ; sends++) {
      // The queue node's stat as it was before this create: read at some earlier time, and
      // again just ahead of the create, on the same connection (not awaited). When the
      // connection drops, that read usually goes with the create, and the earlier one serves.
      const earlier = this.#known;
      let ahead: { stat: Stat | null } | undefined;
      if (!fresh) {
        this.#client.exists(this.path, { signal }).then(
          (stat) => {
            ahead ??= { stat };
            this.#known = { stat };
          },
          () => undefined,
        );
      }
      fresh = false;
      try {
        return await this.#client.create(join(this.path, name), data, opts);
      } catch (error) {
        if (error instanceof NoNodeError && !ensured) {
          ensured = true;
          await this.#ensureQueue(signal);
          continue;
        }
        if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
        // Only a read answered by now was answered before the create was lost: a read that
        // failed with it is retried on the next connection, after the create, and says nothing.
        const before = ahead ?? earlier;
        const found = await this.#findPut(name, mark, before?.stat, error, signal);
        if (found !== undefined) return found;
        // Known not to have landed: the error is the whole truth once sends run out.
        if (sends >= PUT_SENDS) throw error;
      }
    }
  }

  /**
   * After a create whose reply was lost: the path of the node it created, if it is there
   * (its data ends with `mark`); `undefined` when it certainly did not land.
   *
   * A sequential node's number is its parent's `cversion` when it is created, and `cversion`
   * grows with every child created or deleted. So only numbers from `before.cversion` on can be
   * ours, and `Δcversion − ΔnumChildren` since `before` is 0 exactly when no child was removed:
   * then, with no node of ours there, the create did not land. Otherwise a consumer may have
   * taken it already.
   * @throws {@link PutOutcomeUnknownError} when that cannot be told
   */
  async #findPut(
    name: string,
    mark: Buffer,
    before: Stat | null | undefined,
    cause: unknown,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    try {
      // The lost create cannot land after this look: a server that takes the session over on
      // a new connection closes its old one (what it had read of it is applied first, the rest
      // dropped), and a create forwarded by another server after the session moved is refused
      // by the leader. The sync makes this server catch up with the leader.
      await this.#client.sync(this.path, { signal });
      const { children, stat } = await this.#client.getChildren(this.path, {
        signal,
        withStat: true,
      });
      const from = before?.czxid === stat.czxid ? before.cversion : 0;
      const candidates = children
        .filter((c) => c.length === name.length + 10 && c.startsWith(name))
        .filter((c) => Number(c.slice(name.length)) >= from)
        .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      for (const candidate of candidates) {
        const path = join(this.path, candidate);
        try {
          if (hasMark((await this.#client.get(path, { signal })).data, mark)) return path;
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
      }
      // The queue node as it was then (absent: an empty node of the same lineage).
      const then =
        before === null
          ? { czxid: stat.czxid, cversion: 0, numChildren: 0 }
          : before?.czxid === stat.czxid
            ? before
            : undefined;
      if (then !== undefined) {
        const removed = stat.cversion - then.cversion - (stat.numChildren - then.numChildren);
        if (removed === 0) return undefined;
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      // Fall through: the queue could not be looked at, so the doubt stays.
    }
    throw new PutOutcomeUnknownError(this.path, cause);
  }

  /** Creates the queue node (persistent, with container ancestors, as Curator does). */
  async #ensureQueue(signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#client.create(this.path, undefined, {
        mode: 'persistent',
        parents: 'container',
        signal,
      });
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  /**
   * Removes and returns the next item, waiting for one if the queue is empty — at-most-once:
   * the item is read, then its node deleted (only at the version read); the caller whose delete
   * removed the node owns it, and no other `take` returns it. Items of a multi-item node come
   * out of this and the following calls.
   *
   * Two requests per item. Waits through `suspended`; keeps waiting across `lost`. A crash
   * between the delete and the return loses that item.
   *
   * When the connection drops with the delete in flight and the node is gone afterwards, this
   * take cannot know whether its delete removed the node or another taker's did. It then never
   * resolves with the item (that could hand it out twice) and never drops it silently: it
   * rejects with {@link TakeOutcomeUnknownError}, whose `values` hold the item(s). If the node
   * is still there, the take goes on as if nothing happened.
   *
   * @throws {@link TakeOutcomeUnknownError} when the item's owner cannot be known; the signal's
   *   reason on abort, a `ZkTimeoutError` (`name` `'TimeoutError'`; "Queue /q: nothing taken
   *   within 5000 ms") on timeout — with `timeout: 0` after one listing, when it found no item
   *   it could take — {@link QueueClosedError},
   *   `ClientClosedError`
   * @example
   * ```ts
   * try {
   *   const job = await queue.take({ timeout: 30_000 });
   *   await handle(job);
   * } catch (error) {
   *   if (!(error instanceof TakeOutcomeUnknownError)) throw error;
   *   for (const job of error.values) await handleIdempotently(job);
   * }
   * ```
   */
  take(options: WaitOptions = {}): Promise<T> {
    this.#checkOpen();
    validateTimeout(options.timeout);
    const what = `Queue ${this.path}: nothing taken`;
    const signal = waitSignal(what, options, this.#closing.signal);
    if (options.timeout === 0) return this.#takeOnce(what, options.signal);
    return endWhenSettled(this.#take(signal), signal, options);
  }

  /** `timeout: 0`: one listing, then the items in order until one is ours; never waits. */
  async #takeOnce(what: string, own: AbortSignal | undefined): Promise<T> {
    const signal = own ? anySignal([own, this.#closing.signal]) : this.#closing.signal;
    if (this.#taken.length > 0) return this.#taken.shift() as T;
    let children: string[];
    try {
      children = await this.#client.getChildren(this.path, { signal });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      children = [];
    }
    for (const name of this.#items(children)) {
      const values = await this.#takeNode(name, signal);
      if (values === undefined || values.length === 0) continue;
      this.#taken.push(...values.slice(1));
      return values[0] as T;
    }
    throw new ZkTimeoutError(what, 0);
  }

  async #take(signal: AbortSignal | undefined): Promise<T> {
    for (;;) {
      if (this.#taken.length > 0) return this.#taken.shift() as T;
      let values: T[] | undefined;
      try {
        values = await this.#takeNode(await this.#nextName(signal), signal);
      } catch (error) {
        if (!(await this.#survived(error, signal))) throw error;
        continue;
      }
      if (values === undefined || values.length === 0) continue;
      this.#taken.push(...values.slice(1));
      return values[0] as T;
    }
  }

  /**
   * get → decode → delete; `undefined` when someone else got there first, when the item is
   * malformed, or when a failed delete left the node in place (it is put back in the listing).
   * @throws {@link TakeOutcomeUnknownError} when the node is gone and this delete may or may not
   *   have removed it
   */
  async #takeNode(name: string, signal: AbortSignal | undefined): Promise<T[] | undefined> {
    const itemPath = join(this.path, name);
    let data: Buffer;
    let stat: Stat;
    try {
      ({ data, stat } = await this.#client.get(itemPath, { signal }));
    } catch (error) {
      if (error instanceof NoNodeError) return this.#lostRace();
      throw error;
    }
    const values = this.#decode(name, itemPath, data);
    if (values === undefined) return undefined;
    try {
      // No signal: once sent, the delete's outcome decides who owns the item. Only a delete
      // that removed the node makes the item ours; the version keeps it to the node just read.
      await this.#client.delete(itemPath, { version: stat.version });
    } catch (error) {
      // Checked before NoNodeError, which it is: gone, but perhaps by this very delete.
      if (error instanceof UnknownOutcomeError) {
        throw new TakeOutcomeUnknownError(itemPath, name, values, error);
      }
      // Removed or rewritten by someone else: not ours.
      if (error instanceof NoNodeError || error instanceof BadVersionError) {
        return this.#lostRace();
      }
      if (isRetryable(error) || error instanceof SessionExpiredError) {
        return this.#settleDelete(name, itemPath, stat, values, error, signal);
      }
      throw error;
    }
    this.#misses = 0;
    return values;
  }

  /**
   * A delete that failed after it may have been sent (retries ran out, or the session was lost
   * meanwhile): only the node itself can say whether it was applied. Still there: the item was
   * not taken and goes back to the front of the listing. Gone, or impossible to look at: the
   * item's owner is unknown.
   */
  async #settleDelete(
    name: string,
    itemPath: string,
    read: Stat,
    values: T[],
    cause: unknown,
    signal: AbortSignal | undefined,
  ): Promise<undefined> {
    try {
      await this.#client.whenConnected({ signal });
      // Catch up with the leader first, so a delete applied elsewhere is seen.
      await this.#client.sync(this.path, { signal });
      const now = await this.#client.exists(itemPath, { signal });
      if (now !== null && now.czxid === read.czxid) {
        this.#giveBack(name);
        return undefined;
      }
    } catch {
      // Fall through: the node could not be looked at, so the doubt stays.
    }
    throw new TakeOutcomeUnknownError(itemPath, name, values, cause);
  }

  /**
   * At-least-once consumption: an async iterable of {@link Message}s. Each item is claimed with
   * an ephemeral node `lockPath/<item name>` (Curator's lock-safety protocol), read, and
   * delivered; `ack()` deletes the item and the claim in one transaction (on the native
   * transport: the item, then the claim); `nack()` deletes the claim only.
   *
   * What a crash or a lost session does at each step (no step loses an item):
   * - after the claim, before delivery or ack: the claim goes with the session; the item is
   *   delivered again (a duplicate if the work had been done);
   * - (native transport, or an ack retried after a connection problem) after the item's delete,
   *   before the claim's: the item is gone, the claim goes with the session; nothing is
   *   delivered twice;
   * - a `nack` is a single delete of the claim; the item never leaves the queue, so requeueing
   *   needs no multi-op. Settling a message after its session was lost deletes no claim: the
   *   node at the claim's path may by then be another consumer's.
   *
   * A claim is held by one consumer at a time, also among consumers sharing a client (the
   * client's session owns all their claims, so they keep track of each other's in-process).
   *
   * Three requests per item (claim, read, and the transaction deleting item and claim; four on
   * the native transport, whose deletes are two); claims of consumers on other clients cost
   * one failed create, those of consumers sharing this client none. The iteration ends when
   * `signal` aborts or the queue is closed; unsettled messages of this iteration are then
   * nacked. Waits through `suspended`; across `lost` it goes on with the new session. Malformed
   * items go to `onMalformed` and are skipped.
   *
   * @throws `InvalidArgumentError` for a bad `concurrency`; {@link QueueClosedError};
   *   `ClientClosedError` from the iteration
   * @example
   * ```ts
   * for await (const msg of queue.consume({ signal, concurrency: 8 })) {
   *   void work(msg.value).then(() => msg.ack(), () => msg.nack());
   * }
   * ```
   */
  consume(options: ConsumeOptions = {}): AsyncIterable<Message<T>> {
    this.#checkOpen();
    const concurrency = options.concurrency ?? 1;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgumentError('concurrency must be a positive integer');
    }
    return new QueuedIterator<Message<T>>((it) => this.#consume(it, concurrency), {
      signal: waitSignal(`Queue ${this.path}: consumer ended`, options, this.#closing.signal),
    });
  }

  async #consume(it: QueuedIterator<Message<T>>, concurrency: number): Promise<void> {
    // The iteration's signal: aborts on the caller's signal, on close, and when the loop is left.
    const signal = it.signal;
    const mine = new Set<Message<T> & { nackNow(): Promise<void> }>();
    // Claims are made ahead, up to `concurrency` unsettled messages, so the claim requests of
    // several items overlap instead of taking one round trip after another.
    const ready: { claim: Claim; values: T[] }[] = [];
    const claiming = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const poke = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const onSettled = (message: Message<T> & { nackNow(): Promise<void> }): void => {
      mine.delete(message);
      poke();
    };
    // Claims that wait for the same thing share one wait, so the iteration's signal carries one
    // listener per kind of wait, not one per claim in flight.
    let reconnecting: Promise<void> | undefined;
    const survived = async (error: unknown): Promise<boolean> => {
      if (signal.aborted) return false;
      if (!isRetryable(error) && !(error instanceof SessionExpiredError)) return false;
      reconnecting ??= this.#client
        .whenConnected({ signal })
        .finally(() => (reconnecting = undefined));
      return reconnecting.then(
        () => true,
        () => false,
      );
    };
    const startClaim = (): void => {
      const task: Promise<void> = this.#claimNext(signal)
        .then(
          (claimed) => void ready.push(claimed),
          async (error: unknown) => {
            if (!(await survived(error))) failure ??= { error };
          },
        )
        .finally(() => {
          claiming.delete(task);
          poke();
        });
      claiming.add(task);
    };
    try {
      for (;;) {
        if (failure) throw failure.error;
        if (signal.aborted) return;
        const next = ready.shift();
        if (next) {
          // Unsettled from the moment they are queued: counted against `concurrency`, and
          // nacked below if the iteration ends before the consumer has them.
          for (const message of this.#messages(next, onSettled)) {
            mine.add(message);
            it.push(message);
          }
          continue;
        }
        // New claims only while the consumer asks for a message: none is held for a consumer
        // that is busy, and a nacked item is not claimed again before the consumer is back.
        if (!(await it.wanted())) return;
        if (failure || ready.length > 0) continue;
        while (mine.size + claiming.size < concurrency) startClaim();
        await it.until(new Promise<void>((resolve) => (wake = resolve)));
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      await Promise.allSettled([...claiming]);
      const leftover = ready.splice(0).map(({ claim }) => this.#release(claim));
      await Promise.allSettled([...leftover, ...[...mine].map((m) => m.nackNow())]);
    }
  }

  #messages(
    claimed: { claim: Claim; values: T[] },
    onSettled: (m: Message<T> & { nackNow(): Promise<void> }) => void,
  ): (Message<T> & { nackNow(): Promise<void> })[] {
    const { claim, values } = claimed;
    claim.remaining = values.length;
    return values.map((value) => {
      let settled = false;
      const settle = async (ok: boolean): Promise<void> => {
        if (settled) return;
        settled = true;
        this.#unsettled.delete(message);
        onSettled(message);
        if (!ok) claim.nacked = true;
        claim.remaining -= 1;
        if (claim.remaining > 0) return;
        if (!claim.nacked) {
          if (await this.#deleteBoth(claim)) return this.#unhold(claim.claimPath, claim.hold);
          try {
            await this.#deleteItem(claim);
          } catch (error) {
            // Still claimed: the caller may ack again.
            settled = false;
            claim.remaining += 1;
            this.#unsettled.add(message);
            throw error;
          }
        }
        await this.#release(claim);
        if (claim.nacked) this.#giveBack(claim.name);
      };
      const message = {
        value,
        path: claim.itemPath,
        signal: claim.signal,
        get settled() {
          return settled;
        },
        ack: () => settle(true),
        nack: () => settle(false),
        nackNow: () => settle(false),
      };
      this.#unsettled.add(message);
      return message;
    });
  }

  /**
   * The item and its claim deleted in one transaction: one request instead of two, and no
   * moment with the item gone and the claim still there. `false` when that did not happen and the
   * two deletes are made one by one (idempotent either way: a missing item or claim counts as
   * deleted): on the native transport (no transactions), when the claim's session is gone (the
   * node at its path may be another consumer's), when the item or the claim is missing already,
   * or when the connection failed (the one-by-one deletes are retried).
   */
  async #deleteBoth(claim: Claim): Promise<boolean> {
    const client = this.#client;
    if (client.sessionId !== claim.session || client.transport !== 'wire') return false;
    try {
      await client
        .transaction()
        .delete(claim.itemPath)
        .delete(claim.claimPath)
        .commit({ signal: claim.signal });
      return true;
    } catch {
      return false;
    }
  }

  async #deleteItem(claim: Claim): Promise<void> {
    try {
      await this.#client.delete(claim.itemPath);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
  }

  async #release(claim: Claim): Promise<void> {
    const client = this.#client;
    const done = (): void => this.#unhold(claim.claimPath, claim.hold);
    // The claim went with the session that made it: a node at its path now is another
    // consumer's claim.
    if (client.sessionId !== claim.session) return done();
    try {
      // Given up with the claim's session, so that no retry lands in a later one.
      await client.delete(claim.claimPath, { signal: claim.signal });
    } catch (error) {
      if (
        !(error instanceof NoNodeError) &&
        !(error instanceof SessionExpiredError) &&
        client.sessionId === claim.session
      ) {
        // Keep trying in the background, until the node or the claim's session is gone.
        client
          .deleteGuaranteed(claim.claimPath, { ephemeral: true })
          .catch(() => undefined)
          .finally(done);
        return;
      }
    }
    done();
  }

  /**
   * Marks `claimPath` as being claimed through this client in the current session; `undefined`
   * when a consumer sharing the client holds it already.
   */
  #hold(claimPath: string): Hold | undefined {
    let holds = holdsByClient.get(this.#client);
    if (holds === undefined) {
      holds = new Map();
      holdsByClient.set(this.#client, holds);
    }
    const session = this.#client.sessionId;
    // A hold of an earlier session is void: its claim went with that session.
    if (holds.get(claimPath)?.session === session) return undefined;
    const hold: Hold = { session };
    holds.set(claimPath, hold);
    return hold;
  }

  #unhold(claimPath: string, hold: Hold): void {
    const holds = holdsByClient.get(this.#client);
    if (holds?.get(claimPath) === hold) holds.delete(claimPath);
  }

  /** Claims the next available item and reads it. */
  async #claimNext(signal: AbortSignal | undefined): Promise<{ claim: Claim; values: T[] }> {
    for (;;) {
      const name = await this.#nextName(signal);
      const itemPath = join(this.path, name);
      const claimPath = join(this.lockPath, name);
      const hold = this.#hold(claimPath);
      if (hold === undefined) {
        this.#claimedElsewhere.add(name);
        this.#lostRace();
        continue;
      }
      const sessionSignal = this.#client.sessionSignal();
      try {
        // No signal on the claim's create and read: an abort while one is in flight would leave
        // a claim nobody releases until the session ends.
        await this.#client.create(claimPath, defaultNodeData(), {
          mode: 'ephemeral',
          parents: 'container',
        });
      } catch (error) {
        this.#unhold(claimPath, hold);
        if (error instanceof NodeExistsError) {
          this.#claimedElsewhere.add(name);
          this.#lostRace();
          continue;
        }
        throw error;
      }
      hold.session = this.#client.sessionId;
      const claim: Claim = {
        name,
        itemPath,
        claimPath,
        signal: sessionSignal,
        session: hold.session,
        hold,
        remaining: 0,
        nacked: false,
      };
      let values: T[] | undefined;
      try {
        const { data } = await this.#client.get(itemPath);
        values = this.#decode(name, itemPath, data);
      } catch (error) {
        await this.#release(claim);
        if (error instanceof NoNodeError) {
          this.#lostRace();
          continue;
        }
        throw error;
      }
      if (values === undefined || values.length === 0 || signal?.aborted) {
        if (values?.length === 0) await this.#deleteItem(claim);
        await this.#release(claim);
        signal?.throwIfAborted();
        continue;
      }
      this.#misses = 0;
      return { claim, values };
    }
  }

  /**
   * Whether a consumer goes on after `error`: yes for connection trouble and a lost session,
   * once connected again.
   */
  async #survived(error: unknown, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return false;
    if (!isRetryable(error) && !(error instanceof SessionExpiredError)) return false;
    await this.#client.whenConnected({ signal });
    return true;
  }

  /** Puts a released name back into the current listing at its place, so it comes next. */
  #giveBack(name: string): void {
    const batch = this.#batch;
    let lo = 0;
    let hi = batch.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((batch[mid] as string) < name) lo = mid + 1;
      else hi = mid;
    }
    if (batch[lo] !== name) batch.splice(lo, 0, name);
  }

  #lostRace(): undefined {
    this.#spread = SPREAD_PICKS;
    if (++this.#misses >= STALE_MISSES) {
      this.#misses = 0;
      this.#batch = [];
    }
    return undefined;
  }

  #decode(name: string, itemPath: string, data: Buffer): T[] | undefined {
    let frames: Buffer[];
    try {
      frames = decodeItems(data);
    } catch (error) {
      return this.#reportMalformed(name, itemPath, data, (error as Error).message);
    }
    try {
      return frames.map((frame) => this.#serializer.deserialize(frame));
    } catch (error) {
      return this.#reportMalformed(name, itemPath, data, 'the serializer rejected it', error);
    }
  }

  #reportMalformed(
    name: string,
    itemPath: string,
    data: Buffer,
    why: string,
    cause?: unknown,
  ): undefined {
    this.#malformed.add(name);
    // The callback's failure must not stop the consumer.
    const onMalformed = this.#onMalformed;
    if (onMalformed) {
      callListener(this, 'onMalformed', onMalformed, [
        new MalformedItemError(itemPath, data, why, cause),
      ]);
    }
    return undefined;
  }

  /** The next candidate name from the current listing, listing again when it is exhausted. */
  async #nextName(signal: AbortSignal | undefined): Promise<string> {
    for (;;) {
      signal?.throwIfAborted();
      const batch = this.#batch;
      if (batch.length > 0) {
        let index = 0;
        if (this.#spread > 0) {
          this.#spread -= 1;
          index = Math.floor(Math.random() * batch.length);
        }
        const [name] = batch.splice(index, 1);
        if (name !== undefined) return name;
      }
      await this.#awaitListing(signal);
    }
  }

  /**
   * Waits for the listing in progress (starting one if none is). Callers with the same signal
   * share one wait on it: 32 claims in flight add one listener to their signal, not 32.
   */
  #awaitListing(signal: AbortSignal | undefined): Promise<void> {
    this.#listing ??= this.#list().finally(() => (this.#listing = undefined));
    const listing = this.#listing;
    if (!signal) return listing;
    let shared = this.#listingWaits.get(signal);
    if (shared?.listing !== listing) {
      shared = { listing, wait: raceSignal(listing, signal) };
      shared.wait.catch(() => undefined);
      this.#listingWaits.set(signal, shared);
    }
    return shared.wait;
  }

  /** Fills the batch; when the queue is empty, waits for a child change first. */
  async #list(): Promise<void> {
    const signal = this.#closing.signal;
    let children: string[];
    try {
      children = await this.#client.getChildren(this.path, { signal });
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      await this.#ensureQueue(signal);
      return;
    }
    let { ready: names } = this.#order(children);
    // Every item listed was claimed by other consumers the last time round: listing again at
    // once would find the same claims, over and over. Wait for an item or a claim to change.
    const stuck = names.length > 0 && names.every((n) => this.#claimedElsewhere.has(n));
    this.#claimedElsewhere.clear();
    if (stuck) {
      await this.#untilItemsOrClaimsChange(names, signal);
      return;
    }
    if (names.length === 0) {
      let watched;
      try {
        watched = await this.#client.getChildrenWatched(this.path, { signal });
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        await this.#ensureQueue(signal);
        return;
      }
      let next: number | undefined;
      ({ ready: names, next } = this.#order(watched.value.children));
      if (names.length === 0) {
        try {
          // Until a child changes, or the earliest item not due yet becomes due.
          await this.#untilDue(watched.changed, next);
        } catch (error) {
          // A lost session took the watch: list again on the new one.
          if (!(error instanceof SessionExpiredError)) throw error;
        } finally {
          // Left on the server, as below: the next put or take fires it.
          watched.cancel({ keepServerWatch: true });
        }
        return;
      }
      // Left on the server: the next put or take fires it, and a removal would cost a request.
      watched.cancel({ keepServerWatch: true });
    }
    this.#batch = names;
  }

  /**
   * Resolves when the queue has an item other than `names`, or one of them is no longer claimed
   * (acked, nacked, its consumer gone): one child watch on the queue and one on the lock path.
   */
  async #untilItemsOrClaimsChange(names: string[], signal: AbortSignal): Promise<void> {
    const listed = new Set(names);
    const watches: Watched<{ children: string[]; stat: Stat }>[] = [];
    try {
      const queue = await this.#client.getChildrenWatched(this.path, { signal });
      watches.push(queue);
      if (this.#items(queue.value.children).some((n) => !listed.has(n))) return;
      const claims = await this.#client.getChildrenWatched(this.lockPath, { signal });
      watches.push(claims);
      const held = new Set(claims.value.children);
      const { ready, next } = this.#order(queue.value.children);
      if (ready.some((n) => !held.has(n))) return;
      await this.#untilDue(Promise.race(watches.map((w) => w.changed)), next);
    } catch (error) {
      // The lock path reaped with its last claim, or a lost session that took the watches:
      // either way, list again.
      if (!(error instanceof NoNodeError) && !(error instanceof SessionExpiredError)) throw error;
    } finally {
      // Left on the server: queue and claims change all the time, the next change fires them.
      for (const w of watches) w.cancel({ keepServerWatch: true });
    }
  }

  /** The item names a consumer may take now, in order, and when the next one becomes due. */
  #order(children: string[]): { ready: string[]; next: number | undefined } {
    const names = children.filter((c) => c.startsWith(ITEM_PREFIX) && !this.#malformed.has(c));
    return this.#layout.order(names, Date.now());
  }

  #items(children: string[]): string[] {
    return this.#order(children).ready;
  }

  /** Settles with `changed`, or resolves at `due` (epoch ms) if that comes first. */
  async #untilDue(changed: Promise<unknown>, due: number | undefined): Promise<void> {
    if (due === undefined) {
      await changed;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const wake = new Promise<void>((resolve) => {
      // One more millisecond: the item is due once the clock has passed its due time.
      timer = setTimeout(resolve, Math.min(Math.max(0, due - Date.now() + 1), MAX_TIMER_MS));
    });
    try {
      await Promise.race([changed, wake]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The number of children of the queue node (one `exists`), items being processed by
   * consumers included; 0 when the queue node does not exist.
   *
   * @throws connection errors when retries run out
   * @example
   * ```ts
   * if ((await queue.size()) > 1000) throttleProducers();
   * ```
   */
  async size(options: { signal?: AbortSignal } = {}): Promise<number> {
    const stat = await this.#client.exists(this.path, options);
    return stat?.numChildren ?? 0;
  }

  /**
   * The item that would be consumed next, without removing or claiming it; `undefined` when the
   * queue is empty. Lists the queue (one request, its size grows with the queue) and reads the
   * first item. Malformed items are skipped (and reported).
   *
   * @example
   * ```ts
   * const next = await queue.peek();
   * ```
   */
  async peek(options: { signal?: AbortSignal } = {}): Promise<T | undefined> {
    let children: string[];
    try {
      children = await this.#client.getChildren(this.path, options);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    for (const name of this.#items(children)) {
      const itemPath = join(this.path, name);
      try {
        const values = this.#decode(
          name,
          itemPath,
          (await this.#client.get(itemPath, options)).data,
        );
        if (values !== undefined && values.length > 0) return values[0];
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
      }
    }
    return undefined;
  }

  /**
   * Takes every item present now (at-most-once, as {@link Queue.take}) and returns them in
   * queue order; does not wait for more. Items claimed by consumers are taken too.
   *
   * When it rejects, the items it had already taken are not lost: this queue object keeps them
   * and the next `take` or `drain` returns them first.
   *
   * @throws {@link TakeOutcomeUnknownError} as {@link Queue.take} (the items of that node are in
   *   the error, not in the queue object), connection errors when retries run out
   * @example
   * ```ts
   * const leftovers = await queue.drain();
   * ```
   */
  async drain(options: { signal?: AbortSignal } = {}): Promise<T[]> {
    this.#checkOpen();
    const out: T[] = this.#taken.splice(0);
    try {
      let children: string[];
      try {
        children = await this.#client.getChildren(this.path, options);
      } catch (error) {
        if (error instanceof NoNodeError) return out;
        throw error;
      }
      for (const name of this.#items(children)) {
        const values = await this.#takeNode(name, options.signal);
        if (values) out.push(...values);
      }
    } catch (error) {
      this.#taken.unshift(...out);
      throw error;
    }
    return out;
  }

  /**
   * Stops this queue object: running consumers end (their iteration finishes), unsettled
   * messages are nacked (claims deleted, items delivered again), waiting `take`s reject with
   * {@link QueueClosedError}. Idempotent. Does not close the client.
   *
   * @example
   * ```ts
   * await queue.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.closed) this.#closing.abort(new QueueClosedError(this.path));
    await Promise.allSettled([...this.#unsettled].map((m) => m.nackNow()));
  }

  /** {@link Queue.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.closed) throw new QueueClosedError(this.path);
  }
}

/** `<1 if ≥ 0 else 0><8 upper-case hex digits of the 32-bit pattern>`, or '' without priority. */
function priorityName(priority: number | undefined): string {
  if (priority === undefined) return '';
  if (!Number.isInteger(priority) || priority < -0x80000000 || priority > 0x7fffffff) {
    throw new InvalidArgumentError('priority must be a signed 32-bit integer');
  }
  const hex = (priority >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return (priority >= 0 ? '1' : '0') + hex;
}

/**
 * Puts `items` as one node named `<name><seq>`, with every check and the lost-reply handling of
 * {@link Queue.putMany}; for the queue classes that name their items their own way.
 * @internal
 */
export function putNamed<T>(
  queue: Queue<T>,
  name: string,
  items: readonly T[],
  signal: AbortSignal | undefined,
): Promise<string> {
  return putNamedImpl(queue, name, items, signal);
}

/** The client a queue works through. @internal */
export function clientOf(queue: Queue<unknown>): ZkClient {
  return clientImpl(queue);
}
