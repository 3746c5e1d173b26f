import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app';
import { replyQueueOf } from '../../src/approvals/copies';
import { ReplyQueue } from '../../src/bot/replies';
import { StoreUnavailableError } from '../../src/store/errors';
import type { RunningServer } from '../../src/server';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { post } from '../helpers/connector';
import { capturedLog } from '../helpers/logs';
import { cardTexts } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { idOn, until } from '../helpers/waiting';

/**
 * A new message (POST) cut off at its deadline may already be in Teams: Teams has no idempotency key
 * for it, so the outbox sent it again and the chat showed the card twice, the first copy never updated.
 * A clean-clone CI run showed it: a reply whose client retry left just before the 1 s deadline reached
 * the connector as the deadline aborted it. Now an attempt on the wire at the deadline is waited for
 * up to twice the deadline, and no attempt starts after the deadline (src/bot/connectorDeadline.ts).
 * Over real HTTP, with a loopback Bot Connector whose answers are scripted per request.
 */

/** How the scripted connector answers one request: after `afterMs`, with `status` (and Retry-After), or never. */
type Answer = { afterMs: number; status?: number; retryAfterSeconds?: number } | 'never';

interface Seen {
  method: string;
  url: string;
  body: Record<string, unknown>;
  at: number;
  answeredAt?: number;
  /** When the bot closed the connection of a request it was never answered on. */
  closedAt?: number;
  id?: string;
}

async function scriptedConnector(script: (request: { method: string; url: string; index: number }) => Answer) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        body: JSON.parse(body || '{}') as Record<string, unknown>,
        at: Date.now(),
      };
      seen.push(entry);
      const answer = script({
        method: entry.method,
        url: entry.url,
        index: seen.length - 1,
      });
      res.on('close', () => {
        if (entry.answeredAt === undefined) entry.closedAt = Date.now();
      });
      if (answer === 'never') return;
      setTimeout(() => {
        if (res.destroyed) return;
        entry.answeredAt = Date.now();
        const status = answer.status ?? 200;
        entry.id = status === 200 ? `posted-${seen.indexOf(entry) + 1}` : undefined;
        const headers: Record<string, string> = {
          'content-type': 'application/json',
        };
        if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = String(answer.retryAfterSeconds);
        // restify patches ServerResponse.writeHead process-wide (stack.md §1): call end separately.
        res.writeHead(status, headers);
        res.end(
          JSON.stringify(
            status === 200
              ? { id: entry.id }
              : {
                  error: {
                    code: 'ServiceUnavailable',
                    message: 'the test connector is busy',
                  },
                },
          ),
        );
      }, answer.afterMs);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    seen,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cardOf = (seen: Seen) => (seen.body.attachments as { content: Record<string, unknown> }[])[0]!.content;
const isReplyTo = (activityId: string | undefined) => (s: Seen) => s.method === 'POST' && s.url === `/v3/conversations/a%3Apersonal-chat/activities/${activityId}`;

