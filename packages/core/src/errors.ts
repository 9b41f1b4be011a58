/**
 * Typed errors. Every error zkit raises because of ZooKeeper is a {@link ZkError} with a stable
 * string `code`; server replies also carry the numeric ZooKeeper return code in `rc`. Messages are
 * for people: branch on the class or on `code`, never on the text.
 *
 * @module
 */

/** Options accepted by every {@link ZkError} constructor. */
export interface ZkErrorOptions {
  /** The ZooKeeper path the failed request was about, when there is one. */
  readonly path?: string | undefined;
  /** The underlying error, kept for diagnostics. */
  readonly cause?: unknown;
}

/**
 * Base class of every ZooKeeper-related error zkit raises.
 *
 * @example
 * ```ts
 * try {
 *   await client.create('/jobs/42', 'payload');
 * } catch (err) {
 *   if (err instanceof NodeExistsError) {
 *     // someone else created it first
 *   } else throw err;
 * }
 * ```
 */
export class ZkError extends Error {
  /** Stable, machine-readable code, e.g. `'NO_NODE'`. */
  readonly code: string;
  /** The ZooKeeper return code when the error came from the server or the C client, else 0. */
  readonly rc: number;
  /** The path of the request that failed, when there is one. */
  readonly path: string | undefined;

