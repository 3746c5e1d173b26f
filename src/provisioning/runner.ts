import { randomUUID } from 'node:crypto';
import { followPlan } from '../approvals/outbox';
import { approvalOnRecord } from '../approvals/policy';
import { isStoreUnavailable } from '../store/errors';
import { reasonDetail } from '../store/audit';
import type { WorkflowStore, WorkflowTx } from '../store/workflow';
import { aroundCalls, type TenantDirectory } from './directory';
import type { Actor } from './model';
import { batchProgress, runBatch, type BatchHost } from './batch';
import { accountsOf, batchChildId, isActive, reopened, requestWaitingOn, stepAccount, WATCHING_STEPS, type Batch, type Plan, type PlanKind, type Step, type StepKind, type StepNote } from './plans';
import { ok, refuse, type Refusal, type Result } from './result';
import { executeStep, type StepOutcome } from './steps';

export interface RunnerOptions {
  now?: () => Date;
  /** How long a waiting plan sleeps before it looks again; doubles up to maxPollMs. */
  pollMs?: number;
  maxPollMs?: number;
  /** Whether the approval policy names this kind of plan (four-eyes): such a plan never starts by itself. */
  needsApproval: (kind: PlanKind) => boolean;
  /** This process's name in plan leases. */
  owner?: string;
  /** How long a lease lasts unless renewed; a runner that died is replaced after it (several instances). */
  leaseMs?: number;
  /**
   * Nobody else can run plans from this store (one process holds the data folder): leases of a
   * process that stopped are taken over at once instead of after their expiry.
   */
  exclusive?: boolean;
  /**
   * The longest one step may take (a tenant call that never answers). After it the step counts as a
   * fault: the plan parks with Retry instead of showing "running" forever; the call, if it still
   * lands, is found done when the step is tried again (steps are idempotent).
   */
  stepTimeoutMs?: number;
  onFault?: (error: unknown, planId: string) => void;
  /**
   * Told when a run stops because the plan is no longer its own to run. Not a fault of the step: an
   * instance that stalled or lost its store, which an operator wants to see; the plan goes on
   * (another instance has it, or this one takes it again).
   */
  onLeaseLost?: (event: LeaseLostEvent) => void;
  /**
   * Told when this runner starts a step and when it has its outcome (monitoring: with several
   * instances, which one ran which step, and when).
   */
  onStep?: (event: StepEvent) => void;
}

export interface LeaseLostEvent {
  planId: string;
  /** This runner (its lease owner name). */
  owner: string;
  /** taken: another instance took the plan over; ranOut: not renewed in time (store out of reach, process stalled). */
  why: 'taken' | 'ranOut';
  message: string;
  /** A tenant call's failure met once the lease was gone, not recorded against the plan. */
  fault?: unknown;
}

export interface StepEvent {
  planId: string;
  index: number;
  kind: StepKind;
  /** The runner (its lease owner name). */
  owner: string;
  phase: 'started' | 'finished';
  /** With 'finished': done, waiting or failed. */
  status?: StepOutcome['status'];
}

/** A step that took longer than the runner allows. */
export class StepTimeoutError extends Error {
  constructor(kind: string, ms: number) {
    super(`step ${kind} did not finish within ${Math.round(ms / 1000)} s`);
    this.name = 'StepTimeoutError';
  }
}

export interface NewPlan {
  kind: PlanKind;
  account: Plan['account'];
  requestedBy: Actor;
  steps: Step[];
  /** An import batch: its rows run as child plans (src/provisioning/batch.ts). */
  batch?: Batch;
  /**
   * Kinds of change the plan also makes (a batch adds accounts and assigns numbers): when the approval
   * policy names any of them, the plan needs approval too, so that no path skips it.
   */
  alsoKinds?: readonly PlanKind[];
  /**
   * The plan's id, chosen by the caller: the add form's own id, so that a form sent twice (a double
   * click) makes one plan. A plan of that id already there is the answer when it is the same person's
   * plan of the same kind; any other is refused.
   */
  id?: string;
}

/** A plan made by the same request sent again: same person, same kind, same account. */
/** The accounts a plan deletes itself (lower-case UPNs): its deleteAccount steps' accounts. */
function deletedBy(plan: Plan): string[] {
  return plan.steps.filter((s) => s.step.kind === 'deleteAccount').map((s) => stepAccount(s.step, plan).userPrincipalName.toLowerCase());
}

/**
 * One change at a time per account, on every account the plan acts on (a replacement also unlinks and
 * deletes the old account): accounts taken in a fixed order, so that two such checks never wait on
 * each other's locks (PostgreSQL).
 */
