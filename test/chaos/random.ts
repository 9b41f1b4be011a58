/**
 * A small seeded PRNG (mulberry32): the same seed gives the same fault schedule, so a failing run
 * can be replayed with `CHAOS_SEED=<seed>`.
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      const a = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = a;
    }
    return copy;
  }

  /** An independent generator for one part of a run, derived from this seed and a label. */
  static derive(seed: number, label: string): Random {
    let h = seed >>> 0;
    for (const char of label) h = Math.imul(h ^ char.charCodeAt(0), 0x01000193) >>> 0;
    return new Random(h);
  }
}

/** The default seed; `CHAOS_SEED` overrides it. */
export const DEFAULT_SEED = 20_261_125;

/** The seed of this run. */
export function chaosSeed(): number {
  const raw = process.env['CHAOS_SEED'];
  if (raw === undefined || raw === '') return DEFAULT_SEED;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new TypeError(`CHAOS_SEED must be a non-negative integer, got '${raw}'`);
  }
  return seed;
}
