import { randomUUID } from 'node:crypto';
import { CardFactory, MessageFactory, type BotAdapter, type ConversationReference, type TurnContext } from 'botbuilder';
import type { CardCopy, ConversationRef, OutboxMessage, PendingReply } from '../approvals/copies';
import { foldInto, pendingMessage } from '../approvals/outbox';
import { requesters, type ChangeRequest } from '../approvals/requests';
import type { Viewer } from '../cards/approvalRequest';
import { messageCard } from '../cards/message';
import { plainText } from '../cards/text';
import type { CardJson } from '../cards/render';
import { format, strings } from '../i18n';
import type { Logger } from '../log/logger';
import type { ContactStore } from '../store/conversations';
import { isStoreUnavailable } from '../store/errors';
import type { WorkflowStore } from '../store/workflow';
import { withCardId } from './cardIds';
import type { CardCopies } from './cardCopies';
import { ConnectorDeadlineError, connectorCallLimitMs, DEADLINE_MARGIN_MS, DEFAULT_CONNECTOR_TIMEOUT_MS, withinDeadline } from './connectorDeadline';
import type { Views } from './planView';
import { firstInLine, REPLY_ATTEMPTS, type ReplyQueue } from './replies';
import type { DeliveryPort, Services } from './scope';

export interface DeliveryOptions {
  appId: string;
  /** The approvals channel (19:…@thread.tacv2), when configured. */
  channelId: string | undefined;
  log: Logger;
  /** How many messages go out at once (approvers are sent their cards in parallel). */
  concurrency?: number;
  /** How often the worker looks for due messages when nothing woke it up (several instances). */
  pollMs?: number;
  /** The longest one call to the Bot Connector may take before the worker stops waiting for it. */
  callTimeoutMs?: number;
  /** Replies to message turns (src/bot/replies.ts): which wait for an earlier turn still running. */
  replies?: ReplyQueue;
  /** How many times a reply is tried before it is dropped (default REPLY_ATTEMPTS). */
  replyAttempts?: number;
}

/**
 * How long a worker holds the messages it took before another instance may take them (at least four
 * call deadlines, and the longest delivery of one message: see claimMs): longer than a delivery takes
 * unless several of its connector calls hit their deadline. So no other instance sends a new message
 * again while its first attempt may still be answered (connectorCallLimitMs). Should a refresh of many
 * copies outlast it, another instance may send the same update once more; harmless, since a copy only
 * ever moves to a newer card.
 */
const CLAIM_MS = 60_000;

/** After this many failed attempts (about a day with the back-off below) a message is abandoned. */
const MAX_ATTEMPTS = 25;
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * A reply whose turn's earlier reply is being sent by another instance is looked at again this much
 * later (one instance sends a conversation's replies one at a time by itself).
 */
const BEHIND_ANOTHER_MS = 1_000;

type Outcome = { kind: 'sent' } | { kind: 'unreachable'; why: string } | { kind: 'retry'; why: string } | { kind: 'later'; atMs: number };

/** An HTTP status on a connector error (botframework-connector's RestError carries `statusCode`). */
function statusOf(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const record = error as { statusCode?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const value of [record.statusCode, record.status, record.response?.status]) if (typeof value === 'number') return value;
  return undefined;
}

function describe(error: unknown): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return `${status ? `${status} ` : ''}${message}`.slice(0, 300);
}

/**
 * The outbox worker (ARCHITECTURE.md "Outbox for everything sent later"): it delivers approval cards
 * to approvers (in parallel) and to the approvals channel, tells requesters about decisions, and
 * updates every copy of a plan's cards, each message retried with back-off until done. A message is
 * removed only after it went out, so a crash means it goes out after the restart (at worst twice,
 * never not at all). 403 from Teams means the bot is not installed for that person or was blocked
 * (teams-platform.md §4): not retried, the requester is told.
 *
 * A pass starts deliveries and does not wait for them: a delivery that is slow (a throttled or hung
 * Bot Connector) holds one of `concurrency` slots and its own message, never the others
 * (test/trust/slow-connector-blocks-nothing.test.ts).
 * Every connector call has a deadline; a call given up on still holds its message until it returns,
 * so the same message is never out twice at once.
 */
