import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity, TurnContext } from 'botbuilder';
import type { App } from '../../src/app';
import { SHOWN_UNKNOWN, type CardCopy } from '../../src/approvals/copies';
import { DEMO } from '../../src/backends/simulated/seed';
import type { Click } from '../../src/bot/cardCopies';
import { PlanReply } from '../../src/bot/scope';
import type { CardJson } from '../../src/cards/render';
import type { RunningServer } from '../../src/server';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { post, replyTo } from '../helpers/connector';
import { cardTexts, Conversation, RecordingAdapter } from '../helpers/conversation';
import { ADMIN, APPROVER } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

const textsOf = (activity: { attachments?: { content?: unknown }[] }) => cardTexts(activity.attachments![0]!.content);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DONE_CARD = [
  'Unassign the number of cq-sales@contoso.com',
  'Done.',
  'Requested by: Ada Admin',
  'Steps',
  '✓ 1. Unassign +18555550100 (Calling Plan) and wait until it is really free',
  'The same steps by hand:',
  "Remove-CsPhoneNumberAssignment -Identity 'cq-sales@contoso.com' -TelephoneNumber '+18555550100' -NumberType CallingPlan",
  '[Show account]',
];

/**
 * The Bot Connector is slow at times (throttling: botbuilder's connector client retries 429/5xx with
 * back-off), and its client sets no deadline of its own. An attack found a card update holding the
 * card's lock for the whole call, so every click on that card — even "Show account" — hung as long as
 * the update; and an outbox pass waiting for all its deliveries, so one hung update stopped every
 * approval card, notice and card update of every plan.
 */
class SlowUpdates extends RecordingAdapter {
  started = 0;
  private release: (() => void) | undefined;
  readonly gate = new Promise<void>((r) => (this.release = r));

  /** Only the first `slow` updates wait for the gate. */
  constructor(
    logic: (context: TurnContext) => Promise<void>,
    private readonly slow = Infinity,
  ) {
    super(logic);
  }

  open(): void {
    this.release?.();
  }

  override async updateActivity(context: TurnContext, activity: Partial<Activity>): Promise<void> {
    this.started += 1;
    if (this.started <= this.slow) await this.gate;
    return super.updateActivity(context, activity);
  }
}

