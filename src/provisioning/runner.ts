import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../store/audit';
import type { TenantDirectory } from './directory';
import type { Actor } from './model';
import { type CardRef, type Plan, type PlanKind, type PlanStatus, type Step, type StepKind, type StepNote } from './plans';
import { ok, refuse, type Result } from './result';
import { executeStep, type StepOutcome } from './steps';

/** Where plans are kept; `mutate` is a compare-and-set: the change sees the stored plan and may decline. */
export interface PlanRepository {
  get(id: string): Plan | undefined;
  all(): Plan[];
  insert(plan: Plan): Promise<void>;
  mutate(id: string, change: (plan: Plan) => Plan | null, now: string): Promise<Plan | null>;
}

export interface RunnerOptions {
  now?: () => Date;
  /** How long a waiting plan sleeps before it looks again; doubles up to maxPollMs. */
  pollMs?: number;
  maxPollMs?: number;
  onFault?: (error: unknown, plan: Plan) => void;
}

export type PlanListener = (plan: Plan) => void | Promise<void>;

export interface NewPlan {
  kind: PlanKind;
  account: Plan['account'];
  requestedBy: Actor;
  steps: Step[];
  card?: CardRef;
}

/** Audit action per step: the audit log reads in the seed's words. */
const AUDIT_ACTION: Record<StepKind, string> = {
  createAccount: 'account.create',
  setUsageLocation: 'account.setUsageLocation',
  assignLicense: 'license.assign',
  switchLicense: 'license.switch',
  awaitLicense: 'license.provisioned',
  assignNumber: 'number.assign',
  unassignNumber: 'number.unassign',
  associate: 'account.associate',
  dissociate: 'account.dissociate',
  updateAccount: 'account.update',
  deleteAccount: 'account.delete',
};

const ACTIVE: readonly PlanStatus[] = ['running', 'waiting'];

/**
 * Runs persisted plans step by step. One run per plan at a time; a waiting plan (license still
 * provisioning, number operation pending) wakes itself up; after a restart, resumeAll() carries on
 * where the store says each plan stands.
 */
export class PlanRunner {
  private readonly active = new Map<string, Promise<Plan | undefined>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly listeners: PlanListener[] = [];
  private readonly now: () => Date;
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  private stopped = false;

  constructor(
    private readonly repository: PlanRepository,
    private readonly directory: TenantDirectory,
    private readonly audit: AuditLog,
    private readonly options: RunnerOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.pollMs = options.pollMs ?? 2_000;
    this.maxPollMs = options.maxPollMs ?? 60_000;
  }

  onChange(listener: PlanListener): void {
    this.listeners.push(listener);
  }

  get(id: string): Plan | undefined {
    return this.repository.get(id);
  }

  /** How many plans the store holds, by status (health and monitoring). */
  counts(): Partial<Record<Plan['status'], number>> {
    const counts: Partial<Record<Plan['status'], number>> = {};
    for (const plan of this.repository.all()) counts[plan.status] = (counts[plan.status] ?? 0) + 1;
    return counts;
  }

  /** Saves a new plan. Nothing runs until confirm(), unless `start` says the request itself is the confirmation. */
  async propose(input: NewPlan, start = false): Promise<Plan> {
    const at = this.now().toISOString();
    const plan: Plan = {
      id: randomUUID(),
      kind: input.kind,
      version: 0,
      status: start ? 'running' : 'awaitingConfirmation',
      account: input.account,
      requestedBy: input.requestedBy,
      createdAt: at,
      updatedAt: at,
      steps: input.steps.map((step) => ({ step, state: { status: 'pending' } })),
      ...(input.card ? { card: input.card } : {}),
    };
    await this.repository.insert(plan);
    await this.auditPlan(plan, input.requestedBy, `plan.${plan.kind}`, 'requested');
    if (start) void this.run(plan.id);
    return plan;
  }

  /** Remembers where the plan's card lives so that later changes update it in place. */
  async attachCard(id: string, card: CardRef): Promise<Plan | null> {
    return this.save(id, (p) => ({ ...p, card }));
  }

