/**
 * The only module that touches the native `zookeeper` binding. Everything the binding does
 * oddly (numeric codes folded into message text, a synchronous rc that means "no callback will
 * come", `Date` times, number zxids, `exists` failing on a missing node, `null` stored as the text
 * "null") is turned here into the plain {@link Transport} contract the rest of core relies on.
 *
 * @internal
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  errorFromCode,
  NativeBindingMissingError,
  NativeBindingUnsafeError,
  type ZkError,
} from './errors.js';
import type { Stat } from './stat.js';
import type { Transport, TransportListener, TransportOptions } from './transport.js';

export {
  CreateFlags,
  Perms,
  type Acl,
  type NodeEventKind,
  type Transport,
  type TransportListener,
  type TransportOptions,
} from './transport.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the binding ships loose `any` types */
type NativeCallback = (rc: number, error: string, ...results: any[]) => void;

/** The addon object behind the JS wrapper: the same calls, without the wrapper's per-call logging. */
interface NativeOps {
  a_create(path: string, data: Buffer, flags: number, cb: NativeCallback): number;
  a_create_ttl(path: string, data: Buffer, flags: number, ttl: number, cb: NativeCallback): number;
  a_exists(path: string, watch: boolean, cb: NativeCallback): number;
  a_get(path: string, watch: boolean, cb: NativeCallback): number;
  a_get_children2(path: string, watch: boolean, cb: NativeCallback): number;
  a_set(path: string, data: Buffer, version: number, cb: NativeCallback): number;
  a_delete_(path: string, version: number, cb: NativeCallback): number;
  a_get_acl(path: string, cb: NativeCallback): number;
  a_set_acl(path: string, version: number, acl: object[], cb: NativeCallback): number;
  a_sync(path: string, cb: NativeCallback): number;
  add_auth(scheme: string, auth: string, cb: NativeCallback): number;
}

interface NativeHandle {
  readonly native: NativeOps;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
  readonly state: number;
  on(event: string, listener: (...args: any[]) => void): void;
  removeAllListeners(): void;
  init(config: object): void;
  close(): void;
}

const require = createRequire(import.meta.url);
type NativeConstructor = new (config: object) => NativeHandle;
let Native: NativeConstructor | undefined;
/** Where the binding is installed, for the rebuild command. */
let bindingDir = 'node_modules/zookeeper';

/**
 * Loads the optional `zookeeper` package once.
 *
 * @throws {@link NativeBindingMissingError} when it is not installed or does not load.
 */
export function loadNativeBinding(): NativeConstructor {
  if (!Native) {
    let dir: string | undefined;
    try {
      dir = dirname(require.resolve('zookeeper/package.json'));
    } catch {
      // not installed: the require below says so
    }
    try {
      Native = require('zookeeper') as NativeConstructor;
    } catch (cause) {
      throw new NativeBindingMissingError(dir !== undefined, { cause });
    }
    bindingDir = dir ?? bindingDir;
    // Loading opens no socket: whatever lacks close-on-exec now is not the binding's.
    socketsBefore = inheritableSockets();
  }
  return Native;
}

/*
 * Close-on-exec. The bundled C client opens its sockets without SOCK_CLOEXEC unless it was
 * compiled with -DSOCK_CLOEXEC_ENABLED, and npm compiles it without. A child process spawned
 * while such a client is connected inherits its socket: the connection then outlives the
 * client's close, and the C client spins after a reconnect. Node opens every descriptor of its
 * own with close-on-exec, so a socket without it that appeared after the binding loaded is the
 * binding's. Linux tells through /proc/self/fdinfo ("flags" in octal, O_CLOEXEC = 0o2000000);
 * elsewhere nothing is checked.
 */
const O_CLOEXEC = 0o2000000;
/** Sockets without close-on-exec when the binding loaded (say, stdio a parent passed as sockets). */
let socketsBefore: ReadonlySet<string> = new Set();
/** What the first connected native transport of the process showed; the build cannot change. */
let socketVerdict: 'unknown' | 'private' | 'inherited' = 'unknown';

/** The sockets of this process (`socket:[inode]`) that a child process would inherit. */
function inheritableSockets(): Set<string> {
  const found = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return found; // not Linux
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (!target.startsWith('socket:')) continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
      if (flags !== undefined && (Number.parseInt(flags, 8) & O_CLOEXEC) === 0) found.add(target);
    } catch {
      // closed while we looked
    }
  }
  return found;
}

/**
 * Refuses a binding whose sockets child processes would inherit. With `connected` true (a native
 * transport is connected, so its socket is open) the first call of the process looks and
 * remembers; otherwise it only repeats what an earlier look found.
 *
 * @throws {@link NativeBindingUnsafeError}
 */
export function checkNativeSockets(connected: boolean): void {
  if (socketVerdict === 'unknown' && connected) {
    const leaked = [...inheritableSockets()].some((socket) => !socketsBefore.has(socket));
    socketVerdict = leaked ? 'inherited' : 'private';
  }
  if (socketVerdict === 'inherited') throw new NativeBindingUnsafeError(bindingDir);
}