  constructor(code: string, rc: number, message: string, options: ZkErrorOptions = {}) {
    super(
      options.path === undefined ? message : `${message}: ${options.path}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.rc = rc;
    this.path = options.path;
  }
}

/** The node does not exist (`ZNONODE`, -101). */
export class NoNodeError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NO_NODE', -101, 'no node', options);
  }
}

/**
 * A delete found the node gone, but cannot say whether it removed the node itself. Code
 * `'UNKNOWN_OUTCOME'`; `cause` is the connection error that lost the reply of an earlier attempt.
 *
 * {@link ZkClient.delete} retries after a connection loss or timeout. The first attempt may have
 * reached the server and removed the node, with only its reply lost; or another client may
 * have removed it meanwhile. When the retry finds no node, both are possible, and nothing the
 * server keeps tells them apart. (An attempt that never left the client, because no connection
 * came within `connectTimeout`, leaves no doubt: a later "no node" is then a plain
 * {@link NoNodeError}.)
 *
 * It is a {@link NoNodeError}, because the node is gone: code that only wants the node gone and
 * already treats "no node" as done needs no change. Code that decides who owns something by
 * "my delete succeeded" must check for this class first: ownership is unknown, never granted.
 *
 * @example
 * ```ts
 * try {
 *   await client.delete(path, { version: stat.version });
 *   // removed by this call: ours
 * } catch (err) {
 *   if (err instanceof UnknownOutcomeError) {
 *     // gone; perhaps by this call, perhaps by someone else: never assume either
 *   } else if (err instanceof NoNodeError) {
 *     // someone else removed it first
 *   } else throw err;
 * }
 * ```
 */
export class UnknownOutcomeError extends NoNodeError {
  /** Always `'UNKNOWN_OUTCOME'`. */
  override readonly code = 'UNKNOWN_OUTCOME';

  constructor(options?: ZkErrorOptions) {
    super(options);
    const what = 'node gone, but whether this delete removed it is unknown';
    this.message = options?.path === undefined ? what : `${what}: ${options.path}`;
  }
}

/** The node already exists (`ZNODEEXISTS`, -110). */
export class NodeExistsError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NODE_EXISTS', -110, 'node exists', options);
  }
}

/** The node still has children (`ZNOTEMPTY`, -111). */
export class NotEmptyError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NOT_EMPTY', -111, 'node has children', options);
  }
}

/** A conditional `set`, `delete` or `setAcl` lost its compare-and-swap (`ZBADVERSION`, -103). */
export class BadVersionError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('BAD_VERSION', -103, 'version mismatch', options);
  }
}

/**
 * A conditional {@link ZkClient.set} (one with a `version`) cannot know whether it wrote: code
 * `'UNKNOWN_OUTCOME'`; `cause` is the connection error that lost the reply of an earlier attempt.
 *
 * `set` retries after a connection loss. The first attempt may have reached the server and
 * written, with only its reply lost; the retry then finds the node one version further and fails
 * its compare-and-swap — exactly what it would find had another client written meanwhile, and
 * nothing the server keeps tells the two apart. Reporting that as a {@link BadVersionError}
 * would invite the usual "read again and retry" loop to apply the same change twice (a counter
 * incremented twice), so it is reported as this class instead, which is not a
 * `BadVersionError`: the write may or may not have happened, and the caller must not assume
 * either. Unconditional sets (no `version`) are simply retried; they cannot meet this.
 *
 * @example
 * ```ts
 * try {
 *   await client.set(path, next, { version: stat.version });
 *   // written by this call
 * } catch (err) {
 *   if (err instanceof UnknownWriteOutcomeError) {
 *     // perhaps written, perhaps not: read the node, never write the same change blindly again
 *   } else if (err instanceof BadVersionError) {
 *     // someone else wrote first: read again, decide again
 *   } else throw err;
 * }
 * ```
 */
export class UnknownWriteOutcomeError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super(
      'UNKNOWN_OUTCOME',
      -103,
      'version changed, but whether this write changed it is unknown',
      options,
    );
  }
}

/** Ephemeral nodes cannot have children (`ZNOCHILDRENFOREPHEMERALS`, -108). */
export class NoChildrenForEphemeralsError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NO_CHILDREN_FOR_EPHEMERALS', -108, 'ephemeral nodes cannot have children', options);
  }
}

/** The node's ACL denies the request (`ZNOAUTH`, -102). */
export class NoAuthError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NO_AUTH', -102, 'not authorised by the node ACL', options);
  }
}

/** The server rejected the credentials or the scheme (`ZAUTHFAILED`, -115). */
export class AuthFailedError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('AUTH_FAILED', -115, 'authentication failed', options);
  }
}

/** The ACL given is malformed (`ZINVALIDACL`, -114). */
export class InvalidAclError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('INVALID_ACL', -114, 'invalid ACL', options);
  }
}

/**
 * The connection dropped while the request was in flight (`ZCONNECTIONLOSS`, -4). The outcome is
 * unknown: a write may have been applied. Retried by the client's retry policy.
 */
export class ConnectionLossError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('CONNECTION_LOSS', -4, 'connection lost', options);
  }
}

/**
 * The server did not answer within two thirds of the session timeout (`ZOPERATIONTIMEOUT`, -7).
 * Outcome unknown, like {@link ConnectionLossError}. Retried by the client's retry policy.
 */
export class OperationTimeoutError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('OPERATION_TIMEOUT', -7, 'operation timed out', options);
  }
}

/**
 * The session is gone (`ZSESSIONEXPIRED`, -112): every ephemeral node and watch it owned has been
 * removed by the server, or the client stopped trusting it (suspended longer than its timeout).
 */
export class SessionExpiredError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('SESSION_EXPIRED', -112, 'session expired', options);
  }
}

/** The session moved to another server while the request was in flight (`ZSESSIONMOVED`, -118). */
export class SessionMovedError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('SESSION_MOVED', -118, 'session moved to another server', options);
  }
}

/** The server throttled the request (`ZTHROTTLEDOP`, -127). Retried with backoff. */
export class ThrottledError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('THROTTLED', -127, 'request throttled by the server', options);
  }
}

/**
 * The request was malformed (`ZBADARGUMENTS`, -8). zkit validates input before sending, so this
 * indicates a gap in that validation; please report it.
 */
export class BadArgumentsError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('BAD_ARGUMENTS', -8, 'bad arguments', options);
  }
}

/**
 * The request is not implemented (`ZUNIMPLEMENTED`, -6): by the server (a TTL node on a server
 * without `extendedTypesEnabled=true`, `whoAmI` before ZooKeeper 3.7), or by the client's
 * transport, in which case the message names the transport that has it (e.g. `getEphemerals`
 * with `transport: 'native'`; nothing is sent then).
 */
export class UnimplementedError extends ZkError {
  constructor(options?: ZkErrorOptions & { readonly message?: string }) {
    super('UNIMPLEMENTED', -6, options?.message ?? 'not implemented by the server', options);
  }
}

/**
 * `removeWatches` found no watch of that kind on the path (`ZNOWATCHER`, -121): it fired
 * already, or was never set.
 */
export class NoWatcherError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NO_WATCHER', -121, 'no watcher', options);
  }
}

/**
 * A write reached a read-only server (`ZNOTREADONLY`, -119): the client was created with
 * `canBeReadOnly` and is in the `readOnly` state, connected to a member cut off from the
 * quorum. Not retried: writes succeed again once the client is back on a read-write server
 * (state `reconnected`).
 */
export class NotReadOnlyError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('NOT_READ_ONLY', -119, 'the server is read-only', options);
  }
}

/**
 * A TLS connection could not be set up with any server: the server's certificate was not
 * trusted (wrong `ca`), not valid for its name, or the server refused the client's certificate
 * (or the port does not speak TLS). Code `'TLS'`; `cause` is the last `node:tls` error and
 * `servers` names each server with why it failed. `start()` rejects with it and the client
 * closes after one round over the servers in which every attempt failed this way: retrying
 * would only repeat the same refusal.
 */
export class TlsError extends ZkError {
  /** Each server of the connect string with why its last attempt failed. */
  readonly servers: readonly { readonly server: string; readonly error: string }[];
  constructor(
    servers: readonly { readonly server: string; readonly error: string }[],
    options?: ZkErrorOptions,
  ) {
    super(
      'TLS',
      0,
      `no TLS connection to any server: ${servers.map((s) => `${s.server}: ${s.error}`).join('; ')}`,
      options,
    );
    this.servers = servers;
  }
}

/** Any other ZooKeeper return code. `rc` says which. */
export class UnknownZkError extends ZkError {
  constructor(rc: number, text: string, options?: ZkErrorOptions) {
    super('UNKNOWN', rc, text || `ZooKeeper error ${rc}`, options);
  }
}

/** The client was closed; no further requests are possible. */
export class ClientClosedError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('CLIENT_CLOSED', 0, 'the client is closed', options);
  }
}

/** A request was made before {@link ZkClient.start} was called. */
export class ClientNotStartedError extends ZkError {
  constructor(options?: ZkErrorOptions) {
    super('CLIENT_NOT_STARTED', 0, 'the client has not been started', options);
  }
}

/** A path broke ZooKeeper's path rules. Thrown before anything is sent. */
export class InvalidPathError extends ZkError {
  /** Why the path is invalid. */
  readonly reason: string;
  constructor(path: unknown, reason: string) {
    super('INVALID_PATH', 0, `invalid path ${JSON.stringify(path)} (${reason})`);
    this.reason = reason;
  }
}

/** The data is larger than the client's `maxDataBytes`. Thrown before anything is sent. */
export class DataTooLargeError extends ZkError {
  /** Size of the rejected data in bytes. */
  readonly size: number;
  /** The limit in force. */
  readonly limit: number;
  constructor(size: number, limit: number, options?: ZkErrorOptions) {
    super('DATA_TOO_LARGE', 0, `data of ${size} bytes exceeds the limit of ${limit}`, options);
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The whole encoded request — path (with chroot and namespace), data, ACL and fixed fields — is
 * larger than the server accepts (`maxFrameBytes`, the server's `jute.maxbuffer`). Thrown before
 * anything is sent: the server would drop the connection instead of answering, and every retry
 * would be dropped again.
 */
export class RequestTooLargeError extends ZkError {
  /** Size of the request frame in bytes. */
  readonly size: number;
  /** The limit in force (`maxFrameBytes`). */
  readonly limit: number;
  constructor(size: number, limit: number, options?: ZkErrorOptions) {
    super(
      'REQUEST_TOO_LARGE',
      0,
      `request of ${size} bytes exceeds the server's frame limit of ${limit} (jute.maxbuffer)`,
      options,
    );
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The server closed the connection every time this request was in flight (three times in a row),
 * so it is not sent again: retrying it would only make the client flap between suspended and
 * reconnected. The usual cause is a request larger than the server's `jute.maxbuffer` when that
 * is set below the client's `maxFrameBytes`. Not retryable.
 */
export class RequestRefusedError extends ZkError {
  /** How many times the connection dropped with this request in flight. */
  readonly drops: number;
  constructor(drops: number, options?: ZkErrorOptions) {
    super(
      'REQUEST_REFUSED',
      0,
      `the server closed the connection each of the ${drops} times this request was sent ` +
        `(is it larger than the server's jute.maxbuffer? see maxFrameBytes)`,
      options,
    );
    this.drops = drops;
  }
}

/** An argument other than a path or data was invalid. Thrown before anything is sent. */
export class InvalidArgumentError extends ZkError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', 0, message);
  }
}

