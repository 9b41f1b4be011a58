/**
 * One ZooKeeper session over a sequence of connections: the handshake, the request queue, pings,
 * the read timeout, credentials and watches set again on every connection, reconnecting to the
 * next server until the session ends. It knows records and codes, not operations: those are
 * built on {@link WireSession.request} by the transport.
 *
 * Timing follows the Java client, whose behaviour servers and operators expect:
 * - each connection attempt (TCP connect plus handshake) gets the session timeout divided by the
 *   number of server addresses;
 * - the read timeout is two thirds of the negotiated session timeout: a connection that brings
 *   nothing for that long is dead, even if TCP says otherwise (a silent partition);
 * - a ping goes out when nothing was sent for half the read timeout, so a healthy idle
 *   connection always brings something back in time.
 *
 * @internal
 * @module
 */
import { createConnection, isIP } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import {
  AuthFailedError,
  ConnectionLossError,
  TlsError,
  RequestTooLargeError,
  ProtocolError,
  SessionExpiredError,
  ZkError,
  errorFromCode,
} from '../errors.js';
import { JuteReader, JuteWriter } from '../jute.js';
import { FrameSocket, type FrameLimits } from './frame-socket.js';
import {
  HostList,
  formatHostPort,
  type HostPort,
  type ServerAddress,
  type ServerFailure,
} from './host-list.js';
import {
  Code,
  EventType,
  OpCode,
  PROTOCOL_VERSION,
  Records,
  Xid,
  decode,
  encode,
  requestFrame,
  type RecordOf,
  type Schema,
} from './records.js';
import { RequestQueue } from './request-queue.js';
import { DigestMd5Client } from './sasl-digest.js';
import { WatchTable, type WatchLists } from './watch-table.js';

/** What a {@link WireSession} reports. */
export interface SessionHandlers {
  /** A connection's handshake succeeded (the first, or a reconnect to the same session). */
  connected(): void;
  /** The connection dropped; the session may live on. `reason` says why, when known. */
  disconnected(reason: Error | undefined): void;
  /**
   * The session ended for good: -112 expired, -113 credentials refused, {@link TLS_FAILED} no
   * TLS connection before any session; `error` says why. Not after `close()`.
   */
  closed(code: number, error: ZkError): void;
  /** A watch fired (server path, with the chroot). */
  notification(type: number, path: string): void;
}

/** Options of a {@link WireSession}. */
export interface SessionOptions {
  readonly hosts: readonly HostPort[];
  /** Requested session timeout, ms. */
  readonly sessionTimeout: number;
  /** Attach to this session instead of asking for a new one. */
  readonly session?: { readonly id: bigint; readonly password: Buffer } | undefined;
  readonly limits: FrameLimits;
  /**
   * Accept a read-only server (a member cut off from the quorum, started with
   * `readonlymode.enabled=true`) when no read-write one answers; while on one, look for a
   * read-write server and move there once one answers.
   */
  readonly canBeReadOnly?: boolean | undefined;
  /** `node:tls` options: every connection uses TLS. */
  readonly tls?: ConnectionOptions | undefined;
  /**
   * SASL DIGEST-MD5 credentials: every connection authenticates with them after the handshake,
   * before any other request; a refusal ends the session with {@link SASL_FAILED}.
   */
  readonly sasl?: { readonly username: string; readonly password: string } | undefined;
}

interface AuthEntry {
  readonly scheme: string;
  readonly auth: Buffer;
  accepted: boolean;
  waiters: { resolve: () => void; reject: (error: Error) => void }[];
}

/** Handles a reply: returns the result, or throws a `ZkError` for the caller. */
export type ReplyReader<T> = (err: number, body: JuteReader) => T;

/** Bytes of watch paths per `SetWatches` request: keeps each far below the server's limit. */
const SET_WATCHES_CHUNK = 128 * 1024;
/** How long `close()` waits for the server to confirm the session's end. */
const CLOSE_WAIT_MS = 1000;
const PASSWORD_BYTES = 16;
/** Every ping is the same 12 bytes: built once, not at every ping of every session. */
const PING_FRAME = requestFrame(Xid.ping, OpCode.ping, undefined, undefined);
/**
 * While on a read-only server, the other servers are asked whether they are read-write (the
 * `isro` four-letter word, which every server started with `readonlymode.enabled=true` answers)
 * after this long, then after twice as long each time, up to {@link PROBE_MAX_MS} (the Java
 * client's bounds).
 */