function toStat(raw: any): Stat {
  return {
    czxid: BigInt(raw.czxid),
    mzxid: BigInt(raw.mzxid),
    pzxid: BigInt(raw.pzxid),
    ctime: raw.ctime instanceof Date ? raw.ctime.getTime() : Number(raw.ctime),
    mtime: raw.mtime instanceof Date ? raw.mtime.getTime() : Number(raw.mtime),
    version: raw.version,
    cversion: raw.cversion,
    aversion: raw.aversion,
    ephemeralOwner: String(raw.ephemeralOwner),
    dataLength: raw.dataLength,
    numChildren: raw.numChildren,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const ZNONODE = -101;
const CONNECTED_STATE = 3;

/** The C client's log level: 0 turns its stderr logging off (it is process-global). */
const LOG_LEVEL_OFF = 0;

/**
 * Raised when the binding's large-response guard would close the session. With its default of
 * 10, one read of a 1 MB node (or a listing of about 1.1 MB) made the binding send closeSession
 * itself: the session really ended and its ephemeral nodes were deleted.
 */
const RESPONSE_COUNTER_LIMIT = 100_000;

/** Opens a transport over the native binding. Events start flowing at once. */
export function openNativeTransport(
  options: TransportOptions,
  listener: TransportListener,
): Transport {
  const NativeZk = loadNativeBinding();
  const config: Record<string, unknown> = {
    connect: options.connectString,
    timeout: options.sessionTimeout,
    debug_level: LOG_LEVEL_OFF,
    host_order_deterministic: false,
    response_counter_limit: RESPONSE_COUNTER_LIMIT,
  };
  if (options.session) {
    config['client_id'] = options.session.id;
    config['client_password'] = options.session.password;
  }
  // Config given to the constructor wins over init()'s, so pass everything here.
  const zk = new NativeZk(config);
  let closed = false;
  zk.on('connect', () => listener.connected());
  zk.on('connecting', () => listener.disconnected());
  zk.on('close', (_self: unknown, code: unknown) => {
    closed = true;
    listener.closed(typeof code === 'number' ? code : 0);
  });
  for (const kind of ['created', 'deleted', 'changed', 'child'] as const) {
    zk.on(kind, (_native: unknown, path: unknown) => {
      if (typeof path === 'string') listener.node(kind, path);
    });
  }
  zk.init({});
  // The wrapper's methods format a debug line with util.inspect on every call, logger or not;
  // the addon object takes the same arguments without that cost.
  const ops = zk.native;

  /**
   * Runs one native call. A negative synchronous return means the callback will never run, so
   * the promise is settled here instead.
   */
  function call<T>(
    path: string,
    start: (cb: NativeCallback) => number,
    done: (
      resolve: (value: T) => void,
      reject: (e: ZkError) => void,
      rc: number,
      ...r: unknown[]
    ) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const rc = start((code, text, ...results) => {
        if (code === 0) done(resolve, reject, code, ...results);
        else done(resolve, reject, code, text, ...results);
      });
      if (typeof rc === 'number' && rc < 0) reject(errorFromCode(rc, '', { path }));
    });
  }

  function plain<T>(
    path: string,
    start: (cb: NativeCallback) => number,
    map: (...r: unknown[]) => T,
  ) {
    return call<T>(path, start, (resolve, reject, rc, ...results) => {
      if (rc === 0) resolve(map(...results));
      else reject(errorFromCode(rc, String(results[0] ?? ''), { path }));
    });
  }

  return {
    get sessionId() {
      return zk.client_id;
    },
    get sessionPassword() {
      return zk.client_password;
    },
    get negotiatedTimeout() {
      return zk.timeout;
    },
    get connected() {
      return !closed && zk.state === CONNECTED_STATE;
    },
    create(path, data, flags, ttl) {
      return plain(
        path,
        (cb) =>
          ttl === undefined
            ? ops.a_create(path, data, flags, cb)
            : ops.a_create_ttl(path, data, flags, ttl, cb),
        (created) => String(created),
      );
    },
    get(path, watch) {
      return plain(
        path,
        (cb) => ops.a_get(path, watch, cb),
        (stat, data) => ({
          stat: toStat(stat),
          data: Buffer.isBuffer(data) ? data : Buffer.from(data == null ? '' : String(data)),
        }),
      );
    },
    exists(path, watch) {
      return call<Stat | null>(
        path,
        (cb) => ops.a_exists(path, watch, cb),
        (resolve, reject, rc, ...results) => {
          // The binding reports a missing node as an error, yet the watch is set: map to null.
          if (rc === 0) resolve(toStat(results[0]));
          else if (rc === ZNONODE) resolve(null);
          else reject(errorFromCode(rc, String(results[0] ?? ''), { path }));
        },
      );
    },
    getChildren(path, watch) {
      return plain(
        path,
        (cb) => ops.a_get_children2(path, watch, cb),
        (children, stat) => ({
          children: Array.isArray(children) ? (children as string[]) : [],
          stat: toStat(stat),
        }),
      );
    },
    set(path, data, version) {
      return plain(
        path,
        (cb) => ops.a_set(path, data, version, cb),
        (stat) => toStat(stat),
      );
    },
    delete(path, version) {
      return plain(
        path,
        (cb) => ops.a_delete_(path, version, cb),
        () => undefined,
      );
    },
    getAcl(path) {
      return plain(
        path,
        (cb) => ops.a_get_acl(path, cb),
        (acl, stat) => ({
          acl: (acl as { perms: number; scheme: string; auth: string }[]).map((a) => ({
            perms: a.perms,
            scheme: a.scheme,
            id: a.auth,
          })),
          stat: toStat(stat),
        }),
      );
    },
    setAcl(path, version, acl) {
      // The addon reads `perm` (the wrapper used to rename it); a missing key means no rights.
      const native = acl.map((a) => ({ perm: a.perms, scheme: a.scheme, auth: a.id }));
      return plain(
        path,
        (cb) => ops.a_set_acl(path, version, native, cb),
        () => undefined,
      );
    },
    sync(path) {
      return plain(
        path,
        (cb) => ops.a_sync(path, cb),
        () => undefined,
      );
    },
    addAuth(scheme, credentials) {
      return plain(
        '',
        (cb) => ops.add_auth(scheme, credentials, cb),
        () => undefined,
      );
    },
    close() {
      if (closed) return;
      closed = true;
      zk.close();
    },
  };
}
