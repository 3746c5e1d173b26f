import type { PoolClient } from 'pg';
import { CardCopySchema, OutboxMessageSchema, type CardCopy, type OutboxMessage } from '../../approvals/copies';
import { ChangeRequestSchema, type ChangeRequest } from '../../approvals/requests';
import type { Logger } from '../../log/logger';
import { accountsOf, PlanSchema, type Plan } from '../../provisioning/plans';
import type { AuditEntry, NewAuditEntry } from '../audit';
import { issuesOnOneLine, type ParseIssues } from '../issues';
import type { WorkflowStore, WorkflowTx } from '../workflow';
import { insertAudit } from './audit';
import type { Database } from './database';

const OUTBOX_CHANNEL = 'switchboard_outbox';
const ACTIVE = ['running', 'waiting'];
/** Plans that will not change any more (plans.ts isFinished): the only ones retention may drop. */
const FINISHED = ['done', 'cancelled'];
const FINAL_REQUESTS = ['done', 'failed', 'rejected', 'cancelled', 'expired'];

/** A version check on write failed: PostgreSQL's own "serialization failure", so the transaction is run again. */
class WriteConflict extends Error {
  readonly code = '40001';
  constructor(what: string) {
    super(`${what} changed under this transaction`);
  }
}

interface Parsers {
  log: Logger;
}

function parse<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: ParseIssues } },
  doc: unknown,
  what: string,
  p: Parsers,
): T | undefined {
  const parsed = schema.safeParse(doc);
  if (parsed.success) return parsed.data;
  // This code writes only records of these schemas: a row that does not parse was edited by hand or
  // written by a newer version. It is skipped (and said, with why) rather than taking the instance down.
  p.log.error({ what, problems: issuesOnOneLine(parsed.error, { max: 3 }) }, 'PostgreSQL: a stored row does not parse; it is ignored');
  return undefined;
}

/** How long an outbox row that did not parse is set aside before it is read again (it may have been mended). */
const UNREADABLE_HELD_MS = 5 * 60_000;
/** How many rows past those it wants a claim reads, to set aside the unreadable ones among them. */
const CLAIM_LOOK_AHEAD = 100;
/**
 * Rounds of one claim at most: a claim sets aside at least 1,000 unreadable rows, in milliseconds,
 * so that passes 5 s apart get past 60,000 of them before the first are read again.
 */
const CLAIM_ROUNDS = 10;

/**
 * The workflow store on PostgreSQL, for several instances sharing one database. A transaction is a
 * database transaction: the rows it reads are locked (SELECT … FOR UPDATE), so a decision and the
 * change it depends on cannot interleave with another instance's; its writes are applied at commit
 * with a version check (UPDATE … WHERE version = n), and a conflict or a deadlock runs the whole
 * transaction again. Audit entries are inserted in the same transaction: one decision, one entry.
 */
