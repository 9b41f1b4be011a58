/**
 * One participant's place in an election line: the algorithm shared by {@link LeaderLatch} and
 * {@link LeaderSelector}, which differ only in the node name (`latch-` or `lock-`) and in what a
 * term is tied to. Internal: not exported from the package.
 *
 * The line is Curator's: each participant owns an ephemeral-sequential protected node
 * `P/_c_<uuid>-<name><seq10>` holding its id; children sort by the text after the last `<name>`;
 * the first is the leader; every other participant watches only the node just before its own.
 *
 * @module
 */
import {
  BadVersionError,
  ClientClosedError,
  DataTooLargeError,
  InvalidArgumentError,
  Line,
  SessionExpiredError,
  checkLineArgs,
  delay,
  isRetryable,
  join,
  raceSignal,
  type ConnectionState,
  type LineListing,
  type LineNode,
  type NodeEvent,
  type ZkClient,
} from '@zkit/core';
import { ActiveTerm } from './term.js';
import { backoff, scope, until, type Scope } from './wait.js';

/**
 * Checks a participant's constructor arguments before anything is sent: a client, an election
 * path of its own (every child of the path takes part, so the root would count unrelated nodes
 * as participants), and an id that fits in a node.
 *
 * @returns the id, defaulted to `''`
 */
export function checkElectionArgs(client: unknown, path: unknown, id: unknown): string {
  checkLineArgs(client, path, 'an election');
  const value = id ?? '';
  if (typeof value !== 'string') throw new InvalidArgumentError('id must be a string');
  const size = Buffer.byteLength(value, 'utf8');
  const limit = (client as ZkClient).maxDataBytes;
  if (size > limit) throw new DataTooLargeError(size, limit, { path: path as string });
  return value;
}

/** Where the last listing put us. */
export type Standing =
  | { readonly kind: 'absent' }
  | { readonly kind: 'first'; readonly pzxid: bigint }
  | { readonly kind: 'behind'; readonly predecessor: string };

/** A won election, before the caller hands the term out. */
export interface Win {
  readonly term: ActiveTerm;
  /** Lifetime of the term's watches; the caller ends it when the term is over. */
  readonly scope: Scope;
}

/** Callbacks of {@link Candidate.campaign}. */
export interface CampaignHooks {
  /** Our node exists and its position has been read (called after every listing). */
  joined(): void;
  /** An unexpected error; the campaign backs off and retries, or ends with what this throws. */
  failed(error: unknown): void;
}

const ABSENT: Standing = Object.freeze({ kind: 'absent' });

/** Abort reason of a wait cut short because the connection came back or the session changed. */
class Wake extends Error {
  constructor() {
    super('the connection changed; re-reading the election');
  }
}

/** @internal */
export class Candidate {
  readonly client: ZkClient;
  /** The election path. */
  readonly path: string;
  /** `latch-` or `lock-`. */
  readonly nodeName: string;
  readonly id: string;
  /** What our node stores: the id, unless the recipe stores something else. */
  readonly #data: string;
  readonly #line: Line;
  #node: LineNode | undefined;
  /** The listing sent together with our node's create, until the next read of the line. */
  #joined: { node: LineNode; listed: Promise<LineListing | undefined> } | undefined;
  #lastToken = -1n;
  #creating: Promise<boolean> | undefined;
  readonly #wakeable = new Set<AbortController>();
  #attached = false;

  constructor(client: ZkClient, path: string, nodeName: string, id: string, data: string = id) {
    this.client = client;
    this.path = path;
    this.nodeName = nodeName;
    this.id = id;
    this.#data = data;
    this.#line = new Line(client, path, nodeName);
  }

  /** Full path of our node, once created; `undefined` while we have none. */
  get nodePath(): string | undefined {
    return this.#node?.path;
  }

  /** Starts following the client's connection state. */
  attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.client.on('state', this.#onState);
  }

