/**
 * The recipes `zkit top` shows: where they are under a path (recognised by the recipe packages'
 * own helpers over a cached tree, without a request), and what they hold (read by the recipe
 * packages' own inspection functions), read again only where the tree changed.
 *
 * @module
 */
import { basename, parent, type ZkClient } from '@zkit/core';
import type { CacheChange, TreeCache } from '@zkit/cache';
import { inspectBarrier, looksLikeDoubleBarrier } from '@zkit/barrier';
import { inspectElection, looksLikeLatch } from '@zkit/election';
import {
  inspectLock,
  inspectReadWriteLock,
  inspectSemaphore,
  looksLikeLock,
  type FencingTokenBounds,
  type LockKind,
} from '@zkit/lock';
import { inspectQueue, looksLikeQueue } from '@zkit/queue';
import { ServiceRegistry, looksLikeServiceInstance } from '@zkit/registry';

/** The recipes `zkit top` recognises; `services` is a service registry's base. */
export type Recipe = 'lock' | 'election' | 'queue' | 'barrier' | 'services';

/** The recipes, with the three kinds of lock told apart. */
export type Kind = LockKind | Exclude<Recipe, 'lock'>;

/** The recipe a kind is. */
export function recipeOf(kind: Kind): Recipe {
  return kind === 'mutex' || kind === 'readWrite' || kind === 'semaphore' ? 'lock' : kind;
}

/** Each recipe with its name in `counts` (JSON) and in the text, in the order they are counted. */
export const COUNTS: readonly (readonly [Recipe, string, string])[] = [
  ['lock', 'locks', 'lock'],
  ['election', 'elections', 'election'],
  ['queue', 'queues', 'queue'],
  ['barrier', 'barriers', 'barrier'],
  ['services', 'services', 'service base'],
];

/** Who is in a recipe, with the creation time (ms, the server's clock) ages are measured from. */
export interface Party {
  readonly name: string;
  readonly sessionId: string;
  readonly ctime: number;
}

/** What one recipe holds, as its inspection function read it. */
export type Section =
  | {
      readonly kind: 'mutex';
      readonly path: string;
      readonly fencingToken: FencingTokenBounds | null;
      readonly nodes: readonly (Party & { readonly role: string; readonly data: string })[];
    }
  | {
      readonly kind: 'readWrite';
      readonly path: string;
      readonly nodes: readonly (Party & {
        readonly role: string;
        readonly mode: string;
        readonly data: string;
        readonly fencingToken: FencingTokenBounds | null;
      })[];
    }
  | {
      readonly kind: 'semaphore';
      readonly path: string;
      readonly permits: number | null;
      readonly leases: readonly (Party & {
        readonly data: string;
        readonly fencingToken: FencingTokenBounds;
      })[];
      readonly waiters: readonly (Party & { readonly data: string })[];
    }
  | {
      readonly kind: 'election';
      readonly path: string;
      readonly layout: string | null;
      readonly participants: readonly (Party & { readonly id: string; readonly leader: boolean })[];
    }
  | {
      readonly kind: 'queue';
      readonly path: string;
      readonly lockPath: string;
      readonly depth: number;
      readonly oldest: { readonly name: string; readonly ctime: number } | null;
      readonly claimed: readonly Party[];
    }
  | {
      readonly kind: 'barrier';
      readonly path: string;
      readonly up: boolean;
      readonly ready: boolean;
      readonly members: readonly Party[];
    }
  | {
      readonly kind: 'services';
      readonly path: string;
      readonly services: readonly {
        readonly name: string;
        readonly instances: readonly {
          readonly id: string;
          readonly address: string | null;
          readonly port: number | null;
          readonly sslPort: number | null;
          readonly serviceType: string;
          readonly registered: number;
          readonly payload: unknown;
        }[];
      }[];
      readonly malformed: readonly string[];
    };
const within = (path: string, root: string) =>
  path === root || path.startsWith(root === '/' ? '/' : `${root}/`);

/**
 * Where each recipe under `root` is, from the cached tree alone (no request): a node whose
 * children look like a recipe's nodes is that recipe; a service base is the grandparent of a
 * node that looks like a service instance.
 */
function recognise(cache: TreeCache, root: string): Map<string, Kind> {
  const found = new Map<string, Kind>();
  for (const node of cache.nodes()) {
    if (node.data !== undefined && node.path !== '/' && parent(node.path) !== '/') {
      const base = parent(parent(node.path));
      if (within(base, root) && looksLikeServiceInstance(basename(node.path), node.data)) {
        found.set(base, 'services');
      }
    }
    const children = cache.children(node.path).map((c) => basename(c.path));
    if (children.length === 0 || found.has(node.path)) continue;
    const kind: Kind | undefined =
      looksLikeLock(children) ??
      (looksLikeLatch(children)
        ? 'election'
        : looksLikeQueue(children)
          ? 'queue'
          : looksLikeDoubleBarrier(children)
            ? 'barrier'
            : undefined);
    if (kind !== undefined) found.set(node.path, kind);
  }
  // A semaphore's queue of acquirers is a mutex of its own: it is shown as part of the semaphore.
  for (const [path, kind] of found) {
    if (kind === 'semaphore') {
      for (const inner of found.keys())
        if (inner !== path && within(inner, path)) found.delete(inner);
    }
  }
  return found;
}

