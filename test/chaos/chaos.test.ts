import { ZkClient } from '@zkit/core';
import type { ZooKeeperEnsemble } from '@zkit/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { countByKind, renderTable, startEnsemble, type SummaryRow } from './harness.js';
import { chaosSeed } from './random.js';
import { runElectionChaos } from './scenario-election.js';
import { runMutexChaos, type ChaosContext } from './scenario-mutex.js';
import { runQueueChaos } from './scenario-queue.js';
import { runRegistryChaos } from './scenario-registry.js';

// One three-server ensemble for the whole file (three JVMs are the expensive part); the scenarios
// run one after the other against it, each under its own seeded fault schedule.
const seed = chaosSeed();
const log = (line: string): void => console.log(`[chaos] ${line}`);
const summary: SummaryRow[] = [];
let ensemble: ZooKeeperEnsemble | undefined;
let admin: ZkClient | undefined;

function context(): ChaosContext {
  if (ensemble === undefined || admin === undefined) throw new Error('no ensemble');
  return { ensemble, admin, seed, log };
}

function faultsText(records: Parameters<typeof countByKind>[0]): string {
  return Object.entries(countByKind(records))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}

beforeAll(async () => {
  log(`seed ${seed} (replay with CHAOS_SEED=${seed})`);
  ensemble = await startEnsemble();
  admin = new ZkClient(ensemble.connectString, { sessionTimeout: 10_000 });
  await admin.start();
}, 120_000);

afterAll(async () => {
  log(`summary (seed ${seed}):\n${renderTable(summary)}`);
  await admin?.close();
  await ensemble?.stop();
}, 60_000);

describe('chaos', () => {
  test('chaos - mutex: never two live holders, stale tokens fenced, nothing left behind', async () => {
    const result = await runMutexChaos(context(), {
      localSessions: 4,
      workers: 2,
      sessionsPerWorker: 2,
      lockCount: 6,
      faults: [
        'follower-restart',
        'leader-restart',
        'leader-restart',
        'partition-long',
        'partition-short',
        'partition-short',
        'expire',
        'expire',
        'crash',
        'crash',
      ],
    });
    summary.push({
      scenario: 'mutex',
      sessions: `${result.sessions} (${result.processes} child processes)`,
      faults: faultsText(result.faults),
      acquisitions: result.acquisitions,
      'hand-offs': result.handOffs,
      overlaps: result.overlaps,
      violations: result.violations.length,
      'fencing rejections': result.rejectedWrites,
      'failed acquires': result.failedAcquires,
      orphans: result.orphans.length + result.leftAfterStop.length,
      'duration s': (result.durationMs / 1000).toFixed(1),
    });
    expect(result.violations).toEqual([]);
    expect(result.acquisitions).toBeGreaterThanOrEqual(1000);
    expect(result.handOffs).toBeGreaterThan(0);
    // Every section writes once, except one cut short by the kill of its process.
    const writes = result.acceptedWrites + result.rejectedWrites;
    expect(writes).toBeLessThanOrEqual(result.acquisitions);
    expect(writes).toBeGreaterThanOrEqual(result.acquisitions - result.sessions);
    expect(result.faults.map((f) => f.kind).sort()).toEqual(
      expect.arrayContaining(['crash', 'expire', 'leader-restart', 'partition-long']),
    );
    expect(result.orphans).toEqual([]);
    expect(result.leftAfterStop).toEqual([]);
    expect(result.unreaped).toEqual([]);
  }, 150_000);

  test('chaos - election: terms never overlap, one leader again soon after every fault', async () => {
    const result = await runElectionChaos(context(), {
      participants: 5,
      faults: [
        'follower-restart',
        'leader-restart',
        'partition-long',
        'partition-long',
        'partition-short',
        'partition-short',
        'expire',
        'expire',
      ],
    });
    const slowest = Math.max(...result.recoveries.map((r) => r.ms));
    summary.push({
      scenario: 'election',
      sessions: 5,
      faults: faultsText(result.faults),
      'terms (hand-offs)': result.terms,
      violations: result.violations.length,
      'slowest recovery ms': slowest,
      'longest leaderless ms': result.longestGapMs,
      orphans: result.orphans.length + result.leftAfterClose.length,
      'duration s': (result.durationMs / 1000).toFixed(1),
    });
    log(
      `  election recoveries: ${result.recoveries.map((r) => `${r.fault} ${r.ms} ms`).join('; ')}`,
    );
    expect(result.violations).toEqual([]);
    expect(result.recoveries).toHaveLength(result.faults.length);
    expect(result.recoveries.filter((r) => !r.ok)).toEqual([]);
    expect(result.terms).toBeGreaterThan(result.faults.filter((f) => f.kind === 'expire').length);
    expect(result.orphans).toEqual([]);
    expect(result.leftAfterClose).toEqual([]);
    expect(result.unreaped).toEqual([]);
  }, 150_000);

  test('chaos - queue: every produced item acknowledged, duplicates only after a consumer died', async () => {
    const result = await runQueueChaos(context(), {
      producers: 2,
      consumers: 3,
      putPauseMs: [0, 20],
      slowShare: 0.02,
      faults: [
        'follower-restart',
        'leader-restart',
        'partition-long',
        'partition-short',
        'expire',
        'expire',
        'crash',
        'crash',
      ],
    });
    summary.push({
      scenario: 'queue',
      sessions: '2 producers, 3 consumers',
      faults: faultsText(result.faults),
      'items produced': result.produced,
      acked: result.acked,
      lost: result.lost.length,
      duplicates: `${result.redeliveries} redelivered, ${result.doublePuts} double puts`,
      violations: result.unexplained.length,
      orphans: result.orphans.length + result.leftClaims,
      'duration s': (result.durationMs / 1000).toFixed(1),
    });
    expect(result.lost).toEqual([]);
    expect(result.produced).toBeGreaterThanOrEqual(700);
    expect(result.unexplained).toEqual([]);
    expect(result.orphans).toEqual([]);
    expect(result.leftClaims).toBe(0);
    expect(result.unreaped).toEqual([]);
  }, 150_000);

  test('chaos - registry: every live instance in every cache within a bound after each fault', async () => {
    const result = await runRegistryChaos(context(), {
      registrars: 3,
      observers: 3,
      initialInstances: 2,
      faults: [
        'follower-restart',
        'leader-restart',
        'partition-long',
        'partition-long',
        'partition-short',
        'expire',
        'expire',
      ],
    });
    const slowest = Math.max(...result.convergences.map((c) => c.ms));
    summary.push({
      scenario: 'registry',
      sessions: '3 registrars, 3 caches',
      faults: faultsText(result.faults),
      instances: result.registered,
      reregistrations: result.reregistrations,
      violations: result.convergences.filter((c) => !c.ok).length + result.registryErrors.length,
      'slowest convergence ms': `${slowest} (bound ${result.boundMs})`,
      orphans: result.orphans.length + result.leftAfterClose.length,
      'duration s': (result.durationMs / 1000).toFixed(1),
    });
    log(
      `  registry convergence: ${result.convergences.map((c) => `${c.fault} ${c.ms} ms`).join('; ')}`,
    );
    expect(result.convergences).toHaveLength(result.faults.length);
    expect(result.convergences.filter((c) => !c.ok)).toEqual([]);
    expect(result.registryErrors).toEqual([]);
    expect(result.orphans).toEqual([]);
    expect(result.leftAfterClose).toEqual([]);
    expect(result.unreaped).toEqual([]);
  }, 150_000);
});
