/**
 * The wire transport: core's {@link Transport} spoken directly in ZooKeeper's protocol over
 * `node:net`. One session per transport (as the native one), reconnecting by itself while the
 * session lives. Operations are records sent through {@link WireSession}; paths gain the connect
 * string's chroot on the way out and lose it on the way back.
 *
 * @internal
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import { InvalidArgumentError, errorFromCode } from '../errors.js';
import type { JuteReader, JuteWriter } from '../jute.js';
import type { Stat } from '../stat.js';
import type {
  Acl,
  MultiOp,
  MultiReadResult,
  MultiResult,
  NodeEventKind,
  PersistentWatchMode,
  ProtocolTransport,
  TransportListener,
  TransportOptions,
  WatchKind,
  WatcherType,
} from '../transport.js';
import { parseConnectString } from './host-list.js';
import {
  AddWatchMode,
  Code,
  EventType,
  OPEN_ACL,
  OpCode,
  Records,
  WatcherTypeCode,
  decode,
  encode,
  hexToId,
  idToHex,
  type RecordOf,
  type Schema,
} from './records.js';
import { WireSession, type ReplyReader } from './session.js';

/** Frame limits of the wire transport, bytes. */
export const WIRE_LIMITS = Object.freeze({
  /**
   * What the client sends: the server's default `jute.maxbuffer` (1 MiB − 1). The server drops
   * the connection on a longer request, so it is refused here before anything is sent.
   */
  outgoing: 0xfffff,
  /**
   * What the client accepts: replies may exceed the request limit (a listing of many children),
   * but a length past this is not ZooKeeper speaking.
   */
  incoming: 16 * 1024 * 1024,
});

/** Extra options of the wire transport (tests use them to make limits small). */
export interface WireTransportOptions extends TransportOptions {
  readonly limits?: { readonly incoming: number; readonly outgoing: number } | undefined;
  /** Accept a read-only server when no read-write one answers (see `SessionOptions`). */
  readonly canBeReadOnly?: boolean | undefined;
  /** `node:tls` options: every connection uses TLS. */
  readonly tls?: ConnectionOptions | undefined;
  /** SASL DIGEST-MD5 credentials, used on every connection (see `SessionOptions`). */
  readonly sasl?: { readonly username: string; readonly password: string } | undefined;
}

const NODE_EVENTS: Record<number, NodeEventKind> = {
  [EventType.created]: 'created',
  [EventType.deleted]: 'deleted',
  [EventType.dataChanged]: 'changed',
  [EventType.childrenChanged]: 'child',
};

const CONTAINER_FLAGS = 4;
const ROLLED_BACK = -2;
const TTL_FLAGS = new Set([5, 6]);

