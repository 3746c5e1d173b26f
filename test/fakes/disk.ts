import fs from 'node:fs';
import fsp from 'node:fs/promises';

/**
 * A disk that fills up: while `full`, every write the stores make to the files `affects` picks (a
 * folder: everything under it) fails with ENOSPC, as the kernel would answer (fault injection at the
 * stores). Reads keep working. It covers both ways the stores write: whole files through
 * `fs/promises` (lowdb documents, the audit log) and appends to open descriptors through `fs.write`
 * (the journaled stores).
 */
export function fullDisk(affects: string | ((file: string) => boolean)) {
  let full = false;
  const inDir = (file: unknown) => (typeof affects === 'string' ? String(file).startsWith(affects) : affects(String(file)));
  const enospc = (file: unknown) => Object.assign(new Error(`ENOSPC: no space left on device, write '${String(file)}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  /** The file behind a descriptor (Linux): a descriptor opened before the disk filled up fails too. */
  const fileOf = (fd: number): string | undefined => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return undefined;
    }
  };
  const realOpen = fsp.open.bind(fsp);
  const realAppend = fsp.appendFile.bind(fsp);
  const realWrite = fsp.writeFile.bind(fsp);
  const realFsWrite = fs.write.bind(fs) as (...args: unknown[]) => void;
  const spies = [
    jest.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
      if (full && inDir(file) && typeof flags === 'string' && /[wa]/.test(flags)) throw enospc(file);
      return realOpen(file, flags, mode);
    }),
    jest.spyOn(fsp, 'appendFile').mockImplementation(async (file, data, options) => {
      if (full && inDir(file)) throw enospc(file);
      return realAppend(file, data, options);
    }),
    jest.spyOn(fsp, 'writeFile').mockImplementation(async (file, data, options) => {
      if (full && inDir(file)) throw enospc(file);
      return realWrite(file, data, options);
    }),
    jest.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
      const fd = args[0] as number;
      const callback = args.at(-1) as (error: NodeJS.ErrnoException | null, written?: number) => void;
      const file = full ? fileOf(fd) : undefined;
      if (file !== undefined && inDir(file)) {
        setImmediate(() => callback(enospc(file)));
        return;
      }
      realFsWrite(...args);
    }) as unknown as typeof fs.write),
  ];
  return {
    fill: () => void (full = true),
    free: () => void (full = false),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
