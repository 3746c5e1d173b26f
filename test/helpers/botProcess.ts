import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');
/** Compiled src/ and test/children/ for tests that run the bot as a child process (kill -9). */
export const BUILD_DIR = path.join(ROOT, 'node_modules', '.cache', 'switchboard-test');
const LOCK = `${BUILD_DIR}.lock`;

/** The newest modification time (ms) of the files under `dir` (recursively) with one of `extensions`. */
async function newest(dir: string, extensions: string[]): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !extensions.some((x) => entry.name.endsWith(x))) continue;
    latest = Math.max(latest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return latest;
}

/**
 * Whether the build is at least as new as everything it is made from. Even a no-op incremental tsc
 * costs seconds of CPU (a minute of wall time on a busy machine): it is only run when needed.
 */
async function upToDate(): Promise<boolean> {
  const built = await stat(path.join(BUILD_DIR, '.tsbuildinfo')).then((s) => s.mtimeMs, () => 0);
  if (built === 0 || !existsSync(path.join(BUILD_DIR, 'cards'))) return false;
  const sources = await Promise.all([
    newest(path.join(ROOT, 'src'), ['.ts', '.json']),
    newest(path.join(ROOT, 'test', 'children'), ['.ts']),
    ...['tsconfig.json', path.join('test', 'tsconfig.build.json')].map((f) => stat(path.join(ROOT, f)).then((s) => s.mtimeMs)),
  ]);
  return Math.max(...sources) <= built;
}

/**
 * Compiles the bot once for the child-process tests (incremental tsc, so a second run is quick, and
 * not run at all when the build is newer than its sources); jest workers running in parallel share
 * one build through a lock folder. src/cards/render.ts reads the templates from
 * `<compiled src>/../../cards`, which a link points at the repository's cards/.
 */
export async function ensureBuilt(): Promise<void> {
  await mkdir(path.dirname(BUILD_DIR), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      if (Date.now() > deadline) await rm(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (await upToDate()) return;
    await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'test', 'tsconfig.build.json')], { cwd: ROOT });
    const link = path.join(BUILD_DIR, 'cards');
    if (!existsSync(link)) await symlink(path.join(ROOT, 'cards'), link, 'dir');
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

export interface BotProcess {
  url: string;
  child: ChildProcess;
  /** stdout and stderr lines so far (JSON log lines, mostly). */
  lines: string[];
  /** Resolves with the exit code or signal. */
  exited: Promise<string>;
  kill9(): Promise<void>;
  /** SIGTERM: graceful stop (in-flight turns finish, stores flushed). */
  stop(): Promise<string>;
}

/**
 * Starts the real bot (src/index.ts, compiled) as a child process in local mode on a free loopback
 * port, with `env` on top of a clean environment; resolves once it listens.
 */
export async function startBot(env: Record<string, string>, options: { script?: string; nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<BotProcess> {
  const script = options.script ?? path.join(BUILD_DIR, 'src', 'index.js');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--disable-warning=DEP0111', script], {
    // Its own folder: the project's .env must not leak into a test's bot.
    cwd: env.SWITCHBOARD_DATA_DIR ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Nobody holds this child yet to stop it: it must not outlive the test.
      child.kill('SIGKILL');
      reject(new Error(`the bot did not start in time:\n${lines.slice(-20).join('\n')}`));
    }, options.timeoutMs ?? 60_000);
    const take = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        lines.push(line);
        const found = /"url":"(http:\/\/[^"]+)\/api\/messages"/.exec(line);
        if (found && line.includes('Switchboard is listening')) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the bot exited (${how}) before it listened:\n${lines.slice(-20).join('\n')}`));
    });
  });
  return {
    url,
    child,
    lines,
    exited,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
