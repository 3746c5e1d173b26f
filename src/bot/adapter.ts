import {
  ActivityTypes,
  CloudAdapter,
  DeliveryModes,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type Activity,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import { AuthenticationError, type AuthenticateRequestResult, type ClaimsIdentity, type ConnectorFactory } from 'botframework-connector';
import type { Config } from '../config';
import type { Logger } from '../log/logger';
import { addConnectorDeadline } from './connectorDeadline';
import { REPLIES_AFTER_ANSWER } from './replies';

/**
 * botbuilder's authentication, whose connector clients give every call to the Bot Connector (replies,
 * proactive messages, card updates) a deadline (src/bot/connectorDeadline.ts).
 */
class DeadlineAuthentication extends ConfigurationBotFrameworkAuthentication {
  private warned = false;

  constructor(
    options: ConfigurationBotFrameworkAuthenticationOptions,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    super(options);
  }

  /** Proactive turns (the outbox worker's sends and card updates). */
  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.withDeadline(super.createConnectorFactory(claimsIdentity));
  }

  /**
   * Turns that came over HTTP: botbuilder builds their connector factory here, not through
   * createConnectorFactory (ParameterizedBotFrameworkAuthentication.authenticateRequest), so a reply
   * sent within such a turn had no deadline and a refused connection held it for about 5 s of
   * retries.
   */
  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    return result.connectorFactory ? { ...result, connectorFactory: this.withDeadline(result.connectorFactory) } : result;
  }

  private withDeadline(inner: ConnectorFactory): ConnectorFactory {
    return {
      create: async (serviceUrl: string, audience?: string) => {
        const client = await inner.create(serviceUrl, audience);
        if (!addConnectorDeadline(client, this.timeoutMs) && !this.warned) {
          this.warned = true;
          this.log.warn('the Bot Connector client has no pipeline to add a deadline to: only the outbox worker bounds its calls');
        }
        return client;
      },
    };
  }
}

export type TurnOutcome =
  | { kind: 'done'; invokeResponse?: InvokeResponse }
  | { kind: 'unauthorized' }
  | { kind: 'fault'; error: unknown };

/**
 * CloudAdapter with our own HTTP edge: CloudAdapter.process logs a stack trace for every 401 and sends
 * err.message back to the caller (teams-platform.md §1.1); here an auth failure is a plain 401 and any
 * other fault is reported to the server, which answers without internals.
 */
export class SwitchboardAdapter extends CloudAdapter {
  constructor(config: Config, log: Logger) {
    super(
      new DeadlineAuthentication(
        // Local mode: an empty app id is what turns botbuilder's authentication off (the server then
        // binds to loopback only); the app type would otherwise insist on an id.
        config.localMode
          ? {}
          : {
              MicrosoftAppId: config.bot.appId,
              MicrosoftAppPassword: config.bot.appPassword,
              MicrosoftAppType: config.bot.appType,
              MicrosoftAppTenantId: config.bot.appTenantId,
            },
        config.connectorTimeoutMs,
        log,
      ),
    );
    // The error handler logs and never rethrows: a failing reply inside it would otherwise become a 500.
    this.onTurnError = async (context: TurnContext, error: Error) => {
      log.error({ err: error, activityType: context.activity.type }, 'turn failed');
    };
  }

  async handle(authorization: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<TurnOutcome> {
    // The HTTP answer waits for the turn: replies that are not part of it are sent after it
    // (src/bot/replies.ts), so that the answer does not wait for the Bot Connector. An invoke's answer
    // is the response, and so are the replies to an "expectReplies" activity (botbuilder buffers them
    // into the response body, with no connector call).
    const afterAnswer = activity.type !== ActivityTypes.Invoke && activity.deliveryMode !== DeliveryModes.ExpectReplies;
    try {
      const invokeResponse = await this.processActivity(authorization, activity, async (context) => {
        // Only a turn that passed authentication gets here: the check still comes before any 200.
        if (afterAnswer) context.turnState.set(REPLIES_AFTER_ANSWER, true);
        await logic(context);
      });
      return invokeResponse ? { kind: 'done', invokeResponse } : { kind: 'done' };
    } catch (error) {
      if (error instanceof AuthenticationError) return { kind: 'unauthorized' };
      return { kind: 'fault', error };
    }
  }
}
