import type { ZkClient } from '@zkit/core';
import type { BindingClient } from './binding.js';
import type { MntrDelta } from './mntr.js';

/** Options accepted by `ZkClient`'s constructor. */
export type ClientOptions = NonNullable<ConstructorParameters<typeof ZkClient>[1]>;

/**
 * One named benchmark scenario. Its `run` opens what it needs through the context (sessions are
 * closed by the harness when it ends), times its sections with `ctx.section`, and returns the
 * figures that go into the JSON file under `scenarios[name]`.
 */
export interface Scenario {
  /** Key in the JSON `scenarios` object and in `BENCH_ONLY`, e.g. `S1` or `S2-c8`. */
  readonly name: string;
  /** One line shown in the printed table. */
  readonly title: string;
  run(ctx: ScenarioContext): Promise<Record<string, unknown>>;
}

/** Figures computed from several scenarios' results once they have all run. */
export interface Comparison {
  /** Key in the JSON `comparisons` object. */
  readonly name: string;
  /** Returns null when a scenario it needs did not run or failed. */
  derive(
    scenarios: Record<string, Record<string, unknown>>,
  ): { figures: Record<string, unknown>; rows: [figure: string, value: string][] } | null;
}

/** One line of the printed table. */
export interface Row {
  figure: string;
  value: string;
  /** The section whose requests-per-unit figures are printed beside the value. */
  mntr?: MntrDelta;
}

export interface Section<T> {
  value: T;
  wall_ns: bigint;
  wall_s: number;
  mntr: MntrDelta;
}

export interface ScenarioContext {
  readonly connectString: string;
  /** `BENCH_SCALE`, 1 for published figures. */
  readonly scale: number;
  /** The rule's session timeout (10 000 ms; S3 passes 4 000 ms explicitly). */
  readonly sessionTimeout: number;
  /** `base × BENCH_SCALE`, rounded, never below `floor`. */
  count(base: number, floor: number): number;
  /** Records a parameter under `params[scenario][key]` and returns it. */
  param<T extends number | string | boolean>(key: string, value: T): T;
  /** Adds a line to the printed table. */
  row(figure: string, value: string, mntr?: MntrDelta): void;
  /**
   * Runs one timed section between two mntr probes and records the server-side cost, divided by
   * `units`, as `mntr_<name>` in the scenario's result. Keep untimed work (sessions, setup) out.
   */
  section<T>(name: string, units: number, fn: () => Promise<T>): Promise<Section<T>>;
  /**
   * Like `section`, but records nothing: for sections that are measured many times and summed
   * by the scenario itself (interleaved blocks).
   */
  measure<T>(units: number, fn: () => Promise<T>): Promise<Section<T>>;
  /** A connected `ZkClient` (a new session), closed when the scenario ends. */
  client(options?: ClientOptions): Promise<ZkClient>;
  /** A connected bare-binding session, closed when the scenario ends. */
  binding(sessionTimeout?: number): Promise<BindingClient>;
  /** Runs `cleanup` when the scenario ends (last registered, first run). */
  defer(cleanup: () => unknown): void;
  /**
   * Bounds a blocking wait (SCENARIOS.md §0 "Bounded waits"): rejects with
   * `BoundExceededError` after `ms`, aborting the signal handed to `wait`.
   */
  bounded<T>(what: string, ms: number, wait: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export class BoundExceededError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.name = 'BoundExceededError';
  }
}

/** The 16-byte payload of item `i`: decimal, left-padded with `0` (SCENARIOS.md §0). */
export function payload(i: number): string {
  return String(i).padStart(16, '0');
}
