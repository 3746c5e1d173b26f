import { access, constants } from 'node:fs/promises';
import { z } from 'zod';
import { CardCopySchema, OutboxMessageSchema, type CardCopy, type OutboxMessage } from '../approvals/copies';
import { ChangeRequestSchema, isFinalRequest, type ChangeRequest } from '../approvals/requests';
import { isActive, PlanSchema, type Plan } from '../provisioning/plans';
import { AuditEntrySchema, type AuditEntry, type AuditLog, type NewAuditEntry } from './audit';
import { StoreUnavailableError } from './errors';
import { JsonFileStore } from './jsonFile';
import { KeyedLock } from './keyedLock';
import { migrateLegacyStores, type LegacyFiles } from './legacy';
import { Quarantine, type QuarantineListener } from './quarantine';
import type { WorkflowStore, WorkflowTx } from './workflow';

export interface WorkflowDocument {
  schemaVersion: 2;
  plans: Record<string, Plan>;
  requests: Record<string, ChangeRequest>;
  copies: Record<string, CardCopy>;
  outbox: Record<string, OutboxMessage>;
  /** Audit entries committed with their change and not yet appended to the audit log. */
  audit: AuditEntry[];
}

const emptyDocument = (): WorkflowDocument => ({ schemaVersion: 2, plans: {}, requests: {}, copies: {}, outbox: {}, audit: [] });

const DocumentShape = z.object({
  schemaVersion: z.literal(2).default(2),
  plans: z.record(z.string(), z.unknown()).default({}),
  requests: z.record(z.string(), z.unknown()).default({}),
  copies: z.record(z.string(), z.unknown()).default({}),
  outbox: z.record(z.string(), z.unknown()).default({}),
  audit: z.array(z.unknown()).default([]),
});

export interface LowdbWorkflowOptions {
  audit: AuditLog;
  /** Files of the former layout (plans.json, requests.json), migrated once when found. */
  legacy?: LegacyFiles;
  onQuarantine?: QuarantineListener;
  /** Called when committed audit entries could not be appended yet (they stay queued and are retried). */
  onAuditDelay?: (error: unknown) => void;
}

/** How many lines from the end of the audit log are checked for entries a crash may have left queued. */
const RECOVERY_SCAN_LINES = 20_000;
const AUDIT_RETRY_MS = 5_000;

/** Own-key lookup: record keys come from stored data and card payloads. */
function own<T>(collection: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(collection, key) ? collection[key] : undefined;
}

/**
 * The workflow store in one lowdb file (`workflow.json`): plans, requests, card copies, the outbox and
 * the queue of committed audit entries. A transaction holds an in-process lock while it reads and
 * decides, applies its writes to the document in one synchronous step, and resolves once the group
 * commit that carries them is durable. Each record is parsed on open; a bad one is quarantined.
 */
export class LowdbWorkflowStore implements WorkflowStore {
  private lock: Promise<void> = Promise.resolve();
  /** Bumped when a failed write put the document back to the disk's version. */
  private epoch = 0;
  private auditRetry: NodeJS.Timeout | undefined;
  private auditChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly commitListeners: (() => void)[] = [];
  private readonly locks = new KeyedLock();
  private readonly running = new Set<string>();
  /** Outbox claims live in memory: one process owns this file, and a restart starts without claims. */
  private readonly claims = new Map<string, { owner: string; until: number }>();

  private constructor(
    private readonly store: JsonFileStore<WorkflowDocument>,
    private readonly options: LowdbWorkflowOptions,
  ) {
    store.onRevert(() => (this.epoch += 1));
  }

  static async open(file: string, options: LowdbWorkflowOptions): Promise<LowdbWorkflowStore> {
    const store = await JsonFileStore.open<WorkflowDocument>(file, emptyDocument);
    const quarantine = new Quarantine(file, options.onQuarantine);
    const shape = DocumentShape.safeParse(store.data);
    if (!shape.success) {
      await store.close();
      throw new Error(`workflow store: ${file} is not a Switchboard workflow file; move it away or delete it`);
    }
    const raw = shape.data;
    const document: WorkflowDocument = {
      schemaVersion: 2,
      plans: await quarantine.sift('plans', raw.plans, PlanSchema, (p) => p.id),
      requests: await quarantine.sift('requests', raw.requests, ChangeRequestSchema, (r) => r.id),
      copies: await quarantine.sift('copies', raw.copies, CardCopySchema, (c) => c.id),
      outbox: await quarantine.sift('outbox', raw.outbox, OutboxMessageSchema, (m) => m.id),
      audit: [],
    };
    for (const [index, entry] of raw.audit.entries()) {
      const parsed = AuditEntrySchema.safeParse(entry);
      if (parsed.success) document.audit.push(parsed.data);
      else await quarantine.setAside('audit', String(index), parsed.error.issues[0]?.message ?? 'invalid', entry);
    }
    const retireLegacy = options.legacy ? await migrateLegacyStores(options.legacy, document, quarantine) : async () => undefined;
    await store.update((data) => Object.assign(data, document));
    await retireLegacy();
    const workflow = new LowdbWorkflowStore(store, options);
    await workflow.drainAudit(true);
    return workflow;
  }

