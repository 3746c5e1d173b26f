import type { Actor } from '../provisioning/model';
import { accountsOf, isActive, requestWaitingOn, type Plan } from '../provisioning/plans';
import { ok, refuse, type Result } from '../provisioning/result';
import { busyOn, holdForApproval, planAudit, SWITCHBOARD, type PlanRunner } from '../provisioning/runner';
import type { NewAuditEntry } from '../store/audit';
import type { WorkflowStore, WorkflowTx } from '../store/workflow';
import type { CardCopy, OutboxMessage } from './copies';
import { enqueue, followPlan, REFRESH_DELAY_MS } from './outbox';
import { approvalOnRecord, decidersFor, mayDecide, type ApprovalPolicy } from './policy';
import { bound, confirmers, isFinalRequest, isOpen, requesters, type ChangeRequest } from './requests';

export type Requester = Actor & { userId?: string };

export interface ApprovalOptions {
  now?: () => Date;
  /** An approvals channel is configured: every request is posted there too. */
  channel?: boolean;
  /** Finished plans and decided requests are kept this long (the audit log keeps the history). */
  retentionMs?: number;
  onFault?: (error: unknown, what: string) => void;
  /**
   * Told after each sweep round: when this instance ran it (wall-clock time, whatever `now` says), or
   * that another instance was running it (monitoring: which instance sweeps, and never two at once).
   */
  onSweep?: (round: { ran: true; startedAt: Date; endedAt: Date } | { ran: false }) => void;
}

export interface Confirmation {
  plan: Plan;
  /** Present when the plan needs an approver: the (new or existing) request. */
  request?: ChangeRequest;
}

/**
 * Four-eyes approvals: nothing risky runs on one person's say-so. Each decision is one transaction of
 * the workflow store that moves the request and its plan together, records the messages that report
 * it (outbox) and its audit entries, so an approved request always has a running plan and approvers
 * always hear of a request, whatever crashes when (DOMAIN.md F16). Double clicks, stale cards and
 * approvers clicking at once see the current state; exactly one decision and one execution happen.
 */
export class ApprovalService {
  private sweeper: NodeJS.Timeout | undefined;
  private readonly now: () => Date;
  private lastPrune = 0;

  constructor(
    private readonly store: WorkflowStore,
    private readonly runner: PlanRunner,
    readonly policy: ApprovalPolicy,
    private readonly options: ApprovalOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** How many requests are pending (monitoring). */
  async pendingCount(): Promise<number> {
    return (await this.store.counts()).pendingRequests;
  }

  needsApproval(plan: Pick<Plan, 'kind' | 'needsApproval'>): boolean {
    return this.runner.needsApproval(plan);
  }

  /** Where the request's cards went, and the messages about it still to send (the requester's card says). */
  async deliveries(planId: string): Promise<{ copies: CardCopy[]; messages: OutboxMessage[] }> {
    const [copies, messages] = await Promise.all([this.store.copiesOf(planId), this.store.outboxOf(planId)]);
    return { copies, messages };
  }

  /** The request as the store holds it, not expired on the way: a read that never writes (a store fault is being reported). */
  recorded(id: string): Promise<ChangeRequest | undefined> {
    return this.store.request(id);
  }

  /** The request as it stands; a pending one past its expiry is expired first. */
  async get(id: string): Promise<ChangeRequest | undefined> {
    const request = await this.store.request(id);
    if (request && isOpen(request.status) && Date.parse(request.expiresAt) <= this.now().getTime()) {
      await this.store.transact((tx) => this.expireIn(tx, id, this.now()));
      return this.store.request(id);
    }
    return request;
  }

  /**
   * Confirm: the plan runs, or — when the policy names its kind — becomes a change request that the
   * approvers receive, and nothing runs until one of them approves. Confirming a pending request again
   * sends it again to every approver who has no card yet (issue 9 item 14).
   */
  async confirm(planId: string, actor: Requester): Promise<Result<Confirmation>> {
    const plan = await this.store.plan(planId);
    if (!plan) return refuse('PLAN_NOT_FOUND');
    if (!this.needsApproval(plan)) {
      const started = await this.runner.start(planId, actor);
      return started.ok ? ok({ plan: started.value }) : started;
    }
    const at = this.now();
    return this.store.transact(async (tx): Promise<Result<Confirmation>> => {
      const current = await tx.plan(planId);
      if (!current) return refuse('PLAN_NOT_FOUND');
      const existing = await tx.request(planId);
      if (existing) {
        if (!isOpen(existing.status)) return refuse('PLAN_ALREADY_DECIDED', { status: current.status });
        const request = await this.addConfirmer(tx, existing, actor, at);
        if (!request.ok) return request;
        await this.resend(tx, request.value, at);
        return ok({ plan: current, request: request.value });
      }
      if (current.status !== 'awaitingConfirmation') return refuse('PLAN_ALREADY_DECIDED', { status: current.status });
      // One request at a time per account: approved one after the other, the second would run against
      // what the first changed, which its approver never saw. Nor while another change on it runs or
      // waits for the tenant: the approver would judge an account that is still moving.
      const busy = await busyOn(tx, current, planId);
      if (busy) return busy;
      const waiting = await requestWaitingOn(tx, accountsOf(current), planId, at);
      if (!waiting.ok) return waiting;
      const approvers = decidersFor(this.policy, [current.requestedBy.aadObjectId, actor.aadObjectId]);
      if (approvers.length === 0) return refuse('REQUEST_NO_APPROVER');
      const request = tx.putRequest({
        id: planId,
        kind: current.kind,
        account: current.account,
        requestedBy: { aadObjectId: actor.aadObjectId, name: actor.name, ...(actor.userId ? { userId: actor.userId } : {}) },
        proposedBy: current.requestedBy,
        confirmedBy: [{ aadObjectId: actor.aadObjectId, name: actor.name }],
        status: 'pending',
        version: 0,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + this.policy.expiresAfterMs).toISOString(),
      });
      const confirmed = tx.putPlan({ ...current, needsApproval: true, confirmedBy: { aadObjectId: actor.aadObjectId, name: actor.name } }, at.toISOString());
      // Every approver is written down now, in the request's own transaction: a crash before the
      // cards go out only delays them (the outbox worker sends them after the restart).
      for (const approverId of approvers) await enqueue(tx, { planId, kind: 'deliverApproval', approverId }, at);
      if (this.options.channel) await enqueue(tx, { planId, kind: 'postChannel' }, at);
      await enqueue(tx, { planId, kind: 'refreshCopies', delayMs: REFRESH_DELAY_MS }, at);
      tx.audit(this.entry(request, actor, 'request.created', 'requested'));
      return ok({ plan: confirmed, request });
    });
  }

