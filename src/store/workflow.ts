import type { CardCopy, OutboxMessage } from '../approvals/copies';
import type { ChangeRequest } from '../approvals/requests';
import type { Plan } from '../provisioning/plans';
import type { NewAuditEntry } from './audit';

/**
 * What plans and approvals persist — plans, change requests, card copies, the outbox, and the audit
 * entries of each change — behind one port with a transaction: a plan and its request, the messages
 * that report the change and the audit entries that record it are written together or not at all
 * (issue 9 items 4, 14; DOMAIN.md F16). The lowdb file is the embedded implementation; a shared
 * database implements the same port for several instances (ARCHITECTURE.md "Store ports").
 *
 * Reads outside a transaction see the last committed state. Inside one, reads see the transaction's
 * own writes; the writes are applied on commit, which resolves once they are durable and rejects with
 * StoreUnavailableError when they could not be written (then nothing of the transaction happened,
 * unless the error says `outcomeUnknown`: a commit whose answer was lost may have gone through).
 */
export interface WorkflowStore {
  plan(id: string): Promise<Plan | undefined>;
  request(id: string): Promise<ChangeRequest | undefined>;
  /** Plans with one of these statuses (all when none given). */
  plans(statuses?: readonly Plan['status'][]): Promise<Plan[]>;
  requests(statuses?: readonly ChangeRequest['status'][]): Promise<ChangeRequest[]>;
  copiesOf(planId: string): Promise<CardCopy[]>;
  copy(id: string): Promise<CardCopy | undefined>;
  outboxOf(planId: string): Promise<OutboxMessage[]>;
  /** Pending outbox messages due at `at`, oldest first. */
  dueOutbox(at: Date, limit: number): Promise<OutboxMessage[]>;
  /**
   * Takes up to `limit` due messages for this worker for `holdMs`: no other worker (another instance)
   * gets them meanwhile, so a card is not sent twice by two instances. A worker that dies loses its
   * claim when the time is up.
   */
  claimOutbox(owner: string, at: Date, limit: number, holdMs: number): Promise<OutboxMessage[]>;
  /** When the next pending outbox message is due, if any; with `after`, the first one due later than that. */
  nextOutboxAt(after?: Date): Promise<Date | undefined>;
  counts(): Promise<{ plans: Partial<Record<Plan['status'], number>>; pendingRequests: number }>;

  transact<R>(work: (tx: WorkflowTx) => Promise<R> | R): Promise<R>;
  /**
   * Called after each commit that changed something — in this process, and (for a shared store) in the
   * other instances too: the outbox worker looks for due messages.
   */
  onCommit(listener: () => void): void;
  /** Runs `work` while no other holder of `key` runs, in any instance (a click and an update of one card). */
  withLock<R>(key: string, work: () => Promise<R>): Promise<R>;
  /**
   * Runs `work` unless another instance is running work of the same name (periodic sweeps run on one
   * instance at a time). Resolves whether it ran.
   */
  exclusively(name: string, work: () => Promise<void>): Promise<boolean>;

  /**
   * Retention: finished plans (done, cancelled) whose request, if any, is decided, and decided requests
   * whose plan is gone, last changed before `before`, go with their copies and messages. Never a plan
   * that failed (parked, maybe half-applied, with Retry), runs, waits or awaits confirmation, nor one
   * with a message still to deliver.
   */
  prune(before: Date): Promise<number>;
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): Promise<{ ok: boolean; detail: string }>;
}

export interface WorkflowTx {
  plan(id: string): Promise<Plan | undefined>;
  request(id: string): Promise<ChangeRequest | undefined>;
  /**
   * Another running or waiting plan that acts on this account (one change at a time per account): its
   * own account, or one its steps name (accountsOf: a replacement deletes the old account).
   */
  activePlanOn(userPrincipalName: string, exceptPlanId: string): Promise<Plan | undefined>;
  /**
   * The other change requests, pending and not expired at `at`, whose plans act on this account (its
   * own account or one its steps name: accountsOf). PostgreSQL: under the same per-account lock as
   * `activePlanOn`, so two requests on one account are never both made.
   */
  pendingRequestsOn(userPrincipalName: string, exceptPlanId: string, at: Date): Promise<ChangeRequest[]>;
  copiesOf(planId: string): Promise<CardCopy[]>;
  copy(id: string): Promise<CardCopy | undefined>;
  outboxOf(planId: string): Promise<OutboxMessage[]>;
  /** Inserts or replaces; the stored version becomes the given one + 1 (the caller read the current one). */
  putPlan(plan: Plan, at: string): Plan;
  putRequest(request: ChangeRequest): ChangeRequest;
  putCopy(copy: CardCopy): void;
  deleteCopy(id: string): void;
  putOutbox(message: OutboxMessage): void;
  deleteOutbox(id: string): void;
  /** Retention: the plan, its request, copies and messages go (the audit log keeps the history). */
  deletePlan(id: string): void;
  audit(entry: NewAuditEntry): void;
}
