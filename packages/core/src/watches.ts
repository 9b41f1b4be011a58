import type { NodeEventKind } from './binding.js';

/** What a node watch reported. A hint to re-read, never a fact about current state. */
export type NodeEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

/** One fired watch. */
export interface NodeEvent {
  /** What happened to the node. */
  readonly type: NodeEventType;
  /** The path as the caller named it (without the client's namespace). */
  readonly path: string;
}

/**
 * Which server-side watch a waiter relies on: `data` watches are set by `exists` and `get`,
 * `child` watches by `getChildren`. The server fires them for different events.
 */
export type WatchType = 'data' | 'child';

interface Waiter {
  readonly type: WatchType;
  readonly settle: (event: NodeEventKind | Error) => void;
}

const DATA_EVENTS: ReadonlySet<NodeEventKind> = new Set(['created', 'deleted', 'changed']);
const CHILD_EVENTS: ReadonlySet<NodeEventKind> = new Set(['child', 'deleted']);

/**
 * Routes the handle's node events to the callers waiting on each path. The binding never frees a
 * watcher function passed to its `w_*` methods, so zkit sets every watch with the handle's default
 * watcher and keeps the per-caller state here, where it is dropped as soon as it fires or is
 * cancelled.
 *
 * @internal
 */
export class WatchRegistry {
  readonly #byPath = new Map<string, Set<Waiter>>();

  /** Number of callers currently waiting, for diagnostics and leak tests. */
  get size(): number {
    let n = 0;
    for (const set of this.#byPath.values()) n += set.size;
    return n;
  }

  /**
   * Registers a waiter and returns its promise plus a function that removes it. Must be called
   * before the read that arms the server watch, so an event that races the reply is not missed.
   */
  add(path: string, type: WatchType): { promise: Promise<NodeEventKind>; remove: () => void } {
    let set = this.#byPath.get(path);
    if (!set) {
      set = new Set();
      this.#byPath.set(path, set);
    }
    let settle!: (event: NodeEventKind | Error) => void;
    const promise = new Promise<NodeEventKind>((resolve, reject) => {
      settle = (event) => (event instanceof Error ? reject(event) : resolve(event));
    });
    // Pre-handled: a session loss may reject it before the caller has attached a handler.
    promise.catch(() => undefined);
    const waiter: Waiter = { type, settle };
    set.add(waiter);
    const remove = () => {
      const current = this.#byPath.get(path);
      if (current?.delete(waiter) && current.size === 0) this.#byPath.delete(path);
    };
    return { promise, remove };
  }

  /** Whether a caller still waits on a watch of `type` for `path`. */
  has(path: string, type: WatchType): boolean {
    const set = this.#byPath.get(path);
    if (!set) return false;
    for (const waiter of set) if (waiter.type === type) return true;
    return false;
  }

  /** Rejects the waiters of `path` whose watch is of one of `types`: it was removed. */
  reject(path: string, types: readonly WatchType[], error: Error): void {
    const set = this.#byPath.get(path);
    if (!set) return;
    for (const waiter of [...set]) {
      if (!types.includes(waiter.type)) continue;
      set.delete(waiter);
      waiter.settle(error);
    }
    if (set.size === 0) this.#byPath.delete(path);
  }

  /** Delivers a node event to the waiters whose watch type the server fires for it. */
  dispatch(kind: NodeEventKind, path: string): void {
    const set = this.#byPath.get(path);
    if (!set) return;
    for (const waiter of set) {
      const fires = waiter.type === 'data' ? DATA_EVENTS.has(kind) : CHILD_EVENTS.has(kind);
      if (!fires) continue;
      set.delete(waiter);
      waiter.settle(kind);
    }
    if (set.size === 0) this.#byPath.delete(path);
  }

  /** Rejects every waiter: the session that held their watches is gone. */
  rejectAll(error: Error): void {
    const all = [...this.#byPath.values()];
    this.#byPath.clear();
    for (const set of all) for (const waiter of set) waiter.settle(error);
  }
}

/** Maps the binding's event names to the public ones. */
export function publicEventType(kind: NodeEventKind): NodeEventType {
  switch (kind) {
    case 'changed':
      return 'dataChanged';
    case 'child':
      return 'childrenChanged';
    default:
      return kind;
  }
}
