import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { allowedDownloadUrl, decodeText, downloadFile, FILE_DOWNLOAD_INFO } from '../../src/bot/importFile';
import type { RunningServer } from '../../src/server';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { captureServer, post } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
import { idOn, until } from '../helpers/waiting';

type Card = Record<string, unknown>;

interface FileServer {
  url: string;
  requests: string[];
  /** What each path answers. */
  routes: Map<string, (res: http.ServerResponse) => void>;
  close(): Promise<void>;
}

/** A real HTTP server on loopback standing in for the OneDrive download link Teams hands the bot. */
async function fileServer(): Promise<FileServer> {
  const requests: string[] = [];
  const routes = new Map<string, (res: http.ServerResponse) => void>();
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`.trim());
    const route = routes.get(req.url ?? '');
    if (route) route(res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const csvBody = (text: string | Buffer) => (res: http.ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/csv' });
  res.end(text);
};

/** A message with a file, as Teams sends it in a personal chat to a bot with supportsFiles. */
function fileMessage(name: string, downloadUrl: string, serviceUrl: string, fileType = 'csv') {
  return {
    ...message('', { serviceUrl }),
    attachments: [
      {
        contentType: FILE_DOWNLOAD_INFO,
        contentUrl: 'https://contoso-my.sharepoint.com/personal/alex/Documents/Microsoft%20Teams%20Chat%20Files/accounts.csv',
        name,
        content: { downloadUrl, uniqueId: '1c4e7c2d-5a4b-4c52-9f0d-2b0c3e7b9a10', fileType },
      },
    ],
  };
}

const HEADER = 'displayName,username,domain,type,usageLocation,license,numberType,number';

describe('bulk import over HTTP: files from the chat and the CSV downloads', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof captureServer>>;
  let files: FileServer;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    server = await app.start();
    connector = await captureServer();
    files = await fileServer();
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await connector.close();
    await files.close();
    await dir.remove();
  });

  /** Sends a message and returns the card the bot posted back to the connector. */
  async function reply(activity: unknown): Promise<Card> {
    const before = connector.posts.length;
    const response = await post(`${server.url}/api/messages`, activity);
    expect(response.status).toBe(200);
    await until(() => connector.posts.length > before, 5_000, 'the reply');
    const posted = connector.posts[before]!.body as { attachments: { content: Card }[] };
    return posted.attachments[0]!.content;
  }

  async function invoke(verb: string, data: Record<string, unknown>): Promise<Card> {
    const response = await post(`${server.url}/api/messages`, execute(verb, data, { serviceUrl: connector.url }));
    expect(response.status).toBe(200);
    return (response.body as { value: Card }).value;
  }

  /** Opens a one-time link the way a browser does: the page (GET), then its button (POST). */
  async function download(url: string): Promise<string> {
    expect((await fetch(url)).status).toBe(200);
    const response = await fetch(url, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return response.text();
  }

  const openUrl = (card: Card): string => /"type":"Action.OpenUrl","title":"[^"]*","url":"([^"]+)"/.exec(JSON.stringify(card))![1]!;

  it('fetches a CSV file sent in the chat from its loopback download URL and previews it; the refused rows download with their reasons', async () => {
    const text = [
      HEADER,
      'Night line,aa-file-night,contoso.com,autoAttendant,US,resourceAccount,,',
      '"Sales, EMEA",cq-file-emea,contoso.com,callQueue,FR,none,,',
      'Paris again,aa-paris,contoso.com,autoAttendant,FR,none,,',
      `Bad number,aa-file-bad,contoso.com,autoAttendant,US,resourceAccount,callingPlan,${DEMO.numbers.usUserFree[0]}`,
    ].join('\r\n');
    files.routes.set('/dl/accounts.csv?tempauth=abc', csvBody(`\ufeff${text}\r\n`));
    const preview = await reply(fileMessage('accounts.csv', `${files.url}/dl/accounts.csv?tempauth=abc`, connector.url));
    const texts = cardTexts(preview);
    expect(texts.slice(0, 2)).toEqual(['Import resource accounts', '2 of 4 rows are ready, 2 refused. Nothing has changed yet: confirm to create the 2 accounts.']);
    expect(texts).toEqual(expect.arrayContaining(['Source: File accounts.csv', '○ Row 3 · Sales, EMEA · cq-file-emea@contoso.com · Call queue · FR · Unlicensed']));
    // Fetched once, with no credential of the bot's.
    expect(files.requests).toEqual(['GET /dl/accounts.csv?tempauth=abc']);

    const withLink = await invoke('downloadImportRows', { planId: idOn(preview, 'planId') });
    expect(cardTexts(withLink)[1]).toBe(texts[1]);
    expect(cardTexts(withLink)).toEqual(expect.arrayContaining([expect.stringMatching(/^Your CSV: the link works once, until \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/)]));
    const csv = await download(openUrl(withLink));
    expect(csv.split('\r\n')).toEqual([
      `line,${HEADER},reason`,
      '4,Paris again,aa-paris,contoso.com,autoAttendant,FR,none,,,aa-paris@contoso.com is already used by another account in this tenant.',
      `5,Bad number,aa-file-bad,contoso.com,autoAttendant,US,resourceAccount,callingPlan,'${DEMO.numbers.usUserFree[0]},'${DEMO.numbers.usUserFree[0]} is a user (subscriber) number. Only service numbers can go on a resource account.`,
      '',
    ]);
  });

  it('refuses, with the reason and without fetching, a file that is not CSV, too big, or not on loopback in local mode', async () => {
    files.requests.length = 0;
    const notCsv = await reply(fileMessage('numbers.xlsx', `${files.url}/dl/numbers.xlsx`, connector.url, 'xlsx'));
    expect(cardTexts(notCsv)[2]).toBe('Nothing was imported: "numbers.xlsx" is not a CSV file. Send a .csv file (in Excel: File › Save a copy › CSV UTF-8).');
    const elsewhere = await reply(fileMessage('a.csv', 'https://contoso-my.sharepoint.com/personal/alex/download.aspx?tempauth=x', connector.url));
    expect(cardTexts(elsewhere)[2]).toBe('Nothing was imported: the file could not be downloaded from Teams (not a loopback address). Send it again.');
    expect(files.requests).toEqual([]);

    files.routes.set('/dl/big.csv', csvBody(`${HEADER}\n${'x,'.repeat(140_000)}\n`));
    const big = await reply(fileMessage('big.csv', `${files.url}/dl/big.csv`, connector.url));
    expect(cardTexts(big)[2]).toBe('Nothing was imported: the file is larger than 256 KB, the limit of one import. Split it.');

    // A redirect is followed only to where the same rules allow.
    files.routes.set('/dl/moved.csv', (res) => {
      res.writeHead(302, { location: 'http://example.com/accounts.csv' });
      res.end();
    });
    const moved = await reply(fileMessage('moved.csv', `${files.url}/dl/moved.csv`, connector.url));
    expect(cardTexts(moved)[2]).toBe('Nothing was imported: the file could not be downloaded from Teams (redirected elsewhere). Send it again.');
    expect(await app.plans.counts()).toEqual({ awaitingConfirmation: 1 });
  });

  it('hands out the template, which imports as it is', async () => {
    const form = await invoke('importTemplate', {});
    expect(cardTexts(form)).toEqual(expect.arrayContaining([expect.stringMatching(/^The template: the link works once, until /)]));
    const template = await download(openUrl(form));
    expect(template.split('\r\n')).toEqual([
      HEADER,
      `Main line,aa-mainline,${DEMO.domains.default},autoAttendant,US,resourceAccount,,`,
      `Support,cq-support,${DEMO.domains.default},callQueue,US,resourceAccount,directRouting,'+14255550199`,
      '',
    ]);
    const checked = await app.imports.check(template);
    expect(checked).toMatchObject({ ok: true, value: { total: 2, refused: [] } });
  });

  it('"export accounts" writes every account in the import format; imported again, each is refused as already there', async () => {
    const card = await reply(message('export accounts', { serviceUrl: connector.url }));
    const total = (await app.directory.listAccounts({ offset: 0, limit: 1 })).total;
    expect(cardTexts(card)[1]).toMatch(new RegExp(`^${total} resource accounts, in the import format\\. The link works once, until `));
    const csv = await download((card.actions as { url: string }[])[0]!.url);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(HEADER);
    expect(lines).toHaveLength(total + 1);
    expect(lines).toContain(`Main line,aa-main,contoso.com,autoAttendant,US,resourceAccount,callingPlan,'${DEMO.numbers.mainLine}`);
    const checked = await app.imports.check(csv);
    if (!checked.ok) throw new Error(checked.problem.problem);
    expect(checked.value.ready).toEqual([]);
    expect(checked.value.refused.every((r) => r.reasons.some((x) => x.reason === 'UPN_IN_USE'))).toBe(true);
  });
});

