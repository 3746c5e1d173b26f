import path from 'node:path';
import { DEMO } from '../../src/backends/simulated/seed';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import { aroundCalls, type TenantDirectory } from '../../src/provisioning/directory';
import { batchChildId, type Plan, type Step } from '../../src/provisioning/plans';
import { PlanRunner } from '../../src/provisioning/runner';
import { AuditLog, type AuditEntry } from '../../src/store/audit';
import { LowdbWorkflowStore } from '../../src/store/lowdbWorkflow';
import { tempDir } from '../helpers/app';

const ADMIN = { aadObjectId: 'admin-1', name: 'Admin' };
const KIOSK = DEMO.accounts.kiosk;
const NUMBER = DEMO.numbers.usToll[0]!;

/** The call lands in the tenant, then its answer is lost on the way back (a 504 from a gateway). */
function answerLost(directory: TenantDirectory, which: keyof TenantDirectory): TenantDirectory {
  return aroundCalls(directory, async (call, name) => {
    const answer = await call();
    if (name === which) throw Object.assign(new Error('504 Gateway Timeout'), { statusCode: 504 });
    return answer;
  });
}

async function until(what: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/*
 * Why: the audit log says what was changed in the tenant (README "Audit"). A step's change whose answer
 * was lost, found made by looking again, or one made by a run that stopped while the change was on its
 * way, was made for the plan: it is audited once, by whichever run records the step done.
 */
describe('a change found made after a failed call, or after a run stopped mid-step, is audited once', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let tenant: SimulatedTenant;
  let audit: AuditLog;
  let store: LowdbWorkflowStore;
  let runner: PlanRunner | undefined;

  const open = async (numberOperationMs = 0) => {
    tenant = await SimulatedTenant.open({ file: path.join(dir.dir, 'tenant.json'), tenantId: 'steps-audit', slowness: { numberOperationMs } });
  };

  beforeEach(async () => {
    dir = await tempDir();
    audit = new AuditLog(path.join(dir.dir, 'audit.jsonl'));
    store = await LowdbWorkflowStore.open(path.join(dir.dir, 'workflow.json'), { audit });
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await store.close();
    await tenant.close();
    await dir.remove();
  });

  const propose = async (kind: Plan['kind'], steps: Step[], start: boolean): Promise<Plan> => {
    const proposed = await runner!.propose({ kind, account: { id: KIOSK.id, userPrincipalName: KIOSK.upn, displayName: KIOSK.displayName }, requestedBy: ADMIN, steps }, start);
    if (!proposed.ok) throw new Error(`refused: ${proposed.reason}`);
    return proposed.value;
  };

  const entries = async (action: string): Promise<AuditEntry[]> => {
    await audit.flush();
    return (await audit.readAll()).filter((e) => e.action === action);
  };

  it('a change whose answer was lost is done and audited, said to be confirmed after a failed call', async () => {
    await open();
    runner = new PlanRunner(store, answerLost(tenant, 'blockSignIn'), { needsApproval: () => false, pollMs: 50 });
    const plan = await propose('blockSignIn', [{ kind: 'blockSignIn' }], true);

    expect(await runner.settle(plan.id, 5_000)).toMatchObject({ status: 'done' });
    expect((await tenant.getAccount(KIOSK.id))!.accountEnabled).toBe(false);
    // Before: the plan was done and the audit log held no trace of the change.
    const blocked = await entries('account.blockSignIn');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ outcome: 'succeeded', target: KIOSK.upn, requestId: plan.id, detail: { confirmedAfterFailedCall: true } });
  });

  it('a number whose assignment answer was lost waits for it, and is audited once it is done', async () => {
    await open(150);
    runner = new PlanRunner(store, answerLost(tenant, 'assignNumber'), { needsApproval: () => false, pollMs: 50 });
    const plan = await propose('assignNumber', [{ kind: 'assignNumber', telephoneNumber: NUMBER, numberType: 'callingPlan' }], true);

    const first = await runner.settle(plan.id, 5_000);
    expect(first).toMatchObject({ status: 'waiting', steps: [{ state: { status: 'waiting', mayHaveActed: 'afterFailedCall', note: { reason: 'NUMBER_PENDING' } } }] });
    await until(async () => (await store.plan(plan.id))!.status === 'done');
    expect(await tenant.getPhoneNumber(NUMBER)).toMatchObject({ assignmentTargetId: KIOSK.id, activationState: 'activated' });
    const assigned = await entries('number.assign');
    expect(assigned).toHaveLength(1);
    expect(assigned[0]).toMatchObject({ outcome: 'succeeded', requestId: plan.id, detail: { confirmedAfterFailedCall: true } });
  });

  it('a step a run had started when it stopped (kill -9), found on its way and waited for, is audited once it is done', async () => {
    await open(150);
    runner = new PlanRunner(store, tenant, { needsApproval: () => false, pollMs: 50 });
    const plan = await propose('assignNumber', [{ kind: 'assignNumber', telephoneNumber: NUMBER, numberType: 'callingPlan' }], false);
    // The run that died: it wrote the step's start (write-ahead), made the call, and never recorded its operation.
    await store.transact(async (tx) => {
      const stored = (await tx.plan(plan.id))!;
      tx.putPlan({ ...stored, steps: [{ ...stored.steps[0]!, state: { status: 'pending', startedAt: new Date().toISOString() } }] }, new Date().toISOString());
    });
    await tenant.assignNumber({ telephoneNumber: NUMBER, numberType: 'callingPlan', assignmentTargetId: KIOSK.id });

    const started = await runner.start(plan.id, ADMIN);
    expect(started.ok).toBe(true);
    const first = await runner.settle(plan.id, 5_000);
    expect(first).toMatchObject({ status: 'waiting', steps: [{ state: { status: 'waiting', mayHaveActed: 'afterRestart' } }] });
    await until(async () => (await store.plan(plan.id))!.status === 'done');
    // Before: the step was first found waiting, so when it was found done nothing said the run that died made the change.
    const assigned = await entries('number.assign');
    expect(assigned).toHaveLength(1);
    expect(assigned[0]).toMatchObject({ outcome: 'succeeded', requestId: plan.id, detail: { confirmedAfterRestart: true } });
  });

  it('a change on its way when a fault failed the plan is audited once Retry finds it done', async () => {
    await open(150);
    const reads = { fail: false };
    // The assignment's answer is lost; later the account cannot be read for a while (a 503).
    const flaky = aroundCalls(answerLost(tenant, 'assignNumber'), (call, name) => {
      if (name === 'getAccount' && reads.fail) throw Object.assign(new Error('503 Service Unavailable'), { statusCode: 503 });
      return call();
    });
    runner = new PlanRunner(store, flaky, { needsApproval: () => false, pollMs: 100_000, maxPollMs: 100_000 });
    const plan = await propose('assignNumber', [{ kind: 'assignNumber', telephoneNumber: NUMBER, numberType: 'callingPlan' }], true);
    expect(await runner.settle(plan.id, 5_000)).toMatchObject({ status: 'waiting' });

    reads.fail = true;
    expect(await runner.run(plan.id)).toMatchObject({ status: 'failed', steps: [{ state: { note: { reason: 'TENANT_UNAVAILABLE' }, mayHaveActed: 'afterFailedCall' } }] });
    reads.fail = false;
    await until(async () => (await tenant.getPhoneNumber(NUMBER))?.activationState === 'activated');
    expect((await runner.retry(plan.id, ADMIN)).ok).toBe(true);
    expect(await runner.settle(plan.id, 5_000)).toMatchObject({ status: 'done' });

    // Before: Retry reset the step to a bare pending one, and the assignment found done was not audited.
    const assigned = await entries('number.assign');
    expect(assigned.map((e) => e.outcome)).toEqual(['failed', 'succeeded']);
    expect(assigned[1]).toMatchObject({ requestId: plan.id, detail: { confirmedAfterFailedCall: true } });
  });

  it('a change whose call outlived the step timeout, found done by Retry, is audited', async () => {
    await open();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The sign-in is blocked at once, but the answer takes longer than the step timeout allows.
    const slow = aroundCalls(tenant, async (call, name) => {
      const answer = await call();
      if (name === 'blockSignIn') await released;
      return answer;
    });
    runner = new PlanRunner(store, slow, { needsApproval: () => false, pollMs: 50, stepTimeoutMs: 150 });
    const plan = await propose('blockSignIn', [{ kind: 'blockSignIn' }], true);
    expect(await runner.settle(plan.id, 5_000)).toMatchObject({ status: 'failed', steps: [{ state: { mayHaveActed: 'afterFailedCall' } }] });
    release();
    expect((await tenant.getAccount(KIOSK.id))!.accountEnabled).toBe(false);

    expect((await runner.retry(plan.id, ADMIN)).ok).toBe(true);
    expect(await runner.settle(plan.id, 5_000)).toMatchObject({ status: 'done' });
    const blocked = await entries('account.blockSignIn');
    expect(blocked.map((e) => e.outcome)).toEqual(['failed', 'succeeded']);
    expect(blocked[1]).toMatchObject({ detail: { confirmedAfterFailedCall: true } });
  });
  it('a row of an import batch whose change was on its way when a fault failed it is audited once Retry failed rows finds it done', async () => {
    await open();
    const reads = { fail: 0, tripped: false };
    // The first row's license lands (one row runs at a time), its answer is lost, and the second look
    // cannot read the account (a 503).
    const flaky = aroundCalls(tenant, async (call, name) => {
      if (name === 'getAccount' && reads.fail > 0) {
        reads.fail -= 1;
        throw Object.assign(new Error('503 Service Unavailable'), { statusCode: 503 });
      }
      const answer = await call();
      if (name === 'assignLicense' && !reads.tripped) {
        reads.tripped = true;
        reads.fail = 1;
        throw Object.assign(new Error('504 Gateway Timeout'), { statusCode: 504 });
      }
      return answer;
    });
    runner = new PlanRunner(store, flaky, { needsApproval: () => false, pollMs: 50 });
    const rows = [0, 1].map((i) => ({
      line: i + 2,
      displayName: `Row ${i}`,
      userPrincipalName: `aa-row-${i}@contoso.com`,
      accountType: 'autoAttendant' as const,
      usageLocation: 'US',
      license: 'resourceAccount' as const,
    }));
    const proposed = await runner.propose(
      {
        kind: 'importAccounts',
        account: { id: null, userPrincipalName: 'import-test', displayName: 'import-test' },
        requestedBy: ADMIN,
        steps: [],
        batch: { source: 'paste', total: 2, rows, refused: [], concurrency: 1 },
        alsoKinds: ['addAccount'],
      },
      true,
    );
    if (!proposed.ok) throw new Error(`refused: ${proposed.reason}`);
    const batch = proposed.value;
    await until(async () => (await store.plan(batch.id))?.status === 'failed');
    const row = await store.plan(batchChildId(batch.id, 0));
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.steps.find((s) => s.step.kind === 'assignLicense')!.state).toMatchObject({ status: 'failed', mayHaveActed: 'afterFailedCall' });
    expect(await store.plan(batchChildId(batch.id, 1))).toMatchObject({ status: 'done' });

    expect((await runner.retry(batch.id, ADMIN)).ok).toBe(true);
    await until(async () => (await store.plan(batch.id))?.status === 'done');

    // Before: Retry failed rows deleted the row's plan and started it afresh; the license found assigned was not audited.
    const licensed = (await entries('license.assign')).filter((e) => e.target === 'aa-row-0@contoso.com');
    expect(licensed.map((e) => e.outcome)).toEqual(['failed', 'succeeded']);
    expect(licensed[1]).toMatchObject({ detail: { confirmedAfterFailedCall: true } });
    // The row ran on from its failed step: its account was made once, and the other row's once.
    expect((await entries('account.create')).map((e) => e.target).sort()).toEqual(['aa-row-0@contoso.com', 'aa-row-1@contoso.com']);
    expect((await store.plan(batchChildId(batch.id, 0)))!.steps.map((s) => s.state.status)).toEqual(row!.steps.map(() => 'done'));
  });
  it('Retry failed rows makes again a row whose half-made account was deleted by hand, rather than looking for it for ever', async () => {
    await open();
    let unreachable = true;
    // The license call does not reach the tenant the first time (a 503): the row fails at its license.
    const flaky = aroundCalls(tenant, async (call, name) => {
      if (name === 'assignLicense' && unreachable) {
        unreachable = false;
        throw Object.assign(new Error('503 Service Unavailable'), { statusCode: 503 });
      }
      return call();
    });
    runner = new PlanRunner(store, flaky, { needsApproval: () => false, pollMs: 20 });
    const row = { line: 2, displayName: 'Row 0', userPrincipalName: 'aa-row-0@contoso.com', accountType: 'autoAttendant' as const, usageLocation: 'US', license: 'resourceAccount' as const };
    const proposed = await runner.propose(
      {
        kind: 'importAccounts',
        account: { id: null, userPrincipalName: 'import-test', displayName: 'import-test' },
        requestedBy: ADMIN,
        steps: [],
        batch: { source: 'paste', total: 1, rows: [row], refused: [], concurrency: 1 },
        alsoKinds: ['addAccount'],
      },
      true,
    );
    if (!proposed.ok) throw new Error(`refused: ${proposed.reason}`);
    const batchId = proposed.value.id;
    await until(async () => (await store.plan(batchId))?.status === 'failed');
    // The admin removes the half-made account in the admin center, then clicks Retry failed rows.
    const halfMade = await tenant.findAccountByUpn(row.userPrincipalName);
    await tenant.deleteAccount(halfMade!.id);

    expect((await runner.retry(batchId, ADMIN)).ok).toBe(true);
    await until(async () => ['failed', 'done'].includes((await store.plan(batchId))?.status ?? ''));
    // Found by an attack review: the row ran on from its license step and failed ACCOUNT_NOT_FOUND at every Retry.
    expect(await store.plan(batchId)).toMatchObject({ status: 'done' });
    const made = await tenant.findAccountByUpn(row.userPrincipalName);
    expect(made).toMatchObject({ usageLocation: 'US' });
    expect(made!.id).not.toBe(halfMade!.id);
  });
});
