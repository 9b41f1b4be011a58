import {
  ClientClosedError,
  NoNodeError,
  SessionExpiredError,
  delay,
  isRetryable,
  join,
  raceSignal,
  type Watched,
  type ZkClient,
} from '@zkit/core';

/** What a {@link ChildrenView} reports after each re-read. */
export interface ViewChange {
  readonly added: ReadonlyMap<string, Buffer>;
  readonly removed: ReadonlyMap<string, Buffer>;
  readonly updated: ReadonlyMap<string, Buffer>;
}

interface Entry {
  data: Buffer;
  watch: Watched<unknown> | undefined;
  stale: boolean;
}

const MAX_PAUSE = 5000;

/**
 * The children of one node with their data, kept current with one child watch on the parent and
 * one data watch per child (data only when asked for). Every wake-up is followed by a re-read;
 * after a lost session everything is re-read. A missing parent reads as no children.
 *
 * Internal to this package: a membership view, not a general cache.
 */
export class ChildrenView {
  readonly #client: ZkClient;
  readonly #path: string;
  readonly #withData: boolean;
  readonly #onChange: (change: ViewChange) => void;
  readonly #onFailure: (error: unknown) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #closing = new AbortController();
  #wake: (() => void) | undefined;
  /** The watch of the current listing (or of the parent's creation). */
  #listing: Watched<unknown> | undefined;
  #run: Promise<void> | undefined;
  #ready: Promise<void>;
  #markReady!: () => void;
  /** Reads started, and the number of the last one completed (reads complete in order). */
  #started = 0;
  #completed = 0;
  #readWaiters: { after: number; resolve: () => void }[] = [];

  constructor(
    client: ZkClient,
    path: string,
    withData: boolean,
    onChange: (change: ViewChange) => void,
    onFailure: (error: unknown) => void,
  ) {
    this.#client = client;
    this.#path = path;
    this.#withData = withData;
    this.#onChange = onChange;
    this.#onFailure = onFailure;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  start(): void {
    this.#run = this.#loop();
  }

  /** Resolves after the first complete read. */
  ready(signal?: AbortSignal): Promise<void> {
    return raceSignal(this.#ready, signal);
  }

  /** Resolves once a read started after this call has completed. */
  refreshed(signal?: AbortSignal): Promise<void> {
    // The next read to start sees every change made before this call.
    const after = this.#started + 1;
    this.#wake?.();
    return raceSignal(
      new Promise<void>((resolve) => this.#readWaiters.push({ after, resolve })),
      signal,
    );
  }

  /** The children and their data, as last read. */
  snapshot(): Map<string, Buffer> {
    return new Map([...this.#entries].map(([name, e]) => [name, e.data]));
  }

  async close(): Promise<void> {
    this.#closing.abort(new ClientClosedError());
    await this.#run;
    this.#listing?.cancel();
    for (const e of this.#entries.values()) e.watch?.cancel();
    this.#entries.clear();
  }

  async #loop(): Promise<void> {
    const signal = this.#closing.signal;
    let failures = 0;
    while (!signal.aborted) {
      const woken = new Promise<void>((resolve) => (this.#wake = resolve));
      try {
        await this.#client.whenConnected({ signal });
        const number = ++this.#started;
        const { changed } = await this.#read(signal);
        failures = 0;
        this.#completed = number;
        this.#markReady();
        this.#readWaiters = this.#readWaiters.filter((w) => {
          if (w.after > this.#completed) return true;
          w.resolve();
          return false;
        });
        await raceSignal(Promise.race([changed, woken]), signal);
      } catch (error) {
        if (signal.aborted || error instanceof ClientClosedError) return;
        if (error instanceof SessionExpiredError) {
          this.#staleAll();
          continue;
        }
        if (isRetryable(error)) continue;
        this.#onFailure(error);
        failures++;
        await delay(Math.min(MAX_PAUSE, 100 * 2 ** failures), signal).catch(() => undefined);
      }
    }
  }

  #staleAll(): void {
    for (const e of this.#entries.values()) {
      e.watch?.cancel();
      e.stale = true;
    }
  }

  /** One re-read; returns a promise that settles on the next change of the listing. */
  async #read(signal: AbortSignal): Promise<{ changed: Promise<unknown> }> {
    let names: string[];
    let changed: Promise<unknown>;
    try {
      const w = await this.#client.getChildrenWatched(this.#path, { signal });
      this.#listing = w;
      names = w.value.children;
      changed = w.changed;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      const ex = await this.#client.existsWatched(this.#path, { signal });
      this.#listing = ex;
      if (ex.value !== null) {
        ex.cancel();
        changed = Promise.resolve();
      } else {
        changed = ex.changed;
      }
      names = [];
    }
    const added = new Map<string, Buffer>();
    const removed = new Map<string, Buffer>();
    const updated = new Map<string, Buffer>();
    const present = new Set(names);
    for (const [name, e] of this.#entries) {
      if (present.has(name)) continue;
      e.watch?.cancel();
      this.#entries.delete(name);
      removed.set(name, e.data);
    }
    await Promise.all(
      names.map(async (name) => {
        const known = this.#entries.get(name);
        if (known && !known.stale) return;
        const data = await this.#readChild(name, signal);
        if (data === undefined) {
          if (known) {
            this.#entries.delete(name);
            removed.set(name, known.data);
          }
          return;
        }
        if (!known) added.set(name, data);
        else if (!known.data.equals(data)) updated.set(name, data);
      }),
    );
    if (added.size + removed.size + updated.size > 0) this.#onChange({ added, removed, updated });
    // Settles (either way) on a change of the listing; a lost session rejects it.
    return {
      changed: changed.then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof SessionExpiredError) this.#staleAll();
        },
      ),
    };
  }

  /** Reads one child (with a data watch when data is kept); `undefined` when it is gone. */
  async #readChild(name: string, signal: AbortSignal): Promise<Buffer | undefined> {
    const path = join(this.#path, name);
    const previous = this.#entries.get(name);
    previous?.watch?.cancel();
    if (!this.#withData) {
      this.#entries.set(name, { data: Buffer.alloc(0), watch: undefined, stale: false });
      return Buffer.alloc(0);
    }
    let watched: Watched<{ data: Buffer }>;
    try {
      watched = await this.#client.getWatched(path, { signal });
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    const entry: Entry = { data: watched.value.data, watch: watched, stale: false };
    this.#entries.set(name, entry);
    const mark = () => {
      if (this.#entries.get(name) !== entry) return;
      entry.stale = true;
      this.#wake?.();
    };
    watched.changed.then(mark, mark);
    return entry.data;
  }
}
