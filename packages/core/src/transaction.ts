/**
 * Transactions: several writes committed atomically in one request (ZooKeeper's `multi`).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  InvalidArgumentError,
  InvalidPathError,
  NoNodeError,
  SessionExpiredError,
  UnimplementedError,
  ZkError,
  isRetryable,
} from './errors.js';
import { createFrameBytes, pathFrameBytes, setFrameBytes } from './frame-size.js';
import { join, parent, validateName, validatePath } from './paths.js';
import type { ZkClient } from './client.js';
import type { Stat } from './stat.js';
import {
  CreateFlags,
  type Acl,
  type MultiOp,
  type MultiResult,
  type ProtocolTransport,
  type Transport,
} from './transport.js';

/** The create modes a transaction accepts: every {@link CreateFlags} mode. */
type Mode = keyof typeof CreateFlags;

/** Data accepted by a transaction's writes: bytes or a UTF-8 string. */
export type TransactionData = Uint8Array | string;

/** Options of {@link Transaction.create}. */
export interface TransactionCreateOptions {
  /** Default `'persistent'`. */
  readonly mode?: Mode;
  /** The node's ACL, sent with the create. Default: the client's `defaultAcl`, else world-open. */
  readonly acl?: readonly Acl[];
  /** Time-to-live in ms for the TTL modes (required there, rejected elsewhere). */
  readonly ttl?: number;
  /**
   * Create missing parents as containers or persistent nodes. When the commit fails because
   * this create's parent is missing, the parents are created (outside the transaction, as
   * {@link ZkClient.ensurePath} does) and the whole transaction is sent again. Default `false`.
   */
  readonly parents?: 'container' | 'persistent' | false;
}

/** Options of {@link Transaction.create} with `withStat: true`. */
export interface TransactionCreateStatOptions extends TransactionCreateOptions {
  /** Return the new node's {@link Stat} in the result. */
  readonly withStat: true;
}

/** Options of {@link Transaction.createProtected}. */
export interface TransactionProtectedOptions extends TransactionCreateOptions {
  /** Default `'ephemeralSequential'`. */
  readonly mode?: Mode;
}

/** The result of a create: the node's path (with the sequence suffix for sequential modes). */
export interface CreateResult {
  /** Which operation this result is for. */
  readonly op: 'create';
  /** The created node's path, as the caller names paths (without the namespace). */
  readonly path: string;
}

/** The result of a create made with `withStat: true`: also the new node's stat. */
export interface CreateStatResult extends CreateResult {
  /**
   * The new node's stat. Servers before 3.9 leave it out of a transaction's reply for plain
   * creates; the client then reads it right after the commit (one more request for the whole
   * transaction): `czxid`, `ctime` and `ephemeralOwner` are the creation's, the other fields
   * may already show a later change.
   */
  readonly stat: Stat;
}

/** The result of a delete. */
export interface DeleteResult {
  /** Which operation this result is for. */
  readonly op: 'delete';
  /** The deleted node's path. */
  readonly path: string;
}

/** The result of a set: the node's stat after the write. */
export interface SetResult {
  /** Which operation this result is for. */
  readonly op: 'set';
  /** The written node's path. */
  readonly path: string;
  /** The node's stat after the write. */
  readonly stat: Stat;
}

/** The result of a version check. */
export interface CheckResult {
  /** Which operation this result is for. */
  readonly op: 'check';
  /** The checked node's path. */
  readonly path: string;
}

/** One result of a committed {@link Transaction}, in the order of its operations. */
export type OperationResult =
  CreateResult | CreateStatResult | DeleteResult | SetResult | CheckResult;

/** The operations a transaction can hold. */
export type TransactionOp = OperationResult['op'];

/**
 * A transaction failed: nothing of it was applied. Code `'TRANSACTION_FAILED'`; `index`, `op`
 * and `path` name the operation the server refused, `error` (also the `cause`) says why, e.g. a
 * {@link BadVersionError} for a failed `check`.
 */