  /** awaitingConfirmation → running, exactly once (compare-and-set on status and, if given, version). */
  async confirm(id: string, actor: Actor, expectedVersion?: number): Promise<Result<Plan>> {
    const current = this.repository.get(id);
    if (!current) return refuse('PLAN_NOT_FOUND');
    const busy = this.repository
      .all()
      .find((p) => p.id !== id && ACTIVE.includes(p.status) && p.account.userPrincipalName.toLowerCase() === current.account.userPrincipalName.toLowerCase());
    if (busy && current.status === 'awaitingConfirmation') return refuse('PLAN_ACCOUNT_BUSY', { upn: current.account.userPrincipalName });
    const moved = await this.transition(id, ['awaitingConfirmation'], 'running', expectedVersion);
    if (!moved.ok) return moved;
    await this.auditPlan(moved.value, actor, 'plan.confirm', 'succeeded');
    void this.run(id);
    return moved;
  }

  async cancel(id: string, actor: Actor, expectedVersion?: number): Promise<Result<Plan>> {
    const moved = await this.transition(id, ['awaitingConfirmation', 'failed'], 'cancelled', expectedVersion);
    if (moved.ok) await this.auditPlan(moved.value, actor, 'plan.cancel', 'succeeded');
    return moved;
  }

  /** failed → running: the failed step is tried again (it re-validates against the tenant first). */
  async retry(id: string, actor: Actor, expectedVersion?: number): Promise<Result<Plan>> {
    const moved = await this.transition(id, ['failed'], 'running', expectedVersion, (plan) => {
      for (const s of plan.steps) if (s.state.status === 'failed') s.state = { status: 'pending' };
    });
    if (!moved.ok) return moved;
    await this.auditPlan(moved.value, actor, 'plan.retry', 'succeeded');
    void this.run(id);
    return moved;
  }

  /** Runs the plan until it waits, fails or is done; a second call while it runs joins the first. */
  run(id: string): Promise<Plan | undefined> {
    const running = this.active.get(id);
    if (running) return running;
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    const work = this.loop(id).finally(() => this.active.delete(id));
    this.active.set(id, work);
    return work;
  }

