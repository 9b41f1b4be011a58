import { ZkClient } from '@zkit/core';
import { AtomicLong, AtomicOutcomeUnknownError } from '@zkit/counter';
import { expireSession, FaultProxy } from '@zkit/testing';
import {
  planFaults,
  runFaults,
  SESSION_TIMEOUT,
  type FaultKind,
  type FaultRecord,
} from './harness.js';
import { Random } from './random.js';
import type { ChaosContext } from './scenario-mutex.js';

export interface CounterOptions {
  readonly incrementers: number;
  readonly faults: readonly FaultKind[];
}

export interface CounterResult {
  /** The counter's value at the end (it started at 0 and was only incremented). */
  readonly final: bigint;
  /** Increments reported `succeeded`. */
  readonly succeeded: number;
  /** Increments reported `succeeded: false` or failed before writing (nothing written). */
  readonly failed: number;
  /** Increments reported as {@link AtomicOutcomeUnknownError}. */
  readonly unknown: number;
  /** Of those, how many were applied (the final value says). */
  readonly unknownApplied: number;
  /**
   * Broken promises: a value claimed by two successes (counted twice), a success above the final
   * value, or a value in the counter that neither a success nor an unknown outcome claims.
   */
  readonly violations: readonly string[];
  readonly faults: readonly FaultRecord[];
  readonly durationMs: number;
}

interface Incrementer {
  readonly name: string;
  readonly proxy: FaultProxy;
  readonly client: ZkClient;
}

/**
 * An `AtomicLong` under faults: incrementers add one, in a loop, each through its own proxy,
 * while the schedule restarts servers, partitions and expires them. Every increment reports one
 * of three outcomes, and the final value must agree with them exactly: each value from 1 to the
 * final one was written by one increment, so it is claimed by exactly one success, or else by
 * an increment reported as unknown; no success claims a value twice or beyond the end.
 */
export async function runCounterChaos(
  ctx: ChaosContext,
  options: CounterOptions,
): Promise<CounterResult> {
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'counter');
  const path = '/chaos/counter/value';
  const members: Incrementer[] = [];
  const successes: bigint[] = [];
  const unknowns: bigint[] = [];
  let failed = 0;
  let running = true;

  const loop = async (member: Incrementer): Promise<void> => {
    const counter = new AtomicLong(member.client, path, { retry: { retries: 50 } });
    while (running) {
      try {
        const result = await counter.increment({ timeout: 3 * SESSION_TIMEOUT });
        if (result.succeeded) successes.push(result.postValue);
        else failed += 1;
      } catch (error) {
        if (error instanceof AtomicOutcomeUnknownError) unknowns.push(error.postValue);
        // Anything else failed before its write was sent: nothing was written.
        else failed += 1;
        if (member.client.state === 'closed') return;
      }
    }
  };

  try {
    for (let i = 0; i < options.incrementers; i += 1) {
      const proxy = await FaultProxy.start(ctx.ensemble.connectString);
      const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
      await client.start();
      members.push({ name: `inc-${i + 1}`, proxy, client });
    }
    const loops = members.map((m) => loop(m));
    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r) => r.pick(members),
        expire: async (r) => {
          const target = r.pick(members);
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

    const final = (await new AtomicLong(ctx.admin, path).get()).postValue;
    const violations: string[] = [];
    const claimed = new Set<bigint>();
    for (const value of successes) {
      if (claimed.has(value)) violations.push(`value ${value} reported by two successes`);
      if (value > final) violations.push(`success ${value} above the final value ${final}`);
      claimed.add(value);
    }
    const maybe = new Set(unknowns);
    let unknownApplied = 0;
    for (let value = 1n; value <= final; value += 1n) {
      if (claimed.has(value)) continue;
      if (maybe.has(value)) unknownApplied += 1;
      else violations.push(`value ${value} written by an increment nobody reported`);
    }
    return {
      final,
      succeeded: successes.length,
      failed,
      unknown: unknowns.length,
      unknownApplied,
      violations,
      faults,
      durationMs: Date.now() - started,
    };
  } finally {
    running = false;
    for (const m of members) m.proxy.heal();
    await Promise.all(members.map((m) => m.client.close()));
    await Promise.all(members.map((m) => m.proxy.close()));
  }
}