  /** pending → approved, with the plan running, in one transaction; then the plan runs. */
  async approve(id: string, approver: Actor): Promise<Result<ChangeRequest>> {
    const at = this.now();
    const decided = await this.store.transact(async (tx): Promise<Result<{ request: ChangeRequest; run: boolean }>> => {
      const request = await this.current(tx, id, at);
      if (!request) return refuse('REQUEST_NOT_FOUND');
      const allowed = this.checkDecider(request, approver);
      if (!allowed.ok) return allowed;
      if (!isOpen(request.status)) return ok({ request, run: false });
      const plan = await tx.plan(id);
      if (!plan || plan.status !== 'awaitingConfirmation') return refuse('PLAN_ALREADY_DECIDED', { status: plan?.status ?? 'cancelled' });
      // One change at a time per account: the request stays pending, to be approved once that one ends.
      const busy = await busyOn(tx, plan, id);
      if (busy) return busy;
      // Two requests on one account (made before requests held their accounts): the older is decided
      // first, so that the newer one never runs against what the older one changed unseen.
      for (const upn of accountsOf(plan)) {
        const older = (await tx.pendingRequestsOn(upn, id, at)).find((r) => {
          const [theirs, ours] = [Date.parse(r.createdAt), Date.parse(request.createdAt)];
          return theirs < ours || (theirs === ours && r.id < request.id);
        });
        if (older) return refuse('REQUEST_WAITING_ON_ACCOUNT', { upn, change: older.kind, subject: older.account.userPrincipalName, name: older.requestedBy.name || older.requestedBy.aadObjectId, at: older.createdAt });
      }
      const approved = tx.putRequest({ ...request, status: 'approved', decision: { aadObjectId: approver.aadObjectId, name: approver.name, at: at.toISOString() } });
      tx.audit(this.entry(approved, approver, 'request.approved', 'succeeded'));
      // No "plan.confirm" entry here: the requester confirmed (request.created), and this approval is what
      // starts the plan. Written as the approver's, history read "Bob confirmed the change" of a change
      // Ada had confirmed.
      const started = tx.putPlan({ ...plan, status: 'running' }, at.toISOString());
      await followPlan(tx, started, plan.status, at);
      await enqueue(tx, { planId: id, kind: 'notifyRequester', notice: 'approved' }, at);
      return ok({ request: approved, run: true });
    });
    if (!decided.ok) return decided;
    if (decided.value.run) this.runner.run(id).catch((error: unknown) => this.options.onFault?.(error, `run ${id}`));
    return ok((await this.store.request(id)) ?? decided.value.request);
  }

