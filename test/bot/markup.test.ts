import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';
import { asRead, cardMarkup } from '../cards/markdown';

/**
 * Issue 9 item 15 through the real bot (TestAdapter): names from Teams activities, display names and
 * reasons typed into cards, and what the tenant stores come back as plain text on every card that
 * shows them, while the tenant and the store keep exactly what was typed.
 */

type Card = Record<string, unknown>;
const bodyOf = (response: { body?: unknown }): Card => (response.body as { value: Card }).value;
const WJ = '\u2060';
const STAR = '\u2217';

const FORM = { username: '', domain: DEMO.domains.custom, accountType: 'autoAttendant', usageLocation: 'US', license: 'resourceAccount' };

describe('text from users and the tenant on the cards, through the bot', () => {
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

  it.each([
    ['a link', 'aa-link', '[x](https://evil.example)', `[x]${WJ}(https://evil.example)`],
    ['bold', 'aa-bold', '**Night** line', `${STAR}${STAR}Night${STAR}${STAR} line`],
    ['a bullet list', 'aa-list', '- Night line', `${WJ}- Night line`],
    ['a numbered list', 'aa-numbered', '1. Night line', `${WJ}1. Night line`],
    ['a heading', 'aa-heading', '# Night line', `${WJ}# Night line`],
    ['a mention tag', 'aa-mention', '<at>Night</at> line', `<${WJ}at>Night<${WJ}/at> line`],
    ['a right-to-left override', 'aa-rlo', 'evil\u202Etxt.exe', 'eviltxt.exe'],
    ['a left-to-right isolate', 'aa-lri', 'a\u2066b', 'ab'],
  ])('adds an account whose display name holds %s: the cards show it as plain text, the tenant and the edit form keep it as typed', async (_case, username, displayName, shown) => {
    const created = bodyOf(await sut.invoke(execute('addAccount', { ...FORM, username, displayName })));
    const upn = `${username}@${DEMO.domains.custom}`;
    expect(cardTexts(created).slice(0, 3)).toEqual(['Resource account created', shown, `Username: ${upn}`]);
    expect(cardMarkup(created)).toEqual([]);
    expect((await app.directory.findAccountByUpn(upn))?.displayName).toBe(displayName);

    const list = await sut.card(message(`list ${username}`));
    expect(cardTexts(list)).toContain(shown);
    expect(cardMarkup(list)).toEqual([]);

    const edit = await sut.card(message(`edit ${username}`));
    expect(findInput(edit, 'displayName')?.value).toBe(displayName);
  });

  it('renames an account to a link: the plan card shows it as text, its PowerShell line reads back exactly', async () => {
    const { paris } = DEMO.accounts;
    const displayName = "[Paris](https://evil.example) O\u2019Brien's";
    const plan = bodyOf(await sut.invoke(execute('editAccount', { accountId: paris.id, displayName, accountType: 'autoAttendant' })));
    expect(cardTexts(plan)).toContain(`✓ 1. Rename it to "[Paris]${WJ}(https://evil.example) O\u2019Brien's"`);
    expect(cardTexts(plan)).toContain(
      `Set-CsOnlineApplicationInstance -Identity '${paris.upn}' -DisplayName ('' + [char]0x005B + 'Paris' + [char]0x005D + '(https://evil.example) O\u2019\u2019Brien''s')`,
    );
    expect(cardMarkup(plan)).toEqual([]);
  });

  it('shows a requester whose Teams name is "**Boss**", an approver named with a link and a reject reason with a link as plain text', async () => {
    const boss = { ...ADMIN, name: '**Boss**' };
    const megan = { ...APPROVER, name: '[Megan](https://evil.example)' };
    const meganShown = `[Megan]${WJ}(https://evil.example)`;
    // The approver has talked to the bot once, so the bot can reach them (and knows their Teams name).
    await sut.send(message('help', { from: megan }));

    const proposed = await sut.card(message('delete cq-helpdesk', { from: boss }));
    expect(cardTexts(proposed)).toContain(`Requested by: ${STAR}${STAR}Boss${STAR}${STAR}`);
    const planId = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify(proposed))![1]!;
    const sentBefore = sut.adapter.later.length;
    const waiting = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }, { from: boss }), replyToId: 'plan-card-1' }));
    expect(cardTexts(waiting)).toContain(`Sent for approval to ${meganShown}.`);
    expect(cardMarkup(waiting)).toEqual([]);

    const approverCard = sut.adapter.later[sentBefore]!.attachments![0]!.content as Card;
    expect(cardTexts(approverCard)).toContain(`Requested by: ${STAR}${STAR}Boss${STAR}${STAR}`);
    // The only Markdown left is the approval card's own numbered step.
    expect(cardMarkup(approverCard)).toEqual(['block: "1. " in "1. Delete the account (recoverable for 30 days in Microsoft 365)"']);

    const reason = '[details](https://evil.example)\n- **now**';
    const rejected = bodyOf(await sut.invoke(execute('rejectRequest', { requestId: planId, reason }, { from: megan })));
    await sut.settled();
    const line = cardTexts(rejected)[1]!;
    expect(line).toMatch(new RegExp(`^Rejected by \\[Megan\\]${WJ}\\(https://evil\\.example\\) on .* UTC: "\\[details\\]${WJ}\\(https://evil\\.example\\) - ${STAR}${STAR}now${STAR}${STAR}"\\. Nothing was changed\\.$`));
    expect(asRead(line)).toContain('"[details](https://evil.example) - **now**"');
    expect(cardMarkup(rejected)).toEqual(['block: "1. " in "1. Delete the account (recoverable for 30 days in Microsoft 365)"']);
    // The request keeps the reason as it was typed.
    expect((await app.approvals.get(planId))?.decision).toMatchObject({ name: megan.name, reason });

    const told = sut.adapter.later.filter((a) => a.conversation?.id === `a:personal-${boss.id}`).map((a) => a.attachments![0]!.content as Card);
    const notice = told.find((card) => JSON.stringify(card).includes('rejected your request'))!;
    expect(cardTexts(notice)[1]).toBe(
      `${meganShown} rejected your request: Delete cq-helpdesk@contoso.onmicrosoft.com. Reason: "[details]${WJ}(https://evil.example) - ${STAR}${STAR}now${STAR}${STAR}".`,
    );
    expect(cardMarkup(notice)).toEqual([]);
  });

  it('shows a command it did not understand, a searched username and a typed country as plain text', async () => {
    const help = await sut.card(message('**hi**'));
    expect(cardTexts(help)).toContain(`I did not understand "${STAR}${STAR}hi${STAR}${STAR}".`);
    expect(cardMarkup(help).filter((m) => m.includes('hi'))).toEqual([]);

    const history = await sut.card(message('history [x](https://evil.example)'));
    expect(cardTexts(history)[0]).toBe(`History of [x]${WJ}(https://evil.example)`);
    expect(cardMarkup(history)).toEqual([]);

    const { supportFr } = DEMO.accounts;
    const search = bodyOf(await sut.invoke(execute('searchNumbers', { accountId: supportFr.id, numberType: 'callingPlan', country: '<at>x', prefix: '- 1a', offset: 0 })));
    expect(cardTexts(search)).toEqual(
      expect.arrayContaining([`"<${WJ}at>x" is not a country. Choose one from the list, or leave it empty for any country.`, `"${WJ}- 1a" is not a number prefix: type digits only (the "+" is optional), e.g. 1425.`]),
    );
    expect(findInput(search, 'country')?.value).toBe('<at>x');
    expect(cardMarkup(search)).toEqual([]);
  });

  it('shows an unknown button verb from a crafted card as plain text', async () => {
    const refused = bodyOf(await sut.invoke(execute('[x](https://evil.example)')));
    expect(cardTexts(refused)).toEqual(['Not done', `This button ("[x]${WJ}(https://evil.example)") is not one I know. The card may be from an older version; start again with "help".`]);
  });

  it('shows a voice application named with markup, on the account card and the edit form, as plain text', async () => {
    const { mainLine } = DEMO.accounts;
    const account = (await app.directory.getAccount(mainLine.id))!;
    const name = '**Main** [line](https://evil.example)';
    jest.spyOn(app.directory, 'getAccount').mockResolvedValue({ ...account, associations: account.associations.map((a) => ({ ...a, name })) });
    const shown = `${STAR}${STAR}Main${STAR}${STAR} [line]${WJ}(https://evil.example)`;
    const card = bodyOf(await sut.invoke(execute('showAccount', { accountId: mainLine.id })));
    expect(cardTexts(card)).toContain(`Used by: ${shown}`);
    expect(cardMarkup(card)).toEqual([]);
    const edit = bodyOf(await sut.invoke(execute('openEditForm', { accountId: mainLine.id })));
    expect(cardTexts(edit)).toContain(`Used by ${shown}: its type cannot change until it is removed from there.`);
    expect(cardMarkup(edit)).toEqual([]);
  });
});
