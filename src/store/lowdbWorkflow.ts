import { access, constants } from 'node:fs/promises';
import { z } from 'zod';
import { CardCopySchema, OutboxMessageSchema, type CardCopy, type OutboxMessage } from '../approvals/copies';
import { ChangeRequestSchema, isFinalRequest, type ChangeRequest } from '../approvals/requests';
import { accountsOf, isActive, isFinished, PlanSchema, type Plan } from '../provisioning/plans';
import { AuditEntrySchema, type AuditEntry, type AuditLog, type NewAuditEntry } from './audit';
import { StoreUnavailableError } from './errors';
import { issuesOnOneLine } from './issues';
import { load } from './journal/load';
import { JournaledStore } from './journal/store';
import type { DocumentShape, Json } from './journal/shape';
import { KeyedLock } from './keyedLock';
import { migrateLegacyStores, type LegacyFiles } from './legacy';
import { Quarantine, type QuarantineListener } from './quarantine';
import { refusalFor, type StoreSubject } from './storeFiles';
import type { WorkflowStore, WorkflowTx } from './workflow';

export interface WorkflowDocument {
  schemaVersion: 2;
  plans: Record<string, Plan>;
  requests: Record<string, ChangeRequest>;
  copies: Record<string, CardCopy>;
  outbox: Record<string, OutboxMessage>;
  /**
   * Audit entries committed with their change and not yet appended to the audit log, by id; `n` keeps
   * their commit order.
   */
  auditQueue: Record<string, { n: number; entry: AuditEntry }>;
}

const emptyDocument = (): WorkflowDocument => ({ schemaVersion: 2, plans: {}, requests: {}, copies: {}, outbox: {}, auditQueue: {} });

/**
 * What the files hold now, read beside the process that has the store open (a test watching a bot
 * child, a diagnostic): the snapshot alone is behind by whatever the journal holds since the last
 * compaction. Reads only; records that do not parse are left out.
 */
export async function readWorkflowFiles(file: string): Promise<WorkflowDocument> {
  return (await load(file, workflowShape, () => emptyDocument() as unknown as Json)).doc as unknown as WorkflowDocument;
}

const QueuedAuditSchema = z.object({ n: z.number().int().nonnegative(), entry: AuditEntrySchema });

const COLLECTIONS = {
  plans: { schema: PlanSchema, key: (v: Plan) => v.id },
  requests: { schema: ChangeRequestSchema, key: (v: ChangeRequest) => v.id },
  copies: { schema: CardCopySchema, key: (v: CardCopy) => v.id },
  outbox: { schema: OutboxMessageSchema, key: (v: OutboxMessage) => v.id },
  auditQueue: { schema: QueuedAuditSchema, key: (v: z.infer<typeof QueuedAuditSchema>) => v.entry.id },
} as const;

/** The parts beside the collections; `audit` is the queue as a file of this version's first days wrote it. */
const PartsSchema = z.object({ schemaVersion: z.literal(2).default(2), audit: z.array(AuditEntrySchema).optional() });

/**
 * How the journaled store checks what it reads back: each plan, request, copy, message and queued
 * entry on its own (a bad one is quarantined, issue 9 item 11); the small parts together.
 */
const workflowShape: DocumentShape = {
  collections: Object.keys(COLLECTIONS),
  entry(collection, key, value) {
    if (!Object.hasOwn(COLLECTIONS, collection)) return { ok: false, reason: `${collection} is not a collection of the workflow store` };
    const { schema, key: keyOf } = COLLECTIONS[collection as keyof typeof COLLECTIONS];
    const parsed = (schema as z.ZodType).safeParse(value);
    if (!parsed.success) return { ok: false, reason: issuesOnOneLine(parsed.error, { max: 3 }) };
    return (keyOf as (v: unknown) => string)(parsed.data) === key ? { ok: true, value: parsed.data } : { ok: false, reason: 'key does not match the record it holds' };
  },
  part(name, value) {
    const schema = (PartsSchema.shape as Record<string, z.ZodType | undefined>)[name];
    if (!schema) return { ok: false, reason: `${name} is not a part of the workflow store` };
    const parsed = schema.safeParse(value);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: parsed.error.issues[0]?.message ?? 'invalid' };
  },
  parts(value) {
    const parsed = PartsSchema.safeParse(value);
    return parsed.success ? { ok: true, value: parsed.data as Json } : { ok: false, reason: parsed.error.issues[0]?.message ?? 'invalid' };
  },
};

