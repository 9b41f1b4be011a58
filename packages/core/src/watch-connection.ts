import { createConnection, type Socket } from 'node:net';
import type { Acl } from './binding.js';
import type { AuthInfo } from './options.js';
import {
  AuthFailedError,
  ClientClosedError,
  ConnectionLossError,
  InvalidArgumentError,
  ZkError,
  errorFromCode,
} from './errors.js';
import { Emitter, type ListenerError } from './emitter.js';
import { FrameDecoder, JuteReader, JuteWriter } from './jute.js';
import { validatePath } from './paths.js';
import { combineSignals, raceSignal, type WaitOptions } from './signals.js';
import type { Stat } from './stat.js';
import type { NodeEventType } from './watches.js';
import { parseConnectString } from './wire/host-list.js';
import {
  AddWatchMode,
  EventType,
  OpCode,
  PROTOCOL_VERSION,
  Records,
  WatcherTypeCode,
  Xid,
  decode,
  encode,
} from './wire/records.js';

/**
 * Which kind of persistent watch {@link WatchConnection.addWatch} sets (ZooKeeper 3.6+):
 * - `persistentRecursive`: creation, deletion and data change of the node and of every node
 *   below it, at any depth.
 * - `persistent`: the node's own creation, deletion, data change and child list change.
 *
 * Unlike one-shot watches, both stay set after they fire, until removed or the connection ends.
 */
export type WatchMode = 'persistent' | 'persistentRecursive';

/** One event of a persistent watch, as delivered by {@link WatchConnection}. */
export interface WatchEvent {
  readonly type: NodeEventType;
  /** The node the event is about, without the chroot and namespace. */
  readonly path: string;
  /**
   * The zxid the server sent with the notification, or `-1n` when it sends none (ZooKeeper 3.8
   * and older always send -1).
   */
  readonly zxid: bigint;
}

/** Connection states of {@link WatchConnection}. */
export type WatchConnectionState = 'idle' | 'connecting' | 'connected' | 'closed';

/** Typed events of {@link WatchConnection}. */
export interface WatchConnectionEvents {
  /** A persistent watch fired. */
  event: [event: WatchEvent];
  /**
   * The connection dropped (or its session expired). Until `resumed`, events are not delivered
   * and some may be missed for good.
   */
  interrupted: [];
  /**
   * Connected again with every watch set anew. Events that happened while interrupted are not
   * replayed: re-read whatever the watches stand for. `newSession` is `true` when the old
   * session had expired and a new one was opened.
   */
  resumed: [newSession: boolean];
  /** A watch that had been set could not be set again after a reconnect; it is forgotten. */
  dropped: [path: string, error: ZkError];
  /** The connection state changed. */
  state: [now: WatchConnectionState, before: WatchConnectionState];
  /** A listener of this connection threw or rejected; it changed nothing (see `Emitter`). */
  error: [error: ListenerError];
}

/** Options of {@link WatchConnection}. */
export interface WatchConnectionOptions {
  /** Requested session timeout in ms (the server clamps it). Default 15000. */
  readonly sessionTimeout?: number | undefined;
  /** Credentials sent on every connection, before any watch is set. */
  readonly auth?: readonly AuthInfo[] | undefined;
  /** A prefix below the connect string's chroot, as {@link ZkClientOptions.namespace}. */
  readonly namespace?: string | undefined;
}

