import { Emitter } from './emitter.js';
import { loadNativeBinding, type Acl } from './binding.js';
import { Creates } from './creates.js';
import { Deletes } from './deletes.js';
import {
  AuthFailedError,
  BadVersionError,
  ClientClosedError,
  InvalidArgumentError,
  ThrottledError,
  UnimplementedError,
  UnknownWriteOutcomeError,
  ZkError,
  isRetryable,
} from './errors.js';
import { Executor, notFromTransport } from './executor.js';
import { authFrameBytes, setAclFrameBytes, setFrameBytes } from './frame-size.js';
import { protectedCreateChecks, clientAuth, clientWire, type ClientWire } from './internal.js';
import {
  resolveOptions,
  validVersion,
  validateAcl,
  validateAuth,
  type AuthInfo,
  type ChildrenSnapshot,
  type ConnectionState,
  type CreateOptions,
  type Data,
  type DataSnapshot,
  type ErrorPolicy,
  type ReadOptions,
  type WatchedReadOptions,
  type ResolvedOptions,
  type TransportKind,
  type VersionOptions,
  type Watched,
  type ZkClientEvents,
  type ZkClientOptions,
} from './options.js';
import { validatePath } from './paths.js';
import { readAcl, updateExtraServers } from './recursive-watch.js';
import { SessionState } from './session-state.js';
import { validateSignal, type WaitOptions } from './signals.js';
import type { Stat } from './stat.js';
import type { ProtocolTransport, WatchKind } from './transport.js';
import { Transaction, transactionHosts } from './transaction.js';
import { removeWatches, type RemoveWatchesOptions } from './watch-removal.js';
import type { NodeEvent } from './watches.js';
import { WatchedReads } from './watched.js';
import { formatHostPort, parseConnectString } from './wire/host-list.js';

export type {
  AuthInfo,
  ChildrenSnapshot,
  ConnectionState,
  CreateMode,
  CreateOptions,
  Data,
  DataSnapshot,
  ErrorPolicy,
  ReadOptions,
  WatchedReadOptions,
  RetryPolicy,
  SaslOptions,
  TransportKind,
  VersionOptions,
  Watched,
  ZkClientEvents,
  ZkClientOptions,
} from './options.js';

/** Published on `zkit:client:state`. */
export interface StateMessage {
  /** The client whose state changed. */
  readonly client: ZkClient;
  /** The new state. */
  readonly now: ConnectionState;
  /** The state before. */
  readonly before: ConnectionState;
  /** The session id known at the change (hex), `undefined` before the first connection. */
  readonly sessionId: string | undefined;
}

/** Published on `zkit:op` after every request (only when someone subscribes). */
export interface OpMessage {
  /** The client that made the request. */
  readonly client: ZkClient;
  /** The request: `create`, `get`, `exists`, `getChildren`, `set`, `delete`, `sync`, …. */
  readonly op: string;
  /** The path as the caller named it, without the namespace (`''` for `addAuth`). */
  readonly path: string;
  /** From the call until it settled, including retries and waits for the connection. */
  readonly durationMs: number;
  /** What the request failed with; absent on success. */
  readonly error?: unknown;
}

/**
 * The session-aware ZooKeeper client every zkit recipe stands on. It owns one session at a time
 * — over ZooKeeper's protocol spoken by core itself (the default), or the native binding's handle
 * with `transport: 'native'` — reports Curator's connection states, retries requests that
 * failed because of the connection, and replaces an expired session with a new one by itself.
 *
 * Requests made while the connection is down wait for it (up to `connectTimeout`) and are retried
 * under the retry policy. Requests in flight when the session is lost reject with
 * {@link SessionExpiredError} and are not retried: whatever they relied on (ephemeral nodes,
 * watches) is gone. After `close()` every request rejects with {@link ClientClosedError}.
 *
 * @example
 * ```ts
 * import { ZkClient } from '@zkit/core';
 *
 * await using client = new ZkClient('127.0.0.1:2181', { sessionTimeout: 10_000 });
 * await client.start();
 * client.on('state', (now, before) => console.log(`${before} → ${now}`));
 * await client.create('/services/api', 'hello', { parents: 'persistent' });
 * const { data } = await client.get('/services/api');
 * ```
 */
