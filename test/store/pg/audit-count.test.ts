import pg from 'pg';
import { createLogger } from '../../../src/log/logger';
import type { NewAuditEntry } from '../../../src/store/audit';
import { insertAudit, PgAuditLog } from '../../../src/store/pg/audit';
import { Database } from '../../../src/store/pg/database';
import { migrate } from '../../../src/store/pg/migrations';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';

/**
 * The whole audit log's count (migration 4). It was one row that every audited transaction updated and
 * held until its commit: audited commits of every instance went one at a time (edit turns/s on
 * PostgreSQL 0.19x lowdb's, bench/results.md). Now a transaction adds to the shard of its connection.
 * These tests hold one transaction open and show that another connection's audited transaction
 * commits meanwhile — what the single row made impossible.
 */

const SHARDS = 16;

function entry(n: number): NewAuditEntry {
  return { actor: { aadObjectId: 'a', name: 'Admin' }, action: 'account.edit', target: `aa-${n}@contoso.com`, outcome: 'succeeded' };
}

describe('the audit count on PostgreSQL: audited transactions do not queue on one row', () => {
  jest.setTimeout(120_000);
  let server: TestPostgres;
  let url: string;
  let db: Database;
  let log: PgAuditLog;
  const clients: pg.Client[] = [];

  async function connect(): Promise<{ client: pg.Client; shard: number }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    return { client, shard: pid % SHARDS };
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
