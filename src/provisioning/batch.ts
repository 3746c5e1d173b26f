import { followPlan } from '../approvals/outbox';
import type { NewAuditEntry } from '../store/audit';
import type { WorkflowStore } from '../store/workflow';
import { batchChildId, isActive, requestWaitingOn, type BatchRow, type Plan, type StepNote } from './plans';
import { newAccountSteps } from './service';

/**
 * Runs an import batch (an importAccounts plan, issue 12): each row is a child addAccount plan with
 * the same steps as a single add, run by the ordinary plan runner, so a row resumes after a restart
 * like any plan and finds its done steps done. The batch itself only decides which rows start:
 *
 * - **Bounded concurrency.** At most `concurrency` rows run at a time. Rows waiting for the tenant
 *   (license provisioning) hold no slot: they only poll.
 * - **Throttling.** A 429 (with its Retry-After) is retried inside the tenant port (Graph client,
 *   src/backends/microsoft/graph/http.ts). A row that still fails as unreachable or throttled makes
 *   the batch back off (pollMs, doubling up to maxPollMs) and halves how many rows run at once.
 * - **Durable, no write per row.** A child's id is derived from the batch's (batchChildId), so the
 *   batch record is written only when its own status changes; progress is read from the children.
 * - **Retry failed rows.** Retrying the batch runs a failed child again from its failed step, as a
 *   single plan's Retry does (PlanRunner.retry); one that never got under way, or whose account another
 *   plan holds by then, is removed and starts afresh, its done steps found done (steps are idempotent).
 */

export interface BatchHost {
  readonly store: WorkflowStore;
  readonly pollMs: number;
  readonly maxPollMs: number;
  now(): Date;
  stopped(): boolean;
  /** The run in progress of a plan in this process, if any. */
  running(id: string): Promise<unknown> | undefined;
  kick(id: string): void;
  /** Changes the batch under its lease (refuses if another runner took it over). */
  save(plan: Plan, change: (plan: Plan) => void, also?: (tx: Parameters<Parameters<WorkflowStore['transact']>[0]>[0], saved: Plan, before: Plan) => Promise<void>): Promise<Plan>;
  release(plan: Plan): Promise<Plan>;
  audit(plan: Plan, outcome: 'succeeded' | 'failed'): NewAuditEntry;
}

/** How each row stands, read from its child plan (missing: not started yet). */
export interface BatchProgress {
  count: number;
  done: number;
  failed: number;
  waiting: number;
  running: number;
  notStarted: number;
  /** The children as stored, by row index (undefined: not started). */
  children: (Plan | undefined)[];
  /** Sum of the children's versions: moves forward whenever a row moves (card copies follow it). */
  versions: number;
}

export async function batchProgress(store: Pick<WorkflowStore, 'plan'>, plan: Plan): Promise<BatchProgress> {
  const rows = plan.batch?.rows ?? [];
  const children = await Promise.all(rows.map((_, i) => store.plan(batchChildId(plan.id, i))));
  const progress: BatchProgress = { count: rows.length, done: 0, failed: 0, waiting: 0, running: 0, notStarted: 0, children, versions: 0 };
  for (const child of children) {
    if (!child) progress.notStarted += 1;
    else {
      progress.versions += child.version;
      if (child.status === 'done') progress.done += 1;
      else if (child.status === 'failed' || child.status === 'cancelled') progress.failed += 1;
      else if (child.status === 'waiting') progress.waiting += 1;
      else progress.running += 1;
    }
  }
  return progress;
}

/** A row that stopped because the tenant could not be reached or throttled it beyond the port's retries. */
function faulted(child: Plan | undefined): boolean {
  return child?.status === 'failed' && child.steps.some((s) => s.state.status === 'failed' && s.state.note?.reason === 'TENANT_UNAVAILABLE');
}

/** The child plan that runs one row: an ordinary add, confirmed (and approved) with its batch. */
export function childPlan(batch: Plan, index: number, row: BatchRow, at: string, busy: StepNote | null): Plan {
  const steps = newAccountSteps(row).map((step, i) => (busy && i === 0 ? { step, state: { status: 'failed' as const, note: busy } } : { step, state: { status: 'pending' as const } }));
  return {
    id: batchChildId(batch.id, index),
    kind: 'addAccount',
    version: 0,
    status: busy ? 'failed' : 'running',
    account: { id: null, userPrincipalName: row.userPrincipalName, displayName: row.displayName },
    requestedBy: batch.requestedBy,
    needsApproval: false,
    ...(batch.confirmedBy ? { confirmedBy: batch.confirmedBy } : {}),
    createdAt: at,
    updatedAt: at,
    steps,
    parentId: batch.id,
  };
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(1, ms));
    timer.unref();
  });

