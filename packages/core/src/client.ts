import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { Emitter, type ListenerError } from './emitter.js';
import pRetry from 'p-retry';
import {
  CreateFlags,
  checkNativeSockets,
  loadNativeBinding,
  openNativeTransport,
  type Acl,
  type NodeEventKind,
  type Transport,
  type TransportOptions,
} from './binding.js';
import {
  WIRE_LIMITS,
  openWireTransport,
  type WireTransportOptions,
} from './wire/wire-transport.js';
import {
  AuthFailedError,
  ClientClosedError,
  ClientNotStartedError,
  ConnectionLossError,
  DataTooLargeError,
  InvalidArgumentError,
  InvalidPathError,
  NodeExistsError,
  NoNodeError,
  RequestRefusedError,
  RequestTooLargeError,
  SessionExpiredError,
  ThrottledError,
  UnknownOutcomeError,
  ZkError,
  errorFromCode,
  isRetryable,
  ChrootMissingError,
  ConnectTimeoutError,
  ZkTimeoutError,
} from './errors.js';
import { formatHostPort, parseConnectString } from './wire/host-list.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  authFrameBytes,
  createFrameBytes,
  pathFrameBytes,
  setAclFrameBytes,
  setFrameBytes,
} from './frame-size.js';
import { join, parent, validateName, validatePath } from './paths.js';
import {
  combineSignals,
  delay,
  follow,
  raceSignal,
  validateSignal,
  validateTimeout,
  waitSignal,
  type WaitOptions,
} from './signals.js';
import { protectedCreateChecks, clientAuth, clientWire, type ClientWire } from './internal.js';
import { QueuedIterator } from './queued-iterator.js';
import type { ProtocolTransport, WatchKind } from './transport.js';
import { OPEN_ACL } from './wire/records.js';
import { Transaction, transactionHosts } from './transaction.js';
import {
  releaseWatch,
  removeWatches,
  type RemoveWatchesOptions,
  type WatchRemovalHost,
} from './watch-removal.js';
import { readAcl, updateExtraServers } from './recursive-watch.js';
import type { Stat } from './stat.js';
import { WatchRegistry, publicEventType, type NodeEvent, type WatchType } from './watches.js';

/**
 * Connection states, as in Curator:
 * - `latent`: created, `start()` not yet called.
 * - `connected`: the first connection, reported once.
 * - `suspended`: the connection dropped; the session may still be alive on the server.
 * - `reconnected`: connected again, to the same session or (after `lost`) to a new one.
 * - `lost`: the session is gone (the server expired it, or the client was suspended longer than
 *   the negotiated session timeout). Its ephemeral nodes and watches are gone too. The client
 *   opens a new session at once and reports `reconnected` when it is up.
 * - `closed`: `close()` was called.
 */
export type ConnectionState =
  'latent' | 'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed';

/**
 * Which state makes {@link ZkClient.sessionSignal} abort. `'suspended'` (the default) is the safe
 * choice: a lock holder that cannot reach the server must assume someone else may hold the lock
 * soon. `'lost'` keeps going until the session is known to be gone, accepting that risk.
 */
export type ErrorPolicy = 'suspended' | 'lost';

/**
 * Node creation modes. TTL modes need `extendedTypesEnabled=true` on the server.
 *
 * @useDeclaredType
 */
export type CreateMode = keyof typeof CreateFlags;

/** Credentials added to every session, e.g. `{ scheme: 'digest', credentials: 'user:secret' }`. */
export interface AuthInfo {
  /** The authentication scheme, e.g. `'digest'`. */
  readonly scheme: string;
  /** The scheme's credentials; for `digest`, `user:password`. */
  readonly credentials: string;
}

/** Retry policy for requests that failed with connection loss, timeout or session moved. */
export interface RetryPolicy {
  /** Attempts after the first one. Default 10. */
  readonly retries?: number;
  /** Backoff before the first retry, ms. Default 20. */
  readonly minTimeout?: number;
  /** Largest backoff, ms. Default 1000. */
  readonly maxTimeout?: number;
  /** Backoff growth factor. Default 2. */
  readonly factor?: number;
  /** Randomise the backoff by ×1–2. Default true. */
  readonly randomize?: boolean;
}

/** Options of {@link ZkClient}. All are optional. */
export interface ZkClientOptions {
  /** Requested session timeout in ms; the server clamps it to [2, 20] × tickTime. Default 15000. */
  readonly sessionTimeout?: number;
  /** How long `start()` and a request wait for a connection, ms. Default 15000. */
  readonly connectTimeout?: number;
  /** Retry policy for requests. */
  readonly retry?: RetryPolicy;
  /** When {@link ZkClient.sessionSignal} aborts. Default `'suspended'`. */
  readonly errorPolicy?: ErrorPolicy;
  /**
   * A path prefix applied to every request, like a chroot that the client creates for you (as a
   * persistent node, at start and after every new session). Paths passed and returned exclude it.
   */
  readonly namespace?: string;
  /** Credentials added to every session, re-applied after a session is lost. */
  readonly auth?: readonly AuthInfo[];
  /** ACL applied to every node this client creates, unless a create names its own. */
  readonly defaultAcl?: readonly Acl[];
  /** Largest node data accepted, bytes. Default 1 MiB − 1 KiB (the server's jute.maxbuffer margin). */
  readonly maxDataBytes?: number;
  /**
   * Largest whole request the server accepts, bytes: the server's `jute.maxbuffer`. Default
   * 1,048,575 (0xfffff, the server's default). A request whose encoded size — path with chroot
   * and namespace, data, ACL and fixed fields — is larger fails at once with
   * {@link RequestTooLargeError} and is never sent: the server would drop the connection without
   * answering. Raise it only together with the servers' `jute.maxbuffer`.
   */
  readonly maxFrameBytes?: number;
  /**
   * Attach to an existing session instead of creating one. If that session has expired,
   * `start()` rejects with {@link SessionExpiredError} and the client closes: it never silently
   * starts a different session. Used by `@zkit/testing`'s `expireSession`.
   */
  readonly session?: { readonly id: string; readonly password: string };
  /**
   * How the client talks to ZooKeeper:
   * - `'wire'`: ZooKeeper's protocol spoken by core itself over `node:net`; nothing to compile.
   * - `'native'`: the C client through the `zookeeper` binding, an optional peer dependency
   *   that you install yourself (it compiles at install on Linux, and must be built with
   *   close-on-exec sockets). Without it the constructor throws
   *   {@link NativeBindingMissingError}; a build without close-on-exec makes `start()` reject
   *   with {@link NativeBindingUnsafeError}.
   *
   * Default `'wire'`, or the `ZKIT_TRANSPORT` environment variable when it is set to one of
   * the two (so that a deployment, or a test run, can switch without a code change).
   */
  readonly transport?: TransportKind;
}

/** The transports {@link ZkClientOptions.transport} selects from. */
export type TransportKind = 'wire' | 'native';

/** Typed events of {@link ZkClient}. */
export interface ZkClientEvents {
  /** The connection state changed. */
  state: [now: ConnectionState, before: ConnectionState];
  /** A new session was established (first connect, or after `lost`). */
  session: [sessionId: string, previous: string | undefined];
  /** A listener of this client threw or rejected; it changed nothing (see `Emitter`). */
  error: [error: ListenerError];
}

/** Data accepted by writes: bytes or a UTF-8 string. */
export type Data = Uint8Array | string;

