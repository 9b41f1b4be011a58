/**
 * The line of waiters: the algorithm behind locks, semaphores and leader elections. Each party
 * owns a protected ephemeral-sequential node `P/_c_<uuid>-<name><seq10>`; the children of `P`,
 * sorted by what follows the last `<name>` (in practice the zero-padded sequence number), form the
 * line. What a recipe makes of a place in the line (granted, waiting, which node to watch) is the
 * recipe's business; creating, listing, sorting and reading the line are shared here.
 *
 * @module
 */
import { checkClient } from './check-client.js';
import { protectedCreateChecks } from './internal.js';
import { sendNow } from './send-now.js';
import type { Data, ZkClient } from './client.js';
import type { Stat } from './stat.js';
import type { NodeEvent } from './watches.js';
import { InvalidPathError, NoNodeError } from './errors.js';
import { SEQUENCE_DIGITS, basename, join, validatePath } from './paths.js';

/**
 * The text a line's child sorts by: what follows the last occurrence of `marker`, or the whole
 * name when it has none. This is the order Curator's lock and election recipes agree on, so
 * zkit and Curator parties queue in one line.
 *
 * @example
 * ```ts
 * lineKey('_c_0f5b7c1e-lock-0000000007', 'lock-'); // '0000000007'
 * ```
 */
export function lineKey(child: string, marker: string): string {
  const i = child.lastIndexOf(marker);
  return i < 0 ? child : child.slice(i + marker.length);
}

/**
 * Children in line order: sorted by `key` (a marker for {@link lineKey}, or a function),
 * comparing UTF-16 code units as Java's `String` does, ties kept in listing order. Every child
 * takes part, also one without the marker (sorted by its whole name), as in Curator.
 *
 * @example
 * ```ts
 * sortLine(['_c_b-lock-0000000002', '_c_a-lock-0000000001'], 'lock-');
 * // ['_c_a-lock-0000000001', '_c_b-lock-0000000002']
 * ```
 */
