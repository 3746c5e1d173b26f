'use strict';
/**
 * Headless Debian Chromium driven by playwright-core, as every script and test here uses it: the
 * machine's browser (never a downloaded one), the flags its closed network needs
 * (.library/env/machines/node.md), and a fresh throw-away profile per launch.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function playwright() {
  try {
    return require('playwright-core');
  } catch {
    throw new Error('playwright-core is not installed (it is a devDependency: run npm install)');
  }
}

function checkBrowser() {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install -y --no-install-recommends chromium fonts-liberation) or set CHROMIUM_PATH`,
    );
  }
}

/** A browser context on its own temporary profile; close() also removes the profile. */
async function launchContext(profilePrefix, contextOptions) {
  checkBrowser();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), profilePrefix));
  const context = await playwright().chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    offline: true,
    ...contextOptions,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A plain browser (pages open their own contexts). */
async function launchBrowser() {
  checkBrowser();
  return playwright().chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

module.exports = { CHROMIUM_PATH, CHROMIUM_ARGS, launchContext, launchBrowser };
