import type { App } from '../../src/app';
import { aroundCalls, type TenantDirectory } from '../../src/provisioning/directory';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER, APPROVER_2 } from '../helpers/identities';
import { bodyOf, idOn } from '../helpers/waiting';

/* Why: the approval card reads the account for its impact line; a tenant that answers 503 must not break it (from an attack review). */
describe("the approver's card while the tenant cannot be read", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;
  let down = false;

  beforeEach(async () => {
    dir = await tempDir();
    const wrapDirectory = (d: TenantDirectory) =>
      aroundCalls(d, async (call, name) => {
        if (down && name === 'getAccount') throw Object.assign(new Error('503 Service Unavailable'), { statusCode: 503 });
        return call();
      });
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVER_IDS: `${APPROVER.aadObjectId},${APPROVER_2.aadObjectId}`, SWITCHBOARD_PLAN_POLL_MS: '10' }, { wrapDirectory });
    sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
    await sut.send(message('help', { from: APPROVER_2 }));
  });
  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('still opens, and still asks a reason to reject, while the tenant cannot be read (the impact line is left out)', async () => {
    const planned = await sut.card(message('delete cq-helpdesk'));
    const planId = idOn(planned, 'planId');
    await sut.invoke(execute('confirmPlan', { planId }));
    down = true;
    const card = bodyOf(await sut.invoke(execute('refreshRequest', { requestId: planId }, { from: APPROVER })));
    expect(cardTexts(card).slice(0, 2)).toEqual(['Approval needed: Delete cq-helpdesk@contoso.onmicrosoft.com', expect.stringMatching(/^Waiting for an approver\./)]);
    const noReason = bodyOf(await sut.invoke(execute('rejectRequest', { requestId: planId, reason: ' ' }, { from: APPROVER })));
    expect(cardTexts(noReason)).toContain('Say why you reject it: the requester will see your reason.');
  });
});
