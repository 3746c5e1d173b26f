import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';
import { bodyOf, expectOk, idOn } from '../helpers/waiting';

/**
 * README "Security": "Four-eyes binds both the proposer and whoever confirmed: neither may approve."
 * A Confirm on a request that is already pending re-sends it (issue 9 item 14); whoever clicks it is
 * one more confirmer, written on the request, and may not decide it. Found by attack9 (39909f0): an
 * admin-approver confirmed a colleague's pending request and then approved what their own Confirm
 * sent (50 concurrent mixed clicks over HTTP, seed 6).
 */
const EVE = { id: '29:eve', aadObjectId: 'e5e5e5e5-0000-4000-8000-000000000005', name: 'Eve Admin' };
const NOT_DONE = 'Not done';

describe('whoever confirmed a request may not decide it, also after a second Confirm', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  const start = async (approvers: string) => {
    app = await testApp(dir.dir, {
      SWITCHBOARD_ADMIN_IDS: `${ADMIN.aadObjectId},${EVE.aadObjectId}`,
      SWITCHBOARD_APPROVER_IDS: approvers,
      SWITCHBOARD_PLAN_POLL_MS: '10',
    });
    return new Conversation(app);
  };

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('an admin-approver who clicked Confirm on a pending request cannot then approve or reject it; another approver can', async () => {
    const sut = await start(`${APPROVER.aadObjectId},${EVE.aadObjectId}`);
    for (const who of [APPROVER, EVE]) await sut.send(message('help', { from: who }));
    const planId = idOn(await sut.card(message('delete cq-helpdesk')), 'planId');
    await sut.invoke(execute('confirmPlan', { planId }));
    // Eve confirms too (the card was shared in a group chat, or she got there first by a second).
    const again = cardTexts(bodyOf(await sut.invoke(execute('confirmPlan', { planId }, { from: EVE }))));
    expect(again[1]).toMatch(/^Waiting for an approver\./);
    expect((await app.approvals.get(planId))!.confirmedBy).toEqual([
      { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name },
      { aadObjectId: EVE.aadObjectId, name: EVE.name },
    ]);

    const approve = cardTexts(bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: EVE }))));
    expect(approve).toEqual([NOT_DONE, 'You confirmed this change: another approver must decide (four-eyes rule).']);
    const reject = cardTexts(bodyOf(await sut.invoke(execute('rejectRequest', { requestId: planId, reason: 'no' }, { from: EVE, locale: 'fr-FR' }))));
    expect(reject).toEqual(['Non effectué', 'Vous avez confirmé cette modification\u00a0: un autre approbateur doit décider (principe des quatre yeux).']);
    // Nothing changed: the request still waits, the account is still there.
    expect((await app.approvals.get(planId))!.status).toBe('pending');
    expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
    // Her view of the request is read-only now.
    const view = cardTexts((await app.views.approval((await app.approvals.get(planId))!, app.views.viewerOf((await app.approvals.get(planId))!, EVE.aadObjectId), 'en')).card);
    expect(view.filter((t) => t.startsWith('['))).toEqual([]);

    const approved = cardTexts(bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER }))));
    expect(approved.join('\n')).toMatch(/^Approved by Bob Approver/m);
    const audit = (await app.audit.readAll()).filter((e) => e.requestId === planId).map((e) => `${e.action}:${e.actor.name}`);
    expect(audit).toEqual(expect.arrayContaining(['request.confirmed:Eve Admin', 'request.approved:Bob Approver']));
  });

  it('refuses a second Confirm that would leave no approver who may decide, and changes nothing', async () => {
    // Eve is the only approver: once she confirmed, nobody could ever approve the request.
    const sut = await start(EVE.aadObjectId);
    await sut.send(message('help', { from: EVE }));
    const planId = idOn(await sut.card(message('delete cq-helpdesk')), 'planId');
    await sut.invoke(execute('confirmPlan', { planId }));
    const before = (await app.approvals.get(planId))!;

    const answer = cardTexts(bodyOf(await sut.invoke(execute('confirmPlan', { planId }, { from: EVE }))));
    expect(answer).toEqual([NOT_DONE, 'This change needs an approver, and no approver other than you is configured (SWITCHBOARD_APPROVER_IDS).']);
    expect(await app.approvals.get(planId)).toEqual(before);
    expectOk(await app.approvals.approve(planId, { aadObjectId: EVE.aadObjectId, name: EVE.name }));
  });

  it('a request stored before confirmers were recorded still loads, and its confirmer still may not decide', async () => {
    const sut = await start(`${APPROVER.aadObjectId},${EVE.aadObjectId}`);
    const planId = idOn(await sut.card(message('delete cq-helpdesk')), 'planId');
    await sut.invoke(execute('confirmPlan', { planId }));
    // As an older version wrote it: no confirmedBy.
    await app.workflow.transact(async (tx) => {
      const { confirmedBy: _dropped, ...older } = (await tx.request(planId))!;
      tx.putRequest(older);
    });
    await app.close();
    app = await testApp(dir.dir, { SWITCHBOARD_ADMIN_IDS: `${ADMIN.aadObjectId},${EVE.aadObjectId}`, SWITCHBOARD_APPROVER_IDS: `${APPROVER.aadObjectId},${EVE.aadObjectId}` });

    const stored = (await app.approvals.get(planId))!;
    expect(stored.status).toBe('pending');
    expect(stored.confirmedBy).toBeUndefined();
    expectOk(await app.approvals.confirm(planId, { aadObjectId: EVE.aadObjectId, name: EVE.name }));
    expect((await app.approvals.get(planId))!.confirmedBy!.map((a) => a.name)).toEqual([ADMIN.name, EVE.name]);
    expect(await app.approvals.approve(planId, { aadObjectId: EVE.aadObjectId, name: EVE.name })).toMatchObject({ ok: false, reason: 'REQUEST_OWN_CONFIRMATION' });
  });
});