export class OutboxWorker implements DeliveryPort {
  private adapter: BotAdapter;
  /** Deliveries under way, by keyOf(message): at most `concurrency` of them. */
  private readonly deliveries = new Map<string, { planId: string; done: Promise<void> }>();
  /** Connector calls past their deadline, by keyOf(message): their message waits until they return. */
  private readonly lingering = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  /** The time the last pass claimed at: what was due then, it took or left for a reason of its own. */
  private passAt: Date | undefined;
  /** Calls of armTimer so far: only the latest one sets the timer. */
  private arming = 0;
  private pumping: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly concurrency: number;
  private readonly callTimeoutMs: number;
  private readonly claimMs: number;
  private readonly replyAttempts: number;
  /** This worker's name in outbox claims. */
  private readonly owner = randomUUID();

  constructor(
    adapter: BotAdapter,
    private readonly store: WorkflowStore,
    private readonly services: Pick<Services, 'approvals' | 'provisioning'> & { views: Views },
    private readonly contacts: ContactStore,
    private readonly copies: CardCopies,
    private readonly options: DeliveryOptions,
  ) {
    this.adapter = adapter;
    this.concurrency = options.concurrency ?? 8;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CONNECTOR_TIMEOUT_MS;
    // The longest delivery of one message: a notice to both requesters, each a new message waited for up to its limit.
    this.claimMs = Math.max(CLAIM_MS, 4 * this.callTimeoutMs, 2 * (connectorCallLimitMs(this.callTimeoutMs) + DEADLINE_MARGIN_MS));
    this.replyAttempts = options.replyAttempts ?? REPLY_ATTEMPTS;
    // A reply that waited for an earlier turn of its conversation may go once that turn is over.
    options.replies?.onTurnEnd(() => this.kick());
  }

