import type { App } from '../../src/app';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER, STRANGER } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

const form = (n: number) => ({ displayName: `Line ${n}`, username: `aa-line${n}`, domain: 'contoso.com', accountType: 'autoAttendant', usageLocation: 'US', license: 'none' });

describe('history in the conversation', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    sut = new Conversation(app);
    for (const n of [1, 2, 3]) await sut.invoke(execute('addAccount', form(n)));
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('shows the whole log newest first, ten a page, with Older/Newer and Export', async () => {
    const first = await sut.card(message('history'));
    const texts = cardTexts(first);
    expect(texts.slice(0, 3)).toEqual(['History', '1–10 of 12 entries, newest first', '✓ Done: add aa-line3 (asked by Ada Admin)']);
    expect(texts[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC · Ada Admin$/);
    expect(texts.filter((t) => t.startsWith('['))).toEqual(['[Older]', '[Export CSV]']);

    const older = await sut.invoke(execute('historyPage', { offset: 10, username: '' }));
    const olderTexts = cardTexts((older.body as { value: unknown }).value);
    expect(olderTexts.slice(0, 2)).toEqual(['History', '11–12 of 12 entries, newest first']);
    expect(olderTexts.filter((t) => t.startsWith('['))).toEqual(['[Newer]', '[Export CSV]']);
  });

  it('shows the history of one account, also after it is gone', async () => {
    const texts = cardTexts(await sut.card(message('history aa-line2')));
    expect(texts.slice(0, 2)).toEqual(['History of aa-line2', '1–4 of 4 entries, newest first']);
    expect(texts.filter((t) => /^[✓✗⊘•] /.test(t))).toEqual([
      '✓ Done: add aa-line2 (asked by Ada Admin)',
      '✓ Ada Admin set the usage location of aa-line2 to US',
      '✓ Ada Admin created aa-line2',
      '• Ada Admin asked to add aa-line2',
    ]);
  });

  /*
   * Why (an admin walk): after a rejection history said both "Bob rejected…" and "Bob cancelled the
   * change", one act twice; after an approval, "Bob carried out the approved change" beside steps in
   * Ada's name, though Bob only approved; and a refused step showed its code, not what was wrong.
   */
  it('tells an approval story once each, with who did what, and says a refusal in words', async () => {
    await sut.send(message('help', { from: APPROVER }));
    const rejected = idOn(await sut.card(message('unassign aa-main')), 'planId');
    await sut.invoke(execute('confirmPlan', { planId: rejected }));
    await sut.invoke(execute('rejectRequest', { requestId: rejected, reason: 'still published' }, { from: APPROVER }));
    const approved = idOn(await sut.card(message('delete aa-line1')), 'planId');
    await sut.invoke(execute('confirmPlan', { planId: approved }));
    await sut.invoke(execute('approveRequest', { requestId: approved }, { from: APPROVER }));
    await until(async () => (await app.plans.get(approved))!.status === 'done', 10_000, 'the deletion');

    const main = cardTexts(await sut.card(message('history aa-main'))).filter((t) => /^[✓✗⊘•] /.test(t));
    expect(main).toEqual([
      '⊘ Bob Approver rejected: release the number of aa-main — still published',
      '• Ada Admin asked an approver to release the number of aa-main',
      '• Ada Admin asked to release the number of aa-main',
    ]);
    const line1 = cardTexts(await sut.card(message('history aa-line1'))).filter((t) => /^[✓✗⊘•] /.test(t));
    expect(line1.slice(0, 5)).toEqual([
      '✓ Done as approved: delete aa-line1 (approved by Bob Approver)',
      '✓ Done: delete aa-line1 (asked by Ada Admin)',
      '✓ Ada Admin deleted aa-line1',
      '✓ Bob Approver approved: delete aa-line1',
      '• Ada Admin asked an approver to delete aa-line1',
    ]);

    // A number of another country than the account's usage location, picked by hand: refused, said in words.
    const fr = await app.directory.listPhoneNumbers({ numberType: 'callingPlan', isoCountryCode: 'FR', assignableOnly: true, offset: 0, limit: 1 });
    const account = (await app.directory.findAccountByUpn('aa-line2@contoso.com'))!;
    await sut.invoke(execute('requestLicense', { accountId: account.id })).then(async (r) => sut.invoke(execute('confirmPlan', { planId: idOn(bodyOf(r), 'planId') })));
    await until(async () => (await app.directory.getAccount(account.id))!.assignedLicenses.length > 0, 10_000, 'the license');
    const number = fr.items[0]!.telephoneNumber;
    await sut.invoke(execute('pickNumber', { accountId: account.id, numberType: 'callingPlan', country: 'US', prefix: '', telephoneNumber: number }));
    const line2 = cardTexts(await sut.card(message('history aa-line2'))).filter((t) => /^[✓✗⊘•] /.test(t));
    expect(line2[0]).toMatch(/^⊘ Ada Admin was refused: assign .* to aa-line2 — \+33\d+ is a France \(FR\) number but the usage location of aa-line2@contoso\.com is United States of America \(US\)\. They must match\.$/);
  });

  it('says in words why a form was refused for one reason', async () => {
    await sut.invoke(execute('addAccount', { ...form(9), displayName: 'x'.repeat(300) }));
    const line9 = cardTexts(await sut.card(message('history aa-line9'))).filter((t) => /^[✓✗⊘•] /.test(t));
    expect(line9).toEqual([expect.stringMatching(/^⊘ Ada Admin was refused: create aa-line9 — The display name has 300 characters/)]);
  });

  it('writes the same history as French sentences for a French client', async () => {
    const texts = cardTexts(await sut.card(message('history aa-line2', { locale: 'fr-FR' })));
    expect(texts.slice(0, 2)).toEqual(['Historique de aa-line2', '1–4 sur 4 entrées, les plus récentes d’abord']);
    expect(texts.filter((t) => /^[✓✗⊘•] /.test(t))).toEqual([
      '✓ Effectué\u00a0: ajouter aa-line2 (demandé par Ada Admin)',
      '✓ Ada Admin a défini l’emplacement d’utilisation de aa-line2 sur US',
      '✓ Ada Admin a créé aa-line2',
      '• Ada Admin a demandé\u00a0: ajouter aa-line2',
    ]);
  });

  it('keeps the log from people with no role', async () => {
    expect(cardTexts(await sut.card(message('history', { from: STRANGER })))[0]).toBe('Not done');
    expect(cardTexts(await sut.card(message('export history', { from: STRANGER })))[0]).toBe('Not done');
  });

  it('explains "export" without "history"', async () => {
    expect(cardTexts(await sut.card(message('export')))).toEqual(['Not done', 'Say "export history", "export history <\u2060username>" for one account, or "export accounts".']);
  });
});