/** Reads one recipe through its own inspection function; `null` when it is gone. */
async function inspect(client: ZkClient, kind: Kind, path: string): Promise<Section | null> {
  switch (kind) {
    case 'mutex': {
      const lock = await inspectLock(client, path);
      return (
        lock && {
          kind,
          path,
          fencingToken: lock.fencingToken,
          nodes: lock.nodes.map((n) => ({
            role: n.role,
            name: n.name,
            sessionId: n.sessionId,
            ctime: n.ctime,
            data: n.data.toString('utf8'),
          })),
        }
      );
    }
    case 'readWrite': {
      const lock = await inspectReadWriteLock(client, path);
      return (
        lock && {
          kind,
          path,
          nodes: lock.nodes.map((n) => ({
            role: n.role,
            mode: n.mode,
            name: n.name,
            sessionId: n.sessionId,
            ctime: n.ctime,
            data: n.data.toString('utf8'),
            fencingToken: n.fencingToken,
          })),
        }
      );
    }
    case 'semaphore': {
      // The number of permits is not stored with a semaphore: `null` unless a count holds it,
      // which only the semaphore's users know of.
      const semaphore = await inspectSemaphore(client, path);
      const node = (n: { name: string; sessionId: string; ctime: number; data: Buffer }) => ({
        name: n.name,
        sessionId: n.sessionId,
        ctime: n.ctime,
        data: n.data.toString('utf8'),
      });
      return (
        semaphore && {
          kind,
          path,
          permits: semaphore.permits,
          leases: semaphore.leases.map((n) => ({ ...node(n), fencingToken: n.fencingToken })),
          waiters: semaphore.waiters.map(node),
        }
      );
    }
    case 'election': {
      const election = await inspectElection(client, path);
      return (
        election && {
          kind,
          path,
          layout: election.layout,
          participants: election.participants.map((p) => ({
            id: p.id,
            leader: p.isLeader,
            name: p.name,
            sessionId: p.sessionId,
            ctime: p.ctime,
          })),
        }
      );
    }
    case 'queue': {
      const queue = await inspectQueue(client, path);
      return (
        queue && {
          kind,
          path,
          lockPath: queue.lockPath,
          depth: queue.depth,
          oldest: queue.oldest,
          claimed: queue.claimed.map((c) => ({ ...c })),
        }
      );
    }
    case 'barrier': {
      const barrier = await inspectBarrier(client, path);
      return barrier.up
        ? { kind, path, up: true, ready: barrier.ready, members: barrier.members.map((m) => m) }
        : null;
    }
    case 'services': {
      // Only reads: a registry that registers nothing, closed (listeners removed) when done.
      const registry = new ServiceRegistry(client, { basePath: path });
      const malformed: string[] = [];
      registry.on('quarantined', (error) => malformed.push(`${error.path}: ${error.message}`));
      try {
        const names = await registry.names();
        const services = await Promise.all(
          names.map(async (name) => ({
            name,
            instances: (await registry.instances(name)).map((i) => ({
              id: i.id,
              address: i.address,
              port: i.port,
              sslPort: i.sslPort,
              serviceType: i.serviceType,
              registered: i.registrationTimeUTC,
              payload: i.payload,
            })),
          })),
        );
        return { kind, path, services, malformed };
      } finally {
        await registry.close();
      }
    }
  }
}

/**
 * The recipes under one path, read again where the tree changed. `update` is never run twice at
 * once; the sections are sorted by path.
 */
export class Recipes {
  readonly #sections = new Map<string, Section>();
  /** Paths changed since the last update; `all` after a new session. */
  #changed = new Set<string>();
  #all = true;

  constructor(
    private readonly client: ZkClient,
    private readonly cache: TreeCache,
    private readonly root: string,
  ) {}

  note(change: CacheChange): void {
    if (change.type === 'reset') this.#all = true;
    else if (change.type !== 'initialized') this.#changed.add(change.path);
  }

  get pending(): boolean {
    return this.#all || this.#changed.size > 0;
  }

  /**
   * Reads again what the changes noted since the last update touched; resolves `false` when a
   * read failed (it is noted again, to be retried).
   */
  async update(): Promise<boolean> {
    const changed = [...this.#changed];
    const all = this.#all;
    this.#changed = new Set();
    this.#all = false;
    const found = recognise(this.cache, this.root);
    for (const path of this.#sections.keys()) if (!found.has(path)) this.#sections.delete(path);
    const touched = [...found].filter(([path, kind]) => {
      const before = this.#sections.get(path);
      if (all || before === undefined || before.kind !== kind) return true;
      return changed.some(
        (c) => within(c, path) || (before.kind === 'queue' && within(c, before.lockPath)),
      );
    });
    const read = await Promise.all(
      touched.map(async ([path, kind]) => {
        try {
          const section = await inspect(this.client, kind, path);
          if (section === null) this.#sections.delete(path);
          else this.#sections.set(path, section);
          return true;
        } catch {
          // The connection, most likely: keep what was shown and read it again later.
          this.#changed.add(path);
          return false;
        }
      }),
    );
    return read.every(Boolean);
  }

  /** The sections, without a queue's claims node (claims look like items). */
  sections(): Section[] {
    const claims = new Set(
      [...this.#sections.values()].flatMap((s) => (s.kind === 'queue' ? [s.lockPath] : [])),
    );
    return [...this.#sections.values()]
      .filter((s) => !(s.kind === 'queue' && claims.has(s.path)))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