export interface LowdbWorkflowOptions {
  audit: AuditLog;
  /** Files of the former layout (plans.json, requests.json), migrated once when found. */
  legacy?: LegacyFiles;
  onQuarantine?: QuarantineListener;
  /** Called when committed audit entries could not be appended yet (they stay queued and are retried). */
  onAuditDelay?: (error: unknown) => void;
  /** Why the data folder counts as used before (storeFiles.ts previousUse): an empty workflow.json is then refused. */
  usedBefore?: string;
}

const WORKFLOW_FILE: StoreSubject = {
  label: 'workflow store',
  noun: 'workflow store',
  loses: 'every plan, pending request, card copy and queued message',
  startsOver: 'with no plans or requests (the audit log keeps their history)',
};

/** How many lines from the end of the audit log are checked for entries a crash may have left queued. */
const RECOVERY_SCAN_LINES = 20_000;
const AUDIT_RETRY_MS = 5_000;

/** Own-key lookup: record keys come from stored data and card payloads. */
function own<T>(collection: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(collection, key) ? collection[key] : undefined;
}

/** A write the disk refused becomes "the store is unavailable": the caller says nothing was done. */
function unavailable(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? new StoreUnavailableError('workflow store', error) : error;
}

/**
 * The workflow store in one file (`workflow.json`) kept as a snapshot plus an append-only journal
 * (src/store/journal): plans, requests, card copies, the outbox and the queue of committed audit
 * entries. A commit appends the changed records only — not the whole document, which holds every
 * plan kept for the retention period — and resolves once fdatasync'ed (group commit). A transaction
 * holds an in-process lock while it reads and decides, then applies its writes in one synchronous
 * step. Each record is checked when the file is read; a bad one is quarantined.
 */
export class LowdbWorkflowStore implements WorkflowStore {
  private lock: Promise<void> = Promise.resolve();
  /** Bumped when a failed write took changes back out of the document. */
  private epoch = 0;
  /** After a failed write, appended audit entries may be queued again: the next drain checks the log first. */
  private auditMayRepeat = false;
  private auditRetry: NodeJS.Timeout | undefined;
  private auditChain: Promise<void> = Promise.resolve();
  private auditCounter = 0;
  /** Entries handed to the audit log and not yet taken off the queue. */
  private readonly appending = new Set<string>();
  private readonly dropping = new Set<Promise<void>>();
  /** An append failed: later entries wait for the drain, so none overtakes an earlier one. */
  private auditBlocked = false;
  private closed = false;
  private readonly commitListeners: (() => void)[] = [];
  private readonly locks = new KeyedLock();
  private readonly running = new Set<string>();
  /** Outbox claims live in memory: one process owns this file, and a restart starts without claims. */
  private readonly claims = new Map<string, { owner: string; until: number }>();
  /** Running and waiting plans by lower-case UPN, so "one change per account" does not scan every plan. */
  private active: Map<string, Set<string>> | undefined;

  private constructor(
    private readonly store: JournaledStore<WorkflowDocument>,
    private readonly options: LowdbWorkflowOptions,
  ) {
    this.auditCounter = Math.max(0, ...Object.values(store.data.auditQueue).map((q) => q.n));
  }

