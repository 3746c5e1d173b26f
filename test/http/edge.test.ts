import { readdirSync, readlinkSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { App } from '../../src/app';
import { ExportLinks } from '../../src/audit/exports';
import { DEMO } from '../../src/backends/simulated/seed';
import { createLogger } from '../../src/log/logger';
import type { RunningServer } from '../../src/server';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { captureServer, post } from '../helpers/connector';
import { jsonOf, rawRequest } from '../helpers/rawHttp';
import { until } from '../helpers/waiting';

const APP_ID_ENV = {
  MicrosoftAppId: '11111111-2222-4333-8444-555555555555',
  MicrosoftAppPassword: 'not-a-real-secret',
  MicrosoftAppTenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  SWITCHBOARD_PUBLIC_URL: 'https://switchboard.contoso.com',
  HOST: '127.0.0.1',
};

const JSON_TYPE = { 'content-type': 'application/json' };
const ADD = { displayName: 'Web page', username: 'aa-web', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'none' };

/** A multipart/form-data body with one file part (starting with `marker`), as a browser form with a file input sends it. */
function multipart(marker: string, bytes: number): { type: string; body: Buffer } {
  const boundary = `----switchboard${randomUUID()}`;
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.bin"\r\ncontent-type: application/octet-stream\r\n\r\n${marker}`;
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([Buffer.from(head), Buffer.alloc(bytes, 0x61), Buffer.from(`\r\n--${boundary}--\r\n`)]) };
}

async function withServer(env: Record<string, string>, run: (app: App, server: RunningServer) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  const app = await testApp(dir.dir, env);
  const server = await app.start();
  try {
    await run(app, server);
  } finally {
    await server.stop();
    await app.close();
    await dir.remove();
  }
}