describe('a new message on the wire at its deadline is waited for, not sent twice', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof scriptedConnector>>;
  let api: string;

  async function start(script: Parameters<typeof scriptedConnector>[0], env: Record<string, string> = {}, options: Parameters<typeof testApp>[2] = {}) {
    // A 1 s deadline: the grace for a new message on the wire is then 2 s in all.
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS: '1', ...env }, options);
    server = await app.start();
    api = `${server.url}/api/messages`;
    connector = await scriptedConnector(script);
  }

  /** What the reply's first failed attempt recorded, read as soon as it is there (the next attempt follows 1 s later). */
  async function firstAttemptError(): Promise<string | undefined> {
    let lastError: string | undefined;
    await until(
      async () => {
        lastError ??= (await app.workflow.outboxOf(replyQueueOf('a:personal-chat'))).find((m) => m.attempts === 1)?.lastError;
        return lastError !== undefined;
      },
      5_000,
      'the first attempt to fail',
    );
    return lastError;
  }

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await connector.close();
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it('a reply Teams answers after the deadline goes out once, and its card keeps the message id Teams gave it', async () => {
    // The first new message takes 1.6 s to be answered: past the 1 s deadline, inside the 2 s grace.
    // The tenant takes its time, so the plan is done after the click's answer and its card is updated then.
    await start(({ method, index }) => (method === 'POST' && index === 0 ? { afterMs: 1_600 } : { afterMs: 0 }), { SWITCHBOARD_SIM_NUMBER_DELAY_MS: '1500' });
    const asked = message('unassign cq-sales', { serviceUrl: connector.url });
    expect((await post(api, asked)).status).toBe(200);
    await until(() => connector.seen.some((s) => isReplyTo(asked.id)(s) && s.answeredAt !== undefined), 5_000, 'the reply to be answered');
    const [reply] = connector.seen;
    const cardId = idOn(cardOf(reply!), 'cardId');
    await until(async () => (await app.workflow.copy(cardId))?.activityId != null, 3_000, 'the copy to learn its message id');

    expect(reply!.answeredAt! - reply!.at).toBeGreaterThanOrEqual(1_500);
    expect(reply!.closedAt).toBeUndefined();
    expect((await app.workflow.copy(cardId))!.activityId).toBe('posted-1');
    expect(await app.workflow.outboxOf(replyQueueOf('a:personal-chat'))).toEqual([]);
    // Longer than the outbox's back-off (1 s) after a failed attempt: a second copy would be out by now.
    await sleep(2_500);
    expect(connector.seen.filter(isReplyTo(asked.id))).toHaveLength(1);

    // Later changes update that one message in place.
    const planId = idOn(cardOf(reply!), 'planId');
    expect((await post(api, execute('confirmPlan', { planId, cardId }, { serviceUrl: connector.url }))).status).toBe(200);
    await until(() => connector.seen.some((s) => s.method === 'PUT' && cardTexts(cardOf(s))[1] === 'Done.'), 10_000, 'the card to be updated to Done');
    expect(new Set(connector.seen.filter((s) => s.method === 'PUT').map((s) => s.url))).toEqual(new Set(['/v3/conversations/a%3Apersonal-chat/activities/posted-1']));
  }, 30_000);

  it('an approval card Teams answers after the deadline goes to the approver once, and becomes the copy later updates reach', async () => {
    // botbuilder sends a proactive message as a reply to its own continuation event (…/activities/<a uuid>).
    const toApprover = (url: string) => /^\/v3\/conversations\/a%3Apersonal-29%3Aapprover\/activities\/[0-9a-f-]{36}$/.test(url);
    let slowed = false;
    await start(
      ({ method, url }) => {
        if (method !== 'POST' || !toApprover(url) || slowed) return { afterMs: 0 };
        slowed = true;
        return { afterMs: 1_600 };
      },
      { SWITCHBOARD_APPROVAL_OPERATIONS: 'deleteAccount' },
    );
    // The approver has talked to the bot, so it can reach them.
    expect((await post(api, message('help', { from: APPROVER, serviceUrl: connector.url }))).status).toBe(200);
    const asked = message('delete cq-helpdesk', { serviceUrl: connector.url });
    expect((await post(api, asked)).status).toBe(200);
    await until(() => connector.seen.some(isReplyTo(asked.id)), 5_000, 'the plan card');
    const planCard = cardOf(connector.seen.find(isReplyTo(asked.id))!);
    const confirmed = await post(api, execute('confirmPlan', { planId: idOn(planCard, 'planId'), cardId: idOn(planCard, 'cardId') }, { serviceUrl: connector.url }));
    expect(confirmed.status).toBe(200);

    await until(() => connector.seen.some((s) => s.method === 'POST' && toApprover(s.url) && s.answeredAt !== undefined), 8_000, 'the approval card to be answered');
    const sent = connector.seen.find((s) => s.method === 'POST' && toApprover(s.url))!;
    expect(sent.answeredAt! - sent.at).toBeGreaterThanOrEqual(1_500);
    expect(cardTexts(cardOf(sent))[0]).toBe('Approval needed: Delete cq-helpdesk@contoso.onmicrosoft.com');
    const cardId = idOn(cardOf(sent), 'cardId');
    await until(async () => (await app.workflow.copy(cardId))?.activityId === sent.id, 8_000, 'the copy to be recorded');
    await sleep(2_500);
    expect(connector.seen.filter((s) => s.method === 'POST' && toApprover(s.url))).toHaveLength(1);
    expect((await app.workflow.outboxOf(idOn(planCard, 'planId'))).filter((m) => m.kind === 'deliverApproval')).toEqual([]);
  }, 30_000);

  it('a new message that gets no answer is cut off at twice the deadline and sent again; the card becomes the second message', async () => {
    await start(({ method, index }) => (method === 'POST' && index === 0 ? 'never' : { afterMs: 0 }));
    const asked = message('unassign cq-sales', { serviceUrl: connector.url });
    expect((await post(api, asked)).status).toBe(200);
    expect(await firstAttemptError()).toBe('the Bot Connector did not answer within 2000 ms');
    await until(() => connector.seen.filter(isReplyTo(asked.id)).length === 2, 5_000, 'the reply to be sent again');

    const [first, second] = connector.seen.filter(isReplyTo(asked.id));
    expect(first!.closedAt! - first!.at).toBeGreaterThanOrEqual(1_900);
    expect(first!.closedAt! - first!.at).toBeLessThan(3_500);
    expect(second!.at).toBeGreaterThanOrEqual(first!.closedAt!);
    const cardId = idOn(cardOf(second!), 'cardId');
    await until(async () => (await app.workflow.copy(cardId))?.activityId === second!.id, 3_000, 'the copy to learn the second message id');
  }, 30_000);

  it('the limit counts from the start of the call even when the event loop is busy at the deadline: the client cuts off, not the outbox', async () => {
    // 450 ms of synchronous work over the 1 s mark (a large write, a render, a GC pause), and an answer
    // only after the 2 s limit. Counted from the deadline's late firing, the limit moved past the outbox's
    // own wait: the outbox gave up first and the answer that came then was thrown away unseen.
    await start(({ method, index }) => {
      if (method !== 'POST' || index !== 0) return { afterMs: 0 };
      setTimeout(() => {
        const end = Date.now() + 450;
        while (Date.now() < end);
      }, 950);
      return { afterMs: 2_300 };
    });
    const asked = message('unassign cq-sales', { serviceUrl: connector.url });
    expect((await post(api, asked)).status).toBe(200);
    const lastError = await firstAttemptError();
    expect(lastError).toBe('the Bot Connector did not answer within 2000 ms');
    const [first] = connector.seen.filter(isReplyTo(asked.id));
    expect(first!.closedAt! - first!.at).toBeLessThan(2_200);
    expect(first!.answeredAt).toBeUndefined();
  }, 30_000);

  it.each([
    ['503, retry at once', { status: 503, retryAfterSeconds: 0 }],
    ['429, retry in 30 s', { status: 429, retryAfterSeconds: 30 }],
    ['502, no Retry-After', { status: 502 }],
  ])(
    'an answer the client would retry that comes after the deadline (%s) ends the call there: no attempt after the deadline, the outbox retries',
    async (_, answer) => {
      // The first attempt is answered after 1.3 s: past the deadline, while on the wire.
      await start(({ method, index }) => (method === 'POST' && index === 0 ? { afterMs: 1_300, ...answer } : { afterMs: 0 }));
      const asked = message('unassign cq-sales', { serviceUrl: connector.url });
      expect((await post(api, asked)).status).toBe(200);
      const lastError = await firstAttemptError();
      // Ended by the answer, within the first deadline's terms (not at the 2 s limit), and saying what the answer was.
      expect(lastError).toBe(`the Bot Connector did not answer within 1000 ms (its last answer: ${answer.status}; not tried again after the deadline)`);
      await until(() => connector.seen.filter(isReplyTo(asked.id)).length === 2, 5_000, 'the reply to be sent again');

      const [first, second] = connector.seen.filter(isReplyTo(asked.id));
      expect(first!.answeredAt! - first!.at).toBeGreaterThanOrEqual(1_200);
      // The client did not retry it itself after the deadline; the outbox did, after its 1 s back-off.
      expect(second!.at - first!.answeredAt!).toBeGreaterThanOrEqual(900);
      const cardId = idOn(cardOf(second!), 'cardId');
      await until(async () => (await app.workflow.copy(cardId))?.activityId === second!.id, 3_000, 'the copy to learn the message id');
      expect(connector.seen.filter(isReplyTo(asked.id))).toHaveLength(2);
    },
    30_000,
  );

  it('a 429 that says nothing of when to retry, after the deadline, is reported as itself: the client would not have retried it', async () => {
    await start(({ method, index }) => (method === 'POST' && index === 0 ? { afterMs: 1_300, status: 429 } : { afterMs: 0 }));
    const asked = message('unassign cq-sales', { serviceUrl: connector.url });
    expect((await post(api, asked)).status).toBe(200);
    const lastError = await firstAttemptError();
    expect(lastError).toMatch(/^429 /);
    await until(() => connector.seen.filter(isReplyTo(asked.id)).length === 2, 5_000, 'the reply to be sent again');
  }, 30_000);

  it('a reply sent within the turn (the outbox cannot take it) holds the turn no longer than the deadline, goes on after it, and its card learns its message id', async () => {
    const { log, lines: logged } = capturedLog('info');
    await start(({ method }) => (method === 'POST' ? { afterMs: 1_600 } : { afterMs: 0 }), {}, { log });
    // The outbox cannot take the reply (its store is failing): the turn sends it itself.
    const enqueue = jest.spyOn(ReplyQueue.prototype, 'enqueue').mockRejectedValue(new StoreUnavailableError('workflow.json', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })));
    try {
      const asked = message('unassign cq-sales', { serviceUrl: connector.url });
      const started = Date.now();
      expect((await post(api, asked)).status).toBe(200);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(1_500);
      // The message was on the wire: it was not cut off, Teams' answer came after the turn, and the card's copy learned where it is.
      await until(() => connector.seen.some((s) => isReplyTo(asked.id)(s) && s.answeredAt !== undefined), 3_000, 'the reply to be answered');
      const sent = connector.seen.filter(isReplyTo(asked.id));
      expect(sent.map((s) => [s.closedAt, cardTexts(cardOf(s))[0]])).toEqual([[undefined, 'Unassign the number of cq-sales@contoso.com']]);
      const cardId = idOn(cardOf(sent[0]!), 'cardId');
      await until(async () => (await app.workflow.copy(cardId))?.activityId === 'posted-1', 3_000, 'the copy to learn its message id');
      await until(() => logged.some((l) => l.msg === 'the reply the turn stopped waiting for was sent'), 3_000, 'the late send to be logged');
      expect(logged.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([
        'the outbox cannot take the reply now; sent within the turn',
        'a reply sent within the turn is still on its way at the deadline; the turn ends without waiting for it',
      ]);
    } finally {
      enqueue.mockRestore();
    }
  }, 30_000);

  it('a card update (PUT) past its deadline is still cut off at the deadline: a late update could cover a newer one', async () => {
    let stalled = false;
    // A 4 s deadline (a new message's grace would be 8 s): the cut is told from the grace even when
    // timers fire seconds late (the 1 s deadline's cut was seen at 4 s once in CI, the crash tests
    // loading both cores).
    await start(
      ({ method }) => {
        if (method !== 'PUT' || stalled) return { afterMs: 0 };
        stalled = true;
        return 'never';
      },
      { SWITCHBOARD_SIM_NUMBER_DELAY_MS: '1500', SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS: '4' },
    );
    const asked = message('unassign cq-sales', { serviceUrl: connector.url });
    expect((await post(api, asked)).status).toBe(200);
    await until(() => connector.seen.some((s) => isReplyTo(asked.id)(s) && s.answeredAt !== undefined), 5_000, 'the reply');
    const planCard = cardOf(connector.seen.find(isReplyTo(asked.id))!);
    const cardId = idOn(planCard, 'cardId');
    await until(async () => (await app.workflow.copy(cardId))?.activityId != null, 3_000, 'the copy to learn its message id');
    expect((await post(api, execute('confirmPlan', { planId: idOn(planCard, 'planId'), cardId }, { serviceUrl: connector.url }))).status).toBe(200);
    await until(() => connector.seen.some((s) => s.method === 'PUT' && s.closedAt !== undefined), 14_000, 'the update to be cut off');
    const cut = connector.seen.find((s) => s.method === 'PUT')!;
    expect(cut.closedAt! - cut.at).toBeGreaterThanOrEqual(3_900);
    expect(cut.closedAt! - cut.at).toBeLessThan(7_000);
  }, 30_000);
});
