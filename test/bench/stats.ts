/** Summary of a sample, in the unit the samples were given in. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Nearest-rank percentile of an ascending-sorted sample: the element at 0-based index
 * `ceil(p/100 · n) − 1`. With n ≤ 100, p99 is the maximum.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile out of range: ${p}`);
  const index = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[index] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sum / n,
    min: sorted[0] as number,
    max: sorted[n - 1] as number,
  };
}

/** Monotonic clock in nanoseconds. */
export const now = (): bigint => process.hrtime.bigint();

export const nsToUs = (ns: bigint): number => Number(ns) / 1e3;
export const nsToMs = (ns: bigint): number => Number(ns) / 1e6;
export const nsToS = (ns: bigint): number => Number(ns) / 1e9;

/** Converts every field of a summary (for example ns samples reported in µs). */
export function scaleSummary(s: Summary, factor: number): Summary {
  return {
    n: s.n,
    p50: s.p50 * factor,
    p99: s.p99 * factor,
    mean: s.mean * factor,
    min: s.min * factor,
    max: s.max * factor,
  };
}
