import type { Summary } from './stats';

/** Parent → bot child (IPC). Each request carries an id; the child answers with the same id. */
export type Command =
  | { id: number; cmd: 'micro'; accountIds: string[]; upns: string[] }
  | { id: number; cmd: 'loopStart' }
  | { id: number; cmd: 'loopStop' }
  | { id: number; cmd: 'mem' }
  | { id: number; cmd: 'gc' }
  | { id: number; cmd: 'readAll' }
  /**
   * Workflow-store transactions (read a plan, write it back, one audit entry) over `plans` plans, seeded
   * on the first call; answers with the samples, so that rounds can be interleaved with another bot's.
   */
  | { id: number; cmd: 'workflowMutations'; plans: number; count: number; budgetMs: number }
  /** The audit reads of the history card: newest page of the whole log, and of given accounts (usernames). */
  | { id: number; cmd: 'historyReads'; usernames: string[]; busy: string; count: number }
  /** A one-time export link for the whole log (as the export button makes one). */
  | { id: number; cmd: 'exportLink' }
  /** Resets the sampled RSS peak to the current RSS (the start of a memory measurement). */
  | { id: number; cmd: 'peakReset' }
  | { id: number; cmd: 'cpu' }
  /** Echo bot only: answer these verbs with these cards (JSON texts), taken in turn. */
  | { id: number; cmd: 'answers'; cards: Record<string, string[]> }
  | { id: number; cmd: 'profileStart' }
  | { id: number; cmd: 'profileStop'; file: string }
  | { id: number; cmd: 'stop' };

export interface Memory {
  /** process.resourceUsage().maxRSS: the kernel's high-water mark for the process, in MB. */
  maxRssMb: number;
  /** The highest process.memoryUsage().rss seen by a 50 ms sampler, in MB. */
  sampledPeakRssMb: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export type MicroResults = Record<string, Summary & { note?: string }>;

export type Reply =
  | { id: 0; type: 'ready'; port: number; startupMs: number }
  | { id: number; type: 'micro'; results: MicroResults }
  | { id: number; type: 'loop'; delay: LoopDelay }
  | { id: number; type: 'mem'; memory: Memory }
  | { id: number; type: 'readAll'; summary: Summary; entries: number; memory: Memory }
  | { id: number; type: 'samples'; samples: number[] }
  | { id: number; type: 'link'; url: string }
  | { id: number; type: 'stopped'; flushMs: number }
  | { id: number; type: 'profiled'; file: string }
  | { id: number; type: 'ok' }
  /** process.cpuUsage() of the bot process, user + system, in ms. */
  | { id: number; type: 'cpu'; ms: number }
  | { id: number; type: 'error'; message: string };