/** Options of {@link ZkClient.create}. */
export interface CreateOptions {
  /** Default `'persistent'`. */
  readonly mode?: CreateMode;
  /**
   * The node's ACL (default: the client's `defaultAcl`, else world-open). The wire transport
   * sends it with the create, so the node is never open to others; the native one (whose
   * binding has no create-with-ACL) sets it right after the create, so the node is world-open
   * until then and its `aversion` is 1.
   */
  readonly acl?: readonly Acl[];
  /** Time-to-live in ms for the TTL modes (required there, rejected elsewhere). */
  readonly ttl?: number;
  /**
   * Create missing parents bottom-up, as containers or persistent nodes. Default `false`.
   * With parents, a create that fails because the server reaped a container parent in between
   * recreates the parents and tries again.
   */
  readonly parents?: 'container' | 'persistent' | false;
  /** Stops waiting for the reply; the request may still be applied by the server. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of reads. */
export interface ReadOptions {
  /** Stops waiting: the call rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of versioned writes. */
export interface VersionOptions {
  /** Expected version; -1 (default) matches any. */
  readonly version?: number;
  /** Stops waiting for the reply; the write may still be applied by the server. */
  readonly signal?: AbortSignal | undefined;
}

/** A read that also armed a watch. `changed` settles with the next event for the node. */
export interface Watched<T> {
  /** What the read returned. */
  readonly value: T;
  /**
   * The next event, a hint to re-read. Rejects with {@link SessionExpiredError} when the
   * session is lost (its watches are gone), with {@link ClientClosedError} on close, or with
   * the signal's reason when the signal given to the read aborts. Unobserved rejections are
   * harmless: the promise is pre-handled.
   */
  readonly changed: Promise<NodeEvent>;
  /**
   * Stops waiting: `changed` rejects with an `AbortError` and the client forgets the waiter.
   * On the wire transport the server's watch is removed too (one request), unless another
   * caller still waits on it or `keepServerWatch` is set; on the native one it stays until it
   * fires (the binding cannot remove it). Recipes keep a watch that is about to fire anyway
   * (a queue's child watch, a lock line's), where the request would cost more than the event.
   */
  cancel(options?: { readonly keepServerWatch?: boolean }): void;
}

/** A snapshot yielded by {@link ZkClient.watchData}; `null` while the node does not exist. */
export type DataSnapshot = { readonly data: Buffer; readonly stat: Stat } | null;

/** A snapshot yielded by {@link ZkClient.watchChildren}; `null` while the node does not exist. */
export type ChildrenSnapshot = { readonly children: string[]; readonly stat: Stat } | null;

const DEFAULTS = Object.freeze({
  sessionTimeout: 15_000,
  connectTimeout: 15_000,
  errorPolicy: 'suspended' as ErrorPolicy,
  maxDataBytes: 1024 * 1024 - 1024,
  retry: Object.freeze({
    retries: 10,
    minTimeout: 20,
    maxTimeout: 1000,
    factor: 2,
    randomize: true,
  }),
});

const ZCLOSING = -116;
/**
 * Errors of requests served over the extra connection rather than the transport: their connection
 * losses must not suspend the client.
 */
const notFromTransport = new WeakSet<ZkError>();
/** How many times the sweep after a failed protected create tries, across connection problems. */
const SWEEP_ATTEMPTS = 60;
/** Connection drops with one request in flight after which it is not sent again. */
const MAX_DROPS_PER_REQUEST = 3;
const INT32_MAX = 0x7fffffff;
const EVENT_TYPES: readonly unknown[] = ['created', 'deleted', 'dataChanged', 'childrenChanged'];
const ZINVALIDSTATE = -9;
const ZMARSHALLINGERROR = -5;
const AUTH_FAILED = -113;
const TRANSPORTS: readonly unknown[] = ['wire', 'native'];

/** The transport used when the options name none: `ZKIT_TRANSPORT` if valid, else wire. */
function defaultTransport(): TransportKind {
  const fromEnv = globalThis.process?.env?.['ZKIT_TRANSPORT'];
  return fromEnv === 'wire' || fromEnv === 'native' ? fromEnv : 'wire';
}

const stateChannel = diagnostics.channel('zkit:client:state');
const opChannel = diagnostics.channel('zkit:op');

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

const PROTECTED_PREFIX = '_c_';

/**
 * The session-aware ZooKeeper client every zkit recipe stands on. It owns one session at a time
 * over a replaceable native handle, reports Curator's connection states, retries requests that
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
  readonly #options: {
    sessionTimeout: number;
    connectTimeout: number;
    errorPolicy: ErrorPolicy;
    maxDataBytes: number;
    maxFrameBytes: number;
    chroot: string;
    retry: Required<RetryPolicy>;
    namespace: string;
    defaultAcl: readonly Acl[] | undefined;
    session: { readonly id: string; readonly password: string } | undefined;
    transport: TransportKind;
  };
  #servers: string;
  readonly #auth: AuthInfo[];
  #state: ConnectionState = 'latent';
  #transport: Transport | undefined;
  #sessionId: string | undefined;
  #negotiatedTimeout: number | undefined;
  #trust = new AbortController();
  #expiryTimer: NodeJS.Timeout | undefined;
  #watches = new WatchRegistry();
  #stateWaiters = new Set<() => void>();
  #guaranteedDeletes = new Map<string, { ephemeral: boolean }>();
  #startPromise: Promise<void> | undefined;
  /** Aborts on `close()`: ends pauses in background work. */
  readonly #closing = new AbortController();

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
    // Timers and the binding hold these as signed 32-bit integers, and so does a node's data
    // length on the wire.
    for (const name of [
      'sessionTimeout',
      'connectTimeout',
      'maxDataBytes',
      'maxFrameBytes',
    ] as const) {
      const v = options[name];
      if (v !== undefined && (!Number.isInteger(v) || v <= 0 || v > INT32_MAX)) {
        throw new InvalidArgumentError(`${name} must be an integer in [1, ${INT32_MAX}]`);
      }
    }
    if (options.errorPolicy !== undefined && !['suspended', 'lost'].includes(options.errorPolicy)) {
      throw new InvalidArgumentError(`errorPolicy must be 'suspended' or 'lost'`);
    }
    const namespace = options.namespace === undefined ? '' : validatePath(options.namespace);
    const retry = { ...DEFAULTS.retry, ...options.retry };
    for (const [k, v] of Object.entries(retry)) {
      if (k !== 'randomize' && (typeof v !== 'number' || !(v >= 0))) {
        throw new InvalidArgumentError(`retry.${k} must be a number ≥ 0`);
      }
    }
    if (!Number.isInteger(retry.retries) && retry.retries !== Number.POSITIVE_INFINITY) {
      throw new InvalidArgumentError('retry.retries must be an integer ≥ 0 or Infinity');
    }
    if (typeof retry.randomize !== 'boolean') {
      throw new InvalidArgumentError('retry.randomize must be a boolean');
    }
    for (const a of options.auth ?? []) validateAuth(a);
    // Checked here rather than at the first create, which would already have written the node.
    if (options.defaultAcl !== undefined) validateAcl(options.defaultAcl);
    if (options.session !== undefined) validateSession(options.session);
    if (options.transport !== undefined && !TRANSPORTS.includes(options.transport)) {
      throw new InvalidArgumentError(`transport must be 'wire' or 'native'`);
    }
    this.connectString = connectString;
    // Normalised (ports filled in): the native client has no default port.
    this.#servers = hosts.map(formatHostPort).join(',') + chroot;
    this.#auth = [...(options.auth ?? [])];
    clientAuth.set(this, this.#auth);
    protectedCreateChecks.set(this, (parentPath, name, data, options) => {
      this.#checkProtected(parentPath, name, data as Data | undefined, options);
    });
    this.#options = {
      sessionTimeout: options.sessionTimeout ?? DEFAULTS.sessionTimeout,
      connectTimeout: options.connectTimeout ?? DEFAULTS.connectTimeout,
      errorPolicy: options.errorPolicy ?? DEFAULTS.errorPolicy,
      maxDataBytes: options.maxDataBytes ?? DEFAULTS.maxDataBytes,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      chroot,
      retry,
      namespace: namespace === '/' ? '' : namespace,
      defaultAcl: options.defaultAcl,
      session: options.session,
      transport: options.transport ?? defaultTransport(),
    };
    // Here rather than at start(): the failure points at the line that chose the transport
    // (or at the client an environment variable switched), and nothing has started yet.
    if (this.#options.transport === 'native') loadNativeBinding();
    for (const a of this.#auth) this.#checkFrame(authFrameBytes(a.scheme, a.credentials), '');
    this.#trust.abort(new ClientNotStartedError());
    if (this.#options.transport === 'wire') {
      this.#wire = {
        run: (op, path, signal, fn) => {
          const full = this.#abs(path);
          return this.#exec(op, path, signal, true, (t) => fn(t as ProtocolTransport, full));
        },
        transport: () => this.#transport as ProtocolTransport | undefined,
        tap: undefined,
      };
      clientWire.set(this, this.#wire);
    }
    transactionHosts.set(this, {
      abs: (path) => this.#abs(path),
      rel: (path) => this.#rel(path),
      chroot,
      toBuffer: (data, path) => this.#toBuffer(data as Data | undefined, path),
      validateCreate: (path, mode, options) => this.#validateCreate(path, mode, options),
      checkFrame: (size, path) => this.#checkFrame(size, path),
      defaultAcl: this.#options.defaultAcl,
      exec: (op, path, signal, retry, fn) => this.#exec(op, path, signal, retry, fn),
      whenConnected: (signal) => this.#waitForState(() => this.isConnected, signal, false),
      sessionId: () => this.#sessionId,
      wire: this.#wire !== undefined,
      retries: this.#options.retry.retries,
      getChildren: (path, signal) => this.getChildren(path, signal ? { signal } : {}),
      ensurePath: (path, container, signal) =>
        this.ensurePath(path, { container, ...(signal ? { signal } : {}) }),
      deleteGuaranteed: (path) => void this.deleteGuaranteed(path).catch(() => undefined),
    });
    this.#removalHost = {
      registry: this.#watches,
      transport: () =>
        this.#wire ? (this.#transport as ProtocolTransport | undefined) : undefined,
      wire: this.#wire !== undefined,
      exec: (path, signal, fn) => this.#exec('removeWatches', path, signal, true, fn),
    };
  }

