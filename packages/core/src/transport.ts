/**
 * The seam between `ZkClient` and the connection under it. Two transports implement it: the
 * wire transport (`wire/`, ZooKeeper's protocol spoken over `node:net`) and the native one
 * (`binding.ts`, the C client). The client sees only this contract: promises that reject with
 * {@link ZkError}s, `Stat`s with `bigint` zxids, and the events of {@link TransportListener}.
 *
 * @internal
 * @module
 */
import type { ZkError } from './errors.js';
import type { Stat } from './stat.js';
import type { ServerFailure } from './wire/host-list.js';

/** Events a transport reports. Node events come only for watches set with `watch = true`. */
export interface TransportListener {
  /** The transport (re)connected; `sessionId` and `negotiatedTimeout` are now valid. */
  connected(): void;
  /**
   * The transport lost its connection. The native one does not always report it (the C client
   * can drop and regain a connection without an event), so the client also infers it.
   */
  disconnected(): void;
  /**
   * The transport closed itself for good: 0 after `close()`, -112 when the server said the
   * session expired, -113 when the server refused the credentials, -1000 when no server could
   * be reached over TLS before any session. `error`, when given, is what to report.
   */
  closed(code: number, error?: ZkError): void;
  /** A watched node changed. */
  node(kind: NodeEventKind, path: string): void;
}

/** What a watch reported. */
export type NodeEventKind = 'created' | 'deleted' | 'changed' | 'child';

/** One ACL entry: `perms` is a bit mask of {@link Perms}. */
export interface Acl {
  /** Allowed operations: a sum of {@link Perms} bits, e.g. `Perms.read | Perms.write`. */
  readonly perms: number;
  /** Authentication scheme: `'world'`, `'auth'`, `'digest'`, `'ip'`, `'sasl'`, `'x509'`. */
  readonly scheme: string;
  /**
   * Who, in the scheme's terms: `'anyone'` for `world`, `user:base64(sha1(user:password))` for
   * `digest`, an address or CIDR block for `ip`.
   */
  readonly id: string;
}

/** Options for opening a transport. */
export interface TransportOptions {
  /** `host:port[,host:port…][/chroot]`. */
  readonly connectString: string;
  /** Requested session timeout, ms. */
  readonly sessionTimeout: number;
  /** Attach to this session instead of creating one (id: hex; password: hex). */
  readonly session?: { readonly id: string; readonly password: string } | undefined;
}

/**
 * One transport = one session at most: once it reports `closed`, it is done and the client opens
 * a new one for the next session. While the session lives, the transport reconnects by itself.
 */
export interface Transport {
  /** The session id, lowercase hex (as `Stat.ephemeralOwner`); meaningful once connected. */
  readonly sessionId: string;
  /** The session password, hex. */
  readonly sessionPassword: string;
  /** The session timeout the server granted, ms. */
  readonly negotiatedTimeout: number;
  /** Whether the transport reports itself connected right now. */
  readonly connected: boolean;
  /**
   * Each server of the connect string with why the last attempt to reach it failed (refused,
   * name not found, TLS, no handshake in time, …). Only a transport that opens the sockets
   * itself knows this; the native one has no such method.
   */
  connectFailures?(): readonly ServerFailure[];
  /**
   * Replaces the server list of the live session (its chroot, if any, is ignored), moving the
   * session to another server when ZooKeeper's client-side rebalancing says so. Returns whether
   * it moves. Only a transport that opens the sockets itself can do this.
   */
  updateServers?(connectString: string): boolean;
  create(path: string, data: Buffer, flags: number, ttl: number | undefined): Promise<string>;
  get(path: string, watch: boolean): Promise<{ data: Buffer; stat: Stat }>;
  exists(path: string, watch: boolean): Promise<Stat | null>;
  getChildren(path: string, watch: boolean): Promise<{ children: string[]; stat: Stat }>;
  set(path: string, data: Buffer, version: number): Promise<Stat>;
  delete(path: string, version: number): Promise<void>;
  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }>;
  setAcl(path: string, version: number, acl: readonly Acl[]): Promise<void>;
  sync(path: string): Promise<void>;
  addAuth(scheme: string, credentials: string): Promise<void>;
  /**
   * Ends the session. A transport that can tell when the server has confirmed returns a promise
   * for that moment (the session's ephemeral nodes are gone by then).
   */
  close(): void | Promise<void>;
}

