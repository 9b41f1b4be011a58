/**
 * The client's public option and data types, their defaults, and the checks of what callers pass.
 *
 * @module
 */
import type { CreateFlags, Acl } from './binding.js';
import type { ListenerError } from './emitter.js';
import type { ConnectionOptions } from 'node:tls';
import { InvalidArgumentError, UnimplementedError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES } from './frame-size.js';
import { validatePath } from './paths.js';
import type { Stat } from './stat.js';
import type { NodeEvent } from './watches.js';

/**
 * Connection states, as in Curator:
 * - `latent`: created, `start()` not yet called.
 * - `connected`: the first connection, reported once.
 * - `suspended`: the connection dropped; the session may still be alive on the server.
 * - `reconnected`: connected again, to the same session or (after `lost`) to a new one.
 * - `lost`: the session is gone (the server expired it, or the client was suspended longer than
 *   the negotiated session timeout). Its ephemeral nodes and watches are gone too. The client
 *   opens a new session at once and reports `reconnected` when it is up.
 * - `readOnly`: connected to a read-only server (a member cut off from the quorum), only with
 *   {@link ZkClientOptions.canBeReadOnly}. Reads are served (possibly stale); writes fail with
 *   {@link NotReadOnlyError}. Curator's `READ_ONLY`. For what the session signal and the recipes
 *   do, it counts as `suspended`: the quorum does not track the session meanwhile. The client
 *   looks for a read-write server and reports `reconnected` once on one.
 * - `closed`: `close()` was called.
 */
export type ConnectionState =
  'latent' | 'connected' | 'suspended' | 'reconnected' | 'readOnly' | 'lost' | 'closed';

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
  /**
   * Accept a read-only server when no read-write one answers: a member cut off from the quorum
   * that runs with the system property `readonlymode.enabled=true` serves reads (from its own,
   * possibly stale, copy) and refuses writes. The client then reports the state `readOnly`,
   * looks for a read-write server (asking the others with the `isro` four-letter word after
   * 0.1 s, then twice as long each time up to a minute) and moves there, reporting
   * `reconnected`. A session that was created on a read-only server is known to that server
   * only: the first read-write server gives the client a new session (`session` event).
   * Default `false`. Wire transport only: with `transport: 'native'` the constructor throws
   * {@link UnimplementedError}.
   */
  readonly canBeReadOnly?: boolean;
  /**
   * Connect with TLS, to the servers' `secureClientPort`: `node:tls` options such as `ca` (the
   * authority that signed the servers' certificates), `cert` and `key` (this client's own, for
   * servers that ask for one: the server then knows the client by the certificate's subject,
   * the `x509` ACL scheme) and `servername`. The server's certificate is checked against the
   * host name of the connect string (an IP address is checked as itself), unless `servername`
   * names another. If, before any session, every server of the list fails in TLS (a wrong
   * `ca`, a certificate for another name, our certificate refused), `start()` rejects with
   * {@link TlsError} and the client closes, after one round over the list. Wire transport
   * only: with `transport: 'native'` the constructor throws {@link UnimplementedError}.
   */
  readonly tls?: ConnectionOptions;
  /**
   * Authenticate every connection with SASL, after the handshake and before any other request:
   * `{ mechanism: 'DIGEST-MD5', username, password }` against a server with a JAAS `Server`
   * section holding the user (`DigestLoginModule`) and `SASLAuthenticationProvider` registered.
   * The session is then known as `username` to the `sasl` ACL scheme. A refused password (or a
   * server that cannot prove it knows it) makes `start()` reject with {@link AuthFailedError}
   * and closes the client; once started, the same refusal on a reconnect closes the client
   * (state `closed`): nothing retries with credentials the server refuses. Wire transport only:
   * with `transport: 'native'` the constructor throws {@link UnimplementedError}.
   */
  readonly sasl?: SaslOptions;
}