/**
 * Starts rows until every one has a child, while at most `concurrency` run, then settles the batch:
 * done when every row is done, waiting while some wait for the tenant (they wake the batch when they
 * end), failed when some failed (Retry failed rows).
 */
export async function runBatch(host: BatchHost, start: Plan): Promise<Plan> {
  let plan = start;
  const rows = plan.batch?.rows ?? [];
  let limit = plan.batch?.concurrency ?? 1;
  let pauseUntil = 0;
  let backoffs = 0;
  const seenFaults = new Set<string>();
  let first = true;
  for (;;) {
    if (host.stopped()) return host.release(plan);
    const progress = await batchProgress(host.store, plan);
    const { children } = progress;
    // A row the tenant throttled or could not reach: start fewer rows, and later (faults seen before
    // this run, e.g. before a restart, only count once new ones come).
    let newFaults = 0;
    for (const child of children) {
      if (!faulted(child) || seenFaults.has(child!.id)) continue;
      seenFaults.add(child!.id);
      if (!first) newFaults += 1;
    }
    first = false;
    if (newFaults > 0) {
      backoffs += 1;
      limit = Math.max(1, Math.floor(limit / 2));
      pauseUntil = host.now().getTime() + Math.min(host.maxPollMs, host.pollMs * 2 ** Math.min(backoffs - 1, 10));
    }
    const running = children.filter((c): c is Plan => c?.status === 'running');
    const missing = children.flatMap((c, i) => (c ? [] : [i]));
    const paused = pauseUntil > host.now().getTime();
    if (missing.length > 0 && running.length < limit && !paused) {
      for (const index of missing.slice(0, limit - running.length)) await startRow(host, plan, index, rows[index]!);
      continue;
    }
    if (missing.length === 0 && running.length === 0) return settle(host, plan, progress);
    // Wait for a row to stop running here, or look again after a while (rows run by another instance).
    const wake = paused ? pauseUntil - host.now().getTime() : host.pollMs;
    const runs = running.map((c) => host.running(c.id)).filter((p): p is Promise<unknown> => p !== undefined);
    await Promise.race([...runs.map((p) => p.then(() => undefined, () => undefined)), sleep(Math.min(wake, host.maxPollMs))]);
    // Our lease is renewed by the runner's heartbeat; a batch taken over elsewhere stops at its next save.
    plan = (await host.store.plan(plan.id)) ?? plan;
    if (!isActive(plan.status)) return plan;
  }
}

/** Creates a row's child plan (running) unless it exists, then runs it. */
async function startRow(host: BatchHost, batch: Plan, index: number, row: BatchRow): Promise<void> {
  const at = host.now().toISOString();
  const id = batchChildId(batch.id, index);
  const runs = await host.store.transact(async (tx) => {
    if (await tx.plan(id)) return false;
    // One change at a time per account (e.g. the same username added by hand meanwhile), and none while
    // a request on it waits for an approver.
    const running = (await tx.activePlanOn(row.userPrincipalName, id)) !== undefined;
    const waiting = running ? null : await requestWaitingOn(tx, [row.userPrincipalName.toLowerCase()], id, host.now());
    const busy: StepNote | null = running
      ? { reason: 'PLAN_ACCOUNT_BUSY', params: { upn: row.userPrincipalName } }
      : waiting && !waiting.ok
        ? { reason: waiting.reason, params: waiting.params }
        : null;
    tx.putPlan(childPlan(batch, index, row, at, busy), at);
    return !busy;
  });
  if (runs) host.kick(id);
}

async function settle(host: BatchHost, plan: Plan, progress: BatchProgress): Promise<Plan> {
  const at = host.now();
  const status: Plan['status'] = progress.waiting > 0 ? 'waiting' : progress.failed > 0 ? 'failed' : 'done';
  return host.save(
    plan,
    (p) => {
      p.status = status;
      delete p.lease;
      // Rows that wait wake the batch when they end; this is the safety net if that wake-up is lost.
      if (status === 'waiting') p.nextRunAt = new Date(at.getTime() + host.maxPollMs).toISOString();
      else delete p.nextRunAt;
    },
    async (tx, saved, before) => {
      if (status !== 'waiting') {
        const entry = host.audit(saved, status === 'done' ? 'succeeded' : 'failed');
        tx.audit({ ...entry, detail: { ...entry.detail, done: String(progress.done), failed: String(progress.failed), rows: String(progress.count) } });
      }
      await followPlan(tx, saved, before.status, at);
    },
  );
}
