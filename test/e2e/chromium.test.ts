import type { Browser } from 'playwright-core';

/**
 * Which Chromium the scripts and the end-to-end test start (scripts/chromium.js): Debian's when it is
 * there, else the one inside the npm package @sparticuz/chromium, and a plain error when none starts.
 * The choice is checked with a stand-in for the file system; the bundled browser is really unpacked
 * and started, so that a machine without Debian's Chromium is known to pass `npm test` (CI has
 * Debian's, and the Playground test uses that one there).
 */

interface Candidate {
  kind: 'debian' | 'bundled';
  executablePath?: string;
}
interface ChooseOptions {
  env?: Record<string, string | undefined>;
  exists?: (file: string) => boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chromiumHelper = require('../../scripts/chromium.js') as {
  CHROMIUM_ARGS: string[];
  DEBIAN_CHROMIUM: string;
  BUNDLED_ARGS_LEFT_OUT: Set<string>;
  chooseChromium(options?: ChooseOptions): { candidates: Candidate[]; note?: string };
  mergeBundledArgs(packageArgs: string[]): string[];
  resolveChromium(options?: ChooseOptions): Promise<{ kind: string; version?: string; executablePath: string; args: string[] }>;
  launchBrowser(options?: ChooseOptions): Promise<Browser>;
};

const { CHROMIUM_ARGS, DEBIAN_CHROMIUM, BUNDLED_ARGS_LEFT_OUT, chooseChromium, mergeBundledArgs, resolveChromium, launchBrowser } = chromiumHelper;

const only = (...files: string[]) => (file: string) => files.includes(file);
const kinds = (options: ChooseOptions) => chooseChromium(options).candidates.map((c) => c.executablePath ?? c.kind);

describe('choosing a Chromium', () => {
  it("takes Debian's when /usr/bin/chromium is there, with the bundled one behind it", () => {
    expect(kinds({ env: {}, exists: only(DEBIAN_CHROMIUM) })).toEqual([DEBIAN_CHROMIUM, 'bundled']);
  });

  it('takes the bundled one when there is no Debian Chromium', () => {
    expect(chooseChromium({ env: {}, exists: only() })).toEqual({ candidates: [{ kind: 'bundled' }], note: undefined });
  });

  it('looks for Debian\'s at CHROMIUM_PATH when it is set, and says so when it is not there', () => {
    expect(kinds({ env: { CHROMIUM_PATH: '/opt/chromium/chrome' }, exists: only('/opt/chromium/chrome') })).toEqual(['/opt/chromium/chrome', 'bundled']);
    expect(chooseChromium({ env: { CHROMIUM_PATH: '/nonexistent' }, exists: only(DEBIAN_CHROMIUM) })).toEqual({
      candidates: [{ kind: 'bundled' }],
      note: 'CHROMIUM_PATH=/nonexistent does not exist',
    });
  });

  it('SWITCHBOARD_CHROMIUM=bundled or =debian takes only that one', () => {
    expect(kinds({ env: { SWITCHBOARD_CHROMIUM: 'bundled' }, exists: only(DEBIAN_CHROMIUM) })).toEqual(['bundled']);
    expect(kinds({ env: { SWITCHBOARD_CHROMIUM: 'debian' }, exists: only() })).toEqual([DEBIAN_CHROMIUM]);
    expect(kinds({ env: { SWITCHBOARD_CHROMIUM: 'auto' }, exists: only(DEBIAN_CHROMIUM) })).toEqual([DEBIAN_CHROMIUM, 'bundled']);
    expect(() => chooseChromium({ env: { SWITCHBOARD_CHROMIUM: 'chrome' } })).toThrow('SWITCHBOARD_CHROMIUM must be one of auto, debian, bundled, not "chrome"');
  });

  it("keeps the closed-network flags and drops the package's Lambda-only ones", () => {
    const packageArgs = [
      '--no-pings',
      '--single-process',
      '--disable-features=AudioServiceOutOfProcess,IsolateOrigins,site-per-process',
      '--disable-web-security',
      "--headless='shell'",
      '--no-sandbox',
      '--no-zygote',
      '--disable-gpu',
    ];
    const merged = mergeBundledArgs(packageArgs);
    expect(merged).toEqual(['--no-pings', '--no-zygote', ...CHROMIUM_ARGS]);
    const switches = merged.map((arg) => arg.split('=')[0]);
    expect(new Set(switches).size).toBe(switches.length);
  });

  it('says what it tried when no Chromium starts', async () => {
    await expect(launchBrowser({ env: { SWITCHBOARD_CHROMIUM: 'debian', CHROMIUM_PATH: '/nonexistent' } })).rejects.toThrow(
      "no Chromium could be started: Debian's Chromium (/nonexistent) did not start: no file at /nonexistent. Run npm install",
    );
  });
});

const withBrowser = process.env.SWITCHBOARD_SKIP_E2E === '1' ? describe.skip : describe;

withBrowser('the Chromium inside @sparticuz/chromium', () => {
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  it('unpacks into node_modules/.cache with the merged flags', async () => {
    const bundled = await resolveChromium({ env: { SWITCHBOARD_CHROMIUM: 'bundled' } });
    expect(bundled.kind).toBe('bundled');
    expect(bundled.executablePath).toMatch(/node_modules\/\.cache\/switchboard-chromium\/[\d.]+\/chromium$/);
    expect(bundled.args).toEqual(expect.arrayContaining(CHROMIUM_ARGS));
    for (const arg of bundled.args) expect(BUNDLED_ARGS_LEFT_OUT.has(arg.split('=')[0])).toBe(false);
  }, 180_000);

  it('starts headless and runs a page, two contexts side by side, without the network', async () => {
    browser = await launchBrowser({ env: { SWITCHBOARD_CHROMIUM: 'bundled' } });
    const pages = await Promise.all(
      ['requester', 'approver'].map(async (who) => {
        const context = await browser!.newContext();
        const page = await context.newPage();
        await page.setContent(`<button onclick="this.textContent = 'clicked by ${who}'">Approve</button>`);
        await page.click('button');
        return page;
      }),
    );
    expect(await Promise.all(pages.map((page) => page.textContent('button')))).toEqual(['clicked by requester', 'clicked by approver']);
    expect(await pages[0]!.evaluate(() => navigator.userAgent)).toMatch(/HeadlessChrome\//);
  }, 180_000);
});
