import type { App } from '../../src/app';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { STRANGER } from '../helpers/identities';

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