  /** pending → rejected with the approver's reason, the plan cancelled, in one transaction. */
  async reject(id: string, approver: Actor, reason: string): Promise<Result<ChangeRequest>> {
    const at = this.now();
    const why = reason.trim();
    return this.store.transact(async (tx): Promise<Result<ChangeRequest>> => {
      const request = await this.current(tx, id, at);
      if (!request) return refuse('REQUEST_NOT_FOUND');
      const allowed = this.checkDecider(request, approver);
      if (!allowed.ok) return allowed;
      if (!isOpen(request.status)) return ok(request);
      if (!why) return refuse('REQUEST_REASON_REQUIRED');
      const rejected = tx.putRequest({ ...request, status: 'rejected', decision: { aadObjectId: approver.aadObjectId, name: approver.name, at: at.toISOString(), reason: why } });
      await this.cancelPlanIn(tx, id, approver, at, false);
      tx.audit(this.entry(rejected, approver, 'request.rejected', 'refused', { why }));
      await enqueue(tx, { planId: id, kind: 'notifyRequester', notice: 'rejected' }, at);
      return ok(rejected);
    });
  }

  /**
   * Withdraws a change: only whoever asked for it (issue 9 item 7). A pending request and its plan are
   * cancelled together; a plan awaiting confirmation, or one that failed, is cancelled. Approvers
   * reject instead; everyone else only reads.
   */
  async withdraw(id: string, actor: Actor): Promise<Result<Plan>> {
    const at = this.now();
    return this.store.transact(async (tx): Promise<Result<Plan>> => {
      const plan = await tx.plan(id);
      if (!plan) return refuse('PLAN_NOT_FOUND');
      const request = await this.current(tx, id, at);
      const me = actor.aadObjectId.toLowerCase();
      if (request && isOpen(request.status)) {
        if (!requesters(request).includes(me)) return refuse('REQUEST_NOT_REQUESTER', { name: request.requestedBy.name || request.requestedBy.aadObjectId });
        const cancelled = tx.putRequest({ ...request, status: 'cancelled', decision: { aadObjectId: actor.aadObjectId, name: actor.name, at: at.toISOString() } });
        tx.audit(this.entry(cancelled, actor, 'request.cancelled', 'succeeded'));
        return ok(await this.cancelPlanIn(tx, id, actor, at, false));
      }
      if (plan.status !== 'awaitingConfirmation' && plan.status !== 'failed') return refuse('PLAN_ALREADY_DECIDED', { status: plan.status });
      const askers = [plan.requestedBy.aadObjectId, plan.confirmedBy?.aadObjectId].filter((x): x is string => !!x).map((x) => x.toLowerCase());
      if (!askers.includes(me)) return refuse('PLAN_NOT_REQUESTER', { name: plan.requestedBy.name || plan.requestedBy.aadObjectId });
      return ok(await this.cancelPlanIn(tx, id, actor, at));
    });
  }

  /** Expires every pending request past its time (also done lazily on each read). */
  async expireDue(): Promise<void> {
    const at = this.now();
    for (const request of await this.store.requests(['pending'])) {
      if (Date.parse(request.expiresAt) <= at.getTime()) await this.store.transact((tx) => this.expireIn(tx, request.id, at));
    }
  }

