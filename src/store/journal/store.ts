import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { appendQuarantine, listSegments, snapshotTempFile } from './files';
import { makeDirectory, rename, syncDirectory, unlink, writeDurably } from './fsx';
import { load, META_KEY, type SnapshotMeta } from './load';
import { Segment } from './segment';
import type { DocumentShape, Json, Quarantined } from './shape';
import { Draft, isEmpty, undo, unwrap, type ChangeSet } from './tracker';

/**
 * A JSON document kept as a snapshot plus an append-only journal, so that a change is durable in
 * about one small write and one fdatasync instead of a rewrite of the whole document ("Acknowledged
 * = durable", ARCHITECTURE.md; issue 9 item 12). At 10,000 accounts the snapshot is ~4 MB: rewriting
 * it per change costs tens of milliseconds, appending a record costs well under one.
 *
 * - **Records.** An update runs synchronously on the in-memory document through a Draft
 *   (tracker.ts), which finds the entries and parts it changed. Their post-images (`null` for a
 *   deleted entry) become one journal line `{"seq":n,"entries":{...},"parts":{...}}`.
 * - **Group commit.** Records made in the same turn of the event loop, or while a write is in flight,
 *   share one write and one fdatasync; update() resolves once its record is durable, and records are
 *   durable in seq order (a record never waits on a later one, never resolves before an earlier one).
 * - **Compaction.** When the journal outgrows the snapshot (at least 1 MiB), a new segment takes the
 *   new records, the document is written as a new snapshot holding `$journal: {lineage, seq}` (temp
 *   file, fdatasync, rename, directory sync), and the older segments are deleted. Replay skips records
 *   up to the snapshot's seq, so a crash at any point neither loses nor applies twice.
 * - **Failure.** When a journal write fails (ENOSPC, EACCES, EIO), every record not yet durable is
 *   undone in memory from its pre-images (newest first, at once), the bytes the failed write left are
 *   cut off the file, and then their updates reject with the error. Until that cut succeeds, updates
 *   reject; once the disk works again, they succeed (issue 9 item 5). Reads wait for the writes in
 *   flight (settled()), so nobody sees a change that is then taken back. A compaction never installs
 *   a snapshot that holds such a change.
 * - **One instance per file** in a process: a second open is refused. Several processes on one file
 *   are not supported (as for lowdb, shared/reference/stack.md §3).
 */

export interface JournaledStoreOptions<T extends object> {
  file: string;
  shape: DocumentShape;
  /** The document a missing or empty snapshot starts as. */
  makeDefault: () => T;
  /** Looks at the loaded document before anything is written; throw to refuse it (e.g. another tenant's). */
  accept?: (doc: T) => void;
  /** Told about each record moved to `<file>.quarantine.jsonl`. */
  onQuarantine?: (item: Quarantined) => void;
  /** Told when changes that were never durable were taken back out of the document. */
  onRevert?: () => void;
  /** Compact once the journal holds this many bytes (default: the snapshot's size, at least 1 MiB). */
  compactAtBytes?: number;
  now?: () => Date;
}

interface Pending {
  seq: number;
  line: string;
  segment: Segment;
  changes: ChangeSet;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MIN_COMPACT_BYTES = 1024 * 1024;

function recordLine(seq: number, changes: ChangeSet): string {
  const entries = new Map<string, string[]>();
  for (const { collection, key, after } of changes.entries) {
    const members = entries.get(collection) ?? [];
    members.push(`${JSON.stringify(key)}:${after}`);
    entries.set(collection, members);
  }
  const entryText = [...entries].map(([collection, members]) => `${JSON.stringify(collection)}:{${members.join(',')}}`).join(',');
  const partText = changes.parts.map(({ name, after }) => `${JSON.stringify(name)}:${after}`).join(',');
  return `{"seq":${seq},"entries":{${entryText}},"parts":{${partText}}}\n`;
}

export class JournaledStore<T extends object> {
  private static readonly openFiles = new Set<string>();

