'use strict';
/**
 * Headless Chromium driven by playwright-core, as every script and test here uses it: a browser that is
 * already on the machine or inside an installed npm package (never one downloaded at run time), the
 * flags the machine's closed network needs (.library/env/machines/node.md), and a fresh throw-away
 * profile per launch.
 *
 * Which Chromium, in this order:
 *   1. Debian's: CHROMIUM_PATH if set, else /usr/bin/chromium (`apt-get install chromium`), if it exists;
 *   2. else the one inside the npm package @sparticuz/chromium (a pinned devDependency, so
 *      `npm install` brings it from the registry with everything else): unpacked once into
 *      node_modules/.cache/switchboard-chromium/<version>/ by scripts/chromium-bundled.mjs.
 * A candidate that does not start gives way to the next; if none starts, the error names each one and
 * why. SWITCHBOARD_CHROMIUM=debian or =bundled takes only that one (to test the fallback on a machine
 * that has Debian's, or to insist on Debian's); =auto, or unset, is the order above.
 */
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** Where Debian's Chromium is looked for (kept for callers that print it). */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
const BUNDLED_HELPER = path.join(__dirname, 'chromium-bundled.mjs');
const BUNDLED_CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'switchboard-chromium');
/** Unpacking is ~2-10 s (220 MB from brotli); a loaded CI machine gets plenty more. */
const BUNDLED_UNPACK_TIMEOUT_MS = 180_000;

/**
 * Every Chromium here gets these. As root (sessions and CI run as root) Chromium refuses to start with
 * its sandbox, and the pages are our own, on loopback. The rest keep Chromium from reaching out: on
 * this closed network its background connections are refused, many at a time, and it fails to look up
 * Google's hosts at every start (.library/env/machines/node.md, "Known to work").
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Flags of @sparticuz/chromium's `args` (build/index.js, 153.0.0) that are left out, by switch name.
 * They suit AWS Lambda, its target; here each would make the bundled browser behave differently from
 * Debian's, so that a test could pass on one and fail on the other:
 * - --single-process: Lambda's seccomp forbids what the zygote needs (its comment: "to avoid
 *   prctl(PR_SET_NO_NEW_PRIVS) failed"); Chromium does not support it for more than one page, and the
 *   end-to-end test runs two browser contexts side by side.
 * - --disable-web-security, --allow-running-insecure-content, --disable-site-isolation-trials,
 *   --disable-features (IsolateOrigins, site-per-process), --enable-features (SharedArrayBuffer):
 *   switch off same-origin and mixed-content checks and site isolation, which Debian's Chromium keeps.
 * - --headless='shell': Playwright passes --headless itself for `headless: true`, and the quotes are
 *   meant for a shell (here they would reach Chromium as part of the value).
 * - --use-gl, --use-angle, --enable-unsafe-swiftshader, --in-process-gpu, --ignore-gpu-blocklist: the
 *   software-WebGL stack; nothing here needs WebGL and every launch has --disable-gpu.
 * The rest (--no-zygote, --disable-setuid-sandbox, --no-pings, --disable-domain-reliability, the disk
 * cache size, font hinting off, …) are harmless or help on a closed network, and are kept.
 */
const BUNDLED_ARGS_LEFT_OUT = new Set([
  '--single-process',
  '--disable-web-security',
  '--allow-running-insecure-content',
  '--disable-site-isolation-trials',
  '--disable-features',
  '--enable-features',
  '--headless',
  '--use-gl',
  '--use-angle',
  '--enable-unsafe-swiftshader',
  '--in-process-gpu',
  '--ignore-gpu-blocklist',
]);

const switchName = (arg) => arg.split('=')[0];

/** The package's recommended flags less those left out, then ours; one flag per switch, ours win. */
function mergeBundledArgs(packageArgs) {
  const ours = new Set(CHROMIUM_ARGS.map(switchName));
  const kept = packageArgs.filter((arg) => !BUNDLED_ARGS_LEFT_OUT.has(switchName(arg)) && !ours.has(switchName(arg)));
  return [...new Set(kept), ...CHROMIUM_ARGS];
}

const MODES = ['auto', 'debian', 'bundled'];

/**
 * The candidates to try, in order, from the environment and what exists on disk (both injectable, for
 * the tests). Debian's is a candidate when its file exists or when it was asked for by name. `note`
 * says why a CHROMIUM_PATH that was set is not used.
 */
