import type { Activity, TurnContext } from 'botbuilder';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation, type RecordingAdapter } from '../helpers/conversation';
import { ADMIN, APPROVER, APPROVER_2 } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

/** An admin who is also an approver, and a second admin. */
const ADA = ADMIN;
const EVE = { id: '29:eve', aadObjectId: 'e5e5e5e5-0000-4000-8000-000000000005', name: 'Eve Admin' };

async function proposeDelete(sut: Conversation, who = ADA): Promise<string> {
  return idOn(await sut.card(message('delete cq-helpdesk', { from: who })), 'planId');
}

describe('who may withdraw, who may approve, and approvers always hear of a request', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, {
      SWITCHBOARD_ADMIN_IDS: `${ADA.aadObjectId},${EVE.aadObjectId}`,
      SWITCHBOARD_APPROVER_IDS: `${ADA.aadObjectId},${APPROVER.aadObjectId},${APPROVER_2.aadObjectId}`,
      SWITCHBOARD_PLAN_POLL_MS: '10',
    });
    sut = new Conversation(app);
    for (const who of [APPROVER, APPROVER_2, EVE]) await sut.send(message('help', { from: who }));
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    await dir.remove();
  });

  it('only the requester withdraws a pending request; another admin cannot, and the approver can still approve (issue 9 item 7)', async () => {
    const planId = await proposeDelete(sut);
    await sut.invoke(execute('confirmPlan', { planId }));
    for (const verb of ['cancelPlan', 'cancelRequest']) {
      const refused = bodyOf(await sut.invoke(execute(verb, verb === 'cancelPlan' ? { planId } : { requestId: planId }, { from: EVE })));
      expect(cardTexts(refused)).toEqual(['Not done', 'Only Ada Admin, who asked for this change, can cancel it.']);
    }
    expect((await app.approvals.get(planId))!.status).toBe('pending');
    const approved = bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER })));
    expect(cardTexts(approved)[1]).toMatch(/^Approved by Bob Approver on /);
    await until(async () => (await app.plans.get(planId))?.status === 'done');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();
  });

  it('only the proposer cancels a plan awaiting confirmation', async () => {
    const planId = await proposeDelete(sut);
    const refused = bodyOf(await sut.invoke(execute('cancelPlan', { planId }, { from: EVE })));
    expect(cardTexts(refused)).toEqual(['Not done', 'Only Ada Admin, who asked for this change, can cancel it.']);
    expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
  });

  it('neither the proposer nor the confirmer may approve (four-eyes binds both, issue 9 item 13)', async () => {
    // Ada (admin and approver) proposes; Eve confirms; Ada may not approve her own proposal.
    const planId = await proposeDelete(sut, ADA);
    await sut.invoke(execute('confirmPlan', { planId }, { from: EVE }));
    expect((await app.approvals.get(planId))).toMatchObject({ status: 'pending', requestedBy: { aadObjectId: EVE.aadObjectId }, proposedBy: { aadObjectId: ADA.aadObjectId } });
    const own = bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: ADA })));
    expect(cardTexts(own)).toEqual(['Not done', 'You asked for this change yourself: another approver must decide (four-eyes rule).']);
    expect((await app.approvals.get(planId))!.status).toBe('pending');
    // Ada was not even sent the approval card.
    await sut.settled();
    expect(sut.adapter.later.filter((a) => a.conversation?.id === 'a:personal-chat' && JSON.stringify(a).includes('"verb":"approveRequest"'))).toEqual([]);
  });

  it('delivers the approval cards after a restart when the process stopped before sending them (issue 9 item 14)', async () => {
    const planId = await proposeDelete(sut);
    // The connector is unreachable: nothing goes out before the process stops.
    const down = jest.spyOn(sut.adapter as RecordingAdapter, 'continueConversationAsync').mockRejectedValue(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await sut.invoke(execute('confirmPlan', { planId }));
    expect(sut.adapter.later.filter((a) => JSON.stringify(a).includes(planId))).toEqual([]);
    await app.close();
    down.mockRestore();

    app = await testApp(dir.dir, { SWITCHBOARD_ADMIN_IDS: `${ADA.aadObjectId},${EVE.aadObjectId}`, SWITCHBOARD_APPROVER_IDS: `${ADA.aadObjectId},${APPROVER.aadObjectId},${APPROVER_2.aadObjectId}` });
    sut = new Conversation(app);
    app.delivery.kick();
    await sut.settled();
    const approverCards = sut.adapter.later.filter((a) => JSON.stringify(a).includes('"verb":"approveRequest"'));
    expect(approverCards.map((a) => a.conversation?.id).sort()).toEqual(['a:personal-29:approver', 'a:personal-29:approver2']);
  });

  it('sends the cards to all approvers at once, not one after the other', async () => {
    let inFlight = 0;
    let most = 0;
    const adapter = sut.adapter as RecordingAdapter;
    const real = adapter.continueConversationAsync.bind(adapter);
    jest.spyOn(adapter, 'continueConversationAsync').mockImplementation(async (appId: unknown, reference: Partial<Activity['conversation']> | object, logic: unknown) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 100));
      inFlight -= 1;
      return real(appId, reference as never, logic as (context: TurnContext) => Promise<void>);
    });
    const planId = await proposeDelete(sut);
    await sut.invoke(execute('confirmPlan', { planId }));
    await sut.settled();
    expect(most).toBeGreaterThanOrEqual(2);
  });

  it('a second Confirm on a pending request sends it again to approvers who have no card', async () => {
    const planId = await proposeDelete(sut);
    const fails = jest.spyOn(sut.adapter as RecordingAdapter, 'continueConversationAsync').mockRejectedValue(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }));
    await sut.invoke(execute('confirmPlan', { planId }));
    fails.mockRestore();
    const again = bodyOf(await sut.invoke(execute('confirmPlan', { planId })));
    await sut.settled();
    expect(sut.adapter.later.filter((a) => JSON.stringify(a).includes('"verb":"approveRequest"')).map((a) => a.conversation?.id).sort()).toEqual([
      'a:personal-29:approver',
      'a:personal-29:approver2',
    ]);
    expect(cardTexts(again)[1]).toMatch(/^Waiting for an approver\./);
  });
});
