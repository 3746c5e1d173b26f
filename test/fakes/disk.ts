import fsp from 'node:fs/promises';

/**
 * A disk that fills up: while `full`, every write the stores make to the files `affects` picks (a
 * folder: everything under it) fails with ENOSPC, as the kernel would answer (fault injection at the
 * stores). Reads keep working.
 */
export function fullDisk(affects: string | ((file: string) => boolean)) {
  let full = false;
  const inDir = (file: unknown) => (typeof affects === 'string' ? String(file).startsWith(affects) : affects(String(file)));
  const enospc = (file: unknown) => Object.assign(new Error(`ENOSPC: no space left on device, write '${String(file)}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const realOpen = fsp.open.bind(fsp);
  const realAppend = fsp.appendFile.bind(fsp);
  const realWrite = fsp.writeFile.bind(fsp);
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
  ];
  return {
    fill: () => void (full = true),
    free: () => void (full = false),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
