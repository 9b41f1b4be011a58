/**
 * The code under test: a scheduler that several replicas of a service run, of which only the
 * elected leader produces reports. It is ordinary application code; the test next to it shows
 * how to check it against a real ZooKeeper, session loss included.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ZkClient } from '@zkit/core';
import { LeaderLatch, type LeadershipTerm } from '@zkit/election';

export interface ReportSchedulerOptions {
  /** This replica's name. */
  readonly id: string;
  /** Produces one report; `fencingToken` goes with whatever it writes. */
  readonly report: (fencingToken: bigint, signal: AbortSignal) => Promise<void> | void;
  /** Pause between two reports. Default 100 ms. */
  readonly everyMs?: number;
  /** Election path shared by the replicas. Default `/reports/scheduler`. */
  readonly path?: string;
}

export class ReportScheduler {
  readonly #latch: LeaderLatch;
  readonly #options: ReportSchedulerOptions;
  #loop: Promise<void> = Promise.resolve();

  constructor(client: ZkClient, options: ReportSchedulerOptions) {
    this.#options = options;
    this.#latch = new LeaderLatch(client, options.path ?? '/reports/scheduler', { id: options.id });
    this.#latch.on('elected', (term) => {
      this.#loop = this.#run(term);
    });
  }

  /** Whether this replica produces the reports right now. */
  get leading(): boolean {
    return this.#latch.hasLeadership;
  }

  async start(): Promise<void> {
    await this.#latch.start();
  }

  async close(): Promise<void> {
    await this.#latch.close();
    await this.#loop;
  }

  /** Reports until the term ends: the term's signal stops the loop, also mid-pause. */
  async #run(term: LeadershipTerm): Promise<void> {
    try {
      while (!term.signal.aborted) {
        await this.#options.report(term.fencingToken, term.signal);
        await sleep(this.#options.everyMs ?? 100, undefined, { signal: term.signal });
      }
    } catch (error) {
      if (!term.signal.aborted) throw error;
    }
  }
}