/** The C client's build flag that opens its sockets with close-on-exec. */
const CLOEXEC_FLAG = '-DSOCK_CLOEXEC_ENABLED';
/** The binding versions core supports (its peer dependency range). */
const NATIVE_BINDING_RANGE = '7.3';

/**
 * `transport: 'native'` was chosen (in the options, or with `ZKIT_TRANSPORT=native`) but the
 * native binding, the optional npm package `zookeeper`, is not installed or does not load. Code
 * `'NATIVE_BINDING_MISSING'`; `cause` is the loader's error. Thrown by the `ZkClient` constructor,
 * before anything connects. The message names the command that installs the binding.
 *
 * The default transport, `'wire'`, needs no binding: choosing it is the other way out.
 */
export class NativeBindingMissingError extends ZkError {
  /** The shell command that installs the binding with the build flag zkit requires. */
  readonly installCommand: string;
  constructor(installed: boolean, options?: ZkErrorOptions) {
    const installCommand = `CPPFLAGS=${CLOEXEC_FLAG} npm install zookeeper@${NATIVE_BINDING_RANGE}`;
    super(
      'NATIVE_BINDING_MISSING',
      0,
      (installed
        ? `transport 'native' needs the zookeeper package, which is installed but does not load ` +
          `(was its build interrupted or skipped?); reinstall it with \`${installCommand}\``
        : `transport 'native' needs the optional zookeeper package, which is not installed; ` +
          `install it with \`${installCommand}\``) +
        ` (on Linux it compiles a C client: python3, make and g++ are needed, and npm must be ` +
        `allowed to run its install script; ${CLOEXEC_FLAG} keeps its sockets out of child ` +
        `processes), or use the default transport 'wire', which needs nothing installed`,
      options,
    );
    this.installCommand = installCommand;
  }
}