  // --- reads (committed state) ------------------------------------------------------------------
  // Each read first waits for the writes in flight: it sees only what is durable (jsonFile.settled).

  async plan(id: string): Promise<Plan | undefined> {
    await this.store.settled();
    const found = own(this.store.data.plans, id);
    return found ? structuredClone(found) : undefined;
  }

  async request(id: string): Promise<ChangeRequest | undefined> {
    await this.store.settled();
    const found = own(this.store.data.requests, id);
    return found ? structuredClone(found) : undefined;
  }

  async plans(statuses?: readonly Plan['status'][]): Promise<Plan[]> {
    await this.store.settled();
    return Object.values(this.store.data.plans)
      .filter((p) => !statuses || statuses.includes(p.status))
      .map((p) => structuredClone(p));
  }

  async requests(statuses?: readonly ChangeRequest['status'][]): Promise<ChangeRequest[]> {
    await this.store.settled();
    return Object.values(this.store.data.requests)
      .filter((r) => !statuses || statuses.includes(r.status))
      .map((r) => structuredClone(r));
  }

  async copiesOf(planId: string): Promise<CardCopy[]> {
    await this.store.settled();
    return copiesOf(this.store.data, planId).map((c) => structuredClone(c));
  }

  async copy(id: string): Promise<CardCopy | undefined> {
    await this.store.settled();
    const found = own(this.store.data.copies, id);
    return found ? structuredClone(found) : undefined;
  }

  async outboxOf(planId: string): Promise<OutboxMessage[]> {
    await this.store.settled();
    return Object.values(this.store.data.outbox)
      .filter((m) => m.planId === planId)
      .map((m) => structuredClone(m));
  }