describe('POST /api/messages reads JSON only, bounded before anything is buffered (authentication on)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let api: string;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, APP_ID_ENV);
    server = await app.start();
    api = `${server.url}/api/messages`;
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  const tempFiles = async (): Promise<string[]> =>
    (await readdir(os.tmpdir(), { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);

  /**
   * The files that appeared in the temp folder (where restify's multipart parser, formidable, writes
   * uploads) during `request` and hold `marker`. Jest gives each test file its own copy of process.env,
   * so pointing TMPDIR elsewhere from here does not move os.tmpdir(); and other processes may write
   * there at the same time, so a file counts only if it holds what this test sent.
   */
  async function filesLeftBy<T>(marker: string, request: () => Promise<T>): Promise<{ result: T; filesLeft: string[] }> {
    const before = new Set(await tempFiles());
    const result = await request();
    const filesLeft: string[] = [];
    for (const name of (await tempFiles()).filter((n) => !before.has(n))) {
      const text = await readFile(path.join(os.tmpdir(), name), 'latin1').catch(() => '');
      if (text.includes(marker)) filesLeft.push(name);
    }
    return { result, filesLeft };
  }

  const marker = `switchboard-upload-${randomUUID()}`;
  const big = multipart(marker, 1024 * 1024);
  it.each([
    ['multipart/form-data with a 1 MB file part', big.type, big.body],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', Buffer.from(`payload=${marker}${'a'.repeat(100_000)}`)],
    ['text/plain holding JSON', 'text/plain', Buffer.from(JSON.stringify({ ...execute('addAccount', ADD), marker }))],
    ['no content type', '', Buffer.from(JSON.stringify({ ...execute('addAccount', ADD), marker }))],
  ])('refuses %s with 415 before authentication and leaves no file in the temp folder', async (_case, type, body) => {
    const { result: response, filesLeft } = await filesLeftBy(marker, () => rawRequest(api, { headers: type ? { 'content-type': type } : {}, body }));
    expect({ status: response.status, body: jsonOf(response), filesLeft }).toEqual({
      status: 415,
      body: { error: 'only application/json is accepted' },
      filesLeft: [],
    });
  });

  it('refuses a Content-Length over the limit with 413 before the body is sent', async () => {
    // The headers alone: a server that waited for (or buffered) the body would never answer.
    // Whether the answer came while no byte of the body had been sent (the request is ended only after).
    let answeredWithoutBody: Promise<boolean> = Promise.resolve(false);
    const response = await rawRequest(api, {
      headers: { ...JSON_TYPE, 'content-length': String(50 * 1024 * 1024) },
      write: (req, answered) => {
        req.flushHeaders();
        answeredWithoutBody = (async () => {
          // Not a speed bound: how long to wait before concluding that the server waits for the body.
          const deadline = Date.now() + 5_000;
          while (!answered() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
          return answered();
        })();
        return answeredWithoutBody.then(() => undefined);
      },
    });
    expect(response.status).toBe(413);
    expect(await answeredWithoutBody).toBe(true);
    expect(response.headers.connection).toBe('close');
  });

  it('counts a chunked body as it streams and answers 413 at the limit', async () => {
    let sent = 0;
    const response = await rawRequest(api, {
      headers: JSON_TYPE,
      write: async (req, answered) => {
        // Up to 8 MB, 64 KB at a time, until the server answers.
        while (!answered() && sent < 8 * 1024 * 1024) {
          const more = req.write(Buffer.alloc(64 * 1024, 0x20));
          sent += 64 * 1024;
          if (!more) await new Promise((r) => setTimeout(r, 5));
        }
      },
    });
    expect(response.status).toBe(413);
    expect(sent).toBeLessThan(8 * 1024 * 1024);
  });

  it.each([
    ['malformed JSON', JSON_TYPE, '{"type": "message",'],
    ['bytes that are not UTF-8', JSON_TYPE, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ])('answers %s with 400', async (_case, headers, body) => {
    const response = await rawRequest(api, { headers, body });
    expect(response.status).toBe(400);
    expect(response.text).not.toContain('SyntaxError');
  });

  it('refuses a compressed body (415): nothing decompresses before authentication', async () => {
    const response = await rawRequest(api, { headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: 'x' });
    expect(response.status).toBe(415);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8'])(
    'takes %s as far as authentication (401 without a token)',
    async (type) => {
      const response = await rawRequest(api, { headers: { 'content-type': type }, body: JSON.stringify(execute('addAccount', ADD)) });
      expect(response.status).toBe(401);
    },
  );

  it('answers any Host with an app id: the token is what counts there', async () => {
    const response = await rawRequest(api, { headers: { ...JSON_TYPE, host: 'switchboard.contoso.com' }, body: JSON.stringify(message('help')) });
    expect(response.status).toBe(401);
  });
});

describe('local mode answers only loopback, never a web page', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let api: string;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    server = await app.start();
    api = `${server.url}/api/messages`;
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  const accounts = () => app.directory.listAccounts({ offset: 0, limit: 100 });

  it.each([
    ['a rebound DNS name', 'attacker.example'],
    ['a rebound DNS name with the port', 'attacker.example:3978'],
    ['a name that starts like localhost', 'localhost.attacker.example'],
    ['a name that starts like 127.0.0.1', '127.0.0.1.nip.io'],
    ['a LAN address', '192.168.1.20:3978'],
    ['an IPv6 address that is not loopback', '[fe80::1]:3978'],
    ['junk after the port', '127.0.0.1:3978@attacker.example'],
  ])('refuses a request whose Host is %s (421) on every route, and changes nothing', async (_case, host) => {
    const before = await accounts();
    for (const [method, route] of [
      ['POST', '/api/messages'],
      ['GET', '/healthz'],
      ['GET', '/exports/00000000000000000000000000000000.csv'],
    ] as const) {
      const response = await rawRequest(`${server.url}${route}`, { method, headers: { ...JSON_TYPE, host }, body: method === 'POST' ? JSON.stringify(execute('addAccount', ADD)) : undefined });
      expect(response.status).toBe(421);
      expect(jsonOf(response)).toEqual({ error: 'in local mode only a loopback Host (localhost, 127.0.0.1, [::1]) is answered' });
    }
    expect(await accounts()).toEqual(before);
  });

  it('refuses a request with no Host at all (HTTP/1.0)', async () => {
    const port = new URL(server.url).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.end('GET /healthz HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.[01] 421 /);
  });

  it('refuses an absolute-form request to another host, whose target wins over Host (RFC 9112 §3.2.2)', async () => {
    const port = new URL(server.url).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.end('GET http://attacker.example/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 421 /);
  });

  it('answers a request that asks to upgrade (e.g. a WebSocket from any page) with 400 and closes, instead of hanging', async () => {
    const port = new URL(server.url).port;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => reject(new Error('the connection hung')), 3_000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it.each(['localhost', 'LOCALHOST:3978', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:3978'])('answers a loopback Host %s', async (host) => {
    const response = await rawRequest(`${server.url}/healthz`, { method: 'GET', headers: { host } });
    expect(response.status).toBe(200);
  });

  it.each([
    ['another site', 'https://attacker.example'],
    ['a sandboxed page ("null")', 'null'],
    ['a name that starts like localhost', 'http://localhost.attacker.example'],
    ['a LAN address', 'http://192.168.1.20:3978'],
  ])('refuses a POST from a page on %s (403), even as JSON with a loopback Host, and changes nothing', async (_case, origin) => {
    const before = await accounts();
    const response = await rawRequest(api, { headers: { ...JSON_TYPE, origin }, body: JSON.stringify(execute('addAccount', ADD)) });
    expect(response.status).toBe(403);
    expect(jsonOf(response)).toEqual({ error: 'in local mode requests from web pages are refused' });
    expect(await accounts()).toEqual(before);
  });

  it.each([
    ['text/plain (a cross-site form with enctype=text/plain)', 'text/plain'],
    ['application/x-www-form-urlencoded (a plain cross-site form)', 'application/x-www-form-urlencoded'],
  ])('refuses a browser "simple request" sent as %s, with or without an Origin', async (_case, type) => {
    const before = await accounts();
    const body = JSON.stringify(execute('addAccount', ADD));
    expect((await rawRequest(api, { headers: { 'content-type': type, origin: 'https://attacker.example' }, body })).status).toBe(403);
    expect((await rawRequest(api, { headers: { 'content-type': type }, body })).status).toBe(415);
    expect(await accounts()).toEqual(before);
  });

  it('answers the Playground (loopback Host, no Origin) and a page on loopback', async () => {
    const plain = await rawRequest(api, { headers: { ...JSON_TYPE, 'x-ms-agents-playground': 'true' }, body: JSON.stringify(execute('listAccounts', { offset: 0 })) });
    expect(plain.status).toBe(200);
    const fromLoopbackPage = await rawRequest(api, { headers: { ...JSON_TYPE, origin: server.url }, body: JSON.stringify(execute('listAccounts', { offset: 0 })) });
    expect(fromLoopbackPage.status).toBe(200);
  });

  it('refuses an activity with no serviceUrl: botbuilder would reply to https://api.botframework.com', async () => {
    const { serviceUrl: _serviceUrl, ...activity } = message('help');
    const response = await rawRequest(api, { headers: JSON_TYPE, body: JSON.stringify(activity) });
    expect({ status: response.status, body: jsonOf(response) }).toEqual({ status: 400, body: { error: 'in local mode the serviceUrl must be a loopback address' } });
  });

  it('does not answer a CORS preflight with a permission', async () => {
    const response = await rawRequest(api, { method: 'OPTIONS', headers: { origin: 'https://attacker.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('activity fields are typed and bounded at the edge', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let api: string;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    server = await app.start();
    api = `${server.url}/api/messages`;
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  const SECRET = 'SECRET-VALUE-7f3a';
  const nested = (depth: number): unknown => {
    let node: unknown = SECRET;
    for (let i = 0; i < depth; i++) node = { a: node };
    return node;
  };
  const base = () => structuredClone(execute('listAccounts', { offset: 0 })) as Record<string, unknown>;
  const withField = (patch: (a: Record<string, unknown>) => void) => {
    const activity = base();
    patch(activity);
    return activity;
  };

  it.each<[string, Record<string, unknown>, string]>([
    ['a non-string replyToId', withField((a) => (a.replyToId = { id: SECRET })), 'replyToId must be a string'],
    ['a non-string from.name', withField((a) => ((a.from as Record<string, unknown>).name = [SECRET])), 'from.name must be a string'],
    ['a deeply nested conversation', withField((a) => ((a.conversation as Record<string, unknown>).name = nested(40))), 'the body is nested deeper than 32 levels'],
    ['a non-string conversation.id', withField((a) => ((a.conversation as Record<string, unknown>).id = 7)), 'conversation.id must be a string'],
    ['a non-boolean conversation.isGroup', withField((a) => ((a.conversation as Record<string, unknown>).isGroup = SECRET)), 'conversation.isGroup must be a boolean'],
    ['a non-string tenant id', withField((a) => (a.channelData = { tenant: { id: { x: SECRET } } })), 'channelData.tenant.id must be a string'],
    ['a non-string channel id', withField((a) => (a.channelData = { tenant: { id: 'x' }, channel: { id: 5 } })), 'channelData.channel.id must be a string'],
    ['an over-long text', withField((a) => ((a.type = 'message'), (a.text = SECRET.repeat(3000)))), 'text is too long'],
    ['a non-string locale', withField((a) => (a.locale = 12)), 'locale must be a string'],
    ['a locale that is no language tag', withField((a) => (a.locale = `en-US<${SECRET}>`)), 'locale must be a language tag'],
    ['a serviceUrl that is no URL', withField((a) => (a.serviceUrl = SECRET)), 'serviceUrl must be an http(s) URL'],
    ['a non-string timestamp', withField((a) => (a.timestamp = 1700000000)), 'timestamp must be a string'],
    ['too many membersAdded', withField((a) => ((a.type = 'conversationUpdate'), (a.membersAdded = Array.from({ length: 501 }, (_, i) => ({ id: `29:${i}` }))))), 'membersAdded has too many items'],
    ['a member with a numeric id', withField((a) => ((a.type = 'conversationUpdate'), (a.membersAdded = [{ id: 29 }]))), 'membersAdded[0].id must be a string'],
    ['too many attachments', withField((a) => (a.attachments = Array.from({ length: 51 }, () => ({ contentType: 'text/html' })))), 'attachments has too many items'],
    ['an entity with a non-string type', withField((a) => (a.entities = [{ type: { SECRET } }])), 'entities[0].type must be a string'],
    ['a value too large', withField((a) => (a.value = { action: { type: 'Action.Execute', verb: 'x', data: { big: SECRET.repeat(5000) } } })), 'value is too large'],
    ['a non-string type', withField((a) => (a.type = 42)), 'type must be a string'],
    ['no type', withField((a) => delete a.type), 'type is missing'],
    ['a __proto__ key', JSON.parse(`{"type":"message","__proto__":{"channelData":{"tenant":{"id":"${SECRET}"}}}}`) as Record<string, unknown>, 'the body has a forbidden key'],
  ])('answers %s with 400 naming the field, never its value', async (_case, activity, detail) => {
    const response = await rawRequest(api, { headers: JSON_TYPE, body: JSON.stringify(activity) });
    expect(response.status).toBe(400);
    expect(jsonOf(response)).toEqual({ error: 'not a valid activity', detail });
    expect(response.text).not.toContain(SECRET);
  });

  it('answers every activity type and invoke name Teams defines, with odd values, without a 5xx or a slow turn', async () => {
    const connector = await captureServer();
    try {
      const types = ['message', 'conversationUpdate', 'installationUpdate', 'messageReaction', 'event', 'typing', 'endOfConversation', 'messageUpdate', 'messageDelete', 'invokeResponse', 'trace', 'unknownType'];
      const names = ['adaptiveCard/action', 'composeExtension/query', 'task/fetch', 'signin/verifyState', 'fileConsent/invoke', 'config/fetch', 'message/submitAction', 'healthCheck', 'unknown/invoke'];
      const values = [undefined, null, 'x', [], {}, { action: {} }, { action: { type: 'Action.Execute' } }, { verb: 'listAccounts' }, { verb: 7 }];
      const cases: Record<string, unknown>[] = [];
      const envelope = () => structuredClone(message('help', { serviceUrl: connector.url })) as Record<string, unknown>;
      for (const type of types) {
        cases.push({ ...envelope(), type, text: undefined, membersAdded: [{ id: 'x' }], membersRemoved: [{ id: 'y' }], reactionsAdded: [{ type: 'like' }], action: 'add' });
        cases.push({ ...envelope(), type, recipient: undefined, channelData: { tenant: { id: '72f988bf-86f1-41af-91ab-2d7cd011db47' }, eventType: 'teamRenamed', team: {} } });
      }
      for (const name of names) for (const value of values) cases.push({ ...envelope(), type: 'invoke', name, value, text: undefined });
      for (const value of values) cases.push({ ...envelope(), type: 'message', text: undefined, value });
      for (const field of ['from', 'recipient', 'conversation', 'channelId', 'id', 'channelData']) {
        cases.push({ ...envelope(), [field]: undefined });
        cases.push({ ...envelope(), type: 'invoke', name: 'adaptiveCard/action', [field]: undefined, value: { action: { type: 'Action.Execute', verb: 'listAccounts' } } });
      }
      cases.push({ ...envelope(), deliveryMode: 'expectReplies' });
      const slowOrFailed: string[] = [];
      for (const activity of cases) {
        const started = Date.now();
        const response = await rawRequest(api, { headers: JSON_TYPE, body: JSON.stringify(activity) });
        if (response.status >= 500 || Date.now() - started > 2_000) slowOrFailed.push(`${response.status} ${JSON.stringify(activity).slice(0, 120)}`);
      }
      expect(slowOrFailed).toEqual([]);
    } finally {
      await connector.close();
    }
  });

  it('answers a body nested 100,000 levels deep with 400 (checked without recursion) and keeps serving', async () => {
    const body = `{"type":"message","value":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const response = await rawRequest(api, { headers: JSON_TYPE, body });
    expect(response.status).toBe(400);
    expect(jsonOf(response)).toEqual({ error: 'not a valid activity', detail: 'the body is nested deeper than 32 levels' });
    expect((await post(api, execute('listAccounts', { offset: 0 }))).status).toBe(200);
  });

  it('passes unknown keys Teams sends (channelData.settings, entities clientInfo) through', async () => {
    const activity = {
      ...execute('listAccounts', { offset: 0 }),
      channelData: { tenant: { id: '72f988bf-86f1-41af-91ab-2d7cd011db47' }, source: { name: 'message' }, legacy: { replyToId: 'x' } },
      entities: [{ type: 'clientInfo', locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/Paris' }],
      localTimestamp: '2026-11-30T10:00:00.123+01:00',
      timestamp: '2026-11-30T09:00:00.1234567Z',
      textFormat: 'plain',
      attachments: [],
    };
    expect((await post(api, activity)).status).toBe(200);
  });

  it('refuses a non-string replyToId on a plan card, so the plan store still opens at the next start-up', async () => {
    const connector = await captureServer();
    try {
      const click = { ...execute('requestDelete', { accountId: DEMO.accounts.helpdesk.id }, { serviceUrl: connector.url }), replyToId: { id: 42 } };
      expect((await post(api, click)).status).toBe(400);
      await server.stop();
      await app.close();
      app = await testApp(dir.dir);
      server = await app.start();
      api = `${server.url}/api/messages`;
      expect(await app.plans.counts()).toEqual({});
    } finally {
      await connector.close();
    }
  });
});

describe('history export links', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let auditFile: string;

  /** Descriptors of this process that point at the audit log. */
  const openAuditHandles = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === auditFile;
      } catch {
        return false; // closed while we looked
      }
    }).length;

  beforeAll(async () => {
    dir = await tempDir();
    auditFile = path.join(dir.dir, 'audit.jsonl');
    // A long log (about 12 MB), far more than the socket buffers hold, written as the AuditLog writes it.
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      lines.push(
        JSON.stringify({
          id: randomUUID(),
          at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
          actor: { aadObjectId: 'a1a1a1a1-0000-4000-8000-000000000001', name: 'Ada Admin' },
          action: 'account.update',
          target: `cq-${i}@contoso.com`,
          outcome: 'succeeded',
        }),
      );
    }
    await writeFile(auditFile, `${lines.join('\n')}\n`);
    app = await testApp(dir.dir, {}, { exportIdleMs: 400 });
    server = await app.start();
  });

  afterAll(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  const link = async (username = '') => (await app.exports.create(username, 'switchboard-history.csv')).url;

  it('answers a GET (a link previewer, or the first click) with a page that does not use up the link', async () => {
    const url = await link('cq-1');
    for (let i = 0; i < 2; i++) {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(Object.fromEntries(['content-type', 'content-security-policy', 'x-content-type-options', 'cache-control', 'referrer-policy'].map((h) => [h, page.headers.get(h)]))).toEqual({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; form-action 'self'",
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      const html = await page.text();
      const token = /\/exports\/([0-9a-f]{32})\.csv$/.exec(url)![1]!;
      expect(html).toContain(`<form method="post" action="${token}.csv">`);
      expect(html).not.toMatch(/cq-1|Ada|contoso|switchboard-history|<script/i);
    }
    const download = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="switchboard-history.csv"');
    expect((await download.text()).trim().split('\n')).toHaveLength(2);
    // Used: a person who opens it again reads what to do, in their language (before: raw JSON).
    for (const method of ['GET', 'POST']) {
      const used = await fetch(url, { method, headers: { 'accept-language': 'fr-FR,fr;q=0.9' } });
      expect(used.status).toBe(404);
      expect(used.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await used.text()).toContain('<p>Ce lien a déjà servi, ou il a expiré (les liens durent quelques minutes). Redemandez l’export dans la conversation avec Switchboard.</p>');
    }
  });

  it('answers an unknown link with 404, GET and POST alike', async () => {
    const unknown = `${server.url}/exports/${'ab'.repeat(16)}.csv`;
    expect((await fetch(unknown)).status).toBe(404);
    expect((await fetch(unknown, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}/exports/nope.csv`)).status).toBe(404);
  });

  it('forgets an expired link', async () => {
    let now = 0;
    const sut = new ExportLinks(undefined, 1000, () => now);
    const token = /([0-9a-f]{32})\.csv$/.exec((await sut.create('', 'x.csv')).url)![1]!;
    expect(await sut.has(token)).toBe(true);
    now = 1000;
    expect(await sut.has(token)).toBe(false);
    expect(await sut.take(token)).toBeUndefined();
  });

  it('reads a POST body only up to a small bound, in memory, and keeps the link for a proper click', async () => {
    const url = await link('cq-2');
    const tooBig = await rawRequest(url, { headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(10 * 1024 * 1024) }, write: async (req, answered) => {
      req.flushHeaders();
      const deadline = Date.now() + 5_000;
      while (!answered() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    } });
    expect(tooBig.status).toBe(413);
    const form = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=1' });
    expect(form.status).toBe(200);
    await form.text();
  });

  it('closes the audit file when the client goes away in the middle of a download', async () => {
    // The download of the test before may still be closing its file: wait for it, do not assume it.
    await until(() => openAuditHandles() === 0, 3_000, 'the earlier download to close the audit file');
    const url = new URL(await link());
    await new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: 'POST' }, (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => {
          // A little has arrived; the server is now waiting for the client to read more.
          res.socket.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('no data')), 5_000).unref();
    });
    await until(() => openAuditHandles() === 0, 3_000, 'the audit file to be closed');
  });

  it('drops a download that makes no progress for the idle time, closing the file', async () => {
    const url = new URL(await link());
    const outcome = await new Promise<{ openWhileStalled: number; complete: boolean }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST' }, (res) => {
        // Never read: the server's writes fill the socket buffers and wait for a drain that never comes.
        res.pause();
        const openWhileStalled = openAuditHandles();
        // The bound is many idle times: under a full suite on a shared 2-core machine, filling the socket
        // buffers from the audit file took over 3 s once and over 6 s once.
        void until(() => openAuditHandles() === 0, 12_000, 'the stalled download to be dropped').then(() => {
          // The server gave up; reading now shows the download was cut off, not finished.
          res.on('close', () => resolve({ openWhileStalled, complete: res.complete }));
          res.resume();
        }, reject);
      });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => reject(new Error('the server kept the download open')), 16_000).unref();
    });
    expect(outcome).toEqual({ openWhileStalled: 1, complete: false });
  }, 25_000);
});

describe('/healthz tells anyone only whether each part works', () => {
  it('answers degraded with check names and booleans; the details go to the log as a warning', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const dir = await tempDir();
    const app = await testApp(dir.dir, {}, { log: createLogger('info', sink) });
    const server = await app.start();
    try {
      jest.spyOn(app.directory, 'health').mockResolvedValue({ ok: false, detail: 'tenant "Contoso (demo)" is unreachable' });
      const response = await fetch(`${server.url}/healthz`);
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ status: 'degraded', checks: [{ name: 'backend', ok: false }, { name: 'store', ok: true }] });
      expect(text).not.toMatch(/Contoso|plans|approvals|localMode/);
      const warning = lines.map((l) => JSON.parse(l) as { level: number; msg: string; checks?: unknown }).find((l) => l.msg === 'health: degraded');
      expect(warning).toMatchObject({ level: 40, checks: expect.arrayContaining([expect.objectContaining({ name: 'backend', detail: 'tenant "Contoso (demo)" is unreachable' })]) });
    } finally {
      await server.stop();
      await app.close();
      await dir.remove();
    }
  });

  it('is answered with an app id too, without a token', async () => {
    await withServer(APP_ID_ENV, async (_app, server) => {
      const response = await fetch(`${server.url}/healthz`);
      expect(await response.json()).toEqual({ status: 'ok', checks: [{ name: 'backend', ok: true }, { name: 'store', ok: true }] });
    });
  });
});