/**
 * The native binding was built without close-on-exec sockets: every child process spawned while
 * a native client is connected would inherit the client's socket, so the connection would
 * outlive `close()` and the C client would spin after a reconnect. Code
 * `'NATIVE_BINDING_UNSAFE'`. `start()` rejects with it (and closes the client) when the first
 * native connection of the process shows a socket without close-on-exec (checked on Linux, where
 * `/proc/self/fdinfo` tells); later native clients fail at `start()` at once. The message and
 * {@link NativeBindingUnsafeError.rebuildCommand} give the command that rebuilds the binding with
 * the flag.
 */
export class NativeBindingUnsafeError extends ZkError {
  /** The shell command that rebuilds the binding with close-on-exec sockets. */
  readonly rebuildCommand: string;
  constructor(bindingDir: string, options?: ZkErrorOptions) {
    const build = `'${bindingDir.replaceAll("'", "'\\''")}/build'`;
    const rebuildCommand = `rm -rf ${build} && CPPFLAGS=${CLOEXEC_FLAG} npm rebuild zookeeper`;
    super(
      'NATIVE_BINDING_UNSAFE',
      0,
      `the zookeeper binding was built without ${CLOEXEC_FLAG}: child processes would inherit ` +
        `its sockets; rebuild it with \`${rebuildCommand}\`, or use the default transport 'wire'`,
      options,
    );
    this.rebuildCommand = rebuildCommand;
  }
}

