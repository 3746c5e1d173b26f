import type { AuditLog } from '../store/audit';
import type { RequestRepository } from '../store/requests';
import type { Actor } from '../provisioning/model';
import type { Plan } from '../provisioning/plans';
import { ok, refuse, type Result } from '../provisioning/result';
import type { PlanRunner } from '../provisioning/runner';
import { mayDecide, needsApproval, type ApprovalPolicy } from './policy';
import { isOpen, type ChangeRequest, type RequestStatus, type SentCard } from './requests';

export type Requester = Actor & { userId?: string };
export type RequestListener = (request: ChangeRequest) => void | Promise<void>;

/** Plan status → the request status that follows it once the request was approved. */
const FOLLOWS: Partial<Record<Plan['status'], RequestStatus>> = { running: 'executing', waiting: 'executing', done: 'done', failed: 'failed' };

/**
 * Four-eyes approvals: nothing risky runs on one person's say-so. Every decision is a compare-and-set
 * on the stored request, so double clicks, stale cards and approvers clicking at once end in exactly
 * one decision and one execution; everyone else is shown the current state.
 */
export class ApprovalService {
  private readonly listeners: RequestListener[] = [];
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: RequestRepository,
    private readonly plans: PlanRunner,
    private readonly audit: AuditLog,
    readonly policy: ApprovalPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {
    plans.onChange((plan) => this.follow(plan));
  }

  onChange(listener: RequestListener): void {
    this.listeners.push(listener);
  }

  /** How many requests are pending (health and monitoring). */
  pendingCount(): number {
    return this.repository.all().filter((r) => isOpen(r.status)).length;
  }

  needsApproval(plan: Plan): boolean {
    return needsApproval(this.policy, plan.kind);
  }

  /** The request as it stands; a pending one past its expiry is expired first. */
  async get(id: string): Promise<ChangeRequest | undefined> {
    const request = this.repository.get(id);
    if (request && isOpen(request.status) && Date.parse(request.expiresAt) <= this.now().getTime()) {
      return (await this.expire(id)) ?? this.repository.get(id);
    }
    return request;
  }

