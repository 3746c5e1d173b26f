/**
 * A bot under test, in its own process so that its memory and event loop are its own: `app` starts
 * the real Switchboard (createApp + app.start(), local mode, port 0) on a data directory, `echo` the
 * bare botbuilder baseline, `floor` the same with Switchboard's kept connector clients (bench/echoBot.ts). It tells the parent its port over IPC and answers the parent's commands
 * (in-process measurements, memory, event-loop delay, stop).
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createApp, type App } from '../src/app';
import { accountFilter } from '../src/audit/history';
import { HISTORY_PAGE_SIZE } from '../src/bot/history';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/log/logger';
import type { Plan } from '../src/provisioning/plans';
import type { RunningServer } from '../src/server';
import type { Command, Memory, MicroResults, Reply } from './protocol';
import { startEchoBot, type Answers } from './echoBot';
import { startProfiling, stopProfiling } from './profile';
import { measure, summarize, yieldToLoop } from './stats';

const MB = 1024 * 1024;
let sampledPeakRss = 0;
const sampler = setInterval(() => {
  sampledPeakRss = Math.max(sampledPeakRss, process.memoryUsage.rss());
}, 50);
sampler.unref();

function memory(): Memory {
  const usage = process.memoryUsage();
  sampledPeakRss = Math.max(sampledPeakRss, usage.rss);
  return {
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    sampledPeakRssMb: sampledPeakRss / MB,
    rssMb: usage.rss / MB,
    heapUsedMb: usage.heapUsed / MB,
  };
}

function send(reply: Reply): void {
  process.send?.(reply);
}

/** The optional paged reader of the audit log (present once the storage work is in). */
interface PagedAudit {
  page?: (query: { offset: number; limit: number; target?: string }) => Promise<{ items: unknown[] }>;
  count?: () => Promise<number>;
}

/** Storage and query costs measured inside the bot process, through the same objects the bot uses. */
async function micro(app: App, accountIds: string[], upns: string[]): Promise<MicroResults> {
  const results: MicroResults = {};
  const pick = (i: number): string => accountIds[(i * 7919) % accountIds.length]!;

  // Mutations through the TenantDirectory port: a rename (moves the account in the sorted order)
  // and a usage-location change, alternately. The loop yields between calls so that background
  // writes and timers run as they would between turns.
  const mutation = await measure(
    (i) => (i % 2 === 0 ? app.directory.updateAccount(pick(i), { displayName: `Renamed ${pick(i).slice(-5)} ${i}` }) : app.directory.setUsageLocation(pick(i), i % 4 === 1 ? 'FR' : 'US')),
    { count: 4000, warmup: 100, budgetMs: 15_000, between: yieldToLoop },
  );
  results.mutation = summarize(mutation);

  const pages = Math.floor(accountIds.length / 10);
  const list = await measure((i) => app.provisioning.listAccounts({ offset: ((i * 7919) % pages) * 10, limit: 10 }), {
    count: 2000,
    warmup: 50,
    budgetMs: 10_000,
    between: yieldToLoop,
  });
  results.listPage = summarize(list);

  const filtered = await measure((i) => app.provisioning.listAccounts({ offset: (i % 20) * 10, limit: 10, text: 'sales', licensed: true }), {
    count: 1000,
    warmup: 100,
    budgetMs: 8_000,
    between: yieldToLoop,
  });
  results.listFiltered = summarize(filtered);

  const byUpn = await measure((i) => app.directory.findAccountByUpn(upns[(i * 7919) % upns.length]!.toUpperCase()), {
    count: 2000,
    warmup: 50,
    budgetMs: 5_000,
    between: yieldToLoop,
  });
  results.findByUpn = summarize(byUpn);

  const audit = app.audit as unknown as PagedAudit;
  if (typeof audit.page === 'function') {
    const page = audit.page.bind(app.audit);
    const newest = await measure(() => page({ offset: 0, limit: 10 }), { count: 500, warmup: 20, budgetMs: 5_000, between: yieldToLoop });
    results.auditPage = { ...summarize(newest), note: 'page({offset:0,limit:10})' };
    const deep = await measure((i) => page({ offset: 100 + (i % 50) * 10, limit: 10 }), { count: 300, warmup: 10, budgetMs: 5_000, between: yieldToLoop });
    results.auditPageDeep = { ...summarize(deep), note: 'page({offset:100..590,limit:10})' };
    const forTarget = await measure((i) => page({ offset: 0, limit: 10, target: upns[(i * 31) % upns.length]! }), {
      count: 100,
      warmup: 3,
      budgetMs: 8_000,
      between: yieldToLoop,
    });
    results.auditPageTarget = { ...summarize(forTarget), note: 'page({offset:0,limit:10,target}) (~10 entries per target in 100k)' };
    if (typeof audit.count === 'function') {
      const count = audit.count.bind(app.audit);
      results.auditCount = { ...summarize(await measure(() => count(), { count: 200, warmup: 1, budgetMs: 3_000 })), note: 'count()' };
    }
  } else {
    // Before the paged reader existed, a history page was readAll() and a slice.
    const sliced = await measure(async () => (await app.audit.readAll()).slice(-10).reverse(), { count: 10, warmup: 1, budgetMs: 10_000 });
    results.auditPage = { ...summarize(sliced), note: 'readAll().slice(-10) (no paged reader)' };
  }
  return results;
}

