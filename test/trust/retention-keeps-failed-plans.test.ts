import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN } from '../helpers/identities';
import { expectOk, fakeClock, until } from '../helpers/waiting';

/**
 * README: "Finished plans and decided requests are dropped after SWITCHBOARD_RETENTION_DAYS". A failed
 * plan is not finished (plans.ts isFinished: done | cancelled) — it is parked at its step with Retry,
 * often half-applied. Retention used to keep only running and waiting plans, so a parked delete that had
 * already removed the number and the associations vanished with its Retry: the account stayed
 * half-dismantled and nothing in Switchboard said so any more. Found by attack9 (39909f0). Both store
 * implementations: test/store/workflow.contract.test.ts.
 */
const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const DAY = 86_400_000;

describe('retention keeps a failed plan: it is parked with Retry, not finished', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    await dir.remove();
  });

  it('keeps a failed, half-applied plan past the retention period, and Retry still finishes it', async () => {
    const clock = fakeClock();
    app = await testApp(dir.dir, { SWITCHBOARD_RETENTION_DAYS: '30', SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' }, { now: clock.now });
    const deletes = jest.spyOn(app.directory, 'deleteAccount').mockRejectedValue(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }));
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.sales.id));
    expect(plan.steps.map((s) => s.step.kind)).toEqual(['unassignNumber', 'dissociate', 'deleteAccount']);
    expectOk(await app.approvals.confirm(plan.id, admin));
    await until(async () => (await app.plans.get(plan.id))?.status === 'failed', 8_000, 'the delete to park at its last step');
    const account = await app.directory.getAccount(DEMO.accounts.sales.id);
    expect(account?.phoneNumber ?? null).toBeNull(); // half-applied: the number is gone already

    clock.advance(31 * DAY);
    await app.approvals.sweep();
    expect((await app.plans.get(plan.id))?.status).toBe('failed');

    // The tenant is back: Retry picks up at the failed step and the account is gone for good.
    deletes.mockRestore();
    expectOk(await app.plans.retry(plan.id, admin));
    await until(async () => (await app.plans.get(plan.id))?.status === 'done', 8_000, 'the retried delete to finish');
    expect(await app.directory.getAccount(DEMO.accounts.sales.id)).toBeNull();
  });
});
