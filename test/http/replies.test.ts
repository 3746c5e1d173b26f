import path from 'node:path';
import { Writable } from 'node:stream';
import type { App } from '../../src/app';
import { replyQueueOf } from '../../src/approvals/copies';
import { createLogger } from '../../src/log/logger';
import type { RunningServer } from '../../src/server';
import { fullDisk } from '../fakes/disk';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { ensureBuilt, startBot, type BotProcess } from '../helpers/botProcess';
import { post, switchableConnector, type Captured } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
import { ADMIN, APPROVER, TENANT } from '../helpers/identities';
import { idOn, until } from '../helpers/waiting';

/**
 * Issue 12, part 4: a message turn's HTTP answer waited for its reply to reach the Bot Connector, so a
 * connector that could not be reached held the answer as long as the call took (more than 5 s).
 * The answer now comes once the reply is in the outbox (durable: the 200 acknowledges the message and
 * the connector never sends it again), and the outbox worker sends it, in the conversation's order,
 * with bounded retries. Over real HTTP, with a loopback Bot Connector that is down and comes back.
 */
const QUEUE = replyQueueOf('a:personal-chat');
const cardOf = (post: Captured) => (post.body.attachments as { content: Record<string, unknown> }[])[0]!.content;
/** What a reply shows first: the title, or the account a `show` answered with. */
const headline = (post: Captured) => cardTexts(cardOf(post)).find((t) => t.startsWith('Username: ')) ?? cardTexts(cardOf(post))[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe('replies to messages go out after the HTTP answer, through the outbox', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof switchableConnector>>;
  let api: string;

  async function start(env: Record<string, string>, options: Parameters<typeof testApp>[2] = {}, state: 'up' | 'hanging' | 'refusing' = 'refusing') {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS: '1', ...env }, options);
    server = await app.start();
    api = `${server.url}/api/messages`;
    connector = await switchableConnector(state);
    // A first turn loads the card templates and the tenant: what the timings below measure is the turn, not that.
    expect((await post(api, execute('listAccounts', { offset: 0 }, { serviceUrl: connector.url }))).status).toBe(200);
  }

  const pendingReplies = async () => (await app.workflow.outboxOf(QUEUE)).filter((m) => m.kind === 'reply');

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    // The connector first: a call still out to it ends at once instead of at its deadline.
    await connector.close();
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it.each(['hanging', 'refusing'] as const)(
    'a message is answered in under 1 s while the connector is %s; its plan card goes out once the connector is back, and later updates reach that message',
    async (state) => {
      // The tenant takes its time, so the click is answered before the plan is done and the card is updated later.
      await start({ SWITCHBOARD_SIM_NUMBER_DELAY_MS: '2500' }, {}, state);
      const sent = message('unassign cq-sales', { serviceUrl: connector.url });
      const { value: response, ms } = await timed(post(api, sent));
      expect(response).toEqual({ status: 200, body: undefined });
      expect(ms).toBeLessThan(1_000);
      // Acknowledged = durable: the reply was in the outbox before the 200, and its card's copy with it.
      const waiting = await pendingReplies();
      expect(waiting.map((m) => [m.status, m.attempts])).toEqual([['pending', 0]]);
      expect(await app.workflow.copy(idOn(waiting[0]!.reply!.card, 'cardId'))).toMatchObject({ view: 'plan', activityId: null });

      await until(async () => (await pendingReplies())[0]!.attempts >= 1, 8_000, 'a first attempt to fail');
      expect(connector.posts).toEqual([]);
      await connector.to('up');
      await until(() => connector.posts.length === 1, 8_000, 'the reply to go out');

      // The same message the turn would have sent: a reply to the user's message, the plan's card.
      const [reply] = connector.posts;
      expect(reply!.url).toBe(`/v3/conversations/a%3Apersonal-chat/activities/${sent.id}`);
      expect(cardTexts(cardOf(reply!))[0]).toBe('Unassign the number of cq-sales@contoso.com');
      // Its card became a copy with the message id Teams gave it, so later changes update it in place.
      const cardId = idOn(cardOf(reply!), 'cardId');
      await until(async () => (await app.workflow.copy(cardId))?.activityId === 'posted-1', 3_000, 'the copy to be recorded');
      expect(await pendingReplies()).toEqual([]);

      const confirmed = await post(api, execute('confirmPlan', { planId: idOn(cardOf(reply!), 'planId'), cardId }, { serviceUrl: connector.url }));
      expect(confirmed.status).toBe(200);
      const done = (p: Captured) => p.method === 'PUT' && cardTexts(cardOf(p))[1] === 'Done.';
      await until(() => connector.posts.some(done), 10_000, 'the card to be updated to Done');
      expect(connector.posts.filter((p) => p.method === 'PUT').map((p) => p.url)).toEqual(
        connector.posts.filter((p) => p.method === 'PUT').map(() => '/v3/conversations/a%3Apersonal-chat/activities/posted-1'),
      );
    },
    30_000,
  );

  it('a plan card that waited in the outbox while its plan moved on is brought up to date once it is out', async () => {
    await start({});
    await post(api, message('unassign cq-sales', { serviceUrl: connector.url }));
    const waiting = (await pendingReplies())[0]!;
    const planId = idOn(waiting.reply!.card, 'planId');
    // The plan moves on (confirmed from elsewhere) while its card has not reached the chat yet.
    await app.approvals.confirm(planId, { aadObjectId: ADMIN.aadObjectId, name: ADMIN.name });
    await until(async () => (await app.plans.get(planId))?.status === 'done', 8_000, 'the plan to finish');

    // Back right after an attempt failed, while the reply waits for its next one: not while a call is
    // out. A call whose own retries straddle the connector's return can reach it just as its deadline
    // aborts it, and the reply then goes out twice (at least once, by design: src/bot/delivery.ts).
    const failed = (await pendingReplies())[0]!.attempts;
    await until(async () => (await pendingReplies())[0]!.attempts > failed, 8_000, 'an attempt to fail');
    await connector.to('up');
    await until(() => connector.posts.some((p) => p.method === 'PUT'), 10_000, 'the late card to be updated');
    const [sentCard, ...updates] = connector.posts;
    expect(cardTexts(cardOf(sentCard!))[1]).not.toBe('Done.');
    expect(updates.map((p) => [p.method, p.url, cardTexts(cardOf(p))[1]])).toEqual([['PUT', '/v3/conversations/a%3Apersonal-chat/activities/posted-1', 'Done.']]);
  }, 30_000);

  it('keeps the order of two quick messages: the second waits while the first is retried', async () => {
    await start({});
    const first = await timed(post(api, message('show aa-main', { serviceUrl: connector.url })));
    // The first reply failed twice and waits 2 s for its next attempt when the connector comes back…
    await until(async () => (await pendingReplies())[0]!.attempts >= 2, 8_000, 'two failed attempts');
    await connector.to('up');
    // …and the second message's reply, which could go at once, waits for it.
    const second = await timed(post(api, message('show cq-sales', { serviceUrl: connector.url })));
    expect([first.ms, second.ms].every((ms) => ms < 1_000)).toBe(true);
    await until(() => connector.posts.length === 2, 10_000, 'both replies to go out');
    expect(connector.posts.map(headline)).toEqual(['Username: aa-main@contoso.com', 'Username: cq-sales@contoso.com']);
  }, 30_000);

  it('keeps the order of two quick messages when the second turn ends first', async () => {
    await start({}, {}, 'up');
    // The first message's turn is slow (the tenant takes its time), the second's is not.
    const findAccount = app.provisioning.findAccount.bind(app.provisioning);
    let calls = 0;
    jest.spyOn(app.provisioning, 'findAccount').mockImplementation(async (username) => {
      if (++calls === 1) await sleep(600);
      return findAccount(username);
    });
    const answered: string[] = [];
    const first = post(api, message('show aa-main', { serviceUrl: connector.url })).then(() => answered.push('first'));
    await sleep(100);
    await post(api, message('show cq-sales', { serviceUrl: connector.url })).then(() => answered.push('second'));
    await first;
    expect(answered).toEqual(['second', 'first']);
    await until(() => connector.posts.length === 2, 5_000, 'both replies to go out');
    expect(connector.posts.map(headline)).toEqual(['Username: aa-main@contoso.com', 'Username: cq-sales@contoso.com']);
  }, 30_000);

  it('tries a reply a bounded number of times, then logs and drops it; the next reply is not held up', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    await start({}, { log: createLogger('warn', sink), replyAttempts: 3 });
    const dropped = message('help', { serviceUrl: connector.url });
    expect((await timed(post(api, dropped))).ms).toBeLessThan(1_000);
    await until(async () => (await pendingReplies()).length === 0, 15_000, 'the reply to be dropped');

    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; attempts?: number; conversationId?: string });
    const about = logged.filter((l) => l.msg.includes('reply'));
    expect(about.map((l) => [l.level, l.msg, l.attempts, l.conversationId])).toEqual([
      [40, 'outbox: reply not delivered, will retry', 1, 'a:personal-chat'],
      [40, 'outbox: reply not delivered, will retry', 2, 'a:personal-chat'],
      [50, 'outbox: giving up on a reply; dropped', 3, 'a:personal-chat'],
    ]);

    await connector.to('up');
    const next = message('help', { serviceUrl: connector.url });
    await post(api, next);
    await until(() => connector.posts.length === 1, 5_000, 'the next reply to go out');
    await sleep(1_500);
    expect(connector.posts.map((p) => p.url)).toEqual([`/v3/conversations/a%3Apersonal-chat/activities/${next.id}`]);
  }, 30_000);

  it('sends the reply within the turn when the outbox cannot take it (disk full), bounded by the connector deadline', async () => {
    await start({}, {}, 'up');
    const disk = fullDisk((file) => file.startsWith(dir.dir) && path.basename(file).startsWith('workflow.json'));
    try {
      disk.fill();
      // The answer is ready and nobody has it: it goes before the 200, as replies did before the outbox took them.
      expect((await post(api, message('show aa-main', { serviceUrl: connector.url }))).status).toBe(200);
      expect(connector.posts.map(headline)).toEqual(['Username: aa-main@contoso.com']);
      // Within the turn, a connector that cannot be reached costs the call's deadline (1 s here), not ~5 s of retries.
      await connector.to('refusing');
      const { value: response, ms } = await timed(post(api, message('show cq-sales', { serviceUrl: connector.url })));
      expect(response.status).toBe(200);
      expect(ms).toBeLessThan(3_000);
    } finally {
      disk.restore();
    }
  }, 30_000);

  it('answers an invoke within the turn, as before: its answer is the HTTP response', async () => {
    await start({}, {}, 'up');
    const response = await post(api, execute('listAccounts', { offset: 0 }, { serviceUrl: connector.url }));
    expect(response.status).toBe(200);
    expect(cardTexts((response.body as { value: unknown }).value)).toContain('Resource accounts');
    expect(await app.workflow.nextOutboxAt()).toBeUndefined();
    expect(connector.posts).toEqual([]);
  });

  it('checks the Bot Framework token before any 200, and a refused request leaves no reply behind', async () => {
    app = await testApp(dir.dir, {
      MicrosoftAppId: '11111111-2222-4333-8444-555555555555',
      MicrosoftAppPassword: 'not-a-real-secret',
      MicrosoftAppTenantId: TENANT,
      SWITCHBOARD_PUBLIC_URL: 'https://switchboard.contoso.com',
      HOST: '127.0.0.1',
    });
    server = await app.start();
    connector = await switchableConnector('up');
    const response = await post(`${server.url}/api/messages`, message('help', { serviceUrl: connector.url }), { authorization: 'Bearer not.a.jwt' });
    expect(response).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(await app.workflow.nextOutboxAt()).toBeUndefined();
  });
});