const PROBE_MIN_MS = 100;
const PROBE_MAX_MS = 60_000;
/** xid, zxid and error code: what a server sends instead of a handshake to refuse one. */
const REPLY_HEADER_BYTES = 16;
/** A connection shorter than this counts as a failed attempt. */
const SHORT_CONNECTION_MS = 1000;

/** One session, kept across connections until it expires or is closed. */
export class WireSession {
  readonly watches = new WatchTable();
  readonly #handlers: SessionHandlers;
  readonly #hosts: HostList;
  readonly #limits: FrameLimits;
  readonly #requestedTimeout: number;
  readonly #queue = new RequestQueue();
  readonly #auths: AuthEntry[] = [];
  /** Credentials sent on the current connection and not yet answered, oldest first. */
  #authInFlight: AuthEntry[] = [];
  /** `SetWatches` requests sent on the current connection and not yet answered. */
  #watchesInFlight = 0;
  /** Callers of {@link watchesRestored} on the current connection. */
  #restoredWaiters: ((restored: boolean) => void)[] = [];
  #socket: FrameSocket | undefined;
  /** The server (`host:port` of the connect string) of the current or last connection attempt. */
  #server: string | undefined;
  /** The current connection is being dropped on purpose, to move to another server. */
  #moving = false;
  #handshakeDone = false;
  #closed = false;
  #sessionId = 0n;
  #password: Buffer = Buffer.alloc(PASSWORD_BYTES);
  #negotiatedTimeout = 0;
  #readOnly = false;
  readonly #canBeReadOnly: boolean;
  /**
   * A session created on a read-only server is known to that server only: until a read-write
   * server has accepted the session, every connection asks for a new one (session id 0).
   */
  #seenReadWrite: boolean;
  #probeTimer: NodeJS.Timeout | undefined;
  #probeWait = PROBE_MIN_MS;
  readonly #tls: ConnectionOptions | undefined;
  readonly #sasl: SessionOptions['sasl'];
  /** The current connection is in its SASL exchange: only SASL requests go out. */
  #authenticating = false;
  /** Attempts of the current round that failed in TLS, and those that failed otherwise. */
  #roundTls = 0;
  #roundOther = 0;
  #lastTlsError: Error | undefined;
  #lastZxid = 0n;
  #established = false;
  #failures = 0;
  #connectedAt = 0;
  #lastReceived = 0;
  #lastSent = 0;
  #tickTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** No more connection attempts. */
  #stopped = false;
  #closing: Promise<void> | undefined;
  /** Settles `#closing`: set while a close is under way. */
  #finishClose: (() => void) | undefined;
  #closeSent = false;

  constructor(options: SessionOptions, handlers: SessionHandlers) {
    this.#handlers = handlers;
    this.#hosts = new HostList(options.hosts);
    this.#limits = options.limits;
    this.#requestedTimeout = options.sessionTimeout;
    this.#canBeReadOnly = options.canBeReadOnly === true;
    this.#tls = options.tls;
    this.#sasl = options.sasl;
    this.#seenReadWrite = options.session !== undefined;
    if (options.session) {
      this.#sessionId = options.session.id;
      this.#password = Buffer.from(options.session.password);
    }
    void this.#connectNext();
  }

  get sessionId(): bigint {
    return this.#sessionId;
  }

  get password(): Buffer {
    return this.#password;
  }

  get negotiatedTimeout(): number {
    return this.#negotiatedTimeout;
  }

  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** The highest zxid seen in a reply. */
  get lastZxid(): bigint {
    return this.#lastZxid;
  }

