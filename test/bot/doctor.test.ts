import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { FINDING_CODES, type FindingCode } from '../../src/provisioning/doctor';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

/**
 * `doctor` through the bot as Teams drives it (TestAdapter), over the simulated demo tenant, whose
 * seed holds one example of each problem (src/backends/simulated/seed.ts): found, shown, and fixed by
 * its one-click plan under the approval policy, after which a new scan no longer shows it.
 */

type Card = Record<string, unknown>;
const A = DEMO.accounts;
const V = DEMO.voiceApps;
const buttons = (card: unknown) => cardTexts(card).filter((t) => t.startsWith('['));
/** A plan card's texts, its steps without their status icon. */
const planTexts = (card: unknown) => cardTexts(card).map((t) => t.replace(/^[○⏳✓✗] /, ''));

/** Every Action.Execute of a card with its verb and data. */
function actions(card: unknown): { title: string; verb: string; data: Record<string, unknown> }[] {
  const found: { title: string; verb: string; data: Record<string, unknown> }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'Action.Execute') found.push({ title: String(o.title), verb: String(o.verb), data: (o.data ?? {}) as Record<string, unknown> });
      for (const [key, value] of Object.entries(o)) if (key !== 'fallback') walk(value);
    }
  };
  walk(card);
  return found;
}

/** Where each seeded example is: the finding's subject id. */
const SEEDED: Record<FindingCode, string> = {
  BROKEN_BY_LICENSE_SWITCH: A.invoices.id,
  NUMBER_STUCK_PENDING: DEMO.numbers.stuck,
  VOICE_APP_ACCOUNT_GONE: V.deliveries.configurationId,
  NUMBER_ON_UNLICENSED_ACCOUNT: A.orders.id,
  VOICE_APP_ACCOUNT_UNLICENSED: A.holidays.id,
  USER_NUMBER_ON_RESOURCE_ACCOUNT: A.returns.id,
  NUMBER_COUNTRY_MISMATCH: A.lyon.id,
  TYPE_DIFFERS_FROM_VOICE_APP: A.escalations.id,
  SIGN_IN_ENABLED: A.kiosk.id,
  PHONE_STANDARD_ON_RESOURCE_ACCOUNT: A.reception.id,
  LICENSE_WITHOUT_USAGE_LOCATION: A.events.id,
  RESOURCE_LICENSE_ON_USER: DEMO.users.leeGu.id,
  ACCOUNT_UNLICENSED: A.paris.id,
  ACCOUNT_UNUSED: A.helpdesk.id,
};

