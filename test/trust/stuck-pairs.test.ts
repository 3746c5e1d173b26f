import fsp from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { AuditLog } from '../../src/store/audit';
import { StoreUnavailableError } from '../../src/store/errors';
import { LowdbWorkflowStore } from '../../src/store/lowdbWorkflow';
import { fullDisk } from '../fakes/disk';
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
    const disk = fullDisk((file) => path.basename(file).startsWith('workflow.json'));
    disk.fill();
    await expect(app.approvals.approve(plan.id, approver)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect((await app.approvals.get(plan.id))!.status).toBe('pending');
    expect((await app.plans.get(plan.id))!.status).toBe('awaitingConfirmation');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
    // What is on disk agrees: a second store opened on a copy of the folder reads both as they were.
    disk.restore();
    const copy = await tempDir();
    try {
      for (const name of await fsp.readdir(dir.dir)) if (name.startsWith('workflow.json')) await fsp.copyFile(path.join(dir.dir, name), path.join(copy.dir, name));
      const reread = await LowdbWorkflowStore.open(path.join(copy.dir, 'workflow.json'), { audit: new AuditLog(path.join(copy.dir, 'audit.jsonl')) });
      expect([(await reread.plan(plan.id))!.status, (await reread.request(plan.id))!.status]).toEqual(['awaitingConfirmation', 'pending']);
      await reread.close();
    } finally {
      await copy.remove();
    }

    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app.plans.get(plan.id))?.status === 'done');
    expect((await app.approvals.get(plan.id))!.status).toBe('done');
  });
});
