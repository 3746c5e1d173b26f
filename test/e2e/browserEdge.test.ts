import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { testApp, tempDir } from '../helpers/app';
import { execute } from '../helpers/activities';
import { ADMIN, TENANT } from '../helpers/identities';

/**
 * What a real browser does with the bot in local mode (Debian Chromium, as in playground.test.ts):
 * a history export link opened, previewed and clicked; and a hostile page on another site that
 * tries a cross-site form post, a fetch, and DNS rebinding. `attacker.example` is mapped to 127.0.0.1
 * inside Chromium (--host-resolver-rules), which is exactly what a rebinding DNS server achieves.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const chromiumHelper = require('../../scripts/chromium.js') as { CHROMIUM_PATH: string; CHROMIUM_ARGS: string[] };

const suite = process.env.SWITCHBOARD_SKIP_E2E === '1' ? describe.skip : describe;
const ADD = { displayName: 'From a web page', username: 'aa-webpage', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'none' };

suite('a browser against the bot in local mode', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let browser: Browser;
  let attacker: http.Server;
  let attackerPort: number;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    server = await app.start();
    for (let i = 0; i < 3; i++) {
      await app.audit.append({ actor: { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name }, action: 'account.update', target: `aa-${i}@contoso.com`, outcome: 'succeeded' });
    }
    const api = `${server.url}/api/messages`;
    // The hostile page. Its form is a "simple request" (no preflight): urlencoded, with qs-style field
    // names that a urlencoded body parser turns into a whole activity, as the admin, in our tenant.
    const fields: Record<string, string> = {
      type: 'invoke',
      name: 'adaptiveCard/action',
      channelId: 'msteams',
      serviceUrl: 'http://127.0.0.1:1/',
      'from[id]': ADMIN.id,
      'from[aadObjectId]': ADMIN.aadObjectId,
      'conversation[id]': 'a:personal-chat',
      'conversation[tenantId]': TENANT,
      'channelData[tenant][id]': TENANT,
      'value[action][type]': 'Action.Execute',
      'value[action][verb]': 'addAccount',
      ...Object.fromEntries(Object.entries(ADD).map(([k, v]) => [`value[action][data][${k}]`, v])),
    };
    const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`).join('');
    const body = JSON.stringify(execute('addAccount', ADD));
    const page = `<!doctype html><html><body>
      <form id="f" method="post" action="${api}">${inputs}</form>
      <script>window.tryFetch = () => fetch(${JSON.stringify(api)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(body)} }).then((r) => 'status ' + r.status, (e) => 'blocked: ' + e.name);</script>
      </body></html>`;
    attacker = http.createServer((_req, res) => {
      // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    });
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    attackerPort = (attacker.address() as AddressInfo).port;
    browser = await chromium.launch({
      executablePath: chromiumHelper.CHROMIUM_PATH,
      headless: true,
      args: [...chromiumHelper.CHROMIUM_ARGS, '--host-resolver-rules=MAP attacker.example 127.0.0.1'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    attacker?.closeAllConnections();
    await new Promise((done) => attacker?.close(done));
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it('opens an export link as a page (a preview does not use it up) and downloads the CSV with its button, once', async () => {
    const url = (await app.exports.create('', 'switchboard-history.csv')).url;
    const context = await browser.newContext({ acceptDownloads: true });
    try {
      const page = await context.newPage();
      // A previewer's GET, then the user's: both see the page, neither takes the link.
      for (let i = 0; i < 2; i++) {
        const response = await page.goto(url);
        expect(response?.status()).toBe(200);
        await page.getByRole('button', { name: 'Download CSV' }).waitFor();
      }
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
      expect(download.suggestedFilename()).toBe('switchboard-history.csv');
      const csv = await readFile((await download.path())!, 'utf8');
      expect(csv.trim().split('\n')).toHaveLength(4);
      const again = await page.goto(url);
      expect(again?.status()).toBe(404);
    } finally {
      await context.close();
    }
  }, 30_000);

  it('refuses a cross-site form post and a cross-site fetch from another site, and nothing changes', async () => {
    const before = await app.directory.listAccounts({ offset: 0, limit: 100 });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://attacker.example:${attackerPort}/`);
      expect(await page.evaluate(() => (window as unknown as { tryFetch(): Promise<string> }).tryFetch())).toBe('blocked: TypeError');
      const [posted] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/messages')),
        page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
      ]);
      expect(posted.status()).toBe(403);
    } finally {
      await context.close();
    }
    expect(await app.directory.listAccounts({ offset: 0, limit: 100 })).toEqual(before);
  }, 30_000);

  it('refuses a page whose name was re-bound to 127.0.0.1 (DNS rebinding): its Host is not loopback', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const port = new URL(server.url).port;
      const response = await page.goto(`http://attacker.example:${port}/healthz`);
      expect(response?.status()).toBe(421);
    } finally {
      await context.close();
    }
  }, 30_000);
});