interface Watch {
  readonly mode: WatchMode;
  confirmed: boolean;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

interface Pending {
  readonly settle: (error: ZkError | undefined, reply?: JuteReader) => void;
}

/** One node read by {@link WatchConnection.getMany}: its data and stat, or why it could not be read. */
export type ReadResult =
  | { readonly data: Buffer; readonly stat: Stat; readonly error?: undefined }
  | { readonly error: ZkError };

const EVENT_TYPES: Record<number, NodeEventType> = {
  [EventType.created]: 'created',
  [EventType.deleted]: 'deleted',
  [EventType.dataChanged]: 'dataChanged',
  [EventType.childrenChanged]: 'childrenChanged',
};
const MAX_PACKET = 16 * 1024 * 1024;
const CLOSE_WAIT_MS = 1000;
const DEFAULT_SESSION_TIMEOUT = 15_000;
/** Reads per multi-read request: keeps each reply far below the server's and our packet limits. */
const READS_PER_REQUEST = 128;

/**
 * A small second connection to ZooKeeper for what the native binding cannot do: persistent
 * watches (`addWatch`, ZooKeeper 3.6+) and bulk reads (multi-read, 3.6+), spoken in ZooKeeper's
 * own wire protocol. It opens its own session, which never owns an ephemeral node or writes
 * anything, so its loss costs nothing but missed events and a slower read.
 *
 * A persistent recursive watch on `/services/api` reports `created /services/api/x` with the new
 * node's path, where a child watch only says "the children changed": a cache then needs one read
 * instead of a listing plus a read.
 *
 * **Connection loss.** On a dropped connection (or no reply within two thirds of the session
 * timeout) it emits `interrupted`, connects to the next server of the list (the same session
 * when it is still alive, else a new one), sets every watch again and emits `resumed`. Events
 * in between are lost: `resumed` tells the user to re-read. It keeps trying until closed.
 *
 * **Errors.** {@link WatchConnection.addWatch} rejects with the server's error, e.g.
 * `UnimplementedError` from a server older than 3.6, and with {@link AuthFailedError} when the
 * credentials are refused (the connection then closes).
 *
 * Most users want {@link watchRecursive}, which shares one such connection per `ZkClient`.
 *
 * @example
 * ```ts
 * const conn = new WatchConnection('zk1:2181,zk2:2181/app', { sessionTimeout: 10_000 });
 * conn.on('event', (e) => console.log(e.type, e.path));
 * conn.on('resumed', () => rereadEverything());
 * await conn.addWatch('/services', 'persistentRecursive');
 * // …
 * await conn.close();
 * ```
 */
export class WatchConnection extends Emitter<WatchConnectionEvents> {
  #hosts: { host: string; port: number }[];
  /** Server-side prefix: the chroot plus the namespace. */
  readonly #prefix: string;
  readonly #requestedTimeout: number;
  readonly #auth: AuthInfo[];
  readonly #watches = new Map<string, Watch>();
  readonly #pending = new Map<number, Pending>();
  #state: WatchConnectionState = 'idle';
  #socket: Socket | undefined;
  #handshakeDone = false;
  #next = 0;
  #failures = 0;
  #xid = 0;
  #sessionId = 0n;
  #password: Buffer = Buffer.alloc(16);
  #lastZxid = 0n;
  #timeout = 0;
  #lastReceived = 0;
  #interrupted = false;
  #sessionIdAtDrop = 0n;
  #timer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #connectedWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  /**
   * Nothing is sent before the first {@link WatchConnection.addWatch}.
   * @param connectString - `host:port[,host:port…][/chroot]`, as for `ZkClient`
   * @throws {@link InvalidArgumentError}, `InvalidPathError` for a bad connect string or option
   */
  constructor(connectString: string, options: WatchConnectionOptions = {}) {
    super();
    const { hosts, chroot } = parseConnectString(connectString);
    const namespace = options.namespace === undefined ? '' : validatePath(options.namespace);
    this.#hosts = hosts;
    this.#prefix = chroot + (namespace === '/' ? '' : namespace);
    const timeout = options.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT;
    // The handshake carries it as a signed 32-bit integer.
    if (!Number.isInteger(timeout) || timeout <= 0 || timeout > 0x7fffffff) {
      throw new InvalidArgumentError('sessionTimeout must be an integer in [1, 2147483647]');
    }
    for (const a of options.auth ?? []) {
      if (
        typeof a !== 'object' ||
        a === null ||
        typeof a.scheme !== 'string' ||
        a.scheme === '' ||
        typeof a.credentials !== 'string'
      ) {
        throw new InvalidArgumentError('auth needs a non-empty scheme and a credentials string');
      }
    }
    this.#requestedTimeout = timeout;
    this.#auth = [...(options.auth ?? [])];
    this.#next = Math.floor(Math.random() * hosts.length);
  }