  static async open(file: string, options: LowdbWorkflowOptions): Promise<LowdbWorkflowStore> {
    let workflow: LowdbWorkflowStore | undefined;
    const store = await JournaledStore.open<WorkflowDocument>({
      file,
      shape: workflowShape,
      makeDefault: emptyDocument,
      onQuarantine: (item) =>
        options.onQuarantine?.({ file: item.source, collection: item.collection ?? item.part ?? '(document)', key: item.key ?? '', problems: item.reason.slice(0, 500) }),
      onRevert: () => {
        if (workflow) {
          workflow.epoch += 1;
          workflow.auditMayRepeat = true;
          workflow.active = undefined;
        }
      },
      ...(options.usedBefore ? { usedBefore: options.usedBefore } : {}),
    }).catch((error: unknown) => {
      throw refusalFor(error, WORKFLOW_FILE);
    });
    try {
      const quarantine = new Quarantine(file, options.onQuarantine);
      const document = emptyDocument();
      const retireLegacy = options.legacy ? await migrateLegacyStores(options.legacy, document, quarantine) : async () => undefined;
      // A queue written as one array by this version's first days, and the legacy files' records.
      const earlier = (store.data as WorkflowDocument & { audit?: AuditEntry[] }).audit ?? [];
      await store.update((data) => {
        for (const collection of ['plans', 'requests', 'copies', 'outbox'] as const) {
          data[collection] ??= {};
          for (const [id, value] of Object.entries(document[collection])) if (!Object.hasOwn(data[collection], id)) (data[collection] as Record<string, unknown>)[id] = value;
        }
        data.auditQueue ??= {};
        let n = Math.max(0, ...Object.values(data.auditQueue).map((q) => q.n));
        for (const entry of earlier) data.auditQueue[entry.id] = { n: ++n, entry };
        delete (data as WorkflowDocument & { audit?: AuditEntry[] }).audit;
      });
      await retireLegacy();
      workflow = new LowdbWorkflowStore(store, options);
      await workflow.drainAudit(true);
      return workflow;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  // --- reads (committed state) ------------------------------------------------------------------
  // Each read first waits for the writes in flight: it sees only what is durable (settled()).

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

  async nextOutboxAt(after?: Date): Promise<Date | undefined> {
    await this.store.settled();
    const from = after?.toISOString() ?? '';
    let next: string | undefined;
    for (const m of Object.values(this.store.data.outbox)) if (m.status === 'pending' && m.nextAttemptAt > from && (next === undefined || m.nextAttemptAt < next)) next = m.nextAttemptAt;
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
      const committed = this.store.update((data) => tx.applyTo(data, () => ++this.auditCounter));
      release();
      released = true;
      await committed.catch((error: unknown) => {
        throw unavailable(error);
      });
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
      // A message still to deliver keeps its plan (and request) until it went out or was given up.
      const undelivered = new Set(Object.values(data.outbox).filter((m) => m.status === 'pending').map((m) => m.planId));
      for (const plan of Object.values(data.plans)) {
        if (!isFinished(plan.status) || plan.updatedAt >= cutoff || undelivered.has(plan.id)) continue;
        const request = own(data.requests, plan.id);
        if (request && !isFinalRequest(request.status)) continue;
        tx.deletePlan(plan.id);
        removed += 1;
      }
      for (const request of Object.values(data.requests)) {
        if (!own(data.plans, request.id) && isFinalRequest(request.status) && request.createdAt < cutoff && !undelivered.has(request.id)) tx.deletePlan(request.id);
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
    await this.drainAudit(this.auditMayRepeat).catch(() => undefined);
    await this.store.close();
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      await access(this.store.file.replace(/[^/\\]+$/, ''), constants.W_OK);
    } catch {
      return { ok: false, detail: 'the data folder is not writable' };
    }
    if (this.store.failure) return { ok: false, detail: 'the last write failed and could not be cut off yet' };
    const queued = Object.keys(this.store.data.auditQueue).length;
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
   * Hands the newly committed entries to the audit log at once, in commit order (the log appends in
   * call order), so that whoever's transaction just committed finds them there; they leave the queue
   * once appended. When an append failed, or a failed write may have put appended entries back in the
   * queue, everything queued goes through one drain instead, which checks the log first.
   */
  private appendAudit(): void {
    if (this.auditMayRepeat || this.auditBlocked) {
      this.scheduleDrain();
      return;
    }
    const fresh = Object.values(this.store.data.auditQueue)
      .filter((q) => !this.appending.has(q.entry.id))
      .sort((a, b) => a.n - b.n)
      .map((q) => q.entry);
    if (fresh.length === 0) return;
    for (const entry of fresh) this.appending.add(entry.id);
    this.options.audit.appendEntries(fresh).then(
      () => this.dropQueued(fresh),
      (error: unknown) => {
        for (const entry of fresh) this.appending.delete(entry.id);
        this.auditBlocked = true;
        this.options.onAuditDelay?.(error);
        this.scheduleAuditRetry();
      },
    );
  }

  /** Takes appended entries off the queue (a small journal record); a failed write is caught by auditMayRepeat. */
  private dropQueued(entries: readonly AuditEntry[]): Promise<void> {
    const dropping: Promise<void> = this.store
      .update((data) => {
        for (const entry of entries) delete data.auditQueue[entry.id];
      })
      .catch(() => undefined)
      .finally(() => {
        for (const entry of entries) this.appending.delete(entry.id);
        this.dropping.delete(dropping);
      });
    this.dropping.add(dropping);
    return dropping;
  }

  private scheduleDrain(): void {
    this.auditChain = this.auditChain
      .then(() => this.drainAudit(false))
      .then(() => {
        this.auditBlocked = false;
      })
      .catch((error: unknown) => {
        this.options.onAuditDelay?.(error);
        this.scheduleAuditRetry();
      });
  }

  private scheduleAuditRetry(): void {
    if (this.auditRetry || this.closed) return;
    this.auditRetry = setTimeout(() => {
      this.auditRetry = undefined;
      this.scheduleDrain();
    }, AUDIT_RETRY_MS);
    this.auditRetry.unref();
  }

  /**
   * Appends everything still queued, in order. After a crash (`recovering`), or after a failed write
   * may have put appended entries back, entries already in the log are recognised by id and not
   * written twice.
   */
  private async drainAudit(recovering: boolean): Promise<void> {
    await Promise.all([...this.dropping]);
    const queued = Object.values(this.store.data.auditQueue)
      .filter((q) => !this.appending.has(q.entry.id))
      .sort((a, b) => a.n - b.n)
      .map((q) => q.entry);
    if (queued.length === 0) return;
    const check = recovering || this.auditMayRepeat;
    this.auditMayRepeat = false;
    const present = check ? await this.options.audit.recentIds(RECOVERY_SCAN_LINES + queued.length) : new Set<string>();
    const missing = queued.filter((e) => !present.has(e.id));
    for (const entry of queued) this.appending.add(entry.id);
    try {
      await this.options.audit.appendEntries(missing);
    } catch (error) {
      for (const entry of queued) this.appending.delete(entry.id);
      throw error;
    }
    await this.dropQueued(queued);
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
    const matches = (p: Plan | null | undefined): p is Plan =>
      !!p && p.id !== exceptPlanId && isActive(p.status) && (p.account.userPrincipalName.toLowerCase() === upn || accountsOf(p).includes(upn));
    // Looked at in place (no copy per plan): the store keeps every plan of the retention period.
    for (const pending of this.plans.values()) if (matches(pending)) return structuredClone(pending);
    for (const stored of Object.values(this.data.plans)) {
      if (this.plans.has(stored.id) || !matches(stored)) continue;
      return structuredClone(stored);
    }
    return undefined;
  }

  async pendingRequestsOn(userPrincipalName: string, exceptPlanId: string, at: Date): Promise<ChangeRequest[]> {
    const upn = userPrincipalName.toLowerCase();
    const matches = (r: ChangeRequest | undefined): r is ChangeRequest => {
      if (!r || r.id === exceptPlanId || r.status !== 'pending' || Date.parse(r.expiresAt) <= at.getTime()) return false;
      if (r.account.userPrincipalName.toLowerCase() === upn) return true;
      const plan = this.plans.has(r.id) ? this.plans.get(r.id) : own(this.data.plans, r.id);
      return !!plan && accountsOf(plan).includes(upn);
    };
    const found: ChangeRequest[] = [];
    for (const pending of this.requests.values()) if (matches(pending)) found.push(structuredClone(pending));
    for (const stored of Object.values(this.data.requests)) {
      if (this.requests.has(stored.id) || this.deletedRequests.has(stored.id) || !matches(stored)) continue;
      found.push(structuredClone(stored));
    }
    return found;
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
  applyTo(data: WorkflowDocument, nextAuditNumber: () => number): void {
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
    for (const entry of this.entries) data.auditQueue[entry.id] = { n: nextAuditNumber(), entry };
  }
}