export async function busyOn(tx: WorkflowTx, plan: Parameters<typeof accountsOf>[0], exceptPlanId: string): Promise<Refusal | null> {
  for (const upn of accountsOf(plan)) if (await tx.activePlanOn(upn, exceptPlanId)) return refuse('PLAN_ACCOUNT_BUSY', { upn });
  return null;
}

function sameRequest(plan: Plan, input: NewPlan): boolean {
  return plan.kind === input.kind && plan.requestedBy.aadObjectId === input.requestedBy.aadObjectId && plan.account.userPrincipalName.toLowerCase() === input.account.userPrincipalName.toLowerCase();
}

/** Audit action per step: the audit log reads in the seed's words. */
const AUDIT_ACTION: Record<StepKind, string> = {
  createAccount: 'account.create',
  awaitOnPremisesAccount: 'account.synced',
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
  blockSignIn: 'account.blockSignIn',
};

/** Who acts when Switchboard itself changes a plan or request (repairs, expiry, holds). */
export const SWITCHBOARD: Actor = { aadObjectId: 'switchboard', name: 'Switchboard' };

/** The runner lost its lease (another instance took the plan over, or it ran out unrenewed): it stops at once. */
class LeaseLost extends Error {
  constructor(
    /**
     * ended: this run itself is over (a step given up after the step timeout), nothing to report;
     * taken: another instance holds the plan now; ranOut: by this runner's clock, nobody else known
     * to hold it, so this runner looks again later.
     */
    readonly why: 'ended' | LeaseLostEvent['why'],
    message: string,
  ) {
    super(message);
    this.name = 'LeaseLost';
  }
}

/**
 * What one run knows of its lease: until when it holds it by this runner's clock, and why the run may
 * no longer call the tenant: its lease was found taken, or the run is over (a step given up after the
 * step timeout goes on in the background, and must not act).
 */
interface Hold {
  until: number;
  stop?: 'taken' | 'ended';
}

const MAX_STORE_RETRY_MS = 60_000;

/**
 * Runs persisted plans step by step. Exactly one runner per plan (issue 9 item 8): within this process
 * a second start while a loop runs makes that loop go round once more instead of joining a loop that
 * is ending; across processes, a lease in the store says who runs it. Every outcome is recorded in one
 * transaction with what follows from it (request status, card refresh, audit). A waiting plan wakes
 * itself up; after a restart, resumeAll() carries on where the store says each plan stands.
 */
export class PlanRunner {
  private readonly active = new Map<string, Promise<Plan | undefined>>();
  private readonly rerun = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The last store failure per plan while it ran (the click is told the outcome could not be recorded). */
  private readonly storeFaults = new Map<string, { error: unknown; retries: number }>();
  private readonly now: () => Date;
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  readonly owner: string;
  private readonly leaseMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: WorkflowStore,
    private readonly directory: TenantDirectory,
    private readonly options: RunnerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.pollMs = options.pollMs ?? 2_000;
    this.maxPollMs = options.maxPollMs ?? 60_000;
    this.owner = options.owner ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  get(id: string): Promise<Plan | undefined> {
    return this.store.plan(id);
  }

  /** The plan needs an approved change request before it may run. */
  needsApproval(plan: Pick<Plan, 'kind' | 'needsApproval'>): boolean {
    return plan.needsApproval || this.options.needsApproval(plan.kind);
  }

  /**
   * The gate every run passes (README "No bypass of the approval policy"): a plan that needs approval
   * may run only with an approval on record — its request approved by someone who neither proposed
   * nor confirmed it. Checked in the transaction that starts or resumes the plan.
   */
  private async mayRun(tx: WorkflowTx, plan: Plan): Promise<boolean> {
    // A row of an import batch is approved with its batch (one approval for the whole file, issue 12):
    // the gate looks at the batch and its request; a row whose batch is gone does not run.
    const subject = plan.parentId ? await tx.plan(plan.parentId) : plan;
    if (!subject) return false;
    return !this.needsApproval(subject) || approvalOnRecord(subject, await tx.request(subject.id));
  }

  /** How many plans the store holds, by status (monitoring). */
  async counts(): Promise<Partial<Record<Plan['status'], number>>> {
    return (await this.store.counts()).plans;
  }

  /** The store failure that stopped this plan's last run, if its outcome could not be recorded yet. */
  storeFault(id: string): unknown {
    return this.storeFaults.get(id)?.error;
  }

