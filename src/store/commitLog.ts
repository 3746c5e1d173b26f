import { AsyncLocalStorage } from 'node:async_hooks';
import type { NewAuditEntry } from './audit';
import { isStoreUnavailable } from './errors';
import type { WorkflowStore, WorkflowTx } from './workflow';

/** Plans noted per log, at most: the card that reports a store failure names the first. */
const MAX_NOTED = 8;

/**
 * The plans (and their requests, which share the plan's id) that one turn got committed. A card that
 * reports a store failure says "nothing was done" only when none were: it once said so after a delete
 * had run (test/trust/truthful-store-fault-cards.test.ts). Work the turn started runs in the turn's
 * async context (a plan's first steps, an outbox pass a commit woke up), so its commits count too:
 * the log errs towards "something was recorded", never towards "nothing was". It stops taking notes
 * when the turn ends.
 */
export class CommitLog {
  private readonly ids: string[] = [];
  private open = true;

  /** Whether a plan or a request was committed. */
  get committed(): boolean {
    return this.ids.length > 0;
  }

  /** The plans committed, first committed first. */
  get planIds(): readonly string[] {
    return this.ids;
  }

  note(ids: Iterable<string>): void {
    if (!this.open) return;
    for (const id of ids) if (this.ids.length < MAX_NOTED && !this.ids.includes(id)) this.ids.push(id);
  }

  close(): void {
    this.open = false;
  }
}

const current = new AsyncLocalStorage<CommitLog>();

/** Runs `work` with `log` noting what it commits; the log closes when `work` ends. */
export async function withCommitLog<R>(log: CommitLog, work: () => Promise<R>): Promise<R> {
  try {
    return await current.run(log, work);
  } finally {
    log.close();
  }
}

/** The log of the turn this code runs for, if any. */
export function currentCommitLog(): CommitLog | undefined {
  return current.getStore();
}

/**
 * The workflow store, noting in the current CommitLog each plan and request a commit wrote. Copies,
 * outbox messages and audit entries are not noted: they only ever come with a plan or request change,
 * or are bookkeeping about where cards are.
 */
export function noteCommits(store: WorkflowStore): WorkflowStore {
  return new NotingStore(store);
}

class NotingStore implements WorkflowStore {
  constructor(private readonly inner: WorkflowStore) {}

  async transact<R>(work: (tx: WorkflowTx) => Promise<R> | R): Promise<R> {
    let written = new Set<string>();
    let result: R;
    try {
      result = await this.inner.transact((tx) => {
        // A store that runs `work` again (a retried transaction) notes only the attempt that committed.
        written = new Set<string>();
        return work(new NotingTx(tx, written));
      });
    } catch (error) {
      // The commit may have gone through (its answer was lost): the log errs towards "recorded".
      if (isStoreUnavailable(error) && error.outcomeUnknown && written.size > 0) current.getStore()?.note(written);
      throw error;
    }
    // Here the commit is durable (WorkflowStore.transact): only then is it noted.
    if (written.size > 0) current.getStore()?.note(written);
    return result;
  }

  plan: WorkflowStore['plan'] = (id) => this.inner.plan(id);
  request: WorkflowStore['request'] = (id) => this.inner.request(id);
  plans: WorkflowStore['plans'] = (statuses) => this.inner.plans(statuses);
  requests: WorkflowStore['requests'] = (statuses) => this.inner.requests(statuses);
  copiesOf: WorkflowStore['copiesOf'] = (planId) => this.inner.copiesOf(planId);
  copy: WorkflowStore['copy'] = (id) => this.inner.copy(id);
  outboxOf: WorkflowStore['outboxOf'] = (planId) => this.inner.outboxOf(planId);
  dueOutbox: WorkflowStore['dueOutbox'] = (at, limit) => this.inner.dueOutbox(at, limit);
  claimOutbox: WorkflowStore['claimOutbox'] = (owner, at, limit, holdMs) => this.inner.claimOutbox(owner, at, limit, holdMs);
  nextOutboxAt: WorkflowStore['nextOutboxAt'] = (after) => this.inner.nextOutboxAt(after);
  counts: WorkflowStore['counts'] = () => this.inner.counts();
  onCommit: WorkflowStore['onCommit'] = (listener) => this.inner.onCommit(listener);
  withLock<R>(key: string, work: () => Promise<R>): Promise<R> {
    return this.inner.withLock(key, work);
  }
  exclusively: WorkflowStore['exclusively'] = (name, work) => this.inner.exclusively(name, work);
  prune: WorkflowStore['prune'] = (before) => this.inner.prune(before);
  flush: WorkflowStore['flush'] = () => this.inner.flush();
  close: WorkflowStore['close'] = () => this.inner.close();
  health: WorkflowStore['health'] = () => this.inner.health();
}

class NotingTx implements WorkflowTx {
  constructor(
    private readonly inner: WorkflowTx,
    private readonly written: Set<string>,
  ) {}

  putPlan: WorkflowTx['putPlan'] = (plan, at) => {
    this.written.add(plan.id);
    return this.inner.putPlan(plan, at);
  };
  putRequest: WorkflowTx['putRequest'] = (request) => {
    this.written.add(request.id);
    return this.inner.putRequest(request);
  };
  deletePlan: WorkflowTx['deletePlan'] = (id) => {
    this.written.add(id);
    this.inner.deletePlan(id);
  };
  plan: WorkflowTx['plan'] = (id) => this.inner.plan(id);
  request: WorkflowTx['request'] = (id) => this.inner.request(id);
  activePlanOn: WorkflowTx['activePlanOn'] = (upn, exceptPlanId) => this.inner.activePlanOn(upn, exceptPlanId);
  pendingRequestsOn: WorkflowTx['pendingRequestsOn'] = (upn, exceptPlanId, at) => this.inner.pendingRequestsOn(upn, exceptPlanId, at);
  copiesOf: WorkflowTx['copiesOf'] = (planId) => this.inner.copiesOf(planId);
  copy: WorkflowTx['copy'] = (id) => this.inner.copy(id);
  outboxOf: WorkflowTx['outboxOf'] = (planId) => this.inner.outboxOf(planId);
  putCopy: WorkflowTx['putCopy'] = (copy) => this.inner.putCopy(copy);
  deleteCopy: WorkflowTx['deleteCopy'] = (id) => this.inner.deleteCopy(id);
  putOutbox: WorkflowTx['putOutbox'] = (message) => this.inner.putOutbox(message);
  deleteOutbox: WorkflowTx['deleteOutbox'] = (id) => this.inner.deleteOutbox(id);
  audit(entry: NewAuditEntry): void {
    this.inner.audit(entry);
  }
}
