import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { aroundCalls, type TenantDirectory } from '../../src/provisioning/directory';
import type { ResourceAccount } from '../../src/provisioning/model';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { bodyOf, idOn } from '../helpers/waiting';

const A = DEMO.accounts;
const impactLine = (card: unknown) => cardTexts(card).find((t) => /will no longer/.test(t));

/*
 * Why: the line that says what callers will notice is read by the requester and the approver before
 * they decide. It must say what the plan will do (its steps), whatever the account shows by then, and
 * stay plain text (from an attack review).
 */
describe('what callers will notice, on the plan card and the approval card', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;
  const tweak: { account?: (a: ResourceAccount) => ResourceAccount } = {};

  beforeEach(async () => {
    delete tweak.account;
    dir = await tempDir();
    const wrapDirectory = (d: TenantDirectory) =>
      aroundCalls(d, async (call, name) => {
        const answer = await call();
        if ((name === 'getAccount' || name === 'findAccountByUpn') && answer && tweak.account) return tweak.account(answer as ResourceAccount);
        return answer;
      });
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'deleteAccount,unassignNumber,dissociate,replaceAccount' }, { wrapDirectory });
    sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
  });
  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it("is on the approver's card while the request waits", async () => {
    const planned = await sut.card(message('unassign aa-main'));
    const before = sut.adapter.later.length;
    await sut.invoke(execute('confirmPlan', { planId: idOn(planned, 'planId') }));
    const approverCard = sut.adapter.later.slice(before)[0]!.attachments![0]!.content;
    expect(impactLine(approverCard)).toBe(`Callers who dial ${DEMO.numbers.mainLine} will no longer reach Main line.`);
  });

  it('keeps an auto attendant name with Markdown as plain text', async () => {
    tweak.account = (a) => (a.id === A.mainLine.id ? { ...a, associations: a.associations.map((x) => ({ ...x, name: '[Pay](https://evil.example) **now**\n# big' })) } : a);
    const line = impactLine(await sut.card(message('unassign aa-main')))!;
    expect(line).not.toMatch(/\]\(|\*\*|\n/);
  });

  it('names the AA/CQ the dissociation removes, not one the account serves since the plan was made', async () => {
    const planned = await sut.card(message('dissociate aa-main'));
    expect(impactLine(planned)).toBe(`Callers who dial ${DEMO.numbers.mainLine} will no longer reach Main line, which will no longer use this resource account.`);
    // Meanwhile the account's association moved (Teams admin center): Main line → Night line.
    tweak.account = (a) => (a.id === A.mainLine.id ? { ...a, associations: [{ configurationId: 'night-1', configurationType: 'autoAttendant', name: 'Night line' }] } : a);
    const before = sut.adapter.later.length;
    const requester = bodyOf(await sut.invoke(execute('confirmPlan', { planId: idOn(planned, 'planId') })));
    const approverCard = sut.adapter.later.slice(before)[0]!.attachments![0]!.content;
    const texts = cardTexts(approverCard);
    // The steps still say Main line; the impact says Night line.
    expect(texts.some((t) => /Main line/.test(t))).toBe(true);
    expect(impactLine(approverCard)).not.toMatch(/Night line/);
  });

  it('names the number the plan unassigns, not one the account holds since', async () => {
    const planned = await sut.card(message('unassign aa-main'));
    tweak.account = (a) => (a.id === A.mainLine.id ? { ...a, phoneNumber: '+14255550199;ext=12' } : a);
    const again = bodyOf(await sut.invoke(execute('refreshPlan', { planId: idOn(planned, 'planId') })));
    const texts = cardTexts(again);
    expect(impactLine(again) ?? '').toContain(DEMO.numbers.mainLine);
  });
});
