import type { TurnContext } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import type { Logger } from '../log/logger';
import type { ContactStore } from '../store/conversations';
import { hasVisibleCharacter } from '../provisioning/rules';

/** How long Teams has to name a member before the question is abandoned (the request aborted). */
export const MEMBER_NAME_BUDGET_MS = 2_000;
/** After Teams could not name someone, they are not asked about again for this long. */
export const MEMBER_NAME_RETRY_MS = 15 * 60_000;
/** People remembered at most (named, or failed: the oldest failure is forgotten first). */
const REMEMBERED_FAILURES = 10_000;

/**
 * A name shown to approvers and in history, or '' when there is none worth showing: a name of only
 * spaces and invisible characters (U+200B, bidi marks, Hangul fillers, U+2800) reads as blank on a card.
 */
export function visibleName(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  const name = raw.trim().slice(0, 200);
  return hasVisibleCharacter(name) ? name : '';
}

/**
 * The name of someone whose activities carry none (installing the app sends conversationUpdate, often
 * without a name), asked of Teams while no name is on record: approval cards said "Sent for approval
 * to 00000000-…" until the approver first wrote to the bot. GET /v3/conversations/{id}/members/{userId}
 * (TeamsInfo.getMember, teams-platform.md §2) answers with the member's name and object id.
 *
 * Asked beside the turn, never in front of it: a turn (a button click above all) does not wait for
 * a roster that is slow or down. One question per person at a time, the request aborted at the
 * budget, and a failure not asked again for MEMBER_NAME_RETRY_MS, so a roster that is down costs one
 * request per person per quarter hour, not one per turn.
 */
export class MemberNames {
  /** Per person asked: the abort, the question's whole work (stores included), and its end as a caller sees it (the work, or the budget). */
  private readonly asking = new Map<string, { controller: AbortController; work: Promise<void>; answered: Promise<void> }>();
  private readonly failedAt = new Map<string, number>();
  /** People whose name is on record: most nameless activities come from them, and cost no store read. */
  private readonly named = new Set<string>();
  private stopped = false;

  constructor(
    private readonly contacts: ContactStore,
    private readonly log: Pick<Logger, 'info' | 'warn'>,
    private readonly options: { budgetMs?: number; retryMs?: number; now?: () => number } = {},
  ) {}

  /**
   * Starts asking Teams for this member's name, in a personal chat, and returns at once with a promise
   * that settles (never rejects) when the question is over or its budget spent, whichever is first: a
   * caller may wait for it beside the turn, never longer than the budget (a store that hangs included).
   */
  ask(context: TurnContext, aadObjectId: string, userId: string): Promise<void> {
    const key = aadObjectId.toLowerCase();
    const out = this.asking.get(key);
    if (out) return out.answered;
    if (this.stopped || this.named.has(key)) return Promise.resolve();
    const now = this.options.now ?? Date.now;
    const failed = this.failedAt.get(key);
    if (failed !== undefined && now() - failed < (this.options.retryMs ?? MEMBER_NAME_RETRY_MS)) return Promise.resolve();
    // Taken now, while the turn is alive: botbuilder revokes the context once the turn ends.
    const client = context.turnState.get<ConnectorClient | undefined>(context.adapter.ConnectorClientKey);
    const conversationId = context.activity.conversation?.id;
    if (!client || typeof conversationId !== 'string') return Promise.resolve();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.budgetMs ?? MEMBER_NAME_BUDGET_MS);
    const work = (async () => {
      try {
        if ((await this.contacts.contact(key))?.name) return this.known(key);
        // The signal reaches the HTTP request, not the sign-in before it (a token endpoint that hangs): this wait ends at the abort either way.
        const member: unknown = await untilAborted(client.conversations.getConversationMember(conversationId, userId, { abortSignal: controller.signal }), controller.signal);
        const name = nameOf(member, key);
        if (!name) {
          this.failed(key, now());
          return;
        }
        if (this.stopped) return;
        await this.contacts.nameContact(key, name);
        this.known(key);
      } catch (error) {
        this.failed(key, now());
        this.log.info({ err: error, aadObjectId: key }, 'could not read the member name from Teams');
      } finally {
        clearTimeout(timer);
        this.asking.delete(key);
      }
    })();
    const aborted = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
    const answered = Promise.race([work, aborted]);
    this.asking.set(key, { controller, work, answered });
    return answered;
  }

  /** Aborts every question still out and waits for them to end, before the stores close. */
  async stop(): Promise<void> {
    this.stopped = true;
    const out = [...this.asking.values()];
    for (const { controller } of out) controller.abort();
    await Promise.all(out.map(({ work }) => work));
  }

  private known(key: string): void {
    if (this.named.size >= REMEMBERED_FAILURES) this.named.clear();
    this.named.add(key);
  }

  private failed(key: string, at: number): void {
    this.failedAt.delete(key);
    this.failedAt.set(key, at);
    if (this.failedAt.size > REMEMBERED_FAILURES) this.failedAt.delete(this.failedAt.keys().next().value as string);
  }
}

/** The call's answer, or its abort: whichever comes first. */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  call.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(new Error('the member name was not given within its budget'));
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', aborted));
  });
}

/** The member's name, only when the answer is for that object id: a roster answer that names no one or someone else is not taken. */
function nameOf(member: unknown, aadObjectId: string): string {
  if (typeof member !== 'object' || member === null) return '';
  const { aadObjectId: aad, objectId, name } = member as { aadObjectId?: unknown; objectId?: unknown; name?: unknown };
  const id = typeof aad === 'string' ? aad : objectId;
  if (typeof id !== 'string' || id.toLowerCase() !== aadObjectId) return '';
  return visibleName(name);
}
