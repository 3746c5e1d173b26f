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

/**
 * How long a new message (a POST) that is already on its way to the Bot Connector when the deadline
 * comes may still take before it is aborted, counted from the start of the call: twice the deadline.
 * Teams has no idempotency key for a new message, so aborting such a request does not unsend it: if
 * Teams took it, the outbox sends it again and the chat shows the card twice, the first copy never
 * updated. Waiting for the answer instead keeps the message id, and the message is sent once. The
 * outbox holds a message longer than that (claimMs in src/bot/delivery.ts), so no other instance
 * takes it while this call may still be out. "On its way" means handed to the HTTP client, which
 * includes connecting: a connector that takes no connections at all (a network black hole) holds a
 * new message for this long, a refused connection does not. An answer that comes later still is lost
 * to the abort, and the message is sent again.
 */
export function connectorCallLimitMs(timeoutMs: number): number {
  return 2 * timeoutMs;
}

/**
 * How much longer than the connector client's own limit a caller waits for a call, so that the
 * client's abort, which names what happened, comes first; a caller whose own wait ends first knows the
 * request is still out.
 */
export const DEADLINE_MARGIN_MS = 250;

/** A Bot Connector call that did not finish within its deadline (it was abandoned, not answered). */
export class ConnectorDeadlineError extends Error {
  constructor(
    readonly timeoutMs: number,
    /** What the last attempt got, when it ended after the deadline with an answer that would have been retried. */
    lastAnswer?: string,
  ) {
    super(
      lastAnswer
        ? `the Bot Connector did not answer within ${timeoutMs} ms (its last answer: ${lastAnswer}; not tried again after the deadline)`
        : `the Bot Connector did not answer within ${timeoutMs} ms`,
    );
    this.name = 'ConnectorDeadlineError';
  }
}

/** A request as the connector client's HTTP pipeline (@azure/core-rest-pipeline) carries it: only what the deadline touches. */
interface PipelineRequest {
  method?: string;
  abortSignal?: AbortSignal;
}
interface PipelinePolicy {
  name: string;
  sendRequest(request: PipelineRequest, next: (request: PipelineRequest) => Promise<unknown>): Promise<unknown>;
}
interface Pipeline {
  addPolicy(policy: PipelinePolicy, options?: { beforePolicies?: string[]; phase?: 'Sign' }): void;
}

/** botbuilder-stdlib's policy that fetches the bot's token and signs each request (azureCoreHttpCompat). */
const SIGN_POLICY = 'ServiceClientContext_Credentials_SignRequest';

/** One call's deadline as its attempts see it. */
interface CallState {
  /** Attempts handed to the HTTP client and not yet answered. */
  inFlight: number;
  /** The deadline has passed: no attempt starts any more. */
  closed: boolean;
  /** The status of the last attempt's answer, said in the error when no further attempt may start. */
  lastStatus?: number;
}

/** The state of each call under way, by its request (the retry policy sends the same request object again). */
const calls = new WeakMap<object, CallState>();

/**
 * Gives every request of this connector client a deadline: at the deadline the request is aborted,
 * not only given up on — a card update that reached Teams after its deadline could cover a newer one
 * sent meanwhile, and a request still waiting for the bot's token is never sent (the HTTP client
 * refuses an aborted request). botframework-connector sets no timeout of its own, and its pipeline
 * retries throttled calls with back-off: the policy runs ahead of the "Retry" phase and of the policy
 * that fetches the token, so the deadline covers both.
 *
 * One exception, a new message (POST) with an attempt on the wire when the deadline comes: that attempt
 * may have reached Teams already, so it is given until connectorCallLimitMs to answer instead of being
 * cut off (see there why). No new attempt starts after the deadline, though: a second policy, in the
 * "Sign" phase (after the retries, once per attempt), counts the attempts on the wire and refuses a
 * retry once the deadline has passed, so the client's own back-off never sends a message for the first
 * time in the moments the caller has already given up; and an attempt that ends after the deadline with
 * an answer the client would retry (408, 429, 5xx, a network error) ends the call there, with that
 * answer in the error, instead of waiting out the client's back-off.
 *
 * botbuilder's ConnectorFactoryImpl overwrites the `requestPolicyFactories` option, so the policies are
 * added to the client's pipeline itself (ServiceClientContext keeps it in the private `client` field).
 * botbuilder is pinned at 4.23.3 and archived upstream (ARCHITECTURE.md), so that field will not move;
 * if it ever does, the client is returned as it is and `false` says so (the outbox worker's own
 * deadline, withinDeadline, still bounds what it waits for).
 */