  /**
   * Repairs every request whose plan does not agree with it (files from an older version, a record
   * quarantined, a hand edit): after a restart no request is approved with a plan that never runs,
   * and none is pending with a plan that moved on (issue 9 item 4). It fails closed: an approval is
   * never inferred — a plan that moved on without an approver on record is held back for the
   * approvers, never run. Returns how many were repaired.
   */
  async reconcile(): Promise<number> {
    const at = this.now();
    let repaired = 0;
    const toRun: string[] = [];
    for (const request of await this.store.requests()) {
      const fixed = await this.store.transact(async (tx) => {
        const r = await tx.request(request.id);
        if (!r) return false;
        const plan = await tx.plan(r.id);
        const note = (what: string) => tx.audit(this.entry(r, SWITCHBOARD, 'request.reconciled', 'succeeded', { what }));
        if (!plan) {
          if (isFinalRequest(r.status)) return false;
          tx.putRequest({ ...r, status: 'failed', failure: { reason: 'PLAN_NOT_FOUND', params: {} } });
          note('plan missing: request failed');
          return true;
        }
        if (isOpen(r.status)) {
          if (plan.status === 'awaitingConfirmation') return false;
          if (plan.status === 'cancelled') {
            tx.putRequest({ ...r, status: 'cancelled' });
            note('plan cancelled: request cancelled');
            return true;
          }
          // The plan moved on while nobody decided. What it did cannot be undone; it does no more.
          if (plan.status === 'done') {
            tx.putRequest({ ...r, status: 'failed', failure: { reason: 'PLAN_RAN_WITHOUT_APPROVAL', params: {} } });
            note('plan done without a decision: request failed, not approved');
            return true;
          }
          await holdForApproval(tx, plan, SWITCHBOARD, at);
          await this.resend(tx, r, at);
          note(`plan ${plan.status} without a decision: plan held until an approver decides`);
          return true;
        }
        const claimsApproval = r.status === 'approved' || r.status === 'executing' || r.status === 'failed';
        if (claimsApproval && !approvalOnRecord(plan, r) && plan.status !== 'done' && plan.status !== 'cancelled') {
          // Approved, but nobody who may decide it is on record as the decider: back to the approvers.
          if (plan.status !== 'awaitingConfirmation') await holdForApproval(tx, plan, SWITCHBOARD, at);
          const reopened: ChangeRequest = { ...r, status: 'pending', expiresAt: new Date(at.getTime() + this.policy.expiresAfterMs).toISOString() };
          delete reopened.decision;
          delete reopened.failure;
          await this.resend(tx, tx.putRequest(reopened), at);
          note(`request ${r.status} without a valid decider: back to the approvers`);
          return true;
        }
        if ((r.status === 'approved' || r.status === 'executing') && plan.status === 'awaitingConfirmation') {
          const started = tx.putPlan({ ...plan, status: 'running' }, at.toISOString());
          await followPlan(tx, started, plan.status, at);
          note('approved but not started: plan started');
          toRun.push(r.id);
          return true;
        }
        if (['rejected', 'cancelled', 'expired'].includes(r.status) && (plan.status === 'awaitingConfirmation' || plan.status === 'failed')) {
          tx.putPlan({ ...plan, status: 'cancelled' }, at.toISOString());
          await followPlan(tx, { ...plan, status: 'cancelled' }, plan.status, at);
          note(`request ${r.status}: plan cancelled`);
          return true;
        }
        if (r.status === 'approved' && isActive(plan.status)) {
          await followPlan(tx, plan, plan.status, at);
          return false;
        }
        return false;
      });
      if (fixed) repaired += 1;
    }
    for (const id of toRun) this.runner.run(id).catch((error: unknown) => this.options.onFault?.(error, `run ${id}`));
    return repaired;
  }