export class ZkClient extends Emitter<ZkClientEvents> {
  /** The connect string as given: `host:port[,host:port…][/chroot]`. */
  readonly connectString: string;
  readonly #options: ResolvedOptions;
  readonly #auth: AuthInfo[];
  /** The state machine: the transport, the session, the states reported. */
  readonly #session: SessionState;
  /** Runs requests: retry, error translation, the namespace. */
  readonly #exec: Executor;
  readonly #creates: Creates;
  readonly #deletes: Deletes;
  readonly #watched: WatchedReads;

  /**
   * @param connectString - `host:port[,host:port…][/chroot]`
   * @param options - see {@link ZkClientOptions}
   * @throws {@link InvalidArgumentError} or {@link InvalidPathError} for bad options;
   * {@link NativeBindingMissingError} when the transport is `'native'` and the optional
   * `zookeeper` package is not installed
   */
  constructor(connectString: string, options: ZkClientOptions = {}) {
    super();
    // The one parser the transports use too: a typo fails here, not as a silent connect loop.
    const { hosts, chroot } = parseConnectString(connectString);
    const resolved = resolveOptions(options, chroot);
    this.connectString = connectString;
    this.#auth = [...(options.auth ?? [])];
    clientAuth.set(this, this.#auth);
    protectedCreateChecks.set(this, (parentPath, name, data, options) => {
      this.#creates.checkProtected(parentPath, name, data as Data | undefined, options);
    });
    this.#options = resolved;
    // Here rather than at start(): the failure points at the line that chose the transport
    // (or at the client an environment variable switched), and nothing has started yet.
    if (this.#options.transport === 'native') loadNativeBinding();
    // Normalised (ports filled in): the native client has no default port.
    const servers = hosts.map(formatHostPort).join(',') + chroot;
    this.#session = new SessionState(this, resolved, servers, this.#auth, {
      ensureNamespace: (ns) => this.#creates.ensure(ns, 'persistent', undefined, true),
      node: (kind, path) => {
        this.#watched.dispatch(kind, path);
        this.#wire?.tap?.(kind, path);
      },
      lost: (error) => {
        this.#watched.rejectAll(error);
        this.#deletes.sessionLost();
      },
      closed: () => {
        this.#deletes.closed();
        this.#watched.rejectAll(new ClientClosedError());
      },
    });
    this.#exec = new Executor(this, this.#session, resolved);
    for (const a of this.#auth) this.#exec.checkFrame(authFrameBytes(a.scheme, a.credentials), '');
    this.#creates = new Creates(this, this.#session, this.#exec, resolved);
    this.#deletes = new Deletes(this, this.#session, this.#exec);
    this.#watched = new WatchedReads(this, this.#session, this.#exec);
    if (this.#options.transport === 'wire') {
      this.#wire = {
        run: (op, path, signal, fn) => {
          const full = this.#exec.abs(path);
          return this.#exec.exec(op, path, signal, true, (t) => fn(t as ProtocolTransport, full));
        },
        transport: () => this.#session.transport as ProtocolTransport | undefined,
        tap: undefined,
      };
      clientWire.set(this, this.#wire);
    }
    const wire = this.#wire !== undefined;
    const exec = this.#exec;
    const session = this.#session;
    transactionHosts.set(this, {
      abs: (path) => exec.abs(path),
      rel: (path) => exec.rel(path),
      chroot,
      toBuffer: (data, path) => exec.toBuffer(data, path),
      validateCreate: (path, mode, options) => this.#creates.validateCreate(path, mode, options),
      checkFrame: (size, path) => exec.checkFrame(size, path),
      defaultAcl: resolved.defaultAcl,
      exec: (op, path, signal, retry, fn) => exec.exec(op, path, signal, retry, fn),
      whenConnected: (signal) => session.waitForState(() => session.isConnected, signal, false),
      sessionId: () => session.sessionId,
      wire,
      retries: resolved.retry.retries,
      getChildren: (path, signal) => this.getChildren(path, signal ? { signal } : {}),
      ensurePath: (path, container, signal) =>
        this.ensurePath(path, { container, ...(signal ? { signal } : {}) }),
      deleteGuaranteed: (path) => void this.deleteGuaranteed(path).catch(() => undefined),
    });
    this.#watched.removal = {
      registry: this.#watched.registry,
      transport: () => (wire ? (session.transport as ProtocolTransport | undefined) : undefined),
      wire,
      exec: (path, signal, fn) => exec.exec('removeWatches', path, signal, true, fn),
    };
  }