  /** Stops following the client's connection state. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.client.off('state', this.#onState);
    this.#wakeAll();
  }

  // A watch that survived a reconnect still fires, but what happened while we were away is only
  // known by reading again; after a session loss our node and watches are gone. Either way every
  // wait is cut short and the line is read again.
  readonly #onState = (now: ConnectionState): void => {
    if (now === 'reconnected' || now === 'lost' || now === 'closed') this.#wakeAll();
  };

  #wakeAll(): void {
    const all = [...this.#wakeable];
    this.#wakeable.clear();
    for (const c of all) c.abort(new Wake());
  }

  /** A scope that also ends when the connection comes back or the session is lost. */
  #cycle(parent: AbortSignal): Scope & { woken(): boolean } {
    const inner = scope(parent);
    const controller = new AbortController();
    const onInner = () => controller.abort(inner.signal.reason);
    if (inner.signal.aborted) onInner();
    else inner.signal.addEventListener('abort', onInner, { once: true });
    this.#wakeable.add(controller);
    return {
      signal: controller.signal,
      woken: () => controller.signal.reason instanceof Wake,
      done: () => {
        this.#wakeable.delete(controller);
        inner.done();
      },
    };
  }

  /**
   * Waits (through disconnections) until a listing made in the session that owns our node puts
   * that node first, then returns a new term. While behind, it watches only its predecessor.
   * Creates a node when it has none, or when the one it has belongs to an earlier session; a
   * reconnect to the same session keeps the node.
   *
   * @throws the stop signal's reason once it aborts; `ClientClosedError` when the client closes.
   */
  async campaign(stop: AbortSignal, hooks: CampaignHooks): Promise<Win> {
    let failures = 0;
    for (;;) {
      stop.throwIfAborted();
      const cycle = this.#cycle(stop);
      try {
        await this.client.whenConnected({ signal: cycle.signal });
        await this.#enter(stop);
        stop.throwIfAborted();
        let standing = await this.#standing(cycle.signal);
        // Behind: wait for the predecessor to go, then look again at once, in this cycle. A
        // reconnect or a lost session ends the cycle (its signal aborts) and starts the next.
        while (standing.kind === 'behind') {
          failures = 0;
          hooks.joined();
          await this.client.waitForDeletion(standing.predecessor, { signal: cycle.signal });
          stop.throwIfAborted();
          standing = await this.#standing(cycle.signal);
        }
        if (standing.kind === 'absent') continue;
        failures = 0;
        const win = await this.#grant(standing.pzxid, stop);
        if (win && (stop.aborted || cycle.signal.aborted)) {
          // Closed, or the connection changed since the listing: read the line again first.
          win.term.revoke('closed');
          win.scope.done();
        } else if (win) {
          return win;
        }
      } catch (error) {
        if (stop.aborted) throw stop.reason;
        if (cycle.woken()) continue;
        if (error instanceof ClientClosedError) throw error;
        failures++;
        if (isRetryable(error) || error instanceof SessionExpiredError) {
          // The client is (or was just) disconnected: the next round waits for it. Back off only
          // if it claims to be connected, so a misbehaving link cannot make us spin.
          if (this.client.isConnected) await delay(backoff(failures), stop);
          continue;
        }
        hooks.failed(error);
        await delay(backoff(failures), stop);
      } finally {
        cycle.done();
      }
    }
  }

  /**
   * Keeps a term for as long as it can be assumed, and ends it (aborting its signal) as soon as
   * it cannot: our node deleted, or no longer first or ours after a reconnect. Session trouble
   * ends the term by itself (the term follows the client's session). The first request arms a
   * watch on our own node, which also confirms its owner. Returns once the term has ended or
   * `stop` aborts.
   */
  async hold(term: ActiveTerm, stop: AbortSignal): Promise<void> {
    let watch: Promise<NodeEvent> | undefined;
    // What to do next: arm (and check) the own-node watch, read the line first, or wait.
    let next: 'verify' | 'recheck' | 'wait' = 'verify';
    // Each re-armed watch lives in its own scope, ended when it is replaced, so the client keeps
    // one registration for our node however often the term is re-validated.
    let watchScope: Scope | undefined;
    try {
      while (term.live && !stop.aborted) {
        const cycle = this.#cycle(stop);
        try {
          if (next === 'wait' && watch) {
            const event = await until(watch, cycle.signal, term.signal);
            if (!term.live || stop.aborted) return;
            if (event?.type === 'deleted') {
              term.revoke('deleted');
              return;
            }
            // Woken by a reconnect to the same session (a lost session ends the term by
            // itself): read the line again. A data change only needs the watch re-armed.
            next = event === undefined ? 'recheck' : 'verify';
          }
          if (next === 'recheck') {
            const standing = await this.#standing(stop);
            if (standing.kind !== 'first') {
              term.revoke('deleted');
              return;
            }
          }
          const armed = scope(stop);
          const verified = await this.#verify(armed.signal).catch((error: unknown) => {
            armed.done();
            throw error;
          });
          watchScope?.done();
          watchScope = armed;
          if (!verified) {
            term.revoke('deleted');
            return;
          }
          watch = verified.changed;
          // A reconnect while we were reading: what we read may predate it.
          next = cycle.woken() ? 'recheck' : 'wait';
        } catch (error) {
          if (!term.live || stop.aborted) return;
          if (isRetryable(error) || error instanceof SessionExpiredError) {
            next = 'recheck';
            if (this.client.isConnected) await delay(backoff(1), stop).catch(() => undefined);
            continue;
          }
          term.revoke('deleted', error);
          return;
        } finally {
          cycle.done();
        }
      }
    } finally {
      watchScope?.done();
    }
  }

  /**
   * Deletes our node (retrying across reconnects until it is gone or its session is) and forgets
   * it, so the next campaign creates a new one at the end of the line. Safe to call while a
   * campaign stopped by its signal winds down: a create in flight is waited for and undone, and
   * a stopped campaign creates nothing more.
   */
  async release(): Promise<void> {
    // A create in flight would leave a node behind: let it land, then delete what it made.
    while (this.#creating) await this.#creating.catch(() => false);
    const node = this.#node;
    this.#node = undefined;
    this.#joined = undefined;
    if (!node) return;
    try {
      await this.client.deleteGuaranteed(node.path, { ephemeral: true });
    } catch (error) {
      // A closed client closed our session, and the server removed the node with it.
      if (!(error instanceof ClientClosedError)) throw error;
    }
  }

  /** Makes sure we have a node owned by the current session. */
  async #enter(stop: AbortSignal): Promise<void> {
    for (;;) {
      const current = this.#node;
      if (current && current.session === this.client.sessionId) return;
      if (current) {
        // Our node from an earlier session: the server removes it when it expires that session;
        // deleting it now lets the line move on sooner.
        this.#node = undefined;
        this.#discard(current.path);
      }
      stop.throwIfAborted();
      const attempt = this.#create();
      this.#creating = attempt;
      try {
        if (await attempt) return;
      } finally {
        if (this.#creating === attempt) this.#creating = undefined;
      }
    }
  }

  /**
   * Creates our node, and lists the line in the same round trip (the listing is kept for the
   * next {@link Candidate.#standing}); `true` once the node is recorded as ours, `false` to try
   * again.
   */
  async #create(): Promise<boolean> {
    const client = this.client;
    const joined = this.#line.join(this.#data);
    const node = await joined.created;
    if (node === undefined) return false;
    if (node.sessionChanged) {
      // The session changed while creating; only the server knows which session owns it.
      dropListing(joined.listed);
      const stat = await client.exists(node.path);
      if (stat === null) return false;
      if (stat.ephemeralOwner !== node.session) {
        this.#discard(node.path);
        return false;
      }
    } else {
      this.#joined = { node, listed: joined.listed };
    }
    this.#node = node;
    return true;
  }

  /** One listing of the line: the one sent with our create when there is one, else a new one. */
  async #standing(signal: AbortSignal): Promise<Standing> {
    const joined = this.#joined;
    this.#joined = undefined;
    const node = this.#node;
    if (!node) return ABSENT;
    const listing = await (joined?.node === node
      ? raceSignal(joined.listed, signal)
      : this.#line.list({ signal }));
    if (listing === undefined) {
      // The election path itself is gone, and our node with it: enter again.
      this.#forget(node);
      return ABSENT;
    }
    const sorted = listing.sorted;
    const index = sorted.indexOf(node.name);
    if (index < 0) {
      this.#forget(node);
      return ABSENT;
    }
    if (index === 0) return { kind: 'first', pzxid: listing.stat.pzxid };
    return { kind: 'behind', predecessor: join(this.path, sorted[index - 1] as string) };
  }

  /**
   * First in line: pick the fencing token and open the term. The listing that put us first was
   * answered in the session that created our node (checked against the client's session now), so
   * the node existed and was ours when the server answered: a node left by an earlier session
   * never gets here. The own-node watch that follows ({@link Candidate.hold}) confirms the owner
   * again and ends the term if the node goes.
   */
  async #grant(pzxid: bigint, stop: AbortSignal): Promise<Win | undefined> {
    if (!this.#ownedByCurrentSession()) return undefined;
    const termScope = scope(stop);
    try {
      const token = await this.#token(pzxid, termScope.signal);
      const node = this.#node;
      if (!node || !this.#ownedByCurrentSession()) {
        termScope.done();
        return undefined;
      }
      const term = new ActiveTerm(this.client, this.path, node.path, this.id, token);
      return { term, scope: termScope };
    } catch (error) {
      termScope.done();
      throw error;
    }
  }

  /** Whether our node was created by the current session, and that session is trusted. */
  #ownedByCurrentSession(): boolean {
    const node = this.#node;
    return (
      node !== undefined &&
      node.session === this.client.sessionId &&
      !this.client.sessionSignal().aborted
    );
  }

  /**
   * `exists` on our node with a watch. Returns the watch's promise when the node exists and is
   * owned by the current session; otherwise forgets the node (and removes it if it is a stale
   * one of ours) and returns `undefined`.
   */
  async #verify(signal: AbortSignal): Promise<{ changed: Promise<NodeEvent> } | undefined> {
    const node = this.#node;
    if (!node) return undefined;
    // When `signal` ends the watch, the server's copy stays: it fires when we delete our node,
    // and a removal request ahead of that delete would cost every hand-off a round trip.
    const watched = await this.client.existsWatched(node.path, { signal, keepServerWatch: true });
    const stat = watched.value;
    const session = this.client.sessionId;
    if (stat !== null && node.session === session && stat.ephemeralOwner === session) {
      // Wrapped: an async function would otherwise wait for the watch to fire.
      return { changed: watched.changed };
    }
    this.#forget(node);
    if (stat !== null) this.#discard(node.path);
    return undefined;
  }

  /**
   * The fencing token of a new term: the parent's `pzxid` from the listing that put us first.
   * It only fails to grow when this same node is granted again with nothing changed in the
   * line (a suspension under the default error policy that ended on the same session); then a
   * conditional rewrite of the parent's data yields a zxid later than every earlier term's.
   */
  async #token(pzxid: bigint, signal: AbortSignal): Promise<bigint> {
    if (pzxid > this.#lastToken) {
      this.#lastToken = pzxid;
      return pzxid;
    }
    for (;;) {
      const { data, stat } = await this.client.get(this.path, { signal });
      try {
        const written = await this.client.set(this.path, data, { version: stat.version, signal });
        this.#lastToken = written.mzxid;
        return written.mzxid;
      } catch (error) {
        if (!(error instanceof BadVersionError)) throw error;
      }
    }
  }

  #forget(node: LineNode): void {
    if (this.#node === node) this.#node = undefined;
  }

  /** Best-effort removal of a node we no longer stand behind. */
  #discard(path: string): void {
    this.client.delete(path).catch(() => undefined);
  }
}

/** A listing we will not look at (it has no watch to forget): just keep it from going unhandled. */
function dropListing(listed: Promise<LineListing | undefined>): void {
  listed.catch(() => undefined);
}
