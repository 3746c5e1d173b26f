/** The load the bench puts on a bot over HTTP, and the check of every answer. */
import { execute } from '../test/helpers/activities';
import type { Answer, BotClient } from './client';
import type { BenchAccount } from './fixtures';
import { summarize, type Summary } from './stats';

let seq = 0;
const pick = <T>(list: readonly T[]): T => list[(seq++ * 7919) % list.length]!;

/** showAccount of one of the accounts, spread over them. */
export const showBody = (accounts: readonly BenchAccount[]): string => JSON.stringify(execute('showAccount', { accountId: pick(accounts).id }));
/** A listAccounts page of 10, spread over the `accountCount` accounts. */
export const listBody = (accountCount: number): string => JSON.stringify(execute('listAccounts', { offset: ((seq++ * 7919) % (accountCount / 10)) * 10 }));

export interface Check {
  errors: number;
  firstError?: string;
}

/** A 200 with an Adaptive Card that is not the "something went wrong" card. */
export function checkCard(answer: Answer, check: Check, expect?: string): void {
  let ok = answer.status === 200;
  if (ok) {
    try {
      const body = JSON.parse(answer.body) as { statusCode?: number; value?: { type?: string } };
      ok = body.statusCode === 200 && body.value?.type === 'AdaptiveCard' && !answer.body.includes('correlation') && (!expect || answer.body.includes(expect));
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    check.errors += 1;
    check.firstError ??= `${answer.status} ${answer.body.slice(0, 300)}`;
  }
}

export async function sequential(client: BotClient, count: number, budgetMs: number, body: (i: number) => string, check: Check, expect?: (i: number) => string): Promise<number[]> {
  const samples: number[] = [];
  const stopAt = performance.now() + budgetMs;
  for (let i = 0; i < count && performance.now() < stopAt; i++) {
    const answer = await client.post(body(i));
    checkCard(answer, check, expect?.(i));
    samples.push(answer.ms);
  }
  return samples;
}

/**
 * `clients` closed-loop clients for `warmupMs` then `durationMs`; turns/s over the measured window.
 * `turnsPerSecond` counts the turns that started and ended inside the window (as the storage phases
 * have always measured it); `completedPerSecond` counts every answer that arrived inside it, which
 * still gives a figure when single turns take longer than the window. `samples` and `completed` are
 * their latencies; `sent` counts every turn sent, warm-up included (all of them completed).
 */
export async function sustained(
  client: BotClient,
  clients: number,
  warmupMs: number,
  durationMs: number,
  body: (i: number) => string,
  check: Check,
): Promise<{ turnsPerSecond: number; latency: Summary; turns: number; samples: number[]; completedPerSecond: number; completed: number[]; sent: number }> {
  const t0 = performance.now();
  const measureFrom = t0 + warmupMs;
  const stopAt = measureFrom + durationMs;
  const samples: number[] = [];
  const completed: number[] = [];
  let counter = 0;
  const worker = async (): Promise<void> => {
    // Bounded: ends at stopAt, and never sends more than 2,000 turns per second per client.
    for (let n = 0; n < ((warmupMs + durationMs) / 1000) * 2000; n++) {
      const started = performance.now();
      if (started >= stopAt) return;
      const answer = await client.post(body(counter++));
      checkCard(answer, check);
      const ended = performance.now();
      if (started >= measureFrom && ended <= stopAt) samples.push(answer.ms);
      if (ended >= measureFrom && ended <= stopAt) completed.push(answer.ms);
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return { turnsPerSecond: samples.length / (durationMs / 1000), latency: summarize(samples), turns: samples.length, samples, completedPerSecond: completed.length / (durationMs / 1000), completed, sent: counter };
}
