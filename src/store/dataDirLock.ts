import path from 'node:path';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { StartupError } from '../config';

/**
 * One Switchboard process per data folder: lowdb files are single-writer (stack.md §3), so a second
 * process on the same folder would lose writes and run plans twice. The lock is a file holding the
 * owner's pid; a lock left by a process that died (kill -9) is taken over, since that pid is gone.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, 'switchboard.lock');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number.parseInt((await readFile(file, 'utf8').catch(() => '')).trim(), 10);
      // The same process (tests open a folder again after a simulated crash) or a dead one: take it over.
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new StartupError(
          `Another Switchboard (pid ${holder}) is using SWITCHBOARD_DATA_DIR=${dataDir}: stop it first, or give this one its own folder (or use a shared PostgreSQL store).`,
        );
      }
      await rm(file, { force: true });
    }
    throw new StartupError(`Could not lock SWITCHBOARD_DATA_DIR=${dataDir} (${file}); another process keeps taking it.`);
  }

  async release(): Promise<void> {
    const holder = Number.parseInt((await readFile(this.file, 'utf8').catch(() => '')).trim(), 10);
    if (holder === process.pid) await rm(this.file, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else — alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