/** Opens a wire transport; it connects at once and reports through `listener`. */
export function openWireTransport(
  options: WireTransportOptions,
  listener: TransportListener,
): ProtocolTransport {
  const { hosts, chroot } = parseConnectString(options.connectString);
  const session = options.session
    ? { id: hexToId(options.session.id), password: parsePassword(options.session.password) }
    : undefined;
  const toServer = (path: string): string =>
    chroot === '' ? path : path === '/' ? chroot : chroot + path;
  const toClient = (path: string): string | undefined => {
    if (chroot === '') return path;
    if (path === chroot) return '/';
    if (path.startsWith(chroot + '/')) return path.slice(chroot.length);
    return undefined;
  };
  const wire = new WireSession(
    {
      hosts,
      sessionTimeout: options.sessionTimeout,
      session,
      limits: options.limits ?? WIRE_LIMITS,
      canBeReadOnly: options.canBeReadOnly,
      tls: options.tls,
      sasl: options.sasl,
    },
    {
      connected: () => listener.connected(),
      disconnected: () => listener.disconnected(),
      closed: (code, error) => listener.closed(code, error),
      notification: (type, serverPath) => {
        const kind = NODE_EVENTS[type];
        const path = toClient(serverPath);
        if (kind && path !== undefined) listener.node(kind, path);
      },
    },
  );
  const watches = wire.watches;

  /**
   * A one-shot watch set on a path that also has a persistent watch of this session: servers
   * before 3.9 keep one mode per session and path, so the one-shot read turns the persistent
   * watch into a one-shot one (its next event would be its last). Setting the persistent watch
   * again in the request right behind the read restores it; the one-shot watch's events still
   * come, as the persistent watch's. `kind` is the table the read's watch goes to.
   */
  /**
   * A read that may set a one-shot watch (getData, exists, getChildren2): sent, then, for a path
   * that also holds a persistent watch, that watch added again right behind it.
   */
  function watchedRead<T>(
    op: number,
    path: string,
    watch: boolean,
    kind: 'data' | 'child',
    read: ReplyReader<T>,
  ): Promise<T> {
    const serverPath = toServer(path);
    const reply = wire.request(
      op,
      Records.PathWatchRequest,
      { path: serverPath, watch },
      read,
      path,
    );
    if (watch) keepPersistent(serverPath, kind);
    return reply;
  }

  function keepPersistent(serverPath: string, kind: 'data' | 'child'): void {
    const mode: PersistentWatchMode | undefined =
      kind === 'data' && watches.persistentRecursive.has(serverPath)
        ? 'persistentRecursive'
        : watches.persistent.has(serverPath)
          ? 'persistent'
          : undefined;
    if (mode === undefined) return;
    const read: ReplyReader<void> = () => undefined;
    wire
      .request(
        OpCode.addWatch,
        Records.AddWatchRequest,
        { path: serverPath, mode: AddWatchMode[mode] },
        read,
        serverPath,
      )
      .catch(() => undefined);
  }

  /** One request whose reply is `schema` on success and a `ZkError` otherwise. */
  function call<Q extends Schema, S extends Schema, T>(
    type: number,
    path: string,
    request: Q | undefined,
    body: RecordOf<Q> | undefined,
    reply: S | undefined,
    map: (value: RecordOf<S>) => T,
  ): Promise<T> {
    const read: ReplyReader<T> = (err, r) => {
      if (err !== Code.ok) throw errorFromCode(err, '', { path });
      return map(reply ? decode(r, reply) : ({} as RecordOf<S>));
    };
    return wire.request(type, request, body, read, path);
  }

  function createRequest(
    path: string,
    data: Buffer,
    flags: number,
    ttl: number | undefined,
    acl: readonly Acl[],
  ): { type: number; write: (w: JuteWriter) => void } {
    const base = { path: toServer(path), data, acl, flags };
    if (ttl !== undefined || TTL_FLAGS.has(flags)) {
      return {
        type: OpCode.createTtl,
        write: (w) => encode(w, Records.CreateTtlRequest, { ...base, ttl: BigInt(ttl ?? -1) }),
      };
    }
    return {
      // The server accepts container flags only with the container request.
      type: flags === CONTAINER_FLAGS ? OpCode.createContainer : OpCode.create2,
      write: (w) => encode(w, Records.CreateRequest, base),
    };
  }

  function createWithStat(
    path: string,
    data: Buffer,
    flags: number,
    ttl: number | undefined,
    acl: readonly Acl[],
  ): Promise<{ path: string; stat: Stat }> {
    const request = createRequest(path, data, flags, ttl, acl);
    // Every create variant used here answers with a path and a stat.
    return call(
      request.type,
      path,
      Records.Raw,
      { write: request.write },
      Records.Create2Response,
      (r) => ({ path: toClient(r.path) ?? r.path, stat: r.stat }),
    );
  }

  /** The sets of the watch table that hold watches of a kind. */
  function tableSets(kind: WatchKind): Set<string>[] {
    switch (kind) {
      case 'data':
        return [watches.data, watches.exist];
      case 'children':
        return [watches.child];
      case 'persistent':
        return [watches.persistent];
      case 'persistentRecursive':
        return [watches.persistentRecursive];
      default:
        return [
          watches.data,
          watches.exist,
          watches.child,
          watches.persistent,
          watches.persistentRecursive,
        ];
    }
  }

  const transport: ProtocolTransport = {
    get sessionId() {
      return idToHex(wire.sessionId);
    },
    get sessionPassword() {
      return wire.password.toString('hex').toUpperCase();
    },
    get negotiatedTimeout() {
      return wire.negotiatedTimeout;
    },
    get connected() {
      return wire.connected;
    },
    get readOnly() {
      return wire.readOnly;
    },
    get server() {
      return wire.server;
    },
    connectFailures() {
      return wire.failures;
    },
    updateServers(connectString: string) {
      return wire.updateServers(parseConnectString(connectString).hosts);
    },
    get watchCount() {
      return watches.size;
    },
    watchesRestored() {
      return wire.watchesRestored();
    },
    flush() {
      wire.flush();
    },
    create(path, data, flags, ttl) {
      return createWithStat(path, data, flags, ttl, OPEN_ACL).then((r) => r.path);
    },
    createWithStat,
    get(path, watch) {
      const read: ReplyReader<{ data: Buffer; stat: Stat }> = (err, r) => {
        if (err !== Code.ok) throw errorFromCode(err, '', { path });
        if (watch) watches.data.add(toServer(path));
        return decode(r, Records.DataResponse);
      };
      return watchedRead(OpCode.getData, path, watch, 'data', read);
    },
    exists(path, watch) {
      const read: ReplyReader<Stat | null> = (err, r) => {
        // A missing node is an answer, and the watch is set all the same (on its creation).
        if (err === Code.noNode) {
          if (watch) watches.exist.add(toServer(path));
          return null;
        }
        if (err !== Code.ok) throw errorFromCode(err, '', { path });
        if (watch) watches.data.add(toServer(path));
        return decode(r, Records.StatResponse).stat;
      };
      return watchedRead(OpCode.exists, path, watch, 'data', read);
    },
    getChildren(path, watch) {
      const read: ReplyReader<{ children: string[]; stat: Stat }> = (err, r) => {
        if (err !== Code.ok) throw errorFromCode(err, '', { path });
        if (watch) watches.child.add(toServer(path));
        const reply = decode(r, Records.ChildrenResponse);
        return { children: reply.children as string[], stat: reply.stat };
      };
      return watchedRead(OpCode.getChildren2, path, watch, 'child', read);
    },
    set(path, data, version) {
      return call(
        OpCode.setData,
        path,
        Records.SetDataRequest,
        { path: toServer(path), data, version },
        Records.StatResponse,
        (r) => r.stat,
      );
    },
    delete(path, version) {
      return call(
        OpCode.delete,
        path,
        Records.VersionRequest,
        { path: toServer(path), version },
        undefined,
        () => undefined,
      );
    },
    getAcl(path) {
      return call(
        OpCode.getAcl,
        path,
        Records.PathRequest,
        { path: toServer(path) },
        Records.AclResponse,
        (r) => ({ acl: r.acl as Acl[], stat: r.stat }),
      );
    },
    setAcl(path, version, acl) {
      return call(
        OpCode.setAcl,
        path,
        Records.SetAclRequest,
        { path: toServer(path), acl, version },
        Records.StatResponse,
        () => undefined,
      );
    },
    sync(path) {
      return call(
        OpCode.sync,
        path,
        Records.PathRequest,
        { path: toServer(path) },
        Records.PathResponse,
        () => undefined,
      );
    },
    addAuth(scheme, credentials) {
      return wire.addAuth(scheme, credentials);
    },
    multi(ops: readonly MultiOp[]) {
      const paths = ops.map((o) => o.path);
      const write = (w: JuteWriter) => {
        for (const o of ops) {
          switch (o.op) {
            case 'create': {
              const request = createRequest(o.path, o.data, o.flags, o.ttl, o.acl ?? OPEN_ACL);
              encode(w, Records.MultiHeader, { type: request.type, done: false, err: -1 });
              request.write(w);
              break;
            }
            case 'delete':
            case 'check':
              encode(w, Records.MultiHeader, {
                type: o.op === 'delete' ? OpCode.delete : OpCode.check,
                done: false,
                err: -1,
              });
              encode(w, Records.VersionRequest, { path: toServer(o.path), version: o.version });
              break;
            case 'set':
              encode(w, Records.MultiHeader, { type: OpCode.setData, done: false, err: -1 });
              encode(w, Records.SetDataRequest, {
                path: toServer(o.path),
                data: o.data,
                version: o.version,
              });
              break;
            default:
              throw new InvalidArgumentError(`unknown transaction operation`);
          }
        }
        encode(w, Records.MultiHeader, { type: -1, done: true, err: -1 });
      };
      const read: ReplyReader<MultiResult[]> = (err, r) => {
        if (err !== Code.ok) throw errorFromCode(err);
        return readMultiResults(r, paths, toClient);
      };
      return wire.request(OpCode.multi, Records.Raw, { write }, read);
    },
    multiRead(paths: readonly string[]) {
      const write = (w: JuteWriter) => {
        for (const path of paths) {
          encode(w, Records.MultiHeader, { type: OpCode.getData, done: false, err: -1 });
          encode(w, Records.PathWatchRequest, { path: toServer(path), watch: false });
        }
        encode(w, Records.MultiHeader, { type: -1, done: true, err: -1 });
      };
      const read: ReplyReader<MultiReadResult[]> = (err, r) => {
        if (err !== Code.ok) throw errorFromCode(err);
        return readMultiReadResults(r, paths);
      };
      return wire.request(OpCode.multiRead, Records.Raw, { write }, read);
    },
    addWatch(path: string, mode: PersistentWatchMode) {
      return call(
        OpCode.addWatch,
        path,
        Records.AddWatchRequest,
        { path: toServer(path), mode: AddWatchMode[mode] },
        undefined,
        () => {
          (mode === 'persistent' ? watches.persistent : watches.persistentRecursive).add(
            toServer(path),
          );
        },
      );
    },
    removeWatches(path: string, type: WatcherType) {
      return call(
        OpCode.removeWatches,
        path,
        Records.WatchesRequest,
        { path: toServer(path), type: WatcherTypeCode[type] },
        undefined,
        () => {
          const p = toServer(path);
          if (type === 'any') {
            watches.persistent.delete(p);
            watches.persistentRecursive.delete(p);
            // The server removed the one-shot watches of the path too: set those still awaited
            // again, relative to the last zxid seen, so that a change since still fires them.
            const again = (set: Set<string>) => (set.has(p) ? [p] : []);
            const lists = {
              data: again(watches.data),
              exist: again(watches.exist),
              child: again(watches.child),
              persistent: [],
              persistentRecursive: [],
            };
            if (lists.data.length + lists.exist.length + lists.child.length > 0) {
              wire.setWatches(lists);
            }
            return;
          }
          if (type === 'data') {
            watches.data.delete(p);
            watches.exist.delete(p);
          }
          if (type === 'children') watches.child.delete(p);
        },
      );
    },
    holdsWatch(path: string, kind: WatchKind) {
      const p = toServer(path);
      return tableSets(kind).some((set) => set.has(p));
    },
    forgetWatches(path: string, kind: WatchKind) {
      const p = toServer(path);
      for (const set of tableSets(kind)) set.delete(p);
    },
    checkWatches(path: string, type: WatcherType) {
      return call(
        OpCode.checkWatches,
        path,
        Records.WatchesRequest,
        { path: toServer(path), type: WatcherTypeCode[type] },
        undefined,
        () => undefined,
      );
    },
    getEphemerals(prefix: string) {
      return call(
        OpCode.getEphemerals,
        prefix,
        Records.PathRequest,
        // The chroot alone would also match its siblings (`/app` matches `/app2/x`).
        { path: prefix === '/' && chroot !== '' ? `${chroot}/` : toServer(prefix) },
        Records.EphemeralsResponse,
        (r) => r.ephemerals.map((p) => toClient(p) ?? p),
      );
    },
    getAllChildrenNumber(path: string) {
      return call(
        OpCode.getAllChildrenNumber,
        path,
        Records.PathRequest,
        { path: toServer(path) },
        Records.CountResponse,
        (r) => r.totalNumber,
      );
    },
    whoAmI() {
      return call(
        OpCode.whoAmI,
        '',
        undefined,
        undefined,
        Records.WhoAmIResponse,
        (r) => r.clientInfo,
      );
    },
    close() {
      return wire.close();
    },
  };
  return transport;
}

