import type { App } from '../../src/app';
import type { SimulatedTenant } from '../../src/backends/simulated/tenant';
import { DEMO } from '../../src/backends/simulated/seed';
import { ACCOUNT_TYPES } from '../../src/provisioning/model';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { until } from '../helpers/waiting';

/**
 * Hybrid tenants (issue 12 part 3; DOMAIN.md §7): with SWITCHBOARD_HYBRID=on the add form makes a
 * plan that gives the on-premises command and waits for the account to arrive from Entra Connect, then
 * licenses it and assigns its Direct Routing number online; synced accounts refuse online-only changes.
 */
const OU = 'OU=Resource Accounts,DC=contoso,DC=com';
const form = {
  displayName: 'Support line',
  username: 'cq-hybrid',
  domain: DEMO.domains.custom,
  accountType: 'callQueue',
  usageLocation: 'US',
  license: 'resourceAccount',
  telephoneNumber: '+1 425 555 0199',
};
const bodyOf = (r: { body?: unknown }) => (r.body as { value: unknown }).value;
/** The plan a card is about: its buttons carry the plan id (and nothing else of it). */
const planIdOf = (card: unknown): string => /"planId":"([^"]+)"/.exec(JSON.stringify(card))![1]!;
const actions = (card: unknown) => cardTexts(card).filter((t) => t.startsWith('['));

