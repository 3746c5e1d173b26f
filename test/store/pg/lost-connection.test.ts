import pg from 'pg';
import { createLogger } from '../../../src/log/logger';
import { isStoreUnavailable } from '../../../src/store/errors';
import { Database } from '../../../src/store/pg/database';
import { CommitLog, noteCommits, withCommitLog } from '../../../src/store/commitLog';
import { StoreUnavailableError } from '../../../src/store/errors';
import type { WorkflowStore, WorkflowTx } from '../../../src/store/workflow';
import { CuttingProxy } from './cuttingProxy';
import { capturedLog, type LogLine } from '../../helpers/logs';
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
  let logged: LogLine[];

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(async () => {
    url = await server.newDatabase();
    const captured = capturedLog('warn');
    logged = captured.lines;
    db = new Database({ url, log: captured.log });
    admin = new pg.Client({ connectionString: url });
    // The crash test ends this session too.
    admin.on('error', () => undefined);
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
    // The lock went with the session, so the work was not exclusive to the end: said as an error, naming the lock.
    expect(logged.filter((l) => l.level >= 50).map((l) => [l.lock, l.msg])).toEqual([
      ['plan-7', 'PostgreSQL: the session holding a lock ended while its work ran; another instance may have run the same work at the same time'],
    ]);
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
    expect(logged.filter((l) => l.level >= 50).map((l) => l.lock)).toEqual(['sweep']);
    expect(await db.withLock('sweep', async () => 'again')).toBe('again');
    await stillServes();
  });

  it("keeps a lock's session when the server ends idle sessions (idle_session_timeout): the work stays exclusive", async () => {
    await admin.query(`ALTER DATABASE ${JSON.stringify(new URL(url).pathname.slice(1))} SET idle_session_timeout = '300ms'`);
    const other = new Database({ url, log: createLogger('silent') });
    try {
      let inside = 0;
      let overlapped = false;
      const run = (db: Database) =>
        db.withLock('card:1', async () => {
          inside += 1;
          if (inside > 1) overlapped = true;
          // Longer than the server lets a session sit idle; the lock's connection does nothing meanwhile.
          await new Promise((r) => setTimeout(r, 800));
          inside -= 1;
        });
      await Promise.all([run(db), run(other)]);
      expect(overlapped).toBe(false);
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('a transaction the server ends for sitting idle in it (25P03) fails as the store being unavailable', async () => {
    let failed: unknown;
    await db
      .transaction(async (client) => {
        await client.query("SET LOCAL idle_in_transaction_session_timeout = '200ms'");
        // Busy, not waiting: the server's FATAL is read only once the next query is out, so it answers that query.
        const end = Date.now() + 600;
        while (Date.now() < end);
        await client.query('SELECT 1');
      })
      .catch((error: unknown) => (failed = error));
    expect(isStoreUnavailable(failed)).toBe(true);
    await stillServes();
  });

  describe('a COMMIT whose answer is lost (the connection breaks after it was sent)', () => {
    let proxy: CuttingProxy;
    let viaProxy: Database;

    beforeEach(async () => {
      proxy = await CuttingProxy.start(server.port);
      // One list for both databases' lines.
      viaProxy = new Database({ url: proxy.url(url), log: capturedLog('warn', logged).log });
      await db.query('CREATE TABLE t (v int)');
    });

    afterEach(async () => {
      await viaProxy.close();
      await proxy.close();
    });

    const rows = async () => (await db.query<{ v: number }>('SELECT v FROM t ORDER BY v')).rows.map((r) => r.v);

    it('committed: the server is asked, and the transaction is reported done, with its result', async () => {
      const result = await viaProxy.transaction(async (client) => {
        await client.query('INSERT INTO t VALUES (1)');
        proxy.loseAnswerTo('COMMIT');
        return 'the result';
      });
      expect(result).toBe('the result');
      expect(proxy.cuts).toBe(1);
      expect(await rows()).toEqual([1]);
      expect(logged.map((l) => [l.msg, l.outcome])).toContainEqual(['PostgreSQL: the answer to a COMMIT was lost; asked the server what became of it', 'committed']);
    });

    it('rolled back at COMMIT (a deferred constraint): the store was unavailable and nothing was written, said as such', async () => {
      await db.query('CREATE TABLE u (v int UNIQUE DEFERRABLE INITIALLY DEFERRED)');
      let failed: unknown;
      await viaProxy
        .transaction(async (client) => {
          await client.query('INSERT INTO u VALUES (1), (1)');
          proxy.loseAnswerTo('COMMIT');
        })
        .catch((error: unknown) => (failed = error));
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect((failed as StoreUnavailableError).outcomeUnknown).toBe(false);
      expect((await db.query('SELECT v FROM u')).rows).toEqual([]);
    });

    it('and the database then out of reach: the error says the outcome is not known, never that nothing was written; it had committed', async () => {
      let failed: unknown;
      const started = Date.now();
      await viaProxy
        .transaction(async (client) => {
          await client.query('INSERT INTO t VALUES (2)');
          proxy.loseAnswerTo('COMMIT', { thenRefuse: true });
        })
        .catch((error: unknown) => (failed = error));
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect((failed as StoreUnavailableError).outcomeUnknown).toBe(true);
      expect((failed as Error).message).toMatch(/^PostgreSQL: the answer to the commit was lost, so whether the change was written is not known \(/);
      expect(await rows()).toEqual([2]);
    });

    it('a COMMIT that never reached the server (its session idle in the transaction): that session is ended, and the answer is certain at once', async () => {
      let failed: unknown;
      const started = Date.now();
      await viaProxy
        .transaction(async (client) => {
          await client.query('INSERT INTO t VALUES (4)');
          proxy.swallow('COMMIT');
        })
        .catch((error: unknown) => (failed = error));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(failed).toBeInstanceOf(StoreUnavailableError);
      expect((failed as StoreUnavailableError).outcomeUnknown).toBe(false);
      expect(await rows()).toEqual([]);
      // The session that held the transaction (and its locks) is gone.
      expect((await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction'`)).rows).toEqual([{ n: 0 }]);
    });

    it("a turn whose commit's outcome is not known counts what it wrote as recorded (its card then does not say nothing was done)", async () => {
      const inner = {
        async transact(work: (tx: WorkflowTx) => unknown) {
          await work({ putPlan: () => undefined } as unknown as WorkflowTx);
          throw new StoreUnavailableError('PostgreSQL', Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }), { outcomeUnknown: true });
        },
      } as unknown as WorkflowStore;
      const log = new CommitLog();
      await expect(
        withCommitLog(log, () => noteCommits(inner).transact((tx) => tx.putPlan({ id: 'plan-1' } as Parameters<WorkflowTx['putPlan']>[0], new Date().toISOString()))),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(log.planIds).toEqual(['plan-1']);
    });
  });

  it.each([
    [
      'the server crashes and restarts',
      async () => {
        await server.crash();
        await server.start();
      },
    ],
    [
      'one session crashes (the server ends every session and recovers, same start time)',
      async () => {
        const victim = new pg.Client({ connectionString: url });
        victim.on('error', () => undefined);
        await victim.connect();
        const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        process.kill(pid, 'SIGKILL');
        await victim.end().catch(() => undefined);
        // Back once it takes connections again.
        for (let tries = 0; ; tries++) {
          const probe = new pg.Client({ connectionString: url });
          probe.on('error', () => undefined);
          const up = await probe
            .connect()
            .then(
              () => probe.query('SELECT 1').then(() => true),
              () => false,
            )
            .catch(() => false);
          await probe.end().catch(() => undefined);
          if (up) break;
          if (tries > 100) throw new Error('the server did not come back');
          await new Promise((r) => setTimeout(r, 100));
        }
      },
    ],
  ])('a crash before the commit reached the disk is never reported as committed, even when the server hands the same transaction id to another (%s)', async (_, crash) => {
    // The WAL writer waits long, so the crash loses the transaction's unflushed insert, and with it the
    // only record that its id was ever handed out: after the restart the next transaction gets it again.
    await admin.query("ALTER SYSTEM SET wal_writer_delay = '10s'");
    await admin.query('SELECT pg_reload_conf()');
    await db.query('CREATE TABLE c (v int)');
    let failed: unknown;
    let result: unknown;
    try {
      result = await db
        .transaction(async (client) => {
          await client.query('INSERT INTO c VALUES (1)');
          await crash();
          // Other work after the restart takes the ids the lost transaction had, and commits.
          const other = new pg.Client({ connectionString: url });
          await other.connect();
          for (let i = 0; i < 3; i++) await other.query('INSERT INTO c VALUES (100)');
          await other.end();
          return 'reported as done';
        })
        .catch((error: unknown) => (failed = error));
    } finally {
      const reset = new pg.Client({ connectionString: url });
      await reset.connect();
      await reset.query('ALTER SYSTEM RESET wal_writer_delay');
      await reset.query('SELECT pg_reload_conf()');
      await reset.end();
      // The crash ended the admin connection: a new one for afterEach.
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
    }
    expect(result).not.toBe('reported as done');
    expect(failed).toBeInstanceOf(StoreUnavailableError);
    expect((await db.query<{ v: number }>('SELECT v FROM c ORDER BY v')).rows.map((r) => r.v)).toEqual([100, 100, 100]);
  });
});