  async dueOutbox(at: Date, limit: number): Promise<OutboxMessage[]> {
    await this.store.settled();
    const now = at.toISOString();
    return Object.values(this.store.data.outbox)
      .filter((m) => m.status === 'pending' && m.nextAttemptAt <= now)
      .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt) || a.createdAt.localeCompare(b.createdAt))
      .slice(0, limit)
      .map((m) => structuredClone(m));
  }

  async claimOutbox(owner: string, at: Date, limit: number, holdMs: number): Promise<OutboxMessage[]> {
    const now = at.getTime();
    const due = (await this.dueOutbox(at, limit * 4)).filter((m) => {
      const claim = this.claims.get(m.id);
      return !claim || claim.owner === owner || claim.until <= now;
    });
    const taken = due.slice(0, limit);
    for (const m of taken) this.claims.set(m.id, { owner, until: now + holdMs });
    for (const [id, claim] of this.claims) if (claim.until <= now) this.claims.delete(id);
    return taken;
  }

  withLock<R>(key: string, work: () => Promise<R>): Promise<R> {
    return this.locks.with(key, work);
  }

  async exclusively(name: string, work: () => Promise<void>): Promise<boolean> {
    if (this.running.has(name)) return false;
    this.running.add(name);
    try {
      await work();
      return true;
    } finally {
      this.running.delete(name);
    }
  }

  async nextOutboxAt(): Promise<Date | undefined> {
    await this.store.settled();
    let next: string | undefined;
    for (const m of Object.values(this.store.data.outbox)) if (m.status === 'pending' && (next === undefined || m.nextAttemptAt < next)) next = m.nextAttemptAt;
    return next === undefined ? undefined : new Date(next);
  }

  async counts(): Promise<{ plans: Partial<Record<Plan['status'], number>>; pendingRequests: number }> {
    await this.store.settled();
    const plans: Partial<Record<Plan['status'], number>> = {};
    for (const p of Object.values(this.store.data.plans)) plans[p.status] = (plans[p.status] ?? 0) + 1;
    const pendingRequests = Object.values(this.store.data.requests).filter((r) => r.status === 'pending').length;
    return { plans, pendingRequests };
  }

  // --- transactions -----------------------------------------------------------------------------
  async transact<R>(work: (tx: WorkflowTx) => Promise<R> | R): Promise<R> {
    if (this.closed) throw new StoreUnavailableError('workflow store', new Error('closed'));
    const release = await this.acquire();
    let released = false;
    try {
      const epoch = this.epoch;
      const tx = new LowdbTx(this.store.data, (entry) => this.options.audit.entryOf(entry));
      const result = await work(tx);
      if (tx.isEmpty()) return result;
      // A failed write reverted the document while this transaction was deciding: it decided on
      // changes that are gone, so it must not apply.
      if (epoch !== this.epoch) throw new StoreUnavailableError('workflow store', new Error('an earlier write failed'));
      const audited = tx.auditEntries().length > 0;
      const committed = this.store.update((data) => tx.applyTo(data));
      release();
      released = true;
      await committed;
      if (audited) this.appendAudit();
      for (const listener of this.commitListeners) listener();
      return result;
    } finally {
      if (!released) release();
    }
  }

  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  async prune(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    return this.transact(async (tx) => {
      const data = this.store.data;
      let removed = 0;
      for (const plan of Object.values(data.plans)) {
        if (isActive(plan.status) || plan.updatedAt >= cutoff) continue;
        const request = own(data.requests, plan.id);
        if (request && !isFinalRequest(request.status)) continue;
        tx.deletePlan(plan.id);
        removed += 1;
      }
      for (const request of Object.values(data.requests)) {
        if (!own(data.plans, request.id) && isFinalRequest(request.status) && request.createdAt < cutoff) tx.deletePlan(request.id);
      }
      return removed;
    });
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.auditRetry) clearTimeout(this.auditRetry);
    await this.acquire().then((release) => release());
    await this.auditChain;
    await this.drainAudit(false).catch(() => undefined);
    await this.store.close();
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      await access(this.store.file.replace(/[^/\\]+$/, ''), constants.W_OK);
    } catch {
      return { ok: false, detail: 'the data folder is not writable' };
    }
    const queued = this.store.data.audit.length;
    return queued > 0 ? { ok: false, detail: `${queued} audit entries wait to be written` } : { ok: true, detail: 'writable' };
  }

  private acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.lock.then(() => release);
    this.lock = this.lock.then(() => next);
    return ready;
  }

  /**
   * Appends the committed entries to the audit log, in commit order: one drain at a time, each taking
   * everything still queued, so an entry that could not be written earlier is never overtaken by a
   * later one.
   */
  private appendAudit(): void {
    this.auditChain = this.auditChain
      .then(() => this.drainAudit(false))
      .catch((error: unknown) => {
        this.options.onAuditDelay?.(error);
        this.scheduleAuditRetry();
      });
  }

  private scheduleAuditRetry(): void {
    if (this.auditRetry || this.closed) return;
    this.auditRetry = setTimeout(() => {
      this.auditRetry = undefined;
      this.appendAudit();
    }, AUDIT_RETRY_MS);
    this.auditRetry.unref();
  }

  /**
   * Appends what is still queued. After a crash (`recovering`), entries already in the log are
   * recognised by id and not written twice.
   */
  private async drainAudit(recovering: boolean): Promise<void> {
    const queued = [...this.store.data.audit];
    if (queued.length === 0) return;
    const present = recovering ? await this.options.audit.recentIds(RECOVERY_SCAN_LINES + queued.length) : new Set<string>();
    const missing = queued.filter((e) => !present.has(e.id));
    await this.options.audit.appendEntries(missing);
    const ids = new Set(queued.map((e) => e.id));
    // The queue's shrinking rides along with the next write: if a crash loses it, the entries are
    // recognised in the log at start-up and not written twice.
    this.store.touch((data) => {
      data.audit = data.audit.filter((e) => !ids.has(e.id));
    });
  }
}

function copiesOf(data: WorkflowDocument, planId: string): CardCopy[] {
  return Object.values(data.copies).filter((c) => c.planId === planId);
}

/** A transaction's view: committed data plus its own writes, applied together on commit. */
class LowdbTx implements WorkflowTx {
  private readonly plans = new Map<string, Plan | null>();
  private readonly requests = new Map<string, ChangeRequest>();
  private readonly copies = new Map<string, CardCopy | null>();
  private readonly outbox = new Map<string, OutboxMessage>();
  private readonly entries: AuditEntry[] = [];

