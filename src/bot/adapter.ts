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
import {
  AuthenticationConstants,
  AuthenticationError,
  type AuthenticateRequestResult,
  type ClaimsIdentity,
  type ConnectorClient,
  type ConnectorFactory,
  type UserTokenClient,
} from 'botframework-connector';
import type { Config } from '../config';
import type { Logger } from '../log/logger';
import { addConnectorDeadline } from './connectorDeadline';
import { REPLIES_AFTER_ANSWER } from './replies';

/** Connector clients kept for reuse, at most (one per app id, service URL and audience). */
const MAX_KEPT_CLIENTS = 64;

/** The bot's app id a turn is for, as botbuilder reads it (ParameterizedBotFrameworkAuthentication getAppId). */
function appIdOf(claimsIdentity: ClaimsIdentity): string {
  return claimsIdentity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claimsIdentity.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
}

/** A small map that forgets its least recently used entry past `max`: keys come from activities (their service URL). */
class Kept<V> {
  private readonly entries = new Map<string, Promise<V>>();
  constructor(private readonly max: number) {}

  get(key: string, make: () => Promise<V>): Promise<V> {
    const kept = this.entries.get(key);
    if (kept) {
      // Used again: the last to be forgotten.
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept;
    }
    const made = make();
    this.entries.set(key, made);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    // A failed creation (credentials not obtainable) is not kept: the next turn tries again.
    made.catch(() => {
      if (this.entries.get(key) === made) this.entries.delete(key);
    });
    return made;
  }
}

/**
 * botbuilder's authentication, with its clients kept between turns. CloudAdapter builds a new
 * ConnectorClient and a new UserTokenClient for every turn, each with its own HTTP pipeline, before the
 * bot runs, even for an invoke whose answer is the HTTP response and never touches them: that was about
 * a sixth of a bare bot's CPU per turn (bench/results.md, issue 13). Both clients are stateless between
 * calls: what they hold is the service URL, the audience and the app's credentials, whose tokens
 * botbuilder's credentials cache and renew themselves. Exported for the bench's floor bot, which must
 * pay what Switchboard pays and no more.
 */
export class KeptClientsAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly connectors = new Kept<ConnectorClient>(MAX_KEPT_CLIENTS);
  private readonly tokenClients = new Kept<UserTokenClient>(MAX_KEPT_CLIENTS);

  /** Proactive turns (the outbox worker's sends and card updates). */
  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.keep(super.createConnectorFactory(claimsIdentity), appIdOf(claimsIdentity));
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.tokenClients.get(appIdOf(claimsIdentity), () => super.createUserTokenClient(claimsIdentity));
  }

  /**
   * Turns that came over HTTP: botbuilder builds their connector factory here, not through
   * createConnectorFactory (ParameterizedBotFrameworkAuthentication.authenticateRequest).
   */
  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    return result.connectorFactory ? { ...result, connectorFactory: this.keep(result.connectorFactory, appIdOf(result.claimsIdentity)) } : result;
  }

  /** Called once for each client made, before it is kept. */
  protected prepare(client: ConnectorClient): ConnectorClient {
    return client;
  }

  private keep(inner: ConnectorFactory, appId: string): ConnectorFactory {
    return {
      create: (serviceUrl: string, audience?: string) =>
        // A proactive turn names no audience (the factory then takes its default, which
        // ConfigurationBotFrameworkAuthentication does not tell): it has its own client for that URL.
        this.connectors.get(JSON.stringify([appId, serviceUrl, audience ?? null]), async () => this.prepare(await inner.create(serviceUrl, audience))),
    };
  }
}

/**
 * Kept clients that give every call to the Bot Connector (replies, proactive messages, card updates) a
 * deadline (src/bot/connectorDeadline.ts). A turn that came over HTTP gets its client through
 * authenticateRequest, so without this a reply sent within such a turn had no deadline and a refused
 * connection held it for about 5 s of retries.
 */
class DeadlineAuthentication extends KeptClientsAuthentication {
  private warned = false;

  constructor(
    options: ConfigurationBotFrameworkAuthenticationOptions,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    super(options);
  }

  protected override prepare(client: ConnectorClient): ConnectorClient {
    if (!addConnectorDeadline(client, this.timeoutMs) && !this.warned) {
      this.warned = true;
      this.log.warn('the Bot Connector client has no pipeline to add a deadline to: only the outbox worker bounds its calls');
    }
    return client;
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