function parsePassword(hex: string): Buffer {
  const password = Buffer.from(hex, 'hex');
  if (password.length * 2 !== hex.length) {
    throw new InvalidArgumentError('a session password must be hex');
  }
  return password;
}

function readMultiResults(
  r: JuteReader,
  paths: readonly string[],
  toClient: (path: string) => string | undefined,
): MultiResult[] {
  const results: MultiResult[] = [];
  for (;;) {
    const header = decode(r, Records.MultiHeader);
    if (header.done) break;
    switch (header.type) {
      case OpCode.create: {
        const path = decode(r, Records.CreateResponse).path;
        results.push({ op: 'create', path: toClient(path) ?? path });
        break;
      }
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTtl: {
        const reply = decode(r, Records.Create2Response);
        results.push({ op: 'create', path: toClient(reply.path) ?? reply.path, stat: reply.stat });
        break;
      }
      case OpCode.delete:
        results.push({ op: 'delete' });
        break;
      case OpCode.check:
        results.push({ op: 'check' });
        break;
      case OpCode.setData:
        results.push({ op: 'set', stat: decode(r, Records.StatResponse).stat });
        break;
      case OpCode.error: {
        const code = decode(r, Records.ErrorResponse).err;
        const path = paths[results.length];
        results.push({
          op: 'error',
          // 0: applied, then rolled back; -2: not tried because an earlier one failed.
          error:
            code === Code.ok || code === ROLLED_BACK
              ? null
              : errorFromCode(code, '', path ? { path } : {}),
        });
        break;
      }
      default:
        throw new RangeError(`an unknown operation ${header.type} in a transaction's reply`);
    }
  }
  return results;
}

function readMultiReadResults(r: JuteReader, paths: readonly string[]): MultiReadResult[] {
  const results: MultiReadResult[] = [];
  for (;;) {
    const header = decode(r, Records.MultiHeader);
    if (header.done) break;
    const path = paths[results.length];
    if (header.type === OpCode.getData) {
      results.push(decode(r, Records.DataResponse));
    } else if (header.type === OpCode.error) {
      const code = decode(r, Records.ErrorResponse).err;
      results.push({ error: errorFromCode(code, '', path === undefined ? {} : { path }) });
    } else {
      throw new RangeError(`an unknown operation ${header.type} in a multi-read's reply`);
    }
  }
  if (results.length !== paths.length) {
    throw new RangeError(`a multi-read reply with ${results.length} results for ${paths.length}`);
  }
  return results;
}
