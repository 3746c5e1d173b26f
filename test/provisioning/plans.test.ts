import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import type { Plan } from '../../src/provisioning/plans';
import { executeStep, type StepContext } from '../../src/provisioning/steps';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN } from '../helpers/identities';

const actor = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };

/** A clock the tenant and the runner read; tests move it instead of sleeping for minutes. */
function fakeClock(start = '2026-11-28T10:00:00.000Z') {
  let at = Date.parse(start);
  return { now: () => new Date(at), advance: (ms: number) => (at += ms) };
}

async function until(what: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function expectOk<T>(result: { ok: true; value: T } | { ok: false }): T {
  expect(result.ok).toBe(true);
  if (!result.ok) throw new Error('refused');
  return result.value;
}

describe('plans: every multi-step request runs as a persisted plan of idempotent steps', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  const run = async (plan: Plan) => (await app.plans.run(plan.id))!;

  it('walks the whole lifecycle: add with license → number → unassign → delete', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const sut = app.provisioning;
    const form = { displayName: 'Night line', username: 'aa-night', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' };

    const added = await run(expectOk(await sut.addAccount(actor, form)));
    expect(added.status).toBe('done');
    const accountId = added.account.id!;
    const number = DEMO.numbers.usToll[0];

    const assign = expectOk(await sut.planAssignNumber(actor, accountId, 'callingPlan', number));
    expect((await app.directory.getAccount(accountId))!.phoneNumber).toBeNull();
    expectOk(await app.plans.start(assign.id, actor));
    expect((await run(assign)).status).toBe('done');
    expect(await app.directory.getAccount(accountId)).toMatchObject({ phoneNumber: number });

    const unassign = expectOk(await sut.planUnassignNumber(actor, accountId));
    expectOk(await app.plans.start(unassign.id, actor));
    expect((await run(unassign)).status).toBe('done');
    expect(await app.directory.getPhoneNumber(number)).toMatchObject({ assignmentStatus: 'unassigned', activationState: 'activated', assignmentTargetId: null });

    const remove = expectOk(await sut.planDelete(actor, accountId));
    expect(remove.steps.map((s) => s.step.kind)).toEqual(['deleteAccount']);
    expectOk(await app.plans.start(remove.id, actor));
    expect((await run(remove)).status).toBe('done');
    expect(await app.directory.getAccount(accountId)).toBeNull();

    const actions = (await app.audit.readAll()).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual([
      'plan.addAccount:requested', 'account.create:succeeded', 'account.setUsageLocation:succeeded', 'license.assign:succeeded', 'plan.addAccount:succeeded',
      'plan.assignNumber:requested', 'plan.confirm:succeeded', 'number.assign:succeeded', 'plan.assignNumber:succeeded',
      'plan.unassignNumber:requested', 'plan.confirm:succeeded', 'number.unassign:succeeded', 'plan.unassignNumber:succeeded',
      'plan.deleteAccount:requested', 'plan.confirm:succeeded', 'account.delete:succeeded', 'plan.deleteAccount:succeeded',
    ]);
  });

  it('switches Phone System → Resource Account in ONE license operation and keeps the number (F2)', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const assignLicense = jest.spyOn(app.directory, 'assignLicense');
    const plan = expectOk(await app.provisioning.planSwitchLicense(actor, DEMO.accounts.reception.id));
    expect(assignLicense).not.toHaveBeenCalled();
    expectOk(await app.plans.start(plan.id, actor));
    expect((await run(plan)).status).toBe('done');

    expect(assignLicense).toHaveBeenCalledTimes(1);
    expect(assignLicense).toHaveBeenCalledWith(DEMO.accounts.reception.id, {
      addSkuIds: [DEMO.skus.resourceAccount.skuId],
      removeSkuIds: [DEMO.skus.phoneSystem.skuId],
    });
    expect(await app.directory.getAccount(DEMO.accounts.reception.id)).toMatchObject({
      assignedLicenses: [DEMO.skus.resourceAccount.skuId],
      phoneNumber: DEMO.numbers.reception,
      broken: false,
    });
  });

  it('refuses a switch for an account without Phone System, and when no Resource Account seat is free', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    expect(await app.provisioning.planSwitchLicense(actor, DEMO.accounts.mainLine.id)).toMatchObject({ ok: false, reason: 'LICENSE_SWITCH_NOT_APPLICABLE' });
    const facts = await app.directory.getTenantFacts();
    const ra = facts.skus.find((s) => s.kind === 'resourceAccount')!;
    jest.spyOn(app.directory, 'getTenantFacts').mockResolvedValue({ ...facts, skus: facts.skus.map((s) => (s === ra ? { ...s, consumed: s.enabled } : s)) });
    expect(await app.provisioning.planSwitchLicense(actor, DEMO.accounts.reception.id)).toMatchObject({ ok: false, reason: 'LICENSE_NO_FREE_SEAT' });
    expect(await app.plans.get('x')).toBeUndefined();
  });

  it('parks a plan that fails mid-way with the step and the reason; Retry completes it without redoing done steps', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const createAccount = jest.spyOn(app.directory, 'createAccount');
    jest.spyOn(app.directory, 'assignLicense').mockRejectedValueOnce(new Error('503 Service Unavailable'));
    const form = { displayName: 'Overflow', username: 'cq-overflow', domain: 'contoso.com', accountType: 'callQueue', usageLocation: 'FR', license: 'resourceAccount' };

    const failed = await run(expectOk(await app.provisioning.addAccount(actor, form)));
    expect(failed.status).toBe('failed');
    expect(failed.steps.map((s) => s.state.status)).toEqual(['done', 'done', 'failed']);
    expect(failed.steps[2]!.state.note).toEqual({ reason: 'TENANT_UNAVAILABLE', params: { upn: 'cq-overflow@contoso.com', detail: 'no answer' } });
    expect(await app.directory.findAccountByUpn('cq-overflow@contoso.com')).toMatchObject({ usageLocation: 'FR', assignedLicenses: [] });

    expectOk(await app.plans.retry(failed.id, actor));
    const retried = await run(failed);
    expect(retried.status).toBe('done');
    expect(createAccount).toHaveBeenCalledTimes(1);
    expect(await app.directory.findAccountByUpn('cq-overflow@contoso.com')).toMatchObject({ assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
    expect((await app.audit.readAll()).filter((e) => e.requestId === failed.id).map((e) => `${e.action}:${e.outcome}`)).toEqual([
      'plan.addAccount:requested', 'account.create:succeeded', 'account.setUsageLocation:succeeded', 'license.assign:failed',
      'plan.retry:succeeded', 'license.assign:succeeded', 'plan.addAccount:succeeded',
    ]);
  });

  it('changes nothing before the delete is confirmed, and nothing when it is cancelled (F11)', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const before = { account: await app.directory.getAccount(DEMO.accounts.mainLine.id), number: await app.directory.getPhoneNumber(DEMO.numbers.mainLine) };
    const plan = expectOk(await app.provisioning.planDelete(actor, DEMO.accounts.mainLine.id));
    expect(plan.status).toBe('awaitingConfirmation');
    expect(plan.steps.map((s) => s.step)).toEqual([
      { kind: 'unassignNumber', telephoneNumber: DEMO.numbers.mainLine, numberType: 'callingPlan' },
      { kind: 'dissociate', configurationId: DEMO.voiceApps.mainLine.configurationId, name: 'Main line' },
      { kind: 'deleteAccount' },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    expect({ account: await app.directory.getAccount(DEMO.accounts.mainLine.id), number: await app.directory.getPhoneNumber(DEMO.numbers.mainLine) }).toEqual(before);

    expectOk(await app.approvals.withdraw(plan.id, actor));
    expect(await app.plans.start(plan.id, actor)).toMatchObject({ ok: false, reason: 'PLAN_ALREADY_DECIDED', params: { status: 'cancelled' } });
    expect({ account: await app.directory.getAccount(DEMO.accounts.mainLine.id), number: await app.directory.getPhoneNumber(DEMO.numbers.mainLine) }).toEqual(before);
  });

  it('deletes only after the number is really unassigned, so it is never left pending (F1)', async () => {
    const clock = fakeClock();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { now: clock.now, slowness: { numberOperationMs: 60_000 } });
    const deleteAccount = jest.spyOn(app.directory, 'deleteAccount');
    const plan = expectOk(await app.provisioning.planDelete(actor, DEMO.accounts.mainLine.id));
    expectOk(await app.plans.start(plan.id, actor));

    await until(async () => (await app.plans.get(plan.id))?.status === 'waiting');
    expect((await app.plans.get(plan.id))!.steps[0]!.state).toMatchObject({ status: 'waiting', note: { reason: 'NUMBER_PENDING' } });
    expect(deleteAccount).not.toHaveBeenCalled();
    expect(await app.directory.getAccount(DEMO.accounts.mainLine.id)).not.toBeNull();

    clock.advance(61_000);
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect(deleteAccount).toHaveBeenCalledTimes(1);
    expect(await app.directory.getPhoneNumber(DEMO.numbers.mainLine)).toMatchObject({ assignmentStatus: 'unassigned', activationState: 'activated', assignmentTargetId: null });
  });

  it('waits while the license is still provisioning (F14), then assigns the number by itself', async () => {
    const clock = fakeClock();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { now: clock.now, slowness: { licenseProvisioningMs: 3_600_000 } });
    const form = { displayName: 'Hotline', username: 'cq-hotline', domain: 'contoso.com', accountType: 'callQueue', usageLocation: 'US', license: 'resourceAccount' };
    const added = await run(expectOk(await app.provisioning.addAccount(actor, form)));
    const plan = expectOk(await app.provisioning.planAssignNumber(actor, added.account.id!, 'callingPlan', DEMO.numbers.usToll[1]));
    expectOk(await app.plans.start(plan.id, actor));

    await until(async () => (await app.plans.get(plan.id))?.status === 'waiting');
    expect((await app.plans.get(plan.id))!.steps[0]!.state.note).toEqual({ reason: 'LICENSE_PROVISIONING_PENDING', params: { upn: 'cq-hotline@contoso.com' } });
    expect(await app.directory.getPhoneNumber(DEMO.numbers.usToll[1])).toMatchObject({ assignmentStatus: 'unassigned' });

    clock.advance(3_600_001);
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect(await app.directory.getAccount(added.account.id!)).toMatchObject({ phoneNumber: DEMO.numbers.usToll[1] });
  });

  it('resumes a plan interrupted by a process restart', async () => {
    const clock = fakeClock();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { now: clock.now, slowness: { numberOperationMs: 300_000 } });
    const plan = expectOk(await app.provisioning.planAssignNumber(actor, DEMO.accounts.supportFr.id, 'callingPlan', DEMO.numbers.frToll[0]));
    expectOk(await app.plans.start(plan.id, actor));
    await until(async () => (await app.plans.get(plan.id))?.status === 'waiting');
    const operationId = (await app.plans.get(plan.id))!.steps[1]!.state.operationId;
    expect(operationId).toEqual(expect.any(String));
    await app.close();

    clock.advance(301_000);
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { now: clock.now, slowness: { numberOperationMs: 300_000 } });
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect(await app.directory.getAccount(DEMO.accounts.supportFr.id)).toMatchObject({ phoneNumber: DEMO.numbers.frToll[0] });
    expect((await app.audit.readAll()).filter((e) => e.action === 'number.assign')).toHaveLength(1);
  });

  it('resumes after a crash between the tenant acting and the plan recording it, without doing it twice', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const form = { displayName: 'Crash test', username: 'aa-crash', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: '', license: 'none' };
    // The tenant created the account, then the process died before the plan saved the step.
    await app.directory.createAccount({ userPrincipalName: 'aa-crash@contoso.com', displayName: 'Crash test', accountType: 'autoAttendant' });
    const valid = await app.provisioning.validateNewAccount({ ...form, username: 'aa-crash2' });
    expect(valid.ok).toBe(true);
    const plan = expectOk(await app.plans.propose(
      { kind: 'addAccount', account: { id: null, userPrincipalName: 'aa-crash@contoso.com', displayName: 'Crash test' }, requestedBy: actor, steps: [{ kind: 'createAccount', userPrincipalName: 'aa-crash@contoso.com', displayName: 'Crash test', accountType: 'autoAttendant' }] },
      false,
    ));
    const createAccount = jest.spyOn(app.directory, 'createAccount');
    expectOk(await app.plans.start(plan.id, actor));
    const done = await run(plan);
    expect(done.status).toBe('done');
    expect(createAccount).not.toHaveBeenCalled();
    expect(done.account.id).toBe((await app.directory.findAccountByUpn('aa-crash@contoso.com'))!.id);
  });

  it('a creation refused because someone else took the name meanwhile is still a clash (UPN_IN_USE)', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const step = { kind: 'createAccount', userPrincipalName: 'aa-taken@contoso.com', displayName: 'Ours', accountType: 'autoAttendant' } as const;
    const ctx: StepContext = { directory: app.directory, facts: await app.directory.getTenantFacts(), accountId: null, userPrincipalName: step.userPrincipalName };
    await app.directory.createAccount({ userPrincipalName: 'aa-taken@contoso.com', displayName: 'Someone else', accountType: 'callQueue' });
    // Our look-up came just before their creation: the tenant refuses ours, and the account it names is not ours.
    jest.spyOn(app.directory, 'findAccountByUpn').mockResolvedValueOnce(null);
    expect(await executeStep(ctx, step, { status: 'pending' })).toEqual({ status: 'failed', note: { reason: 'UPN_IN_USE', params: { upn: 'aa-taken@contoso.com' } } });
  });

  it('runs a plan exactly once when it is confirmed twice at the same moment', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const deleteAccount = jest.spyOn(app.directory, 'deleteAccount');
    const plan = expectOk(await app.provisioning.planDelete(actor, DEMO.accounts.helpdesk.id));
    const results = await Promise.all(Array.from({ length: 10 }, () => app.plans.start(plan.id, actor)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'PLAN_ALREADY_DECIDED')).toBe(true);
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect(deleteAccount).toHaveBeenCalledTimes(1);
  });

  it('refuses to start a second change on an account while one is in progress', async () => {
    const clock = fakeClock();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { now: clock.now, slowness: { numberOperationMs: 60_000 } });
    const first = expectOk(await app.provisioning.planUnassignNumber(actor, DEMO.accounts.sales.id));
    const second = expectOk(await app.provisioning.planDelete(actor, DEMO.accounts.sales.id));
    expectOk(await app.plans.start(first.id, actor));
    await until(async () => (await app.plans.get(first.id))?.status === 'waiting');
    expect(await app.plans.start(second.id, actor)).toMatchObject({ ok: false, reason: 'PLAN_ACCOUNT_BUSY', params: { upn: DEMO.accounts.sales.upn } });
    expect((await app.plans.get(second.id))!.status).toBe('awaitingConfirmation');
  });
});