type ErrorFactory = (options: ZkErrorOptions) => ZkError;

const byRc = new Map<number, ErrorFactory>([
  [-101, (o) => new NoNodeError(o)],
  [-110, (o) => new NodeExistsError(o)],
  [-111, (o) => new NotEmptyError(o)],
  [-103, (o) => new BadVersionError(o)],
  [-108, (o) => new NoChildrenForEphemeralsError(o)],
  [-102, (o) => new NoAuthError(o)],
  [-115, (o) => new AuthFailedError(o)],
  [-114, (o) => new InvalidAclError(o)],
  [-4, (o) => new ConnectionLossError(o)],
  // ZRUNTIMEINCONSISTENCY: what the C client reports for a request cut off by a connection reset.
  // Its outcome is unknown exactly as with -4, so it is treated the same way (and retried).
  [-2, (o) => new ConnectionLossError({ ...o, cause: o.cause ?? 'ZRUNTIMEINCONSISTENCY (-2)' })],
  [-7, (o) => new OperationTimeoutError(o)],
  [-112, (o) => new SessionExpiredError(o)],
  [-118, (o) => new SessionMovedError(o)],
  [-127, (o) => new ThrottledError(o)],
  [-8, (o) => new BadArgumentsError(o)],
  [-6, (o) => new UnimplementedError(o)],
  [-121, (o) => new NoWatcherError(o)],
  [-119, (o) => new NotReadOnlyError(o)],
]);

/**
 * Builds the typed error for a ZooKeeper return code.
 *
 * Such an error is built where the server's reply is read, so the frames a stack trace would show
 * are the client's reply handling, never the caller's; none are captured. Recipes meet these
 * errors as part of their normal flow (a `NodeExistsError` for each barrier member but the one
 * that creates the `ready` node), and capturing a stack cost more than handling the reply.
 *
 * @param rc - the numeric return code (negative)
 * @param text - the C client's description, used only for unknown codes
 */
export function errorFromCode(rc: number, text = '', options: ZkErrorOptions = {}): ZkError {
  const factory = byRc.get(rc);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return factory ? factory(options) : new UnknownZkError(rc, text, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Whether a failed request may be retried as is: the connection dropped, the request timed out,
 * the session moved or the server throttled us. Logical errors (NoNode, NodeExists, BadVersion, …)
 * are never retryable.
 */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof ConnectionLossError ||
    error instanceof OperationTimeoutError ||
    error instanceof SessionMovedError ||
    error instanceof ThrottledError
  );
}

/**
 * A wait reached its `timeout`: a lock not acquired, a barrier not passed, a queue item not
 * taken, leadership not gained, a client not connected. Code `'TIMEOUT'`; the message names what
 * was waited for and the bound, e.g. `Mutex /locks/invoice-42: not acquired within 5000 ms`.
 *
 * Its `name` is `'TimeoutError'`, as for the DOMException an `AbortSignal.timeout()` signal
 * aborts with, so code that tells timeouts apart by name treats both alike; `instanceof
 * ZkError` and `instanceof ZkTimeoutError` hold as well. A `timeout` of 0 tries once and fails
 * with this error at once when the thing is not free.
 *
 * @example
 * ```ts
 * try {
 *   await using lease = await mutex.acquire({ timeout: 5_000 });
 *   await work(lease);
 * } catch (err) {
 *   if (err instanceof ZkTimeoutError) {
 *     // someone else holds the lock: try later
 *   } else throw err;
 * }
 * ```
 */
