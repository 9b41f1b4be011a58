/**
 * The connection state machine: one transport at a time, the session it carries, the states
 * reported (Curator's), the signal of the session in force under the error policy, and the
 * replacement of a lost session by a new one.
 *
 * @internal
 * @module
 */
import diagnostics from 'node:diagnostics_channel';
import {
  checkNativeSockets,
  openNativeTransport,
  type NodeEventKind,
  type Transport,
  type TransportOptions,
} from './binding.js';
import type { Emitter } from './emitter.js';
import {
  ClientClosedError,
  ClientNotStartedError,
  ConnectTimeoutError,
  ConnectionLossError,
  NodeExistsError,
  SessionExpiredError,
  TlsError,
  ZkTimeoutError,
  errorFromCode,
  type ZkError,
} from './errors.js';
import type { ProtocolTransport } from './transport.js';
import { SASL_FAILED } from './wire/session.js';
import type { ConnectionState, ResolvedOptions, ZkClientEvents } from './options.js';
import { combineSignals, validateTimeout, waitSignal, type WaitOptions } from './signals.js';
import { formatHostPort, parseConnectString } from './wire/host-list.js';
import {
  WIRE_LIMITS,
  openWireTransport,
  type WireTransportOptions,
} from './wire/wire-transport.js';

const AUTH_FAILED = -113;

const stateChannel = diagnostics.channel('zkit:client:state');

/** What the state machine asks of the rest of the client. */
export interface SessionHooks {
  /** Makes sure the namespace node exists (on `absolute` paths); a node already there is fine. */
  ensureNamespace(namespace: string): Promise<void>;
  /** A node event of the current transport (path with the namespace). */
  node(kind: NodeEventKind, path: string): void;
  /** The session was lost: its watches and ephemeral nodes are gone. */
  lost(error: SessionExpiredError): void;
  /** The client closed. */
  closed(): void;
}

/** The state machine of one client. */
export class SessionState {
  readonly #client: Emitter<ZkClientEvents>;
  readonly #options: ResolvedOptions;
  readonly #auth: readonly { readonly scheme: string; readonly credentials: string }[];
  readonly #hooks: SessionHooks;
  /** The server list of the next transport: `host:port,…` plus the chroot. */
  servers: string;
  #state: ConnectionState = 'latent';
  #transport: Transport | undefined;
  #sessionId: string | undefined;
  #negotiatedTimeout: number | undefined;
  #trust = new AbortController();
  #expiryTimer: NodeJS.Timeout | undefined;
  #stateWaiters = new Set<() => void>();
  #startPromise: Promise<void> | undefined;
  #startFailure: Error | undefined;
  /** Aborts on `close()`: ends pauses in background work. */
  readonly closing = new AbortController();

