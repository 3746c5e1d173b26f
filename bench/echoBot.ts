import type { AddressInfo } from 'node:net';
import restify from 'restify';
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type TurnContext,
} from 'botbuilder';
import { KeptClientsAuthentication } from '../src/bot/adapter';

/** Cards to answer with, by verb, taken in turn; a verb with none gets the one-line card. */
export type Answers = Map<string, readonly Record<string, unknown>[]>;

/**
 * The baseline: a bare botbuilder bot on the same adapter class (CloudAdapter, no app id = local
 * mode) behind restify, answering an Action.Execute with a one-line card in the HTTP body and
 * echoing messages. No gate, no stores, no templating.
 *
 * Given `answers` (cards Switchboard sent, captured by the bench), it answers with those instead:
 * the same bytes as Switchboard's answers, with none of its work. That is the floor for cards of
 * that size; the objects are reused, so it does not even build them.
 */
class EchoBot extends ActivityHandler {
  private turn = 0;

  constructor(private readonly answers: Answers) {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
      await next();
    });
  }

  protected override async onAdaptiveCardInvoke(_context: TurnContext, value: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const cards = this.answers.get(value.action.verb);
    if (cards?.length) return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: cards[this.turn++ % cards.length]! };
    return {
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: `echo: ${value.action.verb}` }] },
    };
  }
}

/**
 * `keptClients`: the adapter keeps its Bot Connector clients between turns as Switchboard's does
 * (src/bot/adapter.ts). The echo bot of the targets is botbuilder as it comes; the floor bot gets this
 * too, so that what Switchboard costs above the floor is its own work, not that adapter change.
 */
export async function startEchoBot(answers: Answers = new Map(), options: { keptClients?: boolean } = {}): Promise<{ port: number; stop(): Promise<void> }> {
  const adapter = new CloudAdapter(options.keptClients ? new KeptClientsAuthentication({}) : new ConfigurationBotFrameworkAuthentication({}));
  const bot = new EchoBot(answers);
  const server = restify.createServer({ name: 'echo', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: 256 * 1024, mapParams: false }));
  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.server.closeAllConnections();
      }),
  };
}