  /** Tests drive the bot through another adapter (botbuilder's TestAdapter). */
  useAdapter(adapter: BotAdapter): void {
    this.adapter = adapter;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Something was committed: look for due messages now. */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'outbox worker pass failed'))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        } else void this.armTimer().catch(() => undefined);
      });
  }

  async settle(planId: string, budgetMs: number): Promise<void> {
    const deadline = Date.now() + budgetMs;
    this.kick();
    for (;;) {
      const messages = await this.store.outboxOf(planId);
      const due = messages.filter((m) => m.status === 'pending' && Date.parse(m.nextAttemptAt) <= Date.now() && m.kind !== 'refreshCopies');
      if (due.length === 0 || Date.now() >= deadline) return;
      // Look again when one of this plan's deliveries ends, or soon (the pass may not have started it yet).
      const ours = [...this.deliveries.values()].filter((d) => d.planId === planId).map((d) => d.done);
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>((r) => (timer = setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now())))));
      await Promise.race([tick, ...ours]);
      clearTimeout(timer);
      this.kick();
    }
  }

  /** Resolves when nothing is due and nothing is in flight (tests; graceful shutdown). */
  async idle(horizonMs = 0): Promise<void> {
    for (let pass = 0; pass < 200; pass++) {
      await this.pumping;
      await this.deliveriesEnded();
      const next = await this.store.nextOutboxAt();
      if (!next || next.getTime() > Date.now() + horizonMs) {
        if (!this.pumping && this.deliveries.size === 0) return;
        continue;
      }
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(200, next.getTime() - Date.now()))));
      this.kick();
    }
  }

  /** Stops taking messages and waits for the deliveries under way (each bounded by its calls' limits: connectorCallLimitMs). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pumping;
    await this.deliveriesEnded();
  }

  private async deliveriesEnded(): Promise<void> {
    await Promise.allSettled([...this.deliveries.values()].map((d) => d.done));
  }

  /** An approver talked to the bot: deliveries that could not reach them are tried again. */
  async reachable(aadObjectId: string): Promise<void> {
    const id = aadObjectId.toLowerCase();
    await this.requeueUnreachable(async (approverId) => approverId.toLowerCase() === id);
  }

  /**
   * At start-up: approval cards marked unreachable for an approver who has a chat with the bot by now
   * are tried again. The turn that saved their chat re-queues them, but a stop or a crash between that
   * save and the re-queue left them unreachable for good, the requester told "Could not reach" someone
   * who had installed the app.
   */
  async reachableSinceLastRun(): Promise<void> {
    await this.requeueUnreachable(async (approverId) => (await this.contacts.contact(approverId)) !== undefined);
  }

  private async requeueUnreachable(reached: (approverId: string) => Promise<boolean>): Promise<void> {
    const pending = await this.store.requests(['pending']);
    let found = false;
    for (const request of pending) {
      for (const message of await this.store.outboxOf(request.id)) {
        if (message.kind !== 'deliverApproval' || message.status !== 'unreachable' || !message.approverId || !(await reached(message.approverId))) continue;
        // Read again inside the transaction: two turns of one approver re-queue at once, and the first
        // one's delivery may have moved the message on since the read above.
        const requeued = await this.store.transact(async (tx) => {
          const current = (await tx.outboxOf(request.id)).find((m) => m.id === message.id);
          if (current?.status !== 'unreachable') return false;
          const at = new Date().toISOString();
          tx.putOutbox({ ...current, status: 'pending', nextAttemptAt: at, updatedAt: at });
          return true;
        });
        found ||= requeued;
      }
    }
    if (found) this.kick();
  }

  private async armTimer(): Promise<void> {
    if (this.stopped) return;
    const armed = ++this.arming;
    // Messages due when the last pass looked were taken by it, or wait for a delivery of theirs (whose
    // end starts a pass) or for a slot, or for another instance's claim: the poll covers those. What
    // was not due then is woken for, even when it became due since: a timer may fire a millisecond
    // before the wall clock reaches the due time, and such a message then waited a whole poll.
    const passAt = this.passAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    let next: Date | undefined;
    try {
      next = await this.store.nextOutboxAt(this.passAt);
    } catch {
      // The store is failing (the pass just failed too): nothing else may wake the worker once it is
      // back, on a quiet instance, so the poll does.
      next = undefined;
    }
    // A later call knows more (its pass came after this one's): it sets the timer.
    if (armed !== this.arming || this.stopped) return;
    const poll = this.options.pollMs ?? 5_000;
    // Only for what the pass could not have seen: one it saw and left waits for its own wake-up, and
    // a timer for it would fire every few milliseconds while it waits.
    const delay = next && next.getTime() > passAt ? Math.max(10, Math.min(poll, next.getTime() - Date.now())) : poll;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }

  /** Starts the due messages that have a free slot and are not already out; does not wait for them. */
  private async pump(): Promise<void> {
    const at = new Date();
    this.passAt = at;
    const free = this.concurrency - this.deliveries.size;
    if (free <= 0 || this.stopped) return;
    // Messages being delivered are still pending and come back in the claim: take enough for every free slot.
    let limit = Math.min(100, free + this.deliveries.size + this.lingering.size);
    for (let round = 0; round < 2; round++) {
      const due = await this.store.claimOutbox(this.owner, at, limit, this.claimMs);
      // A conversation's replies go out one at a time, the earliest turn's first.
      const first = new Map<string, OutboxMessage>();
      for (const message of due) {
        if (message.kind !== 'reply' || !message.reply) continue;
        const earlier = first.get(message.planId);
        first.set(message.planId, earlier ? firstInLine([earlier, message])! : message);
      }
      let behind = 0;
      for (const message of due) {
        if (this.stopped || this.deliveries.size >= this.concurrency) return;
        const key = keyOf(message);
        if (this.deliveries.has(key) || this.lingering.has(key)) continue;
        if (message.kind === 'reply' && message.reply && first.get(message.planId) !== message) {
          behind += 1;
          continue;
        }
        if (this.waitsForTurn(message)) continue;
        this.dispatch(key, message);
      }
      // Replies queued behind others took places in the claim: once more with room for what they hid.
      if (behind === 0 || due.length < limit || limit >= 100) return;
      limit = Math.min(100, limit + behind);
    }
  }

  /** An earlier turn of the reply's conversation is still running here: its reply goes first (onTurnEnd kicks). */
  private waitsForTurn(message: OutboxMessage): boolean {
    const reply = message.kind === 'reply' ? message.reply : undefined;
    return !!reply && !!this.options.replies?.heldBack(reply.conversation.conversation.id, reply.order);
  }

  private dispatch(key: string, message: OutboxMessage): void {
    const done = this.deliver(message).then(
      () => {
        this.deliveries.delete(key);
        this.kick();
      },
      (error: unknown) => {
        this.deliveries.delete(key);
        // The store could not record the outcome: the message stays due and the next timed pass takes
        // it again (not at once: the store is failing).
        this.options.log.warn({ err: error, planId: message.planId, kind: message.kind }, 'outbox: delivery stopped by the store');
      },
    );
    this.deliveries.set(key, { planId: message.planId, done });
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.handle(message);
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      outcome = { kind: 'retry', why: describe(error) };
    }
    await this.settleMessage(message, outcome).catch((error: unknown) => this.options.log.warn({ err: error, messageId: message.id }, 'outbox: could not record a delivery'));
  }

  private async settleMessage(message: OutboxMessage, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'sent') {
      if (message.kind === 'refreshCopies') {
        await this.store.transact(async (tx) => {
          // A newer refresh may have been folded into this message meanwhile: keep it then — spaced from
          // this one when its updates are (a fold into an overdue message left it due at once).
          const current = (await tx.outboxOf(message.planId)).find((m) => m.id === message.id);
          if (current && current.revision === message.revision) tx.deleteOutbox(message.id);
          else if (current?.spacingMs) {
            const spaced = new Date(Date.now() + current.spacingMs).toISOString();
            if (current.nextAttemptAt < spaced) tx.putOutbox({ ...current, nextAttemptAt: spaced });
          }
        });
      }
      return;
    }
    const at = new Date();
    if (outcome.kind === 'later') {
      await this.store.transact(async (tx) => {
        const current = (await tx.outboxOf(message.planId)).find((m) => m.id === message.id);
        if (!current) return;
        let nextAttemptAt = new Date(outcome.atMs).toISOString();
        // A change that is not spaced was folded in while this delivery ran (the batch itself is done,
        // say): it keeps its earlier time. A copy still in a click's quiet period just says later again.
        if (current.revision !== message.revision && !current.spacingMs && current.nextAttemptAt < nextAttemptAt) nextAttemptAt = current.nextAttemptAt;
        tx.putOutbox({ ...current, nextAttemptAt });
      });
      return;
    }
    if (outcome.kind === 'unreachable' && message.kind === 'reply') {
      // 403/404: the bot was removed from the conversation or blocked; nobody is there to read it.
      this.options.log.warn({ conversationId: message.reply?.conversation.conversation.id, why: outcome.why }, 'outbox: reply dropped, the conversation is not reachable');
      await this.dropReply(message);
      return;
    }
    if (outcome.kind === 'unreachable') {
      this.options.log.warn({ planId: message.planId, kind: message.kind, why: outcome.why }, 'outbox: recipient not reachable');
      await this.store.transact(async (tx) => {
        tx.putOutbox({ ...message, status: 'unreachable', lastError: outcome.why, updatedAt: at.toISOString() });
        await this.touchRequest(tx, message.planId);
      });
      return;
    }
    const attempts = message.attempts + 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(attempts - 1, 12));
    if (message.kind === 'reply') return this.retryReply(message, attempts, new Date(at.getTime() + backoff), outcome.why);
    const abandon = attempts >= MAX_ATTEMPTS;
    if (abandon) this.options.log.error({ planId: message.planId, kind: message.kind, why: outcome.why, attempts }, 'outbox: giving up on a message');
    else this.options.log.warn({ planId: message.planId, kind: message.kind, why: outcome.why, attempts }, 'outbox: delivery failed, will retry');
    await this.store.transact(async (tx) => {
      // What was folded into the message while it was out (a newer revision, spacing taken off) stays.
      const current = (await tx.outboxOf(message.planId)).find((m) => m.id === message.id) ?? message;
      tx.putOutbox({
        ...current,
        status: abandon ? 'abandoned' : 'pending',
        attempts,
        nextAttemptAt: new Date(at.getTime() + backoff).toISOString(),
        lastError: outcome.why,
        updatedAt: at.toISOString(),
      });
    });
  }

  /**
   * A reply that could not be sent is tried again later, and the replies behind it in its conversation
   * wait as long; after its last attempt it is logged and dropped (REPLY_ATTEMPTS says why), and those
   * behind it go.
   */
  private async retryReply(message: OutboxMessage, attempts: number, next: Date, why: string): Promise<void> {
    const conversationId = message.reply?.conversation.conversation.id;
    if (attempts >= this.replyAttempts) {
      this.options.log.error({ conversationId, attempts, why }, 'outbox: giving up on a reply; dropped');
      await this.dropReply(message);
      return;
    }
    this.options.log.warn({ conversationId, attempts, why }, 'outbox: reply not delivered, will retry');
    const nextAttemptAt = next.toISOString();
    await this.store.transact(async (tx) => {
      tx.putOutbox({ ...message, attempts, nextAttemptAt, lastError: why, updatedAt: new Date().toISOString() });
      for (const behind of await tx.outboxOf(message.planId)) {
        if (behind.id !== message.id && behind.kind === 'reply' && behind.status === 'pending' && behind.nextAttemptAt < nextAttemptAt) tx.putOutbox({ ...behind, nextAttemptAt });
      }
    });
  }

  /** A reply that will not be sent goes, with the copy its card would have become (no message holds it). */
  private async dropReply(message: OutboxMessage): Promise<void> {
    const copyId = message.reply?.copyId;
    await this.store.transact(async (tx) => {
      tx.deleteOutbox(message.id);
      const copy = copyId ? await tx.copy(copyId) : undefined;
      if (copy && !copy.activityId) tx.deleteCopy(copy.id);
    });
  }

  /** What the requester's card says about deliveries changed: its version moves, so the card updates. */
  private async touchRequest(tx: Parameters<Parameters<WorkflowStore['transact']>[0]>[0], planId: string): Promise<void> {
    const request = await tx.request(planId);
    if (request) tx.putRequest(request);
    const existing = (await tx.outboxOf(planId)).find((m) => m.kind === 'refreshCopies' && m.status === 'pending');
    const now = new Date().toISOString();
    // Shown now, not spaced like a batch's progress.
    tx.putOutbox(existing ? foldInto(existing, now, now) : pendingMessage({ planId, kind: 'refreshCopies' }, now, now));
  }

  private async handle(message: OutboxMessage): Promise<Outcome> {
    switch (message.kind) {
      case 'deliverApproval':
        return this.deliverApproval(message);
      case 'postChannel':
        return this.postChannel(message);
      case 'notifyRequester':
        return this.notifyRequester(message);
      case 'refreshCopies':
        return this.refreshCopies(message);
      case 'reply':
        return this.deliverReply(message);
    }
  }

  /**
   * Sends a turn's reply, once every earlier reply of its conversation went out or was dropped. A
   * plan card's copy learns its message id together with the reply's end (CardCopies.sentLater).
   */
  private async deliverReply(message: OutboxMessage): Promise<Outcome> {
    const reply = message.reply;
    if (!reply) return this.done(message);
    const head = firstInLine(await this.store.outboxOf(message.planId));
    if (head && head.id !== message.id) {
      // An earlier reply waits for its next attempt, or another instance is sending it: after it.
      return { kind: 'later', atMs: Math.max(Date.parse(head.nextAttemptAt), Date.now() + BEHIND_ANOTHER_MS) };
    }
    let activityId: string | undefined;
    try {
      activityId = await this.sendReply(message, reply);
    } catch (error) {
      return failure(error);
    }
    if (reply.copyId && activityId) await this.copies.sentLater(reply.copyId, activityId, (tx) => tx.deleteOutbox(message.id));
    else await this.store.transact((tx) => tx.deleteOutbox(message.id));
    return { kind: 'sent' };
  }

  private async deliverApproval(message: OutboxMessage): Promise<Outcome> {
    const request = await this.services.approvals.get(message.planId);
    // Decided meanwhile: nothing to ask any more.
    if (!request || request.status !== 'pending' || !message.approverId) return this.done(message);
    const contact = await this.contacts.contact(message.approverId);
    if (!contact) return { kind: 'unreachable', why: 'has never talked to Switchboard (no conversation reference)' };
    const view = await this.services.views.approval(request, 'approver', contact.locale);
    return this.sendCopy(message, view.card, {
      id: randomUUID(),
      planId: message.planId,
      view: 'approval',
      audience: 'approver',
      aadObjectId: contact.aadObjectId.toLowerCase(),
      name: contact.name,
      conversation: contact.conversation,
      activityId: null,
      locale: contact.locale,
      shownVersion: view.version,
      createdAt: new Date().toISOString(),
    });
  }

  private async postChannel(message: OutboxMessage): Promise<Outcome> {
    const request = await this.services.approvals.get(message.planId);
    if (!request || request.status !== 'pending') return this.done(message);
    const conversation = this.options.channelId ? (await this.contacts.channel(this.options.channelId))?.conversation : undefined;
    if (!conversation) return { kind: 'unreachable', why: 'the bot has not seen the approvals channel yet' };
    // A channel has no locale of its own: English.
    const view = await this.services.views.approval(request, 'other', 'en');
    return this.sendCopy(message, view.card, {
      id: randomUUID(),
      planId: message.planId,
      view: 'approval',
      audience: 'channel',
      aadObjectId: null,
      name: '',
      conversation,
      activityId: null,
      locale: 'en',
      shownVersion: view.version,
      createdAt: new Date().toISOString(),
    });
  }

  /** Sends a card that becomes a copy; the copy and the message's end are recorded together. */
  private async sendCopy(message: OutboxMessage, card: CardJson, copy: CardCopy): Promise<Outcome> {
    let activityId: string;
    try {
      activityId = await this.send(message, copy.conversation, withCardId(card, copy.id));
    } catch (error) {
      return failure(error);
    }
    await this.store.transact(async (tx) => {
      tx.putCopy({ ...copy, activityId });
      tx.deleteOutbox(message.id);
      await this.touchRequest(tx, message.planId);
    });
    // Which instance sent which copy (several instances share the outbox).
    this.options.log.debug({ planId: message.planId, messageId: message.id, kind: message.kind, copyId: copy.id, activityId }, 'outbox: card sent');
    return { kind: 'sent' };
  }

  private async notifyRequester(message: OutboxMessage): Promise<Outcome> {
    const request = await this.services.approvals.get(message.planId);
    if (!request || !message.notice) return this.done(message);
    for (const aadObjectId of new Set(requesters(request))) {
      const contact = await this.contacts.contact(aadObjectId);
      if (!contact) continue;
      try {
        await this.send(message, contact.conversation, toldCard(request, message.notice, contact.locale));
      } catch (error) {
        const outcome = failure(error);
        if (outcome.kind === 'retry') return outcome;
      }
    }
    return this.done(message);
  }

  /** Every attached copy of the plan's cards shows the latest state; none goes back to an older one. */
  private async refreshCopies(message: OutboxMessage): Promise<Outcome> {
    let retryAt: number | undefined;
    let failed: Outcome | undefined;
    const render = (copy: CardCopy) => this.viewFor(copy);
    const send = async (copy: CardCopy & { activityId: string }, card: CardJson): Promise<'updated' | 'gone'> => {
      try {
        await this.replace(message, copy.conversation, copy.activityId, card);
        // Which instance updated which copy (several instances share the outbox).
        this.options.log.debug({ planId: message.planId, copyId: copy.id, activityId: copy.activityId }, 'outbox: card updated');
        return 'updated';
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 || status === 403) return 'gone';
        throw error;
      }
    };
    for (const listed of await this.copies.copiesOf(message.planId)) {
      if (listed.view === 'detached' || !listed.activityId) continue;
      try {
        const outcome = await this.copies.refresh(listed.id, message.planId, render, send, message.spacingMs);
        if (outcome.kind === 'later') retryAt = Math.min(retryAt ?? outcome.atMs, outcome.atMs);
      } catch (error) {
        if (isStoreUnavailable(error)) throw error;
        // The other copies are still brought up to date; this one is tried again with the message.
        failed = failure(error);
      }
    }
    if (failed) return failed;
    if (retryAt !== undefined) return { kind: 'later', atMs: retryAt };
    return { kind: 'sent' };
  }

  private async viewFor(copy: CardCopy): Promise<{ card: CardJson; version: number } | undefined> {
    if (copy.view === 'plan') {
      const plan = await this.services.provisioning.plans.get(copy.planId);
      return plan ? this.services.views.plan(plan, copy.locale) : undefined;
    }
    const request = await this.services.approvals.get(copy.planId);
    if (!request) return undefined;
    const viewer: Viewer = copy.audience === 'approver' && copy.aadObjectId ? this.services.views.viewerOf(request, copy.aadObjectId) : 'other';
    return this.services.views.approval(request, viewer, copy.locale);
  }

  private async done(message: OutboxMessage): Promise<Outcome> {
    await this.store.transact((tx) => tx.deleteOutbox(message.id));
    return { kind: 'sent' };
  }

  private async send(message: OutboxMessage, conversation: ConversationRef, card: CardJson): Promise<string> {
    let id = '';
    await this.call(message, 'new message', () =>
      this.proactive(conversation, async (context) => {
        const sent = await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
        id = sent?.id ?? '';
      }),
    );
    if (!id) throw new Error('the channel returned no message id');
    return id;
  }

  /** A reply as the turn would have sent it: a reply to the user's message, in their conversation. */
  private async sendReply(message: OutboxMessage, reply: PendingReply): Promise<string | undefined> {
    let id: string | undefined;
    await this.call(message, 'new message', () =>
      this.proactive(reply.conversation, async (context) => {
        const replyToId = reply.replyToId;
        // botbuilder makes a proactive message a reply to its own continuation event: to the user's message instead.
        if (replyToId) {
          context.onSendActivities(async (_context, activities, next) => {
            for (const activity of activities) activity.replyToId = replyToId;
            return next();
          });
        }
        const sent = await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(reply.card)));
        id = sent?.id || undefined;
      }),
    );
    return id;
  }

  private async replace(message: OutboxMessage, conversation: ConversationRef, activityId: string, card: CardJson): Promise<void> {
    await this.call(message, 'update', () =>
      this.proactive(conversation, async (context) => {
        await context.updateActivity({ ...MessageFactory.attachment(CardFactory.adaptiveCard(card)), id: activityId });
      }),
    );
  }

  /**
   * Runs `logic` in a proactive turn of the conversation and throws what it threw. The adapter's
   * onTurnError logs a turn's error and swallows it (botbuilder's BotAdapter.runMiddleware), so without
   * this a send the connector refused looked sent: a reply was dropped as delivered, a card update
   * counted as done, and a 403 (not installed, blocked) lost the status that says not to retry.
   */
  private async proactive(conversation: ConversationRef, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    let failed: { error: unknown } | undefined;
    await this.adapter.continueConversationAsync(this.options.appId, conversation as Partial<ConversationReference>, async (context) => {
      try {
        await logic(context);
      } catch (error) {
        failed = { error };
      }
    });
    if (failed) throw failed.error;
  }

  /**
   * One connector call, waited for at most the call deadline (the adapter's HTTP client aborts its
   * requests by then too: src/bot/connectorDeadline.ts), or for a new message as long as the client may
   * wait for an attempt already on the wire (connectorCallLimitMs says why), so that a late answer is
   * still this delivery's and its message id is kept. A call still out after that keeps its message
   * from being delivered again until it returns.
   */
  private async call(message: OutboxMessage, what: 'new message' | 'update', work: () => Promise<void>): Promise<void> {
    const call = work();
    try {
      // A little over the client's own limit, so that the client's abort, which names what happened, comes first.
      await withinDeadline(call, what === 'new message' ? connectorCallLimitMs(this.callTimeoutMs) + DEADLINE_MARGIN_MS : this.callTimeoutMs);
    } catch (error) {
      if (error instanceof ConnectorDeadlineError) this.linger(keyOf(message), call);
      throw error;
    }
  }

  private linger(key: string, call: Promise<void>): void {
    const earlier = this.lingering.get(key);
    const returned: Promise<void> = Promise.allSettled([earlier, call]).then(() => {
      if (this.lingering.get(key) !== returned) return;
      this.lingering.delete(key);
      this.kick();
    });
    this.lingering.set(key, returned);
  }
}

/** One delivery at a time per recipient, per plan's refresh and per conversation's replies; approvers of one request in parallel. */
function keyOf(message: OutboxMessage): string {
  if (message.kind === 'reply') return message.planId;
  return message.kind === 'refreshCopies' ? `refresh:${message.planId}` : `${message.kind}:${message.planId}:${message.approverId ?? ''}`;
}

function failure(error: unknown): Outcome {
  const status = statusOf(error);
  // 403: BotNotInConversationRoster, ForbiddenOperationException, MessageWritesBlocked (teams-platform.md §4).
  if (status === 403 || status === 404) return { kind: 'unreachable', why: describe(error) };
  return { kind: 'retry', why: describe(error) };
}

function toldCard(request: ChangeRequest, notice: NonNullable<OutboxMessage['notice']>, locale: 'en' | 'fr'): CardJson {
  const s = strings(locale);
  const what = format(s.plan.title[request.kind], { upn: plainText(request.account.userPrincipalName) });
  const params = { what, name: plainText(request.decision?.name ?? ''), reason: plainText(request.decision?.reason ?? '') };
  return messageCard(format(s.approval.toldTitle, { what }), format(s.approval.told[notice], params), notice === 'approved' ? 'good' : 'attention');
}
