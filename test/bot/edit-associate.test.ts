import type { App } from '../../src/app';
import { commands as registeredCommands } from '../../src/bot/commands';
import { DEMO } from '../../src/backends/simulated/seed';
import { associateFormCard } from '../../src/cards/associateForm';
import { editAccountFormCard } from '../../src/cards/editAccountForm';
import { planCard } from '../../src/cards/planCard';
import { refuse, type Refusal } from '../../src/provisioning/result';
import { testApp, tempDir } from '../helpers/app';
import { execute, message, submit } from '../helpers/activities';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';

type Card = Record<string, unknown>;
const CARD = 'application/vnd.microsoft.card.adaptive';
const { mainLine, paris, helpdesk, sales } = DEMO.accounts;

const cardResponse = (value: unknown) => ({ status: 200, body: { statusCode: 200, type: CARD, value } });
const valueOf = (response: { body?: unknown }): Card => (response.body as { value: Card }).value;

/** The Action.Execute buttons of a card, as [verb, data]. */
function actions(node: unknown, out: [string, unknown][] = []): [string, unknown][] {
  if (Array.isArray(node)) node.forEach((n) => actions(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'Action.Execute' && typeof o.verb === 'string') out.push([o.verb, o.data]);
    for (const [key, value] of Object.entries(o)) if (key !== 'fallback') actions(value, out);
  }
  return out;
}

/** The data of the one button with this verb, as a client would send it back. */
function buttonData(card: unknown, verb: string): Record<string, unknown> {
  const found = actions(card).filter(([v]) => v === verb);
  expect(found).toHaveLength(1);
  return found[0]![1] as Record<string, unknown>;
}