  private appliedSeq: number;
  private durableSeq: number;
  /** Applied in memory, not yet handed to a write (oldest first). */
  private queue: Pending[] = [];
  /** Handed to the write in flight, not yet durable. */
  private inFlight: Pending[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;
  private writing: Promise<void> | undefined;
  /** Segments before the active one, still holding records that no snapshot includes yet. */
  private retired: Segment[] = [];
  private compaction: Promise<void> | undefined;
  private compactAt: number;
  private repair: Promise<void> | undefined;
  /** Why updates are refused: the bytes of a failed write could not be cut off yet. */
  private broken: { error: unknown } | undefined;
  /** Counts failed writes: after one, the seq numbers of the records taken back are used again. */
  private failures: { count: number; last?: unknown } = { count: 0 };
  private closing: Promise<void> | undefined;
  private readonly collections: ReadonlySet<string>;

  private constructor(
    readonly file: string,
    private readonly doc: Json,
    private readonly options: JournaledStoreOptions<T>,
    private readonly lineage: string,
    seq: number,
    private active: Segment,
    private snapshotBytes: number,
  ) {
    this.appliedSeq = seq;
    this.durableSeq = seq;
    this.collections = new Set(options.shape.collections);
    this.compactAt = this.threshold();
  }

  static async open<T extends object>(options: JournaledStoreOptions<T>): Promise<JournaledStore<T>> {
    const file = path.resolve(options.file);
    if (JournaledStore.openFiles.has(file)) {
      throw new Error(`${file} is already open in this process (one instance per file); close it first`);
    }
    JournaledStore.openFiles.add(file);
    try {
      await makeDirectory(path.dirname(file));
      const loaded = await load(file, options.shape, () => options.makeDefault() as unknown as Json);
      options.accept?.(loaded.doc as unknown as T);
      await appendQuarantine(file, loaded.quarantined, (options.now ?? (() => new Date()))());
      for (const item of loaded.quarantined) options.onQuarantine?.(item);

      const lineage = loaded.meta?.lineage ?? randomUUID();
      const meta: SnapshotMeta = { lineage, seq: loaded.seq };
      // The snapshot is rewritten at start-up only when it lacks something: records replayed from the
      // journal, quarantined entries to drop, or the journal bookkeeping (a file from before the journal).
      let snapshotBytes = loaded.snapshotBytes;
      if (!loaded.meta || loaded.replayed > 0 || loaded.quarantined.length > 0) {
        snapshotBytes = await writeSnapshot(file, loaded.doc, meta);
      }
      const active = await Segment.create(file, loaded.lastSegment + 1, lineage);
      await removeSegmentsBefore(file, active.segment);
      return new JournaledStore<T>(file, loaded.doc, options, lineage, loaded.seq, active, snapshotBytes);
    } catch (error) {
      JournaledStore.openFiles.delete(file);
      throw error;
    }
  }

  /** The live document. Read it freely; change it only through update(). */
  get data(): T {
    return this.doc as unknown as T;
  }

  /**
   * Applies `change` to the document at once (synchronously: a check-then-change inside it is atomic)
   * and resolves once the change is on disk. A throw from `change` undoes whatever it had changed.
   * The value `change` returns must not be a live part of the document's draft: return copies.
   */
  async update<R>(change: (draft: T) => R): Promise<R> {
    if (this.closing) throw new Error(`${this.file} is closed`);
    if (this.repair || this.broken) await this.recover();
    const draft = new Draft(this.doc, this.collections);
    let result: R;
    try {
      result = change(draft.root as unknown as T);
    } catch (error) {
      undo(this.doc, draft.finish());
      throw error;
    }
    const changes = draft.finish();
    if (isEmpty(changes)) {
      // Nothing to write, but what it saw must not be taken back: wait for the changes before it.
      await this.durable(this.appliedSeq);
      return unwrap(result);
    }
    const seq = ++this.appliedSeq;
    this.queue.push({ seq, line: recordLine(seq, changes), segment: this.active, changes });
    this.schedule();
    await this.durable(seq);
    return unwrap(result);
  }

  /** Resolves once every change applied so far is durable or taken back (a read that must not see phantoms). */
  settled(): Promise<void> {
    return this.durable(this.appliedSeq).catch(() => undefined);
  }

  /**
   * Waits for the writes in flight, then folds the journal into the snapshot, so that the snapshot
   * alone holds every change made before the call (graceful shutdown).
   */
  async flush(): Promise<void> {
    await this.settled();
    // A compaction already running may have started before the last changes: wait, then look again.
    await this.compaction?.catch(() => undefined);
    if (this.active.hasRecords || this.retired.length > 0) await this.startCompaction();
  }

  /** Flushes and releases the file: later updates are refused, a later open() reads it again. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.flush();
      } finally {
        await this.writing;
        await this.compaction?.catch(() => undefined);
        for (const segment of [...this.retired, this.active]) await segment.close().catch(() => undefined);
        JournaledStore.openFiles.delete(this.file);
      }
    })();
    return this.closing;
  }

  /** Why updates are refused right now (a failed write whose bytes could not be cut off yet), if they are. */
  get failure(): unknown {
    return this.broken?.error;
  }

  /** Bytes in the journal (tests, compaction). */
  get journalBytes(): number {
    return this.active.size + this.retired.reduce((sum, s) => sum + s.size, 0);
  }

  // --- durability ------------------------------------------------------------------------------

  private durable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  private release(): void {
    const done = this.waiters.filter((w) => w.seq <= this.durableSeq);
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.durableSeq);
    for (const waiter of done) waiter.resolve();
  }