export class TransactionError extends ZkError {
  /** The position of the failing operation in the transaction, from 0. */
  readonly index: number;
  /** What the failing operation was. */
  readonly op: TransactionOp;
  /** The server's error for that operation. */
  readonly error: ZkError;
  constructor(index: number, op: TransactionOp, path: string, error: ZkError) {
    super(
      'TRANSACTION_FAILED',
      error.rc,
      `transaction failed at operation ${index} (${op}): ${error.message}`,
      { path, cause: error },
    );
    this.index = index;
    this.op = op;
    this.error = error;
  }
}

/**
 * What a transaction needs of its client, beyond the public API: its input checks, its
 * namespace, and its request executor.
 *
 * @internal
 */
export interface TransactionHost {
  /** `path` with the namespace (throws `RequestTooLargeError` for an oversized path). */
  abs(path: string): string;
  /** `path` without the namespace. */
  rel(path: string): string;
  /** The connect string's chroot (counted in frame sizes). */
  readonly chroot: string;
  /** Data as bytes, checked against `maxDataBytes`. */
  toBuffer(data: TransactionData | undefined, path: string): Buffer;
  /** The checks of a create: mode, TTL, parents, ACL, reserved paths. */
  validateCreate(path: string, mode: Mode, options: TransactionCreateOptions): void;
  /** Throws `RequestTooLargeError` when a frame of `size` bytes is over the limit. */
  checkFrame(size: number, path: string): void;
  /** The client's `defaultAcl`. */
  readonly defaultAcl: readonly Acl[] | undefined;
  /** One request under the client's policy; `retry` retries connection problems. */
  exec<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    retry: boolean,
    fn: (t: Transport) => Promise<T>,
  ): Promise<T>;
  /** Resolves once connected (bounded by `connectTimeout`). */
  whenConnected(signal: AbortSignal | undefined): Promise<void>;
  /** The current session id. */
  sessionId(): string | undefined;
  /** Whether the client speaks the protocol itself (the wire transport). */
  readonly wire: boolean;
  /** The client's retry count. */
  readonly retries: number;
  /** Lists a node's children (public `getChildren`). */
  getChildren(path: string, signal: AbortSignal | undefined): Promise<string[]>;
  /** Makes sure a path exists (public `ensurePath`). */
  ensurePath(path: string, container: boolean, signal: AbortSignal | undefined): Promise<void>;
  /** Deletes a node, retrying until gone (public `deleteGuaranteed`). */
  deleteGuaranteed(path: string): void;
}

/** Each client's {@link TransactionHost}, set by its constructor. */
export const transactionHosts = new WeakMap<object, TransactionHost>();

/** One queued operation: what is sent, and what the caller asked for. */
interface Queued {
  readonly op: MultiOp;
  /** The path as the caller named it. */
  readonly path: string;
  readonly withStat: boolean;
  readonly parents: 'container' | 'persistent' | false;
  /** For protected creates: the parent and the `_c_<uuid>-` prefix to find the node by. */
  readonly protect?: { readonly parent: string; readonly prefix: string; readonly mode: Mode };
}

/** The encoded size of a transaction's per-operation header: type, done flag, error. */
const MULTI_HEADER = 9;
/** A request header: xid and opcode. */
const REQUEST_HEADER = 8;
const PROTECTED_PREFIX = '_c_';
/** The create flags of the sequential modes. */
const SEQUENTIAL_FLAGS: ReadonlySet<number> = new Set([
  CreateFlags.persistentSequential,
  CreateFlags.ephemeralSequential,
  CreateFlags.persistentSequentialWithTtl,
]);
/** How many times a missing parent is created before the commit gives up. */
const PARENT_ROUNDS = 5;

