import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import type { TenantDirectory } from '../../src/provisioning/directory';
import type { Plan } from '../../src/provisioning/plans';
import type { Result } from '../../src/provisioning/result';
import { execute } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN } from '../helpers/identities';
import { seeded } from '../helpers/random';
import { bodyOf, until } from '../helpers/waiting';
import { faulty } from '../fakes/faultyDirectory';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };

describe('fault injection at the tenant port: every plan completes or parks with a clear status and Retry', () => {
  jest.setTimeout(120_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let tenant: ReturnType<typeof faulty>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));

  beforeEach(async () => {
    dir = await tempDir();
    const random = seeded(424242);
    app = await testApp(
      dir.dir,
      { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_STEP_TIMEOUT_SECONDS: '1' },
      { slowness: { numberOperationMs: 30 }, wrapDirectory: (d: TenantDirectory) => (tenant = faulty(d, { rate: 0.25, hangMs: 1_500, random })) },
    );
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  /** Asks until the request gets through the faults (an admin would click again). */
  async function ask(request: () => Promise<Result<Plan>>): Promise<Plan> {
    for (let i = 0; i < 50; i++) {
      try {
        const result = await request();
        if (result.ok) return result.value;
      } catch {
        // a read failed while proposing: nothing was saved; ask again
      }
    }
    throw new Error('could not propose through the faults');
  }

  it('429, 503, time-outs and lost answers on a quarter of the calls: every plan ends done after Retries', async () => {
    const adds = Array.from({ length: 6 }, (_, i) => () =>
      app.provisioning.addAccount(admin, { displayName: `Faulty ${i}`, username: `faulty-${i}`, domain: 'contoso.com', accountType: i % 2 ? 'callQueue' : 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' }).then((r) => (r.ok ? r : r.refusals[0]!)),
    );
    const others: (() => Promise<Result<Plan>>)[] = [
      () => app.provisioning.planSwitchLicense(admin, DEMO.accounts.reception.id),
      () => app.provisioning.planAssignNumber(admin, DEMO.accounts.supportFr.id, 'callingPlan', DEMO.numbers.frToll[0]!),
      () => app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id),
      () => app.provisioning.planUnassignNumber(admin, DEMO.accounts.sales.id),
    ];
    const plans: Plan[] = [];
    for (const propose of [...adds, ...others]) {
      const plan = await ask(propose);
      if (plan.status === 'awaitingConfirmation') {
        for (let i = 0; i < 20 && (await app.plans.start(plan.id, admin).catch(() => ({ ok: false }))).ok !== true; i++);
      }
      plans.push(plan);
    }

    const reasons = new Set<string>();
    for (let round = 0; round < 40; round++) {
      await until(async () => (await Promise.all(plans.map((p) => app.plans.get(p.id)))).every((p) => p && !['running', 'waiting'].includes(p.status)), 30_000, 'the plans to settle');
      const failed = (await Promise.all(plans.map((p) => app.plans.get(p.id)))).filter((p): p is Plan => p?.status === 'failed');
      if (failed.length === 0) break;
      for (const plan of failed) {
        // Parked with a clear status: the failed step and why.
        const step = plan.steps.find((s) => s.state.status === 'failed')!;
        reasons.add(step.state.note!.reason);
        await app.plans.retry(plan.id, admin);
      }
    }
    const final = await Promise.all(plans.map((p) => app.plans.get(p.id)));
    expect(final.map((p) => `${p!.kind} ${p!.status}`)).toEqual(plans.map((p) => `${p.kind} done`));
    expect([...reasons]).toEqual(['TENANT_UNAVAILABLE']);
    expect(tenant.failed).toBeGreaterThan(5);
    expect(unhandled).toEqual([]);

    // The tenant is whole: each new account has its license once, seats counted right.
    tenant.on = false;
    for (let i = 0; i < 6; i++) {
      expect(await app.directory.findAccountByUpn(`faulty-${i}@contoso.com`)).toMatchObject({ usageLocation: 'US', assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
    }
    const facts = await app.directory.getTenantFacts();
    // Seed's seats; +6 new accounts, +1 switched from Phone System, -0 for the deleted helpdesk (unlicensed).
    expect(facts.skus.find((s) => s.kind === 'resourceAccount')!.consumed).toBe(DEMO.skus.resourceAccount.consumed + 6 + 1);
  });

  it('a failed plan answers a click with its reason and a Retry button', async () => {
    tenant.only = 'deleteAccount';
    const sut = new Conversation(app);
    const plan = await ask(() => app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    const card = bodyOf(await sut.invoke(execute('confirmPlan', { planId: plan.id })));
    await until(async () => (await app.plans.get(plan.id))?.status === 'failed');
    const shown = bodyOf(await sut.invoke(execute('refreshPlan', { planId: plan.id })));
    expect(cardTexts(card).length).toBeGreaterThan(0);
    expect(cardTexts(shown)[1]).toBe('Stopped at step 1: The tenant could not be reached for cq-helpdesk@contoso.onmicrosoft.com (HTTP 503). Nothing after that step was done; Retry picks up from there.');
    expect(cardTexts(shown).filter((t) => t.startsWith('['))).toEqual(['[Retry]', '[Cancel]']);
  });
});
