import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN } from '../helpers/identities';
import { fullDisk } from '../fakes/disk';
import { bodyOf, expectOk, until } from '../helpers/waiting';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };

/** Files of the workflow store and the audit log (the simulated tenant has its own durability tests). */
const workflowAndAudit = (dir: string) => (file: string) => file.startsWith(dir) && /(workflow\.json|audit\.jsonl)/.test(path.basename(file));

describe('a write that fails never kills the process, and the click says what happened (issue 9 item 5)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let disk: ReturnType<typeof fullDisk>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));

  beforeEach(async () => {
    unhandled.length = 0;
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    disk = fullDisk(workflowAndAudit(dir.dir));
  });

  afterEach(async () => {
    disk.restore();
    await app.close();
    await dir.remove();
  });

  it('a plan whose outcome cannot be recorded stops, is retried, and completes once the disk has room; nothing is unhandled', async () => {
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    const deleteAccount = jest.spyOn(app.directory, 'deleteAccount').mockImplementation(async (id) => {
      // The tenant acts, then the disk is full when the plan records it.
      disk.fill();
      return (jest.requireActual('../../src/backends/simulated/tenant') as typeof import('../../src/backends/simulated/tenant')).SimulatedTenant.prototype.deleteAccount.call(app.directory, id);
    });
    expectOk(await app.plans.start(plan.id, admin));
    await until(() => app.plans.storeFault(plan.id) !== undefined, 5_000, 'the store fault to be noticed');
    expect((await app.plans.get(plan.id))!.status).toBe('running');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();

    deleteAccount.mockRestore();
    disk.free();
    await until(async () => (await app.plans.get(plan.id))?.status === 'done', 8_000, 'the plan to be recorded done');
    expect(unhandled).toEqual([]);
    // The step was found done on the retry; the audit says it acted in the run that could not record it.
    const entries = (await app.audit.readAll()).filter((e) => e.requestId === plan.id);
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).toEqual(['plan.deleteAccount:requested', 'plan.confirm:succeeded', 'account.delete:succeeded', 'plan.deleteAccount:succeeded']);
    expect(entries[2]!.detail).toMatchObject({ confirmedAfterRestart: true });
  });

  it('a click while the disk is full gets a card that says it could not be recorded, and changes nothing', async () => {
    const sut = new Conversation(app);
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    disk.fill();
    const card = bodyOf(await sut.invoke(execute('confirmPlan', { planId: plan.id })));
    expect(cardTexts(card)[0]).toBe('Something went wrong');
    expect(cardTexts(card)[1]).toMatch(/^Switchboard could not record this \(ENOSPC: its storage is unavailable\), so nothing was done and the tenant was not changed\./);
    expect((await app.plans.get(plan.id))!.status).toBe('awaitingConfirmation');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
    expect(unhandled).toEqual([]);
  });

  it('audit entries that cannot be appended are kept with the change and written when the disk has room', async () => {
    disk.restore();
    const auditOnly = fullDisk((file) => file === path.join(dir.dir, 'audit.jsonl'));
    disk = auditOnly;
    try {
      auditOnly.fill();
      const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
      expectOk(await app.plans.start(plan.id, admin));
      await until(async () => (await app.plans.get(plan.id))?.status === 'done');
      expect(await app.workflow.health()).toMatchObject({ ok: false });
      auditOnly.free();
      await until(async () => (await app.audit.readAll()).filter((e) => e.requestId === plan.id).length === 4, 10_000, 'the queued audit entries');
      expect((await app.audit.readAll()).filter((e) => e.requestId === plan.id).map((e) => `${e.action}:${e.outcome}`)).toEqual(['plan.deleteAccount:requested', 'plan.confirm:succeeded', 'account.delete:succeeded', 'plan.deleteAccount:succeeded']);
      expect(unhandled).toEqual([]);
    } finally {
      auditOnly.free();
    }
  });
});