  /** Set on the wire transport: what recursive watches and bulk reads use of this client. */
  readonly #wire: ClientWire | undefined;
  /** What watch removal uses of this client. */
  readonly #removalHost: WatchRemovalHost;

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Whether requests can be sent right now. */
  get isConnected(): boolean {
    return this.#state === 'connected' || this.#state === 'reconnected';
  }

  /** The current session id as a hex string (as in `Stat.ephemeralOwner`), once connected. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** The negotiated session timeout in ms once connected, else the requested one. */
  get sessionTimeout(): number {
    return this.#negotiatedTimeout ?? this.#options.sessionTimeout;
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
    const t = this.#transport;
    if (!t || this.#sessionId === undefined) {
      throw new ConnectionLossError({ cause: 'no session established' });
    }
    return { id: t.sessionId, password: t.sessionPassword };
  }

  /**
   * A signal that aborts when the current session stops being trusted: on `suspended` under the
   * default error policy, on `lost` under `'lost'`, and on `close()`. The reason is a
   * {@link ConnectionLossError}, {@link SessionExpiredError} or {@link ClientClosedError}. A new
   * signal is issued once the client is connected again; while it is not, the signal returned
   * is already aborted.
   */
  sessionSignal(): AbortSignal {
    return this.#trust.signal;
  }

