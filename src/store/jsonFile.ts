import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Low } from 'lowdb';
import { DurableJsonFile } from './durableFile';
import { StoreUnavailableError } from './errors';

/**
 * Write-behind: update() returns once the in-memory document has changed, and one write follows a
 * window later for every change made meanwhile. The window is 20× the time the last serialization
 * took (so background writes use at most ~5% of the main thread however large the document), kept
 * between `minMs` and `maxMs`. Only for data that can be rebuilt (ARCHITECTURE.md "Acknowledged =
 * durable"): a crash loses the changes of the current window.
 */
export interface WriteBehind {
  minMs: number;
  maxMs: number;
}

export interface JsonFileStoreOptions {
  /** Without it (the default), update() resolves once a write that includes the change is on disk. */
  writeBehind?: WriteBehind;
  /** Why the file's folder counts as used before: an empty file is then refused (storeFiles.ts). */
  usedBefore?: string;
}

/** Background writes get at most 1/WINDOW_FACTOR of the main thread. */
const WINDOW_FACTOR = 20;

interface Waiter {
  generation: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * One lowdb document per file. lowdb is single-writer: two Low instances on the same file lose writes
 * (shared/reference/stack.md §3), so instances are shared per resolved path within the process.
 * Mutations run synchronously on the in-memory document, so a check-then-change inside one `update`
 * is atomic (the compare-and-set every state transition relies on).
 *
 * Writes are group commits: the document is serialized (compact JSON) once per write, for every
 * change made since the previous one, and written durably (DurableJsonFile: temp file, fdatasync,
 * rename). A failed write (disk full, permissions) puts the in-memory document back to what is on disk
 * and rejects every change that was not on disk yet, so that memory never holds a change the disk
 * lost: the callers of those changes were not acknowledged and say so.
 */
export class JsonFileStore<T extends object> {
  private static readonly open_ = new Map<string, Promise<JsonFileStore<object>>>();
  /** Changes applied in memory, and how many of them are on disk. */
  private changed = 0;
  private written = 0;
  /** The last change that asked to be durable (touch() changes ride along and need no write). */
  private required = 0;
  private pump: Promise<void> | undefined;
  private timeout: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly revertListeners: (() => void)[] = [];
  /** The document as it is on disk (the text of the last write that succeeded). */
  private durable: string;
  /** The text being written by the write in flight. */
  private serialized = '';

  /** How long the last serialization of the document blocked the main thread (ms). */
  private serializeMs = 0;

  private constructor(
    readonly file: string,
    private readonly db: Low<T>,
    private readonly writeBehind: WriteBehind | undefined,
  ) {
    this.durable = JSON.stringify(db.data);
  }

  static open<T extends object>(file: string, makeDefaults: () => T, options: JsonFileStoreOptions = {}): Promise<JsonFileStore<T>> {
    const key = path.resolve(file);
    let opening = JsonFileStore.open_.get(key);
    if (!opening) {
      opening = (async () => {
        await mkdir(path.dirname(key), { recursive: true });
        let store: JsonFileStore<T> | undefined;
        // Compact JSON: a third smaller and faster to write than lowdb's pretty JSONFile; reads either.
        const adapter = new DurableJsonFile<T>(
          key,
          (data) => {
            const text = JSON.stringify(data);
            if (store) store.serialized = text;
            return text;
          },
          options.usedBefore,
        );
        const db = new Low<T>(adapter, makeDefaults());
        await db.read();
        store = new JsonFileStore<T>(key, db, options.writeBehind);
        return store as unknown as JsonFileStore<object>;
      })();
      JsonFileStore.open_.set(key, opening);
      opening.catch(() => JsonFileStore.open_.delete(key));
    }
    return opening as unknown as Promise<JsonFileStore<T>>;
  }

  /** The live document. Treat as read-only: change it only through update(). */
  get data(): T {
    return this.db.data;
  }

  /** Called after a failed write put the document back to what is on disk (drop caches built on it). */
  onRevert(listener: () => void): void {
    this.revertListeners.push(listener);
  }

  /**
   * Applies `change` to the document and persists it (write-through: resolves once on disk, rejects
   * with StoreUnavailableError if the write failed; write-behind: resolves at once). `change` must
   * check before it mutates: a throw after a partial mutation would leave the in-memory document
   * changed.
   */
  async update<R>(change: (data: T) => R): Promise<R> {
    const result = change(this.db.data);
    const generation = ++this.changed;
    this.required = generation;
    if (this.writeBehind) {
      this.schedule(this.windowMs());
      return result;
    }
    await this.persisted(generation);
    return result;
  }

