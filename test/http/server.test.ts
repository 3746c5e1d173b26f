import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts } from '../helpers/conversation';
import { captureServer, post, replyTo, type Captured } from '../helpers/connector';

/** A stand-in for the Bot Connector: records what the bot posts to its serviceUrl. */
describe('the real restify server on loopback, local mode', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    server = await app.start();
  });

  afterEach(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it('binds to 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers an Action.Execute invoke in the HTTP body', async () => {
    const response = await post(`${server.url}/api/messages`, execute('listAccounts', { offset: 0 }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: { type: 'AdaptiveCard', version: '1.5' } });
    expect(cardTexts((response.body as { value: unknown }).value)).toEqual(expect.arrayContaining(['Resource accounts', '1–10 of 14']));
  });

  it('posts the reply to a message back to the (loopback) serviceUrl', async () => {
    const connector = await captureServer();
    try {
      const sent = message('show aa-main', { serviceUrl: connector.url });
      const response = await post(`${server.url}/api/messages`, sent);
      expect(response.status).toBe(200);
      // After the HTTP answer, from the outbox (src/bot/replies.ts).
      await replyTo(connector, sent);
      expect(connector.posts).toHaveLength(1);
      expect(connector.posts[0]!.url).toMatch(/^\/v3\/conversations\/a%3Apersonal-chat\/activities\/act-\d+$/);
      const attachments = connector.posts[0]!.body.attachments as { content: unknown }[];
      expect(cardTexts(attachments[0]!.content)).toContain('Username: aa-main@contoso.com');
    } finally {
      await connector.close();
    }
  });

  it.each([
    ['a missing type', { text: 'hi' }],
    ['a non-string type', { type: 42 }],
    ['an array body', [1, 2, 3]],
  ])('answers %s with 400, not 500', async (_case, body) => {
    expect((await post(`${server.url}/api/messages`, body)).status).toBe(400);
  });

  it('refuses a non-loopback serviceUrl in local mode (no SSRF while authentication is off)', async () => {
    const response = await post(`${server.url}/api/messages`, message('help', { serviceUrl: 'https://smba.trafficmanager.net/teams/' }));
    expect(response).toEqual({ status: 400, body: { error: 'in local mode the serviceUrl must be a loopback address' } });
  });

  it('reports health as ok/degraded per check only: no tenant name, no counts (those go to the log)', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      checks: [
        { name: 'backend', ok: true },
        { name: 'store', ok: true },
      ],
    });
  });

  it('finishes an in-flight turn before it stops, then refuses new work', async () => {
    const real = app.directory.getTenantFacts.bind(app.directory);
    jest.spyOn(app.directory, 'getTenantFacts').mockImplementation(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return real();
    });
    const inFlight = post(`${server.url}/api/messages`, execute('openAddForm'));
    await new Promise((r) => setTimeout(r, 50));
    const stopped = server.stop();
    const response = await inFlight;
    await stopped;
    expect(response.status).toBe(200);
    expect(cardTexts((response.body as { value: unknown }).value)).toContain('Add resource account');
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describe('a plan over real HTTP with a slow tenant', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '20', SWITCHBOARD_SIM_NUMBER_DELAY_MS: '2500', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    server = await app.start();
  });

  afterEach(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it('answers Confirm at once, then updates the plan card in place through the connector (PUT)', async () => {
    const connector = await captureServer();
    try {
      const asked = message('unassign aa-main', { serviceUrl: connector.url });
      await post(`${server.url}/api/messages`, asked);
      const planId = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify((await replyTo(connector, asked)).body))![1]!;
      expect(connector.posts).toHaveLength(1);

      const clicked = { ...execute('confirmPlan', { planId }, { serviceUrl: connector.url }), replyToId: 'posted-1' };
      const response = await post(`${server.url}/api/messages`, clicked);
      expect(response.status).toBe(200);
      expect(cardTexts((response.body as { value: unknown }).value)[1]).toMatch(/^(Working on it…|Waiting for the tenant: )/);

      const deadline = Date.now() + 8_000;
      const isFinalUpdate = (p: Captured) => p.method === 'PUT' && JSON.stringify(p.body).includes('"Done."');
      while (!connector.posts.some(isFinalUpdate) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const update = connector.posts.find(isFinalUpdate)!;
      expect(update.url).toBe('/v3/conversations/a%3Apersonal-chat/activities/posted-1');
      expect(cardTexts((update.body.attachments as { content: unknown }[])[0]!.content).slice(0, 2)).toEqual(['Unassign the number of aa-main@contoso.com', 'Done.']);
    } finally {
      await connector.close();
    }
  });
});

describe('the real restify server with an app id', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, {
      MicrosoftAppId: '11111111-2222-4333-8444-555555555555',
      MicrosoftAppPassword: 'not-a-real-secret',
      MicrosoftAppTenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      SWITCHBOARD_PUBLIC_URL: 'https://switchboard.contoso.com',
      HOST: '127.0.0.1',
    });
    server = await app.start();
  });

  afterEach(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it.each([
    ['no Authorization header', {}],
    ['a garbage bearer token', { authorization: 'Bearer not.a.jwt' }],
  ])('answers a request with %s with 401 and changes nothing', async (_case, headers) => {
    const before = await app.directory.listAccounts({ offset: 0, limit: 100 });
    const response = await post(
      `${server.url}/api/messages`,
      execute('addAccount', { displayName: 'X', username: 'x', domain: 'contoso.com', accountType: 'callQueue', usageLocation: 'US', license: 'none' }),
      headers,
    );
    expect(response).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(await app.directory.listAccounts({ offset: 0, limit: 100 })).toEqual(before);
  });
});