  /**
   * Saves a new plan. Nothing runs until it is confirmed, unless `start` says the request itself is
   * the confirmation — and even then not when the approval policy names its kind (issue 9 item 2), nor
   * while another change on the same account runs (refused: nothing is saved).
   */
  async propose(input: NewPlan, start = false): Promise<Result<Plan>> {
    const at = this.now();
    const needsApproval = [input.kind, ...(input.alsoKinds ?? [])].some((kind) => this.options.needsApproval(kind));
    const runs = start && !needsApproval;
    let made = false;
    const result = await this.store.transact(async (tx): Promise<Result<Plan>> => {
      made = false;
      // The account's lock first (PostgreSQL: taken here), then the plan of that id: a second send of the
      // same form waits for the first to commit, then finds its plan instead of "another change runs".
      if (runs) {
        const busy = await busyOn(tx, input, input.id ?? '');
        if (busy) return busy;
      }
      const earlier = input.id === undefined ? undefined : await tx.plan(input.id);
      if (earlier) return sameRequest(earlier, input) ? ok(earlier) : refuse('PLAN_NOT_FOUND');
      const waiting = await requestWaitingOn(tx, accountsOf(input), input.id ?? '', at);
      if (!waiting.ok) return waiting;
      const plan = tx.putPlan(
        {
          id: input.id ?? randomUUID(),
          kind: input.kind,
          version: 0,
          status: runs ? 'running' : 'awaitingConfirmation',
          account: input.account,
          requestedBy: input.requestedBy,
          needsApproval,
          ...(runs ? { confirmedBy: input.requestedBy } : {}),
          createdAt: at.toISOString(),
          updatedAt: at.toISOString(),
          steps: input.steps.map((step) => ({ step, state: { status: 'pending' as const } })),
          ...(input.batch ? { batch: input.batch } : {}),
        },
        at.toISOString(),
      );
      tx.audit(planAudit(plan, input.requestedBy, `plan.${plan.kind}`, 'requested'));
      made = true;
      return ok(plan);
    });
    if (result.ok && runs && made) this.kick(result.value.id);
    return result;
  }

  /**
   * awaitingConfirmation → running, exactly once, for a plan that needs no approval; one that does
   * is refused here whatever the caller (the approval path starts it in its own transaction).
   */
  async start(id: string, actor: Actor): Promise<Result<Plan>> {
    const at = this.now();
    const moved = await this.store.transact(async (tx): Promise<Result<Plan>> => {
      const plan = await tx.plan(id);
      if (!plan) return refuse('PLAN_NOT_FOUND');
      if (plan.status !== 'awaitingConfirmation') return refuse('PLAN_ALREADY_DECIDED', { status: plan.status });
      if (this.needsApproval(plan)) return refuse('PLAN_NEEDS_APPROVAL');
      const busy = await busyOn(tx, plan, id);
      if (busy) return busy;
      const waiting = await requestWaitingOn(tx, accountsOf(plan), id, at);
      if (!waiting.ok) return waiting;
      const started = tx.putPlan({ ...plan, status: 'running', confirmedBy: actor }, at.toISOString());
      tx.audit(planAudit(started, actor, 'plan.confirm', 'succeeded'));
      await followPlan(tx, started, plan.status, at);
      return ok(started);
    });
    if (moved.ok) this.kick(id);
    return moved;
  }

  /**
   * failed → running: the failed step is tried again (it re-validates against the tenant first). A plan
   * that needs approval and has none on record is held back instead (failed → awaiting confirmation,
   * nothing runs): Confirm then sends it to the approvers.
   */
  async retry(id: string, actor: Actor): Promise<Result<Plan>> {
    const at = this.now();
    let rerun: string[] = [];
    const gone = await this.rowsWithAccountGone(id);
    const moved = await this.store.transact(async (tx): Promise<Result<Plan>> => {
      rerun = [];
      const plan = await tx.plan(id);
      if (!plan) return refuse('PLAN_NOT_FOUND');
      if (plan.status !== 'failed' || plan.parentId) return refuse('PLAN_ALREADY_DECIDED', { status: plan.status });
      if (!(await this.mayRun(tx, plan))) return ok(await holdForApproval(tx, plan, actor, at));
      const busy = await busyOn(tx, plan, id);
      if (busy) return busy;
      if (!plan.batch) {
        const waiting = await requestWaitingOn(tx, accountsOf(plan), id, at);
        if (!waiting.ok) return waiting;
      }
      // Retry failed rows: a row that got under way runs again from its failed step, as a single plan's
      // Retry does, so a change it may have made before the fault (mayHaveActed) is audited when found
      // done; started afresh, it was found done and went unaudited. A row that never got under way (its
      // account busy at the start), or whose account another plan holds now, starts afresh: the batch
      // checks that account again, and its done steps are found done.
      for (let index = 0; index < (plan.batch?.rows.length ?? 0); index++) {
        const child = await tx.plan(batchChildId(id, index));
        if (!child || (child.status !== 'failed' && child.status !== 'cancelled')) continue;
        const underWay = child.steps.some((s) => s.state.status === 'done' || s.state.startedAt !== undefined || s.state.mayHaveActed !== undefined);
        // A row's account held by a request that waits for an approver starts afresh too: the batch then
        // fails it, saying which request holds it.
        const held = async () => !(await requestWaitingOn(tx, accountsOf(child), child.id, at)).ok;
        if (child.status === 'failed' && underWay && !gone.has(child.id) && !(await tx.activePlanOn(child.account.userPrincipalName, child.id)) && !(await held())) {
          tx.putPlan({ ...child, status: 'running', steps: child.steps.map((s) => ({ ...s, state: reopened(s.state) })) }, at.toISOString());
          rerun.push(child.id);
        } else tx.deletePlan(child.id);
      }
      const steps = plan.steps.map((s) => ({ ...s, state: reopened(s.state) }));
      const retried = tx.putPlan({ ...plan, status: 'running', steps }, at.toISOString());
      tx.audit(planAudit(retried, actor, 'plan.retry', 'succeeded'));
      await followPlan(tx, retried, plan.status, at);
      return ok(retried);
    });
    if (moved.ok && moved.value.status === 'running') {
      for (const child of rerun) this.kick(child);
      this.kick(id);
    }
    return moved;
  }

