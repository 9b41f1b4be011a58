import type { Comparison, Scenario } from './scenario.js';
import { s0Idle } from './scenarios/s0-idle.js';
import { s0, s0Binding, s0Native, s0Overhead, transports } from './scenarios/s0-raw.js';
import { s1, s2c8, s2c32 } from './scenarios/s1-s2-mutex.js';
import { s3, s3Crash } from './scenarios/s3-election.js';
import { s4a, s4b, s4c } from './scenarios/s4-queue.js';
import { s5 } from './scenarios/s5-double-barrier.js';
import { s6 } from './scenarios/s6-registry.js';
import { s7c1, s7c8, s7c32 } from './scenarios/s7-atomic-long.js';
import { s8 } from './scenarios/s8-cache.js';
import { s9 } from './scenarios/s9-transaction.js';

/**
 * Every scenario, in the order they run (SCENARIOS.md §0 "Process model": S0, S1, S2-c8,
 * S2-c32, S3, S3-crash, S4a, S4b, S4c, S5, S6, S7-c1, S7-c8, S7-c32, S8, S9). Adding one: a file in scenarios/ and a line here.
 */
export const scenarios: readonly Scenario[] = [
  s0,
  s0Native,
  s0Binding,
  s0Overhead,
  s0Idle,
  s1,
  s2c8,
  s2c32,
  s3,
  s3Crash,
  s4a,
  s4b,
  s4c,
  s5,
  s6,
  s7c1,
  s7c8,
  s7c32,
  s8,
  s9,
];

/** Figures derived from several scenarios once all have run. */
export const comparisons: readonly Comparison[] = [transports];