  /** Starts a write on the next turn of the event loop, so that changes made together share it. */
  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writing ??= this.write().finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0 && !this.repair && !this.broken) this.schedule();
      });
    });
  }

  /** Writes batches until nothing is queued: each batch is everything queued when it starts. */
  private async write(): Promise<void> {
    while (this.queue.length > 0 && !this.repair && !this.broken) {
      this.inFlight = this.queue;
      this.queue = [];
      // One write + fdatasync per segment: during a compaction, older records still go to the old one.
      while (this.inFlight.length > 0) {
        const segment = this.inFlight[0]!.segment;
        const count = this.inFlight.findIndex((p) => p.segment !== segment);
        const group = this.inFlight.slice(0, count === -1 ? undefined : count);
        try {
          await segment.append(Buffer.from(group.map((p) => p.line).join('')));
        } catch (error) {
          this.fail(error);
          return;
        }
        this.inFlight = this.inFlight.slice(group.length);
        this.durableSeq = group[group.length - 1]!.seq;
        this.release();
      }
      if (this.journalBytes >= this.compactAt && !this.compaction && !this.closing) void this.startCompaction().catch(() => undefined);
    }
  }

  /**
   * A write failed: nothing that is not on disk may stay in memory. Undo every record not yet
   * durable, newest first (at once: later updates and reads see the tenant without them), cut the
   * failed bytes off the journal, and only then reject the updates: a caller told "failed" must not
   * find the change after a restart (unless the cut itself failed, which health() reports).
   */
  private fail(error: unknown): void {
    const lost = [...this.inFlight, ...this.queue];
    this.inFlight = [];
    this.queue = [];
    for (let i = lost.length - 1; i >= 0; i--) undo(this.doc, lost[i]!.changes);
    this.appliedSeq = this.durableSeq;
    this.failures = { count: this.failures.count + 1, last: error };
    this.options.onRevert?.();
    const rejected = this.waiters.filter((w) => w.seq > this.durableSeq);
    this.waiters = this.waiters.filter((w) => w.seq <= this.durableSeq);
    this.broken = { error };
    // startRepair() settles, never rejects (it keeps its own failure in `broken`).
    this.startRepair()
      .finally(() => {
        for (const waiter of rejected) waiter.reject(error);
      })
      .catch(() => undefined);
  }

  private startRepair(): Promise<void> {
    this.repair ??= (async () => {
      try {
        for (const segment of [...this.retired, this.active]) await segment.cutBack();
        this.broken = undefined;
      } catch (error) {
        this.broken = { error };
      } finally {
        this.repair = undefined;
      }
    })();
    return this.repair;
  }

  /** Before an update after a failure: the failed bytes must be gone, or the update is refused. */
  private async recover(): Promise<void> {
    await (this.repair ?? this.startRepair());
    if (this.broken) throw this.broken.error;
  }

  // --- compaction ------------------------------------------------------------------------------

  private threshold(): number {
    return this.options.compactAtBytes ?? Math.max(MIN_COMPACT_BYTES, this.snapshotBytes);
  }

  private startCompaction(): Promise<void> {
    this.compaction ??= this.compact()
      .then(
        () => {
          this.compactAt = this.threshold();
        },
        (error: unknown) => {
          // Try again once the journal has grown by another threshold; flush() and close() try at once.
          this.compactAt = this.journalBytes + this.threshold();
          throw error;
        },
      )
      .finally(() => {
        this.compaction = undefined;
      });
    return this.compaction;
  }

  /**
   * 1. A new segment takes every record from now on (older ones still go where they were queued).
   * 2. The document as of the last applied record `seq` is serialized (synchronously: ~15 ms of main
   *    thread at 10,000 accounts, once per compaction) and written to a temp file, synced.
   * 3. Only once every record up to `seq` is durable is the temp file renamed over the snapshot: a
   *    snapshot must never hold a change whose write then failed and was taken back.
   * 4. The older segments are deleted: everything in them is in the snapshot.
   * A crash anywhere leaves a snapshot plus segments that replay to the same document.
   */
  private async compact(): Promise<void> {
    const next = await Segment.create(this.file, this.active.segment + 1, this.lineage);
    this.retired.push(this.active);
    this.active = next;
    const seq = this.appliedSeq;
    const failures = this.failures.count;
    const text = serialize(this.doc, { lineage: this.lineage, seq });
    const temp = snapshotTempFile(this.file);
    try {
      await writeDurably(temp, text);
      // A write failed meanwhile: changes in `text` were taken back, and their seq numbers may now
      // belong to other changes, so waiting for `seq` would prove nothing. Checked in the same step
      // as the wait starts; a failure after that rejects the wait itself.
      if (this.failures.count !== failures) throw this.failures.last;
      await this.durable(seq);
      await rename(temp, this.file);
      await syncDirectory(path.dirname(this.file));
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    this.snapshotBytes = Buffer.byteLength(text);
    const done = this.retired.filter((s) => s.segment < next.segment);
    this.retired = this.retired.filter((s) => s.segment >= next.segment);
    for (const segment of done) await segment.close().catch(() => undefined);
    await removeSegmentsBefore(this.file, next.segment);
  }
}

function serialize(doc: Json, meta: SnapshotMeta): string {
  return JSON.stringify({ [META_KEY]: meta, ...doc });
}

async function writeSnapshot(file: string, doc: Json, meta: SnapshotMeta): Promise<number> {
  const text = serialize(doc, meta);
  const temp = snapshotTempFile(file);
  await writeDurably(temp, text);
  await rename(temp, file);
  await syncDirectory(path.dirname(file));
  return Buffer.byteLength(text);
}

/** Deletes segments older than `segment` (their records are all in the snapshot); a failure is retried next time. */
async function removeSegmentsBefore(file: string, segment: number): Promise<void> {
  for (const found of await listSegments(file)) {
    if (found.segment < segment) await unlink(found.file).catch(() => undefined);
  }
}
