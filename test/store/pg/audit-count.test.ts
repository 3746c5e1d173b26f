import pg from 'pg';
import { createLogger } from '../../../src/log/logger';
import type { NewAuditEntry } from '../../../src/store/audit';
import { insertAudit, PgAuditLog } from '../../../src/store/pg/audit';
import { Database } from '../../../src/store/pg/database';
import { migrate } from '../../../src/store/pg/migrations';
import { PgWorkflowStore } from '../../../src/store/pg/workflow';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';
import { until } from '../../helpers/waiting';

/**
 * What made audited commits of every instance go one at a time, made to happen and shown gone.
 *
 * The whole audit log's count (migration 4). It was one row that every audited transaction updated and
 * held until its commit: audited commits of every instance went one at a time (edit turns/s on
 * PostgreSQL 0.19x lowdb's, bench/results.md). Now a transaction adds to the shard of its connection.
 * These tests hold one transaction open and show that another connection's audited transaction
 * commits meanwhile — what the single row made impossible.
 *
 * The outbox wake-up: a transaction that called pg_notify takes the notification queue's lock (one for
 * the whole server) at its commit and keeps it until the commit is flushed and, with a synchronous
 * standby, replicated. Sent inside every audited transaction that queued a message, it serialized them
 * again; it is now sent after the commit, in a transaction of its own that does not wait for a standby.
 */

const SHARDS = 16;

function entry(n: number): NewAuditEntry {
  return { actor: { aadObjectId: 'a', name: 'Admin' }, action: 'account.edit', target: `aa-${n}@contoso.com`, outcome: 'succeeded' };
}

describe('audited commits on PostgreSQL do not queue: not on one count row, not on the notification lock', () => {
  jest.setTimeout(120_000);
  let server: TestPostgres;
  let url: string;
  let db: Database;
  let log: PgAuditLog;
  const clients: pg.Client[] = [];

  async function connect(): Promise<{ client: pg.Client; shard: number; pid: number }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    return { client, shard: pid % SHARDS, pid };
  }

  /** A connection whose shard is (or is not) `shard`: new connections get new backend pids. */
  async function connectTo(want: (shard: number) => boolean): Promise<pg.Client> {
    for (let i = 0; i < 200; i++) {
      const c = await connect();
      if (want(c.shard)) return c.client;
    }
    throw new Error('no connection with the wanted shard in 200 tries');
  }

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.newDatabase();
    const silent = createLogger('silent');
    db = new Database({ url, log: silent });
    await migrate(db, silent);
    log = new PgAuditLog(db);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await db?.close();
    await server?.close();
  });

  it('a transaction on another shard commits while one holds its audit entries uncommitted; one on the same shard waits', async () => {
    const before = await log.count();
    const first = await connect();
    await first.client.query('BEGIN');
    await insertAudit(first.client, [log.entryOf(entry(1))]);

    // Another connection (another instance, or another turn of this one): not blocked.
    const other = await connectTo((s) => s !== first.shard);
    await other.query('BEGIN');
    await other.query(`SET LOCAL lock_timeout = '3s'`);
    await insertAudit(other, [log.entryOf(entry(2))]);
    await other.query('COMMIT');
    expect(await log.count()).toBe(before + 1);

    // The same shard does wait for the open transaction (its row lock): the sharding is what frees the others.
    const same = await connectTo((s) => s === first.shard);
    await same.query('BEGIN');
    await same.query(`SET LOCAL lock_timeout = '300ms'`);
    await expect(insertAudit(same, [log.entryOf(entry(3))])).rejects.toMatchObject({ code: '55P03' });
    await same.query('ROLLBACK');

    await first.client.query('COMMIT');
    expect(await log.count()).toBe(before + 2);
    expect((await log.page({ offset: 0, limit: 10 })).items.map((e) => e.target)).toEqual(['aa-2@contoso.com', 'aa-1@contoso.com']);
  });

  it('an audited commit that queues a message commits while another session waits for its standby with a notification', async () => {
    const silent = createLogger('silent');
    const admin = await connect();
    // A synchronous standby that never answers (as a slow one, stretched): a commit with
    // synchronous_commit on waits for it, holding what its transaction locked. This database's own
    // sessions commit locally, as if their standby were fast, so only the other session's wait is left.
    // (This session too commits locally: its own catalog changes below must not wait for the standby.)
    await admin.client.query('SET synchronous_commit = local');
    const database = (await admin.client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    await admin.client.query(`ALTER DATABASE ${database} SET synchronous_commit = local`);
    await admin.client.query(`ALTER SYSTEM SET synchronous_standby_names = 'nobody'`);
    await admin.client.query('SELECT pg_reload_conf()');
    // An instance connected after that (its sessions commit locally).
    const instance = new Database({ url, log: silent });
    const store = new PgWorkflowStore(instance, (e) => log.entryOf(e), silent);
    const slow = await connect();
    let slowCommit: Promise<void> | undefined;
    try {
      await slow.client.query('SET synchronous_commit = on');
      // pg_reload_conf() only signals: wait until this session has read the new setting.
      await until(async () => (await slow.client.query<{ synchronous_standby_names: string }>('SHOW synchronous_standby_names')).rows[0]?.synchronous_standby_names === 'nobody', 10_000, 'the standby setting to be read');
      await slow.client.query('BEGIN');
      // A change (a commit that wrote nothing waits for no standby) and a notification.
      await slow.client.query('CREATE TABLE standby_probe (x int)');
      await slow.client.query(`SELECT pg_notify('switchboard_outbox', '')`);
      slowCommit = slow.client.query('COMMIT').then(() => undefined, () => undefined);
      await until(async () => (await admin.client.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep'`, [slow.pid])).rowCount === 1, 10_000, 'the other commit to wait for its standby');
      const at = new Date().toISOString();
      const started = Date.now();
      await store.transact((tx) => {
        tx.putOutbox({ id: 'wake-1', planId: 'plan-wake', kind: 'refreshCopies', status: 'pending', attempts: 0, revision: 0, nextAttemptAt: at, createdAt: at, updatedAt: at });
        tx.audit(entry(20));
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await store.outboxOf('plan-wake')).toHaveLength(1);
    } finally {
      // The other session's wait ends (its commit stays, local), and with it the lock our wake-up waits for.
      await admin.client.query('SELECT pg_cancel_backend($1)', [slow.pid]);
      await slowCommit;
      await instance.close();
      await admin.client.query('ALTER SYSTEM RESET synchronous_standby_names');
      await admin.client.query('SELECT pg_reload_conf()');
      await admin.client.query(`ALTER DATABASE ${database} RESET synchronous_commit`);
    }
  });

  it('counts what an instance of the previous version adds during a rolling update (it still adds to audit_count)', async () => {
    const before = await log.count();
    const previousVersion = await connect();
    await previousVersion.client.query('BEGIN');
    await previousVersion.client.query(`INSERT INTO audit (id, at, target_lower, target_user, action, doc) VALUES ('old-1', now(), 'aa-old@contoso.com', 'aa-old', 'account.edit', $1)`, [
      JSON.stringify({ id: 'old-1', at: new Date().toISOString(), ...entry(9), target: 'aa-old@contoso.com' }),
    ]);
    await previousVersion.client.query('UPDATE audit_count SET n = n + 1');
    await previousVersion.client.query('COMMIT');
    await log.append(entry(10));
    expect(await log.count()).toBe(before + 2);
    // And it matches the rows themselves.
    expect(await log.count()).toBe(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit')).rows[0]!.n));
  });
});