  constructor(
    private readonly data: WorkflowDocument,
    private readonly stamp: (entry: NewAuditEntry) => AuditEntry,
  ) {}

  async plan(id: string): Promise<Plan | undefined> {
    const pending = this.plans.get(id);
    if (pending === null) return undefined;
    const found = pending ?? own(this.data.plans, id);
    return found ? structuredClone(found) : undefined;
  }

  async request(id: string): Promise<ChangeRequest | undefined> {
    const found = this.requests.get(id) ?? own(this.data.requests, id);
    return found ? structuredClone(found) : undefined;
  }

  async activePlanOn(userPrincipalName: string, exceptPlanId: string): Promise<Plan | undefined> {
    const upn = userPrincipalName.toLowerCase();
    const ids = new Set([...Object.keys(this.data.plans), ...this.plans.keys()]);
    for (const id of ids) {
      if (id === exceptPlanId) continue;
      const plan = await this.plan(id);
      if (plan && isActive(plan.status) && plan.account.userPrincipalName.toLowerCase() === upn) return plan;
    }
    return undefined;
  }

  async copiesOf(planId: string): Promise<CardCopy[]> {
    const ids = new Set([...copiesOf(this.data, planId).map((c) => c.id), ...[...this.copies.values()].filter((c) => c?.planId === planId).map((c) => c!.id)]);
    const out: CardCopy[] = [];
    for (const id of ids) {
      const copy = await this.copy(id);
      if (copy) out.push(copy);
    }
    return out;
  }

  async copy(id: string): Promise<CardCopy | undefined> {
    const pending = this.copies.get(id);
    if (pending === null) return undefined;
    const found = pending ?? own(this.data.copies, id);
    return found ? structuredClone(found) : undefined;
  }

  async outboxOf(planId: string): Promise<OutboxMessage[]> {
    const byId = new Map(Object.values(this.data.outbox).filter((m) => m.planId === planId && !this.deletedMessages.has(m.id)).map((m) => [m.id, m]));
    for (const m of this.outbox.values()) if (m.planId === planId) byId.set(m.id, m);
    return [...byId.values()].map((m) => structuredClone(m));
  }

  putPlan(plan: Plan, at: string): Plan {
    const stored = structuredClone({ ...plan, version: plan.version + 1, updatedAt: at });
    this.plans.set(plan.id, stored);
    return structuredClone(stored);
  }

  putRequest(request: ChangeRequest): ChangeRequest {
    const stored = structuredClone({ ...request, version: request.version + 1 });
    this.requests.set(request.id, stored);
    return structuredClone(stored);
  }

  putCopy(copy: CardCopy): void {
    this.copies.set(copy.id, structuredClone(copy));
  }

  deleteCopy(id: string): void {
    this.copies.set(id, null);
  }

  putOutbox(message: OutboxMessage): void {
    this.outbox.set(message.id, structuredClone(message));
  }

  deleteOutbox(id: string): void {
    this.outbox.delete(id);
    this.deletedMessages.add(id);
  }

  audit(entry: NewAuditEntry): void {
    this.entries.push(this.stamp(entry));
  }

  deletePlan(id: string): void {
    this.plans.set(id, null);
    for (const copy of copiesOf(this.data, id)) this.copies.set(copy.id, null);
    this.deletedRequests.add(id);
    for (const m of Object.values(this.data.outbox)) if (m.planId === id) this.deletedMessages.add(m.id);
  }

  private readonly deletedRequests = new Set<string>();
  private readonly deletedMessages = new Set<string>();

  isEmpty(): boolean {
    return this.plans.size + this.requests.size + this.copies.size + this.outbox.size + this.entries.length + this.deletedRequests.size + this.deletedMessages.size === 0;
  }

  auditEntries(): AuditEntry[] {
    return this.entries;
  }

  /** Synchronous: the whole transaction lands in the document in one step. */
  applyTo(data: WorkflowDocument): void {
    for (const [id, plan] of this.plans) {
      if (plan) data.plans[id] = plan;
      else delete data.plans[id];
    }
    for (const [id, request] of this.requests) data.requests[id] = request;
    for (const id of this.deletedRequests) delete data.requests[id];
    for (const [id, copy] of this.copies) {
      if (copy) data.copies[id] = copy;
      else delete data.copies[id];
    }
    for (const id of this.deletedMessages) delete data.outbox[id];
    for (const [id, message] of this.outbox) data.outbox[id] = message;
    data.audit.push(...this.entries);
  }
}
