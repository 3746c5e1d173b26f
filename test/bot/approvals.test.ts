import type { Activity } from 'botbuilder';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { ADMIN, APPROVER, APPROVER_2, STRANGER } from '../helpers/identities';

type Card = Record<string, unknown>;

function idOf(card: unknown, key: 'planId' | 'requestId'): string {
  const match = new RegExp(`"${key}":"([0-9a-f-]{36})"`).exec(JSON.stringify(card));
  if (!match) throw new Error(`no ${key} on the card`);
  return match[1]!;
}

const buttons = (card: unknown) => cardTexts(card).filter((t) => t.startsWith('['));
const bodyOf = (response: { body?: unknown }) => (response.body as { value: Card }).value;

/** Clock shared by the tenant, the runner and the approvals, so that expiry can be reached. */
function fakeClock() {
  let at = Date.parse('2026-11-28T10:00:00.000Z');
  return { now: () => new Date(at), advance: (ms: number) => (at += ms) };
}

describe('four-eyes approvals with Universal Actions', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;
  let clock: ReturnType<typeof fakeClock>;

  beforeEach(async () => {
    dir = await tempDir();
    clock = fakeClock();
    app = await testApp(
      dir.dir,
      { SWITCHBOARD_APPROVER_IDS: `${APPROVER.aadObjectId},${APPROVER_2.aadObjectId},${ADMIN.aadObjectId}`, SWITCHBOARD_APPROVAL_EXPIRY_HOURS: '24', SWITCHBOARD_PLAN_POLL_MS: '10' },
      { now: clock.now },
    );
    sut = new Conversation(app);
    // Approvers have talked to the bot once, so it can reach them in their personal chat.
    await sut.send(message('help', { from: APPROVER }));
    await sut.send(message('help', { from: APPROVER_2 }));
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  /** The admin asks to delete cq-helpdesk and confirms: the request goes to the approvers. */
  async function requestDelete(): Promise<{ planId: string; requesterCard: Card; approverCards: Partial<Activity>[] }> {
    const planCard = await sut.card(message('delete cq-helpdesk'));
    const planId = idOf(planCard, 'planId');
    const sentBefore = sut.adapter.later.length;
    const requesterCard = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'plan-card-1' }));
    return { planId, requesterCard, approverCards: sut.adapter.later.slice(sentBefore) };
  }

  it('turns Confirm into a request: the approvers get Approve/Reject, the requester sees who was asked and can cancel, nothing runs', async () => {
    const { planId, requesterCard, approverCards } = await requestDelete();

    expect(cardTexts(requesterCard).slice(0, 2)).toEqual(['Delete cq-helpdesk@contoso.onmicrosoft.com', 'Waiting for an approver. Expires 2026-11-29 10:00 UTC.']);
    expect(buttons(requesterCard)).toEqual(['[Refresh]', '[Cancel request]']);
    expect(approverCards.map((a) => a.conversation?.id)).toEqual(['a:personal-29:approver', 'a:personal-29:approver2']);
    const approverCard = approverCards[0]!.attachments![0]!.content as Card;
    expect(cardTexts(approverCard)).toEqual([
      'Approval needed: Delete cq-helpdesk@contoso.onmicrosoft.com',
      'Waiting for an approver. Expires 2026-11-29 10:00 UTC.',
      'Username: cq-helpdesk@contoso.onmicrosoft.com',
      'Requested by: Ada Admin',
      'Requested on: 2026-11-28 10:00 UTC',
      'Steps',
      '1. Delete the account (recoverable for 30 days in Microsoft 365)',
      'Reason (required to reject)',
      '[Approve]',
      '[Reject]',
    ]);
    expect(approverCard.refresh).toEqual({
      action: { type: 'Action.Execute', verb: 'refreshRequest', data: { requestId: planId } },
      userIds: [ADMIN.id, APPROVER.id, APPROVER_2.id],
    });
    expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
  });

  it('never lets the requester approve their own request, even as an approver', async () => {
    const { planId } = await requestDelete();
    const response = await sut.invoke(execute('approveRequest', { requestId: planId }));
    expect(cardTexts(bodyOf(response))).toEqual(['Not done', 'You asked for this change yourself: another approver must decide (four-eyes rule).']);
    expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
  });

  it.each([
    ['someone with no role', STRANGER],
    ['an admin who is not an approver', { id: '29:admin2', aadObjectId: 'e5e5e5e5-0000-4000-8000-000000000005', name: 'Eve Admin' }],
  ])('refuses a decision from %s', async (_case, who) => {
    const { planId } = await requestDelete();
    const response = await sut.invoke(execute('approveRequest', { requestId: planId }, { from: who }));
    expect(cardTexts(bodyOf(response))).toEqual(['Not done', `Only Switchboard approvers can approve or reject. Your account (${who.aadObjectId}) is not an approver.`]);
    expect((await app.approvals.get(planId))!.status).toBe('pending');
  });

  it('runs the plan once approved, updates every copy of the card and tells the requester', async () => {
    const { planId, approverCards } = await requestDelete();
    const response = await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER }));
    await sut.settled();

    expect(cardTexts(bodyOf(response)).slice(0, 2)).toEqual(['Approval request: Delete cq-helpdesk@contoso.onmicrosoft.com', 'Approved by Bob Approver on 2026-11-28 10:00 UTC. Done.']);
    expect(buttons(bodyOf(response))).toEqual([]);
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();

    const finalUpdates = (id: string) => sut.adapter.updates.filter((u) => u.id === id).map((u) => cardTexts(u.attachments![0]!.content)[1]);
    for (const copy of approverCards) expect(finalUpdates(copy.id!).at(-1)).toBe('Approved by Bob Approver on 2026-11-28 10:00 UTC. Done.');
    // The requester's own card says by whom, as the approver's does (it said "Done." alone).
    expect(sut.adapter.updates.filter((u) => u.id === 'plan-card-1').map((u) => cardTexts(u.attachments![0]!.content)[1]).at(-1)).toBe('Approved by Bob Approver on 2026-11-28 10:00 UTC. Done.');
    const told = sut.adapter.later.filter((a) => a.conversation?.id === 'a:personal-chat').map((a) => cardTexts(a.attachments![0]!.content)[1]);
    expect(told).toContain('Bob Approver approved your request: Delete cq-helpdesk@contoso.onmicrosoft.com. Its card shows the progress.');
    const last = sut.adapter.updates.find((u) => u.id === approverCards[0]!.id && JSON.stringify(u).includes('Done.'))!;
    expect((last.attachments![0]!.content as Card).refresh).toMatchObject({ userIds: [] });
  });

  it('requires a reason to reject; a rejection stops everything and the requester reads why', async () => {
    const { planId } = await requestDelete();
    const noReason = bodyOf(await sut.invoke(execute('rejectRequest', { requestId: planId, reason: '  ' }, { from: APPROVER })));
    expect(cardTexts(noReason).slice(0, 3)).toEqual([
      'Approval needed: Delete cq-helpdesk@contoso.onmicrosoft.com',
      'Waiting for an approver. Expires 2026-11-29 10:00 UTC.',
      'Say why you reject it: the requester will see your reason.',
    ]);
    const rejected = bodyOf(await sut.invoke(execute('rejectRequest', { requestId: planId, reason: 'Still used by the Paris IVR' }, { from: APPROVER_2 })));
    await sut.settled();
    expect(cardTexts(rejected)[1]).toBe('Rejected by Dee Approver on 2026-11-28 10:00 UTC: "Still used by the Paris IVR". Nothing was changed.');
    expect((await app.plans.get(planId))!.status).toBe('cancelled');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
    const told = sut.adapter.later.filter((a) => a.conversation?.id === 'a:personal-chat').map((a) => cardTexts(a.attachments![0]!.content)[1]);
    expect(told).toContain('Dee Approver rejected your request: Delete cq-helpdesk@contoso.onmicrosoft.com. Reason: "Still used by the Paris IVR".');
    // The requester's own plan card says who rejected it and why (before: "Cancelled. Nothing more was changed.").
    const own = bodyOf(await sut.invoke(execute('refreshPlan', { planId })));
    expect(cardTexts(own).slice(0, 2)).toEqual(['Delete cq-helpdesk@contoso.onmicrosoft.com', 'Rejected by Dee Approver on 2026-11-28 10:00 UTC: "Still used by the Paris IVR". Nothing was changed.']);

    const late = bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER })));
    expect(cardTexts(late)[1]).toBe('Rejected by Dee Approver on 2026-11-28 10:00 UTC: "Still used by the Paris IVR". Nothing was changed.');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
  });

  it('expires a pending request after the configured time; a late approval shows it expired and runs nothing', async () => {
    const { planId } = await requestDelete();
    clock.advance(24 * 3_600_000 + 1);
    const response = bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER })));
    expect(cardTexts(response)[1]).toBe('Expired on 2026-11-29 10:00 UTC without a decision. Nothing was changed.');
    expect((await app.plans.get(planId))!.status).toBe('cancelled');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
    expect((await app.audit.readAll()).filter((e) => e.action === 'request.expired')).toHaveLength(1);
  });

  it('lets the requester cancel a pending request', async () => {
    const { planId } = await requestDelete();
    const cancelled = bodyOf(await sut.invoke(execute('cancelRequest', { requestId: planId })));
    expect(cardTexts(cancelled)[1]).toBe('Cancelled by Ada Admin on 2026-11-28 10:00 UTC. Nothing was changed.');
    const approverView = bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER })));
    expect(cardTexts(approverView)[1]).toBe('Cancelled by Ada Admin on 2026-11-28 10:00 UTC. Nothing was changed.');
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
  });

  it.each([
    ['the requester', ADMIN, ['[Cancel request]'], ''],
    ['an approver', APPROVER, ['[Approve]', '[Reject]'], ''],
    ['a bystander', STRANGER, [], 'You can follow this request here; only approvers decide.'],
  ])('answers the refresh invoke with the view of %s', async (_case, who, expected, note) => {
    const { planId } = await requestDelete();
    const refresh = { ...execute('refreshRequest', { requestId: planId }, { from: who }), value: { action: { type: 'Action.Execute', verb: 'refreshRequest', data: { requestId: planId } }, trigger: 'automatic' } };
    const response = await sut.invoke(refresh);
    expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' } });
    expect(buttons(bodyOf(response))).toEqual(expected);
    if (note) expect(cardTexts(bodyOf(response))).toContain(note);
    expect((await app.approvals.get(planId))!.status).toBe('pending');
  });

  it('keeps an approver\'s name when a later install update carries none', async () => {
    await sut.send({ ...message('', { from: { ...APPROVER, name: '' } }), type: 'installationUpdate', text: undefined });
    expect(await app.contacts.contact(APPROVER.aadObjectId)).toMatchObject({ name: 'Bob Approver', userId: APPROVER.id });
  });

  it('tells the requester which approvers could not be reached', async () => {
    await app.close();
    const unknown = 'f6f6f6f6-0000-4000-8000-000000000006';
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVER_IDS: `${APPROVER.aadObjectId},${unknown}` }, { now: clock.now });
    sut = new Conversation(app);
    const { requesterCard } = await requestDelete();
    expect(cardTexts(requesterCard)[2]).toBe(
      `Sent for approval to Bob Approver. Could not reach ${unknown}: Switchboard is not installed for them. Ask them to install it (or an admin to pre-install it), or use the approvals channel.`,
    );
  });

  it('keeps the whole story of a request in the audit log, in order', async () => {
    const { planId } = await requestDelete();
    await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER }));
    await sut.settled();
    const story = (await app.audit.readAll()).filter((e) => e.requestId === planId).map((e) => `${e.action}:${e.outcome}:${e.actor.name}`);
    expect(story).toEqual([
      'plan.deleteAccount:requested:Ada Admin',
      'request.created:requested:Ada Admin',
      'request.approved:succeeded:Bob Approver',
      'account.delete:succeeded:Ada Admin',
      'plan.deleteAccount:succeeded:Ada Admin',
      'request.done:succeeded:Bob Approver',
    ]);
  });

  it('also posts the request in the approvals channel and keeps that copy current', async () => {
    await app.close();
    const channelId = '19:approvals@thread.tacv2';
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVER_IDS: APPROVER.aadObjectId, SWITCHBOARD_APPROVALS_CHANNEL_ID: channelId }, { now: clock.now });
    sut = new Conversation(app);
    // The bot learns where the channel is from an activity in it (e.g. when it is installed in the team).
    const inChannel = message('help', { from: APPROVER });
    await sut.send({
      ...inChannel,
      conversation: { id: `${channelId};messageid=1`, conversationType: 'channel', isGroup: true, name: '', tenantId: inChannel.conversation!.tenantId },
      channelData: { ...(inChannel.channelData as object), team: { id: '19:team@thread.tacv2' }, channel: { id: channelId } },
    });
    const { planId } = await requestDelete();
    const channelCopy = sut.adapter.later.find((a) => a.conversation?.id === channelId)!;
    expect(cardTexts(channelCopy.attachments![0]!.content)).toContain('You can follow this request here; only approvers decide.');
    expect(buttons(channelCopy.attachments![0]!.content)).toEqual([]);

    await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER }));
    await sut.settled();
    const updated = sut.adapter.updates.filter((u) => u.id === channelCopy.id).map((u) => cardTexts(u.attachments![0]!.content)[1]);
    expect(updated.at(-1)).toBe('Approved by Bob Approver on 2026-11-28 10:00 UTC. Done.');
  });

  it('runs requests outside the policy without approval', async () => {
    const planId = idOf(await sut.card(message('dissociate aa-main')), 'planId');
    const done = bodyOf(await sut.invoke(execute('confirmPlan', { planId })));
    expect(cardTexts(done)[1]).toBe('Done.');
  });
});
