import { ZkClient } from '@zkit/core';
import { SetPartitioner } from '@zkit/group';
import { expireSession, FaultProxy, waitFor } from '@zkit/testing';
import {
  leftoversAfter,
  orphansAfter,
  planFaults,
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

export interface PartitionerOptions {
  readonly members: number;
  readonly items: number;
  readonly faults: readonly FaultKind[];
}

export interface PartitionerResult {
  /** Shares taken (each `acquired`). */
  readonly allocations: number;
  /** Moments at which an item was owned by two members. */
  readonly violations: readonly string[];
  /** How long after each fault every item was owned again, once, by a live member. */
  readonly recoveries: readonly Recovery[];
  readonly boundMs: number;
  readonly faults: readonly FaultRecord[];
  readonly orphans: readonly EphemeralNode[];
  readonly leftAfterClose: readonly EphemeralNode[];
  readonly durationMs: number;
}

interface Member {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
  readonly partitioner: SetPartitioner;
  /** Set once the member is crashed: a dead process owns nothing. */
  dead: boolean;
}

/** How long the party must stay unchanged before members take their shares, ms. */
const TIME_BOUNDARY = 300;

/**
 * Work items divided by set partitioners under faults: members on their own sessions (each
 * behind a proxy) hold shares of a set of items; the schedule restarts servers, partitions
 * members, expires the session of a member holding items and crashes one (its connection
 * black-holed for good, so its session dies on the server as a killed process's would; a new
 * member takes its place). A member owns an item while it is `acquired` with the item in its
 * share and the share's signal not aborted. At every observed moment no item may be owned
 * twice; after each fault every item must be owned again, by exactly one live member, within
 * the session timeout plus the party's stable time plus two seconds.
 */
export async function runPartitionerChaos(
  ctx: ChaosContext,
  options: PartitionerOptions,
): Promise<PartitionerResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'partitioner');
  const root = '/chaos/partitioner';
  const items = Array.from({ length: options.items }, (_, i) => `item-${i}`);
  const members: Member[] = [];
  const violations: string[] = [];
  const recoveries: Recovery[] = [];
  const boundMs = SESSION_TIMEOUT + TIME_BOUNDARY + 2000;
  let allocations = 0;

  const owners = (): Map<string, Member[]> => {
    const byItem = new Map<string, Member[]>();
    for (const m of members) {
      if (m.dead || m.partitioner.state !== 'acquired') continue;
      for (const item of m.partitioner.items) {
        byItem.set(item, [...(byItem.get(item) ?? []), m]);
      }
    }
    return byItem;
  };
  /** Counts an item owned twice; returns whether every item has exactly one owner. */
  const check = (): boolean => {
    const byItem = owners();
    for (const [item, holders] of byItem) {
      if (holders.length > 1) {
        violations.push(`${item} owned by ${holders.map((h) => h.name).join(' and ')}`);
      }
    }
    return items.every((item) => byItem.get(item)?.length === 1);
  };

  const startMember = async (name: string): Promise<Member> => {
    const proxy = await FaultProxy.start(ctx.ensemble.connectString);
    const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
    const partitioner = new SetPartitioner(client, root, items, {
      identifier: name,
      timeBoundary: TIME_BOUNDARY,
    });
    const member: Member = { name, proxy, client, partitioner, dead: false };
    partitioner.on('state', (now) => {
      if (now === 'acquired') {
        allocations += 1;
        check();
      }
      // Work stops at once when the share ends; then the items are given back.
      if (now === 'release') void partitioner.release();
    });
    members.push(member);
    await client.start();
    partitioner.start();
    return member;
  };

  try {
    for (let i = 0; i < options.members; i += 1) await startMember(`member-${i + 1}`);
    await waitFor(check, { timeout: 20_000, interval: 10, message: 'a first division' });
    const alive = () => members.filter((m) => !m.dead);
    const holding = () => alive().filter((m) => m.partitioner.items.length > 0);
    let crashes = 0;

    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) => {
          const target = r.pick(holding().length > 0 ? holding() : alive());
          return { name: target.name, proxy: target.proxy };
        },
        expire: async (r) => {
          const target = r.pick(holding().length > 0 ? holding() : alive());
          await expireSession(target.client, { connectString: ctx.ensemble.connectString });
          return target.name;
        },
        crash: async (r) => {
          const target = r.pick(holding().length > 0 ? holding() : alive());
          // A killed process: it owns nothing from now on, and its session is left to expire.
          target.dead = true;
          target.proxy.partition();
          crashes += 1;
          await startMember(`member-${options.members + crashes}`);
          return target.name;
        },
        afterFault: async (record) => {
          recoveries.push(
            await recoveryAfter(record, check, boundMs, {
              interval: 10,
              what: 'every item owned once',
            }),
          );
        },
      },
      random,
      ctx.log,
    );

    const orphans = await orphansAfter(ctx.ensemble, ctx.admin, root, SESSION_TIMEOUT + 4000);
    await Promise.all(members.filter((m) => !m.dead).map((m) => m.partitioner.close()));
    const leftAfterClose = await leftoversAfter(ctx.admin, [root], 'party or lock node');
    return {
      allocations,
      violations,
      recoveries,
      boundMs,
      faults,
      orphans,
      leftAfterClose,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const m of members) m.proxy.heal();
    await Promise.all(members.map((m) => m.partitioner.close()));
    await Promise.all(members.map((m) => m.client.close()));
    await Promise.all(members.map((m) => m.proxy.close()));
  }
}