/** One operation of a {@link ProtocolTransport.multi} transaction. */
export type MultiOp =
  | {
      readonly op: 'create';
      readonly path: string;
      readonly data: Buffer;
      readonly flags: number;
      readonly acl?: readonly Acl[] | undefined;
      readonly ttl?: number | undefined;
    }
  | { readonly op: 'delete'; readonly path: string; readonly version: number }
  | { readonly op: 'set'; readonly path: string; readonly data: Buffer; readonly version: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

/**
 * One result of a {@link ProtocolTransport.multi} transaction, in the order of the operations.
 * A create's `stat` is there only when the server sends one (3.8 sends the path alone).
 * When the transaction failed, every result is an `error`: the failing operation carries its
 * error, the others `null` (they were rolled back, or never tried).
 */
export type MultiResult =
  | { readonly op: 'create'; readonly path: string; readonly stat?: Stat | undefined }
  | { readonly op: 'delete' }
  | { readonly op: 'set'; readonly stat: Stat }
  | { readonly op: 'check' }
  | { readonly op: 'error'; readonly error: ZkError | null };

/**
 * One node of a {@link ProtocolTransport.multiRead}: its data and stat, or why it could not be
 * read (deleted, not readable with the session's credentials).
 */
export type MultiReadResult =
  | { readonly data: Buffer; readonly stat: Stat; readonly error?: undefined }
  | { readonly error: ZkError };

/** Which persistent watch {@link ProtocolTransport.addWatch} sets. */
export type PersistentWatchMode = 'persistent' | 'persistentRecursive';

/**
 * Which watches {@link ProtocolTransport.removeWatches} removes. `any` is the way to remove the
 * persistent watches of a path (servers before 3.9 refuse the persistent types in this
 * request); the server then drops the path's one-shot watches too, and the transport sets those
 * it still awaits again at once, relative to the last zxid it saw (a change in between fires
 * them), so in effect `any` removes the persistent watches only.
 */
export type WatcherType = 'children' | 'data' | 'any';

/**
 * The kinds of watch a path can hold, as ZooKeeper's `WatcherType` names them: `data` (set by
 * `exists` and `get`), `children` (set by `getChildren`), the two persistent kinds (set by
 * `addWatch`), and `any` for all of them.
 */
export type WatchKind = 'data' | 'children' | 'persistent' | 'persistentRecursive' | 'any';

/**
 * What only a transport that speaks the protocol itself can do (the wire transport). Each method
 * is one request.
 */
export interface ProtocolTransport extends Transport {
  /** Whether the current server is a read-only one. */
  readonly readOnly: boolean;
  /**
   * Sends the requests made in this turn now rather than when the turn ends (requests made in
   * one turn leave in one write).
   */
  flush(): void;
  /** The server (`host:port`) the session is connected to, while it is. */
  readonly server: string | undefined;
  /**
   * How many watches the server holds for this session, as far as the transport knows: those
   * set and not yet fired or removed. All of them are set again after a reconnect.
   */
  readonly watchCount: number;
  /** A create that carries its ACL and returns the new node's stat (`create2`). */
  createWithStat(
    path: string,
    data: Buffer,
    flags: number,
    ttl: number | undefined,
    acl: readonly Acl[],
  ): Promise<{ path: string; stat: Stat }>;
  /** An atomic transaction. Resolves with one result per operation, also when it failed. */
  multi(ops: readonly MultiOp[]): Promise<MultiResult[]>;
  /**
   * Reads the data and stat of every path in one request (ZooKeeper 3.6+'s multi-read), from one
   * point of the server's state. No watch is set. Results are in the order of `paths`.
   */
  multiRead(paths: readonly string[]): Promise<MultiReadResult[]>;
  /**
   * Resolves `true` once the server has confirmed the watches set again after a reconnect of the
   * same session (at once when nothing waits for confirmation); `false` when the connection
   * drops first or there is none. Until then a change made by another session can go
   * unreported by a persistent watch: the server only replays changes for one-shot watches.
   */
  watchesRestored(): Promise<boolean>;
  /** Sets a persistent watch (ZooKeeper 3.6+); it is set again after every reconnect. */
  addWatch(path: string, mode: PersistentWatchMode): Promise<void>;
  /** Removes watches of a kind from a path (ZooKeeper 3.5+). */
  removeWatches(path: string, type: WatcherType): Promise<void>;
  /** Whether the server holds a watch of that kind on the path, as far as the transport knows. */
  holdsWatch(path: string, kind: WatchKind): boolean;
  /**
   * Forgets watches of that kind on the path without a request: they are not set again after a
   * reconnect (the server's copy lives until it fires or the connection drops).
   */
  forgetWatches(path: string, kind: WatchKind): void;
  /** Resolves when the server holds such a watch on the path, rejects with `NoWatcher` else. */
  checkWatches(path: string, type: WatcherType): Promise<void>;
  /** The session's ephemeral nodes whose path starts with `prefix` (ZooKeeper 3.6+). */
  getEphemerals(prefix: string): Promise<string[]>;
  /** The number of nodes below `path`, at any depth (ZooKeeper 3.6+). */
  getAllChildrenNumber(path: string): Promise<number>;
  /** The identities the server associates with this session (ZooKeeper 3.7+). */
  whoAmI(): Promise<{ scheme: string; user: string }[]>;
}

/** Numeric create flags understood by the server. */
export const CreateFlags = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
  persistentWithTtl: 5,
  persistentSequentialWithTtl: 6,
} as const;

/** ACL permission bits. */
export const Perms = {
  /** Read the node's data and list its children. */
  read: 1,
  /** Set the node's data. */
  write: 2,
  /** Create children. */
  create: 4,
  /** Delete children. */
  delete: 8,
  /** Set the node's ACL. */
  admin: 16,
  /** All of the above. */
  all: 31,
} as const;