  /**
   * Resolves once the client is connected (`connected` or `reconnected`); at once if it already
   * is. Rejects with {@link ClientClosedError} on close, the signal's reason on abort, and a
   * `TimeoutError` on timeout. Without a timeout it waits as long as it takes.
   */
  whenConnected(options: WaitOptions = {}): Promise<void> {
    const signal = waitSignal(`ZkClient ${this.connectString}: not connected`, options);
    if (this.isConnected) return Promise.resolve();
    return this.#waitForState(() => this.isConnected, signal, false, false);
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
    validateTimeout(options.timeout);
    if (this.#state === 'closed') return Promise.reject(new ClientClosedError());
    if (this.#startPromise) return this.#startPromise;
    const timeout = options.timeout ?? this.#options.connectTimeout;
    const signal = combineSignals({ signal: options.signal, timeout });
    // Keeps the process alive while it waits: a program whose only work is this start() must
    // see it settle (the native client's threads do not hold the event loop open).
    const alive = setInterval(() => undefined, 60_000);
    this.#startPromise = (async () => {
      const native = this.#options.transport === 'native';
      try {
        if (native) checkNativeSockets(false);
        this.#openTransport(this.#options.session);
        await this.#waitForState(() => this.isConnected, signal, true);
        // Connected: the binding's socket is open, so whether it is close-on-exec can be seen.
        if (native) checkNativeSockets(true);
        await this.#prepareSession();
      } catch (error) {
        const failures = this.#transport?.connectFailures?.();
        await this.close();
        if (!isTimeout(error)) throw error;
        throw new ConnectTimeoutError(
          timeout,
          failures ??
            parseConnectString(this.#servers).hosts.map((h) => ({
              server: formatHostPort(h),
              error: undefined,
            })),
        );
      } finally {
        clearInterval(alive);
      }
    })();
    return this.#startPromise;
  }

  /**
   * Closes the session (its ephemeral nodes are removed by the server) and the handle. Pending
   * requests and waits reject with {@link ClientClosedError}. Idempotent. The process can exit
   * once this resolves.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const transport = this.#transport;
    this.#transport = undefined;
    this.#clearExpiryTimer();
    this.#setState('closed');
    this.#closing.abort(new ClientClosedError());
    this.#guaranteedDeletes.clear();
    this.#watches.rejectAll(new ClientClosedError());
    await transport?.close();
  }

  /** Same as {@link ZkClient.close}; enables `await using client = …`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Replaces the server list used from now on; a chroot in `connectString` is ignored (the
   * client keeps its own). The current session stays on its connection, and the next handle the
   * client opens (after `lost`) connects through the new list.
   *
   * The native binding's own server-list update (`set_servers`) was measured to leave the handle
   * unable to reconnect at all, so it is not used: moving a live session to new servers would
   * need a handle the binding does not provide. To move at once, close and start a new client.
   */
  updateServers(connectString: string): void {
    this.#assertOpen();
    // The chroot cannot change within a session: keep ours, whatever the new string says.
    const { hosts } = parseConnectString(connectString);
    const servers = hosts.map(formatHostPort).join(',') + this.#options.chroot;
    updateExtraServers(this, servers);
    this.#servers = servers;
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
    validatePath(path);
    const mode = options.mode ?? 'persistent';
    const buffer = this.#toBuffer(data, path);
    this.#validateCreate(path, mode, options);
    if (!options.withStat) return this.#create(path, buffer, mode, options, true);
    let stat: Stat | undefined;
    const created = await this.#create(path, buffer, mode, options, true, false, (s) => {
      stat = s;
    });
    stat ??= (await this.exists(created, { signal: options.signal })) ?? undefined;
    // Deleted by someone else before its stat could be read (native transport only).
    if (stat === undefined) throw new NoNodeError({ path: created });
    return { path: created, stat };
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
   * @param retry - retry on connection loss. Off for protected creates, whose retry must look for
   *   the node by its uuid first.
   * @param absolute - `path` already includes the namespace (used to create the namespace itself)
   */
  async #create(
    path: string,
    buffer: Buffer,
    mode: CreateMode,
    options: CreateOptions,
    retry: boolean,
    absolute = false,
    onStat?: (stat: Stat) => void,
  ): Promise<string> {
    const flags = CreateFlags[mode];
    const full = absolute ? path : this.#abs(path);
    const ttl = options.ttl;
    const acl = options.acl ?? this.#options.defaultAcl;
    this.#checkFrame(
      createFrameBytes(
        this.#options.chroot + full,
        buffer.length,
        options.acl ?? this.#options.defaultAcl,
        ttl !== undefined,
      ),
      path,
    );
    // The NoNode rule: a container parent may be reaped between our steps; recreate and retry.
    for (let round = 0; ; round++) {
      try {
        let attempt = 0;
        const created = await this.#exec('create', path, options.signal, retry, async (t) => {
          attempt++;
          try {
            if (this.#wire) {
              // The ACL goes with the create: no moment in which the node is open to others.
              const r = await (t as ProtocolTransport).createWithStat(
                full,
                buffer,
                flags,
                ttl,
                acl ?? OPEN_ACL,
              );
              onStat?.(r.stat);
              return r.path;
            }
            return await t.create(full, buffer, flags, ttl);
          } catch (error) {
            if (attempt > 1 && mode === 'ephemeral' && error instanceof NodeExistsError) {
              // Our first attempt may have landed before the connection dropped.
              const stat = await t.exists(full, false);
              if (stat && stat.ephemeralOwner === t.sessionId) {
                if (!acl || this.#wire) onStat?.(stat);
                return full;
              }
            }
            throw error;
          }
        });
        const relative = absolute ? created : this.#rel(created);
        // The binding has no create-with-ACL: the ACL follows the create.
        if (acl && !this.#wire) await this.setAcl(relative, acl, { signal: options.signal });
        return relative;
      } catch (error) {
        // The root always exists, so "no node" for a node right under it means the chroot is
        // missing: say so, rather than blame the node's parent.
        if (
          error instanceof NoNodeError &&
          !(error instanceof ChrootMissingError) &&
          this.#options.chroot !== '' &&
          parent(full) === '/'
        ) {
          throw new ChrootMissingError(this.#options.chroot, { path, cause: error });
        }
        if (!(error instanceof NoNodeError) || !options.parents || round >= 5 || path === '/') {
          throw error;
        }
        await this.#createParents(parent(path), options.parents, options.signal, absolute);
      }
    }
  }

  async #createParents(
    path: string,
    mode: 'container' | 'persistent',
    signal: AbortSignal | undefined,
    absolute: boolean,
  ) {
    if (path === '/' || path === '') return;
    const empty = Buffer.alloc(0);
    const opts = signal ? { signal } : {};
    // Bottom-up: usually only the nearest parent is missing.
    const missing: string[] = [];
    let current = path;
    for (;;) {
      try {
        await this.#create(current, empty, mode, opts, true, absolute);
        break;
      } catch (error) {
        if (error instanceof NodeExistsError) break;
        if (!(error instanceof NoNodeError)) throw error;
        missing.push(current);
        current = parent(current);
        if (current === '/') throw error;
      }
    }
    for (const p of missing.reverse()) {
      try {
        await this.#create(p, empty, mode, opts, true, absolute);
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
    }
  }

  /**
   * Makes sure `path` and all its ancestors exist (as persistent nodes, or containers with
   * `{ container: true }`). One request when the path already exists.
   */
  async ensurePath(
    path: string,
    options: { container?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    validatePath(path);
    if (path === '/') return;
    const mode = options.container ? 'container' : 'persistent';
    try {
      await this.#ensure(path, mode, options.signal, false);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  async #ensure(
    path: string,
    mode: 'container' | 'persistent',
    signal: AbortSignal | undefined,
    absolute: boolean,
  ) {
    try {
      await this.#create(
        path,
        Buffer.alloc(0),
        mode,
        { parents: mode, ...(signal ? { signal } : {}) },
        true,
        absolute,
      );
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
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
    const { mode, buffer, prefix, target } = this.#checkProtected(parentPath, name, data, options);
    const retries = this.#options.retry.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        // One attempt at a time: the retry below is uuid-aware, a blind one is not.
        return await this.#create(target, buffer, mode, options, false);
      } catch (error) {
        if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
        if (attempt >= retries) {
          this.#deleteByPrefixInBackground(parentPath, prefix);
          throw error;
        }
        await this.#waitForState(() => this.isConnected, options.signal, false);
        const found = await this.#findProtected(parentPath, prefix, mode, options.signal);
        if (found) return found;
      }
    }
  }

  /** Everything a protected create checks before its first request; throws what it would. */
  #checkProtected(
    parentPath: string,
    name: string,
    data: Data | undefined,
    options: CreateOptions,
  ) {
    validatePath(parentPath);
    validateName(name);
    const mode = options.mode ?? 'ephemeralSequential';
    const buffer = this.#toBuffer(data, parentPath);
    this.#validateCreate(join(parentPath, name), mode, options);
    const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
    const target = join(parentPath, prefix + name);
    // The frame as sent: the sequence suffix is added by the server, not carried in the request.
    this.#checkFrame(
      createFrameBytes(
        this.#options.chroot + this.#abs(target),
        buffer.length,
        options.acl ?? this.#options.defaultAcl,
        options.ttl !== undefined,
      ),
      target,
    );
    return { mode, buffer, prefix, target };
  }

  async #findProtected(
    parentPath: string,
    prefix: string,
    mode: CreateMode,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    let children: string[];
    try {
      children = await this.getChildren(parentPath, signal ? { signal } : {});
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    const name = children.find((c) => c.startsWith(prefix));
    if (name === undefined) return undefined;
    const path = join(parentPath, name);
    if (mode !== 'ephemeral' && mode !== 'ephemeralSequential') return path;
    const stat = await this.exists(path, signal ? { signal } : {});
    if (stat && stat.ephemeralOwner === this.#sessionId) return path;
    // Left by a session we no longer own: remove it, then create afresh.
    if (stat) await this.deleteGuaranteed(path);
    return undefined;
  }

  /**
   * After a protected create gave up, removes whatever node of that uuid landed. Only a
   * connection problem is worth another try, after a pause; any other failure (the parent gone,
   * no permission to list it, the client closed) ends the sweep, since trying again would fail
   * the same way.
   */
  #deleteByPrefixInBackground(parentPath: string, prefix: string): void {
    const sweep = async () => {
      const { minTimeout, maxTimeout, factor } = this.#options.retry;
      for (let i = 0; i < SWEEP_ATTEMPTS && this.#state !== 'closed'; i++) {
        try {
          await this.#waitForState(() => this.isConnected, undefined, false, false);
          const children = await this.getChildren(parentPath);
          for (const c of children.filter((n) => n.startsWith(prefix))) {
            await this.deleteGuaranteed(join(parentPath, c));
          }
          return;
        } catch (error) {
          if (!isRetryable(error) && !(error instanceof SessionExpiredError)) return;
          await delay(Math.min(maxTimeout, minTimeout * factor ** i), this.#closing.signal);
        }
      }
    };
    void sweep().catch(() => undefined);
  }

  /**
   * Reads a node's data and stat.
   * @throws {@link NoNodeError} when it does not exist
   */
  async get(path: string, options: ReadOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    validatePath(path);
    const full = this.#abs(path);
    return this.#exec('get', path, options.signal, true, (t) => t.get(full, false));
  }

  /** The node's stat, or `null` when it does not exist. */
  async exists(path: string, options: ReadOptions = {}): Promise<Stat | null> {
    validatePath(path);
    const full = this.#abs(path);
    return this.#exec('exists', path, options.signal, true, (t) => t.exists(full, false));
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
    const full = this.#abs(path);
    const result = await this.#exec('getChildren', path, options.signal, true, (t) =>
      t.getChildren(full, false),
    );
    return options.withStat ? result : result.children;
  }

  /**
   * Replaces a node's data; with `version`, only if the node is at that version.
   * @throws {@link NoNodeError}, {@link BadVersionError}, {@link DataTooLargeError}
   */
  async set(path: string, data: Data, options: VersionOptions = {}): Promise<Stat> {
    validatePath(path);
    // Unlike `create`, data is required: a forgotten argument must not wipe the node.
    if (data === undefined) throw new InvalidArgumentError('set needs data (use "" to clear it)');
    const buffer = this.#toBuffer(data, path);
    const version = validVersion(options.version);
    const full = this.#abs(path);
    this.#checkFrame(setFrameBytes(this.#options.chroot + full, buffer.length), path);
    return this.#exec('set', path, options.signal, true, (t) => t.set(full, buffer, version));
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
    validatePath(path);
    const version = validVersion(options.version);
    const full = this.#abs(path);
    // The error of an earlier attempt that may have removed the node before its reply was lost.
    // Only attempts handed to the transport count: one that found no connection within
    // connectTimeout never left the client. The native client queues a request made while it is
    // reconnecting and sends it once a connection is up, so a request that failed with a
    // connection loss may have reached the server whatever the state when it was made. A
    // throttled request was refused before it was applied.
    let unsure: unknown;
    await this.#exec('delete', path, options.signal, true, async (t) => {
      try {
        await t.delete(full, version);
      } catch (error) {
        if (unsure !== undefined && error instanceof NoNodeError) {
          throw new UnknownOutcomeError({ path: full, cause: unsure });
        }
        if (isRetryable(error) && !(error instanceof ThrottledError)) unsure ??= error;
        throw error;
      }
    });
  }

  /**
   * Deletes a node and everything below it. A missing node is not an error. Not atomic: a
   * concurrent writer adding children can make it fail with {@link NotEmptyError}.
   */
  async deleteRecursive(path: string, options: ReadOptions = {}): Promise<void> {
    validatePath(path);
    if (path === '/') throw new InvalidPathError(path, 'refusing to delete the root');
    let children: string[];
    try {
      children = await this.getChildren(path, options);
    } catch (error) {
      if (error instanceof NoNodeError) return;
      throw error;
    }
    await Promise.all(children.map((c) => this.deleteRecursive(join(path, c), options)));
    try {
      await this.delete(path, options);
    } catch (error) {
      // Gone either way, by this call or another (UnknownOutcomeError is a NoNodeError).
      if (!(error instanceof NoNodeError)) throw error;
    }
  }

  /**
   * Deletes a node and keeps trying across reconnects until it is gone (a missing node counts as
   * done). Resolves once the node is confirmed gone. For an ephemeral node (`ephemeral: true`)
   * it also resolves when the session that owned it is lost, because the server removes it.
   * Rejects only with {@link ClientClosedError} (closed before it could be deleted) or a
   * non-retryable error such as {@link NoAuthError} or {@link NotEmptyError}.
   */
  async deleteGuaranteed(path: string, options: { ephemeral?: boolean } = {}): Promise<void> {
    validatePath(path);
    const ephemeral = options.ephemeral ?? false;
    this.#guaranteedDeletes.set(path, { ephemeral });
    const sessionAtStart = this.#sessionId;
    // An ephemeral node dies with its session: once that session is lost there is nothing to do.
    const sessionGone = () =>
      ephemeral && (this.#state === 'lost' || this.#sessionId !== sessionAtStart);
    // Abandon a request still waiting for a connection as soon as the session is lost.
    const abandon = new AbortController();
    const onState = () => {
      if (sessionGone()) abandon.abort(new SessionExpiredError({ path }));
    };
    if (ephemeral) this.on('state', onState);
    try {
      for (;;) {
        if (this.#state === 'closed') throw new ClientClosedError({ path });
        if (sessionGone()) return;
        try {
          await this.delete(path, ephemeral ? { signal: abandon.signal } : {});
          return;
        } catch (error) {
          if (sessionGone()) return;
          // Gone is done, whoever removed it (UnknownOutcomeError is a NoNodeError).
          if (error instanceof NoNodeError) return;
          if (error instanceof SessionExpiredError && ephemeral) return;
          if (!isRetryable(error) && !(error instanceof SessionExpiredError)) throw error;
          // However long the outage: only close ends the wait.
          await this.#waitForState(
            () => this.isConnected || sessionGone(),
            undefined,
            false,
            false,
          );
        }
      }
    } finally {
      this.off('state', onState);
      this.#guaranteedDeletes.delete(path);
    }
  }

  /** Number of callers waiting on a watch (for diagnostics and leak tests). */
  get watchCount(): number {
    return this.#watches.size;
  }

  /** Number of guaranteed deletes still pending (for diagnostics and tests). */
  get pendingDeletes(): number {
    return this.#guaranteedDeletes.size;
  }

  /** Makes the server this client is connected to catch up with the leader for `path`. */
  async sync(path: string, options: ReadOptions = {}): Promise<void> {
    validatePath(path);
    const full = this.#abs(path);
    await this.#exec('sync', path, options.signal, true, (t) => t.sync(full));
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
    const full = this.#abs(path);
    if (this.#wire) {
      return this.#exec('getAcl', path, options.signal, true, (t) => t.getAcl(full));
    }
    // Not retried here: the extra connection already waits for a server, bounded by
    // connectTimeout, so the whole call is bounded by it.
    return this.#exec('getAcl', path, options.signal, false, () =>
      readAcl(this, path, options.signal, this.#options.connectTimeout).catch((error: unknown) => {
        // A drop of the extra connection says nothing about this client's own connection.
        if (error instanceof ZkError) notFromTransport.add(error);
        throw error;
      }),
    );
  }

  /** Replaces a node's ACL; with `version`, only if the ACL is at that version (`aversion`). */
  async setAcl(path: string, acl: readonly Acl[], options: VersionOptions = {}): Promise<void> {
    validatePath(path);
    validateAcl(acl);
    const version = validVersion(options.version);
    const full = this.#abs(path);
    this.#checkFrame(setAclFrameBytes(this.#options.chroot + full, acl), path);
    await this.#exec('setAcl', path, options.signal, true, (t) => t.setAcl(full, version, acl));
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
    this.#assertOpen();
    this.#checkFrame(authFrameBytes(scheme, credentials), '');
    const transport = this.#transport;
    try {
      await this.#exec('addAuth', '', undefined, true, (t) => t.addAuth(scheme, credentials));
    } catch (error) {
      if (error instanceof AuthFailedError && transport) {
        // The server closes the session right after refusing; report the failure once the
        // client has moved on, so the caller's next request goes to the new session.
        await this.#waitForState(() => this.#transport !== transport, undefined, false).catch(
          () => undefined,
        );
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
  existsWatched(path: string, options: ReadOptions = {}): Promise<Watched<Stat | null>> {
    validatePath(path);
    return this.#watched(path, 'data', options.signal, 'exists', (t, full) => t.exists(full, true));
  }

  /** `get` plus a data watch: `changed` settles on the node's deletion or data change. */
  getWatched(
    path: string,
    options: ReadOptions = {},
  ): Promise<Watched<{ data: Buffer; stat: Stat }>> {
    validatePath(path);
    return this.#watched(path, 'data', options.signal, 'get', (t, full) => t.get(full, true));
  }

  /**
   * `getChildren` (with the parent's stat) plus a child watch: `changed` settles when a child is
   * added or removed, or the node is deleted.
   */
  getChildrenWatched(
    path: string,
    options: ReadOptions = {},
  ): Promise<Watched<{ children: string[]; stat: Stat }>> {
    validatePath(path);
    return this.#watched(path, 'child', options.signal, 'getChildren', (t, full) =>
      t.getChildren(full, true),
    );
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
    return removeWatches(this.#removalHost, path, this.#abs(path), kind, options);
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
    validatePath(path);
    if (!EVENT_TYPES.includes(type)) {
      throw new InvalidArgumentError(`unknown event type ${String(type)}`);
    }
    const signal = combineSignals(options);
    const opts = signal ? { signal } : {};
    // Returns the watched stat, and whether the node was missing at some point of the read.
    const read = async (): Promise<[Watched<Stat | null>, boolean]> => {
      if (type !== 'childrenChanged') return [await this.existsWatched(path, opts), false];
      let wasMissing = false;
      for (;;) {
        try {
          const w = await this.getChildrenWatched(path, opts);
          return [{ value: w.value.stat, changed: w.changed, cancel: w.cancel }, wasMissing];
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
        wasMissing = true;
        const ex = await this.existsWatched(path, opts);
        if (ex.value === null) return [ex, true];
        // Created in between: list again, so that a child watch is armed.
        ex.cancel();
      }
    };
    // Events between a firing and the re-arm are not delivered, so each re-read is compared
    // with the first one: a change of the awaited kind counts even if its event was missed.
    let baseline: Stat | null | undefined;
    for (;;) {
      const [watched, wasMissing] = await read();
      if (baseline === undefined) baseline = wasMissing ? null : watched.value;
      if (baseline !== watched.value && happened(type, baseline, watched.value)) {
        watched.cancel();
        return { type, path };
      }
      const event = await watched.changed;
      if (event.type === type) return event;
    }
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
    validatePath(path);
    const signal = combineSignals(options);
    for (;;) {
      const watched = await this.existsWatched(path, signal ? { signal } : {});
      if (watched.value === null) {
        watched.cancel();
        return;
      }
      const event = await watched.changed;
      if (event.type === 'deleted') return;
    }
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
    return this.#watchLoop(path, options.signal, async (signal) => {
      const ex = await this.existsWatched(path, { signal });
      if (ex.value === null) return { value: null, changed: ex.changed, cancel: ex.cancel };
      try {
        const got = await this.getWatched(path, { signal });
        ex.cancel();
        return got;
      } catch (error) {
        if (error instanceof NoNodeError)
          return { value: null, changed: ex.changed, cancel: ex.cancel };
        ex.cancel();
        throw error;
      }
    });
  }

  /**
   * The node's children, re-read after every change and after every reconnect, as an async
   * iterable. Yields `null` while the node does not exist (and waits for its creation). Ends and
   * releases as {@link ZkClient.watchData} does.
   */
  watchChildren(path: string, options: ReadOptions = {}): AsyncIterableIterator<ChildrenSnapshot> {
    return this.#watchLoop(path, options.signal, async (signal) => {
      try {
        return await this.getChildrenWatched(path, { signal });
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        const ex = await this.existsWatched(path, { signal });
        if (ex.value !== null) {
          ex.cancel();
          return { value: null, changed: Promise.resolve(created(path)), cancel: () => undefined };
        }
        return { value: null, changed: ex.changed, cancel: ex.cancel };
      }
    });
  }

  #watchLoop<T>(
    path: string,
    userSignal: AbortSignal | undefined,
    read: (signal: AbortSignal) => Promise<Watched<T>>,
  ): QueuedIterator<T> {
    return new QueuedIterator<T>(
      async (it) => {
        // Checked on the first pull, as the generators these loops once were did.
        validatePath(path);
        validateSignal(userSignal);
        // A reconnect (same or new session) is a reason to re-read: changes may have been missed.
        let wake: (() => void) | undefined;
        const onState = (now: ConnectionState) => {
          if (now === 'reconnected') wake?.();
        };
        this.on('state', onState);
        try {
          while (!it.signal.aborted && this.#state !== 'closed') {
            // Each turn's reads hang off a signal of their own that dies with the turn, so the
            // iteration's signal gains nothing per snapshot.
            const turn = new AbortController();
            const endTurn = () => turn.abort(it.signal.reason);
            it.signal.addEventListener('abort', endTurn, { once: true });
            try {
              let watched: Watched<T>;
              try {
                watched = await read(turn.signal);
              } catch (error) {
                if (it.signal.aborted || error instanceof ClientClosedError) return;
                if (isRetryable(error) || error instanceof SessionExpiredError) {
                  await this.#waitForState(() => this.isConnected, it.signal, false).catch(
                    () => undefined,
                  );
                  continue;
                }
                throw error;
              }
              try {
                it.push(watched.value);
                // The next read is made when the consumer asks for it, so it sees fresh state.
                if (!(await it.wanted())) return;
                await it.until(
                  new Promise<void>((resolve) => {
                    wake = resolve;
                    watched.changed.then(
                      () => resolve(),
                      () => resolve(),
                    );
                  }),
                );
              } finally {
                wake = undefined;
                watched.cancel();
              }
              if (!this.isConnected && this.state !== 'closed') {
                await this.#waitForState(() => this.isConnected, it.signal, false).catch(
                  () => undefined,
                );
              }
            } finally {
              it.signal.removeEventListener('abort', endTurn);
              turn.abort();
            }
          }
        } finally {
          this.off('state', onState);
        }
      },
      userSignal instanceof AbortSignal ? { signal: userSignal } : {},
    );
  }

  async #watched<T>(
    path: string,
    type: WatchType,
    signal: AbortSignal | undefined,
    op: string,
    read: (t: Transport, full: string) => Promise<T>,
  ): Promise<Watched<T>> {
    const full = this.#abs(path);
    // Register before the read so an event racing the reply is not missed.
    const registration = this.#watches.add(full, type);
    let value: T;
    try {
      value = await this.#exec(op, path, signal, true, (t) => read(t, full));
    } catch (error) {
      registration.remove();
      throw error;
    }
    const { promise, remove } = registration;
    // Linked to `signal` only until the watch settles: a cache's or a queue's lifetime signal
    // sees a watch of theirs every few requests, and must not keep anything of each.
    const cancelled = new AbortController();
    const unlink = signal ? follow(signal, cancelled) : () => undefined;
    const changed = raceSignal(promise, cancelled.signal).then(
      (kind: NodeEventKind) => {
        unlink();
        return { type: publicEventType(kind), path };
      },
      (error: unknown) => {
        unlink();
        remove();
        if (!keepServerWatch) releaseWatch(this.#removalHost, full, type);
        throw error;
      },
    );
    changed.catch(() => undefined);
    let keepServerWatch = false;
    const cancel = (options?: { readonly keepServerWatch?: boolean }) => {
      if (cancelled.signal.aborted) return;
      keepServerWatch = options?.keepServerWatch === true;
      cancelled.abort(new DOMException('watch cancelled', 'AbortError'));
    };
    return { value, changed, cancel };
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: session life cycle

  #openTransport(session?: { id: string; password: string }): void {
    const maxFrame = this.#options.maxFrameBytes;
    const options: TransportOptions & WireTransportOptions = {
      connectString: this.#servers,
      sessionTimeout: this.#options.sessionTimeout,
      session,
      // The wire transport checks every frame it writes against the same limit as the client.
      limits: { outgoing: maxFrame, incoming: Math.max(WIRE_LIMITS.incoming, maxFrame) },
    };
    let transport: Transport | undefined = undefined;
    const isCurrent = () => transport !== undefined && this.#transport === transport;
    const open = this.#options.transport === 'wire' ? openWireTransport : openNativeTransport;
    transport = open(options, {
      connected: () => {
        if (isCurrent()) this.#onConnected(transport as Transport);
      },
      disconnected: () => {
        if (isCurrent()) this.#onSuspect();
      },
      closed: (code) => {
        if (isCurrent()) this.#onClosed(code);
      },
      node: (kind, path) => {
        if (!isCurrent()) return;
        this.#watches.dispatch(kind, path);
        this.#wire?.tap?.(kind, path);
      },
    });
    this.#transport = transport;
    // Credentials queued before the handshake are sent with it, and re-sent by the transport on
    // every reconnect of this session.
    for (const a of this.#auth) {
      transport.addAuth(a.scheme, a.credentials).catch(() => undefined);
    }
  }

  #onConnected(transport: Transport): void {
    this.#clearExpiryTimer();
    const id = transport.sessionId;
    this.#negotiatedTimeout = transport.negotiatedTimeout;
    const previous = this.#sessionId;
    const newSession = id !== previous;
    this.#sessionId = id;
    if (this.#state === 'latent') {
      this.#trust = new AbortController();
      this.#setState('connected');
      this.emit('session', id, previous);
      return;
    }
    if (this.isConnected) return; // a reconnect the handle never announced as a drop
    // Same session and still trusted (the 'lost' policy): keep the signal holders already have,
    // so a later loss still reaches them.
    if (this.#trust.signal.aborted) this.#trust = new AbortController();
    this.#setState('reconnected');
    if (newSession) {
      this.emit('session', id, previous);
      void this.#prepareSession().catch(() => undefined);
    }
  }

  /** A drop (announced or inferred from a connection-loss reply). */
  #onSuspect(): void {
    if (!this.isConnected) return;
    this.#setState('suspended');
    if (this.#options.errorPolicy === 'suspended') {
      this.#trust.abort(new ConnectionLossError({ cause: 'connection suspended' }));
    }
    // Client-side expiry: past the session timeout the server may have expired us already and
    // we cannot hear it, so we stop trusting the session.
    const timeout = this.#negotiatedTimeout ?? this.#options.sessionTimeout;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      if (this.#state === 'suspended') this.#onLost();
    }, timeout);
    this.#expiryTimer.unref();
    // The handle does not always announce a reconnect that follows a drop it never announced
    // either (it skips the drop event when a request was written to a dead socket), so look at
    // its state while suspended.
    const transport = this.#transport;
    const poll = setInterval(() => {
      if (this.#state !== 'suspended' || this.#transport !== transport) clearInterval(poll);
      else if (transport?.connected) this.#onConnected(transport);
    }, 250);
    poll.unref();
  }

  #onClosed(code: number): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'latent' && this.#options.session) {
      // Attaching to a given session that no longer exists: report it, never replace it.
      this.#startFailure = code === AUTH_FAILED ? errorFromCode(-115) : new SessionExpiredError();
      this.#notifyStateWaiters();
      return;
    }
    this.#onLost();
  }

  #startFailure: Error | undefined;

  #onLost(): void {
    if (this.#state === 'closed' || this.#state === 'lost') return;
    this.#clearExpiryTimer();
    const old = this.#transport;
    this.#transport = undefined;
    const error = new SessionExpiredError();
    this.#trust.abort(error);
    this.#setState('lost');
    this.#watches.rejectAll(error);
    old?.close();
    // The old session's ephemerals are gone; guaranteed deletes of them are moot.
    for (const [path, { ephemeral }] of this.#guaranteedDeletes) {
      if (ephemeral) this.#guaranteedDeletes.delete(path);
    }
    // A listener may have closed the client in the meantime.
    if (this.state === 'lost') this.#openTransport();
  }

  /** Per-session preparation: the namespace node. */
  async #prepareSession(): Promise<void> {
    const ns = this.#options.namespace;
    if (ns === '') return;
    try {
      await this.#ensure(ns, 'persistent', undefined, true);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  #setState(now: ConnectionState): void {
    const before = this.#state;
    if (before === now) return;
    this.#state = now;
    if (now === 'closed') {
      this.#trust.abort(new ClientClosedError());
    }
    if (stateChannel.hasSubscribers) {
      stateChannel.publish({
        client: this,
        now,
        before,
        sessionId: this.#sessionId,
      } satisfies StateMessage);
    }
    this.#notifyStateWaiters();
    this.emit('state', now, before);
  }

  #notifyStateWaiters(): void {
    for (const w of [...this.#stateWaiters]) w();
  }

  #clearExpiryTimer(): void {
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
  }

  /**
   * Waits until `predicate()` holds. Rejects on close, on abort, and — when `bounded` — after
   * `connectTimeout` with a {@link ConnectionLossError}. At start, a failure to attach rejects.
   */
  #waitForState(
    predicate: () => boolean,
    signal: AbortSignal | undefined,
    starting: boolean,
    bounded = !starting,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (error?: unknown) => {
        this.#stateWaiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        if (predicate()) return done();
        if (this.#state === 'closed') return done(new ClientClosedError());
        if (starting && this.#startFailure) return done(this.#startFailure);
      };
      const onAbort = () => done(signal?.reason);
      if (signal?.aborted) return onAbort();
      this.#stateWaiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (bounded) {
        timer = setTimeout(
          () => done(new ConnectionLossError({ cause: 'no connection within connectTimeout' })),
          this.#options.connectTimeout,
        );
        timer.unref();
      }
      check();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: request execution

  /** One request with the retry policy. The fast path (connected, first attempt) adds no awaits. */
  #exec<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    retry: boolean,
    fn: (t: Transport) => Promise<T>,
  ): Promise<T> {
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new InvalidArgumentError('signal must be an AbortSignal'));
    }
    // Fast path: connected, nothing to race, nobody listening. One promise chain, no extra
    // async frames; only a failure takes the full path below.
    const transport = this.#transport;
    if (transport && !signal && this.isConnected && !opChannel.hasSubscribers) {
      return fn(transport).catch((error: unknown) => {
        const translated = this.#translate(error, transport);
        if (!retry || !isRetryable(translated)) throw translated;
        const dropped =
          translated instanceof ConnectionLossError && !notFromTransport.has(translated) ? 1 : 0;
        return this.#execSlow(op, path, signal, retry, fn, { error: translated, dropped });
      });
    }
    return this.#execSlow(op, path, signal, retry, fn);
  }

  /**
   * @param first - the fast path's failed first attempt, when there was one: its error, and
   *   whether the connection dropped with it in flight (1) or not (0)
   */
  async #execSlow<T>(
    op: string,
    path: string,
    signal: AbortSignal | undefined,
    retry: boolean,
    fn: (t: Transport) => Promise<T>,
    first?: { error: unknown; dropped: number },
  ): Promise<T> {
    signal?.throwIfAborted();
    const started = opChannel.hasSubscribers ? performance.now() : 0;
    // A request the server drops the connection for would be dropped again at every retry, and
    // each drop suspends the whole client: after a few in a row, stop sending it.
    let drops = first?.dropped ?? 0;
    const attempt = async () => {
      try {
        return await this.#attempt(fn, signal, () => drops++);
      } catch (error) {
        if (drops >= MAX_DROPS_PER_REQUEST && error instanceof ConnectionLossError) {
          throw new RequestRefusedError(drops, { path, cause: error });
        }
        throw error;
      }
    };
    try {
      let result: T;
      try {
        if (first) throw first.error;
        result = await attempt();
      } catch (error) {
        if (!retry || !isRetryable(error)) throw error;
        const policy = this.#options.retry;
        // `retries` counts the attempts after the first one, which has just failed.
        if (policy.retries < 1) throw error;
        result = await pRetry(attempt, {
          retries: policy.retries - 1,
          minTimeout: policy.minTimeout,
          maxTimeout: policy.maxTimeout,
          factor: policy.factor,
          randomize: policy.randomize,
          ...(signal ? { signal } : {}),
          shouldRetry: ({ error: e }) => isRetryable(e),
          onFailedAttempt: async ({ error: e, retriesLeft }) => {
            if (isRetryable(e) && retriesLeft > 0 && !this.isConnected) {
              await this.#waitForState(() => this.isConnected, signal, false).catch(
                (waitError: unknown) => {
                  if (!(waitError instanceof ConnectionLossError)) throw waitError;
                },
              );
            }
          },
        });
      }
      if (started)
        opChannel.publish({ client: this, op, path, durationMs: performance.now() - started });
      return result;
    } catch (error) {
      if (started) {
        opChannel.publish({
          client: this,
          op,
          path,
          durationMs: performance.now() - started,
          error,
        });
      }
      throw error;
    }
  }

  /**
   * One attempt, once connected. `onDrop` is called when the request was sent on a live
   * connection and failed because that connection dropped.
   */
  async #attempt<T>(
    fn: (t: Transport) => Promise<T>,
    signal: AbortSignal | undefined,
    onDrop?: () => void,
  ): Promise<T> {
    if (this.#state === 'closed') throw new ClientClosedError();
    if (this.#state === 'latent') throw new ClientNotStartedError();
    if (!this.isConnected) await this.#waitForState(() => this.isConnected, signal, false);
    const transport = this.#transport;
    if (!transport) throw new ClientClosedError();
    try {
      const pending = fn(transport);
      return await (signal ? raceSignal(pending, signal) : pending);
    } catch (error) {
      const translated = this.#translate(error, transport);
      if (translated instanceof ConnectionLossError && !notFromTransport.has(translated)) {
        onDrop?.();
      }
      throw translated;
    }
  }

  #translate(error: unknown, transport: Transport): unknown {
    if (!(error instanceof ZkError)) return error;
    const rc = error.rc;
    if (rc === ZCLOSING || rc === ZINVALIDSTATE || rc === ZMARSHALLINGERROR) {
      // The handle closed under the request: because we closed, or because its session ended.
      return this.#state === 'closed'
        ? new ClientClosedError({ path: error.path, cause: error })
        : new SessionExpiredError({ path: error.path, cause: error });
    }
    if (isRetryable(error) && this.#transport === transport && !notFromTransport.has(error)) {
      this.#onSuspect();
    }
    return error;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals: input

  #assertOpen(): void {
    if (this.#state === 'closed') throw new ClientClosedError();
  }

  /** The path as the server's requests name it below the chroot; checks the request's size. */
  #abs(path: string): string {
    const ns = this.#options.namespace;
    const full = ns === '' ? path : path === '/' ? ns : ns + path;
    this.#checkFrame(pathFrameBytes(this.#options.chroot + full), path);
    return full;
  }

  /** Refuses a request the server would drop the connection for (see `maxFrameBytes`). */
  #checkFrame(size: number, path: string): void {
    const limit = this.#options.maxFrameBytes;
    if (size > limit) {
      throw new RequestTooLargeError(size, limit, path === '' ? {} : { path: truncate(path) });
    }
  }

  #rel(path: string): string {
    const ns = this.#options.namespace;
    if (ns === '' || !path.startsWith(ns)) return path;
    const rest = path.slice(ns.length);
    return rest === '' ? '/' : rest;
  }

  #toBuffer(data: Data | undefined, path: string): Buffer {
    let buffer: Buffer;
    if (data === undefined) buffer = Buffer.alloc(0);
    else if (typeof data === 'string') buffer = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) {
      buffer = Buffer.isBuffer(data)
        ? data
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    } else {
      throw new InvalidArgumentError('data must be a Uint8Array, a Buffer or a string');
    }
    if (buffer.length > this.#options.maxDataBytes) {
      throw new DataTooLargeError(buffer.length, this.#options.maxDataBytes, { path });
    }
    return buffer;
  }

  #validateCreate(path: string, mode: CreateMode, options: CreateOptions): void {
    if (typeof mode !== 'string' || !Object.hasOwn(CreateFlags, mode)) {
      throw new InvalidArgumentError(`unknown create mode ${String(mode)}`);
    }
    const isTtl = mode === 'persistentWithTtl' || mode === 'persistentSequentialWithTtl';
    if (isTtl) {
      const ttl = options.ttl;
      // The binding passes the TTL to the C client as a signed 32-bit integer.
      if (ttl === undefined || !Number.isInteger(ttl) || ttl <= 0 || ttl > INT32_MAX) {
        throw new InvalidArgumentError(`mode ${mode} needs an integer ttl in [1, ${INT32_MAX}] ms`);
      }
    } else if (options.ttl !== undefined) {
      throw new InvalidArgumentError(`ttl is only valid with the TTL modes, not ${mode}`);
    }
    if (
      options.parents !== undefined &&
      ![false, 'container', 'persistent'].includes(options.parents)
    ) {
      throw new InvalidArgumentError(`parents must be 'container', 'persistent' or false`);
    }
    if (options.acl) validateAcl(options.acl);
    const full = this.#abs(path);
    if (full === '/zookeeper' || full.startsWith('/zookeeper/')) {
      throw new InvalidPathError(path, '/zookeeper is reserved');
    }
    if (path === '/') throw new InvalidPathError(path, 'the root always exists');
  }
}

