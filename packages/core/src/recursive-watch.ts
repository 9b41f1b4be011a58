import type { AuthInfo, ConnectionState, ZkClient } from './client.js';
import { checkClient } from './check-client.js';
import {
  ClientClosedError,
  ConnectionLossError,
  InvalidArgumentError,
  NoNodeError,
  isRetryable,
  type ZkError,
} from './errors.js';
import { callListener } from './emitter.js';
import { join, parent, validatePath } from './paths.js';
import { anySignal, combineSignals, raceSignal, type WaitOptions } from './signals.js';
import type { Acl } from './binding.js';
import { clientAuth, clientWire, type ClientWire } from './internal.js';
import type { MultiReadResult, ProtocolTransport } from './transport.js';
import { publicEventType } from './watches.js';
import type { Stat } from './stat.js';
import { WatchConnection, type ReadResult, type WatchEvent } from './watch-connection.js';

/**
 * What a {@link watchRecursive} listener receives:
 * - a node event (`created`, `deleted`, `dataChanged`) for the watched node or any node below it;
 * - `interrupted`: the connection that holds the watch dropped (on the wire transport: the
 *   client is `suspended` or its session `lost`); events until `resumed` are not delivered;
 * - `resumed`: the server holds the watch again (it has answered the request that set it), so
 *   every change made from then on, by any session, is reported. Changes made while interrupted
 *   were not: re-read whatever you keep of the subtree.
 */
export type RecursiveWatchEvent =
  WatchEvent | { readonly type: 'interrupted' } | { readonly type: 'resumed' };

/** Options of {@link watchRecursive}. */
export interface RecursiveWatchOptions {
  /**
   * Extra credentials for the native transport's watch connection, a session of its own, which
   * presents the client's credentials and these. Only the call that opens a client's watch
   * connection sets them. Not used on the wire transport, where the client's own session (and
   * its credentials) serves the call.
   */
  readonly auth?: readonly AuthInfo[];
}

/** A recursive watch set by {@link watchRecursive}. */
export interface RecursiveWatch {
  /** The watched path, as given. */
  readonly path: string;
  /** `true` while the server holds the watch and the connection that holds it is up. */
  readonly active: boolean;
  /**
   * Resolves once the server holds the watch. Rejects with `UnimplementedError` (ZooKeeper
   * before 3.6), {@link AuthFailedError}, {@link ClientClosedError}, or the signal's reason /
   * `TimeoutError` (then the watch stays and may still become active). A watch whose `ready`
   * rejected with a server error is closed.
   */
  ready(options?: WaitOptions): Promise<void>;
  /**
   * Removes the watch: the last handle on its path removes it from the server (on the native
   * transport the last watch closes the watch connection's session). Idempotent.
   */
  close(): Promise<void>;
  /** Same as {@link RecursiveWatch.close}; enables `await using watch = …`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Companion {
  readonly connection: WatchConnection;
  readonly handles: Set<Handle>;
  readonly onState: (now: ConnectionState) => void;
  /** Bulk reads use the connection: it stays open until the client closes. */
  pinned: boolean;
  /** The client's credentials the connection presents (a prefix of the live list). */
  authSent: number;
}

const companions = new WeakMap<ZkClient, Companion>();
/** Clients whose server refused `addWatch`: later calls fail at once instead of reconnecting. */
const unsupported = new WeakMap<ZkClient, ZkError>();

class Handle implements RecursiveWatch {
  /** How a failure of its listener names it (see `ListenerError`). */
  readonly [Symbol.toStringTag] = 'RecursiveWatch';
  readonly path: string;
  readonly listener: (event: RecursiveWatchEvent) => void;
  readonly #ready: Promise<void>;
  readonly #release: (handle: Handle) => Promise<void>;
  readonly #live: () => boolean;
  #closed = false;
  #confirmed = false;

