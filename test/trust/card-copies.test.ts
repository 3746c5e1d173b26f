import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

const textsOf = (activity: { attachments?: { content?: unknown }[] }) => cardTexts(activity.attachments![0]!.content);

describe('card copies: where updates go, and never backwards (issue 9 items 9, 10)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it("a reader's refresh never takes over the requester's card updates", async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { slowness: { numberOperationMs: 600 } });
    sut = new Conversation(app);
    // The requester's plan card is message 'req-card' in their chat.
    const planId = idOn(await sut.card(message('unassign cq-sales')), 'planId');
    const confirmed = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'req-card' }));
    expect(cardTexts(confirmed)[1]).toMatch(/^Waiting/);
    // An approver (a reader of this plan) refreshes a copy of the plan card in their own chat.
    const readerView = bodyOf(await sut.invoke({ ...execute('refreshPlan', { planId }, { from: APPROVER }), replyToId: 'reader-card' }));
    expect(cardTexts(readerView)[0]).toBe('Unassign the number of cq-sales@contoso.com');

    await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, 'the plan to finish');
    await sut.settled();
    const toRequester = sut.adapter.updates.filter((u) => u.id === 'req-card');
    expect(toRequester.length).toBeGreaterThan(0);
    expect(textsOf(toRequester.at(-1)!)[1]).toBe('Done.');
    expect(sut.adapter.updates.filter((u) => u.id === 'reader-card')).toEqual([]);
  });

  it('an update computed before the next click never lands over that click\'s answer', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { slowness: { numberOperationMs: 200 } });
    sut = new Conversation(app);
    const planId = idOn(await sut.card(message('unassign cq-sales')), 'planId');
    const working = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'card-1' }));
    const cardId = idOn(working, 'cardId');
    await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, 'the plan to finish');
    // The plan is done and its card update is on its way; the user clicks "Show account" on the card
    // first: the card now shows the account, and no plan card may come back over it.
    const before = sut.adapter.updates.filter((u) => u.id === 'card-1').length;
    const shown = bodyOf(await sut.invoke({ ...execute('showAccount', { accountId: DEMO.accounts.sales.id, cardId }), replyToId: 'card-1' }));
    expect(cardTexts(shown)[0]).toBe('Resource account');
    await sut.settled();
    await new Promise((r) => setTimeout(r, 300));
    await sut.settled();
    expect(sut.adapter.updates.filter((u) => u.id === 'card-1').slice(before)).toEqual([]);
  });

  it('each update moves a copy forward: a click that showed a newer state is never followed by an older one', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { slowness: { numberOperationMs: 300 } });
    sut = new Conversation(app);
    const planId = idOn(await sut.card(message('unassign cq-sales')), 'planId');
    const working = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'card-2' }));
    const cardId = idOn(working, 'cardId');
    await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, 'the plan to finish');
    const refreshed = bodyOf(await sut.invoke({ ...execute('refreshPlan', { planId, cardId }), replyToId: 'card-2' }));
    expect(cardTexts(refreshed)[1]).toBe('Done.');
    await sut.settled();
    for (const update of sut.adapter.updates.filter((u) => u.id === 'card-2')) expect(textsOf(update)[1]).toBe('Done.');
  });

  it('a click naming neither a card copy nor its message (no replyToId) records no copy, however often it comes', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    sut = new Conversation(app);
    const planId = idOn(await sut.card(message('unassign cq-sales')), 'planId');
    await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'req-card' });
    const before = await app.workflow.copiesOf(planId);
    // The requester confirms the pending request again (it is re-sent), five times, from no message.
    for (let i = 0; i < 5; i++) await sut.invoke(execute('confirmPlan', { planId }));
    await sut.settled();
    expect(await app.workflow.copiesOf(planId)).toHaveLength(before.length);
  });

  it("a click on a decided request's card records no copy: that card never changes again", async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    sut = new Conversation(app);
    const planId = idOn(await sut.card(message('unassign cq-sales')), 'planId');
    await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'req-card' });
    await sut.invoke({ ...execute('rejectRequest', { requestId: planId, reason: 'not now' }, { from: APPROVER }), replyToId: 'approval-card' });
    expect((await app.approvals.get(planId))?.status).toBe('rejected');
    await sut.settled();
    const before = await app.workflow.copiesOf(planId);
    const again = bodyOf(await sut.invoke({ ...execute('approveRequest', { requestId: planId }, { from: APPROVER }), replyToId: 'another-message' }));
    expect(JSON.stringify(again)).not.toContain('"cardId"');
    expect(await app.workflow.copiesOf(planId)).toEqual(before);
  });
});
