import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DataDirLock } from '../../src/store/dataDirLock';
import { tempDir } from '../helpers/app';
import { BUILD_DIR, ensureBuilt, startBot } from '../helpers/botProcess';
import { ADMIN, APPROVER, TENANT } from '../helpers/identities';

/**
 * "One process per data folder (a lock file says which)" — src/store/dataDirLock.ts (attack9).
 * The lock used to be open(wx) followed by a separate write of the pid, and a holder that could not be
 * read (an empty file: the other process between its open and its write) or that was dead was removed
 * with rm() and the open retried: two processes starting together both "acquired" it. It trusted a
 * bare pid, and SIGTERM left the file behind, so a pid reused by another process (a new container)
 * kept every later start out.
 */

const LOCK_MODULE = path.join(BUILD_DIR, 'src', 'store', 'dataDirLock.js');
const LOCK = 'switchboard.lock';

/**
 * A real process that takes the data-folder lock at `startAt` (ms since epoch). One that gets it holds
 * it — stays alive — until the round is over (`end`), so that a contender slow to start (a loaded
 * machine) meets a live holder rather than the stale lock of one that already exited.
 */
function contender(dataDir: string, startAt: number): { outcome: Promise<'got' | 'refused'>; end(): Promise<void> } {
  const script = `
    const { DataDirLock } = require(${JSON.stringify(LOCK_MODULE)});
    while (Date.now() < ${startAt}) {}
    DataDirLock.acquire(${JSON.stringify(dataDir)}).then(
      () => { process.stdout.write('got'); setInterval(() => {}, 1000); },
      (e) => { process.stdout.write(e.name === 'StartupError' ? 'refused' : 'failed: ' + e.stack); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  // 'close', not 'exit': a refused contender writes and exits at once, and 'exit' can come before its
  // output was read (a run failed with "contender said " and nothing else).
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const outcome = new Promise<'got' | 'refused'>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out === 'got' || out === 'refused') resolve(out);
    });
    void exited.then(() => reject(new Error(`contender said ${out}`)));
  });
  return {
    outcome,
    end: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** This process's start time as /proc gives it (field 22 of /proc/self/stat). */
function ownStart(): string {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('one Switchboard per data folder', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const env = () => ({ SWITCHBOARD_DATA_DIR: dir.dir, SWITCHBOARD_TENANT_ID: TENANT, SWITCHBOARD_ADMIN_IDS: ADMIN.aadObjectId, SWITCHBOARD_APPROVER_IDS: APPROVER.aadObjectId });

  beforeAll(async () => {
    await ensureBuilt();
  }, 240_000);

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await dir.remove();
  });

  it('six processes started together never both hold the lock: on a fresh folder, over a dead holder, over a reused pid', async () => {
    // What a folder can hold when they start: nothing; a bare pid left by kill -9 of an older version;
    // this version's lock naming a pid that now belongs to another process (here: the test runner).
    const leftovers = [undefined, '2147480000\n', `${JSON.stringify({ pid: process.pid, start: '1', token: 'from-a-previous-container' })}\n`];
    const winners: number[] = [];
    for (let round = 0; round < 6 && !winners.some((w) => w !== 1); round++) {
      const dataDir = path.join(dir.dir, `round-${round}`);
      await fsp.mkdir(dataDir);
      const leftover = leftovers[round % leftovers.length];
      if (leftover) await fsp.writeFile(path.join(dataDir, LOCK), leftover);
      const startAt = Date.now() + 700;
      const contenders = Array.from({ length: 6 }, () => contender(dataDir, startAt));
      try {
        const outcomes = await Promise.all(contenders.map((c) => c.outcome));
        winners.push(outcomes.filter((o) => o === 'got').length);
      } finally {
        await Promise.all(contenders.map((c) => c.end()));
      }
    }
    expect(winners).toEqual(Array(6).fill(1));
  }, 120_000);

  it('a graceful stop (SIGTERM) gives the lock back', async () => {
    const bot = await startBot(env());
    expect(existsSync(path.join(dir.dir, LOCK))).toBe(true);
    expect(await bot.stop()).toBe('0');
    expect(existsSync(path.join(dir.dir, LOCK))).toBe(false);
    expect(bot.lines.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  }, 60_000);

  it('a running Switchboard keeps a second one out, with one line naming the folder', async () => {
    const first = await startBot(env());
    try {
      const second = await startBot(env(), { timeoutMs: 15_000 }).then(
        async (bot) => {
          await bot.kill9();
          return 'started';
        },
        (error: Error) => error.message,
      );
      expect(second).toMatch(/exited \(1\)[\s\S]*Another Switchboard \(pid \d+\) is using SWITCHBOARD_DATA_DIR=/);
    } finally {
      expect(await first.stop()).toBe('0');
    }
  }, 60_000);

  it.each([
    ['this version', () => `${JSON.stringify({ pid: process.pid, start: String(Number(ownStart()) - 1), token: 'from-a-previous-container' })}\n`],
    // A bare pid written by an older version, before this process started (e.g. before a reboot).
    ['an older version', () => `${process.pid}\n`],
  ])('a lock by %s naming a live process that is not its owner (pid reused) does not block start-up', async (_by, content) => {
    const lock = path.join(dir.dir, LOCK);
    await fsp.writeFile(lock, content());
    const long = new Date(Date.now() - 24 * 3_600_000);
    await fsp.utimes(lock, long, long);
    const bot = await startBot(env(), { timeoutMs: 15_000 });
    expect(JSON.parse(await fsp.readFile(lock, 'utf8'))).toMatchObject({ pid: bot.child.pid });
    expect(await bot.stop()).toBe('0');
  }, 60_000);

  it('a lock naming a live process that did write it (same start time) keeps start-up out', async () => {
    await fsp.writeFile(path.join(dir.dir, LOCK), `${JSON.stringify({ pid: process.pid, start: ownStart(), token: 'held' })}\n`);
    await expect(startBot(env(), { timeoutMs: 15_000 })).rejects.toThrow(new RegExp(`Another Switchboard \\(pid ${process.pid}\\) is using`));
    expect(JSON.parse(await fsp.readFile(path.join(dir.dir, LOCK), 'utf8'))).toMatchObject({ token: 'held' });
  }, 60_000);

  it('a stale lock is taken over by one claimer at a time; a claimer that died half-way (kill -9) is superseded', async () => {
    const lock = path.join(dir.dir, LOCK);
    await fsp.writeFile(lock, '2147480000\n'); // a dead holder
    // A claim on that lock by a live process that is taking it over (src/store/dataDirLock.ts names
    // claims by the lock's identity).
    const info = await fsp.stat(lock);
    const id = createHash('sha256').update(`${info.dev}:${info.ino}:${info.mtimeMs}:2147480000\n`).digest('hex').slice(0, 24);
    const claimer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${claimer.pid}/stat`, 'utf8');
      const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      await fsp.writeFile(path.join(dir.dir, `${LOCK}.takeover.${id}.0`), `${JSON.stringify({ pid: claimer.pid, start, token: 'claiming' })}\n`);
      // While it lives, nobody else replaces the lock: start-up waits a little, then says why.
      await expect(DataDirLock.acquire(dir.dir)).rejects.toThrow(/another process keeps taking it over/);
      expect(await fsp.readFile(lock, 'utf8')).toBe('2147480000\n');
    } finally {
      claimer.kill('SIGKILL');
      await new Promise((resolve) => claimer.once('exit', resolve));
    }
    // It died before finishing: the next start claims again (generation 1) and takes the lock.
    const sut = await DataDirLock.acquire(dir.dir);
    expect(JSON.parse(await fsp.readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    expect((await fsp.readdir(dir.dir)).filter((n) => n.startsWith(`${LOCK}.`))).toEqual([]);
    await sut.release();
    expect(existsSync(lock)).toBe(false);
  }, 20_000);
});