  /** The connection's current state. */
  get state(): WatchConnectionState {
    return this.#state;
  }

  /**
   * `true` while connected with every watch set (between `resumed` and the next `interrupted`,
   * or since the first connection): events are being delivered.
   */
  get live(): boolean {
    return this.#state === 'connected' && !this.#interrupted;
  }

  /** The session id as a hex string (as `ZkClient.sessionId`) while one is established. */
  get sessionId(): string | undefined {
    return this.#sessionId === 0n ? undefined : this.#sessionId.toString(16);
  }

  /**
   * The current session's id and password (hex), in the form `ZkClientOptions.session` takes;
   * `undefined` while no session is established.
   */
  sessionCredentials(): { id: string; password: string } | undefined {
    const id = this.sessionId;
    return id === undefined
      ? undefined
      : { id, password: this.#password.toString('hex').toUpperCase() };
  }

  /** The paths watched (or being set), without the prefix. */
  get watches(): string[] {
    return [...this.#watches.keys()];
  }

  /**
   * Sets a persistent watch on `path` and keeps it set across reconnects. Connects first if
   * needed. Resolves once the server has accepted it; setting the same path again resolves with
   * the first call. While the connection is down it waits for the next one (bounded only by the
   * options).
   *
   * @throws {@link InvalidArgumentError} synchronously for an unknown mode, and when the path is
   * already watched in the other mode; the server's error (`UnimplementedError` before
   * ZooKeeper 3.6, …) or {@link AuthFailedError}, and the watch is forgotten; {@link ClientClosedError} after `close()`; the signal's reason on
   * abort (the watch stays set; remove it with {@link WatchConnection.removeWatch}).
   */
  addWatch(
    path: string,
    mode: WatchMode = 'persistentRecursive',
    options: WaitOptions = {},
  ): Promise<void> {
    validatePath(path);
    if (typeof mode !== 'string' || !Object.hasOwn(AddWatchMode, mode)) {
      throw new InvalidArgumentError(`unknown watch mode ${String(mode)}`);
    }
    const signal = combineSignals(options);
    if (this.#state === 'closed') return Promise.reject(new ClientClosedError());
    let watch = this.#watches.get(path);
    if (watch && watch.mode !== mode) {
      return Promise.reject(
        new InvalidArgumentError(`${path} is already watched as ${watch.mode}`),
      );
    }
    if (watch?.confirmed) return Promise.resolve();
    const added = new Promise<void>((resolve, reject) => {
      if (!watch) {
        watch = { mode, confirmed: false, waiters: [] };
        this.#watches.set(path, watch);
        // Its outcome reaches the waiters below: #sendAddWatch never rejects.
        if (this.#handshakeDone) void this.#sendAddWatch(path, watch);
      }
      watch.waiters.push({ resolve, reject });
    });
    added.catch(() => undefined);
    if (this.#state === 'idle') this.#connect();
    return raceSignal(added, signal);
  }

  /**
   * Removes a watch. Resolves once the server has confirmed it (at once when not connected: the
   * server drops a connection's watches with it). Errors are ignored.
   */
  async removeWatch(path: string): Promise<void> {
    const watch = this.#watches.get(path);
    if (!watch) return;
    this.#watches.delete(path);
    for (const w of watch.waiters) w.reject(new ClientClosedError({ path }));
    if (!this.#handshakeDone) return;
    const body = encode(new JuteWriter(), Records.WatchesRequest, {
      path: this.#serverPath(path),
      type: WatcherTypeCode.any,
    });
    await this.#request(OpCode.removeWatches, body).catch(() => undefined);
  }

  /**
   * Replaces the server list used from the next connection attempt on; the chroot of
   * `connectString` is ignored (the connection keeps its own). The current connection, if any,
   * stays where it is.
   * @throws {@link InvalidArgumentError} for a malformed list
   */
  updateServers(connectString: string): void {
    const { hosts } = parseConnectString(connectString);
    this.#hosts = hosts;
    this.#next = Math.floor(Math.random() * hosts.length);
  }

  /**
   * Connects now rather than on first use; resolves once a session is established and the
   * credentials are sent. Waits through failed attempts (bounded only by the options).
   * @throws {@link ClientClosedError}; the signal's reason or `TimeoutError`
   */
  connect(options: WaitOptions = {}): Promise<void> {
    return this.#whenConnected(combineSignals(options));
  }

  /**
   * Adds credentials: sent at once when connected (requests sent afterwards are served with
   * them) and on every later connection. A refused scheme closes the connection, as in the
   * constructor's `auth`.
   * @throws {@link InvalidArgumentError} for a malformed entry
   */
  addAuth(info: AuthInfo): void {
    if (
      typeof info?.scheme !== 'string' ||
      info.scheme === '' ||
      typeof info.credentials !== 'string'
    ) {
      throw new InvalidArgumentError('auth needs a non-empty scheme and string credentials');
    }
    const copy = { scheme: info.scheme, credentials: info.credentials };
    this.#auth.push(copy);
    if (this.#handshakeDone) this.#sendAuth(copy);
  }

  /**
   * A node's ACL and stat, read after a `sync` so that it reflects every change committed before
   * the call. Connects first if needed.
   *
   * @throws `InvalidPathError`; `NoNodeError`, `NoAuthError` and other server errors;
   * `ConnectionLossError`; {@link ClientClosedError}; the signal's reason on abort
   */
  getAcl(path: string, options: WaitOptions = {}): Promise<{ acl: Acl[]; stat: Stat }> {
    validatePath(path);
    const serverPath = this.#serverPath(path);
    return this.#read(options, async () => {
      const body = encode(new JuteWriter(), Records.PathRequest, { path: serverPath });
      const synced = this.#request(OpCode.sync, body);
      synced.catch(() => undefined);
      const reply = this.#call(OpCode.getAcl, body);
      reply.catch(() => undefined);
      await synced;
      const r = await reply.catch((error: unknown) => {
        throw withPath(error, path);
      });
      const { acl, stat } = decode(r, Records.AclResponse);
      return { acl: [...acl], stat };
    });
  }

  /**
   * Makes this connection's server catch up with the leader (ZooKeeper's `sync`): reads sent
   * after it see every change committed before it, including those made through other sessions.
   * Connects first if needed.
   *
   * @throws `InvalidPathError`; the server's error; `ConnectionLossError` when the connection
   * drops before the reply; {@link ClientClosedError}; the signal's reason on abort
   */
  sync(path: string, options: WaitOptions = {}): Promise<void> {
    validatePath(path);
    const body = encode(new JuteWriter(), Records.PathRequest, { path: this.#serverPath(path) });
    return this.#read(options, () => this.#request(OpCode.sync, body));
  }

  /**
   * The names of `path`'s children, unsorted, without setting a watch. Connects first if needed.
   *
   * @throws `InvalidPathError`; `NoNodeError` and other server errors; `ConnectionLossError`;
   * {@link ClientClosedError}; the signal's reason on abort
   */
  getChildren(path: string, options: WaitOptions = {}): Promise<string[]> {
    validatePath(path);
    const body = encode(new JuteWriter(), Records.PathWatchRequest, {
      path: this.#serverPath(path),
      watch: false,
    });
    return this.#read(options, async () => {
      const r = await this.#call(OpCode.getChildren, body).catch((error: unknown) => {
        throw withPath(error, path);
      });
      return [...decode(r, Records.ChildNamesResponse).children];
    });
  }

  /**
   * Reads the data and stat of many nodes with ZooKeeper's multi-read (3.6+): one request per
   * 128 nodes instead of one per node, answered from one consistent point of the server's
   * state per request. A node that cannot be read (deleted, not readable with this
   * connection's credentials) gets its own `error`; the others are still returned. No watch is
   * set. Results are in the order of `paths`.
   *
   * @throws `InvalidPathError` for any bad path, before anything is sent; `UnimplementedError`
   * from a server older than 3.6; `ConnectionLossError` when the connection drops before every
   * reply arrived; {@link ClientClosedError}; the signal's reason on abort
   */
  getMany(paths: readonly string[], options: WaitOptions = {}): Promise<ReadResult[]> {
    for (const path of paths) validatePath(path);
    return this.#read(options, async () => {
      const batches: Promise<ReadResult[]>[] = [];
      for (let at = 0; at < paths.length; at += READS_PER_REQUEST) {
        const batch = paths.slice(at, at + READS_PER_REQUEST);
        const body = new JuteWriter();
        for (const path of batch) {
          encode(body, Records.MultiHeader, { type: OpCode.getData, done: false, err: -1 });
          encode(body, Records.PathWatchRequest, { path: this.#serverPath(path), watch: false });
        }
        encode(body, Records.MultiHeader, { type: -1, done: true, err: -1 });
        batches.push(this.#call(OpCode.multiRead, body).then((r) => readMultiReply(r, batch)));
      }
      return (await Promise.all(batches)).flat();
    });
  }

  /**
   * Closes the session (the server forgets its watches at once) and the socket. Pending
   * `addWatch` calls reject with {@link ClientClosedError}. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#timer);
    for (const [, watch] of this.#watches) {
      for (const w of watch.waiters) w.reject(new ClientClosedError());
    }
    this.#watches.clear();
    const socket = this.#socket;
    if (socket && this.#handshakeDone) {
      const closing = this.#request(OpCode.closeSession, new JuteWriter()).catch(() => undefined);
      const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
      await Promise.race([closing, gone, bound]);
      clearTimeout(timer);
    }
    this.#failPending(new ClientClosedError());
    const waiters = this.#connectedWaiters;
    this.#connectedWaiters = [];
    for (const w of waiters) w.reject(new ClientClosedError());
    socket?.destroy();
    this.#socket = undefined;
    this.#handshakeDone = false;
    this.#sessionId = 0n;
  }

  /** Same as {@link WatchConnection.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------

  #setState(now: WatchConnectionState): void {
    const before = this.#state;
    if (before === now) return;
    this.#state = now;
    this.emit('state', now, before);
  }

  #connect(): void {
    if (this.#state === 'closed') return;
    this.#setState('connecting');
    const target = this.#hosts[this.#next % this.#hosts.length] as { host: string; port: number };
    this.#next++;
    const socket = createConnection({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#handshakeDone = false;
    const decoder = new FrameDecoder(MAX_PACKET);
    // Per server attempt, as the Java client does: the session timeout shared by the servers.
    const connectTimeout = Math.max(1000, Math.floor(this.#requestedTimeout / this.#hosts.length));
    const connectTimer = setTimeout(() => socket.destroy(), connectTimeout);
    socket.on('connect', () => {
      const request = encode(new JuteWriter(), Records.ConnectRequest, {
        protocolVersion: PROTOCOL_VERSION,
        lastZxidSeen: this.#lastZxid,
        timeOut: this.#requestedTimeout,
        sessionId: this.#sessionId,
        passwd: this.#password,
        readOnly: false,
      });
      socket.write(request.frame());
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      this.#lastReceived = Date.now();
      let packets: Buffer[];
      try {
        packets = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const packet of packets) {
        if (this.#socket !== socket) return;
        try {
          if (this.#handshakeDone) this.#onPacket(packet);
          else {
            clearTimeout(connectTimer);
            this.#onHandshake(packet, socket);
          }
        } catch {
          // A packet we cannot read: the stream is out of step, start over.
          socket.destroy();
          return;
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(connectTimer);
      if (this.#socket === socket) this.#onSocketClosed();
    });
  }

  #onHandshake(packet: Buffer, socket: Socket): void {
    const {
      timeOut: timeout,
      sessionId,
      passwd: password,
    } = decode(new JuteReader(packet), Records.ConnectResponse);
    if (timeout <= 0) {
      // The session we asked for has expired: the server closes this socket; the next attempt
      // asks for a new session on the same server.
      this.#sessionId = 0n;
      this.#password = Buffer.alloc(16);
      this.#next--;
      socket.destroy();
      return;
    }
    const newSession = sessionId !== this.#sessionIdAtDrop;
    this.#sessionId = sessionId;
    this.#password = Buffer.from(password);
    this.#timeout = timeout;
    this.#handshakeDone = true;
    this.#failures = 0;
    this.#lastReceived = Date.now();
    this.#setState('connected');
    // Ping every third of the timeout; a connection silent for two thirds of it is dead.
    this.#timer = setInterval(() => this.#tick(), Math.max(10, Math.floor(timeout / 3)));
    this.#timer.unref();
    for (const a of this.#auth) this.#sendAuth(a);
    const all = [...this.#watches].map(([path, watch]) => this.#sendAddWatch(path, watch));
    // Credentials went first: requests sent from now on are served with them.
    const waiters = this.#connectedWaiters;
    this.#connectedWaiters = [];
    for (const w of waiters) w.resolve();
    const resume = this.#interrupted;
    void Promise.all(all).then(() => {
      if (!resume || this.#socket !== socket || !this.#handshakeDone) return;
      this.#interrupted = false;
      this.emit('resumed', newSession);
    });
  }

  #sendAuth(a: AuthInfo): void {
    const body = encode(new JuteWriter(), Records.AuthPacket, {
      type: 0,
      scheme: a.scheme,
      auth: Buffer.from(a.credentials, 'utf8'),
    });
    this.#send(Xid.auth, OpCode.auth, body);
  }

  #tick(): void {
    const socket = this.#socket;
    if (!socket || !this.#handshakeDone) return;
    if (Date.now() - this.#lastReceived > (this.#timeout * 2) / 3) {
      socket.destroy();
      return;
    }
    this.#send(Xid.ping, OpCode.ping, new JuteWriter());
  }

  #onPacket(packet: Buffer): void {
    const r = new JuteReader(packet);
    const { xid, zxid, err } = decode(r, Records.ReplyHeader);
    if (zxid > this.#lastZxid) this.#lastZxid = zxid;
    if (xid === Xid.ping) return;
    if (xid === Xid.notification) {
      const event = decode(r, Records.WatcherEvent);
      const path = this.#clientPath(event.path);
      const eventType = EVENT_TYPES[event.type];
      if (eventType && path !== undefined) this.emit('event', { type: eventType, path, zxid });
      return;
    }
    if (xid === Xid.auth) {
      if (err !== 0) this.#fatal(new AuthFailedError());
      return;
    }
    const pending = this.#pending.get(xid);
    if (!pending) return;
    this.#pending.delete(xid);
    pending.settle(err === 0 ? undefined : errorFromCode(err), r);
  }

  /** Sets `watch` on the server and settles its waiters; the promise itself never rejects. */
  #sendAddWatch(path: string, watch: Watch): Promise<void> {
    const body = encode(new JuteWriter(), Records.AddWatchRequest, {
      path: this.#serverPath(path),
      mode: AddWatchMode[watch.mode],
    });
    return this.#request(OpCode.addWatch, body).then(
      () => {
        if (this.#watches.get(path) !== watch) return;
        watch.confirmed = true;
        const waiters = watch.waiters;
        watch.waiters = [];
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        // Connection loss: set again on the next connection.
        if (error instanceof ConnectionLossError || error instanceof ClientClosedError) return;
        if (this.#watches.get(path) !== watch) return;
        this.#watches.delete(path);
        for (const w of watch.waiters) w.reject(error);
        if (watch.confirmed) this.emit('dropped', path, error as ZkError);
      },
    );
  }

  #request(type: number, body: JuteWriter): Promise<void> {
    return this.#call(type, body).then(() => undefined);
  }

  /** Sends one request; resolves with a reader positioned after the reply header. */
  #call(type: number, body: JuteWriter): Promise<JuteReader> {
    return new Promise<JuteReader>((resolve, reject) => {
      const xid = this.#nextXid();
      this.#pending.set(xid, {
        settle: (error, reply) => (error ? reject(error) : resolve(reply as JuteReader)),
      });
      if (!this.#send(xid, type, body)) {
        this.#pending.delete(xid);
        reject(new ConnectionLossError());
      }
    });
  }