/**
 * An atomic transaction: `create`, `delete`, `set` and `check` operations collected here and
 * committed in one request. Either every operation is applied, or none is and
 * {@link Transaction.commit} rejects with a {@link TransactionError} naming the one that failed.
 * Made by {@link ZkClient.transaction}.
 *
 * Each builder method checks its input at once (bad paths, data over `maxDataBytes`, bad modes,
 * versions or ACLs throw before anything is sent) and returns the transaction, typed with one
 * more result, so that `commit()` resolves to a tuple of exactly the results asked for.
 *
 * **Connection problems.** A transaction without protected creates is sent once: if the
 * connection drops with it in flight, `commit()` rejects with the connection error and the
 * caller cannot know whether it was applied (a transaction that was refused because the client
 * was not connected in time was never sent). A transaction with a protected create
 * ({@link Transaction.createProtected}) finds out after reconnecting: the node with its uuid
 * exists exactly when the transaction was applied, since a transaction is applied whole or not
 * at all. Applied: the results are rebuilt (the stats read again); not applied: it is sent
 * again. An ephemeral node of an earlier session means the transaction was applied in a session
 * that is gone; that node is deleted and `commit()` rejects with {@link SessionExpiredError}.
 *
 * On the native transport `commit()` rejects with {@link UnimplementedError}: the binding has no
 * transactions; the wire transport (the default) has them.
 *
 * @example
 * ```ts
 * const [created, , updated] = await client
 *   .transaction()
 *   .create('/jobs/42', 'payload', { withStat: true })
 *   .check('/jobs', 0)
 *   .set('/jobs', 'one more')
 *   .commit();
 * console.log(created.path, created.stat.czxid, updated.stat.version);
 * ```
 */
export class Transaction<R extends readonly OperationResult[] = []> {
  readonly #host: TransactionHost;
  readonly #ops: Queued[] = [];
  #committed = false;

  /**
   * A new, empty transaction on `client`; the same as `client.transaction()`.
   *
   * @param client - the client to commit with
   */
  constructor(client: ZkClient) {
    const host = transactionHosts.get(client);
    if (host === undefined) throw new InvalidArgumentError('a transaction needs a ZkClient');
    this.#host = host;
  }

  /** The number of operations collected so far. */
  get size(): number {
    return this.#ops.length;
  }

  /**
   * Adds a create. The ACL (`acl`, else the client's `defaultAcl`) is sent with the create.
   * With `withStat: true`, its result carries the new node's stat.
   *
   * @throws {@link InvalidPathError}, {@link DataTooLargeError}, {@link InvalidArgumentError}
   */
  create(
    path: string,
    data: TransactionData,
    options: TransactionCreateStatOptions,
  ): Transaction<[...R, CreateStatResult]>;
  create(
    path: string,
    data?: TransactionData,
    options?: TransactionCreateOptions & { readonly withStat?: false },
  ): Transaction<[...R, CreateResult]>;
  create(
    path: string,
    data?: TransactionData,
    options: TransactionCreateOptions & { readonly withStat?: boolean } = {},
  ): Transaction<[...R, CreateResult]> {
    this.#assertOpen();
    validatePath(path);
    const mode = options.mode ?? 'persistent';
    const buffer = this.#host.toBuffer(data, path);
    this.#host.validateCreate(path, mode, options);
    return this.#pushCreate(path, path, buffer, mode, options, undefined);
  }

