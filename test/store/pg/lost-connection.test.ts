import pg from 'pg';
import { createLogger } from '../../../src/log/logger';
import { isStoreUnavailable } from '../../../src/store/errors';
import { Database } from '../../../src/store/pg/database';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';

/**
 * The server ends a session while the instance holds its connection with no query running on it: a
 * transaction waiting on other work, an advisory lock held while its work runs on other connections.
 * node-postgres emits that as an 'error' event of the client, and a checked-out client has no listener
 * of the pool's: the process died ("Unhandled error … terminating connection due to administrator
 * command", seen in a full test run when the database was stopped mid-turn). Here the session is ended
 * with pg_terminate_backend at exactly that moment; jest fails a test on an unhandled 'error' event.
 */
describe('a PostgreSQL session ended while its connection is held but idle', () => {
  jest.setTimeout(120_000);
  let server: TestPostgres;
  let url: string;
  let db: Database;
  let admin: pg.Client;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(async () => {
    url = await server.newDatabase();
    db = new Database({ url, log: createLogger('silent') });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterEach(async () => {
    await admin.end();
    await db.close();
  });

  /** Ends the one 'switchboard' session whose last statement matches `like`, and waits until it is gone. */
  async function terminate(like: string): Promise<void> {
    const found = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'switchboard' AND query LIKE $1`, [like]);
    expect(found.rows).toHaveLength(1);
    await admin.query('SELECT pg_terminate_backend($1)', [found.rows[0]!.pid]);
    // The FATAL reaches the client as an error while none of its queries is active.
    await new Promise((r) => setTimeout(r, 200));
  }

  /** The pool still serves after the lost connection was dropped, not handed out again. */
  async function stillServes(): Promise<void> {
    for (let i = 0; i < 3 * 10; i++) expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect(await db.ping()).toBe(true);
  }

  it('in a transaction waiting on other work: the transaction fails as the store being unavailable, and nothing of it is committed', async () => {
    await db.query('CREATE TABLE t (v int)');
    let failed: unknown;
    await db
      .transaction(async (client) => {
        await client.query('INSERT INTO t VALUES (1)');
        await client.query("SELECT 'mid-transaction'");
        await terminate("SELECT 'mid-transaction'");
        await client.query('INSERT INTO t VALUES (2)');
      })
      .catch((error: unknown) => (failed = error));
    expect(isStoreUnavailable(failed)).toBe(true);
    expect((await db.query('SELECT v FROM t')).rows).toEqual([]);
    await stillServes();
  });

  it('holding an advisory lock while its work runs elsewhere: the work finishes, the lock is gone with the session, and another holder gets it', async () => {
    const work = await db.withLock('plan-7', async () => {
      await terminate('SELECT pg_advisory_lock%');
      return 'done';
    });
    expect(work).toBe('done');
    expect(await db.tryExclusively('plan-7', async () => undefined)).toBe(true);
    await stillServes();
  });

  it('holding a try-lock while its work runs elsewhere: the work finishes, and the lock can be had again', async () => {
    let ran = false;
    expect(
      await db.tryExclusively('sweep', async () => {
        await terminate('SELECT pg_try_advisory_lock%');
        ran = true;
      }),
    ).toBe(true);
    expect(ran).toBe(true);
    expect(await db.withLock('sweep', async () => 'again')).toBe('again');
    await stillServes();
  });
});
