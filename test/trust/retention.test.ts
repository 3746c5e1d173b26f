import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { loadConfig } from '../../src/config';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN, APPROVER } from '../helpers/identities';
import { expectOk, fakeClock, until } from '../helpers/waiting';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const approver = { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name };
const DAY = 86_400_000;

describe('finished plans and decided requests are kept for the retention period, not forever (issue 9 item 16)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('drops them after SWITCHBOARD_RETENTION_DAYS; the audit log keeps their history; running ones stay', async () => {
    const clock = fakeClock();
    app = await testApp(dir.dir, { SWITCHBOARD_RETENTION_DAYS: '30', SWITCHBOARD_PLAN_POLL_MS: '10' }, { now: clock.now, slowness: { licenseProvisioningMs: 365 * DAY } });
    const done = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    expectOk(await app.approvals.confirm(done.id, admin));
    expectOk(await app.approvals.approve(done.id, approver));
    await until(async () => (await app.plans.get(done.id))?.status === 'done');
    const rejected = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.paris.id));
    expectOk(await app.approvals.confirm(rejected.id, admin));
    expectOk(await app.approvals.reject(rejected.id, approver, 'not now'));
    // A number for a new account waits a year for its license: it must survive any retention.
    const added = expectOk(await app.provisioning.addAccount(admin, { displayName: 'Slow', username: 'aa-slow', domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' }));
    await until(async () => (await app.plans.get(added.id))?.status === 'done');
    const waiting = expectOk(await app.provisioning.planAssignNumber(admin, (await app.plans.get(added.id))!.account.id!, 'callingPlan', DEMO.numbers.usToll[0]!));
    expectOk(await app.approvals.confirm(waiting.id, admin));
    await until(async () => (await app.plans.get(waiting.id))?.status === 'waiting');

    clock.advance(29 * DAY);
    await app.approvals.sweep();
    expect(await app.plans.get(done.id)).toBeDefined();

    clock.advance(2 * DAY);
    await app.close();
    app = await testApp(dir.dir, { SWITCHBOARD_RETENTION_DAYS: '30', SWITCHBOARD_PLAN_POLL_MS: '10' }, { now: clock.now, slowness: { licenseProvisioningMs: 365 * DAY } });
    // A plan with a card update or notice still to send is kept until it went out (the outbox runs on
    // the wall clock, not the test's): let the worker finish first.
    await app.delivery.idle(5_000);
    await app.approvals.sweep();
    expect(await app.plans.get(done.id)).toBeUndefined();
    expect(await app.approvals.get(done.id)).toBeUndefined();
    expect(await app.plans.get(rejected.id)).toBeUndefined();
    expect(await app.approvals.get(rejected.id)).toBeUndefined();
    expect(['running', 'waiting']).toContain((await app.plans.get(waiting.id))!.status);
    expect((await app.audit.readAll()).filter((e) => e.requestId === done.id).map((e) => e.action)).toContain('request.done');
  });

  it('refuses a retention that is not a positive number of days', () => {
    expect(() => loadConfig({ SWITCHBOARD_RETENTION_DAYS: '0' })).toThrow(/^Configuration error: SWITCHBOARD_RETENTION_DAYS /);
  });
});
