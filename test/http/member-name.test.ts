import type { App, AppOptions } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { execute, installed, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { captureServer, post, replyTo, type Captured } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
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

  async function start(
    answer: (call: Captured) => Record<string, unknown> | undefined,
    status?: (call: Captured) => number,
    more: { hold?: (call: Captured) => boolean; options?: AppOptions } = {},
  ): Promise<string> {
    dir = await tempDir();
    app = await testApp(dir.dir, {}, more.options);
    server = await app.start();
    connector = await captureServer({ answer, ...(status ? { status } : {}), ...(more.hold ? { hold: more.hold } : {}) });
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

  // Attack review 3: a roster answer is taken only for the member asked, by a string object id that matches.
  it.each([
    ['no object id', { id: APPROVER.id, name: 'Mallory' }],
    ['an object id that is not a string', { id: APPROVER.id, name: 'Mallory', objectId: 42 }],
    ['an aadObjectId of someone else beside a matching objectId', { id: APPROVER.id, name: 'Mallory', aadObjectId: 'ffffffff-0000-4000-8000-000000000009', objectId: APPROVER.aadObjectId }],
    ['a name of only invisible characters', { id: APPROVER.id, name: '\u200b\u2060 \u200e', objectId: APPROVER.aadObjectId }],
    ['a name of only Hangul fillers and a blank Braille pattern', { id: APPROVER.id, name: '\u3164\u2800\u3164', objectId: APPROVER.aadObjectId }],
  ])('is not taken from an answer with %s', async (_, body) => {
    const api = await start((call) => (call.method === 'GET' ? body : undefined));
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId)) !== undefined && memberCalls().length === 1, 5_000, 'the question');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await app.contacts.contact(APPROVER.aadObjectId))!.name).toBe('');
  });

  it('does not keep a click waiting while the roster hangs, and gives the question up at its budget', async () => {
    const api = await start(
      (call) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId } : undefined),
      undefined,
      { hold: (call) => call.method === 'GET', options: { memberNames: { budgetMs: 1_500 } } },
    );
    const click = await post(api, execute('showAccount', { upn: 'nobody@contoso.com' }, { from: nameless, serviceUrl: connector.url }));
    // The card came back, though the roster answers nothing until release().
    expect(click.status).toBe(200);
    expect(click.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    await until(() => memberCalls().length === 1, 5_000, 'the question');
    expect(memberCalls()[0]!.abandoned).toBeUndefined();
    // At the budget the request is aborted, not left open until the connector's own deadline.
    await until(() => memberCalls()[0]!.abandoned === true, 5_000, 'the abandoned question');
    connector.release();
    expect((await app.contacts.contact(APPROVER.aadObjectId))!.name).toBe('');
  });

  it('does not ask again on every turn after Teams could not name someone', async () => {
    // The connector client retries a 503 on its own (500–1000 ms later, then longer): the question ends at its budget, retries and all.
    const api = await start(() => undefined, (call) => (call.method === 'GET' ? 503 : 200), { options: { memberNames: { budgetMs: 800 } } });
    for (let i = 0; i < 3; i++) expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId)) !== undefined, 5_000, 'the contact');
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const asked = memberCalls().length;
    expect((await post(api, execute('showAccount', { upn: 'nobody@contoso.com' }, { from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One question (the client's own retries of a 503 aside), however many turns came.
    expect(new Set(memberCalls().map((c) => c.url)).size).toBe(1);
    expect(memberCalls()).toHaveLength(asked);
  });

  it('asks again once the time a failure is remembered has passed', async () => {
    let refuse = true;
    const api = await start(
      (call) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId } : undefined),
      (call) => (call.method === 'GET' && refuse ? 403 : 200),
      { options: { memberNames: { retryMs: 300 } } },
    );
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(() => memberCalls().length === 1, 5_000, 'the first question');
    refuse = false;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId))?.name === 'Bob Approver', 5_000, 'the name');
    expect(memberCalls()).toHaveLength(2);
  });

  // Attack review 4: the approval card held for an approver went out the moment they installed, before
  // Teams named them, and the requester's card said "Sent for approval to <object id>".
  it('sends a held approval card once Teams has named the approver who installed, so the requester reads their name', async () => {
    const api = await start(
      (call) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId } : undefined),
      undefined,
      { hold: (call) => call.method === 'GET', options: { memberNames: { budgetMs: 60_000 } } },
    );
    const asked = message('delete cq-helpdesk', { serviceUrl: connector.url });
    await post(api, asked);
    const planId = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify((await replyTo(connector, asked)).body))![1]!;
    const confirmed = await post(api, execute('confirmPlan', { planId }, { serviceUrl: connector.url }));
    expect(cardTexts((confirmed.body as { value: unknown }).value).join(' ')).toContain(`Could not reach ${APPROVER.aadObjectId}`);
    const toApprover = () => connector.posts.filter((p) => p.method === 'POST' && p.url.startsWith(`/v3/conversations/${encodeURIComponent(`a:personal-${APPROVER.id}`)}/activities`));

    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(() => memberCalls().length === 1, 5_000, 'the question');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only the welcome card: the approval card waits for the name.
    expect(toApprover().map((p) => JSON.stringify(p.body).includes(planId))).toEqual([false]);
    connector.release();
    await until(() => toApprover().some((p) => JSON.stringify(p.body).includes(planId)), 5_000, 'the approval card');
    const told = () => connector.posts.filter((p) => p.method === 'PUT' && JSON.stringify(p.body).includes('Sent for approval to'));
    await until(() => told().length > 0, 5_000, "the requester's card updated");
    expect(told().map((p) => cardTexts(p.body).find((t) => t.includes('Sent for approval to')))).toEqual(told().map(() => 'Sent for approval to Bob Approver.'));
  });

  // Attack review 5: the re-queue rode on the one turn that saved the chat; a stop or crash before it left the card held for good.
  it('sends a held approval card at the next start when the approver installed but the re-queue never ran', async () => {
    const answer = (call: Captured) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId } : undefined);
    let api = await start(answer);
    const asked = message('delete cq-helpdesk', { serviceUrl: connector.url });
    await post(api, asked);
    const planId = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify((await replyTo(connector, asked)).body))![1]!;
    await post(api, execute('confirmPlan', { planId }, { serviceUrl: connector.url }));
    const toApprover = () => connector.posts.filter((p) => p.method === 'POST' && p.url.startsWith(`/v3/conversations/${encodeURIComponent(`a:personal-${APPROVER.id}`)}/activities`) && JSON.stringify(p.body).includes(planId));
    // The process dies between saving the chat and re-queuing the card (here: the re-queue does nothing).
    jest.spyOn(app.delivery, 'reachable').mockResolvedValue();
    expect((await post(api, installed({ from: APPROVER, serviceUrl: connector.url }))).status).toBe(200);
    await until(async () => (await app.contacts.contact(APPROVER.aadObjectId)) !== undefined, 5_000, 'the contact');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(toApprover()).toHaveLength(0);
    await server.stop();
    await app.close();

    app = await testApp(dir.dir);
    server = await app.start();
    api = `${server.url}/api/messages`;
    await until(() => toApprover().length === 1, 5_000, 'the approval card after the restart');
  });

  // Attack review 5, made to happen: a re-queue that read the message before its delivery went out
  // (a second turn of the same approver) wrote it back to pending, and the card went out twice.
  it('a re-queue that read the held card before it went out does not send it again', async () => {
    const api = await start((call) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId } : undefined));
    const asked = message('delete cq-helpdesk', { serviceUrl: connector.url });
    await post(api, asked);
    const planId = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify((await replyTo(connector, asked)).body))![1]!;
    await post(api, execute('confirmPlan', { planId }, { serviceUrl: connector.url }));
    const stale = await app.workflow.outboxOf(planId);
    expect(stale.filter((m) => m.kind === 'deliverApproval').map((m) => m.status)).toEqual(['unreachable']);
    const toApprover = () => connector.posts.filter((p) => p.method === 'POST' && p.url.startsWith(`/v3/conversations/${encodeURIComponent(`a:personal-${APPROVER.id}`)}/activities`) && JSON.stringify(p.body).includes(planId));

    expect((await post(api, message('help', { from: APPROVER, serviceUrl: connector.url }))).status).toBe(200);
    await until(() => toApprover().length === 1, 5_000, 'the approval card');
    await app.delivery.idle();
    // The second re-queue's first read is from before that delivery.
    jest.spyOn(app.workflow, 'outboxOf').mockResolvedValueOnce(stale);
    await app.delivery.reachable(APPROVER.aadObjectId);
    await app.delivery.idle();
    expect(toApprover()).toHaveLength(1);
  });

  it('stops with a question still out: shutting down aborts it and writes nothing after', async () => {
    const api = await start(
      (call) => (call.method === 'GET' ? { id: APPROVER.id, name: 'Bob Approver', objectId: APPROVER.aadObjectId } : undefined),
      undefined,
      { hold: (call) => call.method === 'GET', options: { memberNames: { budgetMs: 60_000 } } },
    );
    expect((await post(api, installed({ from: nameless, serviceUrl: connector.url }))).status).toBe(200);
    await until(() => memberCalls().length === 1, 5_000, 'the question');
    await app.flush();
    await until(() => memberCalls()[0]!.abandoned === true, 5_000, 'the aborted question');
    connector.release();
    expect((await app.contacts.contact(APPROVER.aadObjectId))!.name).toBe('');
  });
});
