import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { testApp, tempDir } from '../helpers/app';
import { execute, message, submit } from '../helpers/activities';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER, STRANGER } from '../helpers/identities';

type Card = Record<string, unknown>;
const CARD = 'application/vnd.microsoft.card.adaptive';

/** The plan id a card's Confirm/Cancel/Retry buttons carry (ids only, never state). */
function planIdOf(card: unknown): string {
  const match = /"planId":"([0-9a-f-]{36})"/.exec(JSON.stringify(card));
  if (!match) throw new Error('no plan id on the card');
  return match[1]!;
}

function buttons(card: unknown): string[] {
  return cardTexts(card).filter((t) => t.startsWith('['));
}

describe('confirmable plans in the conversation', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  describe('with a fast tenant', () => {
    beforeEach(async () => {
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
      sut = new Conversation(app);
    });

    it('"delete" shows the account, its number, license, associations and the plan, and changes nothing', async () => {
      const before = await app.directory.getAccount(DEMO.accounts.mainLine.id);
      const card = await sut.card(message('delete aa-main'));
      expect(cardTexts(card)).toEqual([
        'Delete aa-main@contoso.com',
        'Nothing has changed yet. Confirm to run these steps.',
        'Username: aa-main@contoso.com',
        'Type: Auto attendant',
        'License: Teams Phone Resource Account',
        `Phone number: ${DEMO.numbers.mainLine}`,
        'Used by: Main line',
        'Requested by: Ada Admin',
        'Callers who dial +14255550100 will no longer reach Main line, which will no longer use this resource account.',
        'Steps',
        `○ 1. Unassign ${DEMO.numbers.mainLine} (Calling Plan) and wait until it is really free`,
        '○ 2. Remove it from Main line',
        '○ 3. Delete the account (recoverable for 30 days in Microsoft 365)',
        'The same steps by hand:',
        `Remove-CsPhoneNumberAssignment -Identity 'aa-main@contoso.com' -TelephoneNumber '${DEMO.numbers.mainLine}' -NumberType CallingPlan`,
        `Remove-CsOnlineApplicationInstanceAssociation -Identities ${DEMO.accounts.mainLine.id}`,
        `DELETE https://graph.microsoft.com/v1.0/users/${DEMO.accounts.mainLine.id}`,
        '[Confirm]',
        '[Cancel]',
      ]);
      expect(await app.directory.getAccount(DEMO.accounts.mainLine.id)).toEqual(before);
    });

    it.each([
      ['unassign cq-sales', `Callers who dial ${DEMO.numbers.sales} will no longer reach Sales.`],
      ['dissociate cq-support-fr', 'Support FR will no longer use this resource account.'],
      // Used by nothing: no one will notice, and the card says nothing.
      ['delete cq-helpdesk', undefined],
    ])('"%s" says what callers will notice before anything changes', async (command, impact) => {
      const texts = cardTexts(await sut.card(message(command)));
      const line = texts.find((t) => /will no longer/.test(t));
      expect(line).toBe(impact);
    });

    it('runs the plan on Confirm and answers with the whole result card; a second click shows the current state', async () => {
      const planId = planIdOf(await sut.card(message('delete cq-helpdesk')));
      const response = await sut.invoke(execute('confirmPlan', { planId }));
      expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD } });
      const done = (response.body as { value: Card }).value;
      expect(cardTexts(done).slice(0, 2)).toEqual(['Delete cq-helpdesk@contoso.onmicrosoft.com', 'Done.']);
      expect(buttons(done)).toEqual([]);
      expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();

      const again = await sut.invoke(execute('confirmPlan', { planId }));
      expect(again).toEqual(response);
      expect((await app.audit.readAll()).filter((e) => e.action === 'account.delete')).toHaveLength(1);
    });

    it('does not update a card afterwards with what the click already showed (no late overwrite)', async () => {
      const planId = planIdOf(await sut.card(message('delete cq-helpdesk')));
      const response = await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'card-7' });
      expect(cardTexts((response.body as { value: Card }).value)[1]).toBe('Done.');
      await new Promise((r) => setTimeout(r, 400));
      await sut.settled();
      expect(sut.adapter.updates.filter((u) => u.id === 'card-7')).toEqual([]);
    });

    it('handles Confirm sent as an Action.Submit fallback through the same path', async () => {
      const planId = planIdOf(await sut.card(message('switch aa-reception')));
      const replies = await sut.send(submit('confirmPlan', { planId }));
      expect(cardTexts(replies[0]!.attachments![0]!.content).slice(0, 2)).toEqual(['Switch the license of aa-reception@contoso.com', 'Done.']);
      expect(await app.directory.getAccount(DEMO.accounts.reception.id)).toMatchObject({ assignedLicenses: [DEMO.skus.resourceAccount.skuId] });
    });

    it('Cancel leaves everything as it was', async () => {
      const before = await app.directory.getAccount(DEMO.accounts.sales.id);
      const planId = planIdOf(await sut.card(message('unassign cq-sales')));
      const response = await sut.invoke(execute('cancelPlan', { planId }));
      expect(cardTexts((response.body as { value: Card }).value).slice(0, 2)).toEqual(['Unassign the number of cq-sales@contoso.com', 'Cancelled. Nothing more was changed.']);
      expect(await app.directory.getAccount(DEMO.accounts.sales.id)).toEqual(before);
    });

    it.each([
      ['delete', 'nobody', 'No resource account nobody in this tenant.'],
      ['unassign', 'cq-support-fr', 'cq-support-fr@contoso.com has no phone number.'],
      ['switch', 'aa-main', 'The account has no Phone System license to switch from.'],
      ['dissociate', 'aa-paris', 'aa-paris@contoso.com is not used by any auto attendant or call queue: there is nothing to remove.'],
      ['delete', '', 'Say which account: "delete <\u2060username>", e.g. "delete aa-main" or "delete aa-main@contoso.com".'],
    ])('"%s %s" is refused with the reason and no plan', async (command, who, reason) => {
      const card = await sut.card(message(`${command} ${who}`));
      expect(cardTexts(card)).toEqual(['Not done', reason]);
      expect(JSON.stringify(card)).not.toContain('planId');
    });

    it.each([
      ['an approver', APPROVER],
      ['someone with no role', STRANGER],
    ])('refuses Confirm from %s and runs nothing', async (_case, who) => {
      const planId = planIdOf(await sut.card(message('delete cq-helpdesk')));
      const response = await sut.invoke(execute('confirmPlan', { planId }, { from: who }));
      expect(cardTexts((response.body as { value: Card }).value)[0]).toBe('Not done');
      expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
      expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
    });

    it('answers a click on a plan that does not exist with a refusal card', async () => {
      const response = await sut.invoke(execute('confirmPlan', { planId: '00000000-0000-4000-8000-000000000000' }));
      expect(cardTexts((response.body as { value: Card }).value)).toEqual(['Not done', 'This request no longer exists.']);
    });
  });

  describe('with a slow tenant', () => {
    beforeEach(async () => {
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '20', SWITCHBOARD_SIM_NUMBER_DELAY_MS: '2500', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
      sut = new Conversation(app);
    });

    it('answers the click at once with a "working" card, then updates that card in place when the plan is done', async () => {
      const planId = planIdOf(await sut.card(message('unassign aa-main')));
      const clicked = { ...execute('confirmPlan', { planId }), replyToId: 'card-42' };
      const response = await sut.invoke(clicked);
      // "At once": the answer came while the tenant was still at work (the number operation takes 2.5 s).
      expect(await app.directory.getPhoneNumber(DEMO.numbers.mainLine)).not.toMatchObject({ assignmentStatus: 'unassigned', activationState: 'activated' });
      const working = (response.body as { value: Card }).value;
      expect(cardTexts(working)[1]).toMatch(/^(Working on it…|Waiting for the tenant: )/);
      expect(buttons(working)).toEqual(['[Refresh]']);

      // The card is updated in place once the plan is done (after a short pause, see CardUpdates).
      const isDone = () => sut.adapter.updates.some((u) => u.id === 'card-42' && JSON.stringify(u).includes('"Done."'));
      const deadline = Date.now() + 8_000;
      while (!isDone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      await sut.settled();
      const last = sut.adapter.updates.at(-1)!;
      expect(last.id).toBe('card-42');
      expect(cardTexts(last.attachments![0]!.content).slice(0, 2)).toEqual(['Unassign the number of aa-main@contoso.com', 'Done.']);
      expect(await app.directory.getPhoneNumber(DEMO.numbers.mainLine)).toMatchObject({ assignmentStatus: 'unassigned', activationState: 'activated' });
    });
  });
});