/** The plans the workflow mutations work on, seeded by the first call. */
let benchPlans: string[] | undefined;

/**
 * Workflow-store transactions as the domain makes them, through `app.workflow` (the store the bot
 * uses, lowdb or PostgreSQL): read a plan (locked in PostgreSQL), write it back (version + 1) with one
 * audit entry. Each resolves once committed (fdatasync / COMMIT). The plans are seeded first, in a
 * final state so that no background work (runner, sweeps, reconciliation) touches them.
 */
async function workflowMutations(app: App, plans: number, count: number, budgetMs: number): Promise<number[]> {
  if (!benchPlans) {
    const at = new Date().toISOString();
    const ids = Array.from({ length: plans }, () => randomUUID());
    await app.workflow.transact((tx) => {
      ids.forEach((id, i) => {
        const plan: Plan = {
          id,
          kind: 'editAccount',
          version: 0,
          status: 'done',
          account: { id: null, userPrincipalName: `wf-bench-${i}@contoso.com`, displayName: `Workflow bench ${i}` },
          requestedBy: { aadObjectId: 'a1a1a1a1-0000-4000-8000-000000000001', name: 'Ada Admin' },
          needsApproval: false,
          createdAt: at,
          updatedAt: at,
          steps: [{ step: { kind: 'setUsageLocation', usageLocation: 'US' }, state: { status: 'done' } }],
        };
        tx.putPlan(plan, at);
      });
    });
    benchPlans = ids;
  }
  const ids = benchPlans;
  return measure(
    (i) =>
      app.workflow.transact(async (tx) => {
        const id = ids[(i * 7919) % ids.length]!;
        const plan = (await tx.plan(id))!;
        const now = new Date().toISOString();
        tx.putPlan({ ...plan, nextRunAt: now }, now);
        tx.audit({ actor: plan.requestedBy, action: 'plan.bench', target: plan.account.userPrincipalName, outcome: 'succeeded', requestId: id });
      }),
    { count, warmup: 20, budgetMs, between: yieldToLoop },
  );
}

/**
 * The history card's reads (src/bot/history.ts showHistory: a page and a count, side by side), and
 * the page alone, for the whole log and for accounts by username.
 */
async function historyReads(app: App, usernames: string[], busy: string, count: number): Promise<MicroResults> {
  const options = { count, warmup: 20, budgetMs: 4_000, between: yieldToLoop };
  const read = (username: string) => {
    const filter = accountFilter(username);
    return Promise.all([app.audit.page({ ...filter, offset: 0, limit: HISTORY_PAGE_SIZE }), app.audit.count(filter)]);
  };
  const pick = (i: number) => usernames[(i * 7919) % usernames.length]!;
  return {
    newestPage: { ...summarize(await measure(() => app.audit.page({ offset: 0, limit: HISTORY_PAGE_SIZE }), options)), note: 'page({offset:0,limit:10})' },
    newestHistory: { ...summarize(await measure(() => read(''), options)), note: 'page + count() of the whole log, as the history card reads them' },
    accountPage: { ...summarize(await measure((i) => app.audit.page({ ...accountFilter(pick(i)), offset: 0, limit: HISTORY_PAGE_SIZE }), options)), note: 'page({account,offset:0,limit:10})' },
    accountHistory: { ...summarize(await measure((i) => read(pick(i)), options)), note: 'page + count({account}), as the history card reads them' },
    busyHistory: { ...summarize(await measure(() => read(busy), { ...options, count: Math.ceil(count / 4) })), note: `page + count({account}) of ${busy}` },
  };
}

/** The CPU time this process has used so far (every thread: the event loop, GC helpers, libuv). */
function cpu(id: number): Reply {
  const { user, system } = process.cpuUsage();
  return { id, type: 'cpu', ms: (user + system) / 1000 };
}

/** `npm run bench -- --profile`: a CPU profile of the measured phases only (bench/profile.ts). */
async function profiling(message: Extract<Command, { cmd: 'profileStart' | 'profileStop' }>): Promise<Reply> {
  if (message.cmd === 'profileStart') {
    await startProfiling();
    return { id: message.id, type: 'profiled', file: '' };
  }
  await stopProfiling(message.file);
  return { id: message.id, type: 'profiled', file: message.file };
}