describe('a hybrid tenant (Skype for Business Server 2019)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;
  const tenant = () => app.directory as unknown as SimulatedTenant;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_HYBRID: 'on', SWITCHBOARD_HYBRID_OU: OU, SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '20' });
    sut = new Conversation(app);
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('says so on the add form and takes the Direct Routing number there', async () => {
    const texts = cardTexts(bodyOf(await sut.invoke(execute('openAddForm'))));
    expect(texts).toContain(
      'Hybrid tenant (SWITCHBOARD_HYBRID=on): the account is created on Skype for Business Server 2019. Switchboard gives you the command to run there, waits for the account to arrive in Entra ID, then sets its usage location, license and number.',
    );
    expect(texts).toContain('Direct Routing number (optional)');
  });

  it('gives the on-premises command, waits for the account, then licenses it and assigns its number', async () => {
    const card = bodyOf(await sut.invoke(execute('addAccount', form)));
    const texts = cardTexts(card);
    expect(texts).toContain(
      `New-CsHybridApplicationEndpoint -ApplicationId ${ACCOUNT_TYPES.callQueue.applicationId} -DisplayName 'Support line' -SipAddress 'sip:cq-hybrid@contoso.com' -OU '${OU}' -LineUri 'tel:+14255550199'`,
    );
    expect(texts).toContain('Start-ADSyncSyncCycle -PolicyType Delta  (on the Entra Connect server)');
    const steps = texts.filter((t) => /^[○⏳✓✗] \d\./.test(t));
    expect(steps).toEqual([
      '⏳ 1. Wait for cq-hybrid@contoso.com (Call queue, "Support line") to arrive from on-premises (created there with the command below)',
      '○ 2. Set the usage location to United States of America (US)',
      '○ 3. Assign the Teams Phone Resource Account license',
      '○ 4. Wait until the license is provisioned',
      '○ 5. Assign +14255550199 (Direct Routing)',
    ]);
    // Nothing was created online: the tenant has no such account until Entra Connect brings it.
    expect(await app.directory.findAccountByUpn('cq-hybrid@contoso.com')).toBeNull();
    const plan = (await app.plans.get(planIdOf(card)))!;
    await until(async () => (await app.plans.get(plan.id))?.status === 'waiting', 5_000, 'the plan to wait for the account');
    const waiting = cardTexts(bodyOf(await sut.invoke(execute('refreshPlan', { planId: plan.id }))));
    expect(waiting.some((t) => t.includes('Waiting for cq-hybrid@contoso.com to arrive in Entra ID: create it on Skype for Business Server 2019'))).toBe(true);

    await tenant().syncFromOnPremises({ userPrincipalName: 'cq-hybrid@contoso.com', displayName: 'Support line', accountType: 'callQueue' });
    await until(async () => (await app.plans.get(plan.id))?.status === 'done', 10_000, 'the plan to finish once the account arrived');
    const account = (await app.directory.findAccountByUpn('cq-hybrid@contoso.com'))!;
    expect(account).toMatchObject({ onPremisesSynced: true, usageLocation: 'US', assignedLicenses: [DEMO.skus.resourceAccount.skuId], phoneNumber: '+14255550199' });
    const audit = (await app.audit.readAll()).filter((e) => e.requestId === plan.id).map((e) => `${e.action}:${e.outcome}`);
    expect(audit).toEqual([
      'plan.addAccount:requested',
      'account.synced:succeeded',
      'account.setUsageLocation:succeeded',
      'license.assign:succeeded',
      'number.assign:succeeded',
      'plan.addAccount:succeeded',
    ]);
  });

  it('fails the plan when an account of that name is made online instead', async () => {
    const card = bodyOf(await sut.invoke(execute('addAccount', form)));
    await app.directory.createAccount({ userPrincipalName: 'cq-hybrid@contoso.com', displayName: 'Support line', accountType: 'callQueue' });
    const id = planIdOf(card);
    await until(async () => (await app.plans.get(id))?.status === 'failed', 10_000, 'the plan to fail');
    const texts = cardTexts(bodyOf(await sut.invoke(execute('refreshPlan', { planId: id }))));
    expect(texts.find((t) => t.startsWith('Stopped'))).toContain('cq-hybrid@contoso.com is in Entra ID but was made online, not synchronised from on-premises.');
  });

  it('fails the plan, with the reason, when the account that arrives is of the other type', async () => {
    const first = bodyOf(await sut.invoke(execute('addAccount', { ...form, telephoneNumber: '' })));
    expect(cardTexts(first).some((t) => t.startsWith('New-CsHybridApplicationEndpoint') && !t.includes('-LineUri'))).toBe(true);
    const plan = (await app.plans.get(planIdOf(first)))!;
    await tenant().syncFromOnPremises({ userPrincipalName: 'cq-hybrid@contoso.com', displayName: 'Support line', accountType: 'autoAttendant' });
    await until(async () => (await app.plans.get(plan.id))?.status === 'failed', 10_000, 'the plan to fail');
    const texts = cardTexts(bodyOf(await sut.invoke(execute('refreshPlan', { planId: plan.id }))));
    expect(texts.find((t) => t.startsWith('Stopped'))).toContain(
      'cq-hybrid@contoso.com arrived from on-premises as an Auto attendant account, not the Call queue this plan asked for',
    );
  });

  it('refuses an online edit or delete of a synced account, and offers only what is done online', async () => {
    const synced = await tenant().syncFromOnPremises({ userPrincipalName: 'aa-onprem@contoso.com', displayName: 'On-prem AA', accountType: 'autoAttendant' });
    const show = await sut.card(message('show aa-onprem'));
    const texts = cardTexts(show);
    expect(texts).toContain(
      'Synchronised from on-premises (Skype for Business Server 2019): its name, type and deletion are managed there with Set-/Remove-CsHybridApplicationEndpoint. License, number and associations are managed here.',
    );
    expect(actions(show)).not.toContain('[Edit]');
    expect(actions(show)).not.toContain('[Delete]');

    const refusal = (r: { body?: unknown }) => cardTexts(bodyOf(r)).join(' ');
    expect(refusal(await sut.invoke(execute('requestDelete', { accountId: synced.id })))).toContain(
      'aa-onprem@contoso.com is synchronised from on-premises (Skype for Business Server 2019): its name, its type and its deletion are managed there (Remove-CsHybridApplicationEndpoint)',
    );
    expect(refusal(await sut.invoke(execute('editAccount', { accountId: synced.id, displayName: 'Renamed', accountType: 'autoAttendant' })))).toContain('(Set-CsHybridApplicationEndpoint)');
    expect(await app.directory.getAccount(synced.id)).toMatchObject({ displayName: 'On-prem AA' });
    // The tenant itself refuses too (Entra ID masters nothing of a synced object online).
    await expect(app.directory.deleteAccount(synced.id)).rejects.toMatchObject({ reason: 'ACCOUNT_ON_PREMISES' });
  });

  it('does not offer bulk import, which would create the accounts online, and says what to do instead', async () => {
    const csv = 'displayName,username,domain,type,usageLocation,license\nSupport line,cq-hybrid,contoso.com,callQueue,US,resourceAccount\n';
    const card = bodyOf(await sut.invoke(execute('previewImport', { csv })));
    expect(cardTexts(card).join(' ')).toContain('this is a hybrid tenant: resource accounts are created on Skype for Business Server 2019, not online.');
    expect(JSON.stringify(card)).not.toContain('planId');
    expect(await app.directory.findAccountByUpn('cq-hybrid@contoso.com')).toBeNull();
  });

  it.each([
    ['a number without a license', { license: 'none' }, 'has no Teams Phone license yet'],
    ['a number that is not E.164', { telephoneNumber: '0425 555' }, '0425 555'],
  ])('refuses %s next to the number field, and makes no plan', async (_what, change, message) => {
    const card = bodyOf(await sut.invoke(execute('addAccount', { ...form, ...change })));
    const texts = cardTexts(card);
    expect(texts[0]).toBe('Add resource account');
    const field = texts.indexOf('Direct Routing number (optional)');
    expect(field).toBeGreaterThan(0);
    expect(texts.slice(field).join(' ')).toContain(message);
    expect(JSON.stringify(card)).not.toContain('planId');
  });
});

describe('an online-only tenant', () => {
  it('keeps the add form and plan as they were: no number field, the account created online', async () => {
    const dir = await tempDir();
    const app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    try {
      const sut = new Conversation(app);
      const texts = cardTexts(bodyOf(await sut.invoke(execute('openAddForm'))));
      expect(texts.some((t) => t.startsWith('Hybrid tenant'))).toBe(false);
      expect(texts).not.toContain('Direct Routing number (optional)');
      // A number typed anyway (a stale card) is not used outside hybrid tenants.
      await sut.invoke(execute('addAccount', form));
      await until(async () => (await app.directory.findAccountByUpn('cq-hybrid@contoso.com')) !== null, 5_000, 'the account to be created online');
      const account = (await app.directory.findAccountByUpn('cq-hybrid@contoso.com'))!;
      expect(account.onPremisesSynced).toBeUndefined();
      expect(account.phoneNumber).toBeNull();
    } finally {
      await app.close();
      await dir.remove();
    }
  });
});