export function sortLine(
  children: readonly string[],
  key: string | ((child: string) => string),
): string[] {
  const keyOf = typeof key === 'string' ? (child: string) => lineKey(child, key) : key;
  return children
    .map((name) => ({ name, key: keyOf(name) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => e.name);
}

/**
 * Checks the two arguments every line recipe takes, before anything is sent: a `ZkClient`, and a
 * path of the recipe's own (every child of the path is a party, so the root would count
 * unrelated nodes).
 *
 * @param what - the recipe, for the message: `a lock`, `an election`
 * @returns the validated path
 * @throws `InvalidArgumentError` when `client` is not a `ZkClient`;
 *   {@link InvalidPathError} for a malformed path or the root
 */
export function checkLineArgs(client: unknown, path: unknown, what: string): string {
  checkClient(client);
  const valid = validatePath(path);
  if (valid === '/') {
    throw new InvalidPathError(path, `${what} needs a node of its own, not the root`);
  }
  return valid;
}

/** One party's own node in a line. */
export interface LineNode {
  /** Full path of the node. */
  readonly path: string;
  /** Its name, `_c_<uuid>-<name><seq10>`. */
  readonly name: string;
  /** `_c_<uuid>-`: what every node of this one protected create starts with. */
  readonly prefix: string;
  /** The client's session when the create's reply arrived: the session that owns the node. */
  readonly session: string;
  /**
   * The client's session changed while the create was in flight. Core adopts only a node of the
   * current session, but a recipe that must be sure asks the server for the node's owner.
   */
  readonly sessionChanged: boolean;
}

/** One listing of a line. */
export interface LineListing {
  /** The children in line order. */
  readonly sorted: readonly string[];
  /** The parent's stat from the same reply; its `pzxid` is a fencing token. */
  readonly stat: Stat;
  /** With `watch`: settles at the next change among the children. */
  readonly changed?: Promise<NodeEvent>;
  /**
   * With `watch`: forgets the child watch's waiter. The server's watch is left to fire (its
   * event is then ignored): removing it would cost a request in every grant.
   */
  cancel(): void;
}

/** Options of {@link Line.join} and {@link Line.list}. */
export interface LineReadOptions {
  /** Aborts the listing (never the create: see {@link Line.join}). */
  readonly signal?: AbortSignal | undefined;
  /** List with a child watch. */
  readonly watch?: boolean | undefined;
}

/** A join in flight: the create and the listing sent right behind it. */
export interface LineJoin {
  /**
   * Our node; `undefined` when the client had no session when the reply arrived (try again).
   * Never aborted by the listing's signal: a create whose reply nobody waits for may still land
   * and leave a node that nobody deletes, so wait for it and remove the node when giving up.
   */
  readonly created: Promise<LineNode | undefined>;
  /**
   * The line including our node, or `undefined` when the listing sent with the create cannot be
   * trusted to show it and there is no node to look for. Waits for {@link LineJoin.created}
   * first; rejects when it rejects.
   */
  readonly listed: Promise<LineListing | undefined>;
}

/** One party of a line, as {@link Line.members} reads it. */
export interface LineMember {
  /** The node's name. */
  readonly name: string;
  /** Its full path. */
  readonly path: string;
  /** The data its creator stored. */
  readonly data: Buffer;
  /** The session that owns it (hex, as `ZkClient.sessionId` prints it). */
  readonly owner: string;
}

const noop = (): void => undefined;

/**
 * A line of waiters on one parent node, for one node name. Local and cheap: nothing is sent
 * until a method is called.
 *
 * **Round trips.** {@link Line.join} sends the protected create and the listing together:
 * ZooKeeper answers one session's requests in order, so a listing sent right behind a create
 * sees that create, and a join costs one round trip, not two. Only a create that had to be
 * retried (the parent was missing, or the connection dropped) can land after its listing; the
 * listing is then made again, once, after the create. A line whose last listing found no parent
 * lists after its next create instead, so a reaped parent costs no request more.
 *
 * @example
 * ```ts
 * const line = new Line(client, '/locks/report', 'lock-');
 * const { created, listed } = line.join('worker-1');
 * const node = await created;
 * const listing = node && (await listed);
 * if (node && listing?.sorted[0] === node.name) console.log('first in line');
 * ```
 */
export class Line {
  /** The client the line is read and joined with. */
  readonly client: ZkClient;
  /** The line's parent node. */
  readonly path: string;
  /** The node name after the protection prefix, before the sequence number, e.g. `lock-`. */
  readonly name: string;
  readonly #key: (child: string) => string;
  /**
   * The parent existed at this line's last listing (assumed at first). Under a missing parent a
   * listing sent with the create fails and is made again, one request more than listing after
   * the create; so after such a listing, the next join lists after its create.
   */
  #parentSeen = true;

  /**
   * @param key - what children sort by; default: the text after the last `name`
   * @throws {@link InvalidPathError} for a malformed path; `InvalidArgumentError` for a bad name
   */
  constructor(
    client: ZkClient,
    path: string,
    name: string,
    key: (child: string) => string = (child) => lineKey(child, name),
  ) {
    this.client = client;
    this.path = validatePath(path);
    this.name = name;
    this.#key = key;
  }

  /** Children in this line's order. */
  sort(children: readonly string[]): string[] {
    return sortLine(children, this.#key);
  }

  /**
   * Creates our node (protected, ephemeral-sequential, container parents) and lists the line in
   * the same round trip. See {@link LineJoin} for what each promise means.
   */
  join(data: Data | undefined, options: LineReadOptions = {}): LineJoin {
    const client = this.client;
    const before = client.sessionId;
    const createOptions = { mode: 'ephemeralSequential', parents: 'container' } as const;
    try {
      // Bad input is refused before anything is sent: the listing must not go out either.
      protectedCreateChecks.get(client)?.(this.path, this.name, data, createOptions);
    } catch (error) {
      const refused = Promise.reject(error);
      refused.catch(noop);
      return { created: refused, listed: refused };
    }
    const creating = client.createProtected(this.path, this.name, data, createOptions);
    // Sent now, right behind the create: no await between the two calls.
    const early = this.#parentSeen ? this.#read(options) : undefined;
    early?.catch(noop);
    // Both leave at once, not when this turn's remaining work is done.
    sendNow(client);
    const created = creating.then((path): LineNode | undefined => {
      const session = client.sessionId;
      if (session === undefined) return undefined;
      const name = basename(path);
      const prefix = name.slice(0, name.length - this.name.length - SEQUENCE_DIGITS);
      return { path, name, prefix, session, sessionChanged: before !== session };
    });
    const listed = created.then(
      async (node) => {
        if (node === undefined) {
          (await early?.catch(noop))?.cancel();
          return undefined;
        }
        if (early === undefined) return this.list(options);
        let first: LineListing | undefined;
        try {
          first = await early;
        } catch (error) {
          // The parent was missing when the listing arrived (the create made it afterwards), or
          // the listing failed on a connection the create survived by retrying: list again.
          if (options.signal?.aborted) throw error;
        }
        if (first?.sorted.includes(node.name)) return first;
        // A create that was retried may have landed after the listing: look once more, now.
        first?.cancel();
        return this.list(options);
      },
      async (error: unknown) => {
        (await early?.catch(noop))?.cancel();
        throw error;
      },
    );
    listed.catch(noop);
    return { created, listed };
  }

  /**
   * Lists the line (children and the parent's stat, one request). `undefined` when the parent
   * does not exist, which means no node of the line exists either.
   */
  async list(options: LineReadOptions = {}): Promise<LineListing | undefined> {
    try {
      return await this.#read(options);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /** Names in `sorted` that another create of our node's uuid left behind. */
  strays(sorted: readonly string[], node: LineNode): string[] {
    return sorted.filter((c) => c !== node.name && c.startsWith(node.prefix));
  }

  /**
   * Every party, in line order, with its data and owner: one listing, then every node read at
   * once (`1 + n` requests, two round trips). Nodes that vanish meanwhile are left out.
   */
  async members(options: { signal?: AbortSignal | undefined } = {}): Promise<LineMember[]> {
    const opts = options.signal ? { signal: options.signal } : {};
    let children: string[];
    try {
      children = await this.client.getChildren(this.path, opts);
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
    const read = await Promise.all(
      this.sort(children).map(async (name): Promise<LineMember | undefined> => {
        const path = join(this.path, name);
        try {
          const { data, stat } = await this.client.get(path, opts);
          return { name, path, data, owner: stat.ephemeralOwner };
        } catch (error) {
          if (error instanceof NoNodeError) return undefined;
          throw error;
        }
      }),
    );
    return read.filter((m): m is LineMember => m !== undefined);
  }

  #read(options: LineReadOptions): Promise<LineListing> {
    return this.#readOnce(options).then(
      (listing) => {
        this.#parentSeen = true;
        return listing;
      },
      (error: unknown) => {
        if (error instanceof NoNodeError) this.#parentSeen = false;
        throw error;
      },
    );
  }

  #readOnce(options: LineReadOptions): Promise<LineListing> {
    const signal = options.signal;
    if (options.watch === true) {
      return this.client
        .getChildrenWatched(this.path, signal ? { signal } : {})
        .then((watched) => ({
          sorted: this.sort(watched.value.children),
          stat: watched.value.stat,
          changed: watched.changed,
          cancel: () => watched.cancel({ keepServerWatch: true }),
        }));
    }
    return this.client
      .getChildren(this.path, { withStat: true, ...(signal ? { signal } : {}) })
      .then(({ children, stat }) => ({ sorted: this.sort(children), stat, cancel: noop }));
  }
}
