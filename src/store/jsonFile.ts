import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

/**
 * One lowdb document per file. lowdb is single-writer: two Low instances on the same file lose writes
 * (shared/reference/stack.md §3), so instances are shared per resolved path within the process.
 * Mutations run synchronously on the in-memory document, so a check-then-change inside one `update`
 * is atomic (the compare-and-set every state transition relies on); steno then serializes and
 * coalesces the file writes (temp file + rename).
 */
export class JsonFileStore<T extends object> {
  private static readonly open_ = new Map<string, Promise<JsonFileStore<object>>>();
  private readonly pending = new Set<Promise<void>>();

  private constructor(
    readonly file: string,
    private readonly db: Low<T>,
  ) {}

  static open<T extends object>(file: string, makeDefaults: () => T): Promise<JsonFileStore<T>> {
    const key = path.resolve(file);
    let opening = JsonFileStore.open_.get(key);
    if (!opening) {
      opening = (async () => {
        await mkdir(path.dirname(key), { recursive: true });
        const db = new Low<T>(new JSONFile<T>(key), makeDefaults());
        await db.read();
        return new JsonFileStore<T>(key, db) as unknown as JsonFileStore<object>;
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

  /**
   * Applies `change` to the document and persists it. `change` must check before it mutates: a
   * throw after a partial mutation would leave the in-memory document changed.
   */
  async update<R>(change: (data: T) => R): Promise<R> {
    const result = change(this.db.data);
    const write = this.db.write();
    this.pending.add(write);
    try {
      await write;
    } finally {
      this.pending.delete(write);
    }
    return result;
  }

  /** Waits for every write in flight (graceful shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Forgets the instance so that a later open() re-reads the file (tests of a restart). */
  async close(): Promise<void> {
    await this.flush();
    JsonFileStore.open_.delete(this.file);
  }
}