  /** Whether requests can be sent now. */
  get connected(): boolean {
    return this.#handshakeDone && !this.#closed && !this.#authenticating;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Each server of the connect string with why the last attempt to reach it failed. */
  get failures(): ServerFailure[] {
    return this.#hosts.failures();
  }

  /** The server (`host:port`) the session is connected to, while it is. */
  get server(): string | undefined {
    return this.connected ? this.#server : undefined;
  }

  /**
   * Replaces the server list. When the list's rebalancing says this client should move (its
   * server left the list, or servers were added and this client is one of those that go to
   * them), the current connection is dropped and the session reconnects through the new list:
   * same session, requests in flight fail with `ConnectionLossError` (and are retried by the
   * client's policy). Returns whether it moves.
   */
  updateServers(hosts: readonly HostPort[]): boolean {
    if (this.#closed) return false;
    const move = this.#hosts.update(hosts, this.#server);
    const socket = this.#socket;
    if (move && socket) {
      this.#moving = true;
      socket.destroy(
        new ConnectionLossError({ cause: 'moving to another server to even out the load' }),
      );
    }
    return move;
  }

  /** Sends the requests made in this turn now rather than when the turn ends. */
  flush(): void {
    this.#socket?.flush();
  }

  /**
   * Sends one request. Rejects with `ConnectionLossError` when not connected or when the
   * connection drops before the reply, with `RequestTooLargeError` (before sending) when the request
   * is over the frame limit, and with whatever `read` throws.
   */
  request<S extends Schema, T>(
    type: number,
    schema: S | undefined,
    body: RecordOf<S> | undefined,
    read: ReplyReader<T>,
    path?: string,
  ): Promise<T> {
    const socket = this.#socket;
    if (this.#closed) return Promise.reject(errorFromCode(Code.closing, '', { path }));
    if (!socket || !this.#handshakeDone || this.#authenticating) {
      return Promise.reject(new ConnectionLossError({ path, cause: 'not connected' }));
    }
    return new Promise<T>((resolve, reject) => {
      const xid = this.#queue.nextXid();
      try {
        socket.write(requestFrame(xid, type, schema, body));
      } catch (error) {
        reject(
          error instanceof RequestTooLargeError
            ? new RequestTooLargeError(error.size, error.limit, { path })
            : error,
        );
        return;
      }
      this.#lastSent = Date.now();
      this.#queue.push({
        xid,
        reply: (err, r) => resolve(read(err, r)),
        fail: reject,
      });
    });
  }

  /**
   * Resolves `true` once the server has answered every request that set this connection's
   * watches again after a reconnect (at once when none is outstanding): from then on, the
   * server reports changes made by any session, not only those ordered after our own requests.
   * Resolves `false` when there is no connection, or when it drops first.
   */
  watchesRestored(): Promise<boolean> {
    if (!this.connected) return Promise.resolve(false);
    if (this.#watchesInFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => this.#restoredWaiters.push(resolve));
  }

  #settleRestored(restored: boolean): void {
    const waiters = this.#restoredWaiters;
    this.#restoredWaiters = [];
    for (const w of waiters) w(restored);
  }

  /**
   * Adds credentials: sent now when connected, and on every later connection. Resolves when the
   * server first accepts them; rejects with `AuthFailedError` when it refuses them (the session
   * then ends with `closed(-113)`), or when the session ends first.
   */
  addAuth(scheme: string, credentials: string): Promise<void> {
    if (this.#closed) return Promise.reject(errorFromCode(Code.closing));
    const entry: AuthEntry = {
      scheme,
      auth: Buffer.from(credentials, 'utf8'),
      accepted: false,
      waiters: [],
    };
    const accepted = new Promise<void>((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
    });
    this.#auths.push(entry);
    if (this.#handshakeDone && this.#socket) this.#sendAuth(this.#socket, entry);
    return accepted;
  }

  /**
   * Ends the session: asks the server to close it (it deletes the session's ephemeral nodes at
   * once) and closes the connection. Between two connections of a live session, it connects
   * once more just to say so. Requests in flight fail with a "closing" `ZkError` (-116).
   * Resolves once the server confirmed, the connection ended, or after a second without an
   * answer. Idempotent; reports nothing.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closing ?? Promise.resolve();
    this.#shutDown(errorFromCode(Code.closing));
    this.#closing = new Promise<void>((resolve) => {
      // The timer is not unref'd: the caller awaits this promise, and a process whose event
      // loop empties meanwhile would end with the promise unsettled.
      const timer = setTimeout(() => finish(), CLOSE_WAIT_MS);
      const finish = () => {
        clearTimeout(timer);
        this.#finishClose = undefined;
        this.#stop();
        this.#socket?.destroy();
        resolve();
      };
      this.#finishClose = finish;
      if (this.#handshakeDone && this.#socket) this.#sendClose(this.#socket);
      // No session yet: nothing to end on the server.
      else if (!this.#established) finish();
      // Otherwise the next handshake ends it (see #onHandshake).
    });
    return this.#closing;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Reports to the handlers. What they throw is theirs: it must not leave the rest of a chunk
   * unread (the stream would fall out of step), so it is rethrown on its own turn.
   */
  #tell(report: () => void): void {
    try {
      report();
    } catch (error) {
      setImmediate(() => {
        throw error;
      });
    }
  }

  #sendClose(socket: FrameSocket): void {
    const xid = this.#queue.nextXid();
    const done = () => this.#finishClose?.();
    try {
      socket.write(requestFrame(xid, OpCode.closeSession, undefined, undefined));
    } catch {
      done();
      return;
    }
    this.#closeSent = true;
    this.#queue.push({ xid, reply: done, fail: done });
  }

  /** No more connection attempts. */
  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
  }

