import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN } from '../helpers/identities';
import { expectOk, until } from '../helpers/waiting';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };

describe('one runner per plan, provably (issue 9 item 8)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('a Retry clicked after the failure is recorded but before the old loop ended is run, not lost', async () => {
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    const real = app.directory.deleteAccount.bind(app.directory);
    let calls = 0;
    jest.spyOn(app.directory, 'deleteAccount').mockImplementation(async (id) => {
      calls += 1;
      if (calls === 1) throw new Error('503 Service Unavailable');
      return real(id);
    });
    // The race, made to happen: the transaction that records the failure is committed, and the old
    // loop is held right there — it has not ended yet — while Retry is clicked and goes through.
    let recorded!: () => void;
    const failureRecorded = new Promise<void>((resolve) => (recorded = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transact = app.workflow.transact.bind(app.workflow);
    let holding = false;
    jest.spyOn(app.workflow, 'transact').mockImplementation(async (work) => {
      const result = await transact(work);
      const saved = result as { id?: unknown; status?: unknown } | undefined;
      if (!holding && saved && saved.id === plan.id && saved.status === 'failed') {
        holding = true;
        recorded();
        await held;
      }
      return result;
    });
    expectOk(await app.plans.start(plan.id, admin));
    await failureRecorded;
    expect(await app.plans.retry(plan.id, admin)).toMatchObject({ ok: true, value: { status: 'running' } });
    release();
    await until(async () => (await app.plans.get(plan.id))?.status === 'done', 5_000, 'the retried plan to finish (not left running without a runner)');
    expect(calls).toBe(2);
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();
  });

  it('never runs the same plan in two loops at once, however often it is started', async () => {
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    let concurrent = 0;
    let most = 0;
    const real = app.directory.deleteAccount.bind(app.directory);
    jest.spyOn(app.directory, 'deleteAccount').mockImplementation(async (id) => {
      concurrent += 1;
      most = Math.max(most, concurrent);
      await new Promise((r) => setTimeout(r, 50));
      concurrent -= 1;
      return real(id);
    });
    expectOk(await app.plans.start(plan.id, admin));
    await Promise.all(Array.from({ length: 20 }, () => app.plans.run(plan.id)));
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect(most).toBe(1);
  });
});
