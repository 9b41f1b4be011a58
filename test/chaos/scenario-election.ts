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
  /** Terms that began while another participant's term was still live. */
  readonly violations: readonly string[];
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

interface Participant {
  readonly id: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  readonly latch: LeaderLatch;
}

/**
 * Leader election under faults: five latches on five sessions; the schedule restarts servers,
 * partitions participants (the leader most of all) and expires the leader's session. A term
 * beginning while another term's signal is live is a violation; after each fault there must be
 * exactly one leader again within the session timeout plus one second.
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
  const observer = new LeaderLatch(ctx.admin, path);
  const boundMs = SESSION_TIMEOUT + 1000;

  try {
    for (let i = 0; i < options.participants; i += 1) {
      const proxy = await FaultProxy.start(ctx.ensemble.connectString);
      const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
      const id = `candidate-${i + 1}`;
      const latch = new LeaderLatch(client, path, { id });
      const participant = { id, proxy, client, latch };
      participants.push(participant);
      latch.on('elected', (term) => {
        terms += 1;
        const others = live().filter((p) => p !== participant);
        if (others.length > 0) {
          violations.push(
            `${id} elected (token ${term.fencingToken}) while ${others.map((p) => p.id).join(', ')} still led`,
          );
        }
        if (leaderless !== undefined) {
          if (terms > 1) longestGapMs = Math.max(longestGapMs, Date.now() - leaderless);
          leaderless = undefined;
        }
        term.signal.addEventListener('abort', () => {
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
      ctx.log,
    );

    const orphans = await orphansAfter(ctx.ensemble, ctx.admin, root, SESSION_TIMEOUT + 4000);
    await Promise.all(participants.map((p) => p.latch.close()));
    const leftAfterClose = await leftoversAfter(ctx.admin, [root], 'latch node');
    const unreaped = (await reaped(ctx.admin, path, 10_000)) ? [] : [path];
    return {
      terms,
      violations,
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