  /** Marks the session over for its users: requests and credential waiters failed. */
  #shutDown(error: Error): void {
    this.#closed = true;
    clearInterval(this.#tickTimer);
    clearTimeout(this.#probeTimer);
    this.#tickTimer = undefined;
    this.#queue.failAll(error);
    for (const entry of this.#auths) {
      const waiters = entry.waiters;
      entry.waiters = [];
      for (const w of waiters) w.reject(error);
    }
  }

  /** The session ended on the server's word. */
  #end(code: number, error: ZkError): void {
    if (this.#closed) return;
    this.#shutDown(error);
    this.#stop();
    this.#socket?.destroy();
    this.#handshakeDone = false;
    this.#tell(() => this.#handlers.closed(code, error));
  }

  async #connectNext(): Promise<void> {
    if (this.#stopped) return;
    if (this.#hosts.roundDone) {
      // Before any session: a round in which every server refused TLS is a configuration
      // problem (a wrong CA, a certificate for another name); more rounds would only repeat it.
      if (!this.#established && this.#roundTls > 0 && this.#roundOther === 0) {
        this.#end(TLS_FAILED, new TlsError(this.#hosts.failures(), { cause: this.#lastTlsError }));
        return;
      }
      this.#roundTls = 0;
      this.#roundOther = 0;
    }
    if (this.#hosts.roundDone && this.#failures > 0) {
      // Every address failed in a row: wait a little before the next round, longer each time.
      const rounds = Math.ceil(this.#failures / this.#hosts.size);
      const wait = Math.min(1000, 25 * 2 ** Math.min(rounds, 6)) * (0.5 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        this.#retryTimer = setTimeout(resolve, wait);
      });
      if (this.#stopped) return;
    }
    let address: ServerAddress | undefined;
    try {
      address = await this.#hosts.next();
    } catch {
      address = undefined;
    }
    if (this.#stopped) return;
    try {
      if (!address) throw new ConnectionLossError({ cause: 'no server address resolves' });
      this.#attempt(address);
    } catch {
      // Nothing to connect to this time (no name resolves, or the address is refused at once):
      // the next attempt waits as after any failure.
      this.#failures++;
      void this.#connectNext();
    }
  }

  #attempt(address: ServerAddress): void {
    const timeout = Math.max(
      1,
      Math.floor((this.#negotiatedTimeout || this.#requestedTimeout) / this.#hosts.size),
    );
    let connectTimer: NodeJS.Timeout | undefined = undefined;
    const socket: FrameSocket = new FrameSocket(
      address,
      this.#limits,
      {
        open: () => {
          const request = new JuteWriter();
          encode(request, Records.ConnectRequest, {
            protocolVersion: PROTOCOL_VERSION,
            lastZxidSeen: this.#lastZxid,
            timeOut: this.#requestedTimeout,
            sessionId: this.#seenReadWrite ? this.#sessionId : 0n,
            passwd: this.#seenReadWrite ? this.#password : Buffer.alloc(PASSWORD_BYTES),
            readOnly: this.#canBeReadOnly,
          });
          socket.write(request.frame());
        },
        // A long reply arrives in many chunks: each one shows the server is there.
        received: () => {
          if (this.#socket === socket) this.#lastReceived = Date.now();
        },
        frame: (packet) => {
          if (this.#socket !== socket) return;
          if (this.#handshakeDone) this.#onFrame(socket, packet);
          else {
            clearTimeout(connectTimer);
            this.#onHandshake(socket, packet);
          }
        },
        closed: (reason) => {
          clearTimeout(connectTimer);
          if (this.#socket === socket && !this.#handshakeDone && !this.#moving) {
            this.#hosts.failed(address, reason);
            if (isTlsFailure(reason)) {
              this.#roundTls++;
              this.#lastTlsError = reason;
            } else this.#roundOther++;
          }
          if (this.#socket === socket) this.#onSocketClosed(reason);
        },
      },
      this.#tls,
    );
    this.#socket = socket;
    this.#server = address.server;
    this.#handshakeDone = false;
    connectTimer = setTimeout(
      () =>
        socket.destroy(
          new ConnectionLossError({
            cause: `no session from ${address.host} within ${timeout} ms`,
          }),
        ),
      timeout,
    );
  }

  #onHandshake(socket: FrameSocket, packet: Buffer): void {
    let response: RecordOf<typeof Records.ConnectResponse>;
    let readOnly = false;
    if (packet.length === REPLY_HEADER_BYTES) {
      // Not a handshake but a reply header with an error: a read-only server without local
      // sessions refuses to create a session this way (ZNOTREADONLY).
      const code = packet.readInt32BE(12);
      socket.destroy(
        new ConnectionLossError({
          cause:
            code === Code.notReadOnly
              ? 'the server is read-only and creates no session (it needs localSessionsEnabled=true)'
              : errorFromCode(code),
        }),
      );
      return;
    }
    try {
      const r = new JuteReader(packet);
      response = decode(r, Records.ConnectResponse);
      if (r.remaining >= 1) readOnly = r.bool();
    } catch (cause) {
      socket.destroy(new ProtocolError('the server sent an unreadable handshake', { cause }));
      return;
    }
    if (response.timeOut <= 0) {
      // The session we asked to resume is gone on the server (when closing: already ended).
      if (this.#closed) this.#finishClose?.();
      else this.#end(Code.sessionExpired, new SessionExpiredError());
      return;
    }
    this.#sessionId = response.sessionId;
    this.#password = Buffer.from(response.passwd);
    this.#negotiatedTimeout = response.timeOut;
    this.#readOnly = readOnly;
    if (!readOnly) this.#seenReadWrite = true;
    this.#handshakeDone = true;
    if (this.#closed) {
      // Connected only to end the session.
      this.#sendClose(socket);
      return;
    }
    const now = Date.now();
    this.#connectedAt = now;
    this.#lastReceived = now;
    this.#lastSent = now;
    this.#startTicking();
    if (this.#sasl) {
      this.#authenticating = true;
      void this.#authenticate(socket, this.#sasl, readOnly);
      return;
    }
    this.#ready(socket, readOnly);
  }

  /** The connection serves requests: credentials, watches, then the news. */
  #ready(socket: FrameSocket, readOnly: boolean): void {
    // Credentials first, then the watches: requests the client sends next are served with both.
    for (const entry of this.#auths) this.#sendAuth(socket, entry);
    if (this.#established) this.#setWatches(socket);
    this.#established = true;
    if (readOnly) this.#scheduleProbe(socket);
    else this.#probeWait = PROBE_MIN_MS;
    this.#tell(() => this.#handlers.connected());
  }

  /**
   * The SASL exchange of a connection, before anything else is sent on it: tokens go back and
   * forth until the mechanism is satisfied. A refusal (by the server, or the server's proof
   * refused here) ends the session; a dropped connection tries again on the next one.
   */
  async #authenticate(
    socket: FrameSocket,
    credentials: { readonly username: string; readonly password: string },
    readOnly: boolean,
  ): Promise<void> {
    const mechanism = new DigestMd5Client(credentials.username, credentials.password);
    let token: Buffer | undefined = Buffer.alloc(0);
    try {
      while (token !== undefined && !mechanism.complete) {
        const reply = await this.#saslRequest(socket, token);
        if (this.#socket !== socket) return;
        token = mechanism.respond(reply);
      }
    } catch (error) {
      if (this.#socket !== socket) return;
      if (error instanceof AuthFailedError) this.#end(SASL_FAILED, error);
      // Otherwise the connection dropped: the next one authenticates again.
      return;
    }
    if (this.#socket !== socket || !this.#handshakeDone) return;
    this.#authenticating = false;
    this.#ready(socket, readOnly);
  }

  /** One SASL request on `socket`, past the gate that holds other requests back meanwhile. */
  #saslRequest(socket: FrameSocket, token: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const xid = this.#queue.nextXid();
      socket.write(requestFrame(xid, OpCode.sasl, Records.SaslToken, { token }));
      this.#lastSent = Date.now();
      this.#queue.push({
        xid,
        reply: (err, r) => {
          if (err === Code.ok) resolve(decode(r, Records.SaslToken).token);
          else if (err === Code.authFailed) reject(new AuthFailedError({ cause: 'SASL' }));
          else reject(errorFromCode(err));
        },
        fail: reject,
      });
    });
  }

  /** While on a read-only server: looks for a read-write one, and moves there when found. */
  #scheduleProbe(socket: FrameSocket): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(() => {
      void this.#probe(socket);
    }, this.#probeWait);
    this.#probeTimer.unref();
    this.#probeWait = Math.min(this.#probeWait * 2, PROBE_MAX_MS);
  }

  async #probe(socket: FrameSocket): Promise<void> {
    const current = this.#server;
    for (const host of this.#hosts.hosts) {
      if (this.#socket !== socket || !this.#handshakeDone) return;
      if (formatHostPort(host) === current) continue;
      if ((await askReadOnly(host, this.#tls)) !== 'rw') continue;
      if (this.#socket !== socket || !this.#handshakeDone) return;
      this.#hosts.prefer(host);
      this.#moving = true;
      socket.destroy(new ConnectionLossError({ cause: 'moving to a read-write server' }));
      return;
    }
    if (this.#socket === socket && this.#handshakeDone) this.#scheduleProbe(socket);
  }

  #sendAuth(socket: FrameSocket, entry: AuthEntry): void {
    const frame = requestFrame(Xid.auth, OpCode.auth, Records.AuthPacket, {
      type: 0,
      scheme: entry.scheme,
      auth: entry.auth,
    });
    try {
      socket.write(frame);
    } catch (error) {
      for (const w of entry.waiters) w.reject(error as Error);
      entry.waiters = [];
      return;
    }
    this.#lastSent = Date.now();
    this.#authInFlight.push(entry);
  }

  /**
   * Sets every watch again, relative to the last zxid seen: the server fires at once those whose
   * node changed since, so a change made while we were away is still reported.
   */
  #setWatches(socket: FrameSocket): void {
    if (this.watches.size === 0) return;
    this.#writeWatches(socket, this.watches.lists());
  }

  /**
   * Sets these watches again on the current connection, relative to the last zxid seen: the
   * server fires at once those whose node changed since. Without a connection nothing is sent
   * (the next connection sets every watch of the table).
   */
  setWatches(lists: WatchLists): void {
    const socket = this.#socket;
    if (socket && this.connected) this.#writeWatches(socket, lists);
  }

  #writeWatches(socket: FrameSocket, lists: WatchLists): void {
    const kinds = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;
    let chunk = emptyChunk();
    let bytes = 0;
    const flush = () => {
      // SetWatches2 exists since 3.6 only; older servers get SetWatches, which is all they know.
      const frame =
        chunk.persistent.length + chunk.persistentRecursive.length > 0
          ? requestFrame(Xid.setWatches, OpCode.setWatches2, Records.SetWatches2, {
              relativeZxid: this.#lastZxid,
              dataWatches: chunk.data,
              existWatches: chunk.exist,
              childWatches: chunk.child,
              persistentWatches: chunk.persistent,
              persistentRecursiveWatches: chunk.persistentRecursive,
            })
          : requestFrame(Xid.setWatches, OpCode.setWatches, Records.SetWatches, {
              relativeZxid: this.#lastZxid,
              dataWatches: chunk.data,
              existWatches: chunk.exist,
              childWatches: chunk.child,
            });
      socket.write(frame);
      this.#watchesInFlight++;
      chunk = emptyChunk();
      bytes = 0;
    };
    for (const kind of kinds) {
      for (const path of lists[kind]) {
        chunk[kind].push(path);
        bytes += Buffer.byteLength(path) + 4;
        if (bytes >= SET_WATCHES_CHUNK) flush();
      }
    }
    if (bytes > 0) flush();
    this.#lastSent = Date.now();
  }

  #onFrame(socket: FrameSocket, packet: Buffer): void {
    const r = new JuteReader(packet);
    let xid: number;
    let zxid: bigint;
    let err: number;
    try {
      xid = r.int();
      zxid = r.long();
      err = r.int();
    } catch {
      socket.destroy(new ProtocolError(`a reply of ${packet.length} bytes has no header`));
      return;
    }
    if (xid === Xid.notification) {
      this.#onNotification(socket, r);
      return;
    }
    if (zxid > 0n) {
      if (zxid < this.#lastZxid) {
        // A server behind what we have already seen would show us the past: try another.
        socket.destroy(
          new ProtocolError(`the server is behind: zxid ${zxid} after ${this.#lastZxid}`),
        );
        return;
      }
      this.#lastZxid = zxid;
    }
    if (xid === Xid.ping) return;
    if (xid === Xid.setWatches) {
      // Answered in order: the last reply means the server holds every watch again.
      if (this.#watchesInFlight > 0 && --this.#watchesInFlight === 0) this.#settleRestored(true);
      return;
    }
    if (xid === Xid.auth) {
      this.#onAuthReply(err);
      return;
    }
    const request = this.#queue.take(xid);
    if (!request) {
      const expected = this.#queue.oldestXid;
      socket.destroy(
        new ProtocolError(
          expected === undefined
            ? `a reply for xid ${xid} with no request in flight`
            : `a reply for xid ${xid} while the oldest request in flight is ${expected}`,
        ),
      );
      return;
    }
    try {
      request.reply(err, r);
    } catch (cause) {
      if (cause instanceof ZkError) {
        request.fail(cause);
        return;
      }
      const error = new ProtocolError(`an unreadable reply to xid ${xid}`, { cause });
      request.fail(new ConnectionLossError({ cause: error }));
      socket.destroy(error);
    }
  }

  #onNotification(socket: FrameSocket, r: JuteReader): void {
    let event: RecordOf<typeof Records.WatcherEvent>;
    try {
      event = decode(r, Records.WatcherEvent);
    } catch (cause) {
      socket.destroy(new ProtocolError('an unreadable notification', { cause }));
      return;
    }
    if (event.type === EventType.none) return;
    this.watches.fired(event.type, event.path);
    this.#tell(() => this.#handlers.notification(event.type, event.path));
  }

  #onAuthReply(err: number): void {
    const entry = this.#authInFlight.shift();
    if (err === Code.ok) {
      if (!entry) return;
      entry.accepted = true;
      const waiters = entry.waiters;
      entry.waiters = [];
      for (const w of waiters) w.resolve();
      return;
    }
    // The server refuses the credentials and closes the connection; as the other clients do,
    // the session is then given up.
    if (entry) {
      const index = this.#auths.indexOf(entry);
      if (index !== -1) this.#auths.splice(index, 1);
      const waiters = entry.waiters;
      entry.waiters = [];
      for (const w of waiters) w.reject(new AuthFailedError());
    }
    this.#end(-113, new AuthFailedError());
  }

  #startTicking(): void {
    clearInterval(this.#tickTimer);
    const readTimeout = Math.floor((this.#negotiatedTimeout * 2) / 3);
    const pingAfter = Math.floor(readTimeout / 2);
    this.#tickTimer = setInterval(
      () => {
        const socket = this.#socket;
        if (!socket || !this.#handshakeDone) return;
        const now = Date.now();
        if (now - this.#lastReceived >= readTimeout) {
          socket.destroy(
            new ConnectionLossError({
              cause: `nothing received for ${now - this.#lastReceived} ms (read timeout ${readTimeout} ms)`,
            }),
          );
          return;
        }
        if (now - this.#lastSent >= pingAfter) {
          socket.write(PING_FRAME);
          this.#lastSent = now;
        }
      },
      Math.max(10, Math.floor(readTimeout / 6)),
    );
    this.#tickTimer.unref();
  }

  #onSocketClosed(reason: Error | undefined): void {
    clearTimeout(this.#probeTimer);
    const wasAuthenticating = this.#authenticating;
    this.#authenticating = false;
    clearInterval(this.#tickTimer);
    this.#tickTimer = undefined;
    // A connection still in its SASL exchange was never announced: its end is not a drop.
    const wasConnected = this.#handshakeDone && !wasAuthenticating;
    this.#socket = undefined;
    this.#handshakeDone = false;
    this.#authInFlight = [];
    this.#watchesInFlight = 0;
    this.#settleRestored(false);
    if (this.#closed) {
      // Closing between connections of a live session: try the next server to end it.
      if (this.#closeSent || this.#stopped) this.#finishClose?.();
      else void this.#connectNext();
      return;
    }
    this.#queue.failAll(
      new ConnectionLossError({
        cause: reason instanceof ConnectionLossError ? (reason.cause ?? reason) : reason,
      }),
    );
    if (wasConnected) this.#tell(() => this.#handlers.disconnected(reason));
    // A connection that ends at once (a server that accepts and then drops us, or one that is
    // behind) counts as a failed attempt, so that such servers are not tried in a tight loop.
    // A move on purpose is not a failure: the next server is tried at once.
    const moved = this.#moving;
    this.#moving = false;
    if (moved || (wasConnected && Date.now() - this.#connectedAt >= SHORT_CONNECTION_MS)) {
      this.#failures = 0;
    } else this.#failures++;
    void this.#connectNext();
  }
}

/** What `closed` reports when the server refused the SASL credentials. */
export const SASL_FAILED = -1001;

/** What `closed` reports when no server could be reached over TLS before any session. */
export const TLS_FAILED = -1000;

/**
 * Whether a connection failed in TLS: the server's certificate was refused here, or ours (or
 * TLS itself) there. Certificate checks fail with OpenSSL's verification codes; alerts and
 * protocol failures with `ERR_SSL_*` / `ERR_TLS_*`.
 */
function isTlsFailure(error: Error | undefined): error is Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' &&
    (/^ERR_(SSL|TLS)_/.test(code) || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code))
  );
}

/** How long a read-only probe waits for a server's answer. */
const PROBE_TIMEOUT_MS = 1000;

/** Asks a server `isro`: `'rw'` or `'ro'`, or `undefined` when it does not answer in time. */
function askReadOnly(
  host: HostPort,
  tls: ConnectionOptions | undefined,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let answer = '';
    const where = { host: host.host, port: host.port };
    const socket = tls
      ? connectTls({
          ...tls,
          ...where,
          ...(isIP(host.host) === 0 && !tls.servername ? { servername: host.host } : {}),
        })
      : createConnection(where);
    const timer = setTimeout(() => socket.destroy(), PROBE_TIMEOUT_MS);
    socket.setEncoding('latin1');
    socket.on(tls ? 'secureConnect' : 'connect', () => socket.end('isro'));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer === 'rw' || answer === 'ro' ? answer : undefined);
    });
  });
}

function emptyChunk(): {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
} {
  return { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
}
