import { CardFactory, MessageFactory, type BotAdapter, type ConversationReference } from 'botbuilder';
import type { Logger } from '../log/logger';
import type { Plan } from '../provisioning/plans';
import { planView } from './planView';
import type { Services } from './scope';

const UPDATE_DELAY_MS = 250;

/**
 * Keeps a plan's card current after the click was answered: when the plan waits, fails or finishes,
 * the card is replaced in place (updateActivity with the id saved when it was sent), or sent anew when
 * no id is known. Updates of one plan go out in order; a failure is logged, never thrown.
 */
export class CardUpdates {
  private readonly queues = new Map<string, Promise<void>>();
  private adapter: BotAdapter;

  constructor(
    adapter: BotAdapter,
    private readonly appId: string,
    private readonly services: Services,
    private readonly log: Logger,
  ) {
    this.adapter = adapter;
    services.provisioning.plans.onChange((plan) => this.enqueue(plan));
    // A plan's card also shows its approval: a decision updates it too.
    services.approvals.onChange((request) => {
      const plan = services.provisioning.plans.get(request.id);
      if (plan) this.enqueue(plan, true);
    });
  }

  /** Tests drive the bot through another adapter (botbuilder's TestAdapter). */
  useAdapter(adapter: BotAdapter): void {
    this.adapter = adapter;
  }

  /** Resolves when every queued update has gone out. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  private enqueue(plan: Plan, always = false): void {
    // "Running" is what the click's own answer shows; only resting states are pushed.
    if (!plan.card || (plan.status === 'running' && !always)) return;
    const previous = this.queues.get(plan.id) ?? Promise.resolve();
    // A short pause lets the click's own answer go out (and be remembered) first, so that a late
    // update never covers the next card the user already moved on to.
    const next = previous
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, UPDATE_DELAY_MS).unref()))
      .then(() => this.update(plan.id))
      .catch((error: unknown) => this.log.warn({ err: error, planId: plan.id }, 'card update failed'));
    this.queues.set(plan.id, next);
    void next.finally(() => {
      if (this.queues.get(plan.id) === next) this.queues.delete(plan.id);
    });
  }

  private async update(planId: string): Promise<void> {
    // Render from the stored plan: a later update must never show an older state.
    const latest = this.services.provisioning.plans.get(planId);
    const ref = latest?.card;
    if (!latest || !ref || ref.shownStatus === latest.status) return;
    const card = await planView(this.services, latest, ref.locale);
    const reference = ref.conversation as Partial<ConversationReference>;
    await this.adapter.continueConversationAsync(this.appId, reference, async (context) => {
      const activity = MessageFactory.attachment(CardFactory.adaptiveCard(card));
      if (ref.activityId) {
        await context.updateActivity({ ...activity, id: ref.activityId });
        await this.services.provisioning.plans.attachCard(planId, { ...ref, shownStatus: latest.status });
      } else {
        const sent = await context.sendActivity(activity);
        if (sent?.id) await this.services.provisioning.plans.attachCard(planId, { ...ref, activityId: sent.id, shownStatus: latest.status });
      }
    });
  }
}
