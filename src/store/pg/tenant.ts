import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../log/logger';
import { StoreUnavailableError } from '../errors';
import { isJsonObject, type DocumentShape, type Json, type Quarantined } from '../journal/shape';
import { Draft, isEmpty, undo, unwrap, type ChangeSet } from '../journal/tracker';
import { isUnavailable, type Database } from './database';

/**
 * The simulated tenant's document kept in PostgreSQL, shared by every instance on the database
 * (issue 11): what one instance changes, the others see, and a check-then-change (the last free seat,
 * a free number) holds across all of them. Same API and same promises as the journaled file store
 * (src/store/journal/store.ts): the document lives in memory, so reads stay fast; a change resolves
 * only once committed; a commit that fails leaves nothing of the change in memory.
 *
 * - **Rows.** Each entry of a collection is one row `sim_entities(collection, key, seq, doc)`; the small
 *   parts (ids, name, domains, SKUs) are rows of the collection `$parts`. A deleted entry is a row
 *   with `doc` NULL (a tombstone). `seq` is the commit that wrote the row last.
 * - **Commits are a compare-and-set on one version row.** A batch of changes is applied in memory
 *   through the change tracker (tracker.ts), and its post-images are written in **one statement**:
 *   `UPDATE sim_tenant SET version = n + 1 WHERE version = n`, and only if that row matched, the
 *   upsert of the rows (CTEs gated on it). PostgreSQL runs that statement atomically, and two of them
 *   on the same version row queue on its row lock: the second finds the version moved and writes
 *   nothing. So every instance's commits form one sequence, and a change is checked against the state
 *   it is committed on. No lock is held between round trips: an instance killed or cut off at any
 *   moment holds nothing that the others would wait for.
 * - **Catching up.** Before each batch, and for each read, the instance fetches the rows written after
 *   its version (one indexed query, one row when nothing changed), so that a read sees every commit
 *   made before it was called. A batch whose compare-and-set lost (another instance committed first)
 *   is undone in memory, caught up and run again: its checks run on the latest state.
 * - **Group commit.** Changes asked for while a batch is in flight form the next batch: one catch-up
 *   and one statement for all of them, each change still applied (and refused) on its own.
 * - **A lost answer.** When the connection breaks after the statement was sent, the commit may or may
 *   not have happened. The instance moves the version on by itself (a fence: the lost statement,
 *   were it still to arrive, can no longer match) and looks in `sim_commits` for the id it gave the
 *   batch; only then does it know, and say, whether the batch committed. If the database cannot be
 *   reached to find out, the batch is reported as failed and taken back in memory; the fence and the
 *   look-up run first thing once the database is back, and a batch found committed after all is
 *   caught up with like any other commit and logged as an error.
 * - **Quarantine.** A row that does not pass the shape's checks is left out of the document and
 *   turned into a tombstone by a commit of its own, after a copy went to `sim_quarantine`; start-up
 *   goes on. Only the parts are required: without valid parts there is no tenant, and start-up says
 *   which row is wrong.
 * - **Seeding.** The first instance on an empty database inserts the seed, in one statement that
 *   does nothing when another instance's seed got there first (INSERT … ON CONFLICT DO NOTHING on
 *   the version row, the entities gated on it).
 * - **Pruning.** Tombstones and commit ids are kept for `keepCommits` commits (the horizon); an
 *   instance that saw less than the horizon reloads the whole document.
 */

/** The collection that holds the document's parts (its members that are not collections). */
export const PARTS = '$parts';

export interface PgTenantStoreOptions<T extends object> {
  db: Database;
  /** The tenant this database holds; a database holding another is refused. */
  tenantId: string;
  shape: DocumentShape;
  /** The document an empty database is seeded with. */
  makeDefault: () => T;
  /** Looks at the loaded document before anything is served; throw to refuse it. */
  accept?: (doc: T) => void;
  /** Told about each stored row that was unusable and set aside. */
  onQuarantine?: (item: Quarantined) => void;
  /** The document changed outside an update: another instance's commits, or changes taken back. */
  onChanged?: () => void;
  log?: Logger;
  /** Tombstones and commit ids are pruned once this many commits are newer (default 10,000). */
  keepCommits?: number;
}