describe('doctor: the tenant\'s existing problems, found and fixed (TestAdapter)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    sut = new Conversation(app);
    // The approver has talked to the bot once, so approval cards reach them.
    await sut.send(message('help', { from: APPROVER }));
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  /** The doctor's card pages, from "doctor" then Next until there is none. */
  async function allPages(): Promise<Card[]> {
    const pages = [await sut.card(message('doctor'))];
    for (let next = actions(pages[0]).find((a) => a.title === 'Next'); next; next = actions(pages[pages.length - 1]).find((a) => a.title === 'Next')) {
      pages.push(bodyOf(await sut.invoke(execute('doctor', next.data))));
      expect(pages.length).toBeLessThan(10);
    }
    return pages;
  }

  async function findings(): Promise<{ code: string; subjectId: string }[]> {
    return (await app.provisioning.doctor.examine()).diagnosis.findings.map(({ code, subjectId }) => ({ code, subjectId }));
  }

  it('finds each seeded problem, errors first, in pages of eight with the seats a switch frees', async () => {
    expect(await findings()).toEqual(expect.arrayContaining(FINDING_CODES.map((code) => ({ code, subjectId: SEEDED[code] }))));

    const pages = await allPages();
    const first = cardTexts(pages[0]);
    expect(first.slice(0, 5)).toEqual([
      'Tenant doctor',
      "Every resource account checked against Microsoft's rules. A fix is a plan like any other: you see its steps and confirm; some need an approver.",
      '14 resource accounts checked: 8 problems, 6 warnings, 8 notes.',
      'Switching the resource account on Teams Phone Standard to the free Resource Account license frees one paid Teams Phone Standard seat.',
      'Findings 1–8 of 22',
    ]);
    expect(first).toEqual(
      expect.arrayContaining([
        '✗ Problem (F2)',
        'cq-invoices@contoso.com no longer works: its license was switched in two operations.',
        '✗ Problem (F1)',
        '+14255550140 is stuck on an account that was deleted while it held the number (assignmentPending).',
        'Deliveries (Call queue) points only to a resource account that no longer exists: callers cannot reach it.',
        'aa-orders@contoso.com holds +14255550130 but has no license: calls to the number fail.',
        'Holidays uses aa-holidays@contoso.com, which has no license.',
        'cq-returns@contoso.com holds +14255550210, a user (subscriber) number: only service numbers belong on a resource account.',
        '+14255550131 is a United States of America (US) number but the usage location of aa-lyon@contoso.com is France (FR).',
        'cq-escalations@contoso.com is of type Auto attendant but serves Escalations, of type Call queue.',
        '14 more after these.',
      ]),
    );
    const all = pages.flatMap((p) => cardTexts(p));
    expect(all).toEqual(
      expect.arrayContaining([
        'aa-kiosk@contoso.com can sign in: a resource account must stay a disabled user object.',
        'aa-reception@contoso.com uses a paid Teams Phone Standard license; resource accounts take the free Teams Phone Resource Account license.',
        'cq-events@contoso.com has a license but no usage location.',
        'Lee Gu (lee.gu@contoso.com) is not a resource account but holds a Teams Phone Resource Account license.',
        'aa-paris@contoso.com has no license: every resource account needs a Teams Phone Resource Account license, with a number or without.',
        'No auto attendant or call queue uses cq-helpdesk@contoso.onmicrosoft.com.',
      ]),
    );
    expect(pages.map((p) => cardTexts(p).find((t) => t.startsWith('Findings ')))).toEqual(['Findings 1–8 of 22', 'Findings 9–16 of 22', 'Findings 17–22 of 22']);
    expect(buttons(pages[2])).toContain('[Previous]');
    expect(buttons(pages[2])).not.toContain('[Next]');
  });

  it('puts only ids on its buttons, and offers no fix where Switchboard has none, only what to do', async () => {
    for (const page of await allPages()) {
      for (const action of actions(page)) {
        expect(Object.keys(action.data).every((k) => ['code', 'subjectId', 'accountId', 'offset'].includes(k))).toBe(true);
        for (const value of Object.values(action.data)) expect(String(value)).toMatch(/^([0-9a-f-]{36}|\+\d+|[A-Z_]+|\d+|)$/);
      }
    }
    const fixes = (await allPages()).flatMap((p) => actions(p)).filter((a) => a.verb === 'doctorFix').map((a) => a.data.code);
    expect(fixes).not.toContain('NUMBER_STUCK_PENDING');
    expect(fixes).not.toContain('RESOURCE_LICENSE_ON_USER');
    const texts = (await allPages()).flatMap((p) => cardTexts(p));
    expect(texts).toContain(
      'No API can release it. Restore the deleted account in the Microsoft Entra admin center (Users › Deleted users, within 30 days), unassign the number, then delete the account again; after 30 days, ask Microsoft support.',
    );

    // A crafted click changes nothing and says why.
    const before = JSON.stringify(await app.directory.scanTenant());
    const refused = bodyOf(await sut.invoke(execute('doctorFix', { code: 'RESOURCE_LICENSE_ON_USER', subjectId: DEMO.users.leeGu.id })));
    expect(cardTexts(refused)).toContain("Switchboard cannot fix this one itself; the doctor card says what to do.");
    expect(JSON.stringify(await app.directory.scanTenant())).toBe(before);
    expect((await app.audit.readAll()).at(-1)).toMatchObject({ action: 'doctor.fix', outcome: 'refused', reason: 'DOCTOR_NO_FIX' });
  });

  it('shows an approver the findings without fix buttons, and refuses a fix asked by one', async () => {
    const card = await sut.card(message('doctor', { from: APPROVER }));
    expect(actions(card).filter((a) => a.verb === 'doctorFix' || a.verb === 'openAssociate')).toEqual([]);
    expect(buttons(card)).toEqual(expect.arrayContaining(['[Show account]', '[Next]', '[Scan again]']));
    const refused = bodyOf(await sut.invoke(execute('doctorFix', { code: 'SIGN_IN_ENABLED', subjectId: A.kiosk.id }, { from: APPROVER })));
    expect(cardTexts(refused).join(' ')).toMatch(/Only Switchboard admins can make changes/);
    expect((await app.directory.getAccount(A.kiosk.id))?.accountEnabled).toBe(true);
  });

  it('refuses malformed fix data', async () => {
    const card = bodyOf(await sut.invoke(execute('doctorFix', { code: 'REBOOT_THE_PBX', subjectId: A.kiosk.id })));
    expect(cardTexts(card).join(' ')).toMatch(/This card sent data I cannot use \(code: /);
  });

  /** Clicks Fix, confirms, has the approver approve when the policy asks, and waits for the plan. */
  async function fix(code: FindingCode, subjectId: string): Promise<{ proposal: Card; planId: string }> {
    const proposal = bodyOf(await sut.invoke(execute('doctorFix', { code, subjectId })));
    expect(cardTexts(proposal)[1]).toBe('Nothing has changed yet. Confirm to run these steps.');
    expect(buttons(proposal)).toEqual(expect.arrayContaining(['[Confirm]', '[Cancel]']));
    const planId = idOn(proposal, 'planId');
    await sut.invoke(execute('confirmPlan', { planId }));
    const plan = await app.plans.get(planId);
    if (plan?.needsApproval) await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER }));
    await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, `${code} fix to finish`);
    return { proposal, planId };
  }

  it.each([
    ['SIGN_IN_ENABLED', A.kiosk.id, ['1. Block sign-in (a resource account is a disabled user object)'], false],
    ['NUMBER_ON_UNLICENSED_ACCOUNT', A.orders.id, ['1. Assign the Teams Phone Resource Account license'], false],
    ['VOICE_APP_ACCOUNT_UNLICENSED', A.holidays.id, ['1. Assign the Teams Phone Resource Account license'], false],
    ['ACCOUNT_UNLICENSED', A.paris.id, ['1. Assign the Teams Phone Resource Account license'], false],
    ['NUMBER_COUNTRY_MISMATCH', A.lyon.id, ['1. Set the usage location to United States of America (US)'], false],
    ['LICENSE_WITHOUT_USAGE_LOCATION', A.events.id, ['1. Set the usage location to United States of America (US)'], false],
    [
      'TYPE_DIFFERS_FROM_VOICE_APP',
      A.escalations.id,
      ['1. Remove it from Escalations', '2. Change its type to Call queue', '3. Use it for Escalations'],
      false,
    ],
    ['USER_NUMBER_ON_RESOURCE_ACCOUNT', A.returns.id, ['1. Unassign +14255550210 (Calling Plan) and wait until it is really free'], true],
    ['PHONE_STANDARD_ON_RESOURCE_ACCOUNT', A.reception.id, ['1. Switch Phone System → Teams Phone Resource Account in one license operation'], true],
    ['ACCOUNT_UNUSED', A.helpdesk.id, ['1. Delete the account (recoverable for 30 days in Microsoft 365)'], true],
  ] as const)('fixes %s with its plan; a new scan no longer shows it', async (code, subjectId, steps, approval) => {
    const { proposal, planId } = await fix(code, subjectId);
    expect(planTexts(proposal)).toEqual(expect.arrayContaining([...steps]));
    expect((await app.plans.get(planId))?.needsApproval).toBe(approval);
    expect(await findings()).not.toContainEqual({ code, subjectId });
    // Audited: who asked, every step that acted, and the end.
    const audit = await app.audit.readAll();
    expect(audit.filter((e) => e.requestId === planId && e.actor.aadObjectId === ADMIN.aadObjectId).map((e) => e.outcome)).toEqual(expect.arrayContaining(['requested', 'succeeded']));
  });

  it('replaces the account broken by a two-step license switch: a new one takes its CQ, then the broken one is deleted (approved)', async () => {
    const { proposal, planId } = await fix('BROKEN_BY_LICENSE_SWITCH', A.invoices.id);
    expect(cardTexts(proposal).slice(0, 1)).toEqual(['Replace a broken account with cq-invoices-2@contoso.com']);
    expect(planTexts(proposal)).toEqual(
      expect.arrayContaining([
        '1. Create cq-invoices-2@contoso.com (Call queue) named "Invoices"',
        '2. Set the usage location to United States of America (US)',
        '3. Assign the Teams Phone Resource Account license',
        '4. Use it for Invoices',
        '5. Remove cq-invoices@contoso.com from Invoices',
        '6. Delete cq-invoices@contoso.com (recoverable for 30 days in Microsoft 365)',
      ]),
    );
    expect((await app.plans.get(planId))?.needsApproval).toBe(true);
    const replacement = await app.directory.findAccountByUpn('cq-invoices-2@contoso.com');
    expect(replacement).toMatchObject({ displayName: 'Invoices', accountType: 'callQueue', usageLocation: 'US', assignedLicenses: [DEMO.skus.resourceAccount.skuId], broken: false });
    expect(replacement?.associations.map((a) => a.name)).toEqual(['Invoices']);
    expect(await app.directory.getAccount(A.invoices.id)).toBeNull();
    expect((await findings()).map((f) => f.code)).not.toContain('BROKEN_BY_LICENSE_SWITCH');
    // The steps on the old account are audited against the old account.
    const audit = (await app.audit.readAll()).filter((e) => e.requestId === planId && e.outcome === 'succeeded');
    expect(audit.map((e) => [e.action, e.target])).toEqual(
      expect.arrayContaining([
        ['account.create', 'cq-invoices-2@contoso.com'],
        ['account.dissociate', 'cq-invoices@contoso.com'],
        ['account.delete', 'cq-invoices@contoso.com'],
      ]),
    );
  });

  it('gives a call queue whose account is gone a new, licensed account of its own', async () => {
    const { proposal } = await fix('VOICE_APP_ACCOUNT_GONE', V.deliveries.configurationId);
    expect(cardTexts(proposal)[0]).toBe('Add cq-deliveries@contoso.onmicrosoft.com');
    const created = await app.directory.findAccountByUpn('cq-deliveries@contoso.onmicrosoft.com');
    expect(created).toMatchObject({ displayName: 'Deliveries', accountType: 'callQueue', usageLocation: 'US', assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
    expect(created?.associations.map((a) => a.name)).toEqual(['Deliveries']);
    expect((await findings()).map((f) => f.code)).not.toContain('VOICE_APP_ACCOUNT_GONE');
  });

  it('says so on the doctor card when a finding is gone by the time Fix is clicked', async () => {
    await fix('SIGN_IN_ENABLED', A.kiosk.id);
    const again = bodyOf(await sut.invoke(execute('doctorFix', { code: 'SIGN_IN_ENABLED', subjectId: A.kiosk.id })));
    expect(cardTexts(again).slice(0, 3)).toEqual([
      'Tenant doctor',
      expect.any(String),
      'This problem is no longer there (the tenant changed since the scan). Run "doctor" again to see where things stand.',
    ]);
  });

  it('speaks French', async () => {
    const card = await sut.card(message('doctor', { locale: 'fr-FR' }));
    const texts = cardTexts(card);
    expect(texts.slice(0, 1)).toEqual(['Diagnostic du client']);
    expect(texts).toEqual(
      expect.arrayContaining([
        '14 comptes de ressources vérifiés\u00a0: 8 problèmes, 6 avertissements, 8 remarques.',
        '✗ Problème (F2)',
        'cq-invoices@contoso.com ne fonctionne plus\u00a0: sa licence a été changée en deux opérations.',
        '[Le remplacer]',
        '[Suivants]',
        '[Relancer l’analyse]',
      ]),
    );
  });
});