  /** Set on the wire transport: what recursive watches and bulk reads use of this client. */
  readonly #wire: ClientWire | undefined;

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#session.state;
  }

  /**
   * Whether requests can be sent right now: `connected`, `reconnected`, or `readOnly` (where
   * reads are served and writes fail with {@link NotReadOnlyError}).
   */
  get isConnected(): boolean {
    return this.#session.isConnected;
  }

  /** The current session id as a hex string (as in `Stat.ephemeralOwner`), once connected. */
  get sessionId(): string | undefined {
    return this.#session.sessionId;
  }

  /** The negotiated session timeout in ms once connected, else the requested one. */
  get sessionTimeout(): number {
    return this.#session.sessionTimeout;
  }

  /**
   * The transport in use (see {@link ZkClientOptions.transport}). Recipes read it to pick the
   * request that is cheapest on it, e.g. a transaction, which only the wire transport has.
   */
  get transport(): TransportKind {
    return this.#options.transport;
  }

  /** The namespace prefix in force (`''` when none). */
  get namespace(): string {
    return this.#options.namespace;
  }

  /** The error policy in force. */
  get errorPolicy(): ErrorPolicy {
    return this.#options.errorPolicy;
  }

  /**
   * The largest node data this client sends, bytes. Recipes that store caller data check it
   * when they are constructed, so that oversized data fails before any request.
   */
  get maxDataBytes(): number {
    return this.#options.maxDataBytes;
  }

  /**
   * The current session's id and password, e.g. to hand a session over to a twin handle in
   * tests. Throws {@link ConnectionLossError} when no session is established.
   */
  sessionCredentials(): { id: string; password: string } {
    return this.#session.sessionCredentials();
  }

  /**
   * A signal that aborts when the current session stops being trusted: on `suspended` under the
   * default error policy, on `lost` under `'lost'`, and on `close()`. The reason is a
   * {@link ConnectionLossError}, {@link SessionExpiredError} or {@link ClientClosedError}. A new
   * signal is issued once the client is connected again; while it is not, the signal returned
   * is already aborted.
   */
  sessionSignal(): AbortSignal {
    return this.#session.sessionSignal();
  }

  /**
   * Resolves once the client is connected (`connected` or `reconnected`); at once if it already
   * is. Rejects with {@link ClientClosedError} on close, the signal's reason on abort, and a
   * `TimeoutError` on timeout. Without a timeout it waits as long as it takes.
   */
  whenConnected(options: WaitOptions = {}): Promise<void> {
    return this.#session.whenConnected(options, `ZkClient ${this.connectString}: not connected`);
  }

  /**
   * Connects and resolves once the first session is established.
   *
   * @throws `TimeoutError` DOMException after `connectTimeout` (or `options.timeout`), the
   * signal's reason on abort, {@link SessionExpiredError} when attaching to a dead session,
   * {@link NativeBindingUnsafeError} when the native binding's sockets would leak into child
   * processes. In every failure case the client is closed.
   */
  start(options: WaitOptions = {}): Promise<void> {
    return this.#session.start(options);
  }

  /**
   * Closes the session (its ephemeral nodes are removed by the server) and the handle. Pending
   * requests and waits reject with {@link ClientClosedError}. Idempotent. The process can exit
   * once this resolves.
   */
  async close(): Promise<void> {
    await this.#session.close();
  }

  /** Same as {@link ZkClient.close}; enables `await using client = …`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Replaces the server list used from now on; a chroot in `connectString` is ignored (the
   * client keeps its own). Returns whether the session moves to another server.
   *
   * On the wire transport this is ZooKeeper's client-side rebalancing, as its Java client does
   * it: a client whose server left the list moves to another one; when servers were added, each
   * client moves to one of them with the probability that evens out the load (with `n` servers
   * before and `m` after, `1 − n/m`), so that over many clients every server ends up with about
   * `1/m` of them. A move keeps the session (same id, its ephemeral nodes and watches): the
   * client reports `suspended`, then `reconnected` once connected to the new server; requests in
   * flight fail with {@link ConnectionLossError} and are retried by the retry policy. Under the
   * default error policy, {@link ZkClient.sessionSignal} aborts on the move, as on any
   * suspension.
   *
   * On the native transport the list is only used by the next session (after `lost`): the
   * binding's own update (`set_servers`) was measured to leave the handle unable to reconnect
   * at all, so the current session stays where it is and this returns `false`.
   *
   * @throws {@link InvalidArgumentError} for a bad connect string; {@link ClientClosedError}
   */
  updateServers(connectString: string): boolean {
    this.#session.assertOpen();
    // The chroot cannot change within a session: keep ours, whatever the new string says.
    const { hosts } = parseConnectString(connectString);
    const servers = hosts.map(formatHostPort).join(',') + this.#options.chroot;
    updateExtraServers(this, servers);
    this.#session.servers = servers;
    return this.#session.transport?.updateServers?.(servers) ?? false;
  }

  /**
   * The server (`host:port`, as the connect string names it) the session is connected to right
   * now; `undefined` while not connected, and always on the native transport (the binding does
   * not say).
   */
  get server(): string | undefined {
    if (!this.isConnected) return undefined;
    return (this.#session.transport as Partial<ProtocolTransport> | undefined)?.server;
  }

  // ---------------------------------------------------------------------------------------------
  // Operations

  /**
   * Creates a node and returns its path (with the sequence suffix for sequential modes).
   *
   * A retried create of an ephemeral node that finds a node of its own session treats it as its
   * own. Sequential creates are not idempotent: a lost reply may leave a node behind; use
   * {@link ZkClient.createProtected} when that matters. The ACL (`acl`, else `defaultAcl`)
   * travels with the create on the wire transport; see {@link CreateOptions.acl} for the native
   * one.
   *
   * With `{ withStat: true }` it returns the new node's path and {@link Stat} (its `czxid`
   * ranks or fences the node) from the same request on the wire transport; the native one reads
   * the stat with a second request.
   *
   * @throws {@link NodeExistsError}, {@link NoNodeError} (parent missing and `parents` off),
   * {@link NoChildrenForEphemeralsError}, {@link NoAuthError}, {@link InvalidPathError},
   * {@link DataTooLargeError}, {@link InvalidArgumentError}
   */
  async create(
    path: string,
    data?: Data,
    options?: CreateOptions & { readonly withStat?: false },
  ): Promise<string>;
  /** Creates a node and returns its path and stat. */
  async create(
    path: string,
    data: Data | undefined,
    options: CreateOptions & { readonly withStat: true },
  ): Promise<{ path: string; stat: Stat }>;
  async create(
    path: string,
    data?: Data,
    options: CreateOptions & { readonly withStat?: boolean } = {},
  ): Promise<string | { path: string; stat: Stat }> {
    if (options.withStat) return this.#creates.createWithStat(path, data, options);
    return this.#creates.create(path, data, options);
  }

  /**
   * Starts an atomic {@link Transaction}: add `create`, `delete`, `set` and `check` operations,
   * then `commit()` them in one request. Wire transport only: on the native one `commit()`
   * rejects with {@link UnimplementedError}.
   */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /**
   * Makes sure `path` and all its ancestors exist (as persistent nodes, or containers with
   * `{ container: true }`). One request when the path already exists.
   */
  async ensurePath(
    path: string,
    options: { container?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    return this.#creates.ensurePath(path, options);
  }

  /**
   * Curator-style protected create: the node is named `_c_<uuid>-<name>` under `parentPath`. If the
   * reply is lost, the client finds the node by its uuid after reconnecting and adopts it when it
   * belongs to the current session; a node left by an earlier session is deleted and the create
   * retried. If it finally gives up, it deletes any node with that uuid in the background.
   *
   * Ephemeral-sequential nodes created this way are what every zkit recipe uses for its
   * participants; the layout is Curator's, so Curator and zkit participants sort together.
   *
   * @returns the full path of the created node
   */
  async createProtected(
    parentPath: string,
    name: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<string> {
    return this.#creates.createProtected(parentPath, name, data, options);
  }

  /**
   * Reads a node's data and stat.
   * @throws {@link NoNodeError} when it does not exist
   */
  async get(path: string, options: ReadOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    validatePath(path);
    const full = this.#exec.abs(path);
    return this.#exec.exec('get', path, options.signal, true, (t) => t.get(full, false));
  }

  /** The node's stat, or `null` when it does not exist. */
  async exists(path: string, options: ReadOptions = {}): Promise<Stat | null> {
    validatePath(path);
    const full = this.#exec.abs(path);
    return this.#exec.exec('exists', path, options.signal, true, (t) => t.exists(full, false));
  }

  /**
   * The names of a node's children, in no particular order.
   * @throws {@link NoNodeError} when the node does not exist
   */
  async getChildren(path: string, options?: ReadOptions & { withStat?: false }): Promise<string[]>;
  /** The names of a node's children and the node's stat (in one request). */
  async getChildren(
    path: string,
    options: ReadOptions & { withStat: true },
  ): Promise<{ children: string[]; stat: Stat }>;
  async getChildren(
    path: string,
    options: ReadOptions & { withStat?: boolean } = {},
  ): Promise<string[] | { children: string[]; stat: Stat }> {
    validatePath(path);
    const full = this.#exec.abs(path);
    const result = await this.#exec.exec('getChildren', path, options.signal, true, (t) =>
      t.getChildren(full, false),
    );
    return options.withStat ? result : result.children;
  }

  /**
   * Replaces a node's data; with `version`, only if the node is at that version.
   *
   * Retried after a connection loss, like every request. With a `version`, when an attempt was
   * sent and its reply lost, and a retry then fails its version check, this call cannot know
   * whether its first attempt wrote: it rejects with {@link UnknownWriteOutcomeError} (not a
   * {@link BadVersionError}), so that a read-modify-write loop never applies one change twice.
   *
   * @throws {@link NoNodeError}, {@link BadVersionError}, {@link UnknownWriteOutcomeError},
   * {@link DataTooLargeError}
   */
  async set(path: string, data: Data, options: VersionOptions = {}): Promise<Stat> {
    validatePath(path);
    // Unlike `create`, data is required: a forgotten argument must not wipe the node.
    if (data === undefined) throw new InvalidArgumentError('set needs data (use "" to clear it)');
    const buffer = this.#exec.toBuffer(data, path);
    const version = validVersion(options.version);
    const full = this.#exec.abs(path);
    this.#exec.checkFrame(setFrameBytes(this.#options.chroot + full, buffer.length), path);
    if (version === -1) {
      return this.#exec.exec('set', path, options.signal, true, (t) =>
        t.set(full, buffer, version),
      );
    }
    // The error of an earlier attempt that may have written before its reply was lost (counted
    // as for `delete`: only attempts handed to the transport, a throttled one never applied).
    let unsure: unknown;
    return this.#exec.exec('set', path, options.signal, true, async (t) => {
      try {
        return await t.set(full, buffer, version);
      } catch (error) {
        if (unsure !== undefined && error instanceof BadVersionError) {
          throw new UnknownWriteOutcomeError({ path: full, cause: unsure });
        }
        if (isRetryable(error) && !(error instanceof ThrottledError)) unsure ??= error;
        throw error;
      }
    });
  }

  /**
   * Deletes a node; with `version`, only if the node is at that version. Resolves only when this
   * call removed the node.
   *
   * Retried after a connection loss or timeout, like every request. When an attempt was sent and
   * its reply lost, and a retry then finds no node, the node is gone but this call cannot know
   * whether it removed it: it rejects with {@link UnknownOutcomeError} (a {@link NoNodeError}),
   * never resolves. Code that only wants the node gone can treat every `NoNodeError` as done;
   * code that decides ownership by a successful delete must not.
   *
   * @throws {@link NoNodeError}, {@link UnknownOutcomeError}, {@link NotEmptyError},
   * {@link BadVersionError}, connection errors when retries run out
   */
  async delete(path: string, options: VersionOptions = {}): Promise<void> {
    return this.#deletes.delete(path, options);
  }

  /**
   * Deletes a node and everything below it. A missing node is not an error. Not atomic: a
   * concurrent writer adding children can make it fail with {@link NotEmptyError}.
   */
  async deleteRecursive(path: string, options: ReadOptions = {}): Promise<void> {
    return this.#deletes.deleteRecursive(path, options);
  }

  /**
   * Deletes a node and keeps trying across reconnects until it is gone (a missing node counts as
   * done). Resolves once the node is confirmed gone. For an ephemeral node (`ephemeral: true`)
   * it also resolves when the session that owned it is lost, because the server removes it.
   * Rejects only with {@link ClientClosedError} (closed before it could be deleted) or a
   * non-retryable error such as {@link NoAuthError} or {@link NotEmptyError}.
   */
  async deleteGuaranteed(path: string, options: { ephemeral?: boolean } = {}): Promise<void> {
    return this.#deletes.deleteGuaranteed(path, options);
  }

  /** Number of callers waiting on a watch (for diagnostics and leak tests). */
  get watchCount(): number {
    return this.#watched.size;
  }

  /** Number of guaranteed deletes still pending (for diagnostics and tests). */
  get pendingDeletes(): number {
    return this.#deletes.pending;
  }

  /** Makes the server this client is connected to catch up with the leader for `path`. */
  async sync(path: string, options: ReadOptions = {}): Promise<void> {
    validatePath(path);
    const full = this.#exec.abs(path);
    await this.#exec.exec('sync', path, options.signal, true, (t) => t.sync(full));
  }

  /**
   * A node's ACL and stat, reflecting every change committed before the call.
   *
   * On the wire transport, an ordinary request of the client's session. On the native one, read
   * over the client's extra connection (the one {@link watchRecursive} uses there, opened on
   * first use and closed with the client), with the client's credentials: the native binding
   * crashes the process when an ACL read fails, so it is not asked. The wait for that connection
   * is bounded by `connectTimeout`; its connection problems never suspend this client.
   *
   * @throws {@link NoNodeError}, {@link NoAuthError}; {@link ConnectionLossError} (native: when
   * the extra connection has no server within `connectTimeout` or drops before the reply)
   */
  async getAcl(path: string, options: ReadOptions = {}): Promise<{ acl: Acl[]; stat: Stat }> {
    validatePath(path);
    const full = this.#exec.abs(path);
    if (this.#wire) {
      return this.#exec.exec('getAcl', path, options.signal, true, (t) => t.getAcl(full));
    }
    // Not retried here: the extra connection already waits for a server, bounded by
    // connectTimeout, so the whole call is bounded by it.
    return this.#exec.exec('getAcl', path, options.signal, false, () =>
      readAcl(this, path, options.signal, this.#options.connectTimeout).catch((error: unknown) => {
        // A drop of the extra connection says nothing about this client's own connection.
        if (error instanceof ZkError) notFromTransport.add(error);
        throw error;
      }),
    );
  }

  /**
   * The paths of this session's ephemeral nodes whose path starts with `prefix` (default `/`:
   * all of them), in no particular order. `prefix` is a path and matches by text, so
   * `/workers/w` finds `/workers/w-1` and `/workers/w2/x`. With a namespace, both `prefix` and
   * the paths returned are within it. One request (ZooKeeper 3.6+).
   *
   * @throws {@link InvalidPathError} before anything is sent; {@link UnimplementedError} on the
   * native transport (the binding has no such request: use the default wire transport)
   * @example
   * ```ts
   * const mine = await client.getEphemerals('/workers/');
   * ```
   */
  async getEphemerals(prefix = '/', options: ReadOptions = {}): Promise<string[]> {
    // A prefix may end with `/` (every ephemeral below a node): check it as the path before it.
    validatePath(prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    // The namespace alone would also match its siblings (`/app` matches `/app2/x`).
    const list = await this.#protocol('getEphemerals', prefix, options.signal, (t, full) =>
      t.getEphemerals(prefix === '/' && full !== '/' ? `${full}/` : full),
    );
    return list.map((p) => this.#exec.rel(p));
  }

  /**
   * How many nodes there are below `path`, at any depth (the node itself not counted). One
   * request (ZooKeeper 3.6+), answered from the server's memory without listing anything.
   *
   * @throws {@link NoNodeError}, {@link NoAuthError}, {@link InvalidPathError};
   * {@link UnimplementedError} on the native transport
   */
  async getAllChildrenNumber(path: string, options: ReadOptions = {}): Promise<number> {
    validatePath(path);
    return this.#protocol('getAllChildrenNumber', path, options.signal, (t, full) =>
      t.getAllChildrenNumber(full),
    );
  }

  /**
   * The identities the server associates with this session: one `{ scheme, user }` per
   * credential it accepted (`digest`, `sasl`, `x509`, …) and the `ip` one it adds itself.
   *
   * @throws {@link UnimplementedError} from a server before ZooKeeper 3.7 (which does not know
   * the request) and on the native transport
   */
  async whoAmI(options: ReadOptions = {}): Promise<{ scheme: string; user: string }[]> {
    return this.#protocol('whoAmI', '/', options.signal, (t) => t.whoAmI());
  }

  /** A request only the wire transport has; on the native one, a typed refusal. */
  #protocol<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    fn: (transport: ProtocolTransport, full: string) => Promise<T>,
  ): Promise<T> {
    if (!this.#wire) {
      return Promise.reject(
        new UnimplementedError({
          message: `${op} needs the wire transport (transport: 'wire', the default); the native binding has no such request`,
        }),
      );
    }
    return this.#wire.run(op, path, signal, fn);
  }

  /** Replaces a node's ACL; with `version`, only if the ACL is at that version (`aversion`). */
  async setAcl(path: string, acl: readonly Acl[], options: VersionOptions = {}): Promise<void> {
    validatePath(path);
    validateAcl(acl);
    const version = validVersion(options.version);
    const full = this.#exec.abs(path);
    this.#exec.checkFrame(setAclFrameBytes(this.#options.chroot + full, acl), path);
    await this.#exec.exec('setAcl', path, options.signal, true, (t) =>
      t.setAcl(full, version, acl),
    );
  }

  /**
   * Adds credentials to the current session and remembers them for every later session.
   * For `digest`, `credentials` is `user:password`; a wrong password is not an error here (the
   * server only denies access later, with {@link NoAuthError}).
   * @throws {@link AuthFailedError} for an unknown scheme
   */
  async addAuth(scheme: string, credentials: string): Promise<void> {
    const info = { scheme, credentials };
    validateAuth(info);
    this.#session.assertOpen();
    this.#exec.checkFrame(authFrameBytes(scheme, credentials), '');
    const session = this.#session;
    const transport = session.transport;
    try {
      await this.#exec.exec('addAuth', '', undefined, true, (t) => t.addAuth(scheme, credentials));
    } catch (error) {
      if (error instanceof AuthFailedError && transport) {
        // The server closes the session right after refusing; report the failure once the
        // client has moved on, so the caller's next request goes to the new session.
        await session
          .waitForState(() => session.transport !== transport, undefined, false)
          .catch(() => undefined);
      }
      throw error;
    }
    this.#auth.push(info);
  }

  // ---------------------------------------------------------------------------------------------
  // Watches

  /**
   * `exists` plus a data watch: `changed` settles on the node's creation, deletion or data change.
   */
  existsWatched(path: string, options: WatchedReadOptions = {}): Promise<Watched<Stat | null>> {
    return this.#watched.existsWatched(path, options);
  }

  /** `get` plus a data watch: `changed` settles on the node's deletion or data change. */
  getWatched(
    path: string,
    options: WatchedReadOptions = {},
  ): Promise<Watched<{ data: Buffer; stat: Stat }>> {
    return this.#watched.getWatched(path, options);
  }

  /**
   * `getChildren` (with the parent's stat) plus a child watch: `changed` settles when a child is
   * added or removed, or the node is deleted.
   */
  getChildrenWatched(
    path: string,
    options: WatchedReadOptions = {},
  ): Promise<Watched<{ children: string[]; stat: Stat }>> {
    return this.#watched.getChildrenWatched(path, options);
  }

  /**
   * Removes the watches of `kind` that this client's session holds on `path` (ZooKeeper's
   * `removeWatches`; the kinds follow its `WatcherType`): `data` (set by `exists` and `get`),
   * `children` (set by `getChildren`), `persistent` and `persistentRecursive` (set by
   * `addWatch`, which {@link watchRecursive} uses), or `any`. Callers waiting on a removed data
   * or child watch see their `changed` reject with an `AbortError`; a recursive watch on the
   * path stops receiving events.
   *
   * With `{ local: true }` only our side is removed, without a request, also while
   * disconnected: the waiters are released and the watches are not set again on the server after
   * a reconnect (see {@link RemoveWatchesOptions.local}).
   *
   * Wire transport only; on the native one it rejects with {@link UnimplementedError}.
   *
   * @throws {@link NoWatcherError} when the server holds no such watch on the path;
   * {@link InvalidPathError} / {@link InvalidArgumentError} for bad input, before any request
   */
  async removeWatches(
    path: string,
    kind: WatchKind,
    options: RemoveWatchesOptions = {},
  ): Promise<void> {
    validatePath(path);
    validateSignal(options.signal);
    const removal = this.#watched.removal ?? {
      registry: this.#watched.registry,
      transport: () => undefined,
      wire: false,
      exec: () => Promise.resolve(),
    };
    return removeWatches(removal, path, this.#exec.abs(path), kind, options);
  }

  /**
   * Resolves with the next event of the given type for `path` (other events re-arm the watch).
   * Rejects with {@link SessionExpiredError} when the session is lost and with the signal's
   * reason on abort. Every wake-up is a hint: re-read before acting.
   */
  async watchOnce(
    path: string,
    type: NodeEvent['type'],
    options: WaitOptions = {},
  ): Promise<NodeEvent> {
    return this.#watched.watchOnce(path, type, options);
  }

  /**
   * Resolves once `path` does not exist: at once if it is already gone, else on its deletion.
   * One request while the node exists (an `exists` with a watch). This is the predecessor watch
   * of every zkit queue-of-waiters recipe.
   *
   * @throws {@link SessionExpiredError} when the session is lost while waiting, the signal's
   * reason on abort, a `TimeoutError` on timeout
   */
  async waitForDeletion(path: string, options: WaitOptions = {}): Promise<void> {
    return this.#watched.waitForDeletion(path, options);
  }

  /**
   * The node's data, re-read after every change and after every reconnect, as an async
   * iterable. Yields `null` while the node does not exist. Survives session loss (re-arms on the
   * new session); ends when the client closes or the signal aborts. Consecutive snapshots may be
   * equal: each is a fresh read, made when the consumer asks for the next one. Leaving the loop
   * (or the signal aborting) removes the watch registration and every listener the iteration
   * added, so a loop that runs for days keeps a flat heap.
   *
   * @throws `InvalidPathError` / `InvalidArgumentError` for a bad path or signal, from the first
   *   `next()`, before any request; errors that waiting does not fix (e.g. `NoAuthError`)
   */
  watchData(path: string, options: ReadOptions = {}): AsyncIterableIterator<DataSnapshot> {
    return this.#watched.watchData(path, options);
  }

  /**
   * The node's children, re-read after every change and after every reconnect, as an async
   * iterable. Yields `null` while the node does not exist (and waits for its creation). Ends and
   * releases as {@link ZkClient.watchData} does.
   */
  watchChildren(path: string, options: ReadOptions = {}): AsyncIterableIterator<ChildrenSnapshot> {
    return this.#watched.watchChildren(path, options);
  }
}