function chooseChromium({ env = process.env, exists = fs.existsSync } = {}) {
  const mode = (env.SWITCHBOARD_CHROMIUM || 'auto').trim().toLowerCase();
  if (!MODES.includes(mode)) {
    throw new Error(`SWITCHBOARD_CHROMIUM must be one of ${MODES.join(', ')}, not "${env.SWITCHBOARD_CHROMIUM}"`);
  }
  const debianPath = env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
  const debian = { kind: 'debian', executablePath: debianPath };
  const bundled = { kind: 'bundled' };
  if (mode === 'bundled') return { candidates: [bundled] };
  if (mode === 'debian') return { candidates: [debian] };
  if (exists(debianPath)) return { candidates: [debian, bundled] };
  const note = env.CHROMIUM_PATH ? `CHROMIUM_PATH=${env.CHROMIUM_PATH} does not exist` : undefined;
  return { candidates: [bundled], note };
}

function runBundledHelper() {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BUNDLED_HELPER, BUNDLED_CACHE_DIR],
      { cwd: ROOT, timeout: BUNDLED_UNPACK_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const why = stderr.trim() || (error.killed ? `no answer within ${BUNDLED_UNPACK_TIMEOUT_MS / 1000} s` : error.message);
          reject(new Error(why));
          return;
        }
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(new Error(`scripts/chromium-bundled.mjs printed no JSON: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}

/** One bundled unpack per process, however many launches. */
let bundledOnce;

/** Executable and flags of a candidate; throws with the reason it cannot be used. */
async function resolveCandidate(candidate) {
  if (candidate.kind === 'debian') {
    if (!fs.existsSync(candidate.executablePath)) throw new Error(`no file at ${candidate.executablePath}`);
    return { kind: 'debian', executablePath: candidate.executablePath, args: CHROMIUM_ARGS };
  }
  bundledOnce ??= runBundledHelper().catch((error) => {
    bundledOnce = undefined;
    throw error;
  });
  const { version, executablePath, args } = await bundledOnce;
  return { kind: 'bundled', version, executablePath, args: mergeBundledArgs(args) };
}

function label(candidate) {
  return candidate.kind === 'debian'
    ? `Debian's Chromium (${candidate.executablePath})`
    : 'the Chromium inside the npm package @sparticuz/chromium';
}

function playwright() {
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed (it is a devDependency: run npm install)');
  }
}

/**
 * Tries each candidate with `launch(resolved)` until one starts; returns what launch returned. The
 * error, if none starts, says what was tried, why each failed, and what to do.
 */
async function launchFirst(launch, options = {}) {
  const { candidates, note } = chooseChromium(options);
  const failures = note ? [note] : [];
  for (const candidate of candidates) {
    let resolved;
    try {
      resolved = await resolveCandidate(candidate);
      const launched = await launch(resolved);
      if (failures.length > 0) process.stderr.write(`scripts/chromium.js: ${failures.join('; ')}; using ${label(resolved)} instead\n`);
      return launched;
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      failures.push(`${label(resolved ?? candidate)} did not start: ${message}`);
    }
  }
  throw new Error(
    `no Chromium could be started: ${failures.join('; ')}. ` +
      "Run npm install (it brings @sparticuz/chromium's browser), or install Debian's " +
      '(apt-get install -y --no-install-recommends chromium fonts-liberation) or set CHROMIUM_PATH; ' +
      'SWITCHBOARD_SKIP_E2E=1 skips the end-to-end test.',
  );
}

/**
 * A browser context on its own temporary profile; close() also removes the profile. `options.env`
 * replaces process.env for the choice of Chromium (tests).
 */
async function launchContext(profilePrefix, contextOptions, options = {}) {
  return launchFirst(async ({ executablePath, args }) => {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), profilePrefix));
    let context;
    try {
      context = await playwright().chromium.launchPersistentContext(userDataDir, {
        executablePath,
        headless: true,
        args,
        offline: true,
        ...contextOptions,
      });
    } catch (error) {
      fs.rmSync(userDataDir, { recursive: true, force: true });
      throw error;
    }
    return {
      context,
      async close() {
        await context.close();
        fs.rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  }, options);
}

/** A plain browser (pages open their own contexts); `options.env` as for launchContext. */
async function launchBrowser(options = {}) {
  return launchFirst(({ executablePath, args }) => playwright().chromium.launch({ executablePath, headless: true, args }), options);
}

/** Which Chromium would be used and with which flags, without starting it (for tests and scripts). */
async function resolveChromium(options = {}) {
  const { candidates, note } = chooseChromium(options);
  const failures = note ? [note] : [];
  for (const candidate of candidates) {
    try {
      return await resolveCandidate(candidate);
    } catch (error) {
      failures.push(`${label(candidate)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no Chromium found: ${failures.join('; ')}`);
}

module.exports = {
  CHROMIUM_PATH,
  CHROMIUM_ARGS,
  DEBIAN_CHROMIUM,
  BUNDLED_ARGS_LEFT_OUT,
  chooseChromium,
  mergeBundledArgs,
  resolveChromium,
  launchContext,
  launchBrowser,
};
