import path from 'node:path';
import { closeFile, datasync, listDirectory, openFile, syncDirectory, writeAll } from './fsx';
import type { Quarantined } from './shape';

/**
 * The files beside a snapshot `tenant.json`:
 * - `tenant.json.journal.<n>.jsonl`: journal segments, replayed in order of n after the snapshot;
 * - `tenant.json.quarantine.jsonl`: stored records that could not be used (issue 9 item 11);
 * - `.tenant.json.snapshot.tmp`: a snapshot being written (renamed over tenant.json once durable).
 */

export const quarantineFile = (file: string): string => `${file}.quarantine.jsonl`;
export const snapshotTempFile = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.snapshot.tmp`);
export const segmentFile = (file: string, segment: number): string => `${file}.journal.${segment}.jsonl`;

/** The journal segments beside `file`, oldest first. */
export async function listSegments(file: string): Promise<{ segment: number; file: string }[]> {
  const prefix = `${path.basename(file)}.journal.`;
  const found: { segment: number; file: string }[] = [];
  for (const name of await listDirectory(path.dirname(file))) {
    if (!name.startsWith(prefix) || !name.endsWith('.jsonl')) continue;
    const digits = name.slice(prefix.length, -'.jsonl'.length);
    if (/^\d{1,15}$/.test(digits)) found.push({ segment: Number(digits), file: path.join(path.dirname(file), name) });
  }
  return found.sort((a, b) => a.segment - b.segment);
}

/**
 * Appends quarantined records to the quarantine file, durably: the next snapshot no longer holds
 * them, so this copy must be on disk first.
 */
export async function appendQuarantine(file: string, items: readonly Quarantined[], at: Date): Promise<void> {
  if (items.length === 0) return;
  const target = quarantineFile(file);
  const text = items.map((item) => JSON.stringify({ at: at.toISOString(), ...item }) + '\n').join('');
  const fd = await openFile(target, 'a');
  try {
    await writeAll(fd, Buffer.from(text), null);
    await datasync(fd);
  } finally {
    await closeFile(fd);
  }
  await syncDirectory(path.dirname(target));
}
