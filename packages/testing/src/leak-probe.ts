import { getEventListeners } from 'node:events';

/** What a {@link LeakProbe} saw between `start()` and `stop()`. */
export interface LeakReport {
  /** Heap growth in bytes, both ends measured after a full collection. */
  readonly heapGrowth: number;
  /** Per watched signal, the largest number of `abort` listeners seen by `sample()`. */
  readonly maxListeners: readonly number[];
  /** The `MaxListenersExceededWarning` messages Node emitted meanwhile. */
  readonly listenerWarnings: readonly string[];
}

/**
 * Watches a long-running loop for leaks: heap growth between two full collections, the `abort`
 * listeners of the signals that outlive each wait (sampled while the loop runs), and Node's
 * `MaxListenersExceededWarning`. Needs `--expose-gc` (the repository's vitest configuration
 * passes it to its forks); without it `start()` throws, since a heap figure taken without a
 * collection says nothing.
 *
 * @example
 * ```ts
 * const probe = LeakProbe.start(() => [controller.signal, client.sessionSignal()]);
 * // ... a warm-up, then probe.rebase(), then many iterations calling probe.sample() now and then

 * const report = probe.stop();
 * expect(report.heapGrowth).toBeLessThan(10 * 1024 * 1024);
 * expect(Math.max(...report.maxListeners)).toBeLessThanOrEqual(1);
 * expect(report.listenerWarnings).toEqual([]);
 * ```
 */
export class LeakProbe {
  readonly #signals: () => readonly AbortSignal[];
  readonly #gc: () => void;
  #before: number;
  readonly #max: number[] = [];
  readonly #warnings: string[] = [];
  readonly #onWarning = (warning: Error): void => {
    if (warning.name === 'MaxListenersExceededWarning') this.#warnings.push(warning.message);
  };

  private constructor(signals: () => readonly AbortSignal[], gc: () => void) {
    this.#signals = signals;
    this.#gc = gc;
    process.on('warning', this.#onWarning);
    gc();
    this.#before = process.memoryUsage().heapUsed;
    this.sample();
  }

  /**
   * Collects garbage, records the heap, and starts listening for listener warnings.
   *
   * @param signals - the signals to sample, asked again at every `sample()` (a client's session
   *   signal changes with its session)
   * @throws `Error` when the process was started without `--expose-gc`
   */
  static start(signals: () => readonly AbortSignal[] = () => []): LeakProbe {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (typeof gc !== 'function') {
      throw new Error('LeakProbe needs node --expose-gc to measure the heap');
    }
    return new LeakProbe(signals, gc);
  }

  /**
   * Collects garbage and takes the heap figure again: call it after a warm-up, so caches filled
   * once do not count as growth. Listener counts and warnings keep counting from `start()`.
   */
  rebase(): void {
    this.#gc();
    this.#before = process.memoryUsage().heapUsed;
  }

  /** Records the current number of `abort` listeners of each watched signal. */
  sample(): void {
    this.#signals().forEach((signal, i) => {
      const n = getEventListeners(signal, 'abort').length;
      this.#max[i] = Math.max(this.#max[i] ?? 0, n);
    });
  }

  /** Samples once more, collects garbage, and reports. Stops listening for warnings. */
  stop(): LeakReport {
    this.sample();
    this.#gc();
    const heapGrowth = process.memoryUsage().heapUsed - this.#before;
    process.off('warning', this.#onWarning);
    return {
      heapGrowth,
      maxListeners: [...this.#max],
      listenerWarnings: [...this.#warnings],
    };
  }
}

/** Options of {@link probeIterables}. */
export interface ProbeIterablesOptions {
  /** Values to pull from each iterable. */
  readonly count: number;
  /** Values pulled from each before the heap baseline is taken (default 500). */
  readonly warmUp?: number;
  /** The signals to sample, as for {@link LeakProbe.start}. */
  readonly signals?: () => readonly AbortSignal[];
  /** Sample the signals every this many values of each iterable (default 500). */
  readonly sampleEvery?: number;
  /**
   * Called with each value pulled and the index of its iterable, e.g. to make the next change
   * only once the last one has been seen.
   */
  readonly onValue?: (value: unknown, iterable: number) => void;
}

/**
 * Pulls `count` values from each iterable at the same time and reports what a
 * {@link LeakProbe} saw. The heap is measured while every loop is still running (a loop that
 * leaks frees it all when it ends), then every loop is left with `break`.
 *
 * @throws `Error` without `--expose-gc`; whatever an iterable throws, or ends early with
 * @example
 * ```ts
 * const report = await probeIterables([client.watchData('/a', { signal })], {
 *   count: 10_000,
 *   signals: () => [signal],
 * });
 * ```
 */
export async function probeIterables(
  iterables: readonly AsyncIterable<unknown>[],
  options: ProbeIterablesOptions,
): Promise<LeakReport> {
  const { count, warmUp = 500, sampleEvery = 500, signals, onValue } = options;
  const probe = LeakProbe.start(signals);
  let warm = 0;
  let full = 0;
  let report: LeakReport | undefined;
  let measured!: () => void;
  const allMeasured = new Promise<void>((resolve) => (measured = resolve));
  const finish = (): void => {
    report ??= probe.stop();
    measured();
  };
  const pull = async (iterable: AsyncIterable<unknown>, index: number): Promise<void> => {
    let n = 0;
    try {
      await pullAll();
    } catch (error) {
      finish(); // the other loops must not wait for this one
      throw error;
    }
    if (n < count) {
      finish();
      throw new Error(`the iteration ended after ${n} of ${count} values`);
    }
    async function pullAll(): Promise<void> {
      for await (const value of iterable) {
        n += 1;
        onValue?.(value, index);
        if (n === warmUp && ++warm === iterables.length) probe.rebase();
        if (n % sampleEvery === 0) probe.sample();
        if (n === count) {
          if (++full === iterables.length) finish();
          await allMeasured;
          break;
        }
      }
    }
  };
  await Promise.all(iterables.map(pull));
  return report as LeakReport;
}
