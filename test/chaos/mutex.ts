import type { ZkClient } from '@zkit/core';
import { Mutex } from '@zkit/lock';
import type { Random } from './random.js';

/** What a holder tells the store when its critical section starts. */
export interface SectionStart {
  /** Unique per section: `<holder>:<n>`. */
  readonly id: string;
  /** The session (client) that holds the lease. */
  readonly holder: string;
  readonly lockPath: string;
  readonly fencingToken: bigint;
  /** A slow section asked for by the fault schedule. */
  readonly slow: boolean;
}

/**
 * The store a critical section writes to. A holder awaits each call: `enter`, then `write`, then
 * `exit`, and releases its lease only after `exit` resolved, so the store has always processed a
 * section's end before the next holder can be granted the lock.
 */
export interface SectionStore {
  enter(start: SectionStart): Promise<void>;
  /** Resolves `false` when the write was refused for a stale fencing token. */
  write(id: string, fencingToken: bigint): Promise<boolean>;
  /** `aborted`: whether the lease's signal aborted at any time before this call. */
  exit(id: string, aborted: boolean): Promise<void>;
}

interface Section extends SectionStart {
  ended: boolean;
  /** The lease's signal aborted during the section, or its process was killed in it. */
  excused: boolean;
}

/**
 * The shared resource the lock protects, kept in the test process: it checks mutual exclusion
 * per lock path (two sections open at once whose lease signals both stayed live is a violation)
 * and fences writes (a token not above the highest one seen is refused).
 */
export class FencedStore implements SectionStore {
  acquisitions = 0;
  handOffs = 0;
  overlaps = 0;
  acceptedWrites = 0;
  rejectedWrites = 0;
  readonly violations: string[] = [];
  readonly #open = new Map<string, Section>();
  readonly #highest = new Map<string, bigint>();
  readonly #lastHolder = new Map<string, string>();
  readonly #pairs: [Section, Section][] = [];

  async enter(start: SectionStart): Promise<void> {
    const section: Section = { ...start, ended: false, excused: false };
    this.acquisitions += 1;
    const last = this.#lastHolder.get(start.lockPath);
    if (last !== undefined && last !== start.holder) this.handOffs += 1;
    this.#lastHolder.set(start.lockPath, start.holder);
    for (const other of this.#open.values()) {
      if (other.lockPath !== start.lockPath) continue;
      this.overlaps += 1;
      this.#pairs.push([other, section]);
    }
    this.#open.set(start.id, section);
  }

  async write(id: string, fencingToken: bigint): Promise<boolean> {
    const section = this.#open.get(id);
    if (section === undefined) throw new Error(`write outside a section: ${id}`);
    const highest = this.#highest.get(section.lockPath);
    if (highest !== undefined && fencingToken <= highest) {
      this.rejectedWrites += 1;
      return false;
    }
    this.#highest.set(section.lockPath, fencingToken);
    this.acceptedWrites += 1;
    return true;
  }

  async exit(id: string, aborted: boolean): Promise<void> {
    const section = this.#open.get(id);
    if (section === undefined) throw new Error(`exit outside a section: ${id}`);
    this.#end(section, aborted);
  }