  /** Resolves once a session is established and its credentials sent; connects if idle. */
  #whenConnected(signal: AbortSignal | undefined): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new ClientClosedError());
    if (this.#handshakeDone) return Promise.resolve();
    const connected = new Promise<void>((resolve, reject) => {
      this.#connectedWaiters.push({ resolve, reject });
    });
    connected.catch(() => undefined);
    if (this.#state === 'idle') this.#connect();
    return raceSignal(connected, signal);
  }

  /** Runs `read` on a live connection; a connection lost before the reply rejects the call. */
  async #read<T>(options: WaitOptions, read: () => Promise<T>): Promise<T> {
    const signal = combineSignals(options);
    await this.#whenConnected(signal);
    return raceSignal(read(), signal);
  }

  #nextXid(): number {
    this.#xid = this.#xid >= 0x7fffffff ? 1 : this.#xid + 1;
    return this.#xid;
  }

  #send(xid: number, type: number, body: JuteWriter): boolean {
    const socket = this.#socket;
    if (!socket || !this.#handshakeDone || socket.destroyed) return false;
    const header = encode(new JuteWriter(), Records.RequestHeader, { xid, type })
      .frame()
      .subarray(4);
    const payload = body.frame().subarray(4);
    const frame = Buffer.allocUnsafe(4 + header.length + payload.length);
    frame.writeInt32BE(header.length + payload.length);
    header.copy(frame, 4);
    payload.copy(frame, 4 + header.length);
    socket.write(frame);
    return true;
  }

