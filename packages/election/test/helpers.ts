import diagnostics from 'node:diagnostics_channel';
import { NoNodeError, type OpMessage, type ZkClient } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import type { LeaderLatch, LeaderSelector, LeadershipTerm } from '../src/index.js';

/** Children of `path` (none when it does not exist), sorted by name. */
export async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return (await client.getChildren(path)).sort();
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

/** Session ids owning the nodes under `path`. */
export async function owners(client: ZkClient, path: string): Promise<string[]> {
  const names = await children(client, path);
  const stats = await Promise.all(names.map((n) => client.exists(`${path}/${n}`)));
  return stats.flatMap((s) => (s ? [s.ephemeralOwner] : []));
}

/** Whether a promise has settled, without waiting for it. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/**
 * Records every term handed out by a set of participants and checks the election invariants at
 * each grant: no other term is live, and fencing tokens strictly increase.
 */
export class TermLog {
  readonly terms: { who: string; term: LeadershipTerm; at: number }[] = [];
  readonly violations: string[] = [];
  /**
   * Terms begun in a session that `expireSession` is closing from another handle: the server
   * ends such a session without telling its client first, so the term can still be live when
   * the next leader is elected (fencing tokens exist for this). Nothing else is excused.
   */
  readonly excused = new Set<LeadershipTerm>();
  readonly #participants = new Map<string, () => LeadershipTerm | undefined>();

  /** Follows a latch under a name; `elected` events are checked as they come. */
  latch(name: string, latch: LeaderLatch): LeaderLatch {
    this.#participants.set(name, () => latch.term);
    latch.on('elected', (term) => this.granted(name, term));
    return latch;
  }

  /** Follows a selector's terms (call `granted` from the leadership function). */
  selector(name: string, selector: LeaderSelector): LeaderSelector {
    this.#participants.set(name, () => selector.term);
    return selector;
  }

  granted(who: string, term: LeadershipTerm): void {
    for (const [other, current] of this.#participants) {
      const live = current();
      if (other !== who && live && !live.signal.aborted && !this.excused.has(live)) {
        this.violations.push(`${who} elected while ${other} still leads`);
      }
    }
    for (const { who: by, term: t } of this.terms) {
      if (t !== term && !t.signal.aborted && !this.excused.has(t)) {
        this.violations.push(`${who} elected while a term of ${by} is live`);
      }
    }
    const last = this.terms.at(-1);
    if (last && term.fencingToken <= last.term.fencingToken) {
      this.violations.push(
        `token ${term.fencingToken} of ${who} not above ${last.term.fencingToken} of ${last.who}`,
      );
    }
    this.terms.push({ who, term, at: performance.now() });
  }

  /** Waits for the n-th term (1-based) and returns who holds it. */
  async nth(
    n: number,
    timeout = 15_000,
  ): Promise<{ who: string; term: LeadershipTerm; at: number }> {
    return waitFor(() => this.terms[n - 1], { timeout, message: `term #${n}` });
  }
}

const listingCounts = new WeakMap<ZkClient, number>();
const checkCounts = new WeakMap<ZkClient, number>();
diagnostics.subscribe('zkit:op', (message) => {
  const { client, op, error } = message as OpMessage;
  if (error !== undefined) return;
  if (op === 'getChildren') listingCounts.set(client, (listingCounts.get(client) ?? 0) + 1);
  if (op === 'exists') checkCounts.set(client, (checkCounts.get(client) ?? 0) + 1);
});

/** Successful `getChildren` requests made by a client so far. */
export function listings(client: ZkClient): number {
  return listingCounts.get(client) ?? 0;
}

/** Successful `exists` requests (with or without a watch) made by a client so far. */
export function checks(client: ZkClient): number {
  return checkCounts.get(client) ?? 0;
}
