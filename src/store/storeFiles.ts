import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from '../config';

/**
 * Store files that cannot be used as they are, and the one line that stops start-up for each.
 *
 * The rule for an empty file (attack9): a store file that exists but holds nothing (zero bytes, or
 * only whitespace) is taken as a new, empty store only on the data folder's very first start — when
 * no journal segment exists beside it and no other store file of the folder holds anything. After
 * that first start Switchboard never leaves a store file empty (every snapshot is a temp file,
 * fdatasync'ed and renamed over the old one), so an empty one is data that was lost: a restore gone
 * wrong, `> file`, a file system that kept the inode but not the data. Starting on it would silently
 * drop every plan and pending request (workflow.json) or replace the tenant with the demo seed
 * (tenant.json). A file that is missing altogether is still a new store: moving a file away is how
 * an operator asks for that.
 */

export class SnapshotUnreadable extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`cannot read ${file} (${detail})`);
  }
}

export class SnapshotInvalid extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file} does not hold a valid document: ${detail}`);
  }
}

export class SnapshotEmpty extends Error {
  constructor(
    readonly file: string,
    /** What shows that the store existed before, e.g. "tenant.json holds data". */
    readonly evidence: string,
  ) {
    super(`${file} is empty, although this data folder was used before (${evidence})`);
  }
}

/** The files of a data folder whose content shows the folder has been used (audit.jsonl included). */
const STORE_FILES = new Set(['workflow.json', 'tenant.json', 'conversations.json', 'audit.jsonl', 'plans.json', 'requests.json']);
const JOURNAL_SEGMENT = /^(workflow|tenant)\.json\.journal\.\d{1,15}\.jsonl$/;

/**
 * Why the data folder counts as used before (a store file that holds data, or a journal segment), or
 * undefined on its first start. Read before any store is opened: opening writes the first files.
 */
export async function previousUse(dataDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch {
    return undefined; // no folder yet
  }
  for (const name of names.sort()) {
    if (JOURNAL_SEGMENT.test(name)) return `${name} exists`;
    if (!STORE_FILES.has(name)) continue;
    const info = await stat(path.join(dataDir, name)).catch(() => undefined);
    if (info?.isFile() && info.size > 0) return `${name} holds data`;
  }
  return undefined;
}

/** How to speak of one store in the line that stops start-up. */
export interface StoreSubject {
  /** Who is speaking: "workflow store", "simulated tenant". */
  label: string;
  /** A valid what: "tenant", "workflow store". */
  noun: string;
  /** What an empty file would lose: "every plan, pending request and queued message". */
  loses: string;
  /** How the store starts once the file is moved away: "with no plans or requests". */
  startsOver: string;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim().slice(0, 300);

/**
 * A store file that cannot be used becomes one line naming the file and what to do (src/index.ts
 * prints a StartupError's message alone); any other error is returned as it is.
 */
export function refusalFor(error: unknown, subject: StoreSubject): unknown {
  const remedy = `restore it from a backup, or move it away to start ${subject.startsOver}`;
  if (error instanceof SnapshotEmpty) {
    return new StartupError(`${subject.label}: ${error.file} is empty, although this data folder was used before (${error.evidence}); starting on it would lose ${subject.loses}. Stop and ${remedy}.`);
  }
  if (error instanceof SnapshotUnreadable) {
    return new StartupError(`${subject.label}: cannot read ${error.file} (${oneLine(error.detail)}); ${remedy}`);
  }
  if (error instanceof SnapshotInvalid) {
    return new StartupError(`${subject.label}: ${error.file} does not hold a valid ${subject.noun} (${oneLine(error.detail)}); ${remedy}`);
  }
  return error;
}