  /** Expiry, reconciliation and retention, every `everyMs`. */
  startSweeping(everyMs: number): void {
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => this.options.onFault?.(error, 'sweep'));
    }, everyMs);
    this.sweeper.unref();
  }

  /** Runs on one instance at a time (the store's `exclusively`); the others skip this round. */
  async sweep(): Promise<void> {
    let span: { startedAt: Date; endedAt: Date } | undefined;
    const ran = await this.store.exclusively('approvals.sweep', async () => {
      const startedAt = new Date();
      try {
        await this.expireDue();
        await this.reconcile();
        const at = this.now().getTime();
        // Retention is cheap but needs no hurry: at most once an hour.
        if (this.options.retentionMs !== undefined && at - this.lastPrune >= 3_600_000) {
          this.lastPrune = at;
          await this.store.prune(new Date(at - this.options.retentionMs));
        }
      } finally {
        // Inside the lock: the next holder starts after this.
        span = { startedAt, endedAt: new Date() };
      }
    });
    this.options.onSweep?.(ran && span ? { ran: true, ...span } : { ran: false });
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Sends the request again to every approver who has no card of it yet, and to the channel. */
  private async resend(tx: WorkflowTx, request: ChangeRequest, at: Date): Promise<void> {
    const [copies, messages] = await Promise.all([tx.copiesOf(request.id), tx.outboxOf(request.id)]);
    for (const approverId of decidersFor(this.policy, bound(request))) {
      if (copies.some((c) => c.view === 'approval' && c.audience === 'approver' && c.aadObjectId?.toLowerCase() === approverId)) continue;
      const earlier = messages.find((m) => m.kind === 'deliverApproval' && m.approverId === approverId && m.status !== 'sent');
      if (earlier) tx.putOutbox({ ...earlier, status: 'pending', nextAttemptAt: new Date().toISOString(), updatedAt: at.toISOString() });
      else await enqueue(tx, { planId: request.id, kind: 'deliverApproval', approverId }, at);
    }
    if (this.options.channel && !copies.some((c) => c.audience === 'channel')) {
      const earlier = messages.find((m) => m.kind === 'postChannel' && m.status !== 'sent');
      if (earlier) tx.putOutbox({ ...earlier, status: 'pending', nextAttemptAt: new Date().toISOString(), updatedAt: at.toISOString() });
      else await enqueue(tx, { planId: request.id, kind: 'postChannel' }, at);
    }
  }

  /** The request in this transaction, expired first if its time has come. */
  private async current(tx: WorkflowTx, id: string, at: Date): Promise<ChangeRequest | undefined> {
    await this.expireIn(tx, id, at);
    return tx.request(id);
  }

  private async expireIn(tx: WorkflowTx, id: string, at: Date): Promise<void> {
    const request = await tx.request(id);
    if (!request || !isOpen(request.status) || Date.parse(request.expiresAt) > at.getTime()) return;
    const expired = tx.putRequest({ ...request, status: 'expired' });
    await this.cancelPlanIn(tx, id, SWITCHBOARD, at, false);
    tx.audit(this.entry(expired, SWITCHBOARD, 'request.expired', 'refused'));
    await enqueue(tx, { planId: id, kind: 'notifyRequester', notice: 'expired' }, at);
  }

  /**
   * `audited`: false when the request's own entry (rejected, withdrawn, expired) says it: history read
   * "Bob rejected: delete aa-main — reason" and then "Bob cancelled the change to aa-main", one act twice.
   */
  private async cancelPlanIn(tx: WorkflowTx, id: string, actor: Actor, at: Date, audited = true): Promise<Plan> {
    const plan = await tx.plan(id);
    if (!plan) throw new Error(`plan ${id} vanished inside its transaction`);
    if (plan.status !== 'awaitingConfirmation' && plan.status !== 'failed') {
      await enqueue(tx, { planId: id, kind: 'refreshCopies', delayMs: REFRESH_DELAY_MS }, at);
      return plan;
    }
    const cancelled = tx.putPlan({ ...plan, status: 'cancelled' }, at.toISOString());
    if (audited) tx.audit(planAudit(cancelled, actor, 'plan.cancel', 'succeeded'));
    await followPlan(tx, cancelled, plan.status, at);
    return cancelled;
  }

  /**
   * Whoever confirms a pending request again becomes one of its confirmers, and so may not decide it
   * (four-eyes). Refused, with nothing changed, when that would leave no approver who may decide.
   */
  private async addConfirmer(tx: WorkflowTx, request: ChangeRequest, actor: Actor, at: Date): Promise<Result<ChangeRequest>> {
    if (confirmers(request).includes(actor.aadObjectId.toLowerCase())) return ok(request);
    const confirmed = { ...request, confirmedBy: [...(request.confirmedBy ?? [request.requestedBy]), actor].map((a) => ({ aadObjectId: a.aadObjectId, name: a.name })) };
    if (decidersFor(this.policy, bound(confirmed)).length === 0) return refuse('REQUEST_NO_APPROVER');
    const saved = tx.putRequest(confirmed);
    tx.audit(this.entry(saved, actor, 'request.confirmed', 'succeeded'));
    // Their approval card, if they had one, becomes read-only.
    await enqueue(tx, { planId: request.id, kind: 'refreshCopies', delayMs: REFRESH_DELAY_MS }, at);
    return ok(saved);
  }

  private checkDecider(request: ChangeRequest, approver: Actor): Result<true> {
    const verdict = mayDecide(this.policy, approver.aadObjectId, request);
    if (verdict === 'notApprover') return refuse('REQUEST_NOT_APPROVER', { aadObjectId: approver.aadObjectId });
    if (verdict === 'ownRequest') return refuse('REQUEST_OWN');
    if (verdict === 'ownConfirmation') return refuse('REQUEST_OWN_CONFIRMATION');
    return ok(true);
  }

  private entry(request: ChangeRequest, actor: Actor, action: string, outcome: NewAuditEntry['outcome'], extra: Record<string, string> = {}): NewAuditEntry {
    return {
      actor: { aadObjectId: actor.aadObjectId, name: actor.name },
      action,
      target: request.account.userPrincipalName,
      outcome,
      requestId: request.id,
      detail: { kind: request.kind, status: request.status, ...extra },
    };
  }
}
