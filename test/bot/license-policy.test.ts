import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

const A = DEMO.accounts;

/* Why: licensing under an approval policy, and the doctor's own license fix keeping a usage location set meanwhile (from an attack review). */
describe('licensing with assignLicense under approval', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;
  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'assignLicense' });
    sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
  });
  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('license <username> waits for an approver when the policy names assignLicense', async () => {
    const planned = await sut.card(message('license cq-helpdesk'));
    const planId = idOn(planned, 'planId');
    const asked = bodyOf(await sut.invoke(execute('confirmPlan', { planId })));
    expect((await app.plans.get(planId))?.needsApproval).toBe(true);
    expect((await app.directory.getAccount(A.helpdesk.id))?.assignedLicenses).toEqual([]);
  });

  it("the doctor's license fix keeps a usage location someone set after the plan was made", async () => {
    const proposal = bodyOf(await sut.invoke(execute('doctorFix', { code: 'ACCOUNT_UNLICENSED', subjectId: A.helpdesk.id })));
    const planId = idOn(proposal, 'planId');
    await app.directory.setUsageLocation(A.helpdesk.id, 'FR');
    await sut.invoke(execute('confirmPlan', { planId }));
    await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER }));
    await until(async () => ['done', 'failed'].includes((await app.plans.get(planId))!.status));
    const after = await app.directory.getAccount(A.helpdesk.id);
    expect((await app.plans.get(planId))!.status).toBe('done');
    expect(after).toMatchObject({ usageLocation: 'FR', assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
  });
});