  /**
   * Failed rows of a batch whose account is no longer in the tenant (an admin deleted the half-made
   * account before Retry): they start afresh and make it again; run on from their failed step they would
   * look for the deleted account for ever. Read before Retry's transaction (no tenant call inside one);
   * a row the tenant cannot tell about now runs on from its step.
   */
  private async rowsWithAccountGone(id: string): Promise<Set<string>> {
    const gone = new Set<string>();
    const batch = await this.store.plan(id);
    for (let index = 0; index < (batch?.batch?.rows.length ?? 0); index++) {
      const child = await this.store.plan(batchChildId(id, index));
      if (child?.status !== 'failed' || !child.account.id) continue;
      const account = await this.directory.getAccount(child.account.id).catch(() => undefined);
      if (account === null) gone.add(child.id);
    }
    return gone;
  }

  /**
   * Runs the plan until it waits, fails or is done. Called while a loop runs, it makes that loop look
   * at the plan once more before it ends, so a plan that went back to running (Retry) is never left
   * without a runner.
   */
  run(id: string): Promise<Plan | undefined> {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    const running = this.active.get(id);
    if (running) {
      this.rerun.add(id);
      return running;
    }
    const work = (async () => {
      for (;;) {
        this.rerun.delete(id);
        let plan: Plan | undefined;
        try {
          plan = await this.loop(id);
        } catch (error) {
          this.options.onFault?.(error, id);
        }
        // No await between this check and the delete: a run() after it starts a loop of its own.
        if (!this.rerun.has(id) || this.stopped) {
          this.active.delete(id);
          // A row of a batch that ended (done or failed): its batch looks again, unless it runs here
          // already (it is watching). A row that only polls again while it waits changes nothing for it.
          if (plan?.parentId && !isActive(plan.status) && !this.active.has(plan.parentId)) this.kick(plan.parentId);
          return plan ?? (await this.store.plan(id).catch(() => undefined));
        }
      }
    })();
    this.active.set(id, work);
    return work;
  }

