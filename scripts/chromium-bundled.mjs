/**
 * The Chromium that the npm package @sparticuz/chromium ships inside its tarball (a devDependency,
 * pinned): unpacked once per package version into a folder of this project, never downloaded.
 *
 *   node scripts/chromium-bundled.mjs <cache dir>
 *
 * prints one line of JSON, { version, executablePath, args }, where args are the package's own
 * recommended flags (scripts/chromium.js decides which of them to keep). scripts/chromium.js runs this
 * as a child process because the package is ESM only ("type": "module") and scripts/chromium.js is
 * also loaded inside jest's CommonJS module registry, which can neither require() nor import() an ES
 * module on Node < 24.9 (shared/reference/stack.md §3).
 *
 * Why not the package's default location: `executablePath()` inflates chromium.br, fonts.tar.br and
 * swiftshader.tar.br into os.tmpdir() and, if `<tmpdir>/chromium` already exists, returns it as is
 * (build/index.js and build/lambdafs.js of @sparticuz/chromium 153.0.0). In a shared /tmp that would
 * be a binary of any version, half written by a concurrent unpack, or put there by another user. So
 * the package inflates into a fresh folder of ours (TMPDIR points there for that call; os.tmpdir()
 * reads it on every call), which is renamed into place only when complete: a rename is atomic, and the
 * loser of a race simply uses the winner's folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Written last into a finished folder. */
const COMPLETE = '.complete';

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const cacheDir = process.argv[2];
if (!cacheDir) fail('usage: node scripts/chromium-bundled.mjs <cache dir>', 64);

let entry;
try {
  entry = fileURLToPath(import.meta.resolve('@sparticuz/chromium'));
} catch {
  // Exit code 3 tells scripts/chromium.js "not installed" apart from "installed but failed".
  fail('@sparticuz/chromium is not installed (it is a devDependency: run npm install)', 3);
}
// Its "exports" map does not export package.json; the entry is build/index.js.
const version = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')).version;
const { default: chromium } = await import('@sparticuz/chromium');

const finalDir = path.join(cacheDir, version);
if (!existsSync(path.join(finalDir, COMPLETE))) {
  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(path.join(cacheDir, `.${version}-unpacking-`));
  try {
    process.env.TMPDIR = staging;
    const unpacked = await chromium.executablePath();
    if (unpacked !== path.join(staging, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${unpacked}, not into ${staging}`);
    writeFileSync(path.join(staging, COMPLETE), `${version}\n`);
    try {
      renameSync(staging, finalDir);
    } catch (error) {
      // Another process finished first (rename onto a non-empty folder fails): use its copy.
      if (!existsSync(path.join(finalDir, COMPLETE))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

process.stdout.write(`${JSON.stringify({ version, executablePath: path.join(finalDir, 'chromium'), args: chromium.args })}\n`);
