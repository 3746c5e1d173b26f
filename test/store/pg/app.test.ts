import { existsSync } from 'node:fs';
import path from 'node:path';
import type { App } from '../../../src/app';
import { DEMO } from '../../../src/backends/simulated/seed';
import type { RunningServer } from '../../../src/server';
import { execute, message } from '../../helpers/activities';
import { testApp, tempDir } from '../../helpers/app';
import { captureServer, post, replyTo } from '../../helpers/connector';
import { cardTexts, Conversation } from '../../helpers/conversation';
import { APPROVER, APPROVER_2 } from '../../helpers/identities';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';
import { bodyOf, idOn, until } from '../../helpers/waiting';

/** The whole bot on the PostgreSQL store: the same behaviour as on lowdb, and what an outage does. */
describe('Switchboard on PostgreSQL', () => {
  jest.setTimeout(120_000);
  let postgres: TestPostgres;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeAll(async () => {
    postgres = await startPostgres();
  });

  afterAll(async () => {
    await postgres.close();
  });

  beforeEach(async () => {
    dir = await tempDir();
    await postgres.start();
    app = await testApp(dir.dir, { SWITCHBOARD_STORE: 'postgres', DATABASE_URL: await postgres.newDatabase(), SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVER_IDS: `${APPROVER.aadObjectId},${APPROVER_2.aadObjectId}` });
  });

  afterEach(async () => {
    await postgres.start();
    await app.close();
    await dir.remove();
  });

  it('runs a request through approval, updates every copy of the card and tells the requester', async () => {
    const sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
    await sut.send(message('help', { from: APPROVER_2 }));
    const planId = idOn(await sut.card(message('delete cq-helpdesk')), 'planId');
    const asked = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'plan-card' }));
    expect(cardTexts(asked)[2]).toBe('Sent for approval to Bob Approver, Dee Approver.');
    const approverCards = sut.adapter.later.filter((a) => JSON.stringify(a).includes('"verb":"approveRequest"'));
    expect(approverCards.map((a) => a.conversation?.id).sort()).toEqual(['a:personal-29:approver', 'a:personal-29:approver2']);

    const approved = bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER })));
    expect(cardTexts(approved)[1]).toMatch(/^Approved by Bob Approver on .* Done\.$/);
    await sut.settled();
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();
    const lastUpdate = (id: string) => sut.adapter.updates.filter((u) => u.id === id).map((u) => cardTexts(u.attachments![0]!.content)[1]).at(-1);
    for (const copy of approverCards) expect(lastUpdate(copy.id!)).toMatch(/Done\.$/);
    expect(lastUpdate('plan-card')).toMatch(/^Approved by Bob Approver on .* Done\.$/);
    expect(sut.adapter.later.some((a) => a.conversation?.id === 'a:personal-chat' && cardTexts(a.attachments![0]!.content)[1]!.startsWith('Bob Approver approved your request'))).toBe(true);
    const story = (await app.audit.readAll()).filter((e) => e.requestId === planId).map((e) => e.action);
    expect(story).toEqual(['plan.deleteAccount', 'request.created', 'request.approved', 'account.delete', 'plan.deleteAccount', 'request.done']);
  });

  it('50 concurrent Approve clicks over HTTP: one decision, one execution, one "approved" audit entry', async () => {
    const server: RunningServer = await app.start();
    const connector = await captureServer();
    try {
      const api = `${server.url}/api/messages`;
      const serviceUrl = connector.url;
      await post(api, message('help', { from: APPROVER, serviceUrl }));
      const asked = message('delete cq-helpdesk', { serviceUrl });
      await post(api, asked);
      const planId = idOn((await replyTo(connector, asked)).body, 'planId');
      await post(api, execute('confirmPlan', { planId }, { serviceUrl }));
      const deleteAccount = jest.spyOn(app.directory, 'deleteAccount');
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(api, execute('approveRequest', { requestId: planId }, { from: i % 2 ? APPROVER : APPROVER_2, serviceUrl }))));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      await until(async () => (await app.plans.get(planId))?.status === 'done');
      expect(deleteAccount).toHaveBeenCalledTimes(1);
      expect((await app.audit.readAll()).filter((e) => e.requestId === planId && e.action === 'request.approved')).toHaveLength(1);
    } finally {
      await server.stop();
      await connector.close();
    }
  });

  it('a double-clicked Add (the two sends in flight together) makes one account, and both clicks get its card', async () => {
    // The second transaction waits on the account's lock for the first to commit: it must then find the
    // plan of that form, not "another change runs on this account" (found by an attack review).
    for (let i = 0; i < 4; i++) {
      const sut = new Conversation(app);
      const { formId } = (JSON.stringify(await sut.card(message('add'))).match(/"formId":"(?<formId>[0-9a-f-]{36})"/)?.groups ?? {}) as { formId?: string };
      expect(formId).toBeDefined();
      const data = { displayName: `Twice ${i}`, username: `aa-twice-${i}`, domain: DEMO.domains.custom, accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount', formId };
      const clicks = await Promise.all([sut.invoke(execute('addAccount', data)), new Conversation(app).invoke(execute('addAccount', data))]);
      expect(clicks.map((c) => cardTexts(bodyOf(c))[0])).toEqual(['Resource account created', 'Resource account created']);
    }
    const created = (await app.audit.readAll()).filter((e) => e.action === 'account.create');
    expect(created.map((e) => `${e.target}:${e.outcome}`).sort()).toEqual([0, 1, 2, 3].map((i) => `aa-twice-${i}@contoso.com:succeeded`));
  });

  it('database down: /healthz says 503, a click gets a card that says so and changes nothing; back up: it carries on by itself', async () => {
    const server = await app.start();
    try {
      const sut = new Conversation(app);
      const planId = idOn(await sut.card(message('dissociate aa-main')), 'planId');
      await postgres.stop();
      expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
      const refused = bodyOf(await sut.invoke(execute('confirmPlan', { planId })));
      expect(cardTexts(refused)[0]).toBe('Something went wrong');
      expect(cardTexts(refused)[1]).toMatch(/^Switchboard could not record this \(.+: its storage is unavailable\), so nothing was done and the tenant was not changed\./);

      await postgres.start();
      await until(async () => (await fetch(`${server.url}/healthz`)).status === 200, 20_000, 'the store to be back');
      // The simulated tenant lives in the database too: it is read once the database is back.
      expect(await app.directory.getAccount(DEMO.accounts.mainLine.id)).toMatchObject({ associations: [{ name: 'Main line' }] });
      const done = bodyOf(await sut.invoke(execute('confirmPlan', { planId })));
      expect(cardTexts(done)[1]).toBe('Done.');
      expect(await app.directory.getAccount(DEMO.accounts.mainLine.id)).toMatchObject({ associations: [] });
    } finally {
      await server.stop();
    }
  });

  it('keeps the simulated tenant in the database: an app on another data folder sees its changes, and no tenant file is written', async () => {
    const other = await tempDir();
    const second = await testApp(other.dir, { SWITCHBOARD_STORE: 'postgres', DATABASE_URL: app.config.store.kind === 'postgres' ? app.config.store.url : '' });
    try {
      const created = await app.directory.createAccount({ userPrincipalName: 'aa-shared@contoso.com', displayName: 'Shared', accountType: 'autoAttendant' });
      expect(await second.directory.findAccountByUpn('aa-shared@contoso.com')).toMatchObject({ id: created.id, displayName: 'Shared' });
      expect(existsSync(path.join(dir.dir, 'tenant.json')) || existsSync(path.join(other.dir, 'tenant.json'))).toBe(false);
    } finally {
      await second.close();
      await other.remove();
    }
  });

  it('stops start-up with one line naming DATABASE_URL when the database cannot be reached', async () => {
    await expect(testApp(dir.dir, { SWITCHBOARD_STORE: 'postgres', DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' })).rejects.toThrow(/^DATABASE_URL: cannot use the database \(/);
    await expect(testApp(dir.dir, { SWITCHBOARD_STORE: 'postgres', DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' })).rejects.not.toThrow(/secret/);
  });

  it.each([
    [{ SWITCHBOARD_STORE: 'postgres' }, /^Configuration error: DATABASE_URL is required with SWITCHBOARD_STORE=postgres/],
    [{ SWITCHBOARD_STORE: 'postgres', DATABASE_URL: 'mysql://x/y' }, /^Configuration error: DATABASE_URL must start with postgres:\/\//],
    [{ SWITCHBOARD_STORE: 'postgres', DATABASE_URL: 'not a url' }, /^Configuration error: DATABASE_URL is not a URL/],
    [{ DATABASE_URL: 'postgres://x@db/y' }, /^Configuration error: DATABASE_URL is set but SWITCHBOARD_STORE is not postgres/],
  ])('refuses a bad store configuration %j', async (env, message) => {
    await expect(testApp(dir.dir, env as Record<string, string>)).rejects.toThrow(message);
  });
});

