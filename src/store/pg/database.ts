import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../log/logger';
import { StoreUnavailableError } from '../errors';

export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * SQLSTATE classes and codes that mean "the database is not there right now" (connection lost, server
 * shutting down, too many connections, read-only replica after a fail-over): the change was not made
 * and the caller says so (StoreUnavailableError); the pool reconnects by itself.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
// 25P03 and 25P04: the server ended the session (idle_in_transaction_session_timeout, PostgreSQL 17's
// transaction_timeout), as class 57 does for an operator or a restart.
const UNAVAILABLE_CLASSES = ['08', '53', '57', '58', '25006', '25P03', '25P04'];
/** How long the fate of a COMMIT whose answer was lost is asked after (Database.outcomeOf). */
const OUTCOME_MS = 3_000;
/** What identifies a transaction when its COMMIT's answer is lost (Database.outcomeOf). */
/**
 * The server's life since its last crash: the postmaster's start time, and when the shared statistics
 * were last reset, which a crash-restart cycle does (restart_after_crash: a session that crashes makes
 * the postmaster end every session and recover, without a new start time). An operator's
 * pg_stat_reset_shared('bgwriter') changes it too: then a committed transaction is only said unknown.
 */
const LIFE = "extract(epoch from pg_postmaster_start_time())::text || '/' || coalesce(extract(epoch from (SELECT stats_reset FROM pg_stat_bgwriter))::text, '')";
const BEGIN = `BEGIN; SELECT txid_current()::text AS xid, pg_backend_pid() AS pid, ${LIFE} AS life`;
interface Begun {
  xid: string;
  pid: number;
  life: string;
}
/** Serialization failure and deadlock: the transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function sqlState(error: unknown): string | undefined {
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export function isUnavailable(error: unknown): boolean {
  const code = sqlState(error);
  if (code && NETWORK.has(code)) return true;
  if (code && UNAVAILABLE_CLASSES.some((c) => code.startsWith(c))) return true;
  const message = error instanceof Error ? error.message : '';
  // Query read timeout: no answer within query_timeout; the connection is stuck, the server out of reach.
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed|Query read timeout/i.test(message);
}

/** A stable 64-bit advisory-lock key for a name (pg_advisory_lock takes a bigint). */
export function lockKey(name: string): string {
  return BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 16)}`)).toString();
}

export interface DatabaseOptions {
  url: string;
  log: Logger;
  /** Connections in the pool (per instance). */
  max?: number;
}

/**
 * One PostgreSQL database shared by every instance: a pool (node-postgres), transactions that are
 * run again on a serialization failure, advisory locks for work one instance at a time, and
 * LISTEN/NOTIFY so that a commit on one instance wakes the others. Errors that mean the database is
 * unreachable become StoreUnavailableError; node-postgres reconnects on the next query.
 */
export class Database {
  readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private readonly channels = new Map<string, Set<() => void>>();
  private listenRetry: NodeJS.Timeout | undefined;
  /** Connections whose session no longer ends when idle (lockSession). */
  private readonly lockSessions = new WeakSet<pg.PoolClient>();
  private closed = false;

  constructor(private readonly options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      // A statement that hangs (a lock held by a dead session until TCP notices) must not hang a click.
      statement_timeout: 15_000,
      query_timeout: 20_000,
      application_name: 'switchboard',
    });
    // An idle client that loses its connection emits here; without a listener the process would die.
    this.pool.on('error', (error) => options.log.warn({ err: error }, 'PostgreSQL: an idle connection was lost (the pool reconnects)'));
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw this.translate(error);
    }
  }

  /**
   * Runs `work` in a transaction (READ COMMITTED with row locks taken by the work's own queries), and
   * again — up to five times — when PostgreSQL reports a serialization failure or a deadlock.
   *
   * A COMMIT whose answer is lost (the connection dropped, or no answer within query_timeout) may have
   * committed or not, and only the server knows: it is asked (outcomeOf). Committed, the transaction's
   * result is returned as if the answer had come; rolled back, the store was unavailable and nothing
   * was written; not known in time, the error says so (StoreUnavailableError.outcomeUnknown) and never
   * claims that nothing was written.
   */
  async transaction<R>(work: (client: pg.PoolClient) => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      const held = await this.checkout();
      const client = held.client;
      let begun: Begun | undefined;
      let done: { value: R } | undefined;
      try {
        // What identifies the transaction comes with BEGIN, in the same round trip (a simple query may
        // hold two statements; node-postgres then answers with both results).
        const results = (await client.query(BEGIN)) as unknown as pg.QueryResult<Begun>[];
        begun = results[1]?.rows[0];
        done = { value: await work(client) };
        await client.query('COMMIT');
        return done.value;
      } catch (error) {
        if (isUnavailable(error)) {
          // The connection is gone or stuck (a ROLLBACK would wait behind the statement that got no
          // answer): dropped, which ends the session and so the transaction, unless it had committed.
          held.lose();
          held.release();
          if (done && begun) {
            const outcome = await this.outcomeOf(begun);
            this.options.log.warn({ err: error, xid: begun.xid, outcome }, 'PostgreSQL: the answer to a COMMIT was lost; asked the server what became of it');
            if (outcome === 'committed') return done.value;
            throw new StoreUnavailableError('PostgreSQL', error, { outcomeUnknown: outcome === 'unknown' });
          }
          throw this.translate(error);
        }
        await client.query('ROLLBACK').catch(() => held.lose());
        if (RETRYABLE.has(sqlState(error) ?? '') && attempt < 5) continue;
        throw this.translate(error);
      } finally {
        held.release();
      }
    }
  }

  /**
   * What became of a transaction whose COMMIT got no answer, asked on a connection of its own (the
   * pool may be full of broken ones), every statement bounded by what is left of OUTCOME_MS:
   * - its id (txid_status, PostgreSQL 10 and later) says committed or aborted;
   * - unless the server went through a crash meanwhile (a restart, or a crashed session that made it
   *   reset every session and recover: LIFE says how that is seen): an id that never reached the WAL
   *   is handed out again after a crash, so "committed" may then be another transaction's, and only
   *   "aborted" or an id "in the future" (never logged: lost) is certain;
   * - a server still in recovery (a standby, or one that a fail-over has not finished promoting) may
   *   not have replayed the commit yet: its answer counts for nothing, and the server is asked again;
   * - "in progress" with its session idle in the transaction means the COMMIT never arrived: that
   *   session is ended, which rolls the transaction back, so the answer is then certain.
   */
  private async outcomeOf(begun: Begun): Promise<'committed' | 'aborted' | 'unknown'> {
    const until = Date.now() + OUTCOME_MS;
    const left = () => Math.max(1, until - Date.now());
    for (;;) {
      if (Date.now() >= until) return 'unknown';
      const probe = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: left(), statement_timeout: left(), application_name: 'switchboard-outcome' });
      probe.on('error', () => undefined);
      // query_timeout per statement (node-postgres reads it from the query's config; its types do not list it).
      const ask = <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<T>> => probe.query<T>({ text, values, query_timeout: left() } as pg.QueryConfig);
      try {
        await probe.connect();
        const server = (await ask<{ life: string; recovering: boolean }>(`SELECT ${LIFE} AS life, pg_is_in_recovery() AS recovering`)).rows[0];
        if (!server || server.recovering) throw new Error('the server is still in recovery');
        const crashed = server.life !== begun.life;
        let status: string | null | undefined;
        try {
          status = (await ask<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [begun.xid])).rows[0]?.status;
        } catch (error) {
          // 22023 "transaction ID … is in the future" (on a server not in recovery): the id was never logged, so the transaction was lost.
          if (sqlState(error) === '22023') return 'aborted';
          throw error;
        }
        if (status === 'aborted') return 'aborted';
        if (status === 'committed') return crashed ? 'unknown' : 'committed';
        // null: too old for the server to tell, which cannot happen within seconds.
        if (status !== 'in progress') return 'unknown';
        if (!crashed) {
          const ended = await ask(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND state = 'idle in transaction' AND backend_xid::text::bigint = $2::bigint % 4294967296`, [
            begun.pid,
            begun.xid,
          ]);
          if (ended.rowCount) continue;
        }
      } catch {
        // Out of reach or not ready for now: asked again until OUTCOME_MS.
      } finally {
        // Not waited for: a graceful end waits for the server, which may be what is out of reach.
        void probe.end().catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(200, until - Date.now()))));
    }
  }

  /**
   * Runs `work` holding a session advisory lock on `name`, waiting for it (one holder at a time across
   * every instance). The lock is on one connection of the pool, kept for the duration. Should the
   * server end that session while the work runs (see lockSession), the lock goes with it and another
   * instance may take it: the work is not stopped halfway, and an error in the log names the lock.
   */
  async withLock<R>(name: string, work: () => Promise<R>): Promise<R> {
    const held = await this.checkout();
    const client = held.client;
    const key = lockKey(name);
    try {
      await this.lockSession(client);
      await client.query('SELECT pg_advisory_lock($1::bigint)', [key]).catch((error: unknown) => {
        held.lose();
        throw this.translate(error);
      });
      try {
        return await work();
      } finally {
        await this.unlock(name, key, held);
      }
    } finally {
      held.release();
    }
  }

  /** Runs `work` only if no other session holds `name` now; resolves whether it ran. */
  async tryExclusively(name: string, work: () => Promise<void>): Promise<boolean> {
    const held = await this.checkout();
    const client = held.client;
    const key = lockKey(name);
    try {
      await this.lockSession(client);
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
      if (!got.rows[0]?.ok) return false;
      try {
        await work();
        return true;
      } finally {
        await this.unlock(name, key, held);
      }
    } catch (error) {
      if (isUnavailable(error)) held.lose();
      throw this.translate(error);
    } finally {
      held.release();
    }
  }

  /** Calls `listener` on every NOTIFY on `channel` (from any instance); reconnects the listener itself. */
  async listen(channel: string, listener: () => void): Promise<void> {
    const set = this.channels.get(channel) ?? new Set();
    set.add(listener);
    this.channels.set(channel, set);
    if (!this.listener) await this.connectListener();
    else await this.listener.query(`LISTEN ${channel}`).catch(() => undefined);
  }

  /**
   * Wakes the listeners on `channel` in every instance, in a transaction of its own after the change
   * was committed, with synchronous_commit off. A transaction that has called pg_notify holds one lock
   * for the whole server (the notification queue's, on pg_database) from its commit until the commit
   * is flushed — and replicated, with a synchronous standby (zone-redundant HA): sent inside every
   * audited transaction, it made their commits go one at a time across all instances again. The
   * wake-up is a hint (the workers also look every few seconds), so its own commit need not wait.
   */
  async notify(channel: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SET LOCAL synchronous_commit TO off');
      await client.query('SELECT pg_notify($1, $2)', [channel, '']);
    });
  }

  /** Whether the database answers now (health). */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.listenRetry) clearTimeout(this.listenRetry);
    await this.listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: 5_000, application_name: 'switchboard-listen' });
    client.on('notification', (message) => {
      for (const listener of this.channels.get(message.channel) ?? []) listener();
    });
    const retry = () => {
      if (this.listener === client) this.listener = undefined;
      if (this.closed || this.listenRetry) return;
      // Missed notifications are covered by the workers' own polling; this only brings wake-ups back.
      this.listenRetry = setTimeout(() => {
        this.listenRetry = undefined;
        this.connectListener().catch(() => retry());
      }, 2_000);
      this.listenRetry.unref();
    };
    client.on('error', (error) => {
      this.options.log.warn({ err: error }, 'PostgreSQL: the notification connection was lost (reconnecting)');
      client.end().catch(() => undefined);
      retry();
    });
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
      this.listener = client;
    } catch (error) {
      await client.end().catch(() => undefined);
      retry();
      throw this.translate(error);
    }
  }

  /**
   * A lock's session sits idle while its work runs on other connections: a server set to end idle
   * sessions (idle_session_timeout, PostgreSQL 14 and later; a managed service's default may set it)
   * would end it and free the lock mid-work. Turned off for this session only; a server that does not
   * know the setting (13 and older) has no such timeout, and its error is ignored.
   */
  private async lockSession(client: pg.PoolClient): Promise<void> {
    // Once per connection: the pool keeps its connections, and the card lock is taken on every click.
    if (this.lockSessions.has(client)) return;
    await client.query('SET idle_session_timeout = 0').catch((error: unknown) => {
      if (isUnavailable(error)) throw this.translate(error);
    });
    this.lockSessions.add(client);
  }

  /**
   * Gives the lock back. If its session was lost while the work ran (the unlock fails with it), the
   * work was not exclusive for all of it: said as an error naming the lock.
   */
  private async unlock(name: string, key: string, held: { client: pg.PoolClient; lose(): void; wasLost(): boolean }): Promise<void> {
    const unlocked = await held.client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).then(
      () => true,
      () => {
        held.lose();
        return false;
      },
    );
    if (held.wasLost() || !unlocked)
      this.options.log.error({ lock: name }, 'PostgreSQL: the session holding a lock ended while its work ran; another instance may have run the same work at the same time');
  }

  /**
   * A connection of the pool for a transaction or a lock. A checked-out client has no listener of the
   * pool's, and node-postgres emits an error that comes while none of its queries is active (the
   * server ending the session: a restart, a failover, pg_terminate_backend) as an 'error' event: with
   * no listener, Node ends the process. That happened to a transaction waiting on other work, and to a
   * lock held while its work ran on other connections. Such a connection is not given back for reuse.
   */
  private async checkout(): Promise<{ client: pg.PoolClient; lose(): void; wasLost(): boolean; release(): void }> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
    let broken = false;
    let released = false;
    let lostError = false;
    const lost = (error: Error) => {
      if (!broken) this.options.log.warn({ err: error }, 'PostgreSQL: a connection in use was lost');
      broken = true;
      lostError = true;
    };
    client.on('error', lost);
    return {
      client,
      lose: () => void (broken = true),
      wasLost: () => lostError,
      release: () => {
        if (released) return;
        released = true;
        client.off('error', lost);
        client.release(broken ? true : undefined);
      },
    };
  }

  private translate(error: unknown): unknown {
    if (error instanceof StoreUnavailableError) return error;
    return isUnavailable(error) ? new StoreUnavailableError('PostgreSQL', error) : error;
  }
}