export class ZkTimeoutError extends ZkError {
  /** The bound that was reached, ms. */
  readonly timeout: number;
  /** What was waited for, e.g. `Mutex /locks/invoice-42: not acquired`. */
  readonly what: string;
  constructor(what: string, timeout: number, options?: ZkErrorOptions & { code?: string }) {
    super(options?.code ?? 'TIMEOUT', 0, `${what} within ${timeout} ms`, options);
    this.name = 'TimeoutError';
    this.timeout = timeout;
    this.what = what;
  }
}

/**
 * {@link ZkClient.start} found no server within `connectTimeout`. Code `'CONNECT_TIMEOUT'`; a
 * {@link ZkTimeoutError} (so its `name` is `'TimeoutError'`). The message names each server of
 * the connect string and why the last attempt to reach it failed, e.g.
 * `no ZooKeeper session within 15000 ms; zk1:2181: connect ECONNREFUSED 10.0.0.5:2181;
 * zk2:2181: getaddrinfo ENOTFOUND zk2`. The native transport cannot tell why (the C client does
 * not say): its message names the servers only.
 *
 * @example
 * ```ts
 * try {
 *   await client.start();
 * } catch (err) {
 *   if (err instanceof ConnectTimeoutError) console.error(err.servers);
 *   throw err;
 * }
 * ```
 */
export class ConnectTimeoutError extends ZkTimeoutError {
  /** Each server tried, with why its last attempt failed (`error` is `undefined` when unknown). */
  readonly servers: readonly { readonly server: string; readonly error: string | undefined }[];
  constructor(
    timeout: number,
    servers: readonly { readonly server: string; readonly error: string | undefined }[],
  ) {
    const known = servers.some((s) => s.error !== undefined);
    const detail = known
      ? servers.map((s) => `${s.server}: ${s.error ?? 'unknown'}`).join('; ')
      : `tried ${servers.map((s) => s.server).join(', ')} (the native transport does not ` +
        `report why a connection failed)`;
    super('no ZooKeeper session', timeout, { code: 'CONNECT_TIMEOUT' });
    this.message = `no ZooKeeper session within ${timeout} ms; ${detail}`;
    this.servers = servers;
  }
}

/**
 * The client's chroot (the `/path` at the end of the connect string) does not exist on the
 * server, so a node directly under it cannot be created. Code `'NO_CHROOT'`; a
 * {@link NoNodeError}, as the server answered. Create the chroot node first (it is never created
 * for you: a chroot names a subtree another party owns), or fix the connect string.
 */
export class ChrootMissingError extends NoNodeError {
  /** Always `'NO_CHROOT'`. */
  override readonly code = 'NO_CHROOT';
  /** The chroot that does not exist. */
  readonly chroot: string;
  constructor(chroot: string, options?: ZkErrorOptions) {
    super(options);
    const what = `the chroot ${chroot} does not exist (create it, or fix the connect string)`;
    this.message = options?.path === undefined ? what : `${what}: ${options.path}`;
    this.chroot = chroot;
  }
}

/**
 * Builds the error timed-out waits reject with: a {@link ZkTimeoutError}, whose `name` is
 * `'TimeoutError'`.
 */
export function timeoutError(what = 'not done', timeout = 0): ZkTimeoutError {
  return new ZkTimeoutError(what, timeout);
}

/**
 * The server's byte stream broke the protocol: a frame longer than the limit, a frame cut short
 * by the end of the connection, a reply that does not answer the oldest request in flight, or a
 * record that cannot be read. The wire transport drops the connection and reconnects; requests
 * in flight fail with {@link ConnectionLossError} whose `cause` is this error.
 */
export class ProtocolError extends ZkError {
  constructor(message: string, options?: ZkErrorOptions) {
    super('PROTOCOL_ERROR', 0, message, options);
  }
}
