import path from 'node:path';
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { SnapshotEmpty, SnapshotUnreadable } from './storeFiles';

/**
 * A lowdb adapter whose write is durable before it resolves: the new content goes to a temp file that
 * is fdatasync'ed, then renamed over the old one, then the folder is synced so that the rename itself
 * survives a power loss. lowdb's own TextFile (steno) renames without syncing, which survives kill -9
 * but not a power cut, and retries a failed rename ten times with a 100 ms pause — a full disk would
 * stall every write for a second (ARCHITECTURE.md "Acknowledged = durable").
 */
export class DurableJsonFile<T> implements Adapter<T> {
  private readonly temp: string;

  constructor(
    readonly file: string,
    private readonly serialize: (data: T) => string = (data) => JSON.stringify(data),
    /** Why the file's folder counts as used before: an empty file is then refused (storeFiles.ts). */
    private readonly usedBefore?: string,
  ) {
    this.temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  }

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SnapshotUnreadable(this.file, String(error));
    }
    if (text.trim() === '') {
      // An empty file (e.g. from `touch`) holds nothing yet — on the folder's first start only.
      if (this.usedBefore) throw new SnapshotEmpty(this.file, this.usedBefore);
      return null;
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new SnapshotUnreadable(this.file, String(error));
    }
  }

  write(data: T): Promise<void> {
    return writeDurably(this.file, this.temp, this.serialize(data));
  }
}

/** Writes `text` to `file` atomically and durably (temp file + fdatasync + rename + folder sync). */
export async function writeDurably(file: string, temp: string, text: string): Promise<void> {
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.datasync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    // A half-written temp file must not linger (it would fill the disk further).
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, file);
  await syncFolder(path.dirname(file));
}

/** fsync on the folder makes a rename durable; some file systems refuse it, which changes nothing. */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EINVAL/EPERM on file systems without folder fsync: the rename is as durable as it gets.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
