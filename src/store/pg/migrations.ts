import type { Logger } from '../../log/logger';
import { lockKey, type Database } from './database';

/**
 * The schema, as numbered migrations applied in order at start-up. Plain SQL with a version table,
 * not a migration library: the schema is small, every statement is reviewed here beside the code
 * that uses it, and the one thing a library would add — running once when several instances start
 * together — is one advisory lock (below). A migration is never edited once released; a change is a
 * new entry.
 *
 * Documents stay JSON (jsonb) as the domain's zod schemas define them; the columns beside them are
 * what queries filter and sort on, each with the index its query needs.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'workflow, audit, contacts, export links',
    sql: `
      CREATE TABLE plans (
        id          text PRIMARY KEY,
        version     integer NOT NULL,
        status      text NOT NULL,
        upn_lower   text NOT NULL,
        updated_at  timestamptz NOT NULL,
        doc         jsonb NOT NULL
      );
      -- "another change on this account is running" (one change at a time per account)
      CREATE INDEX plans_active_by_account ON plans (upn_lower) WHERE status IN ('running', 'waiting');
      CREATE INDEX plans_by_status ON plans (status, updated_at);

      CREATE TABLE requests (
        id          text PRIMARY KEY,
        version     integer NOT NULL,
        status      text NOT NULL,
        created_at  timestamptz NOT NULL,
        doc         jsonb NOT NULL
      );
      CREATE INDEX requests_by_status ON requests (status);

      CREATE TABLE card_copies (
        id       text PRIMARY KEY,
        plan_id  text NOT NULL,
        doc      jsonb NOT NULL
      );
      CREATE INDEX card_copies_by_plan ON card_copies (plan_id);

      CREATE TABLE outbox (
        id               text PRIMARY KEY,
        plan_id          text NOT NULL,
        status           text NOT NULL,
        next_attempt_at  timestamptz NOT NULL,
        claimed_by       text,
        claimed_until    timestamptz,
        doc              jsonb NOT NULL
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_by_plan ON outbox (plan_id);

      CREATE TABLE audit (
        seq           bigserial PRIMARY KEY,
        id            text NOT NULL UNIQUE,
        at            timestamptz NOT NULL,
        target_lower  text NOT NULL,
        -- the part before "@" of a UPN target ('' otherwise): "history of aa-main" in any domain
        target_user   text NOT NULL,
        action        text NOT NULL,
        doc           jsonb NOT NULL
      );
      CREATE INDEX audit_by_target ON audit (target_lower, seq DESC);
      CREATE INDEX audit_by_user ON audit (target_user, seq DESC) WHERE target_user <> '';
      -- count() of the whole log without scanning it: kept by the same statement that inserts
      CREATE TABLE audit_count (one boolean PRIMARY KEY DEFAULT true CHECK (one), n bigint NOT NULL);
      INSERT INTO audit_count (n) VALUES (0);

      CREATE TABLE contacts (aad_object_id text PRIMARY KEY, doc jsonb NOT NULL);
      CREATE TABLE channels (channel_id text PRIMARY KEY, doc jsonb NOT NULL);

      CREATE TABLE export_tokens (
        token_hash  text PRIMARY KEY,
        username    text NOT NULL,
        file_name   text NOT NULL,
        expires_at  timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'export links of other kinds (accounts, import template, rows not imported)',
    sql: `
      ALTER TABLE export_tokens
        ADD COLUMN kind    text NOT NULL DEFAULT 'history',
        ADD COLUMN subject text NOT NULL DEFAULT '',
        ADD COLUMN locale  text NOT NULL DEFAULT 'en';
    `,
  },
  {
    version: 3,
    name: 'the simulated tenant',
    // src/store/pg/tenant.ts says how these are used: one row per entry, the version row that every
    // commit moves on (conditionally: the compare-and-set that serializes the instances).
    sql: `
      CREATE TABLE sim_tenant (
        one        boolean PRIMARY KEY DEFAULT true CHECK (one),
        tenant_id  text NOT NULL,
        -- the last commit; every commit sets it from n to n + 1 WHERE version = n
        version    bigint NOT NULL,
        -- tombstones and commit ids up to here are pruned: an instance that saw less reloads everything
        horizon    bigint NOT NULL DEFAULT 0
      );

      CREATE TABLE sim_entities (
        -- a collection of the tenant (accounts, numbers, voiceApps, operations), or '$parts'
        collection  text NOT NULL,
        key         text NOT NULL,
        -- the commit that wrote this row last: an instance catches up with the rows above its version
        seq         bigint NOT NULL,
        -- NULL: deleted by commit seq (a tombstone, kept until the horizon passes it)
        doc         jsonb,
        PRIMARY KEY (collection, key)
      );
      CREATE INDEX sim_entities_by_seq ON sim_entities (seq);

      -- which commit made each version: an instance whose commit's answer was lost finds out here
      CREATE TABLE sim_commits (
        seq  bigint PRIMARY KEY,
        id   uuid NOT NULL,
        at   timestamptz NOT NULL DEFAULT now()
      );

      -- rows that could not be used, moved aside (never blocking start-up)
      CREATE TABLE sim_quarantine (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL DEFAULT now(),
        collection  text NOT NULL,
        key         text NOT NULL,
        seq         bigint NOT NULL,
        reason      text NOT NULL,
        doc         jsonb
      );
      -- two instances setting the same row aside keep one copy
      CREATE UNIQUE INDEX sim_quarantine_once ON sim_quarantine (collection, key, seq);
    `,
  },
  {
    version: 4,
    name: 'the audit count in shards',
    // The single audit_count row was updated by every audited transaction, so those committed one at
    // a time across all instances (edit turns/s on PostgreSQL measured 0.19x lowdb's, bench/results.md).
    // A transaction now adds to the shard of its connection (pg_backend_pid() % 16): two transactions
    // wait for each other only when their connections share a shard. audit_count stays and keeps its
    // total: an instance of the previous version that is still running during a rolling update adds
    // there, and the count is audit_count + the shards. (One of the previous version that starts after
    // this migration refuses the newer schema, as migrate() below says: roll forward, not back.) Written
    // to run again harmlessly over a table left by a hand-edited schema_migrations.
    sql: `
      CREATE TABLE IF NOT EXISTS audit_count_shards (
        shard  smallint PRIMARY KEY CHECK (shard >= 0 AND shard < 16),
        n      bigint NOT NULL
      );
      INSERT INTO audit_count_shards (shard, n) SELECT s, 0 FROM generate_series(0, 15) AS s ON CONFLICT (shard) DO NOTHING;
    `,
  },
];

const MIGRATION_LOCK = 'switchboard:migrations';

/**
 * Applies the migrations this database has not seen, once, even when several instances start at the
 * same moment: the first takes the advisory lock and migrates, the others wait for it and then find
 * nothing left to do. Each migration and its version row commit together.
 */
export async function migrate(db: Database, log: Logger): Promise<number[]> {
  const applied: number[] = [];
  await db.withLock(MIGRATION_LOCK, async () => {
    await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await db.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    if (newest > known) {
      throw new Error(`the database schema is version ${newest}, newer than this Switchboard knows (${known}): run the newer version, or restore the database`);
    }
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await db.transaction(async (client) => {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      });
      applied.push(migration.version);
      log.info({ version: migration.version, name: migration.name }, 'PostgreSQL: migration applied');
    }
  });
  return applied;
}

export { lockKey };
