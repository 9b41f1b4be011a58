import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZkClient } from '@zkit/core';
import { expireSession, FaultProxy, waitFor, type ZooKeeperEnsemble } from '@zkit/testing';
import {
  leftoversAfter,
  orphansAfter,
  planFaults,
  reaped,
  runFaults,
  SESSION_TIMEOUT,
  type EphemeralNode,
  type FaultKind,
  type FaultRecord,
} from './harness.js';
import {
  FencedStore,
  holdLoop,
  type FromWorker,
  type HolderCounts,
  type SlowSections,
  type ToWorker,
} from './mutex.js';
import { Random } from './random.js';

/** Where `tsc -b` of the test workspace puts the worker. */
const WORKER = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'dist',
  'chaos',
  'mutex-worker.js',
);

/** What the mutex run needs from the test. */
export interface ChaosContext {
  readonly ensemble: ZooKeeperEnsemble;
  /** A client on the ensemble, never faulted. */
  readonly admin: ZkClient;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface MutexOptions {
  /** Sessions in the test process. */
  readonly localSessions: number;
  /** Worker processes, each with `sessionsPerWorker` sessions. */
  readonly workers: number;
  readonly sessionsPerWorker: number;
  readonly lockCount: number;
  readonly faults: readonly FaultKind[];
}

export interface MutexResult {
  readonly sessions: number;
  readonly processes: number;
  readonly acquisitions: number;
  readonly handOffs: number;
  readonly overlaps: number;
  readonly violations: readonly string[];
  readonly acceptedWrites: number;
  readonly rejectedWrites: number;
  readonly failedAcquires: number;
  readonly faults: readonly FaultRecord[];
  readonly orphans: readonly EphemeralNode[];
  readonly leftAfterStop: readonly EphemeralNode[];
  readonly unreaped: readonly string[];
  readonly durationMs: number;
}

interface Slot {
  holder: string;
  readonly proxy: FaultProxy;
  readonly worker?: Worker;
}

/** A worker process and the sessions it holds. */
class Worker {
  readonly child: ChildProcess;
  readonly holders: string[];
  readonly ready: Promise<void>;
  readonly stopped: Promise<HolderCounts[]>;
  readonly exited: Promise<void>;
  killed = false;

