import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { execute } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { bodyOf } from '../helpers/waiting';

const A = DEMO.accounts;

/*
 * Why (an admin walk): a button of an account card that the account has outgrown (Assign license on an
 * account licensed since) replaced the card with a bare "Not done": what the card showed was lost, and
 * the admin had to ask for the account again to see what now applies. The answer is now the account's
 * card as it stands, with why on top; only an account gone from the tenant leaves the refusal alone.
 */
describe('a stale button of an account card', () => {
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

  it.each([
    ['Assign license, licensed meanwhile', 'requestLicense', A.mainLine, 'The account already has this license.', '[Unassign number]'],
    ['Switch license, on the Resource Account license already', 'requestSwitch', A.mainLine, 'The account has no Phone System license to switch from.', '[Unassign number]'],
    ['Unassign number, released meanwhile', 'requestUnassign', A.paris, 'aa-paris@contoso.com has no phone number.', '[Assign license]'],
    ['Remove associations, removed meanwhile', 'requestDissociate', A.paris, 'aa-paris@contoso.com is not used by any auto attendant or call queue: there is nothing to remove.', '[Use with AA / CQ]'],
  ] as const)('%s: the account as it is now, with why', async (_what, verb, account, why, stillOffered) => {
    const before = await app.directory.getAccount(account.id);
    const card = bodyOf(await sut.invoke(execute(verb, { accountId: account.id })));
    const texts = cardTexts(card);
    expect(texts.slice(0, 2)).toEqual(['Resource account', 'Not done']);
    expect(texts[2]).toBe(why);
    expect(texts[3]).toBe(account.displayName);
    expect(texts).toContain(`Username: ${account.upn}`);
    expect(texts).toContain(stillOffered);
    expect(await app.directory.getAccount(account.id)).toEqual(before);
    expect(await app.workflow.plans()).toEqual([]);
  });

  it('an account gone from the tenant: the refusal alone', async () => {
    await app.directory.deleteAccount(A.paris.id);
    const card = bodyOf(await sut.invoke(execute('requestLicense', { accountId: A.paris.id })));
    expect(cardTexts(card)).toEqual(['Not done', expect.stringMatching(/^This resource account is no longer in the tenant/)]);
  });
});
