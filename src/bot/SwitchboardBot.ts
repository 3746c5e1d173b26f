import { randomUUID } from 'node:crypto';
import {
  ActivityTypes,
  CardFactory,
  MessageFactory,
  TeamsActivityHandler,
  TurnContext,
  type Activity,
  type InvokeResponse,
} from 'botbuilder';
import { z } from 'zod';
import { helpCard } from '../cards/help';
import { describeRefusal } from '../cards/describe';
import { messageCard } from '../cards/message';
import type { CardJson } from '../cards/render';
import { plainText } from '../cards/text';
import { format, localeOf, strings } from '../i18n';
import type { Logger } from '../log/logger';
import { DirectoryRefusal } from '../provisioning/result';
import type { AuditStore } from '../store/audit';
import type { ContactStore } from '../store/conversations';
import { CommitLog, currentCommitLog, withCommitLog } from '../store/commitLog';
import { isStoreUnavailable } from '../store/errors';
import { cardActions } from './actions';
import { CHECKED_ACTIVITY, parseActivity } from './activity';
import { cardIdOf } from './cardIds';
import type { ConversationRef } from '../approvals/copies';
import { CardCopies, type Click } from './cardCopies';
import { commands, parseCommand } from './commands';
import { gate, type GateSettings } from './gate';
import { hasFile, importFromFile } from './importFlow';
import { visibleName, type MemberNames } from './memberNames';
import { REPLIES_AFTER_ANSWER, type ReplyQueue, type ReplyTurn } from './replies';
import { ConnectorDeadlineError, DEADLINE_MARGIN_MS, DEFAULT_CONNECTOR_TIMEOUT_MS, withinDeadline } from './connectorDeadline';
import { allowed, PlanReply, type Reply, type Requirement, type Services, type TurnLog, type TurnScope } from './scope';

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** How long a store-fault card waits to read what was recorded before it says that cannot be read. */
const RECORDED_STATE_MS = 2_000;