/** Whether a re-read shows a change of the awaited kind since the baseline read. */
function happened(type: NodeEvent['type'], before: Stat | null, now: Stat | null): boolean {
  switch (type) {
    case 'created':
      return before === null ? now !== null : now !== null && now.czxid !== before.czxid;
    case 'deleted':
      return before !== null && (now === null || now.czxid !== before.czxid);
    case 'dataChanged':
      return before !== null && now !== null && now.mzxid !== before.mzxid;
    case 'childrenChanged':
      return (
        (now?.cversion ?? 0) !== (before?.cversion ?? 0) || (before === null) !== (now === null)
      );
  }
}

/** A path short enough to print in an error message. */
function truncate(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}… (${path.length} characters)`;
}

function created(path: string): NodeEvent {
  return { type: 'created', path };
}

function isTimeout(error: unknown): boolean {
  return error instanceof ZkTimeoutError;
}

function validVersion(version: number | undefined): number {
  if (version === undefined) return -1;
  if (!Number.isInteger(version) || version < -1 || version > 0x7fffffff) {
    throw new InvalidArgumentError('version must be an integer ≥ -1');
  }
  return version;
}

function validateAuth(a: AuthInfo): void {
  if (!a || typeof a.scheme !== 'string' || a.scheme === '' || typeof a.credentials !== 'string') {
    throw new InvalidArgumentError('auth needs a non-empty scheme and a credentials string');
  }
}

function validateSession(session: { readonly id: string; readonly password: string }): void {
  if (
    typeof session !== 'object' ||
    session === null ||
    typeof session.id !== 'string' ||
    !/^[0-9a-f]{1,16}$/i.test(session.id) ||
    typeof session.password !== 'string'
  ) {
    throw new InvalidArgumentError('session needs a hex id and a password string');
  }
}

function validateAcl(acl: readonly Acl[]): void {
  if (!Array.isArray(acl) || acl.length === 0) {
    throw new InvalidArgumentError('an ACL must be a non-empty array');
  }
  for (const a of acl) {
    if (
      !a ||
      !Number.isInteger(a.perms) ||
      a.perms < 0 ||
      a.perms > 31 ||
      typeof a.scheme !== 'string' ||
      typeof a.id !== 'string'
    ) {
      throw new InvalidArgumentError('each ACL entry needs perms (0–31), scheme and id');
    }
  }
}
