import { randomUUID } from 'node:crypto';
import { CardFactory, MessageFactory, type BotAdapter, type ConversationReference } from 'botbuilder';
import type { CardCopy, ConversationRef, OutboxMessage } from '../approvals/copies';
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
import type { Views } from './planView';
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
}

/** How long a worker holds the messages it took before another instance may take them. */
const CLAIM_MS = 60_000;

/** After this many failed attempts (about a day with the back-off below) a message is abandoned. */
const MAX_ATTEMPTS = 25;
const MAX_BACKOFF_MS = 10 * 60_000;

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
 */
export class OutboxWorker implements DeliveryPort {
  private adapter: BotAdapter;
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly concurrency: number;
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
      await Promise.race([this.pumping ?? Promise.resolve(), new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now())))).then(() => undefined)]);
      this.kick();
    }
  }

  /** Resolves when nothing is due and nothing is in flight (tests; graceful shutdown). */
  async idle(horizonMs = 0): Promise<void> {
    for (let pass = 0; pass < 200; pass++) {
      await this.pumping;
      await Promise.allSettled([...this.inFlight.values()]);
      const next = await this.store.nextOutboxAt();
      if (!next || next.getTime() > Date.now() + horizonMs) {
        if (!this.pumping && this.inFlight.size === 0) return;
        continue;
      }
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(200, next.getTime() - Date.now()))));
      this.kick();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pumping;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** An approver talked to the bot: deliveries that could not reach them are tried again. */
  async reachable(aadObjectId: string): Promise<void> {
    const id = aadObjectId.toLowerCase();
    const pending = await this.store.requests(['pending']);
    let found = false;
    for (const request of pending) {
      for (const message of await this.store.outboxOf(request.id)) {
        if (message.kind !== 'deliverApproval' || message.status !== 'unreachable' || message.approverId?.toLowerCase() !== id) continue;
        await this.store.transact((tx) => tx.putOutbox({ ...message, status: 'pending', nextAttemptAt: new Date().toISOString(), updatedAt: new Date().toISOString() }));
        found = true;
      }
    }
    if (found) this.kick();
  }

  private async armTimer(): Promise<void> {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const next = await this.store.nextOutboxAt();
    const poll = this.options.pollMs ?? 5_000;
    const delay = next ? Math.max(10, Math.min(poll, next.getTime() - Date.now())) : poll;
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    const due = await this.store.claimOutbox(this.owner, new Date(), 100, CLAIM_MS);
    const started: Promise<void>[] = [];
    for (const message of due) {
      if (this.stopped) break;
      const key = keyOf(message);
      if (this.inFlight.has(key)) continue;
      while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight.values());
      const work = this.deliver(message).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, work);
      started.push(work);
    }
    await Promise.allSettled(started);
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
          // A newer refresh may have been folded into this message meanwhile: keep it then.
          const current = (await tx.outboxOf(message.planId)).find((m) => m.id === message.id);
          if (current && current.revision === message.revision) tx.deleteOutbox(message.id);
        });
      }
      return;
    }
    const at = new Date();
    if (outcome.kind === 'later') {
      await this.store.transact(async (tx) => {
        const current = (await tx.outboxOf(message.planId)).find((m) => m.id === message.id);
        if (current) tx.putOutbox({ ...current, nextAttemptAt: new Date(outcome.atMs).toISOString() });
      });
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
    const abandon = attempts >= MAX_ATTEMPTS;
    if (abandon) this.options.log.error({ planId: message.planId, kind: message.kind, why: outcome.why, attempts }, 'outbox: giving up on a message');
    else this.options.log.warn({ planId: message.planId, kind: message.kind, why: outcome.why, attempts }, 'outbox: delivery failed, will retry');
    await this.store.transact((tx) =>
      tx.putOutbox({
        ...message,
        status: abandon ? 'abandoned' : 'pending',
        attempts,
        nextAttemptAt: new Date(at.getTime() + backoff).toISOString(),
        lastError: outcome.why,
        updatedAt: at.toISOString(),
      }),
    );
  }

  /** What the requester's card says about deliveries changed: its version moves, so the card updates. */
  private async touchRequest(tx: Parameters<Parameters<WorkflowStore['transact']>[0]>[0], planId: string): Promise<void> {
    const request = await tx.request(planId);
    if (request) tx.putRequest(request);
    const existing = (await tx.outboxOf(planId)).find((m) => m.kind === 'refreshCopies' && m.status === 'pending');
    const now = new Date().toISOString();
    if (existing) tx.putOutbox({ ...existing, nextAttemptAt: now, revision: existing.revision + 1, updatedAt: now });
    else tx.putOutbox({ id: randomUUID(), planId, kind: 'refreshCopies', status: 'pending', attempts: 0, revision: 0, nextAttemptAt: now, createdAt: now, updatedAt: now });
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
    }
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
      activityId = await this.send(copy.conversation, withCardId(card, copy.id));
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
        await this.send(contact.conversation, toldCard(request, message.notice, contact.locale));
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
    for (const listed of await this.store.copiesOf(message.planId)) {
      if (listed.view === 'detached' || !listed.activityId) continue;
      await this.copies.withLock(listed.id, async () => {
        const copy = await this.store.copy(listed.id);
        if (!copy || copy.view === 'detached' || copy.planId !== message.planId || !copy.activityId) return;
        const quiet = copy.quietUntil ? Date.parse(copy.quietUntil) : 0;
        if (quiet > Date.now()) {
          retryAt = Math.min(retryAt ?? quiet, quiet);
          return;
        }
        const view = await this.viewFor(copy);
        if (!view || view.version <= copy.shownVersion) return;
        try {
          await this.replace(copy.conversation, copy.activityId, withCardId(view.card, copy.id));
        } catch (error) {
          const status = statusOf(error);
          if (status === 404 || status === 403) {
            // The message is gone (deleted) or the bot was removed: nothing to keep current there.
            await this.store.transact((tx) => tx.putCopy({ ...copy, view: 'detached' }));
            return;
          }
          failed = failure(error);
          return;
        }
        await this.store.transact(async (tx) => {
          const latest = await tx.copy(copy.id);
          if (latest && latest.shownVersion < view.version) tx.putCopy({ ...latest, shownVersion: view.version });
        });
        this.options.log.debug({ planId: copy.planId, copyId: copy.id, activityId: copy.activityId, version: view.version }, 'outbox: card updated');
      });
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

  private async send(conversation: ConversationRef, card: CardJson): Promise<string> {
    let id = '';
    await this.adapter.continueConversationAsync(this.options.appId, conversation as Partial<ConversationReference>, async (context) => {
      const sent = await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
      id = sent?.id ?? '';
    });
    if (!id) throw new Error('the channel returned no message id');
    return id;
  }

  private async replace(conversation: ConversationRef, activityId: string, card: CardJson): Promise<void> {
    await this.adapter.continueConversationAsync(this.options.appId, conversation as Partial<ConversationReference>, async (context) => {
      await context.updateActivity({ ...MessageFactory.attachment(CardFactory.adaptiveCard(card)), id: activityId });
    });
  }
}

/** One delivery at a time per recipient and per plan's refresh; approvers of one request in parallel. */
function keyOf(message: OutboxMessage): string {
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
