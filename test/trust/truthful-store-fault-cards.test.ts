import path from 'node:path';
import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import { StoreUnavailableError } from '../../src/store/errors';
import type { WorkflowStore } from '../../src/store/workflow';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { fullDisk } from '../fakes/disk';
import { bodyOf, idOn, until } from '../helpers/waiting';

const CORRELATION = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const textsOf = (activity: { attachments?: { content?: unknown }[] }) => cardTexts(activity.attachments![0]!.content);

/**
 * A card that reports a store failure says "nothing was done and the tenant was not changed" only when
 * the click got nothing committed. An attack found it said so when the click's last write (recording
 * where the card lives) failed after a delete had run. A failure after a commit is now either not the
 * click's business at all (recording where the card lives is best effort) or is said as what it is:
 * what the store holds, and that cards may lag.
 */
describe('store fault cards say what is true, before and after a commit', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let disk: ReturnType<typeof fullDisk>;

  beforeEach(async () => {
    dir = await tempDir();
    disk = fullDisk((file) => file.startsWith(dir.dir) && /(workflow\.json|audit\.jsonl)/.test(path.basename(file)));
  });

  afterEach(async () => {
    disk.restore();
    jest.restoreAllMocks();
    await app.close();
    await dir.remove();
  });

  it.each([
    [
      'en-US',
      'Something went wrong',
      'Switchboard could not record this (ENOSPC: its storage is unavailable), so nothing was done and the tenant was not changed. Nothing else changed. Try again in a moment; if it persists, quote this id to your administrator: ',
    ],
    [
      'fr-FR',
      'Un problème est survenu',
      'Switchboard n’a pas pu enregistrer cette action (ENOSPC\u00a0: son stockage est indisponible)\u00a0; rien n’a donc été fait et le tenant n’a pas été modifié. Rien d’autre n’a changé. Réessayez dans un instant\u00a0; si le problème persiste, communiquez cet identifiant à votre administrateur\u00a0: ',
    ],
  ])('store full before anything was committed (%s): "nothing was done", and nothing was', async (locale, title, said) => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' });
    const sut = new Conversation(app);
    const planCard = await sut.card(message('delete cq-helpdesk', { locale }));
    const planId = idOn(planCard, 'planId');
    disk.fill();
    const deleteAccount = jest.spyOn(app.directory, 'deleteAccount');

    const answer = cardTexts(bodyOf(await sut.invoke(execute('confirmPlan', { planId, cardId: idOn(planCard, 'cardId') }, { locale }))));

    expect(answer.map((t) => t.replace(CORRELATION, '<id>'))).toEqual([title, `${said}<id>`]);
    expect((await app.plans.get(planId))!.status).toBe('awaitingConfirmation');
    expect(deleteAccount).not.toHaveBeenCalled();
    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).not.toBeNull();
  });

  it.each([
    [
      'en-US',
      'Something went wrong',
      'Switchboard\'s storage stopped answering (ECONNRESET) just as it was recording this, so whether it was recorded is not known. Recorded so far: Delete cq-helpdesk@contoso.onmicrosoft.com — running. The tenant may already have changed. Look before you try again (for example with "show"); if this persists, quote this id to your administrator: ',
    ],
    [
      'fr-FR',
      'Un problème est survenu',
      'Le stockage de Switchboard a cessé de répondre (ECONNRESET) au moment où il enregistrait cette action\u00a0; on ne sait donc pas si elle a été enregistrée. Enregistré jusqu’ici\u00a0: Supprimer cq-helpdesk@contoso.onmicrosoft.com — en cours. Le tenant a peut-être déjà changé. Vérifiez avant de réessayer (par exemple avec «\u00a0show\u00a0»)\u00a0; si le problème persiste, communiquez cet identifiant à votre administrateur\u00a0: ',
    ],
  ])('a commit whose answer was lost, its fate not learnt in time (%s): the card says so and what is recorded, never "nothing was done"', async (locale, title, said) => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' });
    const sut = new Conversation(app);
    const planCard = await sut.card(message('delete cq-helpdesk', { locale }));
    const planId = idOn(planCard, 'planId');
    // The plan's next commit goes through, and its answer is lost (PostgreSQL: Database.transaction, outcome unknown).
    const inner = (app.workflow as unknown as { inner: WorkflowStore }).inner;
    const transact = inner.transact.bind(inner);
    let lost = 0;
    jest.spyOn(inner, 'transact').mockImplementation(async (work) => {
      const result = await transact(work);
      if (lost === 0 && (await inner.plan(planId))?.status !== 'awaitingConfirmation') {
        lost += 1;
        throw new StoreUnavailableError('PostgreSQL', Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }), { outcomeUnknown: true });
      }
      return result;
    });

    const answer = cardTexts(bodyOf(await sut.invoke(execute('confirmPlan', { planId, cardId: idOn(planCard, 'cardId') }, { locale }))));

    expect(lost).toBe(1);
    expect(answer.map((t) => t.replace(CORRELATION, '<id>'))).toEqual([title, `${said}<id>`]);
  });

  it("a store that does not answer the fault card's read either: the card comes within about 2 s and says what was recorded cannot be read", async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' });
    const sut = new Conversation(app);
    const planCard = await sut.card(message('delete cq-helpdesk'));
    const planId = idOn(planCard, 'planId');
    const inner = (app.workflow as unknown as { inner: WorkflowStore }).inner;
    const transact = inner.transact.bind(inner);
    jest.spyOn(inner, 'transact').mockImplementation(async (work) => {
      await transact(work);
      // From here on a read of the plan hangs (PostgreSQL: a server that takes connections and never answers).
      jest.spyOn(app.plans, 'get').mockImplementation(() => new Promise(() => undefined));
      throw new StoreUnavailableError('PostgreSQL', Object.assign(new Error('Query read timeout'), { code: 'ETIMEDOUT' }), { outcomeUnknown: true });
    });

    const started = Date.now();
    const answer = cardTexts(bodyOf(await sut.invoke(execute('confirmPlan', { planId, cardId: idOn(planCard, 'cardId') }))));
    const took = Date.now() - started;

    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(4_000);
    expect(answer.map((t) => t.replace(CORRELATION, '<id>'))).toEqual([
      'Something went wrong',
      'Switchboard\'s storage stopped answering (ETIMEDOUT) just as it was recording this, so whether it was recorded is not known. What was recorded cannot be read right now. Look before you try again (for example with "show"); if this persists, quote this id to your administrator: <id>',
    ]);
  });

  it("the click's last write (where its card lives) fails after the delete ran: the answer is the plan as it stands, and the card catches up later", async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_PLAN_POLL_MS: '10' });
    const sut = new Conversation(app);
    const planId = idOn(await sut.card(message('delete cq-helpdesk')), 'planId');
    // The tenant deletes the account; right then the data disk fills up (another process's log, say).
    jest.spyOn(app.directory, 'deleteAccount').mockImplementation(async (id) => {
      const done = await SimulatedTenant.prototype.deleteAccount.call(app.directory, id);
      disk.fill();
      return done;
    });

    // Clicked on a message Switchboard knows by Teams' id only: the click's last write makes it a copy.
    const answer = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'plan-card' }));

    expect(await app.directory.getAccount(DEMO.accounts.helpdesk.id)).toBeNull();
    expect(cardTexts(answer)).toEqual([
      'Delete cq-helpdesk@contoso.onmicrosoft.com',
      'Working on it… this card updates by itself when it is done.',
      'Switchboard could not record the last step (ENOSPC). The tenant may already have changed; Switchboard will look at the tenant again and record it as soon as its storage works again.',
      'Requested by: Ada Admin',
      'Steps',
      '○ 1. Delete the account (recoverable for 30 days in Microsoft 365)',
      'The same steps by hand:',
      'DELETE https://graph.microsoft.com/v1.0/users/a0000000-0000-4000-8000-000000000006',
      '[Refresh]',
    ]);
    const cardId = idOn(answer, 'cardId');
    expect(await app.workflow.copy(cardId)).toBeUndefined();

    // Once the disk has room, the plan records its outcome, the copy is written, and the message shows it.
    disk.free();
    await until(async () => (await app.plans.get(planId))?.status === 'done', 10_000, 'the plan to be recorded');
    await sut.settled();
    const updates = sut.adapter.updates.filter((u) => u.id === 'plan-card');
    expect(updates.map(textsOf)).toEqual([
      [
        'Delete cq-helpdesk@contoso.onmicrosoft.com',
        'Done.',
        'Requested by: Ada Admin',
        'Steps',
        '✓ 1. Delete the account (recoverable for 30 days in Microsoft 365)',
        'The same steps by hand:',
        'DELETE https://graph.microsoft.com/v1.0/users/a0000000-0000-4000-8000-000000000006',
      ],
    ]);
    expect(await app.workflow.copy(cardId)).toMatchObject({ activityId: 'plan-card', view: 'plan', planId });
  });

  it.each([
    [
      'en-US',
      [
        'Something went wrong',
        "Switchboard's storage became unavailable (ECONNRESET) partway through this, after part of it was recorded. Recorded so far: Delete cq-helpdesk@contoso.onmicrosoft.com — running. The tenant may already have changed. Cards about it may be out of date until Switchboard can record again. If this persists, quote this id to your administrator: ",
      ],
    ],
    [
      'fr-FR',
      [
        'Un problème est survenu',
        'Le stockage de Switchboard est devenu indisponible (ECONNRESET) en cours de route, après qu’une partie de cette action a été enregistrée. Enregistré jusqu’ici\u00a0: Supprimer cq-helpdesk@contoso.onmicrosoft.com — en cours. Le tenant a peut-être déjà changé. Les cartes qui la concernent ne sont peut-être plus à jour tant que Switchboard ne peut pas enregistrer de nouveau. Si le problème persiste, communiquez cet identifiant à votre administrateur\u00a0: ',
      ],
    ],
  ])('store lost after the approval was committed (%s): the card says what is recorded, never "nothing was done"', async (locale, [title, said]) => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'deleteAccount', SWITCHBOARD_PLAN_POLL_MS: '10' });
    const sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER, locale }));
    const planId = idOn(await sut.card(message('delete cq-helpdesk')), 'planId');
    await sut.invoke(execute('confirmPlan', { planId }));
    // The delete waits for the test, so the plan is still running when the card is written.
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    jest.spyOn(app.directory, 'deleteAccount').mockImplementation(async (id) => {
      await released;
      return SimulatedTenant.prototype.deleteAccount.call(app.directory, id);
    });
    // The database drops the connection while the click waits for the plan it just started (PostgreSQL
    // answers every query on a lost connection with an error; here only that one wait sees it).
    jest.spyOn(app.plans, 'settle').mockRejectedValueOnce(new StoreUnavailableError('PostgreSQL', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));

    try {
      const answer = cardTexts(bodyOf(await sut.invoke(execute('approveRequest', { requestId: planId }, { from: APPROVER, locale }))));

      expect(answer.map((t) => t.replace(CORRELATION, '<id>'))).toEqual([title, `${said}<id>`]);
      expect((await app.approvals.get(planId))!.status).toBe('executing');
    } finally {
      release();
    }
    await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, 'the approved delete to finish');
  });
});
