import { ZkClient } from '@zkit/core';
import { LeaderLatch } from '@zkit/election';
import { expireSession, FaultProxy, waitFor } from '@zkit/testing';
import {
  leftoversAfter,
  orphansAfter,
  planFaults,
  reaped,
  recoveryAfter,
  runFaults,
  SESSION_TIMEOUT,
  type EphemeralNode,
  type FaultKind,
  type FaultRecord,
  type Recovery,
} from './harness.js';
import { Random } from './random.js';
import type { ChaosContext } from './scenario-mutex.js';

export interface ElectionOptions {
  readonly participants: number;
  readonly faults: readonly FaultKind[];
}

/** How long after a fault ended it took to have exactly one leader again. */

export interface ElectionResult {
  readonly terms: number;
  /**
   * Tokens that did not grow, and terms that began while another participant's term was live
   * and that term did not end within {@link OVERLAP_GRACE_MS}.
   */
  readonly violations: readonly string[];
  /** For each term that began while another was live: ms until the older one ended. */
  readonly overlaps: readonly number[];
  readonly recoveries: readonly Recovery[];
  /** The bound each recovery is held to, ms. */
  readonly boundMs: number;
  /** Longest time without any live term while faults ran, ms. */
  readonly longestGapMs: number;
  readonly faults: readonly FaultRecord[];
  readonly orphans: readonly EphemeralNode[];
  readonly leftAfterClose: readonly EphemeralNode[];
  readonly unreaped: readonly string[];
  readonly durationMs: number;
}

/**
 * How long a deposed leader may take to step down once a new term has begun. A leader that is
 * cut off steps down on its own, before the server can expire its session (its client suspends
 * after two thirds of the session timeout). But a session ended on the server while its client
 * is connected (the `expire` fault) is heard by every client through its own server: the
 * deposed leader when its server drops its connection, the next one when its server fires its
 * watch. Under load one server can apply the same commit later than another, and the next
 * leader can be elected in between; the fencing token, which grows with every term, is what
 * protects against that leader's late writes.
 */
export const OVERLAP_GRACE_MS = 1000;

interface Participant {
  readonly id: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  readonly latch: LeaderLatch;
}

/**
 * Leader election under faults: five latches on five sessions; the schedule restarts servers,
 * partitions participants (the leader most of all) and expires the leader's session. Every term's
 * fencing token must be above every earlier term's; a term beginning while another term's signal
 * is live is a violation unless that other term ends within {@link OVERLAP_GRACE_MS} (each overlap
 * prints the timeline that led to it); after each fault there must be exactly one leader again
 * within the session timeout plus one second.
 */
export async function runElectionChaos(
  ctx: ChaosContext,
  options: ElectionOptions,
): Promise<ElectionResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'election');
  const root = '/chaos/election';
  const path = `${root}/scheduler`;
  const participants: Participant[] = [];
  const violations: string[] = [];
  const recoveries: Recovery[] = [];
  let terms = 0;
  let leaderless: number | undefined = Date.now();
  let longestGapMs = 0;
  const live = (): Participant[] => participants.filter((p) => p.latch.hasLeadership);
  // Terms that began while an older one was live, and how long until the older one ended.
  const overlaps: {
    newer: string;
    older: string;
    signal: AbortSignal;
    since: number;
    ms?: number;
  }[] = [];
  let highestToken = -1n;
  const observer = new LeaderLatch(ctx.admin, path);
  const boundMs = SESSION_TIMEOUT + 1000;
  // What happened, in order, for the report of a violation.
  const timeline: string[] = [];
  const note = (line: string): void => {
    timeline.push(`${String(Date.now() - started).padStart(6)} ms ${line}`);
  };

  try {
    for (let i = 0; i < options.participants; i += 1) {
      const proxy = await FaultProxy.start(ctx.ensemble.connectString);
      const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
      const id = `candidate-${i + 1}`;
      const latch = new LeaderLatch(client, path, { id });
      const participant = { id, proxy, client, latch };
      participants.push(participant);
      client.on('state', (now) => note(`${id} ${now} (session ${client.sessionId ?? '-'})`));
      latch.on('elected', (term) => {
        terms += 1;
        const token = `0x${term.fencingToken.toString(16)}`;
        note(`${id} elected, token ${token}, node ${term.path}`);
        if (term.fencingToken <= highestToken) {
          violations.push(`${id} elected with token ${token}, not above an earlier term's`);
        }
        if (term.fencingToken > highestToken) highestToken = term.fencingToken;
        for (const other of participants) {
          const older = other === participant ? undefined : other.latch.term;
          if (older === undefined) continue;
          overlaps.push({
            newer: `${id} (token ${token})`,
            older: other.id,
            signal: older.signal,
            since: Date.now(),
          });
          ctx.log(`  election overlap, timeline so far:\n${timeline.slice(-40).join('\n')}`);
        }
        if (leaderless !== undefined) {
          if (terms > 1) longestGapMs = Math.max(longestGapMs, Date.now() - leaderless);
          leaderless = undefined;
        }
        term.signal.addEventListener('abort', () => {
          note(`${id} term ${token} ended: ${String(term.signal.reason)}`);
          for (const o of overlaps) {
            if (o.signal === term.signal && o.ms === undefined) o.ms = Date.now() - o.since;
          }
          if (live().length === 0) leaderless = Date.now();
        });
      });
      await client.start();
      await latch.start();
    }

    /** Exactly one participant leads, and the server's first node is that participant's. */
    const oneLeader = async (): Promise<boolean> => {
      const leading = live();
      if (leading.length !== 1) return false;
      return (await observer.leader()) === leading[0]?.id;
    };
    await waitFor(oneLeader, { timeout: 10_000, message: 'a first leader' });

    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) => {
          const leader = live()[0];
          const target = leader !== undefined && r.next() < 0.7 ? leader : r.pick(participants);
          return { name: target.id, proxy: target.proxy };
        },
        expire: async (r) => {
          const target = live()[0] ?? r.pick(participants);
          await expireSession(target.client, { connectString: ctx.ensemble.connectString });
          return target.id;
        },
        afterFault: async (record) => {
          recoveries.push(
            await recoveryAfter(record, oneLeader, boundMs, {
              interval: 10,
              what: 'exactly one leader',
            }),
          );
        },
      },
      random,
      (line) => {
        note(line.trim());
        ctx.log(line);
      },
    );

    for (const o of overlaps) {
      if (o.ms === undefined || o.ms > OVERLAP_GRACE_MS) {
        violations.push(
          `${o.newer} elected while ${o.older} still led, ` +
            (o.ms === undefined
              ? 'which never stepped down'
              : `which stepped down ${o.ms} ms later`),
        );
      }
    }
    const orphans = await orphansAfter(ctx.ensemble, ctx.admin, root, SESSION_TIMEOUT + 4000);
    await Promise.all(participants.map((p) => p.latch.close()));
    const leftAfterClose = await leftoversAfter(ctx.admin, [root], 'latch node');
    const unreaped = (await reaped(ctx.admin, path, 10_000)) ? [] : [path];
    return {
      terms,
      violations,
      overlaps: overlaps.map((o) => o.ms ?? Infinity),
      recoveries,
      boundMs,
      longestGapMs,
      faults,
      orphans,
      leftAfterClose,
      unreaped,
      durationMs: Date.now() - started,
    };
  } finally {
    await observer.close();
    for (const p of participants) p.proxy.heal();
    await Promise.all(participants.map((p) => p.latch.close()));
    await Promise.all(participants.map((p) => p.client.close()));
    await Promise.all(participants.map((p) => p.proxy.close()));
  }
}
