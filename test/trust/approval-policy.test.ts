import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { loadConfig } from '../../src/config';
import type { Actor } from '../../src/provisioning/model';
import { PlanKindSchema, type Plan, type PlanKind } from '../../src/provisioning/plans';
import type { Result } from '../../src/provisioning/result';
import { execute } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';
import { bodyOf, expectOk, idOn, until } from '../helpers/waiting';

const admin: Actor = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const approver: Actor = { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name };

/** One way to ask for each kind of change, as the bot does. */
const PROPOSE: Record<PlanKind, (app: App) => Promise<Result<Plan>>> = {
  addAccount: async (app) => {
    const r = await app.provisioning.addAccount(admin, { displayName: 'Night line', username: 'aa-night', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' });
    return r.ok ? r : r.refusals[0]!;
  },
  editAccount: async (app) => {
    const r = await app.provisioning.editAccount(admin, DEMO.accounts.paris.id, { displayName: 'Paris (renamed)', accountType: 'autoAttendant' });
    return r.ok ? r : r.refusals[0]!;
  },
  associate: (app) => app.provisioning.associate(admin, DEMO.accounts.paris.id, DEMO.voiceApps.afterHours.configurationId),
  assignNumber: (app) => app.provisioning.planAssignNumber(admin, DEMO.accounts.supportFr.id, 'callingPlan', DEMO.numbers.frToll[0]!),
  unassignNumber: (app) => app.provisioning.planUnassignNumber(admin, DEMO.accounts.sales.id),
  switchLicense: (app) => app.provisioning.planSwitchLicense(admin, DEMO.accounts.reception.id),
  dissociate: (app) => app.provisioning.planDissociate(admin, DEMO.accounts.mainLine.id),
  deleteAccount: (app) => app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id),
  importAccounts: async (app) => {
    const r = await app.imports.preview(admin, 'displayName,username,domain,type,usageLocation,license\nNight line,aa-night,contoso.com,autoAttendant,US,resourceAccount\n', { kind: 'paste' });
    return r.ok ? { ok: true, value: r.plan } : { ok: false, reason: 'PLAN_NOT_FOUND', params: {} };
  },
};

describe('the approval policy holds for every kind it accepts (issue 9 item 2)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it.each(PlanKindSchema.options)('%s waits for confirmation and an approver, whatever path proposes it', async (kind) => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: kind, SWITCHBOARD_PLAN_POLL_MS: '10' });
    const directory = jest.spyOn(app.directory, 'createAccount');
    const tenantBefore = JSON.stringify(await app.directory.listAccounts({ offset: 0, limit: 100 }));
    const plan = expectOk(await PROPOSE[kind](app));

    // Nothing runs, whoever tries to start it without an approval.
    expect(plan.status).toBe('awaitingConfirmation');
    expect(plan.needsApproval).toBe(true);
    expect(await app.plans.start(plan.id, admin)).toMatchObject({ ok: false, reason: 'PLAN_NEEDS_APPROVAL' });
    const confirmed = expectOk(await app.approvals.confirm(plan.id, admin));
    expect(confirmed.request).toMatchObject({ status: 'pending', kind });
    await new Promise((r) => setTimeout(r, 50));
    expect((await app.plans.get(plan.id))!.status).toBe('awaitingConfirmation');
    expect(JSON.stringify(await app.directory.listAccounts({ offset: 0, limit: 100 }))).toBe(tenantBefore);
    expect(directory).not.toHaveBeenCalled();

    // An approver's decision runs it.
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => ['done', 'waiting'].includes((await app.plans.get(plan.id))!.status), 8_000, `${kind} plan to run`);
  });

  it('the add form answers with a plan to confirm, not a created account, when addAccount needs approval', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'addAccount' });
    const sut = new Conversation(app);
    const form = { displayName: 'Night line', username: 'aa-night', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' };
    const card = bodyOf(await sut.invoke(execute('addAccount', form)));
    expect(cardTexts(card).slice(0, 2)).toEqual(['Add aa-night@contoso.com', 'Nothing has changed yet. Confirm to run these steps.']);
    expect(cardTexts(card).filter((t) => t.startsWith('['))).toEqual(['[Confirm]', '[Cancel]']);
    expect(await app.directory.findAccountByUpn('aa-night@contoso.com')).toBeNull();
    const confirmed = bodyOf(await sut.invoke(execute('confirmPlan', { planId: idOn(card, 'planId') })));
    expect(cardTexts(confirmed)[1]).toMatch(/^Waiting for an approver\./);
    expect(await app.directory.findAccountByUpn('aa-night@contoso.com')).toBeNull();
  });

  it('refuses at start-up a kind it cannot enforce, naming the variable', () => {
    expect(() => loadConfig({ SWITCHBOARD_APPROVAL_OPERATIONS: 'deleteAccount,bulkImport' })).toThrow(/^Configuration error: SWITCHBOARD_APPROVAL_OPERATIONS is invalid/);
  });
});
