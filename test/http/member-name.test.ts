import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { installed, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { captureServer, post, type Captured } from '../helpers/connector';
import { APPROVER } from '../helpers/identities';
import { until } from '../helpers/waiting';

/*
 * Why (an admin walk): installing the app sends conversationUpdate, often without the user's name, and
 * the first approval card then said "Sent for approval to b2b2b2b2-…" until the approver had written to
 * the bot. The bot now asks Teams for the member (GET /v3/conversations/{id}/members/{userId},
 * TeamsInfo.getMember) while no name is on record. Over real HTTP, with a loopback Bot Connector.
 */
describe('the name of an approver who only installed the app', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof captureServer>>;
  const nameless = { ...APPROVER, name: '' };
  const memberCalls = () => connector.posts.filter((p) => p.method === 'GET' && p.url.includes('/members/'));

  async function start(answer: (call: Captured) => Record<string, unknown> | undefined, status?: (call: Captured) => number): Promise<string> {
    dir = await tempDir();
    app = await testApp(dir.dir);
    server = await app.start();
    connector = await captureServer({ answer, ...(status ? { status } : {}) });
    return `${server.url}/api/messages`;
  }

  afterEach(async () => {
    // The server first: it waits for the turn in flight, whose welcome card still goes to the connector.
    await server.stop();
    await connector.close();
    await app.close();
    await dir.remove();
  });

  it('is asked of Teams once, and kept', async () => {
    const api = await start((call) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId, userRole: 'user' } : undefined));
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId))?.name === 'Bob Approver', 5_000, 'the name');
    expect(memberCalls().map((c) => c.url)).toEqual([`/v3/conversations/${encodeURIComponent(`a:personal-${APPROVER.id}`)}/members/${encodeURIComponent(APPROVER.id)}`]);
    // Known now: another nameless activity does not ask again.
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(memberCalls()).toHaveLength(1);
  });

  it('is not taken when Teams answers for someone else', async () => {
    const api = await start((call) => (call.method === 'GET' ? { id: '29:other', name: 'Mallory', objectId: 'ffffffff-0000-4000-8000-000000000009' } : undefined));
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId)) !== undefined && memberCalls().length === 1, 5_000, 'the contact');
    expect((await app.contacts.contact(APPROVER.aadObjectId))!.name).toBe('');
  });

  it('leaves the contact without a name when Teams refuses, and the turn goes on', async () => {
    const api = await start(() => undefined, (call) => (call.method === 'GET' ? 403 : 200));
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId)) !== undefined, 5_000, 'the contact');
    expect((await app.contacts.contact(APPROVER.aadObjectId))!.name).toBe('');
    // The name a message carries later is kept as ever.
    expect((await post(api, message('help', { from: APPROVER, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId))?.name === 'Bob Approver', 5_000, 'the name from a message');
  });
});