  /** Asks for approval of a proposed plan, once: a second call returns the same request. */
  async request(plan: Plan, requester: Requester): Promise<Result<{ request: ChangeRequest; created: boolean }>> {
    if (plan.status !== 'awaitingConfirmation') return refuse('PLAN_ALREADY_DECIDED', { status: plan.status });
    const others = this.policy.approverIds.filter((id) => id.toLowerCase() !== requester.aadObjectId.toLowerCase());
    if (others.length === 0) return refuse('REQUEST_NO_APPROVER');
    const at = this.now();
    const { created, request } = await this.repository.insertOnce({
      id: plan.id,
      kind: plan.kind,
      account: plan.account,
      requestedBy: { aadObjectId: requester.aadObjectId, name: requester.name, ...(requester.userId ? { userId: requester.userId } : {}) },
      status: 'pending',
      version: 0,
      createdAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + this.policy.expiresAfterMs).toISOString(),
      cards: [],
      unreachable: [],
    });
    if (created) await this.record(request, requester, 'request.created', 'requested');
    return ok({ request, created });
  }

  /** pending → approved (exactly once), then the plan runs. */
  async approve(id: string, approver: Actor): Promise<Result<ChangeRequest>> {
    const request = await this.get(id);
    if (!request) return refuse('REQUEST_NOT_FOUND');
    const allowed = this.checkDecider(request, approver);
    if (!allowed.ok) return allowed;
    const at = this.now().toISOString();
    const approved = await this.repository.mutate(id, (r) => (isOpen(r.status) ? { ...r, status: 'approved', decision: { ...approver, at } } : null));
    if (!approved) return ok(this.repository.get(id)!);
    await this.record(approved, approver, 'request.approved', 'succeeded');
    await this.emit(approved);
    const started = await this.plans.confirm(id, approver);
    if (!started.ok) {
      // The plan could not start (another change on the account is in progress): say so, run nothing.
      const failed = await this.repository.mutate(id, (r) => (r.status === 'approved' ? { ...r, status: 'failed' } : null));
      if (failed) await this.record(failed, approver, 'request.failed', 'failed', started.reason);
      if (failed) await this.emit(failed);
      return started;
    }
    return ok(this.repository.get(id)!);
  }

  /** pending → rejected, with the approver's reason; the plan is cancelled and nothing runs. */
  async reject(id: string, approver: Actor, reason: string): Promise<Result<ChangeRequest>> {
    const request = await this.get(id);
    if (!request) return refuse('REQUEST_NOT_FOUND');
    const allowed = this.checkDecider(request, approver);
    if (!allowed.ok) return allowed;
    const why = reason.trim();
    if (isOpen(request.status) && !why) return refuse('REQUEST_REASON_REQUIRED');
    const at = this.now().toISOString();
    const rejected = await this.repository.mutate(id, (r) => (isOpen(r.status) ? { ...r, status: 'rejected', decision: { ...approver, at, reason: why } } : null));
    if (!rejected) return ok(this.repository.get(id)!);
    await this.plans.cancel(id, approver);
    await this.record(rejected, approver, 'request.rejected', 'refused', undefined, why);
    await this.emit(rejected);
    return ok(rejected);
  }

  /** The requester withdraws a pending request. */
  async cancel(id: string, requester: Actor): Promise<Result<ChangeRequest>> {
    const request = await this.get(id);
    if (!request) return refuse('REQUEST_NOT_FOUND');
    if (request.requestedBy.aadObjectId.toLowerCase() !== requester.aadObjectId.toLowerCase()) {
      return isOpen(request.status) ? refuse('REQUEST_NOT_REQUESTER', { name: request.requestedBy.name }) : ok(request);
    }
    const at = this.now().toISOString();
    const cancelled = await this.repository.mutate(id, (r) => (isOpen(r.status) ? { ...r, status: 'cancelled', decision: { ...requester, at } } : null));
    if (!cancelled) return ok(this.repository.get(id)!);
    await this.plans.cancel(id, requester);
    await this.record(cancelled, requester, 'request.cancelled', 'succeeded');
    await this.emit(cancelled);
    return ok(cancelled);
  }

  /** Expires every pending request past its time (also done lazily on each read). */
  async expireDue(): Promise<void> {
    const at = this.now().getTime();
    for (const request of this.repository.all()) {
      if (isOpen(request.status) && Date.parse(request.expiresAt) <= at) await this.expire(request.id);
    }
  }

  startSweeping(everyMs: number): void {
    this.sweeper = setInterval(() => void this.expireDue(), everyMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Remembers where the request's cards went and who could not be reached. */
  async attachCards(id: string, cards: SentCard[], unreachable: Actor[] = []): Promise<ChangeRequest | null> {
    return this.repository.mutate(id, (r) => ({ ...r, cards: [...r.cards, ...cards], unreachable: [...r.unreachable, ...unreachable] }));
  }

  private async expire(id: string): Promise<ChangeRequest | null> {
    const expired = await this.repository.mutate(id, (r) => (isOpen(r.status) && Date.parse(r.expiresAt) <= this.now().getTime() ? { ...r, status: 'expired' } : null));
    if (!expired) return null;
    await this.plans.cancel(id, { aadObjectId: 'switchboard', name: 'Switchboard' });
    await this.record(expired, { aadObjectId: 'switchboard', name: 'Switchboard' }, 'request.expired', 'refused');
    await this.emit(expired);
    return expired;
  }

  private checkDecider(request: ChangeRequest, approver: Actor): Result<true> {
    const verdict = mayDecide(this.policy, approver.aadObjectId, request.requestedBy.aadObjectId);
    if (verdict === 'notApprover') return refuse('REQUEST_NOT_APPROVER', { aadObjectId: approver.aadObjectId });
    if (verdict === 'ownRequest') return refuse('REQUEST_OWN');
    return ok(true);
  }

  /** An approved request follows its plan: executing while it runs, then done or failed. */
  private async follow(plan: Plan): Promise<void> {
    const next = FOLLOWS[plan.status];
    const request = this.repository.get(plan.id);
    if (!next || !request || request.status === next || !['approved', 'executing'].includes(request.status)) return;
    const moved = await this.repository.mutate(plan.id, (r) => (['approved', 'executing'].includes(r.status) && r.status !== next ? { ...r, status: next } : null));
    if (!moved) return;
    if (next === 'done' || next === 'failed') await this.record(moved, moved.decision ?? moved.requestedBy, `request.${next}`, next === 'done' ? 'succeeded' : 'failed');
    await this.emit(moved);
  }

  private async record(request: ChangeRequest, actor: Actor, action: string, outcome: 'requested' | 'succeeded' | 'refused' | 'failed', reason?: string, why?: string): Promise<void> {
    await this.audit.append({
      actor: { aadObjectId: actor.aadObjectId, name: actor.name },
      action,
      target: request.account.userPrincipalName,
      outcome,
      requestId: request.id,
      ...(reason ? { reason } : {}),
      detail: { kind: request.kind, status: request.status, ...(why ? { why } : {}) },
    });
  }

  private async emit(request: ChangeRequest): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(request);
      } catch {
        // A listener's failure (a card that cannot be updated) never undoes a decision.
      }
    }
  }
}
