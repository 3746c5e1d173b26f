import { execFileSync } from 'node:child_process';
import fs, { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SimulatedTenant, type SimulatedTenantOptions } from '../../../src/backends/simulated/tenant';
import type { TenantState } from '../../../src/backends/simulated/state';

export const TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';

export const tempDir = (label: string): string => mkdtempSync(path.join(os.tmpdir(), `switchboard-${label}-`));

/**
 * What a crash at this instant leaves on disk: a copy of the directory, taken synchronously so that
 * no step of ours runs in between (a kill -9 keeps the page cache, so the files' contents are what
 * the disk holds after it).
 */
export function crashImage(dir: string): string {
  // The copy is synchronous, but a file operation already handed to libuv's thread pool (e.g. the
  // unlink of a temp file) can still land in the middle of it: copy again until nothing changed.
  for (let attempt = 0; attempt < 20; attempt++) {
    const copy = tempDir('crash');
    const before = fs.readdirSync(dir).sort().join('\n');
    try {
      cpSync(dir, copy, { recursive: true });
      if (fs.readdirSync(dir).sort().join('\n') === before) return copy;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    fs.rmSync(copy, { recursive: true, force: true });
  }
  throw new Error(`crashImage: ${dir} kept changing`);
}

/** JSON is what the disk holds: compare in that form. */
export const asStored = (state: TenantState): unknown => JSON.parse(JSON.stringify(state)) as unknown;

/** The tenant a restart finds after a crash now: opened from a crash image of `dir`. */
export async function stateAfterCrash(dir: string, options: Partial<SimulatedTenantOptions> = {}): Promise<unknown> {
  const copy = crashImage(dir);
  try {
    const reopened = await SimulatedTenant.open({ file: path.join(copy, 'tenant.json'), tenantId: TENANT_ID, ...options });
    const state = reopened.exportState();
    await reopened.close();
    return asStored(state);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

export const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: simulated failure`), { code });

/** The journal segments in `dir`, oldest first. */
export const segments = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((name) => /^tenant\.json\.journal\.\d+\.jsonl$/.test(name))
    .sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]));

/** Resolves after `check` holds (polled on the event loop), or fails after `ms`. */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const stop = Date.now() + ms;
  while (!check()) {
    if (Date.now() > stop) throw new Error('timed out waiting');
    await new Promise((done) => setTimeout(done, 1));
  }
}

type Callback = (error: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

/**
 * Holds the first call of an `fs` function whose path matches until release() (a crash point: take a
 * crash image while it is held), then lets it run, or fails it with `error`.
 */
export function holdFirst(
  name: 'rename' | 'unlink' | 'open' | 'fdatasync' | 'write',
  matches: (args: unknown[]) => boolean,
): { held: () => boolean; release: (error?: NodeJS.ErrnoException) => void; restore: () => void } {
  const original = fs[name] as unknown as (...args: unknown[]) => void;
  let pending: { args: unknown[]; callback: Callback } | undefined;
  let used = false;
  const spy = jest.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
    const callback = args[args.length - 1] as Callback;
    if (!used && matches(args)) {
      used = true;
      pending = { args, callback };
      return;
    }
    original.apply(fs, args);
  }) as never);
  return {
    held: () => pending !== undefined,
    release: (error) => {
      const call = pending;
      pending = undefined;
      if (!call) throw new Error('nothing held');
      if (error) call.callback(error);
      else original.apply(fs, call.args);
    },
    restore: () => spy.mockRestore(),
  };
}

/** Makes calls of an `fs` function fail with `code` while `when` says so (calls through otherwise). */
export function failWhile(name: 'write' | 'fdatasync' | 'ftruncate' | 'open', when: (args: unknown[]) => boolean, code: string): jest.SpyInstance {
  const original = fs[name] as unknown as (...args: unknown[]) => void;
  return jest.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
    const callback = args[args.length - 1] as Callback;
    if (when(args)) {
      setImmediate(() => callback(errno(code)));
      return;
    }
    original.apply(fs, args);
  }) as never);
}

/**
 * Compiles child processes' scripts (and what they import) into a temp directory whose node_modules
 * points at the project's, for tests that run (and kill -9) real processes. Files are relative to
 * the project; `js` gives the compiled path of one of them.
 */
export function compileChildren(...files: string[]): { js: (file: string) => string; dir: string } {
  const root = path.resolve(__dirname, '../../..');
  const build = tempDir('crash-build');
  symlinkSync(path.join(root, 'node_modules'), path.join(build, 'node_modules'), 'dir');
  const config = path.join(build, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: path.join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: root, outDir: path.join(build, 'out'), sourceMap: false, noEmitOnError: true, typeRoots: [path.join(root, 'node_modules/@types')] },
      include: [],
      files: files.map((file) => path.join(root, file)),
    }),
  );
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], { stdio: 'pipe' });
  return { js: (file) => path.join(build, 'out', file.replace(/\.ts$/, '.js')), dir: build };
}
