import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN, APPROVER } from '../helpers/identities';
import { expectOk, until } from '../helpers/waiting';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const approver = { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name };

describe('every step re-checks its rules against the tenant right before acting (issue 9 item 6, DOMAIN.md F15)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('never deletes an account that an auto attendant started using after the deletion was planned and approved', async () => {
    // aa-paris is unused when the deletion is planned, confirmed and approved…
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.paris.id));
    expect(plan.steps.map((s) => s.step.kind)).toEqual(['deleteAccount']);
    expectOk(await app.approvals.confirm(plan.id, admin));
    // …then someone points the After hours auto attendant at it (the admin center, another tool).
    await app.directory.associate(DEMO.accounts.paris.id, DEMO.voiceApps.afterHours.configurationId);
    expectOk(await app.approvals.approve(plan.id, approver));

    await until(async () => (await app.plans.get(plan.id))?.status === 'failed');
    const failed = (await app.plans.get(plan.id))!;
    expect(failed.steps[0]!.state.note).toEqual({ reason: 'DELETE_ACCOUNT_IN_USE', params: { upn: DEMO.accounts.paris.upn, voiceApp: 'After hours' } });
    expect(await app.directory.getAccount(DEMO.accounts.paris.id)).toMatchObject({ associations: [{ name: 'After hours' }] });

    // Retry checks again: still in use, still refused.
    expectOk(await app.plans.retry(plan.id, admin));
    await until(async () => (await app.plans.get(plan.id))?.status === 'failed');
    expect(await app.directory.getAccount(DEMO.accounts.paris.id)).not.toBeNull();
  });

  it('never deletes an account whose number is still on its way (pending), even when the plan did not know of it', async () => {
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.supportFr.id));
    expect(plan.steps.map((s) => s.step.kind)).toEqual(['dissociate', 'deleteAccount']);
    expectOk(await app.approvals.confirm(plan.id, admin));
    // A number assignment starts meanwhile and is still pending when the delete step runs.
    await app.close();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' }, { slowness: { numberOperationMs: 3_600_000 } });
    await app.directory.assignNumber({ telephoneNumber: DEMO.numbers.frToll[0]!, numberType: 'callingPlan', assignmentTargetId: DEMO.accounts.supportFr.id });
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app.plans.get(plan.id))?.status === 'failed');
    expect((await app.plans.get(plan.id))!.steps[1]!.state.note).toEqual({ reason: 'DELETE_NUMBER_STILL_ASSIGNED', params: { upn: DEMO.accounts.supportFr.upn, number: DEMO.numbers.frToll[0] } });
    expect(await app.directory.getAccount(DEMO.accounts.supportFr.id)).not.toBeNull();
  });

  it('a plan that starts at once still waits its turn: one change at a time per account', async () => {
    const first = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.paris.id));
    expectOk(await app.approvals.confirm(first.id, admin));
    // Hold the delete in the tenant until the association below was tried.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = app.directory.deleteAccount.bind(app.directory);
    jest.spyOn(app.directory, 'deleteAccount').mockImplementation(async (id) => {
      await held;
      return real(id);
    });
    expectOk(await app.approvals.approve(first.id, approver));
    await until(async () => (await app.plans.get(first.id))?.status === 'running');
    // Associate starts at once (no approval for it by default): refused while the delete runs.
    expect(await app.provisioning.associate(admin, DEMO.accounts.paris.id, DEMO.voiceApps.afterHours.configurationId)).toMatchObject({ ok: false, reason: 'PLAN_ACCOUNT_BUSY' });
    release();
    await until(async () => (await app.plans.get(first.id))?.status === 'done');
  });

  it.each([
    ['associate', 'ACCOUNT_ALREADY_ASSOCIATED'],
    ['editAccount', 'EDIT_TYPE_WHILE_ASSOCIATED'],
  ])('%s re-checks the association when it runs, not only when proposed', async (kind, reason) => {
    await app.close();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: kind });
    const plan = expectOk(
      kind === 'associate'
        ? await app.provisioning.associate(admin, DEMO.accounts.paris.id, DEMO.voiceApps.afterHours.configurationId)
        : await (async () => {
            const r = await app.provisioning.editAccount(admin, DEMO.accounts.helpdesk.id, { displayName: 'Helpdesk', accountType: 'autoAttendant' });
            return r.ok ? r : r.refusals[0]!;
          })(),
    );
    expectOk(await app.approvals.confirm(plan.id, admin));
    // Meanwhile the account starts serving a voice app of its type.
    if (kind === 'associate') await app.directory.associate(DEMO.accounts.paris.id, DEMO.voiceApps.mainLine.configurationId);
    else {
      await app.directory.dissociate(DEMO.accounts.supportFr.id, DEMO.voiceApps.supportFr.configurationId);
      await app.directory.associate(DEMO.accounts.helpdesk.id, DEMO.voiceApps.supportFr.configurationId);
    }
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app.plans.get(plan.id))?.status === 'failed');
    expect((await app.plans.get(plan.id))!.steps[0]!.state.note?.reason).toBe(reason);
  });
});
