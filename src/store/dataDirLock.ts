import { createHash, randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from '../config';

/**
 * One Switchboard process per data folder: the store files are single-writer (stack.md §3), so a
 * second process on the same folder would lose writes and run plans twice.
 *
 * The lock is `switchboard.lock`, holding who owns it: pid, the process's start time (field 22 of
 * /proc/<pid>/stat on Linux, in clock ticks since boot) and a random token. A pid alone is not an
 * identity: after a reboot or in a new container the same pid belongs to another process, and a lock
 * naming it would keep every later start out (attack9). With the start time, "that pid runs, but it is
 * not the process that wrote the lock" is told apart from "the owner is still running".
 *
 * - **Taking a free lock**: the content is written to a temp file first, then hard-linked to
 *   `switchboard.lock`. link() fails with EEXIST if the name exists (O_EXCL semantics), and the file
 *   it publishes is already complete: nobody ever reads a lock that is empty or half written. (The
 *   former open(wx) + write let a second process read the empty file, take it for abandoned, delete
 *   it and "acquire" too.)
 * - **Taking over a stale lock** (its owner is gone, or its pid now belongs to another process):
 *   several processes starting together all see it stale, and removing it blindly could remove the
 *   lock the first of them has just installed. So each stale lock is taken over through a claim
 *   `switchboard.lock.takeover.<id of that lock>.<n>`, created with link() (only one process gets
 *   it); the claimer reads the lock again, and only if it is still the same stale file renames its
 *   own file over it (rename replaces atomically). A claimer that died is superseded by claim n+1.
 * - **Release** removes the lock only if it still holds this process's token.
 *
 * Limits: the pid check sees processes of this machine (or container's pid namespace) only; two
 * machines sharing the folder over a network file system are not told apart. The file system must
 * support hard links (local disks and Docker volumes do).
 */
export const LOCK_FILE = 'switchboard.lock';
const TAKEOVER = `${LOCK_FILE}.takeover.`;
/** How long start-up waits for another process that is in the middle of taking over a stale lock. */
const TAKEOVER_WAIT_MS = 5_000;
/** Temp files of an acquire that died before it linked are removed once older than this. */
const ABANDONED_TEMP_MS = 60_000;
/**
 * /proc reports start times in USER_HZ ticks, which is 100 on every mainstream Linux architecture
 * (the userland ABI fixed it; proc(5)). Used only to date a lock written by an older version.
 */
const TICKS_PER_SECOND = 100;

interface Owner {
  pid: number;
  /** /proc start time of `pid`, or null where /proc is not available (macOS, Windows). */
  start: string | null;
  token: string;
}

/** A lock file as found: who it names (undefined: nobody usable), and an id for exactly this file. */
interface Found {
  id: string;
  owner: Partial<Owner> | undefined;
  /** When the file was last written (ms): a bare-pid lock from an older version is dated by it. */
  writtenAt: number;
}

type Liveness = { state: 'gone' } | { state: 'running'; start: string | undefined };

export class DataDirLock {
  private released = false;

  private constructor(
    private readonly file: string,
    private readonly token: string,
  ) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, LOCK_FILE);
    const self = await liveness(process.pid);
    const me: Owner = { pid: process.pid, start: self.state === 'running' ? (self.start ?? null) : null, token: randomUUID() };
    const temp = path.join(dataDir, `${LOCK_FILE}.${me.token}.tmp`);
    await writeFile(temp, `${JSON.stringify({ ...me, since: new Date().toISOString() })}\n`, { flag: 'wx', mode: 0o600 }).catch((error: unknown) => {
      throw new StartupError(`Cannot write in SWITCHBOARD_DATA_DIR=${dataDir} (${codeOf(error) || String(error)}): Switchboard keeps its store there.`);
    });
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    try {
      for (;;) {
        if (await publish(temp, file, dataDir)) break;
        if (Date.now() > deadline) {
          throw new StartupError(`Could not lock SWITCHBOARD_DATA_DIR=${dataDir} (${file}): another process keeps taking it over. Is a second Switchboard starting on this folder?`);
        }
        const found = await readLock(file);
        if (!found) continue; // released between our link and our read: try again
        if (await ownedByLiveProcess(found, me)) {
          throw new StartupError(
            `Another Switchboard (pid ${found.owner?.pid}) is using SWITCHBOARD_DATA_DIR=${dataDir}: stop it first, or give this one its own folder (or use a shared PostgreSQL store).`,
          );
        }
        const outcome = await takeOver(dataDir, file, temp, found, me);
        if (outcome === 'taken') break;
        if (outcome === 'busy') await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await rm(temp, { force: true });
    }
    await removeLeftovers(dataDir);
    return new DataDirLock(file, me.token);
  }

  /** Removes the lock if it is still this one's (never another process's). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const found = await readLock(this.file);
    if (found?.owner?.token === this.token) await rm(this.file, { force: true });
  }
}

/** link(): true when the lock was free and is now ours, false when one exists. */
async function publish(temp: string, file: string, dataDir: string): Promise<boolean> {
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw new StartupError(`Cannot create the lock ${file} in SWITCHBOARD_DATA_DIR=${dataDir} (${codeOf(error) || String(error)}); the folder must be writable, on a file system with hard links.`);
  }
}

