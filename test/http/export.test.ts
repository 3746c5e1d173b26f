import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { testApp, tempDir } from '../helpers/app';
import { execute } from '../helpers/activities';
import { captureServer, post } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
import { ADMIN } from '../helpers/identities';

describe('history export streamed over HTTP', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof captureServer>>;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    server = await app.start();
    connector = await captureServer();
    for (let i = 0; i < 3000; i++) {
      await app.audit.append({ actor: { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name }, action: 'account.update', target: i % 3 === 0 ? 'aa-main@contoso.com' : `cq-${i}@contoso.com`, outcome: 'succeeded' });
    }
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await connector.close();
    await dir.remove();
  });

  async function download(username: string): Promise<{ card: string[]; lines: string[] }> {
    const exported = await post(`${server.url}/api/messages`, execute('exportHistory', { username }, { serviceUrl: connector.url }));
    const value = (exported.body as { value: { actions: { url: string }[] } }).value;
    // The link opens a page (so that a link previewer cannot use it up); its button POSTs for the CSV.
    const response = await fetch(value.actions[0]!.url, { method: 'POST' });
    expect(response.status).toBe(200);
    return { card: cardTexts(value), lines: (await response.text()).trim().split('\n') };
  }

  it.each([
    ['the whole log, oldest first', '', 3000],
    ['one account, by username in any domain', 'aa-main', 1000],
    ['one account, by full username', 'aa-main@contoso.com', 1000],
    ['an account with no history', 'nobody', 0],
  ])('exports %s', async (_case, username, count) => {
    const { card, lines } = await download(username);
    expect(card[1]).toMatch(new RegExp(`^${count} entries\\.`));
    expect(lines).toHaveLength(count + 1);
    if (count > 0) expect(lines[1]!.split(',')[4]).toBe(username ? 'aa-main@contoso.com' : 'aa-main@contoso.com');
    if (count > 1) expect(lines[1]! < lines[lines.length - 1]!).toBe(true);
  });
});