interface Row {
  version: string;
  horizon: string;
  tenant_id: string;
  collection: string | null;
  key: string | null;
  seq: string | null;
  doc: unknown;
}

interface Pending {
  change: (draft: Json) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Reader {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One update of a batch, as applied: its result (or refusal) and what it changed. */
interface Run {
  pending: Pending;
  result?: unknown;
  error?: { thrown: unknown };
  changes?: ChangeSet;
}

interface Doubt {
  seq: number;
  id: string;
  cause: unknown;
}

/** A row to set aside, as the quarantine statement takes it. */
interface Aside {
  c: string;
  k: string;
  seq: number;
  reason: string;
}

const DEFAULT_KEEP = 10_000;
/** The pruning runs after every this many commits (or every `keepCommits`, when fewer). */
const PRUNE_EVERY = 500;
/** A batch that keeps losing its compare-and-set this often is refused (each loss is someone else's commit). */
const MAX_ATTEMPTS = 100;
/** SQLSTATEs after which the statement certainly did nothing and may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']);

const FETCH_SINCE = `
  SELECT t.version, t.horizon, t.tenant_id, e.collection, e.key, e.seq, e.doc
    FROM sim_tenant t LEFT JOIN sim_entities e ON e.seq > $1`;

const FETCH_ALL = `
  SELECT t.version, t.horizon, t.tenant_id, e.collection, e.key, e.seq, e.doc
    FROM sim_tenant t LEFT JOIN sim_entities e ON e.doc IS NOT NULL`;

// The CTEs that write are gated on `t` (EXISTS, an init-plan evaluated before any row): the version
// row is locked and checked before any entity row is touched, in every statement that writes, so two
// statements never wait on each other's rows in opposite orders.
const COMMIT = `
  WITH t AS (UPDATE sim_tenant SET version = $2 WHERE version = $1 RETURNING version),
       c AS (INSERT INTO sim_commits (seq, id) SELECT version, $3::uuid FROM t),
       e AS (INSERT INTO sim_entities (collection, key, seq, doc)
               SELECT x.c, x.k, $2, x.d FROM jsonb_to_recordset($4::jsonb) AS x(c text, k text, d jsonb)
                WHERE EXISTS (SELECT 1 FROM t)
             ON CONFLICT (collection, key) DO UPDATE SET seq = excluded.seq, doc = excluded.doc)
  SELECT count(*)::int AS won FROM t`;

const SEED = `
  WITH t AS (INSERT INTO sim_tenant (tenant_id, version) VALUES ($1, 1) ON CONFLICT (one) DO NOTHING RETURNING version),
       c AS (INSERT INTO sim_commits (seq, id) SELECT version, $2::uuid FROM t)
  INSERT INTO sim_entities (collection, key, seq, doc)
  SELECT x.c, x.k, 1, x.d FROM jsonb_to_recordset($3::jsonb) AS x(c text, k text, d jsonb)
   WHERE EXISTS (SELECT 1 FROM t)`;

/** Moves the version on without changing anything: a lost statement can no longer match. */
const FENCE = `
  WITH t AS (UPDATE sim_tenant SET version = version + 1 RETURNING version)
  INSERT INTO sim_commits (seq, id) SELECT version, $1::uuid FROM t RETURNING seq`;

const COMMITTED = `SELECT (SELECT id::text FROM sim_commits WHERE seq = $1) AS id, horizon FROM sim_tenant`;

/**
 * Sets rows aside: a copy to sim_quarantine, and a tombstone at a new version in their place (only
 * where the row is still the one found bad), so that every instance forgets the entry as well.
 */
const QUARANTINE = `
  WITH t AS (UPDATE sim_tenant SET version = version + 1 RETURNING version),
       c AS (INSERT INTO sim_commits (seq, id) SELECT version, $2::uuid FROM t),
       x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(c text, k text, seq bigint, reason text)),
       q AS (INSERT INTO sim_quarantine (collection, key, seq, reason, doc)
               SELECT s.collection, s.key, s.seq, x.reason, s.doc
                 FROM sim_entities s JOIN x ON s.collection = x.c AND s.key = x.k AND s.seq = x.seq
                WHERE EXISTS (SELECT 1 FROM t)
             ON CONFLICT DO NOTHING)
  UPDATE sim_entities s SET seq = (SELECT version FROM t), doc = NULL
    FROM x WHERE s.collection = x.c AND s.key = x.k AND s.seq = x.seq AND EXISTS (SELECT 1 FROM t)`;

const PRUNE = `
  WITH h AS (UPDATE sim_tenant SET horizon = $1 WHERE horizon < $1 RETURNING horizon),
       d AS (DELETE FROM sim_entities WHERE doc IS NULL AND seq <= $1 AND EXISTS (SELECT 1 FROM h))
  DELETE FROM sim_commits WHERE seq <= $1 AND EXISTS (SELECT 1 FROM h)`;

const WHAT = 'simulated tenant (PostgreSQL)';

/** The statement was never sent (no connection): it certainly did nothing. */
class NotSent extends Error {
  constructor(readonly original: unknown) {
    super('not sent');
  }
}

/** The statement failed on the server with an error that aborts it (it did nothing). */
function failedOnServer(error: unknown): boolean {
  return error instanceof pg.DatabaseError && !isUnavailable(error);
}

function unavailable(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  return isUnavailable(error) ? new StoreUnavailableError(WHAT, error) : error;
}

/** Post-images as the `jsonb_to_recordset` parameter: the tracker's JSON texts, not serialized again. */
function recordsOf(images: Map<string, { collection: string; key: string; after: string }>): string {
  const items: string[] = [];
  for (const { collection, key, after } of images.values()) {
    items.push(`{"c":${JSON.stringify(collection)},"k":${JSON.stringify(key)},"d":${after}}`);
  }
  return `[${items.join(',')}]`;
}

export class PgTenantStore<T extends object> {
  private doc: Json = {};
  /** The last commit this document holds. */
  private version = 0;
  private readonly collections: ReadonlySet<string>;
  private updates: Pending[] = [];
  private readers: Reader[] = [];
  private scheduled = false;
  private running: Promise<void> | undefined;
  private background = new Set<Promise<void>>();
  /** The batch whose commit's answer was lost while the database could not be reached. */
  private doubt: Doubt | undefined;
  /** Why the last catch-up or commit could not reach the database (cleared by the next that does). */
  private lastFailure: unknown;
  private closing: Promise<void> | undefined;

  private readonly keep: number;

  private constructor(private readonly options: PgTenantStoreOptions<T>) {
    this.collections = new Set(options.shape.collections);
    this.keep = Math.max(1, options.keepCommits ?? DEFAULT_KEEP);
  }

  /**
   * Opens the tenant stored in the database (migrated: migrations.ts version 3), seeding it first when
   * the database holds none. Bad entry rows are set aside; bad parts, or another tenant, refuse.
   */
  static async open<T extends object>(options: PgTenantStoreOptions<T>): Promise<PgTenantStore<T>> {
    const store = new PgTenantStore<T>(options);
    await store.load();
    return store;
  }

  /** The live document. Read it freely; change it only through update(). */
  get data(): T {
    return this.doc as unknown as T;
  }

  /**
   * Applies `change` to the latest state of the tenant and resolves once it is committed. `change`
   * runs later than the call (with the changes asked for meanwhile), and may run more than once:
   * when another instance committed first, its effect is undone and it runs again on the new state.
   * So it must change nothing but the draft, and decide only from what it reads there (and from
   * values it was given). A throw undoes what it changed and is the update's answer. The value it
   * returns must not be a live part of the draft: return copies.
   */
  update<R>(change: (draft: T) => R): Promise<R> {
    if (this.closing) return Promise.reject(new Error(`${WHAT} is closed`));
    return new Promise<R>((resolve, reject) => {
      this.updates.push({ change: (draft) => change(draft as unknown as T), resolve: (value) => resolve(value as R), reject });
      this.schedule();
    });
  }

  /**
   * Resolves once the document holds every commit made (by any instance) before the call and no
   * change that is not committed: what a read needs. Rejects with StoreUnavailableError when the
   * database cannot be reached (a read cannot then say what is current).
   */
  settled(): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`${WHAT} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.readers.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Waits for the changes asked for so far to be committed or refused (nothing is buffered). */
  async flush(): Promise<void> {
    while (this.running || this.scheduled || this.updates.length > 0 || this.readers.length > 0) {
      await (this.running ?? new Promise<void>((done) => setImmediate(done)));
    }
    await Promise.all([...this.background]);
  }

  /** Waits for the changes in flight; later updates are refused. The database itself stays open (it is shared). */
  close(): Promise<void> {
    this.closing ??= this.flush();
    return this.closing;
  }

  /** Why the database could not be reached by the last catch-up or commit, if it could not. */
  get failure(): unknown {
    return this.lastFailure;
  }

  /** The last commit this instance's document holds (tests, diagnostics). */
  get committedVersion(): number {
    return this.version;
  }

  // --- batches ---------------------------------------------------------------------------------

  /**
   * Runs a batch on a later turn of the event loop: changes asked for together share it, and
   * whoever was told that the last batch ended sees the document before anything else is applied.
   */
  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.cycle().finally(() => {
        this.running = undefined;
        if (this.updates.length > 0 || this.readers.length > 0) this.schedule();
      });
    });
  }

  /** One batch: catch up, apply, commit (again while another instance wins), answer. Never rejects. */
  private async cycle(): Promise<void> {
    const updates = this.updates;
    const readers = this.readers;
    this.updates = [];
    this.readers = [];
    try {
      if (this.doubt) {
        const doubt = this.doubt;
        if (await this.resolveDoubt(doubt)) {
          // Reported as failed (the database was gone), committed after all: the catch-up below brings
          // it in. Nothing more can be done for whoever was told it failed than to say so here.
          this.options.log?.error({ seq: doubt.seq, err: doubt.cause }, `${WHAT}: a batch of changes reported as failed had committed (its answer was lost with the connection)`);
        }
        this.doubt = undefined;
      }
      await this.catchUp();
      this.lastFailure = undefined;
    } catch (error) {
      const reason = this.failed(error);
      for (const waiter of [...updates, ...readers]) waiter.reject(reason);
      return;
    }
    if (updates.length > 0) await this.commit(updates);
    // The document now holds only committed changes (the batch's, or none of them).
    for (const reader of readers) reader.resolve();
  }

  private async commit(updates: Pending[]): Promise<void> {
    let lostConnections = 0;
    for (let attempt = 1; ; attempt++) {
      const runs = updates.map((pending) => this.apply(pending));
      const changed = runs.filter((run) => run.changes !== undefined);
      if (changed.length === 0) return this.answer(runs);
      const seq = this.version + 1;
      const id = randomUUID();
      let won: boolean;
      try {
        won = await this.write(this.version, seq, id, changed);
      } catch (error) {
        if (error instanceof NotSent || failedOnServer(error)) {
          this.takeBack(changed);
          return this.refuse(updates, this.failed(error instanceof NotSent ? error.original : error));
        }
        // The statement was sent and its answer lost: it may have committed.
        const committed = await this.resolveDoubt({ seq, id, cause: error }).catch(() => undefined);
        if (committed === true) {
          this.version = seq;
          return this.answer(runs);
        }
        this.takeBack(changed);
        if (committed === undefined) {
          this.doubt = { seq, id, cause: error };
          return this.refuse(updates, this.failed(error));
        }
        // Certainly not committed, and the database answers (the connection had died quietly):
        // run the batch again, on the latest state, on another connection.
        if (++lostConnections > this.options.db.pool.totalCount + 1) return this.refuse(updates, this.failed(error));
        try {
          await this.catchUp();
        } catch (again) {
          return this.refuse(updates, this.failed(again));
        }
        continue;
      }
      if (won) {
        this.version = seq;
        this.lastFailure = undefined;
        if (seq % Math.min(PRUNE_EVERY, this.keep) === 0) this.prune(seq);
        return this.answer(runs);
      }
      // Another instance committed first: take ours back and run it again on the latest state.
      this.takeBack(changed);
      try {
        await this.catchUp();
      } catch (error) {
        return this.refuse(updates, this.failed(error));
      }
      if (attempt >= MAX_ATTEMPTS) {
        return this.refuse(updates, new Error(`${WHAT}: ${attempt} commits in a row lost to other instances' commits; not applied`));
      }
    }
  }

  /** Runs one update on the document through a draft; a throw undoes what it changed. */
  private apply(pending: Pending): Run {
    const draft = new Draft(this.doc, this.collections);
    try {
      const result = pending.change(draft.root);
      const changes = draft.finish();
      return isEmpty(changes) ? { pending, result } : { pending, result, changes };
    } catch (thrown) {
      undo(this.doc, draft.finish());
      return { pending, error: { thrown } };
    }
  }

  /** Undoes a batch, newest change first, and says so (indexes built on the document look again). */
  private takeBack(runs: Run[]): void {
    for (let i = runs.length - 1; i >= 0; i--) undo(this.doc, runs[i]!.changes!);
    this.options.onChanged?.();
  }

  private answer(runs: Run[]): void {
    for (const run of runs) {
      if (run.error) run.pending.reject(run.error.thrown);
      else run.pending.resolve(unwrap(run.result));
    }
  }

  private refuse(updates: Pending[], error: unknown): void {
    for (const pending of updates) pending.reject(error);
  }

  private failed(error: unknown): unknown {
    const reason = unavailable(error);
    if (reason instanceof StoreUnavailableError) this.lastFailure = reason;
    return reason;
  }

  // --- statements ------------------------------------------------------------------------------

  /**
   * Runs one statement. With `again`, a statement whose connection broke under it is run again on
   * another: a pooled connection may have died quietly (a fail-over, a NAT that forgot it), and each
   * such connection fails once and is dropped; when no new connection can be had, the database is
   * out of reach. Only for statements that may run twice (reads, the fence).
   */
  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[], again = false): Promise<R[]> {
    const pool = this.options.db.pool;
    const attempts = again ? pool.totalCount + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unavailable(error);
      }
      let broken = false;
      // A checked-out client has no listener of the pool's: an error that arrives when no query is
      // active (the server's FATAL right behind its answer, in the same packet) would be unhandled.
      const lost = () => void (broken = true);
      client.on('error', lost);
      try {
        return (await client.query<R>(text, values)).rows;
      } catch (error) {
        if (!failedOnServer(error)) broken = true;
        if (broken && attempt < attempts) continue;
        throw unavailable(error);
      } finally {
        client.off('error', lost);
        client.release(broken ? true : undefined);
      }
    }
  }

  /**
   * The batch's compare-and-set: resolves whether it won. Throws NotSent when no connection could
   * be had (nothing was sent), and the driver's error otherwise.
   */
  private async write(from: number, to: number, id: string, runs: Run[]): Promise<boolean> {
    // The last post-image of each entry or part the batch changed.
    const images = new Map<string, { collection: string; key: string; after: string }>();
    for (const { changes } of runs) {
      for (const { collection, key, after } of changes!.entries) images.set(`${collection}\u0000${key}`, { collection, key, after });
      for (const { name, after } of changes!.parts) images.set(`${PARTS}\u0000${name}`, { collection: PARTS, key: name, after });
    }
    let client: pg.PoolClient;
    try {
      client = await this.options.db.pool.connect();
    } catch (error) {
      throw new NotSent(error);
    }
    let broken = false;
    const lost = () => void (broken = true);
    client.on('error', lost);
    try {
      const rows = (await client.query<{ won: number }>(COMMIT, [from, to, id, recordsOf(images)])).rows;
      return rows[0]?.won === 1;
    } catch (error) {
      // A deadlock or a serialization failure did nothing: the same as losing the compare-and-set.
      if (error instanceof pg.DatabaseError && RETRYABLE.has(error.code ?? '')) return false;
      broken = !failedOnServer(error);
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken ? true : undefined);
    }
  }

  /**
   * Finds out whether the batch `doubt` committed: first the fence (the version moves on, so the
   * lost statement can no longer match, wherever it is), then its id in sim_commits. Resolves true or
   * false; throws when the database cannot be reached (still in doubt).
   */
  private async resolveDoubt(doubt: Doubt): Promise<boolean> {
    await this.query(FENCE, [randomUUID()], true);
    const row = (await this.query<{ id: string | null; horizon: string }>(COMMITTED, [doubt.seq], true))[0];
    const committed = row?.id === doubt.id;
    if (!committed && row && Number(row.horizon) >= doubt.seq) {
      this.options.log?.warn({ seq: doubt.seq }, `${WHAT}: whether a batch whose answer was lost committed can no longer be told (pruned)`);
    }
    return committed;
  }

  // --- reading the database --------------------------------------------------------------------

  private async load(): Promise<void> {
    let rows = await this.query<Row>(FETCH_ALL, []);
    if (rows.length === 0) {
      const seed = this.options.makeDefault() as unknown as Json;
      await this.query(SEED, [this.options.tenantId, randomUUID(), this.seedRecords(seed)]);
      rows = await this.query<Row>(FETCH_ALL, []);
    }
    const head = rows[0];
    if (!head) throw new Error(`${WHAT}: sim_tenant is empty right after seeding`);
    if (head.tenant_id !== this.options.tenantId) {
      throw new Error(`simulated tenant: the database holds tenant ${head.tenant_id}, not ${this.options.tenantId}`);
    }
    const aside: Aside[] = [];
    const parts: Json = {};
    for (const row of rows) {
      if (row.collection === PARTS && row.key !== null) parts[row.key] = row.doc;
    }
    const checked = this.options.shape.parts(parts);
    if (!checked.ok) {
      throw new Error(`simulated tenant: the database does not hold a valid tenant (rows of sim_entities with collection '${PARTS}'): ${checked.reason}`);
    }
    for (const name of Object.keys(parts)) {
      const part = this.options.shape.part(name, parts[name]);
      if (!part.ok) this.setAside(aside, rowNamed(rows, PARTS, name), part.reason, { part: name });
    }
    const doc: Json = { ...checked.value };
    for (const collection of this.collections) doc[collection] = {};
    for (const row of rows) {
      if (row.collection === null || row.collection === PARTS) continue;
      this.applyEntry(doc, row, aside);
    }
    this.options.accept?.(doc as unknown as T);
    this.doc = doc;
    this.version = Number(head.version);
    await this.quarantine(aside);
  }

  /**
   * Brings the document up to the latest commit: the rows written since this instance's version
   * (a reload of everything when tombstones it needs were pruned, or the database went back in time).
   */
  private async catchUp(): Promise<void> {
    const rows = await this.query<Row>(FETCH_SINCE, [this.version], true);
    const head = rows[0];
    if (!head) throw new Error(`${WHAT}: sim_tenant has no row (the tenant was deleted from the database)`);
    const version = Number(head.version);
    if (version === this.version) return;
    if (version < this.version || Number(head.horizon) > this.version) return this.reload();
    const aside: Aside[] = [];
    for (const row of rows) {
      if (row.collection === null) continue;
      if (row.collection === PARTS) this.applyPart(this.doc, row, aside);
      else this.applyEntry(this.doc, row, aside);
    }
    this.version = version;
    this.options.onChanged?.();
    await this.quarantine(aside);
  }

  /** Replaces the document's contents with the database's (in place: the document stays the same object). */
  private async reload(): Promise<void> {
    const rows = await this.query<Row>(FETCH_ALL, [], true);
    const head = rows[0];
    if (!head) throw new Error(`${WHAT}: sim_tenant has no row (the tenant was deleted from the database)`);
    const aside: Aside[] = [];
    const fresh: Json = {};
    for (const collection of this.collections) fresh[collection] = {};
    for (const row of rows) {
      if (row.collection === null) continue;
      if (row.collection === PARTS) this.applyPart(this.doc, row, aside);
      else this.applyEntry(fresh, row, aside);
    }
    for (const collection of this.collections) this.doc[collection] = fresh[collection];
    this.version = Number(head.version);
    this.options.onChanged?.();
    await this.quarantine(aside);
  }

  /** One row of a collection into `doc`: set, deleted (tombstone), or set aside (and left out). */
  private applyEntry(doc: Json, row: Row, aside: Aside[]): void {
    const { collection, key } = row;
    if (collection === null || key === null) return;
    // A tombstone of something that was never part of the document (e.g. set aside earlier): nothing to remove.
    if (row.doc === null && !this.collections.has(collection)) return;
    if (!this.collections.has(collection)) {
      this.setAside(aside, row, `${collection} is not a collection of this document`, { collection, key });
      return;
    }
    const entries = doc[collection] as Json;
    if (row.doc === null) {
      delete entries[key];
      return;
    }
    const entry = this.options.shape.entry(collection, key, row.doc);
    if (entry.ok) {
      entries[key] = entry.value;
      return;
    }
    // What the database holds for this entry is unusable: as far as anyone can tell, it is gone.
    delete entries[key];
    this.setAside(aside, row, entry.reason, { collection, key });
  }

  /**
   * A part written by another instance. A bad one is reported and the part kept as it was: there is
   * no tenant without its parts, so it is not taken away (a restart then refuses, naming the row).
   */
  private applyPart(doc: Json, row: Row, aside: Aside[]): void {
    const name = row.key;
    if (name === null) return;
    const known = Object.hasOwn(this.doc, name) && !this.collections.has(name);
    // A tombstone of a row that was never a part (set aside earlier): nothing to remove.
    if (row.doc === null && !known) return;
    const part = row.doc === null ? { ok: false as const, reason: 'a part cannot be deleted' } : this.options.shape.part(name, row.doc);
    if (part.ok) {
      doc[name] = part.value;
      return;
    }
    if (known) {
      this.report({ source: sourceOf(row), part: name, reason: `${part.reason} (the part is kept as it was)`, value: row.doc });
      return;
    }
    this.setAside(aside, row, part.reason, { part: name });
  }

  private setAside(aside: Aside[], row: Row | undefined, reason: string, where: { collection?: string; key?: string; part?: string }): void {
    if (!row || row.collection === null || row.key === null || row.seq === null) return;
    this.report({ source: sourceOf(row), ...where, reason, value: row.doc });
    aside.push({ c: row.collection, k: row.key, seq: Number(row.seq), reason });
  }

  private report(item: Quarantined): void {
    this.options.onQuarantine?.(item);
  }

  /**
   * Copies the rows found bad to sim_quarantine and puts tombstones in their place (a commit of its
   * own). When that fails, they stay where they are, left out of every instance's document, and the
   * next start-up sets them aside again.
   */
  private async quarantine(aside: Aside[]): Promise<void> {
    if (aside.length === 0) return;
    try {
      await this.query(QUARANTINE, [JSON.stringify(aside), randomUUID()]);
    } catch (error) {
      this.options.log?.warn({ err: error, rows: aside.length }, `${WHAT}: rows found unusable could not be moved to sim_quarantine (retried at the next start-up)`);
    }
  }

  private prune(seq: number): void {
    const horizon = seq - this.keep;
    if (horizon <= 0) return;
    const run: Promise<void> = this.query(PRUNE, [horizon])
      .then(() => undefined)
      .catch((error: unknown) => this.options.log?.warn({ err: error }, `${WHAT}: pruning tombstones failed (tried again later)`))
      .finally(() => this.background.delete(run));
    this.background.add(run);
  }

  private seedRecords(seed: Json): string {
    const images = new Map<string, { collection: string; key: string; after: string }>();
    for (const [name, value] of Object.entries(seed)) {
      if (this.collections.has(name)) {
        if (!isJsonObject(value)) continue;
        for (const [key, entry] of Object.entries(value)) images.set(`${name}\u0000${key}`, { collection: name, key, after: JSON.stringify(entry) });
      } else {
        images.set(`${PARTS}\u0000${name}`, { collection: PARTS, key: name, after: JSON.stringify(value) });
      }
    }
    return recordsOf(images);
  }
}

function rowNamed(rows: Row[], collection: string, key: string): Row | undefined {
  return rows.find((r) => r.collection === collection && r.key === key);
}

function sourceOf(row: Row): string {
  return `sim_entities (seq ${row.seq ?? '?'})`;
}