/**
 * Replaces the stale lock `found` with ours, if no other process does it first. 'busy': another
 * process is taking it over right now; 'changed': the lock is no longer `found` (look again).
 */
async function takeOver(dataDir: string, file: string, temp: string, found: Found, me: Owner): Promise<'taken' | 'busy' | 'changed'> {
  const prefix = `${TAKEOVER}${found.id}.`;
  const generations = (await readdir(dataDir))
    .filter((name) => name.startsWith(prefix))
    .map((name) => Number(name.slice(prefix.length)))
    .filter(Number.isSafeInteger);
  let generation = 0;
  if (generations.length > 0) {
    const last = Math.max(...generations);
    const claimer = await readLock(path.join(dataDir, `${prefix}${last}`));
    if (claimer && (await ownedByLiveProcess(claimer, me))) return 'busy';
    // The last claimer died before it finished (or its claim just went away): the next one may try.
    generation = last + 1;
  }
  const claim = path.join(dataDir, `${prefix}${generation}`);
  try {
    await link(temp, claim);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return 'busy';
    throw error;
  }
  // Only the holder of this claim replaces `found`; but another claimer may have done it already.
  const now = await readLock(file);
  if (now?.id !== found.id) {
    await rm(claim, { force: true });
    return 'changed';
  }
  await rename(temp, file);
  return 'taken';
}

/**
 * Claims of takeovers that are over, and temp files of acquires that died: once we hold the lock,
 * a claim can only be for an older lock (a late claimer finds the lock changed and gives up).
 */
async function removeLeftovers(dataDir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dataDir).catch(() => [] as string[])) {
    const full = path.join(dataDir, name);
    if (name.startsWith(TAKEOVER)) await rm(full, { force: true }).catch(() => undefined);
    else if (name.startsWith(`${LOCK_FILE}.`) && name.endsWith('.tmp')) {
      const info = await stat(full).catch(() => undefined);
      if (info && now - info.mtimeMs > ABANDONED_TEMP_MS) await rm(full, { force: true }).catch(() => undefined);
    }
  }
}

/** Reads a lock file in one open (its id and content from the same file), or undefined if there is none. */
async function readLock(file: string): Promise<Found | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    const text = await handle.readFile('utf8');
    const id = createHash('sha256').update(`${info.dev}:${info.ino}:${info.mtimeMs}:${text}`).digest('hex').slice(0, 24);
    return { id, owner: ownerOf(text), writtenAt: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/** This version's JSON line, or an older version's bare pid; anything else names nobody. */
function ownerOf(text: string): Partial<Owner> | undefined {
  const trimmed = text.trim();
  if (/^\d{1,10}$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const value = JSON.parse(trimmed) as Record<string, unknown>;
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0) return undefined;
    return {
      pid: value.pid as number,
      start: typeof value.start === 'string' ? value.start : null,
      ...(typeof value.token === 'string' ? { token: value.token } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that wrote `found` still runs. A lock naming our own pid is not another
 * process's: it is an earlier open in this process that was never released (tests reopen a folder
 * after a simulated crash), or a former process that had our pid (pid 1 of a previous container).
 */
async function ownedByLiveProcess(found: Found, me: Owner): Promise<boolean> {
  const owner = found.owner;
  if (!owner?.pid) return false; // empty or unreadable: this version never writes such a lock
  if (owner.pid === me.pid) return false;
  const seen = await liveness(owner.pid);
  if (seen.state === 'gone') return false;
  if (seen.start === undefined) return true; // it runs and we cannot tell more: assume it is the owner
  if (typeof owner.start === 'string') return owner.start === seen.start;
  if (owner.start === null) return true; // written where start times are unknown
  // A bare pid from an older version: a process that started after the lock was written is not its owner.
  const startedAt = (await bootTimeMs()) + (Number(seen.start) / TICKS_PER_SECOND) * 1000;
  return !(Number.isFinite(startedAt) && startedAt > found.writtenAt + 2_000);
}

/** Whether `pid` runs, and its start time where /proc tells it. A zombie has exited. */
async function liveness(pid: number): Promise<Liveness> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": field 3 (state) is fields[0], field 22 (starttime) is fields[19].
    if (fields[0] === 'Z' || fields[0] === 'X') return { state: 'gone' };
    return { state: 'running', start: fields[19] };
  } catch {
    // No /proc (not Linux), or a process /proc hides (hidepid): ask the kernel whether the pid exists.
  }
  try {
    process.kill(pid, 0);
    return { state: 'running', start: undefined };
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return codeOf(error) === 'EPERM' ? { state: 'running', start: undefined } : { state: 'gone' };
  }
}

/** Seconds since the epoch at which the machine booted (/proc/stat btime), in ms; NaN where unknown. */
async function bootTimeMs(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const found = /^btime (\d+)$/m.exec(text);
  return found ? Number(found[1]) * 1000 : Number.NaN;
}

function codeOf(error: unknown): string {
  return error && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
}