describe('a reply acknowledged with a 200 survives kill -9', () => {
  jest.setTimeout(180_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let connector: Awaited<ReturnType<typeof switchableConnector>>;
  let bot: BotProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
  });

  beforeEach(async () => {
    dir = await tempDir('switchboard-replies-');
    connector = await switchableConnector('refusing');
  });

  afterEach(async () => {
    await bot?.kill9().catch(() => undefined);
    await connector.close();
    await dir.remove();
  });

  it('is sent by the next process once the connector is back', async () => {
    const env = {
      SWITCHBOARD_DATA_DIR: dir.dir,
      SWITCHBOARD_TENANT_ID: TENANT,
      SWITCHBOARD_ADMIN_IDS: ADMIN.aadObjectId,
      SWITCHBOARD_APPROVER_IDS: APPROVER.aadObjectId,
      SWITCHBOARD_APPROVAL_OPERATIONS: 'none',
    };
    bot = await startBot(env);
    const sent = message('show aa-main', { serviceUrl: connector.url });
    const { value: response, ms } = await timed(post(`${bot.url}/api/messages`, sent));
    expect(response.status).toBe(200);
    expect(ms).toBeLessThan(1_000);
    await bot.kill9();

    await connector.to('up');
    bot = await startBot(env);
    await until(() => connector.posts.length === 1, 10_000, 'the reply to go out after the restart');
    expect(connector.posts[0]!.url).toBe(`/v3/conversations/a%3Apersonal-chat/activities/${sent.id}`);
    expect(headline(connector.posts[0]!)).toBe('Username: aa-main@contoso.com');
  });
});
