import fsp from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';
import { bodyOf, expectOk, until } from '../helpers/waiting';

/**
 * README "Security": "every kind that SWITCHBOARD_APPROVAL_OPERATIONS names waits for confirmation and
 * an approver, whatever proposes it (form, button, retry, resume)". The runner checks it where every run
 * starts: no step of such a plan runs unless its request was approved by someone who neither proposed
 * nor confirmed it. A plan caught without one is held back (awaiting confirmation, with the reason on its
 * card), never run; reconciliation of stored records fails closed. Found by attack9 (39909f0): Retry,
 * resume after a policy change, and reconcile() all ran plans with no approver.
 */

const admin = { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name };
const approver = { aadObjectId: APPROVER.aadObjectId, name: APPROVER.name };
const helpdesk = DEMO.accounts.helpdesk;
const tenantFault = () => Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
const HELD = /^Held before its next step: this kind of change needs an approver \(SWITCHBOARD_APPROVAL_OPERATIONS\) and no approver's decision is on record\./;

describe('no plan the approval policy names runs without an approver on record (Retry, resume, reconciliation)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App | undefined;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app?.close();
    app = undefined;
    await dir.remove();
  });

  const actions = async (planId: string) => (await app!.audit.readAll()).filter((e) => e.requestId === planId).map((e) => `${e.action}:${e.actor.name}`);

  it('Retry of a failed delete holds it for the approvers once the policy names deleteAccount; an approval then runs it', async () => {
    // Yesterday the operator ran without approvals; a delete failed on a tenant hiccup and was parked.
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' });
    jest.spyOn(app.directory, 'deleteAccount').mockRejectedValueOnce(tenantFault());
    const plan = expectOk(await app.provisioning.planDelete(admin, helpdesk.id));
    expectOk(await app.approvals.confirm(plan.id, admin));
    await until(async () => (await app!.plans.get(plan.id))?.status === 'failed', 8_000, 'the delete to park');
    jest.restoreAllMocks();
    await app.close();

    // Today deletes need an approver (the default policy). Any admin clicks Retry on the old card.
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    expect(app.config.approvals.kinds).toContain('deleteAccount');
    const deletes = jest.spyOn(app.directory, 'deleteAccount');
    const sut = new Conversation(app);
    const answer = cardTexts(bodyOf(await sut.invoke(execute('retryPlan', { planId: plan.id }))));
    await new Promise((r) => setTimeout(r, 300));

    // Nothing ran and no approval was made up: the plan waits for a Confirm, and the card says why.
    expect(deletes).not.toHaveBeenCalled();
    expect(await app.directory.getAccount(helpdesk.id)).not.toBeNull();
    expect(await app.approvals.get(plan.id)).toBeUndefined();
    expect(await app.plans.get(plan.id)).toMatchObject({ status: 'awaitingConfirmation', needsApproval: true, held: { reason: 'PLAN_HELD_FOR_APPROVAL' } });
    expect(answer[1]).toMatch(HELD);
    expect(answer[1]).toMatch(/Confirm to send it to the approvers\.$/);
    expect(answer.filter((t) => t.startsWith('['))).toEqual(['[Confirm]', '[Cancel]']);
    expect(await actions(plan.id)).toContain(`plan.held:${ADMIN.name}`);

    // The way on: Confirm sends it to the approvers, and an approver's OK runs it from where it stopped.
    const confirmed = cardTexts(bodyOf(await sut.invoke(execute('confirmPlan', { planId: plan.id }))));
    expect(confirmed[1]).toMatch(/^Waiting for an approver\./);
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app!.plans.get(plan.id))?.status === 'done', 8_000, 'the approved delete to finish');
    expect(await app.directory.getAccount(helpdesk.id)).toBeNull();
    expect((await app.plans.get(plan.id))!.held).toBeUndefined();
  });

  it('a plan that was waiting when the policy changed is held, not resumed, until an approver decides', async () => {
    // The unassign waits on a slow number operation when the operator stops the bot to tighten the policy.
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '60000' }, { slowness: { numberOperationMs: 400 } });
    const plan = expectOk(await app.provisioning.planUnassignNumber(admin, DEMO.accounts.sales.id));
    expectOk(await app.approvals.confirm(plan.id, admin));
    await until(async () => (await app!.plans.get(plan.id))?.status === 'waiting', 8_000, 'the unassign to wait');
    await app.close();
    // The bot stays down longer than the plan's poll interval: it is due when the bot comes back.
    const file = path.join(dir.dir, 'workflow.json');
    const doc = JSON.parse(await fsp.readFile(file, 'utf8')) as { plans: Record<string, { nextRunAt?: string }> };
    doc.plans[plan.id]!.nextRunAt = '2000-01-01T00:00:00.000Z';
    await fsp.writeFile(file, JSON.stringify(doc));

    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'unassignNumber', SWITCHBOARD_PLAN_POLL_MS: '10' }, { slowness: { numberOperationMs: 400 } });
    await until(async () => (await app!.plans.get(plan.id))?.status === 'awaitingConfirmation', 8_000, 'the plan to be held');
    await new Promise((r) => setTimeout(r, 500));
    const held = (await app.plans.get(plan.id))!;
    expect(held).toMatchObject({ status: 'awaitingConfirmation', held: { reason: 'PLAN_HELD_FOR_APPROVAL' } });
    expect(held.lease).toBeUndefined();
    // Not looked at again, so not recorded as done: the step still waits where it stood.
    expect(held.steps.map((s) => s.state.status)).toEqual(['waiting']);
    expect(await actions(plan.id)).toContain('plan.held:Switchboard');
    expect(await actions(plan.id)).not.toContain(`number.unassign:${ADMIN.name}`);
    expect(cardTexts((await app.views.plan(held, 'en')).card)[1]).toMatch(HELD);

    expectOk(await app.approvals.confirm(plan.id, admin));
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app!.plans.get(plan.id))?.status === 'done', 8_000, 'the approved unassign to finish');
    expect((await app.directory.getAccount(DEMO.accounts.sales.id))!.phoneNumber ?? null).toBeNull();
  });

  it('a plan approved by an approver carries on after a restart (the gate holds back only what has no approval)', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'unassignNumber', SWITCHBOARD_PLAN_POLL_MS: '60000' }, { slowness: { numberOperationMs: 400 } });
    const plan = expectOk(await app.provisioning.planUnassignNumber(admin, DEMO.accounts.sales.id));
    expectOk(await app.approvals.confirm(plan.id, admin));
    expectOk(await app.approvals.approve(plan.id, approver));
    await until(async () => (await app!.plans.get(plan.id))?.status === 'waiting', 8_000, 'the unassign to wait');
    await app.close();

    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'unassignNumber', SWITCHBOARD_PLAN_POLL_MS: '10' }, { slowness: { numberOperationMs: 400 } });
    await app.plans.run(plan.id);
    await until(async () => (await app!.plans.get(plan.id))?.status === 'done', 8_000, 'the approved unassign to finish');
    expect(await app.approvals.get(plan.id)).toMatchObject({ status: 'done', decision: { aadObjectId: APPROVER.aadObjectId } });
    expect(await actions(plan.id)).not.toContain('plan.held:Switchboard');
  });

  describe('reconciliation of stored records fails closed', () => {
    const at = '2026-11-28T10:00:00.000Z';
    const id = '0bad0000-0000-4000-8000-000000000001';
    const account = { id: helpdesk.id, userPrincipalName: helpdesk.upn, displayName: helpdesk.displayName };
    const storedPlan = (status: string) => ({
      id,
      kind: 'deleteAccount',
      version: 3,
      status,
      account,
      requestedBy: admin,
      createdAt: at,
      updatedAt: at,
      steps: [{ step: { kind: 'deleteAccount' }, state: { status: status === 'done' ? 'done' : 'pending' } }],
    });
    const storedRequest = (status: string, decision?: object) => ({
      id,
      kind: 'deleteAccount',
      account,
      requestedBy: admin,
      status,
      version: 1,
      createdAt: at,
      expiresAt: '2099-01-01T00:00:00.000Z',
      cards: [],
      unreachable: [],
      ...(decision ? { decision } : {}),
    });
    /** A previous version's files (plans.json, requests.json), migrated at start-up. */
    const legacyFiles = async (plan: object, request: object) => {
      await fsp.writeFile(path.join(dir.dir, 'plans.json'), JSON.stringify({ plans: { [id]: plan } }));
      await fsp.writeFile(path.join(dir.dir, 'requests.json'), JSON.stringify({ requests: { [id]: request } }));
    };

    it('a pending request whose plan says "running" is not approved by nobody: the plan is held, an approver still decides', async () => {
      // A hand edit, a half-restored backup, the old non-atomic writes: the plan moved on, nobody decided.
      await legacyFiles(storedPlan('running'), storedRequest('pending'));
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
      await new Promise((r) => setTimeout(r, 500));

      expect(await app.directory.getAccount(helpdesk.id)).not.toBeNull();
      const request = (await app.approvals.get(id))!;
      expect(request.status).toBe('pending');
      expect(request.decision).toBeUndefined();
      expect(await app.plans.get(id)).toMatchObject({ status: 'awaitingConfirmation', held: { reason: 'PLAN_HELD_FOR_APPROVAL' } });
      const card = cardTexts((await app.views.plan((await app.plans.get(id))!, 'en')).card);
      expect(card[1]).toMatch(/^Waiting for an approver\./);
      expect(card[2]).toMatch(HELD);
      expect(await actions(id)).toContain('request.reconciled:Switchboard');

      expectOk(await app.approvals.approve(id, approver));
      await until(async () => (await app!.plans.get(id))?.status === 'done', 8_000, 'the approved delete to finish');
      expect(await app.directory.getAccount(helpdesk.id)).toBeNull();
    });

    it('an "approved" request that names no decider goes back to the approvers; its plan does not run', async () => {
      await legacyFiles(storedPlan('awaitingConfirmation'), storedRequest('approved'));
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
      await new Promise((r) => setTimeout(r, 500));

      expect(await app.directory.getAccount(helpdesk.id)).not.toBeNull();
      expect(await app.approvals.get(id)).toMatchObject({ status: 'pending' });
      expect((await app.plans.get(id))!.status).toBe('awaitingConfirmation');
    });

    it('an approval its own requester gave (written before four-eyes) does not count: the plan is held', async () => {
      await legacyFiles(storedPlan('running'), storedRequest('executing', { ...admin, at }));
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
      await new Promise((r) => setTimeout(r, 500));

      expect(await app.directory.getAccount(helpdesk.id)).not.toBeNull();
      const request = (await app.approvals.get(id))!;
      expect(request.status).toBe('pending');
      expect(request.decision).toBeUndefined();
      expect(await app.plans.get(id)).toMatchObject({ status: 'awaitingConfirmation', held: { reason: 'PLAN_HELD_FOR_APPROVAL' } });
    });

    it('a pending request whose plan already finished is marked as run without approval, never as approved', async () => {
      await legacyFiles(storedPlan('done'), storedRequest('pending'));
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });

      const request = (await app.approvals.get(id))!;
      expect(request).toMatchObject({ status: 'failed', failure: { reason: 'PLAN_RAN_WITHOUT_APPROVAL' } });
      expect(request.decision).toBeUndefined();
      const card = cardTexts((await app.views.approval(request, 'other', 'fr')).card);
      // French typography: a no-break space before the colon (src/i18n/fr.ts).
      expect(card[1]).toBe(
        'Cette modification a été exécutée sans décision d’approbateur enregistrée (données d’une version antérieure, ou modifiées à la main)\u00a0: elle n’a jamais été approuvée. L’historique montre ce qui a été fait.',
      );
    });
  });
});
