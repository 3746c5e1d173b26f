import { randomUUID } from 'node:crypto';
import { ConversationRefSchema, SHOWN_UNKNOWN, viewVersion, type CardCopy, type ConversationRef } from '../approvals/copies';
import { enqueue } from '../approvals/outbox';
import type { Logger } from '../log/logger';
import { isStoreUnavailable } from '../store/errors';
import type { WorkflowStore, WorkflowTx } from '../store/workflow';
import { withCardId } from './cardIds';
import type { CardJson } from '../cards/render';
import type { PlanReply } from './scope';

/** After a click is answered, no update goes to that message for this long: the answer lands first. */
export const QUIET_AFTER_CLICK_MS = 1_500;

/**
 * How long a click waits for an update of its card that is already on its way to Teams. The Bot
 * Connector usually answers an update well within this, so the usual order holds (the click's answer
 * lands last); a slow connector costs the click this much and no more (teams-platform.md §3.6: answer
 * invokes within about 5 s).
 */
export const CLICK_WAITS_FOR_UPDATE_MS = 1_000;

/** Updates of one copy in one delivery: each is newer than the last; a plan that keeps moving waits for its next refresh. */
const MAX_UPDATES_PER_REFRESH = 3;

/** Copy records a store failure kept from being written, at most (the oldest are dropped first). */
const MAX_UNRECORDED = 1_000;

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

/** What a copy should show now, and that view's version (the outbox worker renders it). */
export type RenderCopy = (copy: CardCopy) => Promise<{ card: CardJson; version: number } | undefined>;
/** Replaces the message of a copy; 'gone' when Teams says the message or the conversation is no more. */
export type SendUpdate = (copy: CardCopy & { activityId: string }, card: CardJson) => Promise<'updated' | 'gone'>;
/** A copy shows the latest state (or needs none), or must be looked at again at `atMs`. */
export type CopyRefresh = { kind: 'current' } | { kind: 'later'; atMs: number };

type NextUpdate = CopyRefresh | { kind: 'send'; copy: CardCopy & { activityId: string }; view: { card: CardJson; version: number } };

/**
 * Where every copy of a plan's and an approval's card lives (issue 9 items 9, 10): a card sent as a
 * message becomes a copy; a click by the copy's owner moves it to what the click answered (or detaches
 * it when the answer is something else); a reader's click changes nothing; updates only move a copy
 * forward, never back to an older version, and wait until a click's answer has landed.
 *
 * The copy's lock (in the store, so across instances) is held to decide and to record, never while a
 * message travels to Teams: a click on a card does not wait for a slow Bot Connector
 * (test/trust/slow-connector-blocks-nothing.test.ts).
 */
export class CardCopies {
  /** Records a click could not write (store unavailable): written before anything else touches the copy. */
  private readonly unrecorded = new Map<string, CardCopy>();
  /** Updates on their way to Teams, by copy: a click waits for one briefly (CLICK_WAITS_FOR_UPDATE_MS). */
  private readonly updating = new Map<string, Promise<void>>();