describe('edit and associate through the bot (TestAdapter)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    sut = new Conversation(app);
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  /** The card a finished plan shows, found through the audit trail (its requestId is the plan id). */
  async function planCardOf(action: string): Promise<Card> {
    const entry = (await app.audit.readAll()).find((e) => e.action === action);
    const plan = await app.plans.get(entry!.requestId!);
    return planCard(plan!, await app.directory.getTenantFacts(), 'en', null);
  }

  describe('edit', () => {
    it.each([
      ['"edit aa-paris"', message('edit aa-paris')],
      ['the account card\'s Edit button', execute('openEditForm', { accountId: paris.id })],
    ])('%s opens the form with the display name and the type prefilled', async (_case, activity) => {
      const replies = await sut.send(activity);
      const reply = replies.find((r) => r.type === 'invokeResponse');
      const card = reply ? valueOf(reply.value as { body?: unknown }) : (replies[0]!.attachments![0]!.content as Card);
      expect(findInput(card, 'displayName')).toMatchObject({ type: 'Input.Text', isRequired: true, maxLength: 256, value: 'Paris office' });
      expect(findInput(card, 'accountType')).toMatchObject({
        type: 'Input.ChoiceSet',
        style: 'expanded',
        value: 'autoAttendant',
        choices: [
          { title: 'Auto attendant', value: 'autoAttendant' },
          { title: 'Call queue', value: 'callQueue' },
        ],
      });
      expect(cardTexts(card)).toEqual([
        'Edit aa-paris@contoso.com',
        'Display name and type, as in the Teams admin center. The username stays as it is.',
        'Display name',
        'Resource account type',
        '[Save]',
        '[Cancel]',
      ]);
      expect(buttonData(card, 'editAccount')).toEqual({ accountId: paris.id });
    });

    it('says up front that an associated account cannot change type', async () => {
      const texts = cardTexts(await sut.card(message('edit aa-main')));
      expect(texts).toContain('Used by Main line: its type cannot change until it is removed from there.');
    });

    it.each([
      ['no username', 'edit', 'Say which account: "edit <\u2060username>", e.g. "edit aa-main" or "edit aa-main@contoso.com".'],
      ['an unknown username', 'edit nobody', 'No resource account nobody in this tenant.'],
      // Part of a username, as a new admin types it (Playground walk): the accounts it could be are offered.
      ['part of a username', 'edit reception', 'No resource account reception in this tenant. Close matches: aa-reception@contoso.com.'],
      ['part of several', 'edit aa-', 'No resource account aa- in this tenant. Close matches: aa-holidays@contoso.com, aa-kiosk@contoso.com, aa-lyon@contoso.com and 4 more; list "aa-" shows them all.'],
      // A typo: no part of it is in any name, so the usernames a letter or two away are offered.
      ['a typo', 'edit recepton', 'No resource account recepton in this tenant. Close matches: aa-reception@contoso.com.'],
      ['a typo with its prefix', 'edit cq-salse@contoso.com', 'No resource account cq-salse@contoso.com in this tenant. Close matches: cq-sales@contoso.com.'],
      ['a typo too far from any name', 'edit recptn', 'No resource account recptn in this tenant.'],
      ['a short word, which would match too much', 'edit aa-x', 'No resource account aa-x in this tenant.'],
    ])('"edit" with %s says what is wrong', async (_case, text, reason) => {
      expect(cardTexts(await sut.card(message(text)))).toEqual(['Not done', reason]);
    });

    it('names the close matches it leaves out by count, and the list that shows them all, in the reader\'s language', async () => {
      // "(+4)" said neither what it counted nor how to see them.
      const upns = (card: unknown) => cardTexts(card).filter((t) => /^\S+@contoso\.(com|onmicrosoft\.com)$/.test(t));
      expect(upns(await sut.card(message('list "aa-"')))).toHaveLength(7);
      expect(cardTexts(await sut.card(message('edit aa-', { locale: 'fr-FR' })))).toEqual([
        'Non effectué',
        'Aucun compte de ressources aa- dans ce client. Comptes proches\u00a0: aa-holidays@contoso.com, aa-kiosk@contoso.com, aa-lyon@contoso.com et 4 autres\u00a0; list "aa-" les montre tous.',
      ]);
      // A filter word is offered quoted, so that the list searches it (review: "list cq" lists the call
      // queues, leaving out cq-escalations, an auto attendant, and "list aa" adds it).
      const cq = cardTexts(await sut.card(message('edit cq')))[1]!;
      expect(cq).toMatch(/^No resource account cq in this tenant\. Close matches: (\S+@\S+, ){2}\S+@\S+ and (\d+) more; list "cq" shows them all\.$/);
      const offered = [...cq.matchAll(/(cq-[^\s,]+)/g)].map((m) => m[1]);
      const all = upns(await sut.card(message('list "cq"')));
      expect(all).toHaveLength(3 + Number(/and (\d+) more/.exec(cq)![1]));
      expect(all).toEqual(expect.arrayContaining(offered));
    });

    it('shows a fourth close match rather than "and 1 more"', async () => {
      await app.directory.createAccount({ displayName: 'Zeta', userPrincipalName: 'aa-zeta-one@contoso.com', accountType: 'autoAttendant' });
      await app.directory.createAccount({ displayName: 'Zeta', userPrincipalName: 'aa-zeta-two@contoso.com', accountType: 'autoAttendant' });
      await app.directory.createAccount({ displayName: 'Zeta', userPrincipalName: 'aa-zeta-three@contoso.com', accountType: 'autoAttendant' });
      await app.directory.createAccount({ displayName: 'Zeta', userPrincipalName: 'aa-zeta-four@contoso.com', accountType: 'autoAttendant' });
      expect(cardTexts(await sut.card(message('edit zeta')))[1]).toBe(
        'No resource account zeta in this tenant. Close matches: aa-zeta-four@contoso.com, aa-zeta-one@contoso.com, aa-zeta-three@contoso.com, aa-zeta-two@contoso.com.',
      );
    });

    it('renames the account: the tenant, the audit log and the answer show it', async () => {
      const response = await sut.invoke(execute('editAccount', { accountId: paris.id, displayName: '  Paris HQ ', accountType: 'autoAttendant' }));

      expect(await app.directory.getAccount(paris.id)).toMatchObject({ displayName: 'Paris HQ', accountType: 'autoAttendant' });
      expect(response).toEqual(cardResponse(await planCardOf('account.update')));
      expect(cardTexts(valueOf(response))).toEqual(expect.arrayContaining(['Edit aa-paris@contoso.com', 'Done.', '✓ 1. Rename it to "Paris HQ"', '[Show account]']));
      const audit = await app.audit.readAll();
      expect(audit.map((e) => [e.action, e.target, e.outcome])).toEqual([
        ['plan.editAccount', paris.upn, 'requested'],
        ['account.update', paris.upn, 'succeeded'],
        ['plan.editAccount', paris.upn, 'succeeded'],
      ]);
      expect(audit[1]).toMatchObject({ actor: { aadObjectId: ADMIN.aadObjectId }, detail: { displayName: 'Paris HQ' } });
    });

    it('refuses a type change while the account serves an AA, says which, offers the way out, and changes nothing', async () => {
      const before = await app.directory.getAccount(mainLine.id);
      const typed = { displayName: 'Main line (new)', accountType: 'callQueue' };

      const response = await sut.invoke(execute('editAccount', { accountId: mainLine.id, ...typed }));

      const reason = refuse('EDIT_TYPE_WHILE_ASSOCIATED', { upn: mainLine.upn, voiceApp: 'Main line' }, 'accountType');
      expect(response).toEqual(cardResponse(editAccountFormCard(before!, 'en', typed, [reason])));
      const card = valueOf(response);
      const texts = cardTexts(card);
      expect(texts).toEqual([
        'Edit aa-main@contoso.com',
        'Display name and type, as in the Teams admin center. The username stays as it is.',
        'Please fix the fields below; nothing was changed.',
        'Display name',
        'Resource account type',
        'aa-main@contoso.com is used by Main line. Remove that association before changing the type.',
        '[Remove from AA / CQ]',
        '[Save]',
        '[Cancel]',
      ]);
      expect(findInput(card, 'displayName')?.value).toBe('Main line (new)');
      expect(findInput(card, 'accountType')?.value).toBe('callQueue');
      expect(buttonData(card, 'requestDissociate')).toEqual({ accountId: mainLine.id });
      expect(await app.directory.getAccount(mainLine.id)).toEqual(before);
      expect((await app.audit.readAll()).map((e) => [e.action, e.outcome, e.reason])).toEqual([['account.update', 'refused', 'EDIT_TYPE_WHILE_ASSOCIATED']]);
    });

    it('changes the type once the association is removed (Remove → Confirm → Save again)', async () => {
      const refused = valueOf(await sut.invoke(execute('editAccount', { accountId: mainLine.id, displayName: 'Main line', accountType: 'callQueue' })));

      const proposal = valueOf(await sut.invoke(execute('requestDissociate', buttonData(refused, 'requestDissociate'))));
      expect(cardTexts(proposal)).toEqual(expect.arrayContaining(['Remove the associations of aa-main@contoso.com', '○ 1. Remove it from Main line', '[Confirm]']));
      const done = valueOf(await sut.invoke(execute('confirmPlan', buttonData(proposal, 'confirmPlan'))));
      expect(cardTexts(done)).toContain('Done.');
      expect(await app.directory.getAccount(mainLine.id)).toMatchObject({ associations: [], accountType: 'autoAttendant' });

      const changed = await sut.invoke(execute('editAccount', { accountId: mainLine.id, displayName: 'Main line', accountType: 'callQueue' }));
      expect(cardTexts(valueOf(changed))).toEqual(expect.arrayContaining(['Edit aa-main@contoso.com', 'Done.', '✓ 1. Change its type to Call queue']));
      expect(await app.directory.getAccount(mainLine.id)).toMatchObject({ accountType: 'callQueue', displayName: 'Main line' });
    });

    it.each<[string, { displayName: string; accountType: string }, Refusal, string]>([
      ['an empty display name', { displayName: '   ', accountType: 'autoAttendant' }, refuse('DISPLAY_NAME_REQUIRED', {}, 'displayName'), 'Enter a display name.'],
      [
        'a display name with a tab',
        { displayName: 'Paris\toffice', accountType: 'autoAttendant' },
        refuse('DISPLAY_NAME_CONTROL_CHARACTERS', {}, 'displayName'),
        'The display name cannot contain line breaks, tabs or other control characters.',
      ],
      [
        'a 257-character display name',
        { displayName: 'P'.repeat(257), accountType: 'autoAttendant' },
        refuse('DISPLAY_NAME_TOO_LONG', { max: 256, length: 257 }, 'displayName'),
        'The display name has 257 characters; at most 256 are allowed.',
      ],
      [
        'a display name of only invisible characters',
        { displayName: '\u200b\u3164\u2800', accountType: 'autoAttendant' },
        refuse('DISPLAY_NAME_INVISIBLE', {}, 'displayName'),
        'The display name has no visible character (only spaces or invisible characters); type a name people can read.',
      ],
      ['nothing changed', { displayName: 'Paris office', accountType: 'autoAttendant' }, refuse('EDIT_NOTHING_TO_CHANGE', {}, 'displayName'), 'Nothing changed.'],
      ['a crafted type', { displayName: 'Paris office', accountType: 'fax' }, refuse('ACCOUNT_TYPE_INVALID', { value: 'fax' }, 'accountType'), 'Choose Auto attendant or Call queue.'],
    ])('refuses %s next to its field, keeps the values and changes nothing', async (_case, typed, reason, text) => {
      const before = await app.directory.getAccount(paris.id);
      const response = await sut.invoke(execute('editAccount', { accountId: paris.id, ...typed }));
      expect(response).toEqual(cardResponse(editAccountFormCard(before!, 'en', typed, [reason])));
      const card = valueOf(response);
      const texts = cardTexts(card);
      const label = reason.field === 'displayName' ? 'Display name' : 'Resource account type';
      expect(texts[texts.indexOf(label) + 1]).toBe(text);
      expect(findInput(card, 'displayName')?.value).toBe(typed.displayName);
      expect(findInput(card, 'accountType')?.value).toBe(typed.accountType);
      expect(await app.directory.getAccount(paris.id)).toEqual(before);
    });

    // A name that reads as blank, made elsewhere (Entra ID takes it), is refused only as a new name.
    it('changes the type of an account whose name already reads as blank, keeping the name; another blank name is refused', async () => {
      await app.directory.updateAccount(paris.id, { displayName: '\u3164' });
      const refused = await sut.invoke(execute('editAccount', { accountId: paris.id, displayName: '\u2800', accountType: 'callQueue' }));
      expect(refused).toEqual(cardResponse(editAccountFormCard((await app.directory.getAccount(paris.id))!, 'en', { displayName: '\u2800', accountType: 'callQueue' }, [refuse('DISPLAY_NAME_INVISIBLE', {}, 'displayName')])));
      expect(await app.directory.getAccount(paris.id)).toMatchObject({ displayName: '\u3164', accountType: 'autoAttendant' });
      const changed = await sut.invoke(execute('editAccount', { accountId: paris.id, displayName: '\u3164', accountType: 'callQueue' }));
      expect(cardTexts(valueOf(changed))).toEqual(expect.arrayContaining(['Done.']));
      expect(await app.directory.getAccount(paris.id)).toMatchObject({ displayName: '\u3164', accountType: 'callQueue' });
    });

    it('works through the Action.Submit fallback too (the answer is a new message)', async () => {
      const replies = await sut.send(submit('editAccount', { accountId: helpdesk.id, displayName: 'Help desk', accountType: 'callQueue' }));
      expect(cardTexts(replies[0]!.attachments![0]!.content)).toEqual(expect.arrayContaining(['Done.']));
      expect(await app.directory.getAccount(helpdesk.id)).toMatchObject({ displayName: 'Help desk' });
    });

    it.each([
      ['the form', execute('openEditForm', { accountId: paris.id }, { from: APPROVER })],
      ['a change', execute('editAccount', { accountId: paris.id, displayName: 'X', accountType: 'autoAttendant' }, { from: APPROVER })],
    ])('refuses %s to a non-admin', async (_case, activity) => {
      expect(cardTexts(valueOf(await sut.invoke(activity)))).toEqual([
        'Not done',
        `Only Switchboard admins can make changes. Ask an admin to add your account (${APPROVER.aadObjectId}) to the admin list.`,
      ]);
      expect(await app.directory.getAccount(paris.id)).toMatchObject({ displayName: 'Paris office' });
    });

    it.each([
      ['showAccount', {}],
      ['openEditForm', {}],
      ['editAccount', { displayName: 'Renamed', accountType: 'autoAttendant' }],
      ['openAssociate', {}],
      ['startNumber', {}],
      ['chooseNumberType', { numberType: 'callingPlan' }],
      ['searchNumbers', { numberType: 'callingPlan', country: '', prefix: '' }],
      ['pickNumber', { numberType: 'directRouting', telephoneNumber: '+14255550199' }],
      ['requestUnassign', {}],
      ['requestSwitch', {}],
      ['requestDissociate', {}],
      ['requestDelete', {}],
    ])('answers %s on the card of an account deleted since with what happened, not its object id', async (verb, data) => {
      const gone = await app.directory.createAccount({ displayName: 'Gone soon', userPrincipalName: 'aa-gone@contoso.com', accountType: 'autoAttendant' });
      await app.directory.deleteAccount(gone.id);
      const texts = cardTexts(valueOf(await sut.invoke(execute(verb, { accountId: gone.id, ...data }))));
      expect(texts).toEqual([
        'Not done',
        'This resource account is no longer in the tenant: it was deleted, here or in the Teams admin center. Type "list" to see the resource accounts there are.',
      ]);
    });

    it('refuses an unknown account id and an oversized payload', async () => {
      expect(cardTexts(valueOf(await sut.invoke(execute('openEditForm', { accountId: 'nope' }))))).toEqual([
        'Not done',
        'This resource account is no longer in the tenant: it was deleted, here or in the Teams admin center. Type "list" to see the resource accounts there are.',
      ]);
      expect(cardTexts(valueOf(await sut.invoke(execute('editAccount', { accountId: paris.id, displayName: 'x'.repeat(3000) }))))).toEqual([
        'Not done',
        'This card sent data I cannot use (displayName: Too big: expected string to have <=2000 characters). Nothing was changed.',
      ]);
    });
  });

  describe('associate', () => {
    it('lists only the voice applications of the account\'s own type', async () => {
      const card = await sut.card(message('associate aa-paris'));
      expect(findInput(card, 'configurationId')).toMatchObject({
        type: 'Input.ChoiceSet',
        style: 'expanded',
        isRequired: true,
        value: '',
        choices: [
          { title: 'After hours (no resource account yet)', value: DEMO.voiceApps.afterHours.configurationId },
          { title: 'Holidays', value: DEMO.voiceApps.holidays.configurationId },
          { title: 'Main line', value: DEMO.voiceApps.mainLine.configurationId },
        ],
      });
      expect(cardTexts(card)).toEqual([
        'Use aa-paris@contoso.com with an auto attendant or call queue',
        'Paris office is a resource account of type Auto attendant; only voice applications of that type are listed.',
        'Auto attendant',
        '[Use it]',
        '[Cancel]',
      ]);
      expect(buttonData(card, 'associate')).toEqual({ accountId: paris.id });
    });

    it('the account card\'s button shows the same picker; a name narrows it', async () => {
      const [apps, account] = await Promise.all([app.directory.listVoiceApplications(), app.directory.getAccount(helpdesk.id)]);
      expect(await sut.invoke(execute('openAssociate', { accountId: helpdesk.id }))).toEqual(cardResponse(associateFormCard(account!, apps, 'en')));
      const narrowed = await sut.card(message('associate cq-helpdesk support'));
      expect((findInput(narrowed, 'configurationId')?.choices as unknown[]).length).toBe(1);
      expect(cardTexts(await sut.card(message('associate cq-helpdesk nothing-like-it')))).toContain('No voice application of this type matches "nothing-like-it".');
    });

    it('says so when the tenant has no voice application of that type', async () => {
      jest.spyOn(app.directory, 'listVoiceApplications').mockResolvedValue([]);
      const card = valueOf(await sut.invoke(execute('openAssociate', { accountId: helpdesk.id })));
      expect(findInput(card, 'configurationId')).toBeUndefined();
      expect(cardTexts(card)).toEqual([
        'Use cq-helpdesk@contoso.onmicrosoft.com with an auto attendant or call queue',
        'Helpdesk is a resource account of type Call queue; only voice applications of that type are listed.',
        'This tenant has no call queue yet. Create one in the Teams admin center (Voice › Call queues), then come back.',
        '[Cancel]',
      ]);
    });

    it('keeps the card small in a tenant with many auto attendants, and says how to narrow the list', async () => {
      const many = Array.from({ length: 60 }, (_, i) => ({
        configurationId: `c1000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        configurationType: 'autoAttendant' as const,
        name: `Branch ${String(i).padStart(2, '0')}`,
        accountIds: ['x'],
      }));
      jest.spyOn(app.directory, 'listVoiceApplications').mockResolvedValue(many);
      const card = await sut.card(message('associate aa-paris'));
      expect((findInput(card, 'configurationId')?.choices as unknown[]).length).toBe(50);
      expect(cardTexts(card)).toContain('Showing the first 50 of 60. To narrow the list: "associate aa-paris@contoso.com <\u2060part of the name>".');
      const narrowed = await sut.card(message('associate aa-paris branch 5'));
      expect(findInput(narrowed, 'configurationId')?.choices).toEqual(many.filter((a) => a.name.startsWith('Branch 5')).map((a) => ({ title: a.name, value: a.configurationId })));
    });

    it('offers the way out instead of a list when the account already serves one', async () => {
      const card = valueOf(await sut.invoke(execute('openAssociate', { accountId: sales.id })));
      expect(findInput(card, 'configurationId')).toBeUndefined();
      expect(cardTexts(card)).toEqual(expect.arrayContaining(['cq-sales@contoso.com is already used by Sales.', '[Remove from AA / CQ]']));
      expect(buttonData(card, 'requestDissociate')).toEqual({ accountId: sales.id });
    });

    it('associates an account with a voice application of its type, and audits it', async () => {
      const response = await sut.invoke(execute('associate', { accountId: paris.id, configurationId: DEMO.voiceApps.afterHours.configurationId }));

      expect(await app.directory.getAccount(paris.id)).toMatchObject({ associations: [DEMO.voiceApps.afterHours] });
      expect(response).toEqual(cardResponse(await planCardOf('account.associate')));
      expect(cardTexts(valueOf(response))).toEqual(expect.arrayContaining(['Use aa-paris@contoso.com with an auto attendant or call queue', 'Done.', '✓ 1. Use it for After hours']));
      expect((await app.audit.readAll()).map((e) => [e.action, e.outcome])).toEqual([
        ['plan.associate', 'requested'],
        ['account.associate', 'succeeded'],
        ['plan.associate', 'succeeded'],
      ]);
    });

    it.each([
      [
        'a voice application of the other type (crafted payload)',
        { accountId: paris.id, configurationId: DEMO.voiceApps.sales.configurationId },
        'aa-paris@contoso.com is an account of type Auto attendant and cannot serve Sales.',
        'ASSOCIATION_TYPE_MISMATCH',
      ],
      [
        'an account that already serves one',
        { accountId: mainLine.id, configurationId: DEMO.voiceApps.afterHours.configurationId },
        'aa-main@contoso.com is already used by Main line.',
        'ACCOUNT_ALREADY_ASSOCIATED',
      ],
      [
        'an unknown voice application',
        { accountId: paris.id, configurationId: 'c0000000-0000-4000-8000-00000000dead' },
        'That auto attendant or call queue (c0000000-0000-4000-8000-00000000dead) no longer exists.',
        'VOICE_APP_NOT_FOUND',
      ],
    ])('refuses %s with the reason, changes nothing, and audits the refusal', async (_case, data, reason, code) => {
      const before = await app.directory.getAccount(data.accountId);
      const card = valueOf(await sut.invoke(execute('associate', data)));
      const texts = cardTexts(card);
      expect(texts).toContain('Not done; nothing was changed.');
      expect(texts).toContain(reason);
      expect(await app.directory.getAccount(data.accountId)).toEqual(before);
      expect((await app.audit.readAll()).map((e) => [e.action, e.outcome, e.reason])).toEqual([['account.associate', 'refused', code]]);
    });

    it('refuses a pick with no voice application as a malformed payload', async () => {
      expect(cardTexts(valueOf(await sut.invoke(execute('associate', { accountId: paris.id }))))).toEqual([
        'Not done',
        'This card sent data I cannot use (configurationId: Invalid input: expected string, received undefined). Nothing was changed.',
      ]);
    });
  });

  it('the help card lists every command, including edit and associate', async () => {
    const facts = (await sut.card(message('help'))).body as { type: string; facts?: { title: string }[] }[];
    const commands = facts.find((b) => b.type === 'FactSet')!.facts!.map((f) => f.title.split(' ')[0]);
    expect(commands).toEqual(['add', 'import', 'list', 'show', 'edit', 'associate', 'license', 'number', 'unassign', 'switch', 'dissociate', 'delete', 'history', 'export', 'export', 'doctor', 'help']);
    expect(new Set(commands)).toEqual(new Set(registeredCommands.keys()));
  });
});
