import type { App } from '../../src/app';
import type { RunningServer } from '../../src/server';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { post, switchableConnector, type Captured } from '../helpers/connector';
import { cardTexts } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { idOn, until } from '../helpers/waiting';

const cardOf = (p: Captured) => (p.body.attachments as { content: Record<string, unknown> }[])[0]!.content;

/**
 * The outbox worker sends through botbuilder's continueConversationAsync, which runs the send as a turn;
 * a turn's error goes to the adapter's onTurnError, which logs it and swallows it. So a send the Bot
 * Connector refused looked like a success: a card update answered 404 (the message is gone) counted as
 * shown, and an approval card answered 403 (the bot is not in the approver's chat) lost the status that
 * says it is not worth retrying. Over real HTTP, with a loopback Bot Connector that refuses them.
 */
describe('a send the Bot Connector refuses is a failure, not a success', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let server: RunningServer;
  let connector: Awaited<ReturnType<typeof switchableConnector>>;

  beforeEach(async () => {
    dir = await tempDir();
    connector = await switchableConnector('up');
  });

  afterEach(async () => {
    await connector.close();
    await server.stop();
    await app.close();
    await dir.remove();
  });

  it('an approval card answered 403 marks the approver unreachable at once', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'deleteAccount' });
    server = await app.start();
    const api = `${server.url}/api/messages`;
    await post(api, message('help', { from: APPROVER, serviceUrl: connector.url }));
    await until(() => connector.posts.length === 1, 5_000, 'the approver to be answered');
    // The approver removed the bot from their chat since.
    connector.refuse(({ url }) => (url.startsWith('/v3/conversations/a%3Apersonal-29%3Aapprover/') ? 403 : undefined));
    await post(api, message('delete cq-helpdesk', { serviceUrl: connector.url }));
    await until(() => connector.posts.length === 2, 5_000, 'the plan card');
    const planId = idOn(cardOf(connector.posts[1]!), 'planId');
    expect((await post(api, execute('confirmPlan', { planId }, { serviceUrl: connector.url }))).status).toBe(200);

    await until(async () => (await app.workflow.outboxOf(planId)).some((m) => m.kind === 'deliverApproval' && m.status !== 'pending'), 8_000, 'the delivery to end');
    const delivery = (await app.workflow.outboxOf(planId)).find((m) => m.kind === 'deliverApproval')!;
    expect({ status: delivery.status, attempts: delivery.attempts, lastError: delivery.lastError?.slice(0, 4) }).toEqual({ status: 'unreachable', attempts: 0, lastError: '403 ' });
  });

  it('a card update answered 404 detaches the copy instead of counting it as shown', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_APPROVAL_OPERATIONS: 'none', SWITCHBOARD_SIM_NUMBER_DELAY_MS: '1500' });
    server = await app.start();
    const api = `${server.url}/api/messages`;
    await post(api, message('unassign cq-sales', { serviceUrl: connector.url }));
    await until(() => connector.posts.length === 1, 5_000, 'the plan card');
    const card = cardOf(connector.posts[0]!);
    const cardId = idOn(card, 'cardId');
    await until(async () => (await app.workflow.copy(cardId))?.activityId === 'posted-1', 3_000, 'the copy to be recorded');
    // The user deleted the message since.
    connector.refuse(({ method }) => (method === 'PUT' ? 404 : undefined));
    const clicked = await post(api, execute('confirmPlan', { planId: idOn(card, 'planId'), cardId }, { serviceUrl: connector.url }));
    expect(cardTexts((clicked.body as { value: unknown }).value)[1]).not.toBe('Done.');

    await until(async () => (await app.workflow.copy(cardId))?.view === 'detached', 10_000, 'the copy to be detached');
    expect(connector.posts.filter((p) => p.method === 'PUT')).toEqual([]);
  });
});
