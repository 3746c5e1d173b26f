/** Latency samples in milliseconds → the summary the report prints. Nearest-rank percentiles. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Formats milliseconds with a precision that suits the size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value < 1) return `${value.toFixed(3)} ms`;
  if (value < 100) return `${value.toFixed(2)} ms`;
  return `${value.toFixed(0)} ms`;
}

/**
 * Runs `work` `count` times (after `warmup` unmeasured runs), stopping early once `budgetMs` of
 * measured time has passed: every loop here is bounded in count and in time.
 */
export async function measure(
  work: (i: number) => Promise<unknown>,
  options: { count: number; warmup: number; budgetMs: number; between?: () => Promise<void> },
): Promise<number[]> {
  for (let i = 0; i < options.warmup; i++) {
    await work(i);
    if (options.between) await options.between();
  }
  const samples: number[] = [];
  const stopAt = performance.now() + options.budgetMs;
  for (let i = 0; i < options.count && performance.now() < stopAt; i++) {
    const start = performance.now();
    await work(options.warmup + i);
    samples.push(performance.now() - start);
    if (options.between) await options.between();
  }
  return samples;
}

/** Yields to the event loop (timers, I/O callbacks, background writes) between two iterations. */
export const yieldToLoop = (): Promise<void> => new Promise((done) => setImmediate(done));
