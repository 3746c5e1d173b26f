import { randomUUID } from 'node:crypto';
import { AuditEntrySchema, type AuditEntry, type AuditFilter, type AuditPage, type AuditPageQuery, type AuditStore, type NewAuditEntry } from '../audit';
import type { Database, Queryable } from './database';

/** The part before "@" of a UPN target ('' for targets that are not UPNs): "aa-main" in any domain. */
function targetUser(target: string): string {
  const at = target.indexOf('@');
  return at > 0 ? target.slice(0, at).toLowerCase() : '';
}

/** Inserts audit entries (in the caller's transaction) and keeps the whole log's count with them (migration 4). */
export async function insertAudit(client: Queryable, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO audit (id, at, target_lower, target_user, action, doc)
     SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
    [
      entries.map((e) => e.id),
      entries.map((e) => e.at),
      entries.map((e) => e.target.toLowerCase()),
      entries.map((e) => targetUser(e.target)),
      entries.map((e) => e.action),
      entries.map((e) => JSON.stringify(e)),
    ],
  );
  // The shard of this connection (migration 4): audited transactions on other connections do not wait.
  // An upsert: a shard row that went missing (a hand-repaired table) is made again, never skipped uncounted.
  await client.query(
    `INSERT INTO audit_count_shards (shard, n) VALUES (pg_backend_pid() % 16, $1)
     ON CONFLICT (shard) DO UPDATE SET n = audit_count_shards.n + EXCLUDED.n`,
    [entries.length],
  );
}

interface Where {
  sql: string;
  values: unknown[];
}

/**
 * The SQL condition for a filter. `match` (an arbitrary predicate) cannot run in the database: the
 * bot's own filters are structured (`account`, `target`); a `match` is applied on top in memory.
 */
function where(filter: AuditFilter, first = 1): Where {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    clauses.push(sql.replace('?', `$${first + values.length - 1}`));
  };
  if (filter.target !== undefined) add('target_lower = ?', filter.target.toLowerCase());
  const account = filter.account?.trim().toLowerCase();
  if (account) {
    if (account.includes('@')) add('target_lower = ?', account);
    else add(`target_user = ?`, account);
  }
  if (filter.contains) add(`position(? in lower(doc::text)) > 0`, filter.contains.toLowerCase());
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
}

function entryOf(doc: unknown): AuditEntry | undefined {
  const parsed = AuditEntrySchema.safeParse(doc);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The audit log as a table (several instances, one log). Pages read newest first through an index
 * (per target, per username in any domain, or the whole log by sequence); the export streams from a
 * keyset cursor, so memory stays flat at a million entries.
 */
export class PgAuditLog implements AuditStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  entryOf(entry: NewAuditEntry): AuditEntry {
    return { id: randomUUID(), at: this.now().toISOString(), ...entry };
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const full = this.entryOf(entry);
    await this.db.transaction((client) => insertAudit(client, [full]));
    return full;
  }

  async readAll(): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for await (const entry of this.entries()) out.push(entry);
    return out;
  }

  async *entries(filter: AuditFilter = {}): AsyncGenerator<AuditEntry> {
    const w = where(filter, 2);
    let after = '0';
    for (;;) {
      const rows = (
        await this.db.query<{ seq: string; doc: unknown }>(
          `SELECT seq, doc FROM audit ${w.sql ? `${w.sql} AND seq > $1` : 'WHERE seq > $1'} ORDER BY seq LIMIT 1000`,
          [after, ...w.values],
        )
      ).rows;
      for (const row of rows) {
        const entry = entryOf(row.doc);
        if (entry && (!filter.match || filter.match(entry))) yield entry;
      }
      if (rows.length < 1000) return;
      after = rows.at(-1)!.seq;
    }
  }

  async page(query: AuditPageQuery): Promise<AuditPage> {
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const limit = Math.max(0, Math.floor(query.limit));
    if (query.match) return this.pageInMemory(query, offset, limit);
    const w = where(query, 3);
    const rows = (await this.db.query<{ doc: unknown }>(`SELECT doc FROM audit ${w.sql} ORDER BY seq DESC OFFSET $1 LIMIT $2`, [offset, limit + 1, ...w.values])).rows;
    const items = rows
      .slice(0, limit)
      .map((r) => entryOf(r.doc))
      .filter((e): e is AuditEntry => e !== undefined);
    return { items, offset, limit, hasMore: rows.length > limit };
  }

  async count(filter: AuditFilter = {}): Promise<number> {
    if (filter.match) {
      let n = 0;
      for await (const _ of this.entries(filter)) n += 1;
      return n;
    }
    const w = where(filter);
    if (!w.sql) {
      const total = await this.db.query<{ n: string }>('SELECT coalesce((SELECT n FROM audit_count), 0) + coalesce((SELECT sum(n) FROM audit_count_shards), 0) AS n');
      return Number(total.rows[0]?.n ?? 0);
    }
    return Number((await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit ${w.sql}`, w.values)).rows[0]?.n ?? 0);
  }

  async flush(): Promise<void> {
    // Every append is committed before it resolves.
  }

  private async pageInMemory(query: AuditPageQuery, offset: number, limit: number): Promise<AuditPage> {
    const w = where({ ...query, match: undefined }, 1);
    const items: AuditEntry[] = [];
    let skipped = 0;
    let before = '9223372036854775807';
    for (;;) {
      const rows = (
        await this.db.query<{ seq: string; doc: unknown }>(`SELECT seq, doc FROM audit ${w.sql ? `${w.sql} AND` : 'WHERE'} seq < $${w.values.length + 1} ORDER BY seq DESC LIMIT 1000`, [
          ...w.values,
          before,
        ])
      ).rows;
      for (const row of rows) {
        const entry = entryOf(row.doc);
        if (!entry || !query.match!(entry)) continue;
        if (skipped < offset) skipped += 1;
        else if (items.length < limit) items.push(entry);
        else return { items, offset, limit, hasMore: true };
      }
      if (rows.length < 1000) return { items, offset, limit, hasMore: false };
      before = rows.at(-1)!.seq;
    }
  }
}