export function addConnectorDeadline(client: ConnectorClient, timeoutMs: number): boolean {
  const pipeline = (client as unknown as { client?: { pipeline?: Partial<Pipeline> } }).client?.pipeline;
  if (typeof pipeline?.addPolicy !== 'function') return false;
  const limitMs = connectorCallLimitMs(timeoutMs);
  const deadline: PipelinePolicy = {
    name: 'switchboardConnectorDeadline',
    async sendRequest(request, next) {
      const controller = new AbortController();
      const caller = request.abortSignal;
      const forward = () => controller.abort();
      if (caller?.aborted) controller.abort();
      caller?.addEventListener('abort', forward);
      const state: CallState = { inFlight: 0, closed: false };
      calls.set(request, state);
      let expire: (error: Error) => void = () => undefined;
      const expired = new Promise<never>((_, reject) => (expire = reject));
      const abort = (waitedMs: number, lastAnswer?: string) => {
        controller.abort();
        // Said as what it is in the log and the outbox's lastError, not "The operation was aborted".
        expire(new ConnectorDeadlineError(waitedMs, lastAnswer));
      };
      const lastAnswer = () => (state.lastStatus === undefined ? undefined : String(state.lastStatus));
      const started = Date.now();
      let timer = setTimeout(() => {
        state.closed = true;
        // From the call's start, not from this timer's late firing: the outbox waits no longer than that (delivery.ts, call).
        if (state.inFlight > 0 && request.method?.toUpperCase() === 'POST') timer = setTimeout(() => abort(limitMs, lastAnswer()), Math.max(0, started + limitMs - Date.now()));
        else abort(timeoutMs, lastAnswer());
      }, timeoutMs);
      request.abortSignal = controller.signal;
      const sent = next(request);
      // Settles after the deadline when the deadline won (it was aborted): nobody waits for it then.
      sent.catch(() => undefined);
      try {
        return await Promise.race([sent, expired]);
      } finally {
        clearTimeout(timer);
        calls.delete(request);
        caller?.removeEventListener('abort', forward);
      }
    },
  };
  const attempt: PipelinePolicy = {
    name: 'switchboardConnectorAttempt',
    async sendRequest(request, next) {
      const state = calls.get(request);
      if (!state) return next(request);
      if (state.closed) throw new ConnectorDeadlineError(timeoutMs, state.lastStatus === undefined ? 'no answer' : String(state.lastStatus));
      state.inFlight += 1;
      let response: unknown;
      try {
        response = await next(request);
        state.lastStatus = statusOf(response);
      } catch (error) {
        state.lastStatus = statusOf((error as { response?: unknown } | undefined)?.response);
        // Past the deadline an error the retry policy would retry (a system error, a retryable status) ends the call now.
        if (state.closed && (state.lastStatus === undefined || retriedByClient(state.lastStatus, (error as { response?: unknown }).response)))
          throw new ConnectorDeadlineError(timeoutMs, state.lastStatus === undefined ? describeError(error) : String(state.lastStatus));
        throw error;
      } finally {
        state.inFlight -= 1;
      }
      // Past the deadline a retryable answer is not waited on through the client's back-off: the call ends now.
      if (state.closed && state.lastStatus !== undefined && retriedByClient(state.lastStatus, response)) throw new ConnectorDeadlineError(timeoutMs, String(state.lastStatus));
      return response;
    },
  };
  pipeline.addPolicy(deadline, { beforePolicies: [SIGN_POLICY] });
  pipeline.addPolicy(attempt, { phase: 'Sign' });
  return true;
}

/**
 * Whether core-rest-pipeline's default retry strategies would retry this answer: the exponential one
 * retries 408 and 5xx but 501 and 505; the throttling one retries 429 and 503 only when they say when
 * (Retry-After, retry-after-ms, x-ms-retry-after-ms).
 */
function retriedByClient(status: number, response: unknown): boolean {
  if (status === 408 || (status >= 500 && status !== 501 && status !== 505)) return true;
  if (status !== 429) return false;
  const headers = (response as { headers?: { get?: (name: string) => string | undefined } } | undefined)?.headers;
  return typeof headers?.get === 'function' && ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms'].some((name) => headers.get!(name) !== undefined);
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'no answer';
}

function statusOf(response: unknown): number | undefined {
  const status = (response as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Waits for a connector call for at most `timeoutMs`, whatever the adapter (another kind of adapter, a
 * connector client that could not take the deadline above, work before the request is made). The
 * call itself may go on, so the caller keeps track of it until it settles (src/bot/delivery.ts never
 * sends the same message again while an earlier attempt is still out). `expired` says what ran out, for
 * a wait that is not a connector call.
 */
export async function withinDeadline<T>(call: Promise<T>, timeoutMs: number, expired: () => Error = () => new ConnectorDeadlineError(timeoutMs)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), timeoutMs);
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
