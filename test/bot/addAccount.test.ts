import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { accountDetailsCard } from '../../src/cards/accountDetails';
import { testApp, tempDir } from '../helpers/app';
import { execute, message, submit } from '../helpers/activities';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { ADMIN, STRANGER } from '../helpers/identities';

const GOOD_FORM = {
  displayName: 'After hours',
  username: 'aa-afterhours',
  domain: DEMO.domains.custom,
  accountType: 'autoAttendant',
  usageLocation: 'US',
  license: 'resourceAccount',
};

/** The data of the form's Add button. */
function addActionData(card: unknown): Record<string, unknown> {
  let found: Record<string, unknown> | undefined;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'Action.Execute' && o.verb === 'addAccount') found ??= o.data as Record<string, unknown>;
      Object.values(o).forEach(walk);
    }
  };
  walk(card);
  if (!found) throw new Error('no Add button on the card');
  return found;
}

describe('add-account flow through the bot (TestAdapter)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    sut = new Conversation(app);
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  // An admin who names the account up front ("add cq-foo") found the form empty: what follows "add" fills it.
  it.each([
    ['add cq-support-fr Support France', { username: 'cq-support-fr', domain: DEMO.domains.default, accountType: 'callQueue', displayName: 'Support France' }],
    ['add AA-Night@Contoso.com', { username: 'AA-Night', domain: DEMO.domains.custom, accountType: 'autoAttendant', displayName: '' }],
    ['add reception "Front desk"', { username: 'reception', domain: DEMO.domains.default, accountType: '', displayName: 'Front desk' }],
    // Quotes around the display name are taken off as a pair, whichever quotes the admin's keyboard makes.
    ['add cq-support-fr « Support France »', { username: 'cq-support-fr', domain: DEMO.domains.default, accountType: 'callQueue', displayName: 'Support France' }],
    ['add cq-support-fr “Support France”', { username: 'cq-support-fr', domain: DEMO.domains.default, accountType: 'callQueue', displayName: 'Support France' }],
    ['add cq-x "Night" "desk"', { username: 'cq-x', domain: DEMO.domains.default, accountType: 'callQueue', displayName: '"Night" "desk"' }],
    ["add aa-x 'Night'", { username: 'aa-x', domain: DEMO.domains.default, accountType: 'autoAttendant', displayName: 'Night' }],
    ["add aa-x Bob's 'line'", { username: 'aa-x', domain: DEMO.domains.default, accountType: 'autoAttendant', displayName: "Bob's 'line'" }],
    // A quoted display name may come first, alone or before the username.
    ['add "Support France"', { username: '', domain: DEMO.domains.default, accountType: '', displayName: 'Support France' }],
    ['add "Support France" cq-support-fr', { username: 'cq-support-fr', domain: DEMO.domains.default, accountType: 'callQueue', displayName: 'Support France' }],
    // Attack review 4: an apostrophe inside the phrase does not close it; an @ with nothing after names no domain.
    ["add 'Joe's line' aa-joe", { username: 'aa-joe', domain: DEMO.domains.default, accountType: 'autoAttendant', displayName: "Joe's line" }],
    ['add aa-x@ Night', { username: 'aa-x', domain: DEMO.domains.default, accountType: 'autoAttendant', displayName: 'Night' }],
    // Attack review 5: punctuation after a closing quote does not keep the phrase open.
    ['add "Support France", cq-x', { username: 'cq-x', domain: DEMO.domains.default, accountType: 'callQueue', displayName: 'Support France' }],
  ])('"%s" fills the form with what it names', async (text, expected) => {
    const card = await sut.card(message(text));
    const value = (id: string) => (findInput(card, id) as { value: string }).value;
    expect({ username: value('username'), domain: value('domain'), accountType: value('accountType') ?? '', displayName: value('displayName') }).toEqual(expected);
    expect(value('usageLocation')).toBe('US');
    expect(cardTexts(card)).not.toEqual(expect.arrayContaining([expect.stringMatching(/nothing was created|needs a fix/)]));
    expect(await app.workflow.plans()).toEqual([]);
  });

  // Attack review 3: what "add" could not use was cut or moved silently; now the same rules as Add say so at once, under the field.
  it.each([
    [
      'a domain the tenant does not have',
      'add aa-x@fabrikam.example Night',
      { username: 'aa-x', domain: '', displayName: 'Night' },
      'Domain',
      'fabrikam.example is not a verified domain of this tenant. Pick one of the verified domains.',
    ],
    [
      'a username of 70 characters',
      `add ${'a'.repeat(70)}`,
      { username: 'a'.repeat(70), domain: DEMO.domains.default, displayName: '' },
      'Username',
      'The username has 70 characters; at most 64 are allowed before "@".',
    ],
    [
      'a display name of 300 characters',
      `add cq-x ${'N'.repeat(300)}`,
      { username: 'cq-x', domain: DEMO.domains.default, displayName: 'N'.repeat(300) },
      'Display name',
      'The display name has 300 characters; at most 256 are allowed.',
    ],
    [
      'an accent in the username',
      'add accueil-é@contoso.com Accueil',
      { username: 'accueil-é', domain: DEMO.domains.custom, displayName: 'Accueil' },
      'Username',
      "The username can only contain letters A–Z, digits and ' . - _ ! # ^ ~ (no accents or spaces). Not allowed here: é.",
    ],
  ])('"add" with %s fills the form and says under the field what Add would refuse', async (_case, text, expected, label, error) => {
    const card = await sut.card(message(text));
    const value = (id: string) => (findInput(card, id) as { value: string }).value;
    expect({ username: value('username'), domain: value('domain'), displayName: value('displayName') }).toEqual(expected);
    const texts = cardTexts(card);
    // Nobody sent this form: its header does not say "nothing was created" (review 4).
    expect(texts).toContain('Some of what you typed needs a fix below before you Add.');
    expect(texts.join(' ')).not.toContain('nothing was created');
    expect(texts.slice(texts.indexOf(label))).toContain(error);
    expect(texts.filter((t) => t === error)).toHaveLength(1);
    expect(await app.workflow.plans()).toEqual([]);
  });

  it('"add" shows the form mirroring the admin center pane, with the free Resource Account seats and the tenant\'s country', async () => {
    const card = await sut.card(message('add'));
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(findInput(card, 'displayName')).toMatchObject({ type: 'Input.Text', isRequired: true, maxLength: 256, value: '' });
    expect(findInput(card, 'username')).toMatchObject({ type: 'Input.Text', isRequired: true });
    expect(findInput(card, 'domain')).toMatchObject({
      type: 'Input.ChoiceSet',
      value: DEMO.domains.default,
      choices: [
        { title: `@${DEMO.domains.default}`, value: DEMO.domains.default },
        { title: `@${DEMO.domains.custom}`, value: DEMO.domains.custom },
      ],
    });
    expect(findInput(card, 'accountType')).toMatchObject({
      choices: [
        { title: 'Auto attendant', value: 'autoAttendant' },
        { title: 'Call queue', value: 'callQueue' },
      ],
    });
    // Microsoft's guidance: resource accounts take the Resource Account license, never Teams Phone Standard.
    expect(findInput(card, 'license')).toMatchObject({
      value: 'resourceAccount',
      choices: [
        { title: 'Teams Phone Resource Account (14 of 25 free)', value: 'resourceAccount' },
        { title: 'No license for now', value: 'none' },
      ],
    });
    const usage = findInput(card, 'usageLocation') as { style: string; value: string; choices: { title: string; value: string }[] };
    expect(usage.style).toBe('filtered');
    // The organization's country (Graph organization.countryLetterCode): a license needs a usage location.
    expect(usage.value).toBe('US');
    expect(usage.choices).toContainEqual({ title: 'France', value: 'FR' });
    expect(cardTexts(card)).toEqual(expect.arrayContaining(['[Add]', '[Cancel]']));
  });

  it('refuses a bad form with each message next to its field, keeps every value, and changes nothing', async () => {
    const before = await app.directory.listAccounts({ offset: 0, limit: 100 });
    const typed = { displayName: 'Main\nline', username: 'accueil-é', domain: 'fabrikam.com', accountType: 'callQueue', usageLocation: 'ZZ', license: 'phoneSystem' };

    const response = await sut.invoke(execute('addAccount', typed));

    expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' } });
    const card = (response.body as { value: Record<string, unknown> }).value;
    const texts = cardTexts(card);
    const after = (label: string) => texts[texts.indexOf(label) + 1];
    expect(texts).toContain('Please fix the fields below; nothing was created.');
    expect(after('Display name')).toBe('The display name cannot contain line breaks, tabs or other control characters.');
    expect(texts).toContain("The username can only contain letters A–Z, digits and ' . - _ ! # ^ ~ (no accents or spaces). Not allowed here: é.");
    expect(texts).toContain('fabrikam.com is not a verified domain of this tenant. Pick one of the verified domains.');
    expect(after('Usage location')).toBe('"ZZ" is not a country. Choose the usage location from the list (ISO 3166 two-letter code).');
    expect(after('License')).toBe(
      'A new resource account takes the free Teams Phone Resource Account license: Microsoft says not to assign Teams Phone Standard (Phone System) to resource accounts.',
    );
    for (const [id, value] of Object.entries(typed)) expect(findInput(card, id)?.value).toBe(value);

    expect(await app.directory.listAccounts({ offset: 0, limit: 100 })).toEqual(before);
    expect(await app.audit.readAll()).toEqual([
      expect.objectContaining({
        actor: { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name },
        action: 'account.create',
        outcome: 'refused',
        reason: 'DISPLAY_NAME_CONTROL_CHARACTERS,UPN_INVALID_CHARACTERS,UPN_DOMAIN_NOT_VERIFIED,USAGE_LOCATION_INVALID,LICENSE_NOT_FOR_RESOURCE_ACCOUNTS',
      }),
    ]);
  });

  it('adds an account from the form as it comes, name, username and type filled in: the usage location is already there', async () => {
    const card = await sut.card(message('add'));
    const form = Object.fromEntries(['domain', 'usageLocation', 'license'].map((id) => [id, findInput(card, id)?.value]));
    const response = await sut.invoke(execute('addAccount', { ...form, displayName: 'Night line', username: 'aa-night', accountType: 'autoAttendant' }));
    expect(cardTexts((response.body as { value: unknown }).value)[0]).toBe('Resource account created');
    expect(await app.directory.findAccountByUpn(`aa-night@${DEMO.domains.default}`)).toMatchObject({ usageLocation: 'US', assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
  });

  it('refuses a username already used in the tenant, whatever its case', async () => {
    const response = await sut.invoke(execute('addAccount', { ...GOOD_FORM, username: 'AA-Main' }));
    const texts = cardTexts((response.body as { value: unknown }).value);
    expect(texts).toContain('AA-Main@contoso.com is already used by another account in this tenant.'.replace('AA-Main@contoso.com', DEMO.accounts.mainLine.upn));
    expect(await app.directory.findAccountByUpn('aa-afterhours@contoso.com')).toBeNull();
  });

  it('creates the account with usage location and license, answers with the whole result card, and audits each step', async () => {
    const response = await sut.invoke(execute('addAccount', GOOD_FORM));

    const account = await app.directory.findAccountByUpn('aa-afterhours@contoso.com');
    expect(account).toMatchObject({
      displayName: 'After hours',
      accountType: 'autoAttendant',
      accountEnabled: false,
      usageLocation: 'US',
      assignedLicenses: [DEMO.skus.resourceAccount.skuId],
      phoneNumber: null,
    });
    const facts = await app.directory.getTenantFacts();
    expect(response).toEqual({
      status: 200,
      body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: accountDetailsCard(account!, facts.skus, 'en', true) },
    });
    const texts = cardTexts((response.body as { value: unknown }).value);
    expect(texts).toEqual(
      expect.arrayContaining([
        'Resource account created',
        'Username: aa-afterhours@contoso.com',
        'Type: Auto attendant',
        'Usage location: United States of America (US)',
        'License: Teams Phone Resource Account',
        'Next step: give it a service number ("number aa-afterhours@contoso.com") or use it with an auto attendant or call queue.',
      ]),
    );
    expect(facts.skus.find((s) => s.kind === 'resourceAccount')).toMatchObject({ consumed: DEMO.skus.resourceAccount.consumed + 1 });
    const audit = await app.audit.readAll();
    expect(audit.map((e) => [e.action, e.target, e.outcome])).toEqual([
      ['plan.addAccount', 'aa-afterhours@contoso.com', 'requested'],
      ['account.create', 'aa-afterhours@contoso.com', 'succeeded'],
      ['account.setUsageLocation', 'aa-afterhours@contoso.com', 'succeeded'],
      ['license.assign', 'aa-afterhours@contoso.com', 'succeeded'],
      ['plan.addAccount', 'aa-afterhours@contoso.com', 'succeeded'],
    ]);
    expect(new Set(audit.map((e) => e.requestId)).size).toBe(1);
    expect(audit.every((e) => e.actor.aadObjectId === ADMIN.aadObjectId)).toBe(true);
  });

  // A walk of 'add aa-x@fabrikam.example': the picker was left empty under its error, and Add then said "— is not a verified domain".
  it('an Add with no domain picked says to pick one, under Domain, and makes nothing', async () => {
    const refused = await sut.invoke(execute('addAccount', { ...GOOD_FORM, domain: '' }));
    const card = (refused.body as { value: unknown }).value;
    const texts = cardTexts(card);
    expect(texts.slice(texts.indexOf('Domain'))).toContain('Pick the domain of the username, one of the verified domains.');
    expect(texts.join(' ')).not.toContain('—');
    expect(findInput(card, 'domain')?.value).toBe('');
    expect(findInput(card, 'username')?.value).toBe(GOOD_FORM.username);
    expect(await app.workflow.plans()).toEqual([]);
  });

  // Entra ID takes a display name of only invisible characters; the account then reads as a blank line.
  it.each([
    ['zero-width spaces', '\u200b \u200b'],
    ['Hangul fillers', '\u3164\u3164'],
    ['the blank Braille pattern', '\u2800'],
  ])('refuses a display name of only %s under Display name, keeping it, and makes nothing', async (_, displayName) => {
    const refused = await sut.invoke(execute('addAccount', { ...GOOD_FORM, displayName }));
    const card = (refused.body as { value: unknown }).value;
    const texts = cardTexts(card);
    expect(texts.slice(texts.indexOf('Display name'), texts.indexOf('Username'))).toContain(
      'The display name has no visible character (only spaces or invisible characters); type a name people can read.',
    );
    expect(findInput(card, 'displayName')?.value).toBe(displayName);
    expect(await app.workflow.plans()).toEqual([]);
    expect(await app.provisioning.listAccounts({ offset: 0, limit: 10, text: GOOD_FORM.username })).toMatchObject({ items: [], total: 0 });
  });

  it('goes form → refusal with values kept → success, then the account is listed and shown', async () => {
    const form = await sut.card(message('add'));
    expect(findInput(form, 'displayName')?.value).toBe('');

    const refused = await sut.invoke(execute('addAccount', { ...GOOD_FORM, username: 'aa-afterhours.' }));
    const refusedCard = (refused.body as { value: unknown }).value;
    expect(cardTexts(refusedCard)).toContain('The username cannot end with a dot (no "." right before "@").');
    expect(findInput(refusedCard, 'username')?.value).toBe('aa-afterhours.');
    expect(findInput(refusedCard, 'displayName')?.value).toBe('After hours');

    const created = await sut.invoke(execute('addAccount', GOOD_FORM));
    expect(cardTexts((created.body as { value: unknown }).value)).toContain('Resource account created');

    const shown = await sut.card(message('show aa-afterhours'));
    expect(cardTexts(shown)).toEqual(expect.arrayContaining(['Resource account', 'After hours', 'Username: aa-afterhours@contoso.com']));
    const listed = await sut.card(message('list after'));
    expect(cardTexts(listed)).toEqual(expect.arrayContaining(['After hours', 'aa-afterhours@contoso.com']));
  });

  it('a double-clicked Add makes one account, and every click of that form is answered with its card, not "already used"', async () => {
    const form = await sut.card(message('add'));
    const { formId } = addActionData(form);
    expect(formId).toMatch(/^[0-9a-f-]{36}$/);
    // Two clicks at once, and one more after the account exists (before: "aa-afterhours@contoso.com is already used…").
    const clicks = await Promise.all([sut.invoke(execute('addAccount', { ...GOOD_FORM, formId })), new Conversation(app).invoke(execute('addAccount', { ...GOOD_FORM, formId }))]);
    clicks.push(await sut.invoke(execute('addAccount', { ...GOOD_FORM, formId })));
    for (const click of clicks) expect(cardTexts((click.body as { value: unknown }).value)[0]).toBe('Resource account created');

    const audit = await app.audit.readAll();
    expect(audit.map((e) => [e.action, e.outcome])).toEqual([
      ['plan.addAccount', 'requested'],
      ['account.create', 'succeeded'],
      ['account.setUsageLocation', 'succeeded'],
      ['license.assign', 'succeeded'],
      ['plan.addAccount', 'succeeded'],
    ]);
    expect(audit[0]!.requestId).toBe(formId);
  });

  it('keeps the form\'s id through a refusal; the same id sent for another account or by another admin is a request of its own, never the first one\'s plan', async () => {
    const form = await sut.card(message('add'));
    const { formId } = addActionData(form);
    const refused = (await sut.invoke(execute('addAccount', { ...GOOD_FORM, username: 'aa main', formId }))).body as { value: unknown };
    expect(addActionData(refused.value).formId).toBe(formId);

    const made = await app.provisioning.addAccount(ADMIN, { ...GOOD_FORM, telephoneNumber: '' }, formId as string);
    expect(made).toMatchObject({ ok: true, value: { id: formId } });
    await app.plans.settle(formId as string, 5_000);

    // An older copy of the form (the Action.Submit fallback leaves it in the chat) filled in for another account.
    const second = await app.provisioning.addAccount(ADMIN, { ...GOOD_FORM, displayName: 'Second', username: 'aa-second', telephoneNumber: '' }, formId as string);
    expect(second).toMatchObject({ ok: true, value: { account: { userPrincipalName: 'aa-second@contoso.com' } } });
    expect(second.ok && second.value.id).not.toBe(formId);

    // A form shared in a channel, sent by a second admin after the first: told what the tenant holds now.
    const eve = { aadObjectId: 'e5e5e5e5-0000-4000-8000-000000000005', name: 'Eve Admin' };
    const late = await app.provisioning.addAccount(eve, { ...GOOD_FORM, telephoneNumber: '' }, formId as string);
    expect(late).toMatchObject({ ok: false, refusals: [{ reason: 'UPN_IN_USE' }] });
    const plan = await app.plans.get(formId as string);
    expect(plan).toMatchObject({ requestedBy: { aadObjectId: ADMIN.aadObjectId }, account: { userPrincipalName: 'aa-afterhours@contoso.com' } });
  });

  it('handles the Action.Submit fallback through the same path, answering with a new card message', async () => {
    const replies = await sut.send(submit('addAccount', GOOD_FORM));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive' }] });
    const account = await app.directory.findAccountByUpn('aa-afterhours@contoso.com');
    const facts = await app.directory.getTenantFacts();
    expect(replies[0]!.attachments![0]!.content).toEqual(accountDetailsCard(account!, facts.skus, 'en', true));
  });

  it('every Action.Execute of the form carries an Action.Submit fallback with its verb', async () => {
    const card = await sut.card(message('add'));
    const actions = JSON.stringify(card);
    expect(actions).toMatch(/"fallback":\{"type":"Action.Submit","title":"Add","data":\{"formId":"[0-9a-f-]{36}","verb":"addAccount"\}\}/);
    expect(actions).toContain('"fallback":{"type":"Action.Submit","title":"Cancel","data":{"verb":"cancel"},"associatedInputs":"none"}');
  });

  it('refuses a non-admin, changes nothing, and audits the refusal', async () => {
    const before = await app.directory.listAccounts({ offset: 0, limit: 100 });
    const formCard = await sut.card(message('add', { from: STRANGER }));
    const response = await sut.invoke(execute('addAccount', GOOD_FORM, { from: STRANGER }));
    const expected = `Only Switchboard admins can make changes. Ask an admin to add your account (${STRANGER.aadObjectId}) to the admin list.`;
    expect(cardTexts(formCard)).toEqual(['Not done', expected]);
    expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' } });
    expect(cardTexts((response.body as { value: unknown }).value)).toEqual(['Not done', expected]);
    expect(await app.directory.listAccounts({ offset: 0, limit: 100 })).toEqual(before);
    expect((await app.audit.readAll()).map((e) => [e.action, e.outcome, e.reason, e.actor.aadObjectId])).toEqual([
      ['command:add', 'refused', 'NOT_ADMIN', STRANGER.aadObjectId],
      ['action:addAccount', 'refused', 'NOT_ADMIN', STRANGER.aadObjectId],
    ]);
  });

  it('keeps accounts and the audit log across a restart', async () => {
    await sut.invoke(execute('addAccount', GOOD_FORM));
    await app.close();

    app = await testApp(dir.dir);
    const account = await app.directory.findAccountByUpn('aa-afterhours@contoso.com');
    expect(account).toMatchObject({ displayName: 'After hours', usageLocation: 'US' });
    expect((await app.audit.readAll()).map((e) => e.action)).toEqual(['plan.addAccount', 'account.create', 'account.setUsageLocation', 'license.assign', 'plan.addAccount']);
    const conversation = new Conversation(app);
    expect(cardTexts(await conversation.card(message('show aa-afterhours@contoso.com')))).toContain('Username: aa-afterhours@contoso.com');
  });
});
