import type { Activity } from 'botbuilder';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { numberAlreadyAssignedCard } from '../../src/cards/numberAlreadyAssigned';
import { refuse } from '../../src/provisioning/result';
import type { RunningServer } from '../../src/server';
import { testApp, tempDir } from '../helpers/app';
import { execute, message, submit } from '../helpers/activities';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { APPROVER, ADMIN, STRANGER } from '../helpers/identities';
import { idOn, until } from '../helpers/waiting';

type Card = Record<string, unknown>;
const CARD = 'application/vnd.microsoft.card.adaptive';

/** A US account with a Resource Account license and no number, created through the bot's add form. */
const US_FORM = {
  displayName: 'After hours',
  username: 'aa-afterhours',
  domain: DEMO.domains.custom,
  accountType: 'autoAttendant',
  usageLocation: 'US',
  license: 'resourceAccount',
};
const US_UPN = 'aa-afterhours@contoso.com';

/** Every free US Calling Plan service number of the demo tenant, in the order searches list them. */
const US_FREE_CALLING_PLAN = [...DEMO.numbers.usToll, ...DEMO.numbers.usPool, ...DEMO.numbers.usTollFree];
/** Numbers no search may offer: user numbers (F5), assigned, not activated, blocked. */
const NEVER_OFFERED = [
  ...DEMO.numbers.usUserFree,
  DEMO.numbers.usUserAssigned,
  ...DEMO.numbers.frUserFree,
  DEMO.numbers.mainLine,
  DEMO.numbers.sales,
  DEMO.numbers.reception,
  DEMO.numbers.notActivated,
  DEMO.numbers.blocked,
];

const bodyOf = (response: { body?: unknown }): Card => (response.body as { value: Card }).value;

/** The Action.Execute with this title, as the client would send it (verb and data). */
function button(card: unknown, title: string): { verb: string; data: Record<string, unknown> } {
  let found: { verb: string; data: Record<string, unknown> } | undefined;
  const walk = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const o = node as Record<string, unknown>;
    if (o.type === 'Action.Execute' && o.title === title) {
      found = { verb: String(o.verb), data: (o.data ?? {}) as Record<string, unknown> };
      return;
    }
    Object.entries(o).forEach(([key, value]) => key !== 'fallback' && walk(value));
  };
  walk(card);
  if (!found) throw new Error(`no button "${title}" on the card`);
  return found;
}

/** A click: the button's data with the user's inputs merged in, as Teams sends it. */
function click(card: unknown, title: string, inputs: Record<string, unknown> = {}, options: Parameters<typeof execute>[2] = {}): Partial<Activity> {
  const { verb, data } = button(card, title);
  return execute(verb, { ...data, ...inputs }, options);
}

function choicesOf(card: unknown): { title: string; value: string }[] {
  return (findInput(card, 'telephoneNumber')?.choices ?? []) as { title: string; value: string }[];
}

function buttons(card: unknown): string[] {
  return cardTexts(card).filter((t) => t.startsWith('['));
}

/** The text right after a label: where a card shows the message about that field. */
function after(card: unknown, label: string): string | undefined {
  const texts = cardTexts(card);
  const at = texts.indexOf(label);
  return at < 0 ? undefined : texts[at + 1];
}

function planIdOf(card: unknown): string {
  const match = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify(card));
  if (!match) throw new Error('no plan id on the card');
  return match[1]!;
}