  /** Runs the plan and waits at most `budgetMs` for it to stop running (a click is answered within ~2 s). */
  async settle(id: string, budgetMs: number): Promise<Plan | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), budgetMs)));
    const result = await Promise.race([this.active.get(id) ?? this.run(id), budget]);
    clearTimeout(timer);
    return result ?? this.store.plan(id);
  }

  /**
   * After a restart, and periodically: every plan that is running or waiting, and due, carries on. One
   * that may not run (the policy names its kind now and no approval is on record) is taken at once,
   * not when due, so that it is held back and its card says why without waiting for its next poll.
   */
  async resumeAll(): Promise<void> {
    if (this.stopped) return;
    const at = this.now().getTime();
    for (const plan of await this.store.plans(['running', 'waiting'])) {
      if (this.active.has(plan.id) || this.timers.has(plan.id)) continue;
      const leasedElsewhere = plan.lease && plan.lease.owner !== this.owner && Date.parse(plan.lease.until) > at && !this.options.exclusive;
      if (leasedElsewhere) continue;
      const unapproved = this.needsApproval(plan) && !approvalOnRecord(plan, await this.store.request(plan.id));
      if (plan.status === 'running' || unapproved) this.kick(plan.id);
      else this.schedule(plan.id, plan.nextRunAt ? Date.parse(plan.nextRunAt) - at : 0);
    }
  }

  /** Looks for plans to carry on every `everyMs` (a runner elsewhere died, a wake-up was lost). */
  startSweeping(everyMs: number): void {
    this.sweeper = setInterval(() => {
      this.resumeAll().catch((error: unknown) => this.options.onFault?.(error, '*'));
    }, everyMs);
    this.sweeper.unref();
  }

  /** Stops scheduling, waits for the runs in progress and gives their leases back (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.active.values()]);
  }

  private kick(id: string): void {
    if (this.stopped) return;
    this.run(id).catch((error: unknown) => this.options.onFault?.(error, id));
  }

  private async loop(id: string): Promise<Plan | undefined> {
    if (this.stopped) return this.store.plan(id);
    let plan: Plan | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let hold: Hold | undefined;
    try {
      plan = await this.claim(id);
      if (!plan) return await this.store.plan(id);
      this.storeFaults.delete(id);
      // The lease is renewed while the plan runs, also during a long tenant call: another instance
      // takes a plan over only once its runner stopped renewing (died).
      const held: Hold = (hold = { until: Date.parse(plan.lease!.until) });
      heartbeat = setInterval(() => {
        this.renew(id, held).catch((error: unknown) => this.options.onFault?.(error, id));
      }, Math.max(50, Math.floor(this.leaseMs / 3)));
      heartbeat.unref();
      if (plan.batch) return await runBatch(this.batchHost(), plan);
      const directory = this.fenced(held);
      let facts = await directory.getTenantFacts();
      for (let index = 0; index < plan.steps.length; index++) {
        const { step, state } = plan.steps[index]!;
        if (state.status === 'done') continue;
        if (this.stopped) return await this.release(plan);
        // Write-ahead: a pending step that was started but never recorded was interrupted by a crash;
        // if it is found done now, it acted in the run that died.
        const interrupted = state.status === 'pending' && state.startedAt !== undefined;
        if (!state.startedAt) plan = await this.save(plan, (p) => void (p.steps[index]!.state.startedAt = this.now().toISOString()));
        const current = plan.steps[index]!.state;
        this.options.onStep?.({ planId: id, index, kind: step.kind, owner: this.owner, phase: 'started' });
        const outcome = await this.withinBudget(
          step.kind,
          executeStep({ directory, now: this.now, facts, accountId: plan.account.id, userPrincipalName: plan.account.userPrincipalName, deletes: deletedBy(plan) }, step, current),
        );
        this.options.onStep?.({ planId: id, index, kind: step.kind, owner: this.owner, phase: 'finished', status: outcome.status });
        plan = await this.record(plan, index, outcome, interrupted);
        if (outcome.status !== 'done') return plan;
        if (outcome.acted) facts = await directory.getTenantFacts();
      }
      return await this.finish(plan);
    } catch (error) {
      if (error instanceof LeaseLost) return this.leaseLost(id, error);
      // A fault met once the lease was lost (the call that failed was on its way when the lease ran
      // out, say) is not this run's to record: the plan is, or will be, taken again.
      const lost = hold && this.stopOf(hold);
      if (lost) return this.leaseLost(id, lost, error);
      if (hold) hold.stop = 'ended';
      if (isStoreUnavailable(error)) return this.storeFailed(id, error);
      // A fault (tenant unreachable, bug) parks the plan at its current step; Retry takes it from there.
      this.options.onFault?.(error, id);
      if (!plan) return this.store.plan(id);
      if (plan.batch) return this.parkBatch(plan);
      const index = Math.max(0, plan.steps.findIndex((s) => s.state.status !== 'done'));
      const note: StepNote = { reason: 'TENANT_UNAVAILABLE', params: { upn: plan.account.userPrincipalName, detail: faultSummary(error) } };
      // The fault may have met the step's change on its way (a call whose answer never came): if Retry
      // finds it done, it is audited.
      const kind = plan.steps[index]?.step.kind;
      const mayHaveActed = kind !== undefined && !WATCHING_STEPS.has(kind) && plan.steps[index]!.state.startedAt !== undefined;
      try {
        return await this.record(plan, index, { status: 'failed', note, ...(mayHaveActed ? { mayHaveActed: true as const } : {}) });
      } catch (again) {
        if (isStoreUnavailable(again)) return this.storeFailed(id, again);
        if (again instanceof LeaseLost) return this.leaseLost(id, again, error);
        throw again;
      }
    } finally {
      clearInterval(heartbeat);
      if (hold) hold.stop ??= 'ended';
    }
  }

  /** What the batch runner (src/provisioning/batch.ts) uses of this runner. */
  private batchHost(): BatchHost {
    return {
      store: this.store,
      pollMs: this.pollMs,
      maxPollMs: this.maxPollMs,
      now: this.now,
      stopped: () => this.stopped,
      running: (id) => this.active.get(id),
      kick: (id) => this.kick(id),
      save: (plan, change, also) => this.save(plan, change, also),
      release: (plan) => this.release(plan),
      audit: (plan, outcome) => planAudit(plan, plan.requestedBy, `plan.${plan.kind}`, outcome),
    };
  }

  /** How the rows of an import batch stand, read from their plans. */
  batchProgress(plan: Plan): ReturnType<typeof batchProgress> {
    return batchProgress(this.store, plan);
  }

  /** A fault in the batch's own work (not in a row): it stops as failed; Retry carries on. */
  private async parkBatch(plan: Plan): Promise<Plan | undefined> {
    const at = this.now();
    try {
      return await this.save(
        plan,
        (p) => {
          p.status = 'failed';
          delete p.lease;
        },
        async (tx, saved, current) => {
          tx.audit(planAudit(saved, plan.requestedBy, `plan.${plan.kind}`, 'failed'));
          await followPlan(tx, saved, current.status, at);
        },
      );
    } catch (again) {
      if (isStoreUnavailable(again)) return this.storeFailed(plan.id, again);
      if (again instanceof LeaseLost) return this.leaseLost(plan.id, again);
      throw again;
    }
  }

  /**
   * Extends our lease on a plan that is still ours and running. One that is not any more (taken over,
   * or ended by this run itself, which then stops anyway) is marked taken: the run makes no further
   * tenant call.
   */
  private async renew(id: string, hold: Hold): Promise<void> {
    const at = this.now();
    const renewed = await this.store.transact(async (tx) => {
      const plan = await tx.plan(id);
      if (!plan?.lease || plan.lease.owner !== this.owner || plan.status !== 'running') return false;
      tx.putPlan({ ...plan, lease: this.lease(at) }, at.toISOString());
      return true;
    });
    if (renewed) hold.until = Math.max(hold.until, at.getTime() + this.leaseMs);
    else hold.stop ??= 'taken';
  }

  /**
   * The tenant as one run may call it: not at all once its lease is taken, or has run out by this
   * runner's clock (renewals failed: the store was out of reach, or the process stalled), since another
   * instance may be running the same steps by then. A call already on its way cannot be called back;
   * steps are safe run twice at once (steps.ts), but no further call goes out. The margin of a sixth of
   * the lease allows for clocks that disagree a little; a renewal every third of it keeps a healthy run
   * well clear of it. With the data folder held by this process alone (exclusive) nobody else can run
   * the plan, so only a taken lease stops it.
   */
  private fenced(hold: Hold): TenantDirectory {
    return aroundCalls(this.directory, (call) => {
      const stop = this.stopOf(hold);
      if (stop) throw stop;
      return call();
    });
  }

  /** Why a run may no longer call the tenant, if it may not (see fenced). */
  private stopOf(hold: Hold): LeaseLost | undefined {
    if (hold.stop === 'ended') return new LeaseLost('ended', 'this run of the plan has ended (a step given up after the step timeout): no further tenant call');
    if (hold.stop === 'taken') return new LeaseLost('taken', 'the lease on this plan was taken over by another instance: this run makes no further tenant call');
    if (!this.options.exclusive && this.now().getTime() >= hold.until - this.leaseMs / 6) {
      return new LeaseLost('ranOut', 'the lease on this plan ran out unrenewed (its store out of reach, or this process stalled): this run makes no further tenant call and looks again later');
    }
    return undefined;
  }

  /**
   * The run stops where it is and records nothing: the plan is another runner's now, or will be taken
   * again, by this runner too, once its lease has run out for everyone.
   */
  private leaseLost(id: string, error: LeaseLost, fault?: unknown): Promise<Plan | undefined> {
    if (error.why !== 'ended') this.options.onLeaseLost?.({ planId: id, owner: this.owner, why: error.why, message: error.message, ...(fault !== undefined ? { fault } : {}) });
    if (error.why === 'ranOut') this.schedule(id, Math.max(this.pollMs, this.leaseMs / 6));
    return this.store.plan(id);
  }

  /**
   * The outcome could not be recorded (disk full…): the store still shows the plan as it was, so the
   * step will be observed and recorded again. The run stops and is tried again later with back-off;
   * a restart resumes it too (issue 9 item 5).
   */
  private async storeFailed(id: string, error: unknown): Promise<Plan | undefined> {
    const retries = (this.storeFaults.get(id)?.retries ?? 0) + 1;
    this.storeFaults.set(id, { error, retries });
    this.options.onFault?.(error, id);
    this.schedule(id, Math.min(MAX_STORE_RETRY_MS, Math.max(this.pollMs, 1_000) * 2 ** Math.min(retries - 1, 6)));
    return this.store.plan(id);
  }

  /**
   * Takes the plan's lease: running or waiting, and nobody else's live lease on it. Every run starts
   * here, whatever started it (Confirm, approval, Retry, resume, a sweep), so this is where a plan
   * without the approval it needs is caught and held back: no step of it runs.
   */
  private async claim(id: string): Promise<Plan | undefined> {
    const at = this.now();
    return this.store.transact(async (tx) => {
      const plan = await tx.plan(id);
      if (!plan || !isActive(plan.status)) return undefined;
      const lease = plan.lease;
      if (lease && lease.owner !== this.owner && Date.parse(lease.until) > at.getTime() && !this.options.exclusive) return undefined;
      if (!(await this.mayRun(tx, plan))) {
        await holdForApproval(tx, plan, SWITCHBOARD, at);
        return undefined;
      }
      const running: Plan = { ...plan, status: 'running', lease: this.lease(at) };
      delete running.held;
      const claimed = tx.putPlan(running, at.toISOString());
      await followPlan(tx, claimed, plan.status, at);
      return claimed;
    });
  }

  private lease(at: Date): Plan['lease'] {
    return { owner: this.owner, until: new Date(at.getTime() + this.leaseMs).toISOString() };
  }

  /** Changes the plan under our lease (renewed); refuses if another runner took it over. */
  private async save(plan: Plan, change: (plan: Plan) => void, also?: (tx: WorkflowTx, saved: Plan, before: Plan) => Promise<void>): Promise<Plan> {
    const at = this.now();
    return this.store.transact(async (tx) => {
      const current = await tx.plan(plan.id);
      if (!current) throw new LeaseLost('ended', 'the plan is gone');
      if (current.lease?.owner !== this.owner) throw new LeaseLost('taken', 'the plan was taken over by another instance before this run could record its outcome');
      const next = structuredClone(current);
      change(next);
      const saved = tx.putPlan(next, at.toISOString());
      await also?.(tx, saved, current);
      return saved;
    });
  }

  /** Persists one step's outcome (and the plan status it implies), audits it and lets the request follow. */
  private async record(plan: Plan, index: number, outcome: StepOutcome, interrupted = false): Promise<Plan> {
    const at = this.now();
    const before = plan.steps[index]!;
    const kind = before.step.kind;
    const waits = (before.state.waits ?? 0) + (outcome.status === 'waiting' ? 1 : 0);
    const saved = await this.save(
      plan,
      (p) => {
        const slot = p.steps[index]!;
        if (outcome.status === 'done') {
          slot.state = { status: 'done', finishedAt: at.toISOString() };
          if (outcome.accountId) p.account = { ...p.account, id: outcome.accountId };
          return;
        }
        const operationId = ('operationId' in outcome ? outcome.operationId : undefined) ?? slot.state.operationId;
        // A step that waits or failed may already have made its change (started before a crash, or a
        // call of it failed): remembered through waits and Retry, so that it is audited when found done.
        const mayHaveActed = outcome.mayHaveActed ? 'afterFailedCall' : interrupted ? 'afterRestart' : slot.state.mayHaveActed;
        slot.state = {
          status: outcome.status,
          note: outcome.note,
          ...(operationId ? { operationId } : {}),
          ...(waits ? { waits } : {}),
          ...(slot.state.startedAt ? { startedAt: slot.state.startedAt } : {}),
          ...(mayHaveActed ? { mayHaveActed } : {}),
        };
        p.status = outcome.status;
        // A waiting or failed plan is nobody's until it runs again (another instance may pick it up).
        delete p.lease;
        if (outcome.status === 'waiting') p.nextRunAt = new Date(at.getTime() + this.delay(waits)).toISOString();
      },
      async (tx, saved, current) => {
        // A step that started a tenant operation earlier acted then, even when it only verifies now;
        // one found done after a crash acted in the run that stopped (write-ahead startedAt); one that
        // waited with its change on the way, or was found done after a failed call, made its change.
        const actedBefore = before.state.operationId !== undefined || interrupted || before.state.mayHaveActed !== undefined;
        const confirmed = outcome.status === 'done' && outcome.mayHaveActed ? 'afterFailedCall' : (before.state.mayHaveActed ?? 'afterRestart');
        // The account the step acted on: the plan's, or another one it names (replacing a broken account).
        const target = stepAccount(before.step, plan).userPrincipalName;
        if (outcome.status === 'done' && (outcome.acted || actedBefore || outcome.mayHaveActed)) {
          tx.audit({
            actor: plan.requestedBy,
            action: AUDIT_ACTION[kind],
            target,
            outcome: 'succeeded',
            requestId: plan.id,
            detail: { ...stepDetail(before.step), ...(outcome.acted ? {} : confirmed === 'afterFailedCall' ? { confirmedAfterFailedCall: true } : { confirmedAfterRestart: true }) },
          });
        } else if (outcome.status === 'failed') {
          tx.audit({ actor: plan.requestedBy, action: AUDIT_ACTION[kind], target, outcome: 'failed', reason: outcome.note.reason, requestId: plan.id, detail: { ...stepDetail(before.step), ...reasonDetail(outcome.note.params) } });
        }
        await followPlan(tx, saved, current.status, at);
      },
    );
    if (saved.status === 'waiting') this.schedule(plan.id, this.delay(waits));
    return saved;
  }

  private async finish(plan: Plan): Promise<Plan> {
    const at = this.now();
    return this.save(
      plan,
      (p) => {
        p.status = 'done';
        delete p.lease;
      },
      async (tx, saved, current) => {
        tx.audit(planAudit(saved, plan.requestedBy, `plan.${plan.kind}`, 'succeeded'));
        await followPlan(tx, saved, current.status, at);
      },
    );
  }

  /** Graceful stop mid-plan: the plan stays running, without a lease, for whoever runs next. */
  private async release(plan: Plan): Promise<Plan> {
    return this.save(plan, (p) => void delete p.lease);
  }

  private async withinBudget<T>(kind: string, work: Promise<T>): Promise<T> {
    const ms = this.options.stepTimeoutMs ?? 600_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StepTimeoutError(kind, ms)), ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      // The abandoned call may still fail later: that is no unhandled rejection.
      work.catch(() => undefined);
    }
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
      this.kick(id);
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.set(id, timer);
  }
}

