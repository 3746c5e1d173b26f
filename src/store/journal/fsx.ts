import fs from 'node:fs';
import path from 'node:path';

/**
 * The few file-descriptor calls the journal needs, as promises. They go through the `fs` module
 * object at call time (not captured references), so that tests can make them fail with
 * `jest.spyOn(fs, 'write' | 'fdatasync' | ...)` — a full disk (ENOSPC) or a lost permission (EACCES)
 * is tested in-process (issue 9 item 5).
 */

function call<T>(run: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    run((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}

export function openFile(file: string, flags: string): Promise<number> {
  return call<number>((done) => fs.open(file, flags, 0o644, done));
}

export function closeFile(fd: number): Promise<void> {
  return call<void>((done) => fs.close(fd, done));
}

/**
 * Writes all of `buffer` at `position` (pwrite: the offset is ours, not the kernel's file pointer), or
 * at the end of a file opened for appending (`null`).
 */
export async function writeAll(fd: number, buffer: Buffer, position: number | null): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const at = position === null ? null : position + offset;
    const written = await call<number>((done) => fs.write(fd, buffer, offset, buffer.length - offset, at, done));
    if (written <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    offset += written;
  }
}

/**
 * fdatasync is what makes a write durable: without it the bytes sit in the page cache and survive a
 * process crash (kill -9) but not a power loss or a kernel panic. "Acknowledged = durable"
 * (ARCHITECTURE.md) means surviving both. Its cost is one device flush: about 0.3 ms p50 on the
 * ext4 disk this was measured on, more on slow or busy disks — group commit shares it between all
 * changes made while the previous flush was running.
 */
export function datasync(fd: number): Promise<void> {
  return call<void>((done) => fs.fdatasync(fd, done));
}

export function truncate(fd: number, length: number): Promise<void> {
  return call<void>((done) => fs.ftruncate(fd, length, done));
}

export function rename(from: string, to: string): Promise<void> {
  return call<void>((done) => fs.rename(from, to, done));
}

export function unlink(file: string): Promise<void> {
  return call<void>((done) => fs.unlink(file, (error) => done(error && error.code !== 'ENOENT' ? error : null)));
}

/**
 * A new or renamed directory entry is durable only once the directory itself is synced (rename and
 * create are metadata of the directory, not of the file).
 */
export async function syncDirectory(dir: string): Promise<void> {
  const fd = await openFile(dir, 'r');
  try {
    await call<void>((done) => fs.fsync(fd, done));
  } finally {
    await closeFile(fd);
  }
}

/** Writes `text` to `file` and syncs it (a new file: the caller syncs the directory). */
export async function writeDurably(file: string, text: string): Promise<void> {
  const fd = await openFile(file, 'w');
  try {
    await writeAll(fd, Buffer.from(text), 0);
    await datasync(fd);
  } finally {
    await closeFile(fd);
  }
}

export function readText(file: string): Promise<string | undefined> {
  return call<string | undefined>((done) =>
    fs.readFile(file, 'utf8', (error, text) => (error?.code === 'ENOENT' ? done(null, undefined) : done(error, text))),
  );
}

export function listDirectory(dir: string): Promise<string[]> {
  return call<string[]>((done) => fs.readdir(dir, done));
}

export function makeDirectory(dir: string): Promise<void> {
  return call<void>((done) => fs.mkdir(dir, { recursive: true }, (error) => done(error)));
}

export const dirOf = (file: string): string => path.dirname(file);