  /**
   * Adds a Curator-style protected create: the node is named `_c_<uuid>-<name>` under
   * `parentPath` (mode `ephemeralSequential` unless told otherwise). Besides naming the node as
   * {@link ZkClient.createProtected} does, it makes the whole transaction safe to retry: after a
   * lost reply, the node tells whether the transaction was applied.
   *
   * @throws {@link InvalidPathError}, {@link DataTooLargeError}, {@link InvalidArgumentError}
   */
  createProtected(
    parentPath: string,
    name: string,
    data: TransactionData,
    options: TransactionProtectedOptions & { readonly withStat: true },
  ): Transaction<[...R, CreateStatResult]>;
  createProtected(
    parentPath: string,
    name: string,
    data?: TransactionData,
    options?: TransactionProtectedOptions & { readonly withStat?: false },
  ): Transaction<[...R, CreateResult]>;
  createProtected(
    parentPath: string,
    name: string,
    data?: TransactionData,
    options: TransactionProtectedOptions & { readonly withStat?: boolean } = {},
  ): Transaction<[...R, CreateResult]> {
    this.#assertOpen();
    validatePath(parentPath);
    validateName(name);
    const mode = options.mode ?? 'ephemeralSequential';
    const buffer = this.#host.toBuffer(data, parentPath);
    this.#host.validateCreate(join(parentPath, name), mode, options);
    const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
    const target = join(parentPath, prefix + name);
    return this.#pushCreate(target, target, buffer, mode, options, {
      parent: parentPath,
      prefix,
      mode,
    });
  }

  #pushCreate(
    path: string,
    shown: string,
    data: Buffer,
    mode: Mode,
    options: TransactionCreateOptions & { readonly withStat?: boolean },
    protect: Queued['protect'],
  ): Transaction<[...R, CreateResult]> {
    const acl = options.acl ?? this.#host.defaultAcl;
    const full = this.#host.abs(path);
    this.#ops.push({
      op: {
        op: 'create',
        path: full,
        data,
        flags: CreateFlags[mode],
        acl,
        ttl: options.ttl,
      },
      path: shown,
      withStat: options.withStat === true,
      parents: options.parents ?? false,
      ...(protect ? { protect } : {}),
    });
    return this as unknown as Transaction<[...R, CreateResult]>;
  }

  /**
   * Adds a delete; with `version`, only of the node at that version.
   *
   * @throws {@link InvalidPathError}, {@link InvalidArgumentError}
   */
  delete(
    path: string,
    options: { readonly version?: number } = {},
  ): Transaction<[...R, DeleteResult]> {
    this.#assertOpen();
    validatePath(path);
    const version = validVersion(options.version);
    if (path === '/') throw new InvalidArgumentError('the root cannot be deleted');
    const full = this.#writable(path);
    this.#ops.push({
      op: { op: 'delete', path: full, version },
      path,
      withStat: false,
      parents: false,
    });
    return this as unknown as Transaction<[...R, DeleteResult]>;
  }

  /**
   * Adds a set of the node's data; with `version`, only of the node at that version.
   *
   * @throws {@link InvalidPathError}, {@link DataTooLargeError}, {@link InvalidArgumentError}
   */
  set(
    path: string,
    data: TransactionData,
    options: { readonly version?: number } = {},
  ): Transaction<[...R, SetResult]> {
    this.#assertOpen();
    validatePath(path);
    if (data === undefined) throw new InvalidArgumentError('set needs data (use "" to clear it)');
    const buffer = this.#host.toBuffer(data, path);
    const version = validVersion(options.version);
    const full = this.#writable(path);
    this.#ops.push({
      op: { op: 'set', path: full, data: buffer, version },
      path,
      withStat: false,
      parents: false,
    });
    return this as unknown as Transaction<[...R, SetResult]>;
  }

  /**
   * Adds a check that the node exists at `version` (-1: exists at any version). A failed check
   * fails the transaction with a {@link BadVersionError} (or {@link NoNodeError}).
   *
   * @throws {@link InvalidPathError}, {@link InvalidArgumentError}
   */
  check(path: string, version: number): Transaction<[...R, CheckResult]> {
    this.#assertOpen();
    validatePath(path);
    if (version === undefined) throw new InvalidArgumentError('check needs a version');
    const checked = validVersion(version);
    const full = this.#host.abs(path);
    this.#ops.push({
      op: { op: 'check', path: full, version: checked },
      path,
      withStat: false,
      parents: false,
    });
    return this as unknown as Transaction<[...R, CheckResult]>;
  }

  /**
   * Sends the transaction and resolves with one result per operation, in order. Once only: the
   * transaction cannot be changed or committed again afterwards. An empty transaction resolves
   * with `[]` without a request.
   *
   * @throws {@link TransactionError} when the server refused an operation (nothing applied);
   * {@link InvalidArgumentError} before sending when a transaction with a protected create
   * also holds a plain sequential create (whose name could not be found after a lost reply);
   * {@link RequestTooLargeError} before sending when the whole request is over the frame
   * limit; {@link UnimplementedError} on the native transport; connection errors as described
   * on {@link Transaction}; the signal's reason on abort (the transaction may still be applied)
   */
  async commit(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<R> {
    this.#assertOpen();
    this.#committed = true;
    const host = this.#host;
    if (!host.wire) {
      throw new UnimplementedError({
        message:
          "transactions need the wire transport (transport: 'wire', the default); the native binding has none",
      });
    }
    const ops = this.#ops;
    if (ops.length === 0) return [] as unknown as R;
    let size = REQUEST_HEADER + MULTI_HEADER;
    for (const q of ops) size += MULTI_HEADER + opBytes(host.chroot, q.op);
    host.checkFrame(size, ops[0]?.path ?? '');
    const signal = options.signal;
    const multi = ops.map((q) => q.op);
    const protectedOps = ops.filter((q) => q.protect !== undefined);
    if (
      protectedOps.length > 0 &&
      ops.some((q) => !q.protect && q.op.op === 'create' && SEQUENTIAL_FLAGS.has(q.op.flags))
    ) {
      // After a lost reply, the name the server gave a plain sequential node cannot be found.
      throw new InvalidArgumentError(
        'a transaction with a protected create takes sequential creates only as protected ones',
      );
    }
    for (let round = 0; ; round++) {
      let results: MultiResult[];
      try {
        results = await this.#send(multi, protectedOps.length > 0, signal);
      } catch (error) {
        if (!(error instanceof TransactionError)) throw error;
        const q = ops[error.index];
        if (
          q === undefined ||
          q.parents === false ||
          !(error.error instanceof NoNodeError) ||
          round >= PARENT_ROUNDS
        ) {
          throw error;
        }
        // The NoNode rule, as for a single create: a container parent may have been reaped
        // between our steps, so create the parents and send the whole transaction again.
        await host.ensurePath(parent(q.path), q.parents === 'container', signal);
        continue;
      }
      return (await this.#results(results, signal)) as unknown as R;
    }
  }

  /**
   * One commit, with the retries a protected create makes safe. Resolves with the server's
   * results, or with results rebuilt after a lost reply.
   */
  async #send(
    multi: readonly MultiOp[],
    safeToRetry: boolean,
    signal: AbortSignal | undefined,
  ): Promise<MultiResult[]> {
    const host = this.#host;
    for (let attempt = 0; ; attempt++) {
      let results: MultiResult[];
      try {
        results = await host.exec('multi', this.#ops[0]?.path ?? '', signal, false, (t) =>
          (t as ProtocolTransport).multi(multi),
        );
      } catch (error) {
        if (!safeToRetry || attempt >= host.retries) throw error;
        if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
        await host.whenConnected(signal);
        const found = await this.#findApplied(signal);
        if (found) return found;
        continue;
      }
      const failed = results.findIndex((r) => r.op === 'error' && r.error !== null);
      if (failed >= 0) {
        const r = results[failed] as { error: ZkError };
        const q = this.#ops[failed] as Queued;
        throw new TransactionError(failed, q.op.op, q.path, r.error);
      }
      return results;
    }
  }

  /**
   * After a lost reply: whether the transaction was applied, told by its protected creates'
   * nodes. Returns the rebuilt results when it was, `undefined` when it was not (send again).
   */
  async #findApplied(signal: AbortSignal | undefined): Promise<MultiResult[] | undefined> {
    const host = this.#host;
    const results: MultiResult[] = [];
    let applied: boolean | undefined;
    for (const q of this.#ops) {
      if (!q.protect) continue;
      let children: string[];
      try {
        children = await host.getChildren(q.protect.parent, signal);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        children = [];
      }
      const name = children.find((c) => c.startsWith(q.protect?.prefix ?? '\0'));
      if (name === undefined) {
        applied = false;
        break;
      }
      applied = true;
    }
    if (!applied) return undefined;
    // Applied: rebuild each result. Creates are found by name (protected) or path; stats are
    // read now.
    for (const q of this.#ops) {
      const op = q.op;
      switch (op.op) {
        case 'create': {
          let path = op.path;
          if (q.protect) {
            const children = await host.getChildren(q.protect.parent, signal);
            const name = children.find((c) => c.startsWith(q.protect?.prefix ?? '\0'));
            if (name === undefined) throw new NoNodeError({ path: q.path });
            path = host.abs(join(q.protect.parent, name));
          }
          const stat = await this.#stat(path, signal);
          const ephemeral =
            q.protect?.mode === 'ephemeral' || q.protect?.mode === 'ephemeralSequential';
          if (ephemeral && stat && stat.ephemeralOwner !== host.sessionId()) {
            // Applied in a session that is gone: its ephemeral nodes are gone or going.
            host.deleteGuaranteed(host.rel(path));
            throw new SessionExpiredError({ path: q.path });
          }
          results.push({ op: 'create', path, ...(stat ? { stat } : {}) });
          break;
        }
        case 'set': {
          const stat = await this.#stat(op.path, signal);
          if (!stat) throw new NoNodeError({ path: q.path });
          results.push({ op: 'set', stat });
          break;
        }
        default:
          results.push({ op: op.op });
      }
    }
    return results;
  }

  async #stat(full: string, signal: AbortSignal | undefined): Promise<Stat | null> {
    return this.#host.exec('exists', this.#host.rel(full), signal, true, (t) =>
      t.exists(full, false),
    );
  }

  /** The caller's results from the server's: paths without the namespace, stats read if asked. */
  async #results(
    results: MultiResult[],
    signal: AbortSignal | undefined,
  ): Promise<OperationResult[]> {
    const host = this.#host;
    const missing: number[] = [];
    for (const [i, r] of results.entries()) {
      if (r.op === 'create' && r.stat === undefined && this.#ops[i]?.withStat) missing.push(i);
    }
    const stats = new Map<number, Stat>();
    if (missing.length > 0) {
      const paths = missing.map((i) => (results[i] as { path: string }).path);
      const read = await host.exec('multiRead', this.#ops[0]?.path ?? '', signal, true, (t) =>
        (t as ProtocolTransport).multiRead(paths),
      );
      for (const [k, i] of missing.entries()) {
        const r = read[k];
        if (r === undefined || r.error !== undefined) {
          // Deleted between the commit and the read: its stat is gone with it.
          throw r?.error ?? new NoNodeError({ path: paths[k] });
        }
        stats.set(i, r.stat);
      }
    }
    return results.map((r, i): OperationResult => {
      const q = this.#ops[i] as Queued;
      switch (r.op) {
        case 'create': {
          const path = host.rel(r.path);
          if (!q.withStat) return { op: 'create', path };
          return { op: 'create', path, stat: (r.stat ?? stats.get(i)) as Stat };
        }
        case 'set':
          return { op: 'set', path: q.path, stat: r.stat };
        case 'delete':
          return { op: 'delete', path: q.path };
        case 'check':
          return { op: 'check', path: q.path };
        default:
          throw new InvalidArgumentError('a transaction result without an operation');
      }
    });
  }

  #writable(path: string): string {
    const full = this.#host.abs(path);
    if (full === '/zookeeper' || full.startsWith('/zookeeper/')) {
      throw new InvalidPathError(path, '/zookeeper is reserved');
    }
    return full;
  }

  #assertOpen(): void {
    if (this.#committed) {
      throw new InvalidArgumentError('this transaction was committed already; start a new one');
    }
  }
}

/** The encoded size of one operation's body. */
function opBytes(chroot: string, op: MultiOp): number {
  const path = chroot + op.path;
  switch (op.op) {
    case 'create':
      return createFrameBytes(path, op.data.length, op.acl, op.ttl !== undefined) - REQUEST_HEADER;
    case 'set':
      return setFrameBytes(path, op.data.length) - REQUEST_HEADER;
    default:
      return pathFrameBytes(path) - REQUEST_HEADER;
  }
}

function validVersion(version: number | undefined): number {
  if (version === undefined) return -1;
  if (!Number.isInteger(version) || version < -1 || version > 0x7fffffff) {
    throw new InvalidArgumentError('version must be an integer ≥ -1');
  }
  return version;
}
