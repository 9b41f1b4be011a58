import { ZkClient } from '@zkit/core';
import { MultiLock } from '@zkit/lock';
import { expireSession, FaultProxy } from '@zkit/testing';
import {
  leftoversAfter,
  planFaults,
  runFaults,
  SESSION_TIMEOUT,
  type EphemeralNode,
  type FaultKind,
  type FaultRecord,
} from './harness.js';
import { FencedStore } from './mutex.js';
import { Random } from './random.js';
import type { ChaosContext } from './scenario-mutex.js';

export interface MultiLockOptions {
  readonly sessions: number;
  /** How many lock paths the sessions pick their parts from. */
  readonly paths: number;
  readonly faults: readonly FaultKind[];
}

export interface MultiLockResult {
  readonly acquisitions: number;
  readonly failedAcquires: number;
  readonly overlaps: number;
  readonly violations: readonly string[];
  readonly faults: readonly FaultRecord[];
  readonly leftAfterClose: readonly EphemeralNode[];
  readonly durationMs: number;
}

interface Member {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
}

/**
 * `MultiLock`s over overlapping sets of paths under faults: each session takes two or three of
 * the paths at once, in any order, and enters a section on every part. No part may ever have two
 * holders whose joint lease signals both stayed live (the store checks it per path, as for the
 * mutex), and nothing may be left behind once everyone has stopped.
 */
export async function runMultiLockChaos(
  ctx: ChaosContext,
  options: MultiLockOptions,
): Promise<MultiLockResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'multi-lock');
  const base = '/chaos/multi';
  const paths = Array.from({ length: options.paths }, (_, i) => `${base}/p${i}`);
  const members: Member[] = [];
  const store = new FencedStore();
  let failedAcquires = 0;
  let running = true;

  const loop = async (member: Member, rng: Random): Promise<void> => {
    for (let n = 0; running; n += 1) {
      const parts = rng.shuffle(paths).slice(0, rng.int(2, 3));
      const multi = new MultiLock(member.client, parts);
      let lease;
      try {
        lease = await multi.acquire({ timeout: 2 * SESSION_TIMEOUT });
      } catch {
        failedAcquires += 1;
        if (member.client.state === 'closed') return;
        continue;
      }
      const signal = lease.signal;
      const ids = lease.leases.map((part, i) => ({
        id: `${member.name}:${n}:${i}`,
        lockPath: multi.paths[i] as string,
        token: part.fencingToken,
      }));
      for (const { id, lockPath, token } of ids) {
        await store.enter({ id, holder: member.name, lockPath, fencingToken: token, slow: false });
        await store.write(id, token);
      }
      await new Promise((resolve) => setTimeout(resolve, rng.int(0, 10)));
      for (const { id } of ids) await store.exit(id, signal.aborted);
      await lease.release().catch(() => undefined);
    }
  };

  try {
    for (let i = 0; i < options.sessions; i += 1) {
      const proxy = await FaultProxy.start(ctx.ensemble.connectString);
      const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
      await client.start();
      members.push({ name: `multi-${i + 1}`, proxy, client });
    }
    const loops = members.map((m, i) => loop(m, Random.derive(ctx.seed, `multi-lock-${i}`)));
    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) => r.pick(members),
        expire: async (r) => {
          const holders = store.holders();
          const target = members.find((m) => holders.includes(m.name)) ?? r.pick(members);
          await expireSession(target.client, { connectString: ctx.ensemble.connectString });
          return target.name;
        },
      },
      random,
      ctx.log,
    );
    for (const m of members) m.proxy.heal();
    running = false;
    await Promise.all(loops);
    const leftAfterClose = await leftoversAfter(ctx.admin, [base], 'lease node');
    return {
      acquisitions: store.acquisitions,
      failedAcquires,
      overlaps: store.overlaps,
      violations: store.violations,
      faults,
      leftAfterClose,
      durationMs: Date.now() - started,
    };
  } finally {
    running = false;
    for (const m of members) m.proxy.heal();
    await Promise.all(members.map((m) => m.client.close()));
    await Promise.all(members.map((m) => m.proxy.close()));
  }
}