const ExecuteInvokeValue = z.object({
  action: z.object({
    type: z.literal('Action.Execute'),
    verb: z.string().min(1).max(64),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
  trigger: z.enum(['manual', 'automatic']).optional(),
});

/** Action.Submit fallback: a message with no text whose value is the card data plus the inputs. */
const SubmitValue = z.looseObject({ verb: z.string().min(1).max(64) });

export interface BotDependencies {
  gate: GateSettings;
  services: Services;
  audit: AuditStore;
  contacts: ContactStore;
  copies: CardCopies;
  /** Where the replies of turns answered over HTTP wait for the outbox worker (src/bot/replies.ts). */
  replies: ReplyQueue;
  /** How long a turn waits for a reply it sends itself (SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS). */
  connectorTimeoutMs?: number;
  /** Asks Teams for the name of someone whose activities carry none (src/bot/memberNames.ts). */
  memberNames?: MemberNames;
  /** An approver's contact was saved: deliveries that could not reach them are tried again. */
  onReachable?: (aadObjectId: string) => void;
  log: Logger;
}

/**
 * The only place (with the server entry) that knows botbuilder. It gates the tenant, resolves the
 * caller's role, parses every payload with zod and hands over to one handler per command or verb.
 */
export class SwitchboardBot extends TeamsActivityHandler {
  constructor(private readonly deps: BotDependencies) {
    super();
    this.onMessage(async (context, next) => {
      await this.onMessageOrSubmit(context);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      const botId = context.activity.recipient?.id;
      if (context.activity.membersAdded?.some((m) => m.id !== botId)) await this.runCommand(context, 'help', '');
      await next();
    });
  }

  protected override async onTurnActivity(context: TurnContext): Promise<void> {
    // The HTTP edge checked this activity already (src/server.ts); activities that reach the bot
    // another way (an adapter of its own, tests) get the same check, so no malformed field is read or stored.
    if (context.turnState.get(CHECKED_ACTIVITY) !== context.activity) {
      const shape = parseActivity(comparable(context.activity));
      if (!shape.ok) {
        this.deps.log.warn({ detail: shape.detail, type: typeof context.activity.type === 'string' ? context.activity.type.slice(0, 64) : typeof context.activity.type }, 'activity refused: malformed');
        if (context.activity.type === ActivityTypes.Invoke) await sendInvokeResponse(context, { status: 400, body: { error: 'not a valid activity', detail: shape.detail } });
        return;
      }
    }
    const outcome = gate(context.activity, this.deps.gate);
    if (!outcome.ok) {
      this.deps.log.warn({ why: outcome.why, type: context.activity.type, channelId: context.activity.channelId }, 'activity dropped by the tenant gate');
      // Every invoke gets an explicit answer, or botbuilder turns the silence into a 501.
      if (context.activity.type === ActivityTypes.Invoke) await sendInvokeResponse(context, { status: 403 });
      return;
    }
    const scope = this.scopeFor(context, outcome.actor, outcome.roles);
    context.turnState.set(SCOPE_KEY, scope);
    context.turnState.set(REFERENCE_KEY, CardCopies.refOf(referenceOf(context)));
    // The turn's place in its conversation is taken before anything is awaited: in the order turns came.
    const conversationId = context.activity.conversation?.id;
    const turn = context.turnState.get(REPLIES_AFTER_ANSWER) === true && typeof conversationId === 'string' ? this.deps.replies.arrive(conversationId) : undefined;
    if (turn) context.turnState.set(REPLY_TURN_KEY, turn);
    try {
      await this.rememberWhereToReach(context, scope);
      // What the turn gets committed, for faultCard: "nothing was done" only when that is true.
      await withCommitLog(new CommitLog(), () => super.onTurnActivity(context));
    } finally {
      turn?.end();
    }
  }

  protected override async onInvokeActivity(context: TurnContext): Promise<InvokeResponse> {
    if (context.activity.name !== 'adaptiveCard/action') {
      return { status: 400, body: { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'NotSupported', message: 'This invoke is not supported.' } } };
    }
    const scope = scopeOf(context);
    const value = ExecuteInvokeValue.safeParse(context.activity.value);
    if (!value.success) {
      const refusal = this.refusalCard(scope, format(strings(scope.locale).errors.badPayload, { detail: 'action' }));
      return { status: 200, body: { statusCode: 200, type: CARD_CONTENT_TYPE, value: refusal } };
    }
    const { verb } = value.data.action;
    const data = value.data.action.data ?? {};
    const click: Click = {
      verb,
      aadObjectId: scope.actor.aadObjectId,
      conversation: conversationOf(context),
      cardId: cardIdOf(data),
      replyToId: typeof context.activity.replyToId === 'string' ? context.activity.replyToId.slice(0, 512) : undefined,
      locale: scope.locale,
    };
    // The answer replaces the clicked card. A click and an update of the same copy never interleave,
    // so an update can never land after this answer with an older state (issue 9 item 10).
    const answer = async (): Promise<CardJson> => {
      const clicked = await this.deps.copies.clicked(click);
      const reply = await this.runAction(scope, verb, data);
      return this.deps.copies.afterClick(click, clicked, reply, reply instanceof PlanReply);
    };
    const card = await this.guardedCard(scope, () => (click.cardId ? this.deps.copies.forClick(click.cardId, answer) : answer()));
    // Business refusals are 200 with a card that says why.
    return { status: 200, body: { statusCode: 200, type: CARD_CONTENT_TYPE, value: card } };
  }

  private async onMessageOrSubmit(context: TurnContext): Promise<void> {
    const scope = scopeOf(context);
    const text = typeof context.activity.text === 'string' ? context.activity.text : '';
    if (!text.trim() && context.activity.value !== undefined) {
      const submit = SubmitValue.safeParse(context.activity.value);
      const reply = submit.success
        ? await this.runAction(scope, submit.data.verb, withoutVerb(submit.data))
        : this.refusalCard(scope, format(strings(scope.locale).errors.badPayload, { detail: 'verb' }));
      // An Action.Submit cannot replace its card: the answer is a new message.
      await this.send(context, scope, reply);
      return;
    }
    // A file sent in the chat (supportsFiles) is a bulk import (issue 12), whatever text comes with it.
    if (hasFile(context.activity)) {
      const reply = (await this.authorize(scope, 'admin', 'command:import')) ?? (await this.guarded(scope, () => importFromFile(scope, context.activity)));
      await this.send(context, scope, reply);
      return;
    }
    const { name, args } = parseCommand(text.slice(0, 2000));
    await this.runCommand(context, name, args);
  }

  private async runCommand(context: TurnContext, name: string, args: string): Promise<void> {
    const scope = scopeOf(context);
    const command = commands.get(name);
    // Anything that is not a command gets the help card, saying what was not understood.
    const reply = command
      ? ((await this.authorize(scope, command.requires, `command:${name}`)) ?? (await this.guarded(scope, () => command.handle(scope, args))))
      : await this.guarded(scope, async () => helpCard(scope.locale, scope.roles, scope.actor.aadObjectId, name || undefined));
    await this.send(context, scope, reply);
  }

  /** The one path for Action.Execute and the Action.Submit fallback. */
  private async runAction(scope: TurnScope, verb: string, data: unknown): Promise<Reply> {
    const s = strings(scope.locale).errors;
    const action = cardActions.get(verb);
    if (!action) {
      scope.log.warn({ verb }, 'unknown card verb');
      return this.refusalCard(scope, format(s.unknownAction, { verb: plainText(verb.slice(0, 64)) }));
    }
    const denied = await this.authorize(scope, action.requires, `action:${verb}`);
    if (denied) return denied;
    const bound = action.bind(data);
    if (!bound.ok) {
      scope.log.warn({ verb, detail: bound.detail }, 'malformed card payload');
      return this.refusalCard(scope, format(s.badPayload, { detail: plainText(bound.detail) }));
    }
    return this.guarded(scope, () => bound.run(scope));
  }

  /** Refuses politely (and audits) when the caller's role does not allow the requirement. */
  private async authorize(scope: TurnScope, requirement: Requirement, what: string): Promise<CardJson | null> {
    if (allowed(requirement, scope.roles)) return null;
    const s = strings(scope.locale).errors;
    const text = !scope.actor.aadObjectId
      ? s.noIdentity
      : requirement === 'approver'
        ? format(strings(scope.locale).reasons.REQUEST_NOT_APPROVER, { aadObjectId: plainText(scope.actor.aadObjectId) })
        : format(requirement === 'admin' ? s.notAdmin : s.notReader, { aadObjectId: plainText(scope.actor.aadObjectId) });
    scope.log.warn({ what, aadObjectId: scope.actor.aadObjectId }, 'refused: role');
    // A refusal changes nothing: if the audit log cannot take it right now, the refusal still stands.
    await this.deps.audit
      .append({ actor: scope.actor, action: what, target: '-', outcome: 'refused', reason: { admin: 'NOT_ADMIN', approver: 'NOT_APPROVER', reader: 'NOT_READER', anyone: '' }[requirement] })
      .catch((error: unknown) => scope.log.warn({ err: error }, 'could not audit a refusal'));
    return this.refusalCard(scope, text);
  }

  /** A fault never leaks: the caller sees a correlation id, the log has the details. */
  private async guarded(scope: TurnScope, work: () => Promise<Reply>): Promise<Reply> {
    try {
      return await work();
    } catch (error) {
      return this.faultCard(scope, error);
    }
  }

  private async guardedCard(scope: TurnScope, work: () => Promise<CardJson>): Promise<CardJson> {
    try {
      return await work();
    } catch (error) {
      return this.faultCard(scope, error);
    }
  }

  /**
   * A store that could not record the change says so and what state things are in (issue 9 item 5);
   * any other fault shows only a correlation id. "Nothing was done" is said only when this turn got
   * nothing committed; otherwise the card says what the store holds now
   * (test/trust/truthful-store-fault-cards.test.ts).
   */
  private async faultCard(scope: TurnScope, error: unknown): Promise<CardJson> {
    const s = strings(scope.locale).errors;
    // A tenant refusal that escaped a read (e.g. the service account must sign in again) is said plainly.
    if (error instanceof DirectoryRefusal) {
      scope.log.warn({ reason: error.reason }, 'tenant refusal outside a plan');
      return this.refusalCard(scope, describeRefusal(error.toRefusal(), scope.locale));
    }
    if (isStoreUnavailable(error)) {
      const commits = currentCommitLog();
      scope.log.error({ err: error, committed: commits?.planIds ?? 'unknown' }, 'store unavailable');
      // The commit's answer was lost and its fate could not be learnt: neither "nothing was done" nor "part of it was recorded" is known to be true.
      if (error.outcomeUnknown) {
        const state = await this.recordedState(scope, commits?.planIds[0]);
        return messageCard(s.title, format(s.storeOutcomeUnknown, { code: error.code, state, correlationId: scope.correlationId }), 'attention');
      }
      if (commits && !commits.committed) {
        return messageCard(s.title, format(s.storeUnavailable, { code: error.code, state: s.storeStateUnknown, correlationId: scope.correlationId }), 'attention');
      }
      const state = await this.recordedState(scope, commits?.planIds[0]);
      return messageCard(s.title, format(s.storeUnavailableAfter, { code: error.code, state, correlationId: scope.correlationId }), 'attention');
    }
    scope.log.error({ err: error }, 'handler fault');
    return messageCard(s.title, format(s.internal, { correlationId: scope.correlationId }), 'attention');
  }

  /** What the store holds for a plan this turn committed, in one sentence (reads only: the store is failing). */
  private async recordedState(scope: TurnScope, planId: string | undefined): Promise<string> {
    const s = strings(scope.locale);
    if (!planId) return s.errors.storeStateUnreadable;
    try {
      const { provisioning, approvals } = this.deps.services;
      // The store is failing: its reads may wait for their own timeouts (PostgreSQL: 5 s to connect, 20 s
      // for an answer), and the card has waited for the failure already. A read not done by then is unreadable.
      const [plan, request] = await withinDeadline(
        Promise.all([provisioning.plans.get(planId), approvals.recorded(planId)]),
        RECORDED_STATE_MS,
        () => new Error(`the store did not answer within ${RECORDED_STATE_MS} ms`),
      );
      if (!plan) return s.errors.storeStateUnreadable;
      const what = format(s.plan.title[plan.kind], { upn: plainText(plan.account.userPrincipalName) });
      if (request?.status === 'pending') return format(s.errors.storeStatePending, { what });
      const recorded = format(s.errors.storeStateRecorded, { what, status: s.plan.state[plan.status] });
      // Running, waiting or stopped: a step may have acted in the tenant before its outcome could be recorded.
      return plan.status === 'running' || plan.status === 'waiting' || plan.status === 'failed' ? `${recorded} ${s.errors.storeStateTenant}` : recorded;
    } catch (error) {
      scope.log.warn({ err: error, planId }, 'could not read what was recorded');
      return s.errors.storeStateUnreadable;
    }
  }

  /**
   * Sends a reply as a new message; a plan's card becomes a copy that later changes update in place.
   * A turn answered over HTTP leaves it in the outbox, durable before the turn's 200, and the outbox
   * worker sends it in its conversation's order (src/bot/replies.ts); a turn driven another way (a
   * test adapter) sends it within the turn, as does a turn whose reply the store cannot take now.
   */
  private async send(context: TurnContext, scope: TurnScope, reply: Reply): Promise<void> {
    const conversation = conversationOf(context);
    const { copy, card } =
      reply instanceof PlanReply
        ? conversation
          ? this.deps.copies.prepare(reply, conversation, scope.actor.aadObjectId, scope.locale)
          : { copy: undefined, card: reply.card }
        : { copy: undefined, card: reply };
    const turn = context.turnState.get(REPLY_TURN_KEY) as ReplyTurn | undefined;
    if (turn && conversation) {
      const replyToId = typeof context.activity.id === 'string' && context.activity.id.length <= 512 ? context.activity.id : undefined;
      try {
        await this.deps.replies.enqueue(turn, { conversation, card, ...(replyToId ? { replyToId } : {}) }, copy);
        return;
      } catch (error) {
        // The answer is ready and nobody has it yet: it goes within the turn, as before the outbox took replies.
        if (isStoreUnavailable(error)) scope.log.warn({ err: error }, 'the outbox cannot take the reply now; sent within the turn');
        else scope.log.error({ err: error }, 'fault while writing a reply to the outbox; sent within the turn');
      }
    }
    // Through the adapter, not the turn's context: botbuilder revokes the context when the turn ends,
    // and a send that outlives the turn (below) would fail on it when Teams answers.
    const activity = TurnContext.applyConversationReference(MessageFactory.attachment(CardFactory.adaptiveCard(card)), TurnContext.getConversationReference(context.activity));
    let settled = false;
    // Best effort: a copy the store cannot take now is written with the plan's next card update.
    const sending = context.adapter.sendActivities(context, [activity]).then(async ([sent]) => {
      settled = true;
      if (copy && sent?.id) await this.deps.copies.sent(copy, sent.id);
    });
    sending.catch(() => (settled = true));
    // The turn waits for the deadline, as it always did (the Bot Framework gives a turn 15 s); the
    // client's own abort at the deadline comes first (DEADLINE_MARGIN_MS). A new message still on the
    // wire then may be answered within its grace (connectorCallLimitMs): it goes on after the turn,
    // and its copy learns its id if it is.
    try {
      await withinDeadline(sending, (this.deps.connectorTimeoutMs ?? DEFAULT_CONNECTOR_TIMEOUT_MS) + DEADLINE_MARGIN_MS);
    } catch (error) {
      if (!(error instanceof ConnectorDeadlineError) || settled) throw error;
      scope.log.warn('a reply sent within the turn is still on its way at the deadline; the turn ends without waiting for it');
      sending.then(
        () => scope.log.info('the reply the turn stopped waiting for was sent'),
        (late: unknown) => scope.log.warn({ err: late }, 'the reply the turn stopped waiting for was not sent'),
      );
    }
  }

  private refusalCard(scope: TurnScope, text: string): CardJson {
    return messageCard(strings(scope.locale).errors.refusedTitle, text, 'attention');
  }

  /**
   * Saves how to reach this user (their personal chat) and the channel the bot is installed in, from
   * this authenticated activity, for approval cards sent later (teams-platform.md must-have 9).
   */
  private async rememberWhereToReach(context: TurnContext, scope: TurnScope): Promise<void> {
    const activity = context.activity;
    const reference = conversationOf(context);
    if (!reference) return;
    // Only people with a role are ever messaged later (approvers, requesters), and only their activities
    // say where a team channel is: a stranger's activity stores nothing. Otherwise anyone in the tenant
    // could grow the conversation store by one record per made-up channelData.channel.id, or (local
    // mode) point the approvals channel at a serviceUrl of their own (attack9).
    if (!(scope.roles.admin || scope.roles.approver)) return;
    try {
      if (scope.actor.aadObjectId && activity.conversation?.conversationType === 'personal' && typeof activity.from?.id === 'string') {
        const name = visibleName(scope.actor.name);
        const changed = await this.deps.contacts.saveContact({
          aadObjectId: scope.actor.aadObjectId,
          userId: activity.from.id.slice(0, 200),
          name,
          conversation: reference,
          locale: scope.locale,
          updatedAt: new Date().toISOString(),
        });
        let asked: Promise<void> | undefined;
        try {
          if (!name) asked = this.deps.memberNames?.ask(context, scope.actor.aadObjectId, activity.from.id);
        } finally {
          if (changed && scope.roles.approver) {
            // Deliveries held for this approver go once the name question is over (at most its budget), so their cards name them.
            const approver = scope.actor.aadObjectId;
            const reach = () => this.deps.onReachable?.(approver);
            if (asked) void asked.then(reach).catch((error: unknown) => this.deps.log.warn({ err: error }, 'could not retry deliveries'));
            else reach();
          }
        }
      }
      const channelId = (activity.channelData as { channel?: { id?: unknown } } | undefined)?.channel?.id;
      if (typeof channelId === 'string' && channelId.length < 200) {
        // A new post in the channel (not a reply in this thread) goes to the channel's own id.
        const conversation = { ...reference.conversation, id: channelId, isGroup: true, conversationType: 'channel' };
        await this.deps.contacts.saveChannel(channelId, { ...reference, conversation }, new Date().toISOString());
      }
    } catch (error) {
      scope.log.warn({ err: error }, 'could not save the conversation reference');
    }
  }

  private scopeFor(context: TurnContext, actor: TurnScope['actor'], roles: TurnScope['roles']): TurnScope {
    const correlationId = randomUUID();
    return {
      actor,
      userId: typeof context.activity.from?.id === 'string' ? context.activity.from.id.slice(0, 200) : '',
      roles,
      locale: localeOf(context.activity.locale),
      correlationId,
      log: lazyChild(this.deps.log, { correlationId, activityType: context.activity.type, aadObjectId: actor.aadObjectId }),
      services: this.deps.services,
    };
  }
}

/**
 * The turn's logger with its bindings, made on its first line: most turns log nothing, and a pino
 * child made for every turn was a measurable part of a card action (bench/results.md, issue 13).
 */
function lazyChild(parent: Logger, bindings: Record<string, unknown>): TurnLog {
  let child: Logger | undefined;
  const at =
    (level: keyof TurnLog) =>
    (...args: unknown[]): void => {
      child ??= parent.child(bindings);
      Reflect.apply(child[level], child, args);
    };
  return { info: at('info'), warn: at('warn'), error: at('error') } as TurnLog;
}

const SCOPE_KEY = Symbol('switchboard.scope');
/** The turn's conversation reference as kept for card copies and contacts, checked once per turn. */
const REFERENCE_KEY = Symbol('switchboard.conversationReference');

function conversationOf(context: TurnContext): ConversationRef | undefined {
  return context.turnState.has(REFERENCE_KEY) ? (context.turnState.get(REFERENCE_KEY) as ConversationRef | undefined) : CardCopies.refOf(referenceOf(context));
}
const REPLY_TURN_KEY = Symbol('switchboard.replyTurn');

function scopeOf(context: TurnContext): TurnScope {
  const scope = context.turnState.get(SCOPE_KEY) as TurnScope | undefined;
  if (!scope) throw new Error('turn scope missing: the gate did not run');
  return scope;
}

/** The activity as the wire carries it: botbuilder's adapters turn timestamps into Dates. */
function comparable(activity: Partial<Activity>): unknown {
  const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
  return { ...activity, timestamp: iso(activity.timestamp), localTimestamp: iso(activity.localTimestamp) };
}

/** The activity's conversation reference as plain data (botbuilder's object, without its activity id). */
function referenceOf(context: TurnContext): Record<string, unknown> {
  const { activityId: _activityId, ...reference } = TurnContext.getConversationReference(context.activity);
  return reference as Record<string, unknown>;
}

function withoutVerb(value: Record<string, unknown>): Record<string, unknown> {
  const { verb: _verb, ...rest } = value;
  return rest;
}

async function sendInvokeResponse(context: TurnContext, response: InvokeResponse): Promise<void> {
  await context.sendActivity({ type: 'invokeResponse', value: response });
}
