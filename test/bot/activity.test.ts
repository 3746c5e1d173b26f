import { MAX_ACTIVITY_DEPTH, parseActivity } from '../../src/bot/activity';

const SECRET = 'SECRET-VALUE-7f3a';

/** A message as Teams sends it in a personal chat, with keys the bot does not read (teams-platform.md §1.3). */
function teamsMessage(): Record<string, unknown> {
  return {
    text: 'list',
    textFormat: 'plain',
    type: 'message',
    timestamp: '2026-11-30T09:00:00.1234567Z',
    localTimestamp: '2026-11-30T10:00:00.123+01:00',
    id: '1764493200123',
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    from: { id: '29:1abc', name: 'Ada Admin', aadObjectId: 'a1a1a1a1-0000-4000-8000-000000000001', role: 'user' },
    conversation: { conversationType: 'personal', tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', id: 'a:1xyz', isGroup: false },
    recipient: { id: '28:bot', name: 'Switchboard' },
    entities: [{ locale: 'en-US', country: 'US', platform: 'Web', timezone: 'Europe/Paris', type: 'clientInfo' }],
    channelData: { tenant: { id: '72f988bf-86f1-41af-91ab-2d7cd011db47' }, settings: { selectedChannel: { id: '19:x' } }, eventType: 'teamMemberAdded', team: { id: '19:t', name: 'Ops' }, channel: { id: '19:c', name: 'General' } },
    locale: 'en-US',
    attachments: [{ contentType: 'text/html', content: '<p>list</p>' }],
    membersAdded: [{ id: '29:1abc', aadObjectId: 'a1a1a1a1-0000-4000-8000-000000000001' }],
  };
}

/** An object `depth` levels deep, counting the outermost. */
function deep(depth: number): unknown {
  let node: unknown = {};
  for (let i = 1; i < depth; i++) node = { a: node };
  return node;
}

describe('parseActivity', () => {
  it('accepts an activity as Teams sends it, keeping the keys Teams adds that the bot does not read', () => {
    const outcome = parseActivity(teamsMessage());
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.activity.channelData).toMatchObject({ settings: { selectedChannel: { id: '19:x' } } });
    expect(outcome.activity.entities).toEqual([expect.objectContaining({ type: 'clientInfo', timezone: 'Europe/Paris' })]);
  });

  it('accepts what the Agents Playground sends (ids that are not GUIDs, no 29:/28: prefixes)', () => {
    const playground = {
      type: 'message',
      text: 'help',
      channelId: 'msteams',
      serviceUrl: 'http://127.0.0.1:56150/_connector',
      from: { id: 'user-id-0', name: 'Alex Wilber', aadObjectId: '00000000-0000-0000-0000-0000000000020' },
      recipient: { id: '00000000-0000-0000-0000-00000000000011', name: 'Test Bot' },
      conversation: { id: 'personal-chat-id', conversationType: 'personal', tenantId: '00000000-0000-0000-0000-0000000000001' },
      channelData: { tenant: { id: '00000000-0000-0000-0000-0000000000001' } },
      locale: 'en-US',
    };
    expect(parseActivity(playground).ok).toBe(true);
  });

  it('keeps only the known keys of from, recipient and conversation, which are stored in conversation references', () => {
    const activity = teamsMessage();
    activity.from = { id: '29:1abc', name: 'Ada', extra: { big: 'x'.repeat(1000) } };
    activity.conversation = { id: 'a:1', tenantId: 't', padding: 'x'.repeat(1000) };
    const outcome = parseActivity(activity);
    expect(outcome.ok && [outcome.activity.from, outcome.activity.conversation]).toEqual([{ id: '29:1abc', name: 'Ada' }, { id: 'a:1', tenantId: 't' }]);
  });

  // One row per field the bot or botbuilder reads or stores: a wrong type, then a value out of bounds.
  it.each<[string, (a: Record<string, unknown>) => void, string]>([
    ['type', (a) => (a.type = 1), 'type must be a string'],
    ['type', (a) => (a.type = ''), 'type is empty'],
    ['id', (a) => (a.id = 1), 'id must be a string'],
    ['name', (a) => (a.name = 'n'.repeat(257)), 'name is too long'],
    ['replyToId', (a) => (a.replyToId = [SECRET]), 'replyToId must be a string'],
    ['timestamp', (a) => (a.timestamp = { SECRET }), 'timestamp must be a string'],
    ['localTimestamp', (a) => (a.localTimestamp = SECRET.repeat(5)), 'localTimestamp is too long'],
    ['locale', (a) => (a.locale = `${SECRET} ;`), 'locale must be a language tag'],
    ['text', (a) => (a.text = 5), 'text must be a string'],
    ['textFormat', (a) => (a.textFormat = SECRET.repeat(2)), 'textFormat is too long'],
    ['serviceUrl', (a) => (a.serviceUrl = `javascript:${SECRET}`), 'serviceUrl must be an http(s) URL'],
    ['channelId', (a) => (a.channelId = false), 'channelId must be a string'],
    ['from', (a) => (a.from = SECRET), 'from must be an object'],
    ['from.id', (a) => (a.from = { name: 'x' }), 'from.id is missing'],
    ['from.name', (a) => (a.from = { id: '29:x', name: { first: SECRET } }), 'from.name must be a string'],
    ['from.aadObjectId', (a) => (a.from = { id: '29:x', aadObjectId: SECRET.repeat(5) }), 'from.aadObjectId is too long'],
    ['from.role', (a) => (a.from = { id: '29:x', role: 7 }), 'from.role must be a string'],
    ['recipient.id', (a) => (a.recipient = { id: 28 }), 'recipient.id must be a string'],
    ['recipient.name', (a) => (a.recipient = { id: '28:x', name: null }), 'recipient.name must be a string'],
    ['conversation.id', (a) => (a.conversation = { tenantId: 't' }), 'conversation.id is missing'],
    ['conversation.name', (a) => (a.conversation = { id: 'c', name: 'n'.repeat(513) }), 'conversation.name is too long'],
    ['conversation.conversationType', (a) => (a.conversation = { id: 'c', conversationType: 1 }), 'conversation.conversationType must be a string'],
    ['conversation.tenantId', (a) => (a.conversation = { id: 'c', tenantId: [] }), 'conversation.tenantId must be a string'],
    ['conversation.isGroup', (a) => (a.conversation = { id: 'c', isGroup: 'yes' }), 'conversation.isGroup must be a boolean'],
    ['channelData', (a) => (a.channelData = 'x'), 'channelData must be an object'],
    ['channelData.tenant.id', (a) => (a.channelData = { tenant: { id: 42 } }), 'channelData.tenant.id must be a string'],
    ['channelData.channel.id', (a) => (a.channelData = { channel: { id: {} } }), 'channelData.channel.id must be a string'],
    ['channelData.channel.name', (a) => (a.channelData = { channel: { name: 1 } }), 'channelData.channel.name must be a string'],
    ['channelData.team.id', (a) => (a.channelData = { team: { id: 1 } }), 'channelData.team.id must be a string'],
    ['channelData.team.name', (a) => (a.channelData = { team: { name: 'n'.repeat(513) } }), 'channelData.team.name is too long'],
    ['channelData.eventType', (a) => (a.channelData = { eventType: ['x'] }), 'channelData.eventType must be a string'],
    ['membersAdded', (a) => (a.membersAdded = { id: 'x' }), 'membersAdded must be an array'],
    ['membersAdded', (a) => (a.membersAdded = Array.from({ length: 501 }, () => ({ id: 'x' }))), 'membersAdded has too many items'],
    ['membersAdded[].name', (a) => (a.membersAdded = [{ id: 'x', name: 1 }]), 'membersAdded[0].name must be a string'],
    ['membersRemoved[].aadObjectId', (a) => (a.membersRemoved = [{ id: 'x' }, { id: 'y', aadObjectId: 2 }]), 'membersRemoved[1].aadObjectId must be a string'],
    ['attachments', (a) => (a.attachments = Array.from({ length: 51 }, () => ({}))), 'attachments has too many items'],
    ['attachments[].contentType', (a) => (a.attachments = [{ contentType: 1 }]), 'attachments[0].contentType must be a string'],
    ['entities', (a) => (a.entities = Array.from({ length: 101 }, () => ({}))), 'entities has too many items'],
    ['entities[]', (a) => (a.entities = [SECRET]), 'entities[0] must be an object'],
    ['value', (a) => (a.value = { data: SECRET.repeat(4000) }), 'value is too large'],
  ])('refuses a bad %s, naming it without its value', (_field, spoil, detail) => {
    const activity = teamsMessage();
    spoil(activity);
    const outcome = parseActivity(activity);
    expect(outcome).toEqual({ ok: false, detail });
    expect(JSON.stringify(outcome)).not.toContain(SECRET);
  });

  it.each([null, 'message', 42, [teamsMessage()]])('refuses a body that is not an object: %j', (body) => {
    expect(parseActivity(body)).toEqual({ ok: false, detail: 'the activity must be an object' });
  });

  it(`accepts ${MAX_ACTIVITY_DEPTH} levels of nesting and refuses one more, wherever it is`, () => {
    expect(parseActivity({ ...teamsMessage(), value: deep(MAX_ACTIVITY_DEPTH - 1) }).ok).toBe(true);
    expect(parseActivity({ ...teamsMessage(), value: deep(MAX_ACTIVITY_DEPTH) })).toEqual({ ok: false, detail: 'the body is nested deeper than 32 levels' });
    expect(parseActivity({ ...teamsMessage(), channelData: { tenant: { id: 't' }, extra: deep(40) } })).toEqual({ ok: false, detail: 'the body is nested deeper than 32 levels' });
  });

  it('checks a million levels of nesting without a stack overflow', () => {
    const body = JSON.parse(`{"type":"message","value":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`) as unknown;
    expect(parseActivity(body)).toEqual({ ok: false, detail: 'the body is nested deeper than 32 levels' });
  });

  it('refuses a __proto__ key anywhere, so that no later Object.assign can turn it into a prototype', () => {
    const body = JSON.parse('{"type":"message","value":{"data":{"__proto__":{"isAdmin":true}}}}') as unknown;
    expect(parseActivity(body)).toEqual({ ok: false, detail: 'the body has a forbidden key' });
  });
});