  /**
   * @param client - the client whose events this reports
   * @param auth - the client's credentials, the live list (`addAuth` appends to it)
   */
  constructor(
    client: Emitter<ZkClientEvents>,
    options: ResolvedOptions,
    servers: string,
    auth: readonly { readonly scheme: string; readonly credentials: string }[],
    hooks: SessionHooks,
  ) {
    this.#client = client;
    this.#options = options;
    this.servers = servers;
    this.#auth = auth;
    this.#hooks = hooks;
    this.#trust.abort(new ClientNotStartedError());
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** `connected`, `reconnected` or `readOnly`: requests can be sent (reads only in the last). */
  get isConnected(): boolean {
    return (
      this.#state === 'connected' || this.#state === 'reconnected' || this.#state === 'readOnly'
    );
  }

  /** The transport in force; `undefined` while closed or between sessions. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  get sessionTimeout(): number {
    return this.#negotiatedTimeout ?? this.#options.sessionTimeout;
  }

  sessionCredentials(): { id: string; password: string } {
    const t = this.#transport;
    if (!t || this.#sessionId === undefined) {
      throw new ConnectionLossError({ cause: 'no session established' });
    }
    return { id: t.sessionId, password: t.sessionPassword };
  }

  sessionSignal(): AbortSignal {
    return this.#trust.signal;
  }

  /** @param name - names the client in the timeout's message */
  whenConnected(options: WaitOptions, name: string): Promise<void> {
    const signal = waitSignal(name, options);
    if (this.isConnected) return Promise.resolve();
    return this.waitForState(() => this.isConnected, signal, false, false);
  }

  assertOpen(): void {
    if (this.#state === 'closed') throw new ClientClosedError();
  }

  start(options: WaitOptions): Promise<void> {
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
        await this.waitForState(() => this.isConnected, signal, true);
        // Connected: the binding's socket is open, so whether it is close-on-exec can be seen.
        if (native) checkNativeSockets(true);
        await this.#prepareSession();
      } catch (error) {
        const failures = this.#transport?.connectFailures?.();
        await this.close();
        if (!(error instanceof ZkTimeoutError)) throw error;
        throw new ConnectTimeoutError(
          timeout,
          failures ??
            parseConnectString(this.servers).hosts.map((h) => ({
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

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const transport = this.#transport;
    this.#transport = undefined;
    this.#clearExpiryTimer();
    this.#setState('closed');
    this.closing.abort(new ClientClosedError());
    this.#hooks.closed();
    await transport?.close();
  }

  #openTransport(session?: { id: string; password: string }): void {
    const maxFrame = this.#options.maxFrameBytes;
    const options: TransportOptions & WireTransportOptions = {
      connectString: this.servers,
      sessionTimeout: this.#options.sessionTimeout,
      session,
      // The wire transport checks every frame it writes against the same limit as the client.
      limits: { outgoing: maxFrame, incoming: Math.max(WIRE_LIMITS.incoming, maxFrame) },
      canBeReadOnly: this.#options.canBeReadOnly,
      tls: this.#options.tls,
      sasl: this.#options.sasl,
    };
    let transport: Transport | undefined = undefined;
    const isCurrent = () => transport !== undefined && this.#transport === transport;
    const open = this.#options.transport === 'wire' ? openWireTransport : openNativeTransport;
    transport = open(options, {
      connected: () => {
        if (isCurrent()) this.#onConnected(transport as Transport);
      },
      disconnected: () => {
        if (isCurrent()) this.onSuspect();
      },
      closed: (code, error) => {
        if (isCurrent()) this.#onClosed(code, error);
      },
      node: (kind, path) => {
        if (!isCurrent()) return;
        this.#hooks.node(kind, path);
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
    if ((transport as Partial<ProtocolTransport>).readOnly === true) {
      this.#onReadOnly(id, previous);
      return;
    }
    if (this.#state === 'latent') {
      this.#trust = new AbortController();
      this.#setState('connected');
      this.#client.emit('session', id, previous);
      return;
    }
    // A reconnect the handle never announced as a drop.
    if (this.#state === 'connected' || this.#state === 'reconnected') return;
    // Same session and still trusted (the 'lost' policy): keep the signal holders already have,
    // so a later loss still reaches them.
    if (this.#trust.signal.aborted) this.#trust = new AbortController();
    this.#setState('reconnected');
    if (newSession) {
      this.#client.emit('session', id, previous);
      void this.#prepareSession().catch(() => undefined);
    }
  }

  /** Connected to a read-only server: counts as suspended for the session's trust. */
  #onReadOnly(id: string, previous: string | undefined): void {
    if (this.#state === 'readOnly') return;
    if (this.#options.errorPolicy === 'suspended' || this.#state === 'latent') {
      this.#trust.abort(new ConnectionLossError({ cause: 'connected to a read-only server' }));
    }
    if (this.#state === 'latent' && this.#options.errorPolicy === 'lost') {
      this.#trust = new AbortController();
    }
    this.#setState('readOnly');
    if (id !== previous) this.#client.emit('session', id, previous);
  }

  /** A drop (announced or inferred from a connection-loss reply). */
  onSuspect(): void {
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

  #onClosed(code: number, error?: ZkError): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'latent' && this.#options.session) {
      // Attaching to a given session that no longer exists: report it, never replace it.
      this.#startFailure = code === AUTH_FAILED ? errorFromCode(-115) : new SessionExpiredError();
      this.#notifyStateWaiters();
      return;
    }
    const refused = error instanceof TlsError || code === AUTH_FAILED || code === SASL_FAILED;
    if (this.#state === 'latent' && refused) {
      // Refused before the first session (certificates, credentials): a new session would be
      // refused the same way, so start() fails and the client closes.
      this.#startFailure = error ?? errorFromCode(-115);
      this.#notifyStateWaiters();
      return;
    }
    if (code === SASL_FAILED) {
      // The SASL credentials were refused on a reconnect: every new session would be too.
      void this.close();
      return;
    }
    this.#onLost();
  }

  #onLost(): void {
    if (this.#state === 'closed' || this.#state === 'lost') return;
    this.#clearExpiryTimer();
    const old = this.#transport;
    this.#transport = undefined;
    const error = new SessionExpiredError();
    this.#trust.abort(error);
    this.#setState('lost');
    this.#hooks.lost(error);
    // Nothing waits for the old transport: its session is gone, and so is anything a failure
    // to close it could say.
    Promise.resolve(old?.close()).catch(() => undefined);
    // A listener may have closed the client in the meantime.
    if (this.state === 'lost') this.#openTransport();
  }

  /** Per-session preparation: the namespace node. */
  async #prepareSession(): Promise<void> {
    const ns = this.#options.namespace;
    // A read-only server refuses the create; the first read-write session prepares itself.
    if (ns === '' || this.#state === 'readOnly') return;
    try {
      await this.#hooks.ensureNamespace(ns);
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
      // A `StateMessage` (client.ts).
      stateChannel.publish({
        client: this.#client,
        now,
        before,
        sessionId: this.#sessionId,
      });
    }
    this.#notifyStateWaiters();
    this.#client.emit('state', now, before);
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
  waitForState(
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
}