/** SASL credentials of {@link ZkClientOptions.sasl}. */
export interface SaslOptions {
  /** The mechanism: DIGEST-MD5 (RFC 2831), the one ZooKeeper's servers offer for passwords. */
  readonly mechanism: 'DIGEST-MD5';
  /** The user, as the server's JAAS `Server` section names it (`user_<name>=…`). */
  readonly username: string;
  /** The user's password. */
  readonly password: string;
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
  /**
   * `false`: send the create once. A connection loss or timeout after it was sent rejects with
   * that (retryable) error instead of sending it again, for callers that find out for themselves
   * whether the attempt landed (a sequential create retried blindly can leave two nodes).
   * Default `true`.
   */
  readonly retry?: boolean;
}

/** Options of reads. */
export interface ReadOptions {
  /** Stops waiting: the call rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of the watched reads ({@link ZkClient.existsWatched} and its siblings). */
export interface WatchedReadOptions extends ReadOptions {
  /**
   * When the signal ends the read or the wait, leave the watch on the server, as
   * `cancel({ keepServerWatch: true })` does: for a watch about to fire anyway (one on a node the
   * caller deletes next), where the removal request would cost more than the event. Default
   * `false`: the server's watch is removed too, on the wire transport.
   */
  readonly keepServerWatch?: boolean | undefined;
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

/** The options in force: every default filled in, every value checked. */
export interface ResolvedOptions {
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
  canBeReadOnly: boolean;
  tls: ConnectionOptions | undefined;
  sasl: SaslOptions | undefined;
}

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

export const INT32_MAX = 0x7fffffff;
const TRANSPORTS: readonly unknown[] = ['wire', 'native'];

/** The transport used when the options name none: `ZKIT_TRANSPORT` if valid, else wire. */
function defaultTransport(): TransportKind {
  const fromEnv = globalThis.process?.env?.['ZKIT_TRANSPORT'];
  return fromEnv === 'wire' || fromEnv === 'native' ? fromEnv : 'wire';
}

/**
 * Checks the constructor's options and fills in the defaults. Throws before anything is set up.
 *
 * @param chroot - the chroot of the connect string, already parsed
 */
export function resolveOptions(options: ZkClientOptions, chroot: string): ResolvedOptions {
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
  if (options.canBeReadOnly !== undefined && typeof options.canBeReadOnly !== 'boolean') {
    throw new InvalidArgumentError('canBeReadOnly must be a boolean');
  }
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) {
    throw new InvalidArgumentError('tls must be an object of node:tls options');
  }
  if (options.sasl !== undefined) validateSasl(options.sasl);
  const transport = options.transport ?? defaultTransport();
  if (transport === 'native') {
    // What only the wire transport can do is refused before anything starts.
    for (const name of ['canBeReadOnly', 'tls', 'sasl'] as const) {
      if (options[name] !== undefined && options[name] !== false) {
        throw new UnimplementedError({
          message: `${name} needs the wire transport (transport: 'wire', the default)`,
        });
      }
    }
  }
  return {
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
    transport,
    canBeReadOnly: options.canBeReadOnly ?? false,
    tls: options.tls,
    sasl: options.sasl,
  };
}

function validateSasl(sasl: SaslOptions): void {
  if (typeof sasl !== 'object' || sasl === null || sasl.mechanism !== 'DIGEST-MD5') {
    throw new InvalidArgumentError(`sasl.mechanism must be 'DIGEST-MD5'`);
  }
  for (const key of ['username', 'password'] as const) {
    if (typeof sasl[key] !== 'string' || sasl[key] === '') {
      throw new InvalidArgumentError(`sasl.${key} must be a non-empty string`);
    }
  }
}

export function validVersion(version: number | undefined): number {
  if (version === undefined) return -1;
  if (!Number.isInteger(version) || version < -1 || version > 0x7fffffff) {
    throw new InvalidArgumentError('version must be an integer ≥ -1');
  }
  return version;
}

export function validateAuth(a: AuthInfo): void {
  if (!a || typeof a.scheme !== 'string' || a.scheme === '' || typeof a.credentials !== 'string') {
    throw new InvalidArgumentError('auth needs a non-empty scheme and a credentials string');
  }
}

export function validateSession(session: { readonly id: string; readonly password: string }): void {
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

export function validateAcl(acl: readonly Acl[]): void {
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