describe('assign a number through the bot (TestAdapter)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    sut = new Conversation(app);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    await dir.remove();
  });

  async function createUsAccount(): Promise<string> {
    await sut.invoke(execute('addAccount', US_FORM));
    const account = await app.directory.findAccountByUpn(US_UPN);
    expect(account).toMatchObject({ usageLocation: 'US', phoneNumber: null, assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
    return account!.id;
  }

  /** What a refusal must leave untouched: every number and every account of the tenant. */
  async function tenant(): Promise<unknown> {
    return {
      numbers: await app.directory.listPhoneNumbers({ offset: 0, limit: 1000 }),
      accounts: await app.directory.listAccounts({ offset: 0, limit: 1000 }),
    };
  }

  async function assignPlansAudited(): Promise<unknown[]> {
    return (await app.audit.readAll()).filter((e) => e.action === 'plan.assignNumber');
  }

  describe('starting: "number <\u2060username>" and the account card\'s "Assign number"', () => {
    it('offers the three number types for a licensed account without a number', async () => {
      const card = await sut.card(message('number cq-support-fr'));
      expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
      expect(cardTexts(card)).toEqual([
        'Phone number for cq-support-fr@contoso.com',
        'Username: cq-support-fr@contoso.com',
        'Usage location: France (FR)',
        'License: Teams Phone Resource Account',
        'What kind of service number should it get?',
        'Number type',
        '[Next]',
        '[Cancel]',
      ]);
      expect(findInput(card, 'numberType')).toMatchObject({
        type: 'Input.ChoiceSet',
        style: 'expanded',
        isRequired: true,
        value: 'callingPlan',
        choices: [
          { title: 'Calling Plan service number (toll or toll-free, from Microsoft)', value: 'callingPlan' },
          { title: 'Operator Connect service number (from your operator)', value: 'operatorConnect' },
          { title: 'Direct Routing number (your own SBC or a hybrid number; ;ext= allowed)', value: 'directRouting' },
        ],
      });
      // Card data carries the account id only; the type comes from the input.
      expect(button(card, 'Next')).toEqual({ verb: 'chooseNumberType', data: { accountId: DEMO.accounts.supportFr.id } });

      // The account card's button answers with the very same card.
      const fromButton = await sut.invoke(execute('startNumber', { accountId: DEMO.accounts.supportFr.id }));
      expect(fromButton).toEqual({ status: 200, body: { statusCode: 200, type: CARD, value: card } });
    });

    it('says how to use the command, and names an unknown account', async () => {
      expect(cardTexts(await sut.card(message('number')))).toEqual([
        'Not done',
        'Say which account: "number <\u2060username>", e.g. "number cq-support-fr" or "number cq-support-fr@contoso.com".',
      ]);
      expect(cardTexts(await sut.card(message('number nobody')))).toEqual(['Not done', 'No resource account nobody in this tenant.']);
    });

    it('answers an account that already has a number with that number and an "Unassign number" button (whole invoke response)', async () => {
      const response = await sut.invoke(execute('startNumber', { accountId: DEMO.accounts.mainLine.id }));
      const account = (await app.directory.getAccount(DEMO.accounts.mainLine.id))!;
      const refusal = refuse('NUMBER_ACCOUNT_HAS_NUMBER', { upn: DEMO.accounts.mainLine.upn, number: DEMO.numbers.mainLine });
      const facts = await app.directory.getTenantFacts();
      expect(response).toEqual({ status: 200, body: { statusCode: 200, type: CARD, value: numberAlreadyAssignedCard(account, facts.skus, refusal, 'en') } });
      expect(cardTexts(bodyOf(response))).toEqual([
        'Phone number of aa-main@contoso.com',
        `aa-main@contoso.com already has ${DEMO.numbers.mainLine}. A resource account has one number; unassign it first.`,
        '[Unassign number]',
        '[Show account]',
      ]);
      expect(button(bodyOf(response), 'Unassign number')).toEqual({ verb: 'requestUnassign', data: { accountId: DEMO.accounts.mainLine.id } });
    });

    it('"Unassign number" on that card proposes the unassign plan', async () => {
      const card = await sut.card(message('number aa-main'));
      const plan = bodyOf(await sut.invoke(click(card, 'Unassign number')));
      expect(cardTexts(plan).slice(0, 2)).toEqual(['Unassign the number of aa-main@contoso.com', 'Nothing has changed yet. Confirm to run these steps.']);
    });

    it.each([
      [
        'unlicensed, with a usage location',
        DEMO.accounts.paris,
        'aa-paris@contoso.com has no Teams Phone license yet; assign a license before a number.',
        'Next step: give it a Teams Phone Resource Account license (14 of 25 free) with Assign license below. Then ask again: "number aa-paris@contoso.com".',
      ],
      [
        'unlicensed, without a usage location',
        DEMO.accounts.helpdesk,
        'cq-helpdesk@contoso.onmicrosoft.com has no Teams Phone license yet; assign a license before a number.',
        'Next step: it needs a usage location (the country of the number it will get; a license needs it), then a Teams Phone Resource Account license (14 of 25 free). ' +
          "Assign license below does both, with the tenant's country, United States of America (US); its plan shows each step before you confirm. " +
          'For a number of another country, set the usage location in the Microsoft 365 admin center first (Users › Active users). Then ask again: "number cq-helpdesk@contoso.onmicrosoft.com".',
      ],
    ])('refuses an account that is %s, says why and what to do first, and offers to license it', async (_case, account, why, nextStep) => {
      const card = await sut.card(message(`number ${account.upn}`));
      expect(cardTexts(card)).toEqual([
        `No phone number for ${account.upn} yet`,
        why,
        `Username: ${account.upn}`,
        expect.stringMatching(/^Usage location: /),
        'License: Unlicensed',
        nextStep,
        '[Assign license]',
        '[Show account]',
      ]);
      expect(button(card, 'Assign license')).toEqual({ verb: 'requestLicense', data: { accountId: account.id } });
      expect(button(card, 'Show account')).toEqual({ verb: 'showAccount', data: { accountId: account.id } });
    });

    it('licenses the account from that card (its usage location set first), after which the number search opens', async () => {
      const account = DEMO.accounts.helpdesk;
      const plan = bodyOf(await sut.invoke(execute('requestLicense', { accountId: account.id })));
      expect(cardTexts(plan)).toEqual(
        expect.arrayContaining([`License ${account.upn}`, '○ 1. Set the usage location to United States of America (US)', '[Confirm]']),
      );
      await sut.invoke(execute('confirmPlan', { planId: idOn(plan, 'planId') }));
      await until(async () => (await app.plans.get(idOn(plan, 'planId')))!.status === 'done', 10_000, 'the license plan');
      expect(await app.directory.getAccount(account.id)).toMatchObject({ usageLocation: 'US', assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
      const next = await sut.card(message(`number ${account.upn}`));
      expect(cardTexts(next)[0]).not.toMatch(/^No phone number for/);
    });

    it('says how to get more seats when no Resource Account license is free', async () => {
      const skus = (await app.directory.getTenantFacts()).skus.map((s) => (s.kind === 'resourceAccount' ? { ...s, consumed: s.enabled } : s));
      const real = app.directory.getTenantFacts.bind(app.directory);
      jest.spyOn(app.directory, 'getTenantFacts').mockImplementation(async () => ({ ...(await real()), skus }));
      const card = await sut.card(message('number aa-paris'));
      expect(cardTexts(card)).toContain(
        'Next step: give it a Teams Phone Resource Account license (0 of 25 free) in the Microsoft 365 admin center (Users › Active users › Licenses and apps). Then ask again: "number aa-paris@contoso.com". ' +
          'No free Teams Phone Resource Account (PHONESYSTEM_VIRTUALUSER) license: 0 of 25 left. Get more in the Microsoft 365 admin center under Billing › Purchase services (Resource Account licenses cost nothing but must be acquired).',
      );
      expect(cardTexts(card)).not.toContain('[Assign license]');
    });

    it('refuses a broken account and offers to add a new one', async () => {
      // Phone System removed on its own, then a license added: the account is broken for good (F2).
      const reception = DEMO.accounts.reception.id;
      await app.directory.assignLicense(reception, { addSkuIds: [], removeSkuIds: [DEMO.skus.phoneSystem.skuId] });
      await app.directory.assignLicense(reception, { addSkuIds: [DEMO.skus.resourceAccount.skuId], removeSkuIds: [] });
      expect(await app.directory.getAccount(reception)).toMatchObject({ broken: true, phoneNumber: null });

      const card = bodyOf(await sut.invoke(execute('startNumber', { accountId: reception })));
      expect(cardTexts(card)).toEqual([
        'No phone number for aa-reception@contoso.com yet',
        'aa-reception@contoso.com no longer works (a license change was done in two steps). Create a new account instead.',
        'Username: aa-reception@contoso.com',
        'Usage location: United States of America (US)',
        'License: Teams Phone Resource Account',
        'Next step: create a new resource account to use instead; a broken account cannot be repaired.',
        '[Show account]',
        '[Add resource account]',
      ]);
      expect(button(card, 'Add resource account')).toEqual({ verb: 'openAddForm', data: {} });
    });

    it.each([
      ['startNumber', {}],
      ['chooseNumberType', { numberType: 'callingPlan' }],
      ['searchNumbers', { numberType: 'callingPlan', country: 'US', prefix: '', offset: 15 }],
    ])('a stale %s card for an account that has a number meanwhile shows the number, not a search', async (verb, data) => {
      const card = bodyOf(await sut.invoke(execute(verb, { accountId: DEMO.accounts.mainLine.id, ...data })));
      expect(cardTexts(card)[0]).toBe('Phone number of aa-main@contoso.com');
      expect(buttons(card)).toEqual(['[Unassign number]', '[Show account]']);
    });

    it('answers a deleted account plainly', async () => {
      expect(cardTexts(bodyOf(await sut.invoke(execute('startNumber', { accountId: 'a0000000-0000-4000-8000-00000000dead' }))))).toEqual([
        'Not done',
        'This resource account is no longer in the tenant: it was deleted, here or in the Teams admin center. Type "list" to see the resource accounts there are.',
      ]);
    });
  });

  describe('Calling Plan and Operator Connect: search, page, pick', () => {
    it('type → search → next page → pick → plan card → confirm: the number is assigned and audited', async () => {
      const accountId = await createUsAccount();
      const typeCard = await sut.card(message('number aa-afterhours'));

      // Search card: filters default to the account's usage location, first page of free numbers.
      const first = await sut.invoke(click(typeCard, 'Next', { numberType: 'callingPlan' }));
      expect(first).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD } });
      const page1 = bodyOf(first);
      expect(cardTexts(page1).slice(0, 6)).toEqual([
        'Calling Plan number for aa-afterhours@contoso.com',
        'Only free service numbers are listed. The number’s country must match the usage location: United States of America (US).',
        'Country',
        'Number starts with',
        '[Search]',
        'Free service numbers 1–15 of 47',
      ]);
      expect(findInput(page1, 'country')).toMatchObject({ type: 'Input.ChoiceSet', style: 'filtered', value: 'US' });
      expect(findInput(page1, 'prefix')).toMatchObject({ type: 'Input.Text', value: '', regex: '^\\+?[0-9 ().-]{0,23}$' });
      expect(findInput(page1, 'telephoneNumber')).toMatchObject({ type: 'Input.ChoiceSet', style: 'expanded' });
      expect(choicesOf(page1)).toHaveLength(15);
      expect(choicesOf(page1)[0]).toEqual({ title: `${DEMO.numbers.usToll[0]} · Redmond`, value: DEMO.numbers.usToll[0] });
      expect(choicesOf(page1).map((c) => c.value)).toEqual(US_FREE_CALLING_PLAN.slice(0, 15));
      expect(buttons(page1)).toEqual(['[Search]', '[Next page]', '[Assign selected]', '[Change type]', '[Cancel]']);
      // Paging carries ids and filter values only.
      expect(button(page1, 'Next page')).toEqual({ verb: 'searchNumbers', data: { accountId, numberType: 'callingPlan', country: 'US', prefix: '', offset: 15 } });

      const page2 = bodyOf(await sut.invoke(click(page1, 'Next page')));
      expect(cardTexts(page2)).toContain('Free service numbers 16–30 of 47');
      expect(choicesOf(page2).map((c) => c.value)).toEqual(US_FREE_CALLING_PLAN.slice(15, 30));
      expect(buttons(page2)).toEqual(['[Search]', '[Previous page]', '[Next page]', '[Assign selected]', '[Change type]', '[Cancel]']);
      expect(button(page2, 'Previous page').data).toMatchObject({ offset: 0 });

      const wanted = choicesOf(page2)[3]!.value;
      const before = await tenant();
      // Teams names the clicked message (replyToId): the answer replacing it is tracked as a card copy.
      const proposed = await sut.invoke({ ...click(page2, 'Assign selected', { telephoneNumber: wanted }), replyToId: 'number-picker' });

      // The plan card (Confirm / Cancel), exactly as the plan view renders it; nothing changed yet.
      const planId = planIdOf(bodyOf(proposed));
      const plan = (await app.plans.get(planId))!;
      expect(plan).toMatchObject({ kind: 'assignNumber', status: 'awaitingConfirmation', account: { id: accountId, userPrincipalName: US_UPN } });
      // The whole answer is the plan card as the plan view renders it (Refresh on that card shows the same card).
      const cardId = /"cardId":"([0-9a-f-]{36})"/.exec(JSON.stringify(bodyOf(proposed)))![1];
      expect(proposed).toEqual(await sut.invoke(execute('refreshPlan', { planId, cardId })));
      expect(proposed).toEqual({ status: 200, body: { statusCode: 200, type: CARD, value: expect.objectContaining({ type: 'AdaptiveCard', version: '1.5' }) } });
      expect(cardTexts(bodyOf(proposed))).toEqual(
        expect.arrayContaining([
          'Assign a number to aa-afterhours@contoso.com',
          'Nothing has changed yet. Confirm to run these steps.',
          `○ 2. Assign ${wanted} (Calling Plan)`,
          '[Confirm]',
          '[Cancel]',
        ]),
      );
      expect(await tenant()).toEqual(before);

      const confirmed = await sut.invoke(click(bodyOf(proposed), 'Confirm'));
      expect(cardTexts(bodyOf(confirmed)).slice(0, 2)).toEqual(['Assign a number to aa-afterhours@contoso.com', 'Done.']);
      expect(await app.directory.getPhoneNumber(wanted)).toMatchObject({
        numberType: 'callingPlan',
        assignmentStatus: 'voiceApplicationAssigned',
        assignmentTargetId: accountId,
        activationState: 'activated',
      });
      expect(await app.directory.getAccount(accountId)).toMatchObject({ phoneNumber: wanted });
      const audit = (await app.audit.readAll()).filter((e) => e.requestId === planId);
      expect(audit.map((e) => [e.action, e.target, e.outcome, e.actor.aadObjectId])).toEqual([
        ['plan.assignNumber', US_UPN, 'requested', ADMIN.aadObjectId],
        ['plan.confirm', US_UPN, 'succeeded', ADMIN.aadObjectId],
        ['number.assign', US_UPN, 'succeeded', ADMIN.aadObjectId],
        ['plan.assignNumber', US_UPN, 'succeeded', ADMIN.aadObjectId],
      ]);
      expect(audit[2]!.detail).toEqual({ telephoneNumber: wanted, numberType: 'callingPlan' });

      // The number is gone from the search, and the account now answers with its number.
      const again = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'US', prefix: wanted.slice(1) })));
      expect(cardTexts(again)[0]).toBe('Phone number of aa-afterhours@contoso.com');
    });

    it('searches Operator Connect numbers of the usage location for a French account and proposes one', async () => {
      const typeCard = await sut.card(message('number cq-support-fr'));
      const search = bodyOf(await sut.invoke(click(typeCard, 'Next', { numberType: 'operatorConnect' })));
      expect(cardTexts(search)[0]).toBe('Operator Connect number for cq-support-fr@contoso.com');
      expect(choicesOf(search)).toEqual(DEMO.numbers.frOperatorConnect.map((n) => ({ title: `${n} · Paris`, value: n })));
      const proposed = bodyOf(await sut.invoke(click(search, 'Assign selected', { telephoneNumber: DEMO.numbers.frOperatorConnect[1] })));
      expect(cardTexts(proposed)).toContain(`○ 2. Assign ${DEMO.numbers.frOperatorConnect[1]} (Operator Connect)`);
    });

    it.each([
      ['Calling Plan, US', 'callingPlan', 'US', US_FREE_CALLING_PLAN],
      ['Calling Plan, France', 'callingPlan', 'FR', [...DEMO.numbers.frToll, DEMO.numbers.frTollFree].sort()],
      ['Operator Connect, US', 'operatorConnect', 'US', DEMO.numbers.usOperatorConnect],
      ['Operator Connect, France', 'operatorConnect', 'FR', DEMO.numbers.frOperatorConnect],
      // "Any country" is the usage location's: no other country's number can go to the account (F4).
      ['Calling Plan, no country given', 'callingPlan', '', US_FREE_CALLING_PLAN],
    ])('offers only free service numbers, page by page (%s)', async (_case, numberType, country, expected) => {
      // Numbers of a country go to accounts of that usage location (F4): France is searched for a French account.
      const accountId = country === 'FR' ? DEMO.accounts.supportFr.id : await createUsAccount();
      let card = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType, country, prefix: '' })));
      const offered: string[] = [];
      for (;;) {
        expect(choicesOf(card).length).toBeLessThanOrEqual(15);
        offered.push(...choicesOf(card).map((c) => c.value));
        if (!buttons(card).includes('[Next page]')) break;
        card = bodyOf(await sut.invoke(click(card, 'Next page')));
      }
      expect(offered).toEqual([...expected]);
      expect(offered.filter((n) => NEVER_OFFERED.includes(n))).toEqual([]);
    });

    it('labels toll-free numbers; a search with no country is one of the usage location', async () => {
      const accountId = await createUsAccount();
      const tollFree = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'US', prefix: '+1 855' })));
      expect(findInput(tollFree, 'prefix')?.value).toBe('1855');
      expect(choicesOf(tollFree)).toEqual(DEMO.numbers.usTollFree.map((n) => ({ title: `${n} · Redmond · toll-free`, value: n })));
      const anywhere = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: '', prefix: '' })));
      expect(findInput(anywhere, 'country')?.value).toBe('US');
      expect(choicesOf(anywhere).every((c) => c.value.startsWith('+1'))).toBe(true);
      const french = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: '', prefix: '33' })));
      expect(choicesOf(french)).toEqual([]);
    });

    it.each([
      ['a prefix that matches nothing', { country: 'US', prefix: '999' }, 'No free Calling Plan service numbers match this search. Widen the search: try a shorter prefix, or clear it.'],
      [
        'a country without numbers',
        { country: 'DE', prefix: '' },
        'No free Calling Plan service numbers match this search. Widen the search: try another country or number type, or get service numbers in the Teams admin center under Voice › Phone numbers.',
      ],
    ])('says so plainly when %s, and how to widen the search', async (_case, filter, text) => {
      const accountId = await createUsAccount();
      // A German account for the German search (a number's country must match the usage location: F4).
      if (filter.country === 'DE') await app.directory.setUsageLocation(accountId, 'DE');
      const card = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', ...filter })));
      expect(cardTexts(card)).toContain(text);
      expect(findInput(card, 'telephoneNumber')).toBeUndefined();
      expect(buttons(card)).toEqual(['[Search]', '[Change type]', '[Cancel]']);
    });

    it('reads a prefix written as admins write numbers ("+1 (425) 555-10")', async () => {
      const accountId = await createUsAccount();
      const card = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'US', prefix: '+1 (425) 555-10' })));
      expect(findInput(card, 'prefix')?.value).toBe('142555510');
      expect(choicesOf(card).length).toBeGreaterThan(0);
      expect(choicesOf(card).every((c) => c.value.startsWith('+142555510'))).toBe(true);
    });

    it('refuses a number for a licensed account without a usage location, saying how to set one (F4, F8)', async () => {
      const before = await tenant();
      expect(cardTexts(await sut.card(message('number cq-events')))).toEqual([
        'Not done',
        'cq-events@contoso.com has no usage location, and a number\'s country must match it. Set one first: "doctor" offers it, or the Microsoft 365 admin center.',
      ]);
      expect(await tenant()).toEqual(before);
    });

    it('refuses a search of another country than the usage location next to the country, before any number is picked', async () => {
      const accountId = await createUsAccount();
      const before = await tenant();
      const card = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'fr', prefix: '' })));
      expect(after(card, 'Number starts with')).toBe(
        "Numbers of France (FR) cannot go to this account: a number's country must match its usage location, United States of America (US). Search United States of America (US), or change its usage location in the Microsoft 365 admin center first.",
      );
      expect(findInput(card, 'telephoneNumber')).toBeUndefined();
      expect(await tenant()).toEqual(before);
    });

    it.each([
      ['a prefix with letters', { country: 'US', prefix: '14x5' }, 'Number starts with', '"14x5" is not a number prefix: type digits only (the "+" is optional), e.g. 1425.'],
      ['a country that does not exist', { country: 'ZZ', prefix: '' }, 'Number starts with', '"ZZ" is not a country. Choose one from the list, or leave it empty for any country.'],
    ])('refuses %s next to the filters, keeps what was typed and searches nothing', async (_case, filter, lastLabel, text) => {
      const accountId = await createUsAccount();
      const card = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', ...filter })));
      expect(after(card, lastLabel)).toBe(text);
      expect(findInput(card, 'prefix')?.value).toBe(filter.prefix);
      expect(findInput(card, 'country')?.value).toBe(filter.country);
      expect(findInput(card, 'telephoneNumber')).toBeUndefined();
    });

    it('starts over at the first page when a stale page is past the end', async () => {
      const accountId = await createUsAccount();
      const card = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'US', prefix: '', offset: 900 })));
      expect(cardTexts(card)).toContain('Free service numbers 1–15 of 47');
    });
  });

  describe('Direct Routing: the number is typed in', () => {
    it('type card → number card → pick "+33 …;ext=" → plan card → confirm: assigned to the French account', async () => {
      const accountId = DEMO.accounts.supportFr.id;
      const typeCard = await sut.card(message('number cq-support-fr'));
      const numberCard = bodyOf(await sut.invoke(click(typeCard, 'Next', { numberType: 'directRouting' })));
      expect(cardTexts(numberCard)).toEqual([
        'Direct Routing number for cq-support-fr@contoso.com',
        'Type the number your Session Border Controller routes to this account, in E.164 form (+, country code, number); an extension may follow as ;ext=digits. Its country must match the usage location: France (FR).',
        'Phone number',
        '[Assign]',
        '[Change type]',
        '[Cancel]',
      ]);
      expect(findInput(numberCard, 'telephoneNumber')).toMatchObject({
        type: 'Input.Text',
        isRequired: true,
        // A number of the usage location's country (libphonenumber-js's example for FR).
        placeholder: '+33612345678 or +33612345678;ext=12',
        regex: '^\\+[1-9][0-9 .()-]{1,24}(;ext=[0-9]{1,10})?$',
        value: '',
      });
      expect(button(numberCard, 'Assign')).toEqual({ verb: 'pickNumber', data: { accountId, numberType: 'directRouting' } });

      const proposed = bodyOf(await sut.invoke(click(numberCard, 'Assign', { telephoneNumber: '+33 1 70 00 09 99;ext=12' })));
      expect(cardTexts(proposed)).toContain('○ 2. Assign +33170000999;ext=12 (Direct Routing)');
      expect(await app.directory.getPhoneNumber('+33170000999;ext=12')).toBeNull();

      const done = bodyOf(await sut.invoke(click(proposed, 'Confirm')));
      expect(cardTexts(done)[1]).toBe('Done.');
      expect(await app.directory.getPhoneNumber('+33170000999;ext=12')).toMatchObject({ numberType: 'directRouting', assignmentTargetId: accountId, activationState: 'activated' });
      expect(await app.directory.getAccount(accountId)).toMatchObject({ phoneNumber: '+33170000999;ext=12' });
    });

    // Review: +44 is shared by the UK with Jersey, Guernsey and the Isle of Man. A Jersey account's own
    // number (and the card's example) was refused as "a United Kingdom (GB) number".
    it('takes a Jersey number on +44 for a Jersey account, shows one as the example, and still refuses a UK one', async () => {
      await sut.invoke(execute('addAccount', { ...US_FORM, username: 'aa-jersey', usageLocation: 'JE' }));
      const account = (await app.directory.findAccountByUpn('aa-jersey@contoso.com'))!;
      expect(account).toMatchObject({ usageLocation: 'JE', assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
      const typeCard = await sut.card(message('number aa-jersey'));
      const numberCard = bodyOf(await sut.invoke(click(typeCard, 'Next', { numberType: 'directRouting' })));
      expect(findInput(numberCard, 'telephoneNumber')?.placeholder).toBe('+447797712345 or +447797712345;ext=12');

      const uk = bodyOf(await sut.invoke(click(numberCard, 'Assign', { telephoneNumber: '+44 20 7123 4567' })));
      expect(after(uk, 'Phone number')).toBe('+442071234567 is a United Kingdom (GB) number but the usage location of aa-jersey@contoso.com is Jersey (JE). They must match.');
      const proposed = bodyOf(await sut.invoke(click(numberCard, 'Assign', { telephoneNumber: '+44 1534 123456' })));
      expect(cardTexts(proposed)).toContain('○ 2. Assign +441534123456 (Direct Routing)');
    });
  });

  describe('every refusal of DOMAIN.md "Numbers" says why and changes nothing', () => {
    type Where = 'search' | 'direct' | 'assigned' | 'notReady';
    const cases: [string, string, string, string, string, Where][] = [
      // [case, account, numberType, picked or typed, reason text, card]
      ['a user (subscriber) number, from a crafted card (F5)', 'us', 'callingPlan', DEMO.numbers.usUserFree[0], `${DEMO.numbers.usUserFree[0]} is a user (subscriber) number. Only service numbers can go on a resource account.`, 'search'],
      ['a number assigned elsewhere, naming the holder (F10)', 'us', 'callingPlan', DEMO.numbers.sales, `${DEMO.numbers.sales} is already assigned to cq-sales@contoso.com.`, 'search'],
      ['a number not activated yet', 'us', 'callingPlan', DEMO.numbers.notActivated, `${DEMO.numbers.notActivated} is not ready for assignment yet: the tenant reports it as assignmentPending.`, 'search'],
      ['a blocked number', 'us', 'callingPlan', DEMO.numbers.blocked, `${DEMO.numbers.blocked} is blocked from assignment.`, 'search'],
      ['an Operator Connect number picked as Calling Plan', 'us', 'callingPlan', DEMO.numbers.usOperatorConnect[0], `${DEMO.numbers.usOperatorConnect[0]} is of type Operator Connect, not Calling Plan.`, 'search'],
      [
        'a French number for a US account, naming both countries (F4)',
        'us',
        'callingPlan',
        DEMO.numbers.frToll[0],
        `${DEMO.numbers.frToll[0]} is a France (FR) number but the usage location of ${US_UPN} is United States of America (US). They must match.`,
        'search',
      ],
      ['a number the tenant does not own', 'us', 'operatorConnect', '+14255559999', '+14255559999 is not a number of this tenant.', 'search'],
      ['an extension on a Calling Plan number', 'us', 'callingPlan', `${DEMO.numbers.usToll[0]};ext=12`, 'An extension (;ext=) is only allowed for Direct Routing numbers.', 'search'],
      ['a number that is not E.164', 'us', 'callingPlan', '+0142555', '"+0142555" is not a phone number in E.164 form (+, country code, up to 15 digits, no leading 0).', 'search'],
      ['no number picked', 'us', 'callingPlan', '', 'Choose a number from the list first.', 'search'],
      ['a typed number that is not E.164', 'us', 'directRouting', '0033 1 70 00 09 99', '"0033 1 70 00 09 99" is not a phone number in E.164 form (+, country code, up to 15 digits, no leading 0).', 'direct'],
      ['a typed number with 16 digits', 'us', 'directRouting', '+1425555010112345', '"+1425555010112345" is not a phone number in E.164 form (+, country code, up to 15 digits, no leading 0).', 'direct'],
      ['a bad extension', 'us', 'directRouting', '+14255559999;ext=12a', '"+14255559999;ext=12a" is not a phone number in E.164 form (+, country code, up to 15 digits, no leading 0).', 'direct'],
      [
        'a Direct Routing number of another country (F4)',
        'us',
        'directRouting',
        '+33170000999',
        `+33170000999 is a France (FR) number but the usage location of ${US_UPN} is United States of America (US). They must match.`,
        'direct',
      ],
      ['nothing typed', 'us', 'directRouting', '  ', 'Type the phone number.', 'direct'],
      ['an unlicensed account (F3)', 'paris', 'callingPlan', DEMO.numbers.frToll[0], 'aa-paris@contoso.com has no Teams Phone license yet; assign a license before a number.', 'notReady'],
      ['an account with neither license nor usage location', 'helpdesk', 'directRouting', '+14255559999', 'cq-helpdesk@contoso.onmicrosoft.com has no Teams Phone license yet; assign a license before a number.', 'notReady'],
      ['an account that already has a number', 'mainLine', 'callingPlan', DEMO.numbers.usToll[0], `aa-main@contoso.com already has ${DEMO.numbers.mainLine}. A resource account has one number; unassign it first.`, 'assigned'],
    ];

    it.each(cases)('refuses %s', async (_case, who, numberType, picked, text, where) => {
      const accountId = who === 'us' ? await createUsAccount() : DEMO.accounts[who as keyof typeof DEMO.accounts].id;
      const before = await tenant();
      const auditedBefore = await assignPlansAudited();
      const propose = jest.spyOn(app.plans, 'propose');

      const response = await sut.invoke(execute('pickNumber', { accountId, numberType, country: 'US', prefix: '', offset: 0, telephoneNumber: picked }));

      expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD, value: { type: 'AdaptiveCard', version: '1.5' } } });
      const card = bodyOf(response);
      switch (where) {
        case 'search':
          // The same search card: the reason under the list (or where the list would be), the pick and filters kept.
          expect(cardTexts(card)[2]).toBe('Nothing was assigned: see below.');
          expect(cardTexts(card)).toContain(text);
          expect(findInput(card, 'country')?.value).toBe('US');
          if (picked) expect(findInput(card, 'telephoneNumber')?.value).toBe(picked);
          expect(after(card, 'Pick a number')).toBe(text);
          break;
        case 'direct':
          expect(after(card, 'Phone number')).toBe(text);
          // A US account is shown a US number as the example, not a French one (left alone in stop 25).
          expect(findInput(card, 'telephoneNumber')?.placeholder).toBe('+12015550123 or +12015550123;ext=12');
          expect(findInput(card, 'telephoneNumber')?.value).toBe(picked);
          break;
        case 'assigned':
          expect(cardTexts(card).slice(0, 2)).toEqual([expect.stringMatching(/^Phone number of /), text]);
          break;
        case 'notReady':
          expect(cardTexts(card).slice(0, 2)).toEqual([expect.stringMatching(/^No phone number for /), text]);
          break;
      }
      expect(await tenant()).toEqual(before);
      expect(propose).not.toHaveBeenCalled();
      expect(await assignPlansAudited()).toEqual(auditedBefore);
    });

    it('never offers a user number, so a crafted pick of one is the only way in, and it is refused', async () => {
      const accountId = await createUsAccount();
      const search = bodyOf(await sut.invoke(execute('searchNumbers', { accountId, numberType: 'callingPlan', country: 'US', prefix: '142555502' })));
      expect(cardTexts(search)).toContain('No free Calling Plan service numbers match this search. Widen the search: try a shorter prefix, or clear it.');
      const refused = bodyOf(await sut.invoke(execute('pickNumber', { accountId, numberType: 'callingPlan', country: 'US', prefix: '142555502', telephoneNumber: DEMO.numbers.usUserFree[0] })));
      expect(cardTexts(refused)).toContain(`${DEMO.numbers.usUserFree[0]} is a user (subscriber) number. Only service numbers can go on a resource account.`);
    });
  });

  describe('roles and payloads', () => {
    it.each([
      ['the command', message('number cq-support-fr', { from: APPROVER })],
      ['startNumber', execute('startNumber', { accountId: DEMO.accounts.supportFr.id }, { from: APPROVER })],
      ['chooseNumberType', execute('chooseNumberType', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan' }, { from: APPROVER })],
      ['searchNumbers', execute('searchNumbers', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan', country: 'FR' }, { from: APPROVER })],
      ['pickNumber', execute('pickNumber', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan', telephoneNumber: DEMO.numbers.frToll[0] }, { from: APPROVER })],
      ['pickNumber from someone with no role', execute('pickNumber', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan', telephoneNumber: DEMO.numbers.frToll[0] }, { from: STRANGER })],
    ])('requires an admin: %s', async (_case, activity) => {
      const before = await tenant();
      const replies = await sut.send(activity);
      const answer = replies.find((r) => r.type === 'invokeResponse');
      const card = answer ? (answer.value as { body: { value: Card } }).body.value : (replies[0]!.attachments![0]!.content as Card);
      expect(cardTexts(card)).toEqual(['Not done', expect.stringMatching(/^Only Switchboard admins can make changes\./)]);
      expect(await tenant()).toEqual(before);
      expect(await assignPlansAudited()).toEqual([]);
    });

    it.each([
      ['an unknown number type', execute('pickNumber', { accountId: DEMO.accounts.supportFr.id, numberType: 'fax', telephoneNumber: '+33170000100' }), 'numberType: Invalid option: expected one of "callingPlan"|"operatorConnect"|"directRouting"'],
      ['Direct Routing sent to the search', execute('searchNumbers', { accountId: DEMO.accounts.supportFr.id, numberType: 'directRouting' }), 'numberType: Invalid option: expected one of "callingPlan"|"operatorConnect"'],
      ['a 10,000-character number', execute('pickNumber', { accountId: DEMO.accounts.supportFr.id, numberType: 'directRouting', telephoneNumber: '+3'.repeat(5_000) }), 'telephoneNumber: Too big: expected string to have <=100 characters'],
      ['a negative page', execute('searchNumbers', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan', offset: -15 }), 'offset: Too small: expected number to be >=0'],
      ['no account id', execute('startNumber', {}), 'accountId: Invalid input: expected string, received undefined'],
      ['an object where a prefix belongs', execute('searchNumbers', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan', prefix: { $gt: '' } }), 'prefix: Invalid input: expected string, received object'],
    ])('refuses %s as malformed and changes nothing', async (_case, activity, detail) => {
      const before = await tenant();
      const response = await sut.invoke(activity);
      expect(cardTexts(bodyOf(response))).toEqual(['Not done', `This card sent data I cannot use (${detail}). Nothing was changed.`]);
      expect(await tenant()).toEqual(before);
    });

    it('asks again for a type when none was chosen', async () => {
      const card = bodyOf(await sut.invoke(execute('chooseNumberType', { accountId: DEMO.accounts.supportFr.id })));
      expect(after(card, 'Number type')).toBe('Choose a number type.');
    });

    it('handles the Action.Submit fallback of "Assign selected" through the same path', async () => {
      const search = bodyOf(await sut.invoke(execute('chooseNumberType', { accountId: DEMO.accounts.supportFr.id, numberType: 'callingPlan' })));
      expect(JSON.stringify(search)).toContain(
        `"fallback":{"type":"Action.Submit","title":"Assign selected","data":{"accountId":"${DEMO.accounts.supportFr.id}","numberType":"callingPlan","country":"FR","prefix":"","offset":0,"verb":"pickNumber"}}`,
      );
      const replies = await sut.send(submit('pickNumber', { ...button(search, 'Assign selected').data, telephoneNumber: DEMO.numbers.frToll[0] }));
      expect(replies).toHaveLength(1);
      expect(cardTexts(replies[0]!.attachments![0]!.content)).toContain(`○ 2. Assign ${DEMO.numbers.frToll[0]} (Calling Plan)`);
    });
  });
});

describe('assign a number over real HTTP (restify, loopback)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    server = await app.start();
  });

  afterEach(async () => {
    await server.stop();
    await app.close();
    await dir.remove();
  });

  async function post(body: unknown): Promise<{ status: number; body: { statusCode: number; type: string; value: Card } }> {
    const response = await fetch(`${server.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { statusCode: number; type: string; value: Card } };
  }

  it('refuses a blocked number in the HTTP body, then proposes the plan for a free one', async () => {
    const accountId = DEMO.accounts.supportFr.id;
    const before = await app.directory.listPhoneNumbers({ offset: 0, limit: 1000 });

    const refused = await post(execute('pickNumber', { accountId, numberType: 'callingPlan', country: 'FR', prefix: '', telephoneNumber: DEMO.numbers.blocked }));
    expect(refused).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD } });
    expect(cardTexts(refused.body.value)).toContain(`${DEMO.numbers.blocked} is blocked from assignment.`);
    expect(await app.directory.listPhoneNumbers({ offset: 0, limit: 1000 })).toEqual(before);

    const proposed = await post(execute('pickNumber', { accountId, numberType: 'callingPlan', country: 'FR', prefix: '', telephoneNumber: DEMO.numbers.frToll[0] }));
    expect(proposed).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD, value: { type: 'AdaptiveCard', version: '1.5' } } });
    const texts = cardTexts(proposed.body.value);
    expect(texts.slice(0, 2)).toEqual(['Assign a number to cq-support-fr@contoso.com', 'Nothing has changed yet. Confirm to run these steps.']);
    expect(texts).toContain(`○ 2. Assign ${DEMO.numbers.frToll[0]} (Calling Plan)`);
    expect(await app.plans.get(planIdOf(proposed.body.value))).toMatchObject({ kind: 'assignNumber', status: 'awaitingConfirmation', account: { id: accountId } });
    expect(await app.directory.listPhoneNumbers({ offset: 0, limit: 1000 })).toEqual(before);
  });
});