export class PgWorkflowStore implements WorkflowStore {
  private readonly listeners: (() => void)[] = [];
  private listening: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly stamp: (entry: NewAuditEntry) => AuditEntry,
    readonly log: Logger,
  ) {}

  // --- reads (committed state) ------------------------------------------------------------------
  async plan(id: string): Promise<Plan | undefined> {
    const row = (await this.db.query<{ doc: unknown }>('SELECT doc FROM plans WHERE id = $1', [id])).rows[0];
    return row ? parse(PlanSchema, row.doc, `plan ${id}`, this) : undefined;
  }

  async request(id: string): Promise<ChangeRequest | undefined> {
    const row = (await this.db.query<{ doc: unknown }>('SELECT doc FROM requests WHERE id = $1', [id])).rows[0];
    return row ? parse(ChangeRequestSchema, row.doc, `request ${id}`, this) : undefined;
  }

  async plans(statuses?: readonly Plan['status'][]): Promise<Plan[]> {
    const rows = statuses
      ? (await this.db.query<{ doc: unknown }>('SELECT doc FROM plans WHERE status = ANY($1::text[]) ORDER BY updated_at', [statuses])).rows
      : (await this.db.query<{ doc: unknown }>('SELECT doc FROM plans ORDER BY updated_at')).rows;
    return rows.map((r) => parse(PlanSchema, r.doc, 'plan', this)).filter((p): p is Plan => p !== undefined);
  }

  async requests(statuses?: readonly ChangeRequest['status'][]): Promise<ChangeRequest[]> {
    const rows = statuses
      ? (await this.db.query<{ doc: unknown }>('SELECT doc FROM requests WHERE status = ANY($1::text[]) ORDER BY created_at', [statuses])).rows
      : (await this.db.query<{ doc: unknown }>('SELECT doc FROM requests ORDER BY created_at')).rows;
    return rows.map((r) => parse(ChangeRequestSchema, r.doc, 'request', this)).filter((r): r is ChangeRequest => r !== undefined);
  }

  async copiesOf(planId: string): Promise<CardCopy[]> {
    const rows = (await this.db.query<{ doc: unknown }>('SELECT doc FROM card_copies WHERE plan_id = $1 ORDER BY id', [planId])).rows;
    return rows.map((r) => parse(CardCopySchema, r.doc, 'card copy', this)).filter((c): c is CardCopy => c !== undefined);
  }

  async copy(id: string): Promise<CardCopy | undefined> {
    const row = (await this.db.query<{ doc: unknown }>('SELECT doc FROM card_copies WHERE id = $1', [id])).rows[0];
    return row ? parse(CardCopySchema, row.doc, `card copy ${id}`, this) : undefined;
  }

  async outboxOf(planId: string): Promise<OutboxMessage[]> {
    const rows = (await this.db.query<{ doc: unknown }>('SELECT doc FROM outbox WHERE plan_id = $1 ORDER BY id', [planId])).rows;
    return rows.map((r) => parse(OutboxMessageSchema, r.doc, 'outbox message', this)).filter((m): m is OutboxMessage => m !== undefined);
  }

  async dueOutbox(at: Date, limit: number): Promise<OutboxMessage[]> {
    const rows = (
      await this.db.query<{ doc: unknown }>(`SELECT doc FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2`, [at.toISOString(), limit])
    ).rows;
    return rows.map((r) => parse(OutboxMessageSchema, r.doc, 'outbox message', this)).filter((m): m is OutboxMessage => m !== undefined);
  }

  /**
   * FOR UPDATE SKIP LOCKED: two instances' workers never take the same message.
   *
   * A due row whose document does not parse is set aside: still pending, but held for
   * UNREADABLE_HELD_MS under a name no instance claims with, then read again in case it was mended
   * (an instance of a newer version, during a rolling update, reads it then). Left as it was, it
   * would come back at the head of every claim (it stays due, and an instance may claim its own rows
   * again), and enough such rows would fill every claim and stop all delivery. So each round looks
   * further ahead than it claims, sets aside what it cannot read and claims only what it can, and the
   * claim goes on past unreadable rows, a bounded number of rounds: what it set aside stays set
   * aside, and the next claim carries on. Setting aside never shortens a hold: a row edited while it
   * is being delivered is not handed to another instance before this one's hold is over.
   */
  async claimOutbox(owner: string, at: Date, limit: number, holdMs: number): Promise<OutboxMessage[]> {
    if (limit <= 0) return [];
    return this.db.transaction(async (client) => {
      const messages: OutboxMessage[] = [];
      const taken: string[] = [];
      for (let round = 0; round < CLAIM_ROUNDS && messages.length < limit; round++) {
        const looked = limit - messages.length + CLAIM_LOOK_AHEAD;
        const rows = (
          await client.query<{ id: string; doc: unknown }>(
            `SELECT id, doc FROM outbox
              WHERE status = 'pending' AND next_attempt_at <= $1
                AND (claimed_until IS NULL OR claimed_until <= $1 OR claimed_by = $2)
                AND id <> ALL($3::text[])
              ORDER BY next_attempt_at
              LIMIT $4
              FOR UPDATE SKIP LOCKED`,
            [at.toISOString(), owner, taken, looked],
          )
        ).rows;
        const claimed: string[] = [];
        const unreadable: string[] = [];
        for (const row of rows) {
          if (messages.length >= limit) break;
          const message = parse(OutboxMessageSchema, row.doc, `outbox message ${row.id}`, this);
          if (message) {
            messages.push(message);
            claimed.push(row.id);
          } else unreadable.push(row.id);
        }
        if (claimed.length > 0) {
          taken.push(...claimed);
          await client.query(`UPDATE outbox SET claimed_by = $2, claimed_until = $3::timestamptz + ($4::int * interval '1 millisecond') WHERE id = ANY($1::text[])`, [
            claimed,
            owner,
            at.toISOString(),
            holdMs,
          ]);
        }
        if (unreadable.length > 0) {
          await client.query(
            `UPDATE outbox SET claimed_by = $2, claimed_until = GREATEST(claimed_until, $3::timestamptz + ($4::int * interval '1 millisecond')) WHERE id = ANY($1::text[])`,
            [unreadable, `unreadable:${owner}`, at.toISOString(), UNREADABLE_HELD_MS],
          );
        }
        if (unreadable.length === 0 || rows.length < looked) break;
      }
      return messages.sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt));
    });
  }

  async nextOutboxAt(after?: Date): Promise<Date | undefined> {
    const row = after
      ? (await this.db.query<{ next: Date | null }>(`SELECT min(next_attempt_at) AS next FROM outbox WHERE status = 'pending' AND next_attempt_at > $1`, [after.toISOString()])).rows[0]
      : (await this.db.query<{ next: Date | null }>(`SELECT min(next_attempt_at) AS next FROM outbox WHERE status = 'pending'`)).rows[0];
    return row?.next ? new Date(row.next) : undefined;
  }

  async counts(): Promise<{ plans: Partial<Record<Plan['status'], number>>; pendingRequests: number }> {
    const plans: Partial<Record<Plan['status'], number>> = {};
    for (const row of (await this.db.query<{ status: Plan['status']; n: string }>('SELECT status, count(*) AS n FROM plans GROUP BY status')).rows) plans[row.status] = Number(row.n);
    const pending = (await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM requests WHERE status = 'pending'`)).rows[0];
    return { plans, pendingRequests: Number(pending?.n ?? 0) };
  }

  // --- transactions -----------------------------------------------------------------------------
  async transact<R>(work: (tx: WorkflowTx) => Promise<R> | R): Promise<R> {
    let notify = false;
    const result = await this.db.transaction(async (client) => {
      const tx = new PgTx(client, this.stamp, this);
      const value = await work(tx);
      notify = await tx.commit();
      return value;
    });
    // This instance's worker now; the others through NOTIFY, sent after the commit (Database.notify says
    // why not inside it) when a message was made due, and not waited for: a lost wake-up costs a poll.
    if (notify) void this.db.notify(OUTBOX_CHANNEL).catch((error: unknown) => this.log.debug({ err: error }, 'PostgreSQL: could not wake the other instances (they poll)'));
    for (const listener of this.listeners) listener();
    return result;
  }

  onCommit(listener: () => void): void {
    this.listeners.push(listener);
    // Commits on the other instances wake this one's worker too.
    this.listening ??= this.db.listen(OUTBOX_CHANNEL, () => {
      for (const l of this.listeners) l();
    }).catch((error: unknown) => this.log.warn({ err: error }, 'PostgreSQL: cannot listen for other instances (polling only)'));
  }

  withLock<R>(key: string, work: () => Promise<R>): Promise<R> {
    return this.db.withLock(`switchboard:${key}`, work);
  }

  exclusively(name: string, work: () => Promise<void>): Promise<boolean> {
    return this.db.tryExclusively(`switchboard:${name}`, work);
  }

  async prune(before: Date): Promise<number> {
    return this.db.transaction(async (client) => {
      // Only finished plans (never a failed one: it is parked, maybe half-applied, with Retry), whose
      // request is decided, and none with a message still to deliver.
      const ids = (
        await client.query<{ id: string }>(
          `SELECT p.id FROM plans p LEFT JOIN requests r ON r.id = p.id
            WHERE p.status = ANY($1::text[]) AND p.updated_at < $2 AND (r.id IS NULL OR r.status = ANY($3::text[]))
              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.plan_id = p.id AND o.status = 'pending')
            FOR UPDATE OF p`,
          [FINISHED, before.toISOString(), FINAL_REQUESTS],
        )
      ).rows.map((r) => r.id);
      const orphans = (
        await client.query<{ id: string }>(
          `SELECT r.id FROM requests r LEFT JOIN plans p ON p.id = r.id
            WHERE p.id IS NULL AND r.status = ANY($1::text[]) AND r.created_at < $2
              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.plan_id = r.id AND o.status = 'pending')`,
          [FINAL_REQUESTS, before.toISOString()],
        )
      ).rows.map((r) => r.id);
      const all = [...ids, ...orphans];
      if (all.length === 0) return 0;
      await client.query('DELETE FROM card_copies WHERE plan_id = ANY($1::text[])', [all]);
      await client.query('DELETE FROM outbox WHERE plan_id = ANY($1::text[])', [all]);
      await client.query('DELETE FROM requests WHERE id = ANY($1::text[])', [all]);
      await client.query('DELETE FROM plans WHERE id = ANY($1::text[])', [all]);
      return ids.length;
    });
  }

  async flush(): Promise<void> {
    // Every transaction is committed before it resolves.
  }

  async close(): Promise<void> {
    // The database belongs to the app, which closes it after every store.
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    return (await this.db.ping()) ? { ok: true, detail: 'PostgreSQL answers' } : { ok: false, detail: 'PostgreSQL does not answer' };
  }
}

/** A transaction's view: rows read are locked; writes are buffered and applied at commit with version checks. */
class PgTx implements WorkflowTx {
  private readonly plans = new Map<string, { plan: Plan | null; was: number | undefined }>();
  private readonly requests = new Map<string, { request: ChangeRequest; was: number | undefined }>();
  private readonly copies = new Map<string, CardCopy | null>();
  private readonly messages = new Map<string, OutboxMessage | null>();
  private readonly deletedPlans = new Set<string>();
  private readonly entries: AuditEntry[] = [];
  /** Versions as read, for the check on write. */
  private readonly readVersions = new Map<string, number>();

  constructor(
    private readonly client: PoolClient,
    private readonly stamp: (entry: NewAuditEntry) => AuditEntry,
    private readonly parsers: Parsers,
  ) {}

  async plan(id: string): Promise<Plan | undefined> {
    const pending = this.plans.get(id);
    if (pending) return pending.plan ? structuredClone(pending.plan) : undefined;
    const row = (await this.client.query<{ doc: unknown }>('SELECT doc FROM plans WHERE id = $1 FOR UPDATE', [id])).rows[0];
    const plan = row ? parse(PlanSchema, row.doc, `plan ${id}`, this.parsers) : undefined;
    if (plan) this.readVersions.set(`plan:${id}`, plan.version);
    return plan;
  }

  async request(id: string): Promise<ChangeRequest | undefined> {
    const pending = this.requests.get(id);
    if (pending) return structuredClone(pending.request);
    if (this.deletedPlans.has(id)) return undefined;
    const row = (await this.client.query<{ doc: unknown }>('SELECT doc FROM requests WHERE id = $1 FOR UPDATE', [id])).rows[0];
    const request = row ? parse(ChangeRequestSchema, row.doc, `request ${id}`, this.parsers) : undefined;
    if (request) this.readVersions.set(`request:${id}`, request.version);
    return request;
  }

  /**
   * An advisory lock per account serializes every "is another change running on this account?" check
   * with the start that follows it, across instances: two plans on one account never both start.
   */
  async activePlanOn(userPrincipalName: string, exceptPlanId: string): Promise<Plan | undefined> {
    const upn = userPrincipalName.toLowerCase();
    await this.client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`switchboard:account:${upn}`]);
    for (const { plan } of this.plans.values()) {
      if (plan && plan.id !== exceptPlanId && ACTIVE.includes(plan.status) && accountsOf(plan).includes(upn)) return structuredClone(plan);
    }
    // Running and waiting plans are few: the status index finds them. A plan also acts on the accounts
    // its steps name: only a replacement's steps name one (src/provisioning/doctorFixes.ts), so only its
    // steps are read.
    const rows = (
      await this.client.query<{ doc: unknown }>(
        `SELECT doc FROM plans WHERE status = ANY($2::text[]) AND id <> $3
           AND (upn_lower = $1 OR (doc->>'kind' = 'replaceAccount'
                AND EXISTS (SELECT 1 FROM jsonb_array_elements(doc->'steps') s WHERE lower(s->'step'->'of'->>'userPrincipalName') = $1)))`,
        [upn, ACTIVE, exceptPlanId],
      )
    ).rows;
    for (const row of rows) {
      const plan = parse(PlanSchema, row.doc, 'plan', this.parsers);
      // A plan this transaction moved off "active" does not count.
      if (plan && !(this.plans.get(plan.id)?.plan && !ACTIVE.includes(this.plans.get(plan.id)!.plan!.status))) return plan;
    }
    return undefined;
  }

  async pendingRequestsOn(userPrincipalName: string, exceptPlanId: string, at: Date): Promise<ChangeRequest[]> {
    const upn = userPrincipalName.toLowerCase();
    await this.client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`switchboard:account:${upn}`]);
    const live = (r: ChangeRequest): boolean => r.id !== exceptPlanId && r.status === 'pending' && Date.parse(r.expiresAt) > at.getTime() && !this.deletedPlans.has(r.id);
    const found: ChangeRequest[] = [];
    for (const { request } of this.requests.values()) {
      if (!live(request)) continue;
      const plan = this.plans.get(request.id)?.plan ?? (await this.plan(request.id));
      if (request.account.userPrincipalName.toLowerCase() === upn || (plan && accountsOf(plan).includes(upn))) found.push(structuredClone(request));
    }
    // Pending requests are few (they expire within days): the status index finds them, and the account
    // is compared in SQL, the plan's too (a replacement deletes the old account), so nothing else is read.
    const rows = (
      await this.client.query<{ doc: unknown }>(
        `SELECT r.doc FROM requests r LEFT JOIN plans p ON p.id = r.id
          WHERE r.status = 'pending' AND r.id <> $1
            AND (lower(r.doc->'account'->>'userPrincipalName') = $2
                 OR (p.doc->>'kind' = 'replaceAccount'
                     AND EXISTS (SELECT 1 FROM jsonb_array_elements(p.doc->'steps') s WHERE lower(s->'step'->'of'->>'userPrincipalName') = $2)))`,
        [exceptPlanId, upn],
      )
    ).rows;
    for (const row of rows) {
      const request = parse(ChangeRequestSchema, row.doc, 'request', this.parsers);
      // A request this transaction wrote was looked at above, as it now stands.
      if (request && !this.requests.has(request.id) && live(request)) found.push(request);
    }
    return found;
  }

  async copiesOf(planId: string): Promise<CardCopy[]> {
    const rows = (await this.client.query<{ doc: unknown }>('SELECT doc FROM card_copies WHERE plan_id = $1', [planId])).rows;
    const byId = new Map<string, CardCopy>();
    for (const row of rows) {
      const copy = parse(CardCopySchema, row.doc, 'card copy', this.parsers);
      if (copy) byId.set(copy.id, copy);
    }
    for (const [id, copy] of this.copies) {
      if (copy === null) byId.delete(id);
      else if (copy.planId === planId) byId.set(id, copy);
    }
    return [...byId.values()].map((c) => structuredClone(c));
  }

  async copy(id: string): Promise<CardCopy | undefined> {
    if (this.copies.has(id)) {
      const pending = this.copies.get(id);
      return pending ? structuredClone(pending) : undefined;
    }
    const row = (await this.client.query<{ doc: unknown }>('SELECT doc FROM card_copies WHERE id = $1', [id])).rows[0];
    return row ? parse(CardCopySchema, row.doc, `card copy ${id}`, this.parsers) : undefined;
  }

  async outboxOf(planId: string): Promise<OutboxMessage[]> {
    const rows = (await this.client.query<{ doc: unknown }>('SELECT doc FROM outbox WHERE plan_id = $1 FOR UPDATE', [planId])).rows;
    const byId = new Map<string, OutboxMessage>();
    for (const row of rows) {
      const message = parse(OutboxMessageSchema, row.doc, 'outbox message', this.parsers);
      if (message) byId.set(message.id, message);
    }
    for (const [id, message] of this.messages) {
      if (message === null) byId.delete(id);
      else if (message.planId === planId) byId.set(id, message);
    }
    return [...byId.values()].map((m) => structuredClone(m));
  }

  putPlan(plan: Plan, at: string): Plan {
    const stored = structuredClone({ ...plan, version: plan.version + 1, updatedAt: at });
    const was = this.plans.get(plan.id)?.was ?? this.readVersions.get(`plan:${plan.id}`);
    this.plans.set(plan.id, { plan: stored, was });
    return structuredClone(stored);
  }

  putRequest(request: ChangeRequest): ChangeRequest {
    const stored = structuredClone({ ...request, version: request.version + 1 });
    const was = this.requests.get(request.id)?.was ?? this.readVersions.get(`request:${request.id}`);
    this.requests.set(request.id, { request: stored, was });
    return structuredClone(stored);
  }

  putCopy(copy: CardCopy): void {
    this.copies.set(copy.id, structuredClone(copy));
  }

  deleteCopy(id: string): void {
    this.copies.set(id, null);
  }

  putOutbox(message: OutboxMessage): void {
    this.messages.set(message.id, structuredClone(message));
  }

  deleteOutbox(id: string): void {
    this.messages.set(id, null);
  }

  deletePlan(id: string): void {
    this.plans.set(id, { plan: null, was: undefined });
    this.deletedPlans.add(id);
  }

  audit(entry: NewAuditEntry): void {
    this.entries.push(this.stamp(entry));
  }

  /** Applies the buffered writes; resolves whether an outbox message changed (other instances are told). */
  async commit(): Promise<boolean> {
    const c = this.client;
    for (const [id, { plan, was }] of this.plans) {
      if (!plan) {
        await c.query('DELETE FROM card_copies WHERE plan_id = $1', [id]);
        await c.query('DELETE FROM outbox WHERE plan_id = $1', [id]);
        await c.query('DELETE FROM requests WHERE id = $1', [id]);
        await c.query('DELETE FROM plans WHERE id = $1', [id]);
        continue;
      }
      const values = [id, plan.version, plan.status, plan.account.userPrincipalName.toLowerCase(), plan.updatedAt, JSON.stringify(plan)];
      const result =
        was === undefined
          ? await c.query(`INSERT INTO plans (id, version, status, upn_lower, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`, values)
          : await c.query(`UPDATE plans SET version = $2, status = $3, upn_lower = $4, updated_at = $5, doc = $6 WHERE id = $1 AND version = $7`, [...values, was]);
      if (result.rowCount !== 1) throw new WriteConflict(`plan ${id}`);
    }
    for (const [id, { request, was }] of this.requests) {
      const values = [id, request.version, request.status, request.createdAt, JSON.stringify(request)];
      const result =
        was === undefined
          ? await c.query(`INSERT INTO requests (id, version, status, created_at, doc) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`, values)
          : await c.query(`UPDATE requests SET version = $2, status = $3, created_at = $4, doc = $5 WHERE id = $1 AND version = $6`, [...values, was]);
      if (result.rowCount !== 1) throw new WriteConflict(`request ${id}`);
    }
    for (const [id, copy] of this.copies) {
      if (!copy) await c.query('DELETE FROM card_copies WHERE id = $1', [id]);
      else await c.query(`INSERT INTO card_copies (id, plan_id, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET plan_id = EXCLUDED.plan_id, doc = EXCLUDED.doc`, [id, copy.planId, JSON.stringify(copy)]);
    }
    for (const [id, message] of this.messages) {
      if (!message) await c.query('DELETE FROM outbox WHERE id = $1', [id]);
      else {
        await c.query(
          `INSERT INTO outbox (id, plan_id, status, next_attempt_at, doc) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, next_attempt_at = EXCLUDED.next_attempt_at, doc = EXCLUDED.doc`,
          [id, message.planId, message.status, message.nextAttemptAt, JSON.stringify(message)],
        );
      }
    }
    await insertAudit(c, this.entries);
    // Another instance has something to send only when a message is pending (not when one was sent or dropped).
    return [...this.messages.values()].some((m) => m?.status === 'pending');
  }
}