async function runApp(dataDir: string, tenantId: string, adminId: string, databaseUrl?: string): Promise<void> {
  const started = performance.now();
  const config = loadConfig({
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_TENANT_ID: tenantId,
    SWITCHBOARD_ADMIN_IDS: adminId,
    PORT: '0',
    LOG_LEVEL: 'silent',
    // The workflow store, audit log, contacts and export links in PostgreSQL (the simulated tenant stays in tenant.json).
    ...(databaseUrl ? { SWITCHBOARD_STORE: 'postgres', DATABASE_URL: databaseUrl } : {}),
  });
  // BENCH_LOG_LEVEL=error shows what went wrong in a failing run; the bench itself logs nothing.
  const app = await createApp(config, { log: createLogger(process.env.BENCH_LOG_LEVEL ?? 'silent') });
  const running: RunningServer = await app.start();
  send({ id: 0, type: 'ready', port: running.port, startupMs: performance.now() - started });

  let loop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  process.on('message', (message: Command) => {
    void (async () => {
      try {
        switch (message.cmd) {
          case 'micro':
            send({ id: message.id, type: 'micro', results: await micro(app, message.accountIds, message.upns) });
            break;
          case 'workflowMutations':
            send({ id: message.id, type: 'samples', samples: await workflowMutations(app, message.plans, message.count, message.budgetMs) });
            break;
          case 'historyReads':
            send({ id: message.id, type: 'micro', results: await historyReads(app, message.usernames, message.busy, message.count) });
            break;
          case 'exportLink':
            send({ id: message.id, type: 'link', url: (await app.exports.create('', 'switchboard-history-bench.csv')).url });
            break;
          case 'peakReset':
            sampledPeakRss = process.memoryUsage.rss();
            send({ id: message.id, type: 'mem', memory: memory() });
            break;
          case 'loopStart':
            loop = monitorEventLoopDelay({ resolution: 5 });
            loop.enable();
            send({ id: message.id, type: 'loop', delay: { p50: 0, p99: 0, max: 0 } });
            break;
          case 'loopStop': {
            loop?.disable();
            const h = loop;
            send({ id: message.id, type: 'loop', delay: h ? { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 } : { p50: 0, p99: 0, max: 0 } });
            break;
          }
          case 'mem':
            send({ id: message.id, type: 'mem', memory: memory() });
            break;
          case 'gc': {
            // With --expose-gc only: the live heap, without the garbage a GC has not collected yet.
            const gc = (globalThis as { gc?: () => void }).gc;
            gc?.();
            send({ id: message.id, type: 'mem', memory: memory() });
            break;
          }
          case 'profileStart':
          case 'profileStop':
            send(await profiling(message));
            break;
          case 'cpu':
            send(cpu(message.id));
            break;
          case 'readAll': {
            let entries = 0;
            const samples = await measure(async () => (entries = (await app.audit.readAll()).length), { count: 3, warmup: 0, budgetMs: 10_000 });
            send({ id: message.id, type: 'readAll', summary: summarize(samples), entries, memory: memory() });
            break;
          }
          case 'stop': {
            const t = performance.now();
            await running.stop();
            await app.close();
            send({ id: message.id, type: 'stopped', flushMs: performance.now() - t });
            process.disconnect?.();
            break;
          }
        }
      } catch (e) {
        send({ id: message.id, type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    })();
  });
}

async function runEcho(keptClients: boolean): Promise<void> {
  const started = performance.now();
  const answers: Answers = new Map();
  const echo = await startEchoBot(answers, { keptClients });
  send({ id: 0, type: 'ready', port: echo.port, startupMs: performance.now() - started });
  process.on('message', (message: Command) => {
    void (async () => {
      if (message.cmd === 'mem') send({ id: message.id, type: 'mem', memory: memory() });
      else if (message.cmd === 'profileStart' || message.cmd === 'profileStop') send(await profiling(message));
      else if (message.cmd === 'cpu') send(cpu(message.id));
      else if (message.cmd === 'answers') {
        for (const [verb, cards] of Object.entries(message.cards)) answers.set(verb, cards.map((card) => JSON.parse(card) as Record<string, unknown>));
        send({ id: message.id, type: 'ok' });
      } else if (message.cmd === 'gc') {
        (globalThis as { gc?: () => void }).gc?.();
        send({ id: message.id, type: 'mem', memory: memory() });
      } else if (message.cmd === 'stop') {
        const t = performance.now();
        await echo.stop();
        send({ id: message.id, type: 'stopped', flushMs: performance.now() - t });
        process.disconnect?.();
      } else send({ id: message.id, type: 'error', message: `echo bot: ${message.cmd} not supported` });
    })();
  });
}

const [mode, dataDir, tenantId, adminId, databaseUrl] = process.argv.slice(2);
const main = mode === 'echo' || mode === 'floor' ? runEcho(mode === 'floor') : runApp(dataDir!, tenantId!, adminId!, databaseUrl);
main.catch((e: unknown) => {
  process.stderr.write(`bench bot (${mode}) failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
// The parent going away ends this process too.
process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
