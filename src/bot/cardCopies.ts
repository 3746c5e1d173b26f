import { randomUUID } from 'node:crypto';
import { ConversationRefSchema, type CardCopy, type ConversationRef } from '../approvals/copies';
import type { WorkflowStore } from '../store/workflow';
import { withCardId } from './cardIds';
import type { CardJson } from '../cards/render';
import type { PlanReply } from './scope';

/** After a click is answered, no update goes to that message for this long: the answer lands first. */
export const QUIET_AFTER_CLICK_MS = 1_500;

/** Verbs that only look (Universal Actions refresh, Refresh buttons): they never add, move or detach copies. */
const READ_ONLY_VERBS: ReadonlySet<string> = new Set(['refreshPlan', 'refreshRequest']);

export interface Click {
  verb: string;
  /** Who clicked (their conversation is where the card is). */
  aadObjectId: string;
  conversation: ConversationRef | undefined;
  /** The copy the card's buttons named, or the message Teams says was clicked. */
  cardId: string | undefined;
  replyToId: string | undefined;
  locale: 'en' | 'fr';
}

/**
 * Where every copy of a plan's and an approval's card lives (issue 9 items 9, 10): a card sent as a
 * message becomes a copy; a click by the copy's owner moves it to what the click answered (or detaches
 * it when the answer is something else); a reader's click changes nothing; updates only move a copy
 * forward, never back to an older version, and wait until a click's answer has landed.
 */
export class CardCopies {
  /** `now` dates new copies (the domain's clock); quiet periods are wall-clock time, like deliveries. */
  constructor(
    private readonly store: WorkflowStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The conversation reference kept for a copy, from the activity (bounded strings only). */
  static refOf(reference: Record<string, unknown>): ConversationRef | undefined {
    const parsed = ConversationRefSchema.safeParse(reference);
    return parsed.success ? parsed.data : undefined;
  }

  /** A click on a copy and an update of it never interleave, in any instance (the store's lock). */
  withLock<R>(copyId: string, work: () => Promise<R>): Promise<R> {
    return this.store.withLock(`card:${copyId}`, work);
  }

  /** The copy a click came from, if it is one and it lives in the clicker's conversation. */
  async clicked(click: Click): Promise<CardCopy | undefined> {
    const conversationId = click.conversation?.conversation.id;
    if (!conversationId) return undefined;
    if (click.cardId) {
      const copy = await this.store.copy(click.cardId);
      return copy && copy.conversation.conversation.id === conversationId ? copy : undefined;
    }
    if (!click.replyToId) return undefined;
    // Cards sent before copy ids existed: Teams' replyToId, when it matches the message id.
    for (const plan of await this.store.plans(['awaitingConfirmation', 'running', 'waiting', 'failed'])) {
      const copy = (await this.store.copiesOf(plan.id)).find((c) => c.activityId === click.replyToId && c.conversation.conversation.id === conversationId);
      if (copy) return copy;
    }
    return undefined;
  }

  /**
   * Records what a click's answer did to the clicked message and returns the answer, with the copy id
   * in its buttons when the message is (now) a copy. Runs under the copy's lock (see answerClick).
   */
  async afterClick(click: Click, clicked: CardCopy | undefined, reply: CardJson | PlanReply, isPlanReply: boolean): Promise<CardJson> {
    const readOnly = READ_ONLY_VERBS.has(click.verb);
    const owner = clicked !== undefined && clicked.aadObjectId !== null && clicked.aadObjectId.toLowerCase() === click.aadObjectId.toLowerCase();
    if (!isPlanReply) {
      const card = reply as CardJson;
      // The owner moved on from this card (e.g. "Show account"): no plan update may cover that answer.
      if (clicked && owner && !readOnly && clicked.view !== 'detached') {
        await this.store.transact((tx) => tx.putCopy({ ...clicked, view: 'detached', quietUntil: this.quietUntil() }));
      }
      return card;
    }
    const answer = reply as PlanReply;
    if (answer.final) {
      // Nothing will change on this card any more: no copy, and the clicked one needs no updates.
      if (clicked && owner && !readOnly && clicked.view !== 'detached') {
        await this.store.transact((tx) => tx.putCopy({ ...clicked, view: 'detached', quietUntil: this.quietUntil() }));
      }
      return answer.card;
    }
    if (readOnly || (clicked && !owner)) {
      // A reader's view of the same message: their client only; where updates go does not move.
      return clicked ? withCardId(answer.card, clicked.id) : answer.card;
    }
    if (clicked) {
      await this.store.transact((tx) =>
        tx.putCopy({ ...clicked, planId: answer.planId, view: answer.view, shownVersion: answer.version, locale: click.locale, quietUntil: this.quietUntil() }),
      );
      return withCardId(answer.card, clicked.id);
    }
    // A copy is where later updates go: the clicked message's id (Teams' replyToId). A click naming
    // neither a copy nor that message leaves nothing to update, and recording it anyway would add one
    // record per such click (a crafted request repeated; the hostile suite's snapshot, attack9).
    if (!click.conversation || !click.replyToId) return answer.card;
    const copy = this.newCopy(answer, click.conversation, click.aadObjectId, click.locale, click.replyToId);
    await this.store.transact((tx) => tx.putCopy({ ...copy, quietUntil: this.quietUntil() }));
    return withCardId(answer.card, copy.id);
  }

  /** A copy for a card about to be sent as a new message; its id goes into the card first. */
  prepare(answer: PlanReply, conversation: ConversationRef, ownerId: string, locale: 'en' | 'fr'): { copy: CardCopy | undefined; card: CardJson } {
    if (answer.final) return { copy: undefined, card: answer.card };
    const copy = this.newCopy(answer, conversation, ownerId, locale, null);
    return { copy, card: withCardId(answer.card, copy.id) };
  }

  /** Records a copy once its message is out and has an id. */
  async sent(copy: CardCopy, activityId: string): Promise<void> {
    await this.store.transact((tx) => tx.putCopy({ ...copy, activityId }));
  }

  private newCopy(answer: PlanReply, conversation: ConversationRef, ownerId: string, locale: 'en' | 'fr', activityId: string | null): CardCopy {
    return {
      id: randomUUID(),
      planId: answer.planId,
      view: answer.view,
      audience: answer.view === 'approval' ? 'approver' : 'requester',
      aadObjectId: ownerId.toLowerCase(),
      name: '',
      conversation,
      activityId,
      locale,
      shownVersion: answer.version,
      createdAt: this.now().toISOString(),
    };
  }

  private quietUntil(): string {
    return new Date(Date.now() + QUIET_AFTER_CLICK_MS).toISOString();
  }
}