  /** A holder's process was killed: its open sections end here (a dead process writes nothing). */
  crashed(holder: string): void {
    for (const section of [...this.#open.values()]) {
      if (section.holder === holder) this.#end(section, true);
    }
  }

  /** Holders inside a section right now. */
  holders(): string[] {
    return [...this.#open.values()].map((section) => section.holder);
  }

  /** Whether `holder` is inside a slow section right now. */
  inSlowSection(holder: string): boolean {
    return [...this.#open.values()].some((s) => s.holder === holder && s.slow);
  }

  #end(section: Section, excused: boolean): void {
    section.ended = true;
    section.excused ||= excused;
    this.#open.delete(section.id);
    for (let i = this.#pairs.length - 1; i >= 0; i -= 1) {
      const pair = this.#pairs[i];
      if (pair === undefined || !pair[0].ended || !pair[1].ended) continue;
      this.#pairs.splice(i, 1);
      const [a, b] = pair;
      if (!a.excused && !b.excused) {
        this.violations.push(
          `${a.lockPath}: ${a.id} (token ${a.fencingToken}) and ${b.id} (token ${b.fencingToken}) ` +
            'held the lock at once with live lease signals',
        );
      }
    }
  }
}

/**
 * Slow sections the fault schedule asks for, by holder: the holder's next critical section lasts
 * this many ms, so that a fault can land in it.
 */
export type SlowSections = Map<string, number>;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Per-holder figures. */
export interface HolderCounts {
  sections: number;
  refusedWrites: number;
  /** Acquires that timed out or failed. */
  failedAcquires: number;
}

/** How long one acquire waits, ms. */
const ACQUIRE_TIMEOUT = 1500;

/**
 * One session's loop: acquire one of `lockPaths` (picked by `random`), run the critical section
 * against `store`, release; until `stop` aborts.
 */
export async function holdLoop(
  client: ZkClient,
  holder: string,
  lockPaths: readonly string[],
  random: Random,
  store: SectionStore,
  stop: AbortSignal,
  slow: SlowSections,
  lateWriteMs: number,
): Promise<HolderCounts> {
  const counts: HolderCounts = { sections: 0, refusedWrites: 0, failedAcquires: 0 };
  const mutexes = new Map(lockPaths.map((path) => [path, new Mutex(client, path)]));
  while (!stop.aborted && !isClosed(client)) {
    const mutex = mutexes.get(random.pick(lockPaths));
    if (mutex === undefined) throw new Error('no mutex');
    let lease;
    try {
      // A short wait: a waiter stuck behind a lock that is held through a fault gives up (its
      // node must then be removed) and tries another lock.
      lease = await mutex.acquire({ signal: stop, timeout: ACQUIRE_TIMEOUT });
    } catch {
      if (stop.aborted || isClosed(client)) break;
      counts.failedAcquires += 1;
      await client.whenConnected({ signal: stop }).catch(() => undefined);
      continue;
    }
    // Read at once: this arms the watch on our node, so its deletion aborts the signal too.
    const signal = lease.signal;
    const id = `${holder}:${counts.sections}`;
    counts.sections += 1;
    try {
      const slowMs = slow.get(holder);
      slow.delete(holder);
      await store.enter({
        id,
        holder,
        lockPath: mutex.path,
        fencingToken: lease.fencingToken,
        slow: slowMs !== undefined,
      });
      if (slowMs !== undefined) {
        // A holder busy while a fault lands. If its lease is lost meanwhile, it does not look at
        // its signal and writes late, as a process stalled by a long GC pause would: the store
        // must refuse that write by its stale token.
        await delay(slowMs);
        if (signal.aborted) await delay(lateWriteMs);
      }
      if (!(await store.write(id, lease.fencingToken))) counts.refusedWrites += 1;
      await store.exit(id, signal.aborted);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }
  return counts;
}

/** Read through a function: TypeScript narrows `client.state` across the loop's awaits. */
function isClosed(client: ZkClient): boolean {
  return client.state === 'closed';
}

/** Messages from the test process to a mutex worker. */
export type ToWorker =
  | {
      type: 'init';
      seed: number;
      sessionTimeout: number;
      lockPaths: string[];
      lateWriteMs: number;
      sessions: { holder: string; connectString: string }[];
    }
  | { type: 'reply'; seq: number; value: unknown }
  | { type: 'slow'; holder: string; ms: number }
  | { type: 'stop' };

/** Messages from a mutex worker to the test process. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'call'; seq: number; op: 'enter'; start: SectionStart }
  | { type: 'call'; seq: number; op: 'write'; id: string; fencingToken: bigint }
  | { type: 'call'; seq: number; op: 'exit'; id: string; aborted: boolean }
  | { type: 'stopped'; counts: HolderCounts[] }
  | { type: 'failed'; error: string };
