import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type Activity,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import { AuthenticationError } from 'botframework-connector';
import type { Config } from '../config';
import type { Logger } from '../log/logger';

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
      new ConfigurationBotFrameworkAuthentication(
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
      ),
    );
    // The error handler logs and never rethrows: a failing reply inside it would otherwise become a 500.
    this.onTurnError = async (context: TurnContext, error: Error) => {
      log.error({ err: error, activityType: context.activity.type }, 'turn failed');
    };
  }

  async handle(authorization: string, activity: Activity, logic: (context: TurnContext) => Promise<void>): Promise<TurnOutcome> {
    try {
      const invokeResponse = await this.processActivity(authorization, activity, logic);
      return invokeResponse ? { kind: 'done', invokeResponse } : { kind: 'done' };
    } catch (error) {
      if (error instanceof AuthenticationError) return { kind: 'unauthorized' };
      return { kind: 'fault', error };
    }
  }
}
