import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one port call (a "command": listAccounts, createAccount…) cost in round trips to Microsoft, and
 * what the process spent in total. The per-command counts go to the debug log (directory.ts): on a real
 * tenant each Graph round trip is ~100–300 ms and each pwsh start, import and connect seconds, so
 * these counts explain a slow click better than a timer.
 */
export interface Counts {
  /** HTTP requests sent to Graph (a $batch counts once). */
  graphRequests: number;
  /** Of those, $batch requests. */
  graphBatches: number;
  /** Requests carried inside batches. */
  graphBatched: number;
  /** Cmdlets handed to pwsh (a read sent again after a worker died counts twice). */
  cmdlets: number;
  /** pwsh processes started. */
  processStarts: number;
  /** Connect-MicrosoftTeams calls. */
  connects: number;
}

export type CountName = keyof Counts;

export const zeroCounts = (): Counts => ({ graphRequests: 0, graphBatches: 0, graphBatched: 0, cmdlets: 0, processStarts: 0, connects: 0 });

export class Meter {
  private readonly current = new AsyncLocalStorage<Counts>();
  /** Everything since the backend opened, commands and background work alike. */
  readonly total: Counts = zeroCounts();
  /** Work no command waited for: warming the pool, replacing a worker, reconnecting an idle one. */
  readonly background: Counts = zeroCounts();

  add(name: CountName, n = 1): void {
    this.total[name] += n;
    const counts = this.current.getStore();
    if (counts) counts[name] += n;
    else this.background[name] += n;
  }

  /** Runs a command and hands back what it cost, alongside its result or its error. */
  async measure<T>(work: () => Promise<T>): Promise<{ counts: Counts; outcome: { ok: true; value: T } | { ok: false; error: unknown } }> {
    const counts = zeroCounts();
    return this.current.run(counts, async () => {
      try {
        return { counts, outcome: { ok: true, value: await work() } };
      } catch (error) {
        return { counts, outcome: { ok: false, error } };
      }
    });
  }

  /**
   * Runs work that no command waits for (a replacement worker, a background reconnect) outside the
   * caller's context, so that it is not charged to whichever command happened to trigger it.
   */
  detached<T>(work: () => T): T {
    return this.current.exit(work);
  }
}