  /** Runs the plan and waits at most `budgetMs` for it to stop running (a click is answered within ~2 s). */
  async settle(id: string, budgetMs: number): Promise<Plan | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), budgetMs)));
    const result = await Promise.race([this.active.get(id) ?? this.run(id), budget]);
    clearTimeout(timer);
    return result ?? this.repository.get(id);
  }

  /** After a restart: every plan that was running or waiting carries on. */
  resumeAll(): void {
    for (const plan of this.repository.all()) {
      if (plan.status === 'running') void this.run(plan.id);
      else if (plan.status === 'waiting') this.schedule(plan.id, plan.nextRunAt ? Date.parse(plan.nextRunAt) - this.now().getTime() : 0);
    }
  }

  /** Stops scheduling and waits for the runs in progress (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.active.values()]);
  }

  private async transition(
    id: string,
    from: readonly PlanStatus[],
    to: PlanStatus,
    expectedVersion: number | undefined,
    also?: (plan: Plan) => void,
  ): Promise<Result<Plan>> {
    const moved = await this.repository.mutate(
      id,
      (plan) => {
        if (!from.includes(plan.status) || (expectedVersion !== undefined && plan.version !== expectedVersion)) return null;
        plan.status = to;
        also?.(plan);
        return plan;
      },
      this.now().toISOString(),
    );
    if (moved) {
      await this.emit(moved);
      return ok(moved);
    }
    const current = this.repository.get(id);
    return current ? refuse('PLAN_ALREADY_DECIDED', { status: current.status }) : refuse('PLAN_NOT_FOUND');
  }

  private async loop(id: string): Promise<Plan | undefined> {
    let plan = this.repository.get(id);
    if (!plan || this.stopped) return plan;
    if (plan.status === 'waiting') plan = (await this.save(id, (p) => ({ ...p, status: 'running' }))) ?? plan;
    if (plan.status !== 'running') return plan;
    try {
      let facts = await this.directory.getTenantFacts();
      for (let index = 0; index < plan.steps.length; index++) {
        const { step, state } = plan.steps[index]!;
        if (state.status === 'done') continue;
        const outcome = await executeStep({ directory: this.directory, facts, accountId: plan.account.id, userPrincipalName: plan.account.userPrincipalName }, step, state);
        plan = (await this.record(plan, index, outcome)) ?? plan;
        if (outcome.status !== 'done') return plan;
        if (outcome.acted) facts = await this.directory.getTenantFacts();
        if (this.stopped) return plan;
      }
      plan = (await this.save(id, (p) => ({ ...p, status: 'done' }))) ?? plan;
      await this.auditPlan(plan, plan.requestedBy, `plan.${plan.kind}`, 'succeeded');
      return plan;
    } catch (error) {
      // A fault (tenant unreachable, bug) parks the plan at its current step; Retry takes it from there.
      this.options.onFault?.(error, plan);
      const index = plan.steps.findIndex((s) => s.state.status !== 'done');
      const note: StepNote = { reason: 'TENANT_OPERATION_FAILED', params: { upn: plan.account.userPrincipalName, detail: 'no answer from the tenant' } };
      plan = (await this.record(plan, Math.max(0, index), { status: 'failed', note })) ?? plan;
      return plan;
    } finally {
      if (plan) await this.emit(plan);
    }
  }

  /** Persists one step's outcome (and the plan status it implies) and audits what changed. */
  private async record(plan: Plan, index: number, outcome: StepOutcome): Promise<Plan | null> {
    const at = this.now().toISOString();
    const kind = plan.steps[index]!.step.kind;
    const waits = (plan.steps[index]!.state.waits ?? 0) + (outcome.status === 'waiting' ? 1 : 0);
    const saved = await this.save(plan.id, (p) => {
      const slot = p.steps[index]!;
      if (outcome.status === 'done') {
        slot.state = { status: 'done', finishedAt: at };
        if (outcome.accountId) p.account = { ...p.account, id: outcome.accountId };
        return p;
      }
      const operationId = ('operationId' in outcome ? outcome.operationId : undefined) ?? slot.state.operationId;
      slot.state = { status: outcome.status, note: outcome.note, ...(operationId ? { operationId } : {}), ...(waits ? { waits } : {}) };
      p.status = outcome.status;
      if (outcome.status === 'waiting') p.nextRunAt = new Date(this.now().getTime() + this.delay(waits)).toISOString();
      return p;
    });
    // A step that started a tenant operation earlier acted then, even when it only verifies now.
    const acted = outcome.status === 'done' && (outcome.acted || plan.steps[index]!.state.operationId !== undefined);
    if (acted) {
      await this.audit.append({ actor: plan.requestedBy, action: AUDIT_ACTION[kind], target: plan.account.userPrincipalName, outcome: 'succeeded', requestId: plan.id, detail: stepDetail(plan.steps[index]!.step) });
    } else if (outcome.status === 'failed') {
      await this.audit.append({ actor: plan.requestedBy, action: AUDIT_ACTION[kind], target: plan.account.userPrincipalName, outcome: 'failed', reason: outcome.note.reason, requestId: plan.id, detail: stepDetail(plan.steps[index]!.step) });
    }
    if (saved?.status === 'waiting') this.schedule(plan.id, this.delay(waits));
    return saved;
  }

  /** Backs off while the tenant stays slow: pollMs, 2×, 4×… up to maxPollMs. */
  private delay(waits: number): number {
    return Math.min(this.maxPollMs, this.pollMs * 2 ** Math.min(Math.max(0, waits - 1), 10));
  }

  private schedule(id: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(id);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      void this.run(id);
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.set(id, timer);
  }

  private save(id: string, change: (plan: Plan) => Plan | null): Promise<Plan | null> {
    return this.repository.mutate(id, change, this.now().toISOString());
  }

  private async emit(plan: Plan): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(plan);
      } catch (error) {
        this.options.onFault?.(error, plan);
      }
    }
  }

  private async auditPlan(plan: Plan, actor: Actor, action: string, outcome: 'requested' | 'succeeded' | 'failed'): Promise<void> {
    await this.audit.append({ actor, action, target: plan.account.userPrincipalName, outcome, requestId: plan.id, detail: { status: plan.status } });
  }
}

function stepDetail(step: Step): Record<string, string> {
  const detail: Record<string, string> = {};
  for (const [key, value] of Object.entries(step)) if (key !== 'kind' && typeof value === 'string') detail[key] = value;
  return detail;
}

