import fsp from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { StoreUnavailableError } from '../../src/store/errors';
import { testApp, tempDir } from '../helpers/app';
import { ADMIN, APPROVER } from '../helpers/identities';
import { expectOk, until } from '../helpers/waiting';

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const approver = { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name };
const at = '2026-11-28T10:00:00.000Z';

/** A plan and its request as the first storage layout wrote them (two files, written one after the other). */
function legacyPair(id: string, planStatus: string, requestStatus: string) {
  const helpdesk = DEMO.accounts.helpdesk;
  const plan = {
    id,
    kind: 'deleteAccount',
    version: 1,
    status: planStatus,
    account: { id: helpdesk.id, userPrincipalName: helpdesk.upn, displayName: helpdesk.displayName },
    requestedBy: admin,
    createdAt: at,
    updatedAt: at,
    steps: [{ step: { kind: 'deleteAccount' }, state: { status: 'pending' } }],
  };
  const request = {
    id,
    kind: 'deleteAccount',
    account: plan.account,
    requestedBy: admin,
    status: requestStatus,
    version: 1,
    createdAt: at,
    expiresAt: '2099-01-01T00:00:00.000Z',
    ...(requestStatus !== 'pending' ? { decision: { ...approver, at, ...(requestStatus === 'rejected' ? { reason: 'no' } : {}) } } : {}),
    cards: [],
    unreachable: [],
  };
  return { plan, request };
}

async function writeLegacy(dir: string, pair: ReturnType<typeof legacyPair>): Promise<void> {
  await fsp.writeFile(path.join(dir, 'plans.json'), JSON.stringify({ plans: { [pair.plan.id]: pair.plan } }));
  await fsp.writeFile(path.join(dir, 'requests.json'), JSON.stringify({ requests: { [pair.request.id]: pair.request } }));
}

describe('a request and its plan never disagree (issue 9 item 4, DOMAIN.md F16)', () => {
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

  it('runs, after a restart, a plan whose request was approved before a crash kept it from starting', async () => {
    const id = '0c1a1a1a-0000-4000-8000-000000000001';
    await writeLegacy(dir.dir, legacyPair(id, 'awaitingConfirmation', 'approved'));
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    await until(async () => (await app.plans.get(id))?.status === 'done', 8_000, 'the approved plan to run');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();
    expect((await app.approvals.get(id))!.status).toBe('done');
    expect((await app.audit.readAll()).filter((e) => e.requestId === id).map((e) => e.action)).toEqual(['request.reconciled', 'account.delete', 'plan.deleteAccount', 'request.done']);
  });

  it.each([
    ['rejected', 'awaitingConfirmation', 'cancelled', 'rejected'],
    ['cancelled', 'awaitingConfirmation', 'cancelled', 'cancelled'],
    ['pending', 'cancelled', 'cancelled', 'cancelled'],
  ])('repairs a %s request whose plan is %s: plan %s, request %s, nothing runs', async (requestStatus, planStatus, planAfter, requestAfter) => {
    const id = '0c1a1a1a-0000-4000-8000-000000000002';
    await writeLegacy(dir.dir, legacyPair(id, planStatus, requestStatus));
    app = await testApp(dir.dir);
    expect((await app.plans.get(id))!.status).toBe(planAfter);
    expect((await app.approvals.get(id))!.status).toBe(requestAfter);
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
  });

  it('writes an approval and the start of its plan together: a failed write leaves both as they were', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    const plan = expectOk(await app.provisioning.planDelete(admin, DEMO.accounts.helpdesk.id));
    expectOk(await app.approvals.confirm(plan.id, admin));
    const realOpen = fsp.open;
    const full = jest.spyOn(fsp, 'open').mockImplementation(async (file, ...rest) => {
      if (String(file).endsWith('.workflow.json.tmp')) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return realOpen(file, ...rest);
    });
    await expect(app.approvals.approve(plan.id, approver)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await app.approvals.get(plan.id))!.status).toBe('pending');
    expect((await app.plans.get(plan.id))!.status).toBe('awaitingConfirmation');
    const onDisk = JSON.parse(await fsp.readFile(path.join(dir.dir, 'workflow.json'), 'utf8')) as { plans: Record<string, { status: string }>; requests: Record<string, { status: string }> };
    expect([onDisk.plans[plan.id]!.status, onDisk.requests[plan.id]!.status]).toEqual(['awaitingConfirmation', 'pending']);
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();

    full.mockRestore();
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect((await app.approvals.get(plan.id))!.status).toBe('done');
  });
});