export function planAudit(plan: Plan, actor: Actor, action: string, outcome: 'requested' | 'succeeded' | 'failed' | 'refused') {
  return { actor: { aadObjectId: actor.aadObjectId, name: actor.name }, action, target: plan.account.userPrincipalName, outcome, requestId: plan.id, detail: { status: plan.status } };
}

/**
 * Holds back a plan that may not run: the approval policy names it and no approval is on record (the
 * policy changed while it ran or failed, files from an older version, a hand edit). It goes back to
 * awaiting confirmation with the reason its card shows, and nothing more of it runs; Confirm sends it
 * to the approvers, and an approval lets it carry on where it stopped (steps are idempotent: done
 * ones are skipped, a failed one is tried again, a tenant operation in flight is looked at again).
 */
export async function holdForApproval(tx: WorkflowTx, plan: Plan, actor: Actor, at: Date): Promise<Plan> {
  const next: Plan = {
    ...plan,
    status: 'awaitingConfirmation',
    needsApproval: true,
    held: { reason: 'PLAN_HELD_FOR_APPROVAL', params: {}, at: at.toISOString() },
    steps: plan.steps.map((s) => ({ ...s, state: reopened(s.state) })),
  };
  delete next.lease;
  delete next.nextRunAt;
  const held = tx.putPlan(next, at.toISOString());
  tx.audit(planAudit(held, actor, 'plan.held', 'refused'));
  await followPlan(tx, held, plan.status, at);
  return held;
}

/**
 * What the admin is told about a fault: its kind only (HTTP status, network code, time-out), never
 * the error's own text, which may carry internals (ARCHITECTURE.md "Never echo internal error text").
 */
function faultSummary(error: unknown): string {
  if (error instanceof StepTimeoutError) return error.message;
  const record = error && typeof error === 'object' ? (error as { statusCode?: unknown; status?: unknown; code?: unknown }) : {};
  const status = typeof record.statusCode === 'number' ? record.statusCode : typeof record.status === 'number' ? record.status : undefined;
  if (status !== undefined) return `HTTP ${status}`;
  if (typeof record.code === 'string' && /^[A-Z_]{3,32}$/.test(record.code)) return record.code;
  return 'no answer';
}

function stepDetail(step: Step): Record<string, string> {
  const detail: Record<string, string> = {};
  for (const [key, value] of Object.entries(step)) if (key !== 'kind' && typeof value === 'string') detail[key] = value;
  return detail;
}
