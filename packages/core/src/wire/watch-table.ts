/**
 * The watches the server holds for this session, by server path, so that a reconnect can set
 * them all again (`SetWatches`/`SetWatches2`). The server forgets a connection's watches when it
 * drops; a one-shot watch is forgotten here when it fires, a persistent one only when removed.
 *
 * @internal
 * @module
 */
import { EventType } from './records.js';

/** The five kinds of watch the protocol knows. */
export interface WatchLists {
  readonly data: string[];
  readonly exist: string[];
  readonly child: string[];
  readonly persistent: string[];
  readonly persistentRecursive: string[];
}

/** What the server holds for this session. */
export class WatchTable {
  readonly data = new Set<string>();
  readonly exist = new Set<string>();
  readonly child = new Set<string>();
  readonly persistent = new Set<string>();
  readonly persistentRecursive = new Set<string>();

  /** A notification fired: one-shot watches it consumed are gone from the server. */
  fired(type: number, path: string): void {
    switch (type) {
      case EventType.created:
      case EventType.dataChanged:
        this.data.delete(path);
        this.exist.delete(path);
        return;
      case EventType.childrenChanged:
        this.child.delete(path);
        return;
      case EventType.deleted:
        this.data.delete(path);
        this.exist.delete(path);
        this.child.delete(path);
        return;
      case EventType.dataWatchRemoved:
        this.data.delete(path);
        this.exist.delete(path);
        return;
      case EventType.childWatchRemoved:
        this.child.delete(path);
        return;
      case EventType.persistentWatchRemoved:
        this.persistent.delete(path);
        this.persistentRecursive.delete(path);
        return;
    }
  }

  /** Every watch, as lists. */
  lists(): WatchLists {
    return {
      data: [...this.data],
      exist: [...this.exist],
      child: [...this.child],
      persistent: [...this.persistent],
      persistentRecursive: [...this.persistentRecursive],
    };
  }

  get size(): number {
    return (
      this.data.size +
      this.exist.size +
      this.child.size +
      this.persistent.size +
      this.persistentRecursive.size
    );
  }
}