  /**
   * Applies a change that needs no write of its own: it rides along with the next write (e.g.
   * housekeeping whose loss in a crash is harmless because it is redone at start-up).
   */
  touch(change: (data: T) => void): void {
    change(this.db.data);
    this.changed += 1;
  }

  /**
   * Resolves once every change made so far is on disk — or was rolled back because its write failed.
   * Readers await it so that they never see a change that is not durable yet (read-committed): a
   * card must not show "approved" for a decision the disk then lost.
   */
  async settled(): Promise<void> {
    if (this.written >= this.required) return;
    await this.persisted(this.required).catch(() => undefined);
  }

  /** Writes every change made so far (write-behind included) and waits for it (graceful shutdown). */
  async flush(): Promise<void> {
    if (this.written >= this.changed) return;
    await this.persisted(this.changed);
  }

  /** Forgets the instance so that a later open() re-reads the file (tests of a restart). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      JsonFileStore.open_.delete(this.file);
    }
  }

  /** Resolves once generation `generation` is on disk; starts a write now if none is under way. */
  private persisted(generation: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ generation, resolve, reject });
      this.schedule(0);
    });
  }

  /**
   * Starts the writer after `delayMs` (0: on the next turn of the event loop, so that changes made
   * together share one write). A writer already running picks the new changes up when its write ends.
   */
  private schedule(delayMs: number): void {
    if (this.pump || this.immediate) return;
    if (delayMs > 0) {
      this.timeout ??= setTimeout(() => this.start(), delayMs);
      return;
    }
    if (this.timeout) clearTimeout(this.timeout);
    this.timeout = undefined;
    this.immediate = setImmediate(() => this.start());
  }

  private start(): void {
    if (this.timeout) clearTimeout(this.timeout);
    this.timeout = undefined;
    this.immediate = undefined;
    this.pump ??= this.run().finally(() => {
      this.pump = undefined;
      // Changes made during the last write, or waiters that came late, get a writer of their own.
      if (this.waiters.length > 0) this.schedule(0);
      else if (this.written < this.changed && this.writeBehind) this.schedule(this.windowMs());
    });
  }

  private async run(): Promise<void> {
    // Bounded: each pass writes everything changed so far; a waiter never needs more than two.
    for (let pass = 0; pass < 2 && this.written < this.changed; pass++) {
      const generation = this.changed;
      try {
        // Serializes now (synchronously: the document cannot change under it), then writes.
        const started = performance.now();
        const write = this.db.write();
        this.serializeMs = performance.now() - started;
        const text = this.serialized;
        await write;
        this.written = generation;
        this.durable = text;
      } catch (error) {
        this.revert(error);
        return;
      }
      this.settle();
      // Write-behind: the next write waits its turn (schedule), so that writes stay at most one per window.
      if (this.writeBehind && this.waiters.length === 0) return;
    }
  }

  /** 0 (write-through) or the write-behind window. */
  private windowMs(): number {
    if (!this.writeBehind) return 0;
    const { minMs, maxMs } = this.writeBehind;
    return Math.min(maxMs, Math.max(minMs, Math.ceil(this.serializeMs * WINDOW_FACTOR)));
  }

  /** Resolves, in order, the waiters whose change is on disk. */
  private settle(): void {
    const done = this.waiters.filter((w) => w.generation <= this.written);
    if (done.length === 0) return;
    const rest = this.waiters.filter((w) => w.generation > this.written);
    this.waiters.splice(0, this.waiters.length, ...rest);
    for (const waiter of done) waiter.resolve();
  }

  /**
   * The write failed: memory goes back to the disk's version, and every change not on disk is
   * rejected — including those made while the failed write was in flight, which built on it.
   */
  private revert(cause: unknown): void {
    this.db.data = JSON.parse(this.durable) as T;
    this.changed = this.written;
    this.required = this.written;
    const failed = this.waiters.splice(0);
    const error = new StoreUnavailableError(path.basename(this.file), cause);
    for (const waiter of failed) waiter.reject(error);
    for (const listener of this.revertListeners) listener();
  }
}