  /** `now` dates new copies (the domain's clock); quiet periods are wall-clock time, like deliveries. */
  constructor(
    private readonly store: WorkflowStore,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The conversation reference kept for a copy, from the activity (bounded strings only). */
  static refOf(reference: Record<string, unknown>): ConversationRef | undefined {
    const parsed = ConversationRefSchema.safeParse(reference);
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * Runs a click on a copy: its answer replaces the card, so a click and the recording of an update of
   * the same copy never interleave (issue 9 item 10). An update already on the wire is waited for a
   * moment only; if it is still out after that, recordUpdate finds that the two crossed.
   */
  async forClick<R>(copyId: string, work: () => Promise<R>): Promise<R> {
    const update = this.updating.get(copyId);
    if (update) await settledOr(update, CLICK_WAITS_FOR_UPDATE_MS);
    return this.withLock(copyId, work);
  }

  /** The copy a click came from, if it is one and it lives in the clicker's conversation. */
  async clicked(click: Click): Promise<CardCopy | undefined> {
    const conversationId = click.conversation?.conversation.id;
    if (!conversationId) return undefined;
    if (click.cardId) {
      const copy = this.unrecorded.get(click.cardId) ?? (await this.store.copy(click.cardId));
      return copy && copy.conversation.conversation.id === conversationId ? copy : undefined;
    }
    if (!click.replyToId) return undefined;
    // Cards sent before copy ids existed: Teams' replyToId, when it matches the message id.
    for (const plan of await this.store.plans(['awaitingConfirmation', 'running', 'waiting', 'failed'])) {
      const copy = (await this.copiesOf(plan.id)).find((c) => c.activityId === click.replyToId && c.conversation.conversation.id === conversationId);
      if (copy) return copy;
    }
    return undefined;
  }

  /** A plan's copies, with the records that could not be written yet. */
  async copiesOf(planId: string): Promise<CardCopy[]> {
    const stored = await this.store.copiesOf(planId);
    const pending = [...this.unrecorded.values()].filter((c) => c.planId === planId);
    if (pending.length === 0) return stored;
    return [...stored.filter((c) => !this.unrecorded.has(c.id)), ...pending];
  }

  /**
   * Records what a click's answer did to the clicked message and returns the answer, with the copy id
   * in its buttons when the message is (now) a copy. Runs under the copy's lock (see forClick). The
   * action is done by now: recording the copy cannot undo it, so a failure here never turns the answer
   * into an error (record).
   */
  async afterClick(click: Click, clicked: CardCopy | undefined, reply: CardJson | PlanReply, isPlanReply: boolean): Promise<CardJson> {
    const readOnly = READ_ONLY_VERBS.has(click.verb);
    const owner = clicked !== undefined && clicked.aadObjectId !== null && clicked.aadObjectId.toLowerCase() === click.aadObjectId.toLowerCase();
    if (!isPlanReply) {
      const card = reply as CardJson;
      // The owner moved on from this card (e.g. "Show account"): no plan update may cover that answer.
      if (clicked && owner && !readOnly && clicked.view !== 'detached') await this.record({ ...clicked, view: 'detached', quietUntil: this.quietUntil() });
      return card;
    }
    const answer = reply as PlanReply;
    if (answer.final) {
      // Nothing will change on this card any more: no copy, and the clicked one needs no updates.
      if (clicked && owner && !readOnly && clicked.view !== 'detached') await this.record({ ...clicked, view: 'detached', quietUntil: this.quietUntil() });
      return answer.card;
    }
    if (readOnly || (clicked && !owner)) {
      // A reader's view of the same message: their client only; where updates go does not move.
      return clicked ? withCardId(answer.card, clicked.id) : answer.card;
    }
    if (clicked) {
      await this.record({ ...clicked, planId: answer.planId, view: answer.view, shownVersion: answer.version, locale: click.locale, quietUntil: this.quietUntil() });
      return withCardId(answer.card, clicked.id);
    }
    // A copy is where later updates go: the clicked message's id (Teams' replyToId). A click naming
    // neither a copy nor that message leaves nothing to update, and recording it anyway would add one
    // record per such click (a crafted request repeated; the hostile suite's snapshot, attack9).
    if (!click.conversation || !click.replyToId) return answer.card;
    const copy = this.newCopy(answer, click.conversation, click.aadObjectId, click.locale, click.replyToId);
    await this.record({ ...copy, quietUntil: this.quietUntil() });
    return withCardId(answer.card, copy.id);
  }

  /** A copy for a card about to be sent as a new message; its id goes into the card first. */
  prepare(answer: PlanReply, conversation: ConversationRef, ownerId: string, locale: 'en' | 'fr'): { copy: CardCopy | undefined; card: CardJson } {
    if (answer.final) return { copy: undefined, card: answer.card };
    const copy = this.newCopy(answer, conversation, ownerId, locale, null);
    return { copy, card: withCardId(answer.card, copy.id) };
  }

  /** Records a copy once its message is out and has an id (best effort, like afterClick). */
  async sent(copy: CardCopy, activityId: string): Promise<void> {
    await this.record({ ...copy, activityId });
  }

  /**
   * A card sent after its turn (a reply from the outbox, src/bot/replies.ts) reached Teams as message
   * `activityId`: its copy, recorded with the reply, learns where it is, in one transaction with what
   * the sender records (`alongside`: the reply's end). If the plan moved on while the reply waited,
   * the copy is refreshed like any other (updates skip a copy whose message id is not known yet).
   */
  async sentLater(copyId: string, activityId: string, alongside: (tx: WorkflowTx) => void): Promise<void> {
    const pending = this.unrecorded.get(copyId);
    // A click's record that waits to be written must not take the message id back out.
    if (pending && !pending.activityId) this.unrecorded.set(copyId, { ...pending, activityId });
    await this.withLock(copyId, () =>
      this.store.transact(async (tx) => {
        alongside(tx);
        const copy = await tx.copy(copyId);
        if (!copy || copy.activityId) return;
        tx.putCopy({ ...copy, activityId });
        if (copy.view === 'detached') return;
        const plan = await tx.plan(copy.planId);
        const request = await tx.request(copy.planId);
        if (viewVersion(plan?.version ?? 0, request?.version) > copy.shownVersion) await enqueue(tx, { planId: copy.planId, kind: 'refreshCopies' }, this.now());
      }),
    );
  }

  /**
   * Brings one copy up to its plan's current state. What to send is decided under the copy's lock, the
   * message goes to Teams outside it, and what was sent is recorded under the lock again. A newer
   * revision written while an update was on the wire is sent next, so the message ends on the newest
   * card and never goes back to an older one — unless updates are spaced (`spacingMs`, a batch's card):
   * then one update goes now and the newer state waits that long, so a card whose plan moves all the
   * time is not updated back to back (Teams: 7 sends a second per thread, teams-platform.md §5).
   * Throws when the update could not be sent (retried).
   */
  async refresh(copyId: string, planId: string, render: RenderCopy, send: SendUpdate, spacingMs = 0): Promise<CopyRefresh> {
    const rounds = spacingMs > 0 ? 1 : MAX_UPDATES_PER_REFRESH;
    for (let round = 0; ; round++) {
      const next = await this.withLock(copyId, () => this.nextUpdate(copyId, planId, render));
      if (next.kind !== 'send') return next;
      if (round === rounds) return { kind: 'later', atMs: Date.now() + spacingMs };
      await this.onTheWire(copyId, async () => {
        const reached = await send(next.copy, withCardId(next.view.card, copyId));
        await this.withLock(copyId, () => this.recordUpdate(next.copy, next.view.version, reached));
      });
    }
  }

  private withLock<R>(copyId: string, work: () => Promise<R>): Promise<R> {
    return this.store.withLock(`card:${copyId}`, work);
  }

  private async nextUpdate(copyId: string, planId: string, render: RenderCopy): Promise<NextUpdate> {
    const copy = await this.current(copyId);
    if (!copy || copy.view === 'detached' || copy.planId !== planId || !copy.activityId) return { kind: 'current' };
    const quiet = copy.quietUntil ? Date.parse(copy.quietUntil) : 0;
    if (quiet > Date.now()) return { kind: 'later', atMs: quiet };
    const view = await render(copy);
    if (!view || view.version <= copy.shownVersion) return { kind: 'current' };
    return { kind: 'send', copy: { ...copy, activityId: copy.activityId }, view };
  }

  /**
   * After an update went out: the copy shows that version now — unless a click on the message was
   * answered meanwhile (the copy changed since the update was decided). Then it is unknown which of the
   * two reached Teams last, so the copy is marked to get the current card again, after the click's quiet
   * period. A copy its owner moved away from stays detached: their answer is theirs.
   */
  private async recordUpdate(sent: CardCopy, version: number, reached: 'updated' | 'gone'): Promise<void> {
    const latest = await this.current(sent.id);
    if (!latest) return;
    if (reached === 'gone') {
      // The message is gone (deleted) or the bot was removed: nothing to keep current there.
      if (latest.view !== 'detached') await this.write({ ...latest, view: 'detached' });
      return;
    }
    if (sameState(latest, sent)) {
      if (latest.shownVersion < version) await this.write({ ...latest, shownVersion: version });
      return;
    }
    if (latest.view === 'detached') return;
    await this.write({ ...latest, shownVersion: SHOWN_UNKNOWN });
  }

  /** The stored copy, after writing the record a click could not write (throws while the store cannot). */
  private async current(copyId: string): Promise<CardCopy | undefined> {
    const unrecorded = this.unrecorded.get(copyId);
    if (!unrecorded) return this.store.copy(copyId);
    await this.write(unrecorded);
    return unrecorded;
  }

  private async write(copy: CardCopy): Promise<void> {
    await this.store.transact((tx) => tx.putCopy(copy));
    if (this.unrecorded.get(copy.id) === copy) this.unrecorded.delete(copy.id);
  }

  /**
   * Writes a copy's record after the click's action is done. If the store cannot take it, the record
   * is kept here and written by the next refresh of the plan's cards or the next click on the copy
   * (current): the action stands and its answer is shown; at worst an update reaches the message late.
   */
  private async record(copy: CardCopy): Promise<void> {
    try {
      await this.store.transact((tx) => tx.putCopy(copy));
      this.unrecorded.delete(copy.id);
    } catch (error) {
      this.unrecorded.delete(copy.id);
      this.unrecorded.set(copy.id, copy);
      if (this.unrecorded.size > MAX_UNRECORDED) this.unrecorded.delete(this.unrecorded.keys().next().value!);
      if (isStoreUnavailable(error)) this.log.warn({ err: error, copyId: copy.id, planId: copy.planId }, 'could not record a card copy; written with the next update');
      else this.log.error({ err: error, copyId: copy.id, planId: copy.planId }, 'fault while recording a card copy; written with the next update');
    }
  }

  private async onTheWire(copyId: string, work: () => Promise<void>): Promise<void> {
    const update = work();
    this.updating.set(copyId, update);
    try {
      await update;
    } finally {
      if (this.updating.get(copyId) === update) this.updating.delete(copyId);
    }
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

/** The same record as when the update was decided: nobody wrote the copy meanwhile. */
function sameState(a: CardCopy, b: CardCopy): boolean {
  return a.planId === b.planId && a.view === b.view && a.shownVersion === b.shownVersion && a.quietUntil === b.quietUntil && a.locale === b.locale && a.activityId === b.activityId;
}

/** Resolves when `work` settles or after `ms`, whichever is first. */
async function settledOr(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work.then(() => undefined, () => undefined), waited]);
  clearTimeout(timer);
}