describe('downloadFile: where a file may come from, how big, how long', () => {
  let files: FileServer;

  beforeAll(async () => {
    files = await fileServer();
  });

  afterAll(async () => {
    await files.close();
  });

  it.each([
    ['allows https outside local mode', 'https://contoso-my.sharepoint.com/x.csv', false, true],
    ['refuses plain http outside local mode', 'http://contoso-my.sharepoint.com/x.csv', false, false],
    ['refuses a URL with credentials', 'https://user:pass@contoso-my.sharepoint.com/x.csv', false, false],
    ['allows loopback in local mode', 'http://127.0.0.1:8080/x.csv', true, true],
    ['allows localhost in local mode', 'http://localhost:8080/x.csv', true, true],
    ['refuses any other host in local mode', 'https://contoso-my.sharepoint.com/x.csv', true, false],
    ['refuses what is not an http(s) URL', 'javascript:alert(1)', false, false],
    ['refuses a file URL', 'file:///etc/passwd', true, false],
  ])('%s: %s', (_case, url, localMode, allowed) => {
    expect(allowedDownloadUrl(url, localMode) !== undefined).toBe(allowed);
  });

  it('stops reading a body without a length once it passes the limit', async () => {
    files.routes.set('/chunked.csv', (res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      const chunk = 'x'.repeat(16 * 1024);
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent > 100) {
          clearInterval(timer);
          res.end();
          return;
        }
        sent += 1;
        res.write(chunk);
      }, 1);
    });
    expect(await downloadFile(`${files.url}/chunked.csv`, { localMode: true, maxBytes: 64 * 1024, timeoutMs: 5_000 })).toEqual({ ok: false, why: 'tooBig', detail: 'over 65536 bytes' });
  });

  it('gives up on a link that does not answer in time', async () => {
    files.routes.set('/slow.csv', (res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('a,b\n');
    });
    const started = Date.now();
    expect(await downloadFile(`${files.url}/slow.csv`, { localMode: true, maxBytes: 1024, timeoutMs: 300 })).toEqual({ ok: false, why: 'timeout', detail: 'no file within 0 s' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('follows a redirect that stays within the rules, and says the HTTP status of a refusal', async () => {
    files.routes.set('/here.csv', (res) => {
      res.writeHead(302, { location: '/there.csv' });
      res.end();
    });
    files.routes.set('/there.csv', csvBody('a,b\n'));
    expect(await downloadFile(`${files.url}/here.csv`, { localMode: true, maxBytes: 1024, timeoutMs: 5_000 })).toEqual({ ok: true, text: 'a,b\n' });
    expect(await downloadFile(`${files.url}/gone.csv`, { localMode: true, maxBytes: 1024, timeoutMs: 5_000 })).toEqual({ ok: false, why: 'status', detail: 'HTTP 404' });
  });

  it('reads UTF-8, and Windows-1252 (Excel\'s plain CSV) when the bytes are not UTF-8', () => {
    expect(decodeText(Buffer.from('Zürich,Genève', 'utf8'))).toBe('Zürich,Genève');
    expect(decodeText(Buffer.from([0x5a, 0xfc, 0x72, 0x69, 0x63, 0x68]))).toBe('Zürich');
  });
});
