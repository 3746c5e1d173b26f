import type { ConnectorClient } from 'botframework-connector';

/**
 * How long one call to the Bot Connector may take, retries included, unless configured
 * (SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS). The Bot Framework gives a turn 15 s before it answers the
 * channel with a 504 (teams-platform.md §3.6), so a reply still unsent after that reaches nobody who
 * waits for it; for proactive sends and card updates 15 s still leaves room for the client's own
 * retries of a throttled call (429 with Retry-After, §4), while a call that hangs stops holding its
 * card's next update after that, not for ever.
 */
export const DEFAULT_CONNECTOR_TIMEOUT_MS = 15_000;

/** A Bot Connector call that did not finish within its deadline (it was abandoned, not answered). */
export class ConnectorDeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the Bot Connector did not answer within ${timeoutMs} ms`);
    this.name = 'ConnectorDeadlineError';
  }
}

/** A request as the connector client's HTTP pipeline (@azure/core-rest-pipeline) carries it: only what the deadline touches. */
interface PipelineRequest {
  abortSignal?: AbortSignal;
}
interface PipelinePolicy {
  name: string;
  sendRequest(request: PipelineRequest, next: (request: PipelineRequest) => Promise<unknown>): Promise<unknown>;
}
interface Pipeline {
  addPolicy(policy: PipelinePolicy, options?: { beforePolicies?: string[] }): void;
}

/** botbuilder-stdlib's policy that fetches the bot's token and signs each request (azureCoreHttpCompat). */
const SIGN_POLICY = 'ServiceClientContext_Credentials_SignRequest';

/**
 * Gives every request of this connector client a deadline: at the deadline the request is aborted,
 * not only given up on — a card update that reached Teams after its deadline could cover a newer one
 * sent meanwhile, and a request still waiting for the bot's token is never sent (the HTTP client
 * refuses an aborted request). botframework-connector sets no timeout of its own, and its pipeline
 * retries throttled calls with back-off: the policy runs ahead of the "Retry" phase and of the policy
 * that fetches the token, so the deadline covers both.
 *
 * botbuilder's ConnectorFactoryImpl overwrites the `requestPolicyFactories` option, so the policy is
 * added to the client's pipeline itself (ServiceClientContext keeps it in the private `client` field).
 * botbuilder is pinned at 4.23.3 and archived upstream (ARCHITECTURE.md), so that field will not move;
 * if it ever does, the client is returned as it is and `false` says so (the outbox worker's own
 * deadline, withinDeadline, still bounds what it waits for).
 */
export function addConnectorDeadline(client: ConnectorClient, timeoutMs: number): boolean {
  const pipeline = (client as unknown as { client?: { pipeline?: Partial<Pipeline> } }).client?.pipeline;
  if (typeof pipeline?.addPolicy !== 'function') return false;
  const deadline: PipelinePolicy = {
    name: 'switchboardConnectorDeadline',
    async sendRequest(request, next) {
      const controller = new AbortController();
      const caller = request.abortSignal;
      const forward = () => controller.abort();
      if (caller?.aborted) controller.abort();
      caller?.addEventListener('abort', forward);
      let expire: (error: Error) => void = () => undefined;
      const expired = new Promise<never>((_, reject) => (expire = reject));
      const timer = setTimeout(() => {
        controller.abort();
        // Said as what it is in the log and the outbox's lastError, not "The operation was aborted".
        expire(new ConnectorDeadlineError(timeoutMs));
      }, timeoutMs);
      request.abortSignal = controller.signal;
      const sent = next(request);
      // Settles after the deadline when the deadline won (it was aborted): nobody waits for it then.
      sent.catch(() => undefined);
      try {
        return await Promise.race([sent, expired]);
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener('abort', forward);
      }
    },
  };
  pipeline.addPolicy(deadline, { beforePolicies: [SIGN_POLICY] });
  return true;
}

/**
 * Waits for a connector call for at most `timeoutMs`, whatever the adapter (another kind of adapter, a
 * connector client that could not take the deadline above, work before the request is made). The
 * call itself may go on, so the caller keeps track of it until it settles (src/bot/delivery.ts never
 * sends the same message again while an earlier attempt is still out).
 */
export async function withinDeadline<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectorDeadlineError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([call, expired]);
  } finally {
    clearTimeout(timer);
  }
}
