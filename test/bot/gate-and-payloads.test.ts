import type { Activity } from 'botbuilder';
import type { App } from '../../src/app';
import { gate } from '../../src/bot/gate';
import { testApp, tempDir } from '../helpers/app';
import { execute, message, submit } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN, APPROVER, FOREIGN_TENANT, STRANGER, TENANT } from '../helpers/identities';

const CARD = 'application/vnd.microsoft.card.adaptive';

describe('tenant gate, roles and malformed payloads', () => {
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

  it('drops a message from a foreign tenant without a word', async () => {
    expect(await sut.send(message('list', { tenantId: FOREIGN_TENANT }))).toEqual([]);
    expect(await app.audit.readAll()).toEqual([]);
  });

  it('answers an invoke from a foreign tenant with a bare 403 and does nothing', async () => {
    const before = await app.directory.listAccounts({ offset: 0, limit: 100 });
    expect(await sut.invoke(execute('addAccount', { displayName: 'x', username: 'x', domain: 'contoso.com', accountType: 'callQueue', license: 'none' }, { tenantId: FOREIGN_TENANT }))).toEqual({ status: 403 });
    expect(await app.directory.listAccounts({ offset: 0, limit: 100 })).toEqual(before);
  });

  const conversation = { id: 'c', isGroup: false, conversationType: 'personal', name: '' };
  it.each<[string, Partial<Activity>]>([
    ['no tenant at all', { channelData: {}, conversation }],
    ['a conversation tenant that differs from channelData', { conversation: { ...conversation, tenantId: FOREIGN_TENANT } }],
    ['a non-string tenant id', { channelData: { tenant: { id: 42 } } }],
  ])('drops an activity with %s', async (_case, override) => {
    expect(await sut.send({ ...message('help'), ...override })).toEqual([]);
  });

  it.each([
    ['msteams in production', 'msteams', true, true],
    ['another channel in production', 'webchat', true, false],
    ['another channel in local mode', 'webchat', false, true],
  ])('lets through %s: %s', (_case, channelId, requireTeamsChannel, passes) => {
    const outcome = gate(
      { channelId, channelData: { tenant: { id: TENANT } }, from: { ...ADMIN } },
      { tenantId: TENANT, requireTeamsChannel, adminIds: [ADMIN.aadObjectId], approverIds: [] },
    );
    expect(outcome.ok).toBe(passes);
  });

  it.each([
    ['an admin', ADMIN, { admin: true, approver: false }],
    ['an approver', APPROVER, { admin: false, approver: true }],
    ['anyone else', STRANGER, { admin: false, approver: false }],
    ['an anonymous meeting user', { id: '29:anon', name: 'Guest' }, { admin: false, approver: false }],
  ])('resolves the roles of %s from the configured object ids', (_case, from, roles) => {
    const outcome = gate(
      { channelId: 'msteams', channelData: { tenant: { id: TENANT } }, from: { ...from, aadObjectId: 'aadObjectId' in from ? from.aadObjectId.toUpperCase() : undefined } },
      { tenantId: TENANT, requireTeamsChannel: true, adminIds: [ADMIN.aadObjectId], approverIds: [APPROVER.aadObjectId] },
    );
    expect(outcome).toMatchObject({ ok: true, roles });
  });

  it('lets an approver read but not change', async () => {
    expect(cardTexts(await sut.card(message('list', { from: APPROVER })))).toContain('Resource accounts');
    expect(cardTexts(await sut.card(message('add', { from: APPROVER })))[0]).toBe('Not done');
  });

  it('refuses to show accounts to someone with no role', async () => {
    expect(cardTexts(await sut.card(message('list', { from: STRANGER })))).toEqual([
      'Not done',
      `Only Switchboard admins and approvers can see resource accounts. Ask an admin to add your account (${STRANGER.aadObjectId}).`,
    ]);
  });

  it('tells a user with no Entra identity that it cannot act', async () => {
    expect(cardTexts(await sut.card(message('add', { from: { id: '29:anon', name: 'Guest' } })))).toEqual([
      'Not done',
      'I cannot tell who you are (no Entra object id in the request), so I cannot act on it.',
    ]);
  });

  const refusal = (text: string) => ({
    status: 200,
    body: {
      statusCode: 200,
      type: CARD,
      value: {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.5',
        body: [
          { type: 'TextBlock', text: 'Not done', size: 'medium', weight: 'bolder', wrap: true, color: 'attention' },
          { type: 'TextBlock', text, wrap: true },
        ],
      },
    },
  });

  it.each([
    [
      'an unknown verb',
      execute('frobnicate', { accountId: 'x' }),
      'This button ("frobnicate") is not one I know. The card may be from an older version; start again with "help".',
    ],
    [
      'a nested array where a string belongs',
      execute('addAccount', { displayName: [[['x']]] }),
      'This card sent data I cannot use (displayName: Invalid input: expected string, received array). Nothing was changed.',
    ],
    [
      'a 10,000-character username',
      execute('addAccount', { username: 'u'.repeat(10_000) }),
      'This card sent data I cannot use (username: Too big: expected string to have <=500 characters). Nothing was changed.',
    ],
    ['an empty value', { ...execute('listAccounts'), value: {} }, 'This card sent data I cannot use (action). Nothing was changed.'],
    [
      'an Action.Submit sent as an invoke',
      { ...execute('listAccounts'), value: { action: { type: 'Action.Submit', verb: 'listAccounts' } } },
      'This card sent data I cannot use (action). Nothing was changed.',
    ],
    ['a negative page offset', execute('listAccounts', { offset: -5 }), 'This card sent data I cannot use (offset: Too small: expected number to be >=0). Nothing was changed.'],
  ])('answers %s with a 200 refusal card and changes nothing', async (_case, activity, text) => {
    const before = await app.directory.listAccounts({ offset: 0, limit: 100 });
    expect(await sut.invoke(activity)).toEqual(refusal(text));
    expect(await app.directory.listAccounts({ offset: 0, limit: 100 })).toEqual(before);
  });

  it('answers an invoke it does not support with an explicit 400, never a 501', async () => {
    expect(await sut.invoke({ ...execute('x'), name: 'composeExtension/query' })).toEqual({
      status: 400,
      body: { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'NotSupported', message: 'This invoke is not supported.' } },
    });
  });

  it('answers a Submit without a verb with a refusal card', async () => {
    const replies = await sut.send({ ...submit('x'), value: { displayName: 'x' } });
    expect(cardTexts(replies[0]!.attachments![0]!.content)).toEqual(['Not done', 'This card sent data I cannot use (verb). Nothing was changed.']);
  });

  it('shows a fault as a card with a correlation id and no internals', async () => {
    jest.spyOn(app.directory, 'getTenantFacts').mockRejectedValue(new Error('ECONNRESET secret-host:443'));
    const response = await sut.invoke(execute('openAddForm'));
    const texts = cardTexts((response.body as { value: unknown }).value);
    expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD } });
    expect(texts[0]).toBe('Something went wrong');
    expect(texts[1]).toMatch(/^An internal error stopped this request; nothing more was changed\. Quote this id to your administrator: [0-9a-f-]{36}$/);
    expect(JSON.stringify(response)).not.toContain('secret-host');
  });

  it('answers an unknown command with help that says what it did not understand', async () => {
    const texts = cardTexts(await sut.card(message('frobnicate now')));
    expect(texts).toEqual(expect.arrayContaining(['Switchboard', 'I did not understand "frobnicate".', 'You are an admin: you can request changes.']));
  });
});