  constructor(
    path: string,
    listener: (event: RecursiveWatchEvent) => void,
    added: Promise<void>,
    release: (handle: Handle) => Promise<void>,
    live: () => boolean = () => false,
  ) {
    this.path = path;
    this.listener = listener;
    this.#release = release;
    this.#live = live;
    this.#ready = added.then(
      () => {
        this.#confirmed = true;
      },
      (error: unknown) => {
        if (!(error instanceof ClientClosedError) && !isRetryable(error)) void this.close();
        throw error;
      },
    );
    this.#ready.catch(() => undefined);
  }

  get active(): boolean {
    return this.#confirmed && !this.#closed && this.#live();
  }

  ready(options: WaitOptions = {}): Promise<void> {
    return raceSignal(this.#ready, combineSignals(options));
  }

  /**
   * Delivers one event to the listener. Its failure is not the watch's: it is reported and the
   * other watches still get the event.
   */
  deliver(event: RecursiveWatchEvent): void {
    if (this.#closed) return;
    callListener(this, event.type, this.listener, [event]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Whether `path` is `root` or below it. */
function within(root: string, path: string): boolean {
  return root === '/' || path === root || path.startsWith(root + '/');
}

function open(client: ZkClient, options: RecursiveWatchOptions): Companion {
  const connection = new WatchConnection(client.connectString, {
    sessionTimeout: client.sessionTimeout,
    namespace: client.namespace === '' ? undefined : client.namespace,
    auth: options.auth,
  });
  const handles = new Set<Handle>();
  const onState = (now: ConnectionState) => {
    if (now !== 'closed') return;
    close(client);
    for (const h of [...handles]) void h.close();
  };
  const companion: Companion = { connection, handles, onState, pinned: false, authSent: 0 };
  connection.on('event', (event) => {
    for (const h of [...handles]) if (within(h.path, event.path)) h.deliver(event);
  });
  connection.on('interrupted', () => {
    for (const h of [...handles]) h.deliver({ type: 'interrupted' });
  });
  connection.on('resumed', () => {
    for (const h of [...handles]) h.deliver({ type: 'resumed' });
  });
  connection.on('dropped', (path) => {
    for (const h of [...handles]) if (h.path === path) void h.close();
  });
  client.on('state', onState);
  companions.set(client, companion);
  presentClientAuth(client, companion);
  return companion;
}

function close(client: ZkClient): void {
  const companion = companions.get(client);
  if (!companion) return;
  companions.delete(client);
  client.off('state', companion.onState);
  void companion.connection.close();
}

/**
 * Watches `path` and every node below it with a persistent recursive watch (ZooKeeper 3.6+'s
 * `addWatch`), calling `listener` for each creation, deletion and data change with the changed
 * node's path. Unlike a child watch, the event names the new node, and the watch stays set
 * after firing.
 *
 * On the wire transport the watch lives on the client's own session: its events come in order
 * with the client's replies, and it follows the client's connection. The listener gets
 * `interrupted` when the client is `suspended` (or its session `lost`), then `resumed` once the
 * server has confirmed the watch again: on the same session the transport sets it again as it
 * reconnects; on a new session it is added again. A watch asked for before the client starts is
 * set once it is connected. Closing the last handle on a path removes the watch from the server;
 * the client's one-shot watches on that path stay set.
 *
 * The native binding cannot set such a watch, so there the watches of one client share one
 * extra connection with a session of its own ({@link WatchConnection}), opened on the first call
 * and closed with the last watch or with the client. It uses the client's connect string
 * (servers and chroot), namespace and session timeout. That connection reconnects by itself (to
 * the next server) and sets the watch again, with `interrupted` and `resumed` around it; its
 * state is independent of the client's.
 *
 * **Guarantees.** Events are hints, as with every watch: re-read on `resumed`, since changes in
 * between are not reported. On the native transport the main client may read a node before its
 * own server has applied the change the event reports (the two connections are not ordered with
 * respect to each other). Keep a normal watch as the source of truth and use this one to react
 * sooner.
 *
 * **Errors.** `ready()` rejects with `UnimplementedError` on a server without `addWatch` (older
 * than 3.6); callers should then go on without it. The refusal is remembered per client.
 * A listener that throws or returns a promise that rejects changes nothing: the failure is
 * reported on the `zkit:listener:error` channel, or as a process warning when nobody subscribes
 * (see {@link Emitter}).
 *
 * @example
 * ```ts
 * const watch = watchRecursive(client, '/services/api', (event) => {
 *   if (event.type === 'created') void readInstance(event.path);
 *   else if (event.type === 'resumed') void relistEverything();
 * });
 * await watch.ready().catch(() => watch.close()); // fall back to child watches
 * // …
 * await watch.close();
 * ```
 *
 * @throws `InvalidPathError` for a bad path, `InvalidArgumentError` for a missing client or a
 * listener that is not a function (synchronously, before anything is sent)
 */
export function watchRecursive(
  client: ZkClient,
  path: string,
  listener: (event: RecursiveWatchEvent) => void,
  options: RecursiveWatchOptions = {},
): RecursiveWatch {
  validatePath(path);
  checkClient(client);
  if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
  const refused = unsupported.get(client);
  const wire = clientWire.get(client);
  if (wire && !refused && client.state !== 'closed')
    return watchOnWire(client, wire, path, listener);
  const release = async (handle: Handle) => {
    const companion = companions.get(client);
    if (!companion || !companion.handles.delete(handle)) return;
    if (companion.handles.size === 0 && !companion.pinned) {
      close(client);
      return;
    }
    const stillWatched = [...companion.handles].some((h) => h.path === handle.path);
    if (!stillWatched) await companion.connection.removeWatch(handle.path);
  };
  if (refused) return new Handle(path, listener, Promise.reject(refused), release);
  if (client.state === 'closed') {
    return new Handle(path, listener, Promise.reject(new ClientClosedError()), release);
  }
  const companion = companions.get(client) ?? open(client, options);
  const added = companion.connection.addWatch(path, 'persistentRecursive').catch((error) => {
    if (
      !(error instanceof ClientClosedError) &&
      !(error instanceof ConnectionLossError) &&
      (error as ZkError).code === 'UNIMPLEMENTED'
    ) {
      unsupported.set(client, error as ZkError);
    }
    throw error;
  });
  const { connection } = companion;
  const handle = new Handle(path, listener, added, release, () => connection.live);
  companion.handles.add(handle);
  return handle;
}

/** A path watched on a wire client's own session, with the handles watching it. */
interface WireEntry {
  readonly handles: Set<Handle>;
  /** The transport (so the session) on which the server last confirmed the watch. */
  armedOn: ProtocolTransport | undefined;
  /** `interrupted` was delivered and `resumed` not yet. */
  interrupted: boolean;
  /** The latest `addWatch` for this path. */
  arming: Promise<void> | undefined;
}

/** The recursive watches of one wire client, by path (as given, without the namespace). */
interface WireWatches {
  readonly entries: Map<string, WireEntry>;
}

const wireWatches = new WeakMap<ZkClient, WireWatches>();

/** The recursive watches of `client`, set up on first use: event routing and state handling. */
function wireWatchesOf(client: ZkClient, wire: ClientWire): WireWatches {
  const existing = wireWatches.get(client);
  if (existing) return existing;
  const entries = new Map<string, WireEntry>();
  const watches: WireWatches = { entries };
  const namespace = client.namespace;
  const onState = (now: ConnectionState) => {
    if (now === 'closed') {
      wireWatches.delete(client);
      client.off('state', onState);
      wire.tap = undefined;
      for (const entry of entries.values()) for (const h of [...entry.handles]) void h.close();
      return;
    }
    if (now === 'suspended' || now === 'lost') {
      for (const entry of entries.values()) {
        if (entry.armedOn === undefined || entry.interrupted) continue;
        entry.interrupted = true;
        for (const h of [...entry.handles]) h.deliver({ type: 'interrupted' });
      }
      return;
    }
    // connected or reconnected. On the same session the transport has set every watch again
    // (`SetWatches2`) before any later request; a new session starts without them. The watches
    // resume once the server has answered that request: before, a change made by another
    // session could still go unreported (the server replays missed changes for one-shot
    // watches only), so `resumed` would promise what the server does not yet hold.
    const transport = wire.transport();
    let restored: Promise<boolean> | undefined;
    for (const [path, entry] of entries) {
      if (entry.armedOn === undefined) continue;
      if (entry.armedOn !== transport) {
        arm(client, wire, watches, path, entry).catch(() => undefined);
        continue;
      }
      restored ??= transport.watchesRestored();
      void restored.then((ok) => {
        if (ok && entry.armedOn === wire.transport() && client.isConnected) resume(entry);
      });
    }
  };
  client.on('state', onState);
  wire.tap = (kind, full) => {
    // A recursive watch reports creations, deletions and data changes, never child events.
    if (kind === 'child') return;
    const path = withoutNamespace(namespace, full);
    if (path === undefined) return;
    const transport = wire.transport();
    const event = { type: publicEventType(kind), path } as RecursiveWatchEvent;
    for (let at = path; ; at = parent(at)) {
      const entry = entries.get(at);
      if (entry && entry.armedOn === transport) {
        // An event of this connection means the server holds the watch again: `resumed` first.
        resume(entry);
        for (const h of [...entry.handles]) h.deliver(event);
      }
      if (at === '/') break;
    }
  };
  wireWatches.set(client, watches);
  return watches;
}

function resume(entry: WireEntry): void {
  if (!entry.interrupted) return;
  entry.interrupted = false;
  for (const h of [...entry.handles]) h.deliver({ type: 'resumed' });
}

/** `path` as the client names it, or `undefined` outside the namespace. */
function withoutNamespace(namespace: string, full: string): string | undefined {
  if (namespace === '') return full;
  if (full === namespace) return '/';
  return full.startsWith(namespace + '/') ? full.slice(namespace.length) : undefined;
}

/**
 * Sets the watch on the client's session (with the client's retry policy); once the server
 * confirms, the entry counts as set on that session and its handles resume.
 */
function arm(
  client: ZkClient,
  wire: ClientWire,
  watches: WireWatches,
  path: string,
  entry: WireEntry,
): Promise<void> {
  const arming = (async () => {
    // A watch may be asked for before the client is started: it is set once it is.
    if (client.state === 'latent') await client.whenConnected();
    const transport = await wire.run('addWatch', path, undefined, async (t, full) => {
      await t.addWatch(full, 'persistentRecursive');
      return t;
    });
    if (watches.entries.get(path) !== entry) return; // closed meanwhile: its release removes it
    entry.armedOn = transport;
    if (transport === wire.transport() && client.isConnected) resume(entry);
  })();
  entry.arming = arming;
  arming.catch((error: unknown) => {
    if (error instanceof ClientClosedError || isRetryable(error)) return;
    if ((error as ZkError).code === 'UNIMPLEMENTED') unsupported.set(client, error as ZkError);
    // The server refused to set it again: the watch is over.
    if (entry.armedOn !== undefined) for (const h of [...entry.handles]) void h.close();
  });
  return arming;
}

/** {@link watchRecursive} on a wire client: the watch lives on the client's own session. */
function watchOnWire(
  client: ZkClient,
  wire: ClientWire,
  path: string,
  listener: (event: RecursiveWatchEvent) => void,
): RecursiveWatch {
  const watches = wireWatchesOf(client, wire);
  let entry = watches.entries.get(path);
  if (!entry) {
    entry = { handles: new Set(), armedOn: undefined, interrupted: false, arming: undefined };
    watches.entries.set(path, entry);
  }
  const current = entry;
  const release = async (handle: Handle) => {
    if (!current.handles.delete(handle) || current.handles.size > 0) return;
    if (watches.entries.get(path) === current) watches.entries.delete(path);
    if (client.state === 'closed') return;
    await current.arming?.catch(() => undefined);
    // A watch asked for again on this path in the meantime keeps the server's.
    if (watches.entries.has(path)) return;
    // `any` is the only type the server removes a persistent watch with before 3.9.
    await wire
      .run('removeWatches', path, undefined, (t, full) => t.removeWatches(full, 'any'))
      .catch(() => undefined);
  };
  const live = () =>
    current.armedOn !== undefined &&
    current.armedOn === wire.transport() &&
    !current.interrupted &&
    client.isConnected;
  const handle = new Handle(
    path,
    listener,
    arm(client, wire, watches, path, current),
    release,
    live,
  );
  current.handles.add(handle);
  return handle;
}

/** One child read by {@link getChildrenData}. */
export interface ChildData {
  /** The child's name (not its path). */
  readonly name: string;
  readonly data: Buffer;
  readonly stat: Stat;
}

/** Clients whose server refused multi-read (older than 3.6): they read node by node. */
const noMultiRead = new WeakSet<ZkClient>();
/** How long bulk reads wait for the extra connection before reading through the client. */
const COMPANION_BUDGET_MS = 2000;

/**
 * The children of `path` with their data and stats, sorted by name, in as few round trips as
 * ZooKeeper allows: a `sync`, the listing and then one multi-read per 128 children (ZooKeeper
 * 3.6+). On the wire transport these are requests of the client's own session, with its retry
 * policy; on the native one (which has no multi-read) they go over the client's extra connection
 * (the one {@link watchRecursive} uses there). A cold listing of hundreds of small nodes then
 * costs a few milliseconds instead of one round trip per node. Children deleted between the
 * listing and the read are left out.
 *
 * **Consistency.** The `sync` first makes the server that answers catch up with the leader, so
 * the result includes every change committed before the call, the client's own writes among
 * them. Each multi-read answers from one point of the server's state.
 *
 * **Fallbacks.** On a server older than 3.6 the client lists and reads the children in parallel
 * instead (remembered per client). On the native transport the same happens where the extra
 * connection cannot serve the read (not up within 2 s, lost mid-read), and a child the extra
 * connection may not read is read through the client; once used, the extra connection stays
 * open until the client closes.
 *
 * @example
 * ```ts
 * const instances = await getChildrenData(client, '/services/api');
 * for (const { name, data } of instances) console.log(name, data.toString('utf8'));
 * ```
 *
 * @throws `InvalidPathError`, `NoNodeError` when `path` does not exist, the client's errors
 */
export async function getChildrenData(
  client: ZkClient,
  path: string,
  options: WaitOptions & RecursiveWatchOptions = {},
): Promise<ChildData[]> {
  validatePath(path);
  const signal = combineSignals(options);
  let found: ChildData[] | undefined;
  const wire = clientWire.get(client);
  if (!noMultiRead.has(client) && client.state !== 'closed') {
    found = wire
      ? await viaWire(client, wire, path, signal)
      : await viaCompanion(client, path, options, signal);
  }
  found ??= await viaClient(client, path, signal);
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How many nodes one multi-read asks for. */
const READS_PER_REQUEST = 128;

/**
 * The answer read on a wire client's own session, or `undefined` from a server without
 * multi-read (then the client reads node by node).
 */
async function viaWire(
  client: ZkClient,
  wire: ClientWire,
  path: string,
  signal: AbortSignal | undefined,
): Promise<ChildData[] | undefined> {
  // Sent together: the session's requests are answered in order, so the listing follows the sync.
  const synced = wire.run('sync', path, signal, (t, full) => t.sync(full));
  const listed = wire.run('getChildren', path, signal, (t, full) => t.getChildren(full, false));
  synced.catch(() => undefined);
  listed.catch(() => undefined);
  await synced;
  const names = (await listed).children;
  const batches: Promise<MultiReadResult[]>[] = [];
  for (let at = 0; at < names.length; at += READS_PER_REQUEST) {
    const batch = names.slice(at, at + READS_PER_REQUEST);
    batches.push(
      wire.run('multiRead', path, signal, (t, full) =>
        t.multiRead(batch.map((name) => join(full, name))),
      ),
    );
  }
  for (const b of batches) b.catch(() => undefined);
  let results: MultiReadResult[];
  try {
    results = (await Promise.all(batches)).flat();
  } catch (error) {
    if ((error as ZkError).code !== 'UNIMPLEMENTED') throw error;
    noMultiRead.add(client);
    return undefined;
  }
  return collect(client, path, names, results, signal);
}

/** The children read, those the read could not serve read again through the client. */
async function collect(
  client: ZkClient,
  path: string,
  names: readonly string[],
  results: readonly MultiReadResult[],
  signal: AbortSignal | undefined,
): Promise<ChildData[]> {
  const found: ChildData[] = [];
  const retry: Promise<void>[] = [];
  for (const [i, result] of results.entries()) {
    const name = names[i] as string;
    if (result.error === undefined) {
      found.push({ name, data: result.data, stat: result.stat });
    } else if (!(result.error instanceof NoNodeError)) {
      retry.push(
        readOne(client, path, name, signal).then((child) => {
          if (child) found.push(child);
        }),
      );
    }
  }
  await Promise.all(retry);
  return found;
}

/** The companion's answer, or `undefined` when it cannot give one (then the client reads). */
async function viaCompanion(
  client: ZkClient,
  path: string,
  options: RecursiveWatchOptions,
  signal: AbortSignal | undefined,
): Promise<ChildData[] | undefined> {
  const connection = pinnedCompanion(client, options).connection;
  const budget = AbortSignal.timeout(COMPANION_BUDGET_MS);
  const bounded = { signal: signal ? anySignal([signal, budget]) : budget };
  let names: string[];
  let results: ReadResult[];
  try {
    const synced = connection.sync(path, bounded);
    const listed = connection.getChildren(path, bounded);
    synced.catch(() => undefined);
    await synced;
    names = await listed;
    results = await connection.getMany(
      names.map((name) => join(path, name)),
      bounded,
    );
  } catch (error) {
    signal?.throwIfAborted();
    // The parent's absence is the answer, not a failure of the connection.
    if (error instanceof NoNodeError) throw error;
    if ((error as ZkError).code === 'UNIMPLEMENTED') noMultiRead.add(client);
    return undefined;
  }
  return collect(client, path, names, results, signal);
}

async function viaClient(
  client: ZkClient,
  path: string,
  signal: AbortSignal | undefined,
): Promise<ChildData[]> {
  const names = await client.getChildren(path, signal ? { signal } : {});
  const read = await Promise.all(names.map((name) => readOne(client, path, name, signal)));
  return read.filter((c): c is ChildData => c !== undefined);
}

async function readOne(
  client: ZkClient,
  path: string,
  name: string,
  signal: AbortSignal | undefined,
): Promise<ChildData | undefined> {
  try {
    const { data, stat } = await client.get(join(path, name), signal ? { signal } : {});
    return { name, data, stat };
  } catch (error) {
    if (error instanceof NoNodeError) return undefined;
    throw error;
  }
}

/**
 * Brings the extra connection's credentials up to the client's: the ones given at construction
 * and every `addAuth` since. Called before each use, so that it reads as the client would.
 */
function presentClientAuth(client: ZkClient, companion: Companion): void {
  const auth = clientAuth.get(client) ?? [];
  for (; companion.authSent < auth.length; companion.authSent++) {
    companion.connection.addAuth(auth[companion.authSent] as AuthInfo);
  }
}

/** The companion of `client`, opened if needed and kept until the client closes. */
function pinnedCompanion(client: ZkClient, options: RecursiveWatchOptions = {}): Companion {
  const companion = companions.get(client) ?? open(client, options);
  companion.pinned = true;
  presentClientAuth(client, companion);
  return companion;
}

/**
 * `getAcl` for {@link ZkClient.getAcl}, over the client's extra connection: the native binding
 * crashes the process when its ACL read fails (it frees a list it never got), so core does not
 * ask it.
 *
 * @internal
 */
export async function readAcl(
  client: ZkClient,
  path: string,
  signal: AbortSignal | undefined,
  timeout: number,
): Promise<{ acl: Acl[]; stat: Stat }> {
  if (client.state === 'closed') throw new ClientClosedError({ path });
  // The extra connection waits for a server as long as it is let: bound it as the client
  // bounds its own waits for a connection.
  const bound = AbortSignal.timeout(timeout);
  try {
    return await pinnedCompanion(client).connection.getAcl(path, {
      signal: signal ? anySignal([signal, bound]) : bound,
    });
  } catch (error) {
    if (bound.aborted && !signal?.aborted) {
      throw new ConnectionLossError({
        path,
        cause: `no answer over the extra connection within connectTimeout (${timeout} ms)`,
      });
    }
    throw error;
  }
}

/**
 * Points the client's extra connection, if it has one, at a new server list (for
 * `ZkClient.updateServers`).
 *
 * @internal
 */
export function updateExtraServers(client: ZkClient, connectString: string): void {
  companions.get(client)?.connection.updateServers(connectString);
}

/**
 * On the native transport, opens the client's extra connection now (the one
 * {@link getChildrenData}, {@link watchRecursive} and `getAcl` use there) and resolves once it is
 * connected, so that the first bulk read does not pay for a new session. It then stays open until
 * the client closes. On the wire transport the client's own session serves all of them: it
 * resolves at once.
 *
 * @throws {@link ClientClosedError}; the signal's reason or `TimeoutError`
 */
export function openExtraConnection(client: ZkClient, options: WaitOptions = {}): Promise<void> {
  if (client.state === 'closed') return Promise.reject(new ClientClosedError());
  // On the wire transport the client's own session serves all of it: nothing to open.
  if (clientWire.has(client)) return Promise.resolve();
  return pinnedCompanion(client).connection.connect(options);
}