/** A Bot Connector on loopback that never answers the first card update (PUT) it gets. */
async function stallingConnector() {
  const requests: { method: string; url: string; body: Record<string, unknown>; at: number; closedAt?: number; answered: boolean }[] = [];
  let stalled = false;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry: (typeof requests)[number] = { method: req.method ?? '', url: req.url ?? '', body: JSON.parse(body || '{}') as Record<string, unknown>, at: Date.now(), answered: false };
      requests.push(entry);
      if (entry.method === 'PUT' && !stalled) {
        stalled = true;
        res.on('close', () => (entry.closedAt = Date.now()));
        return;
      }
      entry.answered = true;
      // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `posted-${requests.length}` }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

describe('a slow Bot Connector holds up nothing but its own call', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app.close();
    await dir.remove();
  });

  it('a click on a card is answered within 5 s even while an update of that card hangs in the connector', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none' }, { slowness: { numberOperationMs: 200 } });
    const sut = new Conversation(app);
    const slow = new SlowUpdates(async (context) => app.bot.run(context));
    app.delivery.useAdapter(slow);
    try {
      const card = await sut.card(message('unassign cq-sales'));
      const planId = idOn(card, 'planId');
      const cardId = idOn(card, 'cardId');
      expect(idOn(bodyOf(await sut.invoke(execute('confirmPlan', { planId, cardId }))), 'cardId')).toBe(cardId);
      await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, 'the plan to finish');
      await until(() => slow.started > 0, 8_000, 'the card update to reach the connector');

      // The admin clicks "Show account" on the card (or Teams refreshes it) while the update hangs.
      const release = setTimeout(() => slow.open(), 8_000);
      const started = Date.now();
      const shown = bodyOf(await sut.invoke(execute('showAccount', { accountId: DEMO.accounts.sales.id, cardId })));
      const took = Date.now() - started;
      clearTimeout(release);
      expect(took).toBeLessThan(5_000);
      expect(cardTexts(shown)[0]).toBe('Resource account');
    } finally {
      slow.open();
    }
  }, 30_000);

  it('one hung card update does not stop the approval cards of other requests', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'deleteAccount' }, { slowness: { numberOperationMs: 200 } });
    const sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
    const slow = new SlowUpdates(async (context) => app.bot.run(context));
    app.delivery.useAdapter(slow);
    try {
      const card = await sut.card(message('unassign cq-sales'));
      await sut.invoke(execute('confirmPlan', { planId: idOn(card, 'planId'), cardId: idOn(card, 'cardId') }));
      await until(() => slow.started > 0, 8_000, 'the card update to reach the connector');

      // Another admin's delete now needs the approver: its card must go out, whatever that update does.
      const deletion = await sut.card(message('delete cq-helpdesk'));
      await sut.invoke(execute('confirmPlan', { planId: idOn(deletion, 'planId') }));
      await until(() => slow.later.length > 0, 3_000, 'the approval card to reach the approver');
      expect(slow.later.map((a) => [a.conversation?.id, textsOf(a)[0]])).toEqual([['a:personal-29:approver', 'Approval needed: Delete cq-helpdesk@contoso.onmicrosoft.com']]);
    } finally {
      slow.open();
    }
  }, 30_000);

  it('the connector client aborts a card update that passes its deadline, and the update is sent again', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS: '1' }, { slowness: { numberOperationMs: 200 } });
    const server: RunningServer = await app.start();
    const connector = await stallingConnector();
    try {
      const api = `${server.url}/api/messages`;
      const asked = message('unassign cq-sales', { serviceUrl: connector.url });
      await post(api, asked);
      // The reply goes after the HTTP answer (src/bot/replies.ts); its copy learns its message id then.
      const reply = await replyTo({ posts: connector.requests }, asked);
      const planId = idOn(reply.body, 'planId');
      const cardId = idOn(reply.body, 'cardId');
      await until(async () => (await app.workflow.copy(cardId))?.activityId != null, 3_000, 'the copy to learn its message id');
      await post(api, execute('confirmPlan', { planId, cardId }, { serviceUrl: connector.url }));
      await until(() => connector.requests.filter((r) => r.method === 'PUT' && r.answered).length > 0, 10_000, 'the update to be sent again');

      const updates = connector.requests.filter((r) => r.method === 'PUT');
      const [stalled, again] = updates;
      // The first update was given up on (the socket closed by the bot) about a second after it left…
      expect(stalled!.closedAt).toBeDefined();
      expect(stalled!.closedAt! - stalled!.at).toBeGreaterThanOrEqual(900);
      expect(stalled!.closedAt! - stalled!.at).toBeLessThan(4_000);
      // …and the same message got the current card once the outbox's back-off was over.
      expect(again!.url).toBe(stalled!.url);
      expect(again!.at).toBeGreaterThanOrEqual(stalled!.closedAt!);
      expect(cardTexts((again!.body.attachments as { content: unknown }[])[0]!.content)).toEqual(DONE_CARD);
    } finally {
      await server.stop();
      await connector.close();
    }
  }, 30_000);

  it('the worker stops waiting for a call past its deadline, never sends that message again while the call is out, then sends the newest card', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS: '1' }, { slowness: { numberOperationMs: 200 } });
    const sut = new Conversation(app);
    const slow = new SlowUpdates(async (context) => app.bot.run(context), 1);
    app.delivery.useAdapter(slow);
    try {
      const card = await sut.card(message('unassign cq-sales'));
      const planId = idOn(card, 'planId');
      const cardId = idOn(card, 'cardId');
      await sut.invoke(execute('confirmPlan', { planId, cardId }));
      await until(() => slow.started > 0, 8_000, 'the card update to reach the connector');

      // Deadline (1 s) and back-off (1 s) are over: the message is due again, but its call is still out.
      await until(async () => (await app.workflow.outboxOf(planId)).some((m) => m.kind === 'refreshCopies' && m.attempts === 1), 5_000, 'the update to be given up on');
      expect((await app.workflow.outboxOf(planId)).find((m) => m.kind === 'refreshCopies')!.lastError).toBe('the Bot Connector did not answer within 1000 ms');
      await sleep(2_500);
      expect(slow.started).toBe(1);

      slow.open();
      await until(() => slow.started === 2, 5_000, 'the update to be sent again');
      await sut.settled();
      const messageId = (await app.workflow.copy(cardId))!.activityId;
      expect(slow.updates.filter((u) => u.id === messageId).map(textsOf).at(-1)).toEqual(DONE_CARD);
    } finally {
      slow.open();
    }
  }, 30_000);

  it('an update and a click that cross on one card: the card is sent the current state again once the click has landed', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' });
    const sut = new Conversation(app);
    const planCard = await sut.card(message('unassign cq-sales'));
    const planId = idOn(planCard, 'planId');
    const cardId = idOn(planCard, 'cardId');
    const copy = (await app.workflow.copy(cardId))!;

    // What the plan's card shows moves on while the update is on its way (render is asked each time).
    let version = copy.shownVersion + 1;
    const cardOf = (v: number): CardJson => ({ type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: `version ${v}` }] });
    const render = async () => ({ card: cardOf(version), version });
    const sent: string[] = [];
    let release = () => {};
    const hung = new Promise<void>((r) => (release = r));
    const send = async (_copy: CardCopy, card: CardJson): Promise<'updated'> => {
      sent.push(cardTexts(card)[0]!);
      if (sent.length === 1) await hung;
      return 'updated';
    };
    const refreshing = app.copies.refresh(cardId, planId, render, send);
    await until(() => sent.length === 1, 2_000, 'the update to leave');

    // The owner clicks the card meanwhile and is answered with a newer state.
    version += 1;
    const click: Click = { verb: 'confirmPlan', aadObjectId: ADMIN.aadObjectId, conversation: copy.conversation, cardId, replyToId: undefined, locale: 'en' };
    const started = Date.now();
    await app.copies.forClick(cardId, async () => app.copies.afterClick(click, await app.copies.clicked(click), new PlanReply(cardOf(version), planId, version, 'plan'), true));
    expect(Date.now() - started).toBeLessThan(2_500);

    // Which of the two reached Teams last is unknown: the copy says so, and gets the current card after the click's quiet period.
    release();
    const quietUntil = Date.parse((await app.workflow.copy(cardId))!.quietUntil!);
    expect(await refreshing).toEqual({ kind: 'later', atMs: quietUntil });
    expect((await app.workflow.copy(cardId))!.shownVersion).toBe(SHOWN_UNKNOWN);
    await sleep(quietUntil - Date.now() + 10);
    expect(await app.copies.refresh(cardId, planId, render, send)).toEqual({ kind: 'current' });
    expect(sent).toEqual([`version ${version - 1}`, `version ${version}`]);
    expect((await app.workflow.copy(cardId))!.shownVersion).toBe(version);
  });
});