  #onSocketClosed(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const wasConnected = this.#handshakeDone;
    this.#socket = undefined;
    this.#handshakeDone = false;
    this.#failPending(new ConnectionLossError());
    if (this.#state === 'closed') return;
    if (wasConnected) {
      this.#sessionIdAtDrop = this.#sessionId;
      if (!this.#interrupted) {
        this.#interrupted = true;
        this.emit('interrupted');
      }
    } else {
      this.#failures++;
    }
    this.#setState('connecting');
    // Straight to the next server first; back off once every server has failed in a row.
    const round = Math.floor(this.#failures / this.#hosts.length);
    const wait = round === 0 ? 0 : Math.min(1000, 50 * 2 ** Math.min(round, 5));
    this.#reconnectTimer = setTimeout(() => this.#connect(), wait);
  }

  #failPending(error: ZkError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.settle(error);
  }

  /** The server refused us for good (bad credentials): close and fail every waiter. */
  #fatal(error: ZkError): void {
    for (const [path, watch] of this.#watches) {
      for (const w of watch.waiters) w.reject(error);
      if (watch.confirmed) this.emit('dropped', path, error);
    }
    this.#watches.clear();
    void this.close();
  }

  #serverPath(path: string): string {
    if (this.#prefix === '') return path;
    return path === '/' ? this.#prefix : this.#prefix + path;
  }

  #clientPath(path: string): string | undefined {
    if (this.#prefix === '') return path;
    if (path === this.#prefix) return '/';
    if (path.startsWith(this.#prefix + '/')) return path.slice(this.#prefix.length);
    return undefined;
  }
}

/** The results of one multi-read reply, one per requested path. */
function readMultiReply(r: JuteReader, paths: readonly string[]): ReadResult[] {
  const results: ReadResult[] = [];
  for (;;) {
    const { type, done, err } = decode(r, Records.MultiHeader);
    if (done) break;
    const path = paths[results.length];
    if (type === OpCode.getData) {
      results.push(decode(r, Records.DataResponse));
    } else if (type === OpCode.error) {
      const code = decode(r, Records.ErrorResponse).err;
      results.push({ error: errorFromCode(code, '', path === undefined ? {} : { path }) });
    } else {
      throw new RangeError(`unexpected operation ${type} (error ${err}) in a multi-read reply`);
    }
  }
  if (results.length !== paths.length) {
    throw new RangeError(`a multi-read reply with ${results.length} results for ${paths.length}`);
  }
  return results;
}

/** A server error for `path` carries the caller's path (the reply only has the code). */
function withPath(error: unknown, path: string): unknown {
  if (error instanceof ClientClosedError || !(error instanceof ZkError)) return error;
  return error.path === undefined ? errorFromCode(error.rc, '', { path }) : error;
}