  constructor(
    store: FencedStore,
    init: Extract<ToWorker, { type: 'init' }>,
    log: (line: string) => void,
  ) {
    this.holders = init.sessions.map((s) => s.holder);
    this.child = fork(WORKER, [], { serialization: 'advanced', stdio: 'inherit' });
    let ready!: () => void;
    let failed!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    let stopped!: (counts: HolderCounts[]) => void;
    this.stopped = new Promise((resolve) => (stopped = resolve));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          ready();
          break;
        case 'call':
          void this.#serve(store, message);
          break;
        case 'stopped':
          stopped(message.counts);
          break;
        case 'failed':
          log(`worker ${this.holders.join('+')} failed: ${message.error}`);
          failed(new Error(message.error));
          break;
      }
    });
    this.child.once('exit', (code, signal) => {
      // A dead process writes nothing more: its open sections end here.
      for (const holder of this.holders) store.crashed(holder);
      if (!this.killed && code !== 0) failed(new Error(`worker exited with ${code ?? signal}`));
      stopped([]);
    });
    this.child.send(init satisfies ToWorker);
  }

  async #serve(store: FencedStore, call: Extract<FromWorker, { type: 'call' }>): Promise<void> {
    let value: unknown;
    switch (call.op) {
      case 'enter':
        value = await store.enter(call.start);
        break;
      case 'write':
        value = await store.write(call.id, call.fencingToken);
        break;
      case 'exit':
        value = await store.exit(call.id, call.aborted);
        break;
    }
    if (this.child.connected)
      this.child.send({ type: 'reply', seq: call.seq, value } satisfies ToWorker);
  }

  async kill(): Promise<void> {
    this.killed = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Mutual exclusion under faults: sessions in this process and in worker processes take turns on a
 * few locks, every critical section entering and leaving a fenced store, while the schedule
 * restarts servers, partitions clients, expires holders' sessions and kills a worker process.
 */
export async function runMutexChaos(
  ctx: ChaosContext,
  options: MutexOptions,
): Promise<MutexResult> {
  if (!existsSync(WORKER)) {
    throw new Error(`${WORKER} is missing: build the test workspace first (npm run build)`);
  }
  const started = Date.now();
  const random = Random.derive(ctx.seed, 'mutex');
  const root = '/chaos/mutex';
  const lockPaths = Array.from({ length: options.lockCount }, (_, i) => `${root}/lock-${i}`);
  const store = new FencedStore();
  const slow: SlowSections = new Map();
  // Late enough that the lock has passed to another holder, who has written with a newer token.
  const lateWriteMs = SESSION_TIMEOUT + 1500;
  const stop = new AbortController();
  const slots: Slot[] = [];
  const locals: { holder: string; client: ZkClient; loop: Promise<HolderCounts> }[] = [];
  const workers: Worker[] = [];
  const proxies: FaultProxy[] = [];
  let generation = 0;

  const spawn = async (index: number, workerSlots: { holder: string; proxy: FaultProxy }[]) => {
    const worker = new Worker(
      store,
      {
        type: 'init',
        seed: ctx.seed,
        sessionTimeout: SESSION_TIMEOUT,
        lockPaths,
        lateWriteMs,
        sessions: workerSlots.map((s) => ({
          holder: s.holder,
          connectString: s.proxy.connectString,
        })),
      },
      ctx.log,
    );
    workers[index] = worker;
    for (const s of workerSlots) slots.push({ ...s, worker });
    await worker.ready;
  };

  try {
    for (let i = 0; i < options.localSessions; i += 1) {
      const proxy = await FaultProxy.start(ctx.ensemble.connectString);
      proxies.push(proxy);
      const holder = `local-${i + 1}`;
      const client = new ZkClient(proxy.connectString, { sessionTimeout: SESSION_TIMEOUT });
      await client.start();
      slots.push({ holder, proxy });
      locals.push({
        holder,
        client,
        loop: holdLoop(
          client,
          holder,
          lockPaths,
          Random.derive(ctx.seed, holder),
          store,
          stop.signal,
          slow,
          lateWriteMs,
        ),
      });
    }
    for (let w = 0; w < options.workers; w += 1) {
      const workerSlots = [];
      for (let s = 0; s < options.sessionsPerWorker; s += 1) {
        const proxy = await FaultProxy.start(ctx.ensemble.connectString);
        proxies.push(proxy);
        workerSlots.push({ holder: `proc-${w + 1}${String.fromCharCode(97 + s)}`, proxy });
      }
      await spawn(w, workerSlots);
    }

    /**
     * Asks `slot`'s holder for a slow next critical section and waits (bounded) until it is in it,
     * so that the fault lands while it holds a lock. Resolves `false` if it did not get there.
     */
    const slowSection = async (slot: Slot, ms: number): Promise<boolean> => {
      if (slot.worker)
        slot.worker.child.send({ type: 'slow', holder: slot.holder, ms } satisfies ToWorker);
      else slow.set(slot.holder, ms);
      try {
        await waitFor(() => store.inSlowSection(slot.holder), {
          timeout: 15_000,
          interval: 5,
          message: `${slot.holder} to enter a slow section`,
        });
        return true;
      } catch {
        ctx.log(`  ${slot.holder} did not enter a critical section in time; faulting it anyway`);
        return false;
      }
    };

    const faults = await runFaults(
      ctx.ensemble,
      planFaults(random, options.faults),
      {
        partitionTarget: async (r, fault) => {
          const slot = r.pick(slots);
          // Slow for as long as the partition lasts, and a little longer.
          await slowSection(slot, fault.holdMs + 500);
          return { name: slot.holder, proxy: slot.proxy };
        },
        expire: async (r) => {
          const local = r.pick(locals);
          const slot = slots.find((s) => s.holder === local.holder);
          if (slot !== undefined) await slowSection(slot, 1000);
          await expireSession(local.client, { connectString: ctx.ensemble.connectString });
          return local.holder;
        },
        crash: async (r) => {
          const victim = r.pick(workers);
          const slot = slots.find((s) => s.worker === victim);
          if (slot !== undefined) await slowSection(slot, 1000);
          const index = workers.indexOf(victim);
          await victim.kill();
          const victimSlots = slots.filter((s) => s.worker === victim);
          for (const s of victimSlots) slots.splice(slots.indexOf(s), 1);
          generation += 1;
          await spawn(
            index,
            victimSlots.map((s) => ({ holder: `${s.holder}-${generation}`, proxy: s.proxy })),
          );
          return `process of ${victim.holders.join('+')}`;
        },
      },
      random,
      ctx.log,
    );

    // Sessions that died during the run (a killed process, an expired or cut-off client) must
    // leave nothing behind once the server has expired them.
    const orphans = await orphansAfter(ctx.ensemble, ctx.admin, root, SESSION_TIMEOUT + 4000);

    stop.abort();
    for (const worker of workers) if (worker.child.connected) worker.child.send({ type: 'stop' });
    const counts = [
      ...(await Promise.all(locals.map((l) => l.loop))),
      ...(await Promise.all(workers.map((w) => w.stopped))).flat(),
    ];
    await Promise.all(workers.map((w) => w.exited));

    // With every loop stopped (the local clients still open), no lock node may remain.
    const leftAfterStop = await leftoversAfter(ctx.admin, lockPaths, 'lock node');
    const unreaped: string[] = [];
    for (const path of lockPaths) if (!(await reaped(ctx.admin, path, 10_000))) unreaped.push(path);

    return {
      sessions: options.localSessions + options.workers * options.sessionsPerWorker,
      processes: options.workers,
      acquisitions: store.acquisitions,
      handOffs: store.handOffs,
      overlaps: store.overlaps,
      violations: store.violations,
      acceptedWrites: store.acceptedWrites,
      rejectedWrites: store.rejectedWrites,
      failedAcquires: counts.reduce((sum, c) => sum + c.failedAcquires, 0),
      faults,
      orphans,
      leftAfterStop,
      unreaped,
      durationMs: Date.now() - started,
    };
  } finally {
    stop.abort();
    for (const proxy of proxies) proxy.heal();
    for (const worker of workers) if (worker.child.exitCode === null) await worker.kill();
    await Promise.all(locals.map((l) => l.client.close()));
    await Promise.all(proxies.map((p) => p.close()));
  }
}
