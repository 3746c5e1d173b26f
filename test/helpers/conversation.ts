import { TestAdapter, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';
import type { App } from '../../src/app';

export interface CardAttachment {
  contentType: string;
  content: Record<string, unknown>;
}

/**
 * botbuilder's TestAdapter, plus what it lacks for proactive work: continueConversationAsync, and a
 * record of the cards updated in place (updateActivity) or sent later.
 */
export class RecordingAdapter extends TestAdapter {
  readonly updates: Partial<Activity>[] = [];
  /** When each update reached the adapter (Date.now()), in the order of `updates`. */
  readonly updateTimes: number[] = [];
  /** How long an update takes on the wire (the Bot Connector answers in a few hundred ms). */
  updateDelayMs = 0;
  /** This many of the next updates fail (503 from the Bot Connector), after their time on the wire. */
  failNextUpdates = 0;
  readonly later: Partial<Activity>[] = [];
  private nextId = 0;

  override async continueConversationAsync(
    _botAppId: unknown,
    reference: Partial<ConversationReference>,
    logic: ((context: TurnContext) => Promise<void>) | string,
    maybeLogic?: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const run = typeof logic === 'function' ? logic : maybeLogic!;
    const context = new TurnContext(this, TurnContext.applyConversationReference({ type: 'event', name: 'continue' }, reference, true));
    context.onSendActivities(async (_ctx, activities) => {
      const sent = activities.map((a) => ({ ...a, id: `later-${++this.nextId}` }));
      this.later.push(...sent);
      return sent.map((a): ResourceResponse => ({ id: a.id }));
    });
    await run(context);
  }

  override async updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<void> {
    this.updates.push(activity);
    this.updateTimes.push(Date.now());
    if (this.updateDelayMs > 0) await new Promise((r) => setTimeout(r, this.updateDelayMs));
    if (this.failNextUpdates > 0) {
      this.failNextUpdates -= 1;
      throw Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
    }
  }
}

/** Drives the real bot through botbuilder's TestAdapter and returns what it sent back. */
export class Conversation {
  readonly adapter: RecordingAdapter;

  constructor(private readonly app: App) {
    this.adapter = new RecordingAdapter(async (context) => app.bot.run(context));
    app.delivery.useAdapter(this.adapter);
  }

  /** Waits until the outbox is empty: approval cards, notices and card updates have gone out. */
  async settled(): Promise<void> {
    await this.app.delivery.idle(5_000);
  }

  async send(activity: Partial<Activity>): Promise<Partial<Activity>[]> {
    await this.adapter.processActivity(activity);
    return this.adapter.activeQueue.splice(0);
  }

  /** The one card a message turn answers with. */
  async card(activity: Partial<Activity>): Promise<Record<string, unknown>> {
    const replies = await this.send(activity);
    expect(replies).toHaveLength(1);
    const attachments = (replies[0]!.attachments ?? []) as CardAttachment[];
    expect(attachments).toHaveLength(1);
    expect(attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    return attachments[0]!.content;
  }

  /** The invoke response of an invoke turn, as botbuilder would put it in the HTTP body. */
  async invoke(activity: Partial<Activity>): Promise<{ status: number; body?: unknown }> {
    const replies = await this.send(activity);
    const response = replies.filter((a) => a.type === 'invokeResponse');
    expect(response).toHaveLength(1);
    return response[0]!.value as { status: number; body?: unknown };
  }
}

/** Every visible text of a card, in order: TextBlocks, facts, input labels and values, button titles. */
export function cardTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    node.forEach((n) => cardTexts(n, out));
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') out.push(o.text);
    if (o.type === 'FactSet' && Array.isArray(o.facts)) {
      for (const f of o.facts as { title: string; value: string }[]) out.push(`${f.title}: ${f.value}`);
    }
    if (typeof o.label === 'string') out.push(o.label);
    if (o.type === 'Action.Execute' && typeof o.title === 'string') out.push(`[${o.title}]`);
    for (const [key, value] of Object.entries(o)) if (key !== 'fallback' && key !== 'facts' && key !== 'choices') cardTexts(value, out);
  }
  return out;
}

/** Finds the input with this id in a card. */
export function findInput(card: unknown, id: string): Record<string, unknown> | undefined {
  if (Array.isArray(card)) {
    for (const c of card) {
      const found = findInput(c, id);
      if (found) return found;
    }
  } else if (card && typeof card === 'object') {
    const o = card as Record<string, unknown>;
    if (o.id === id && typeof o.type === 'string' && o.type.startsWith('Input.')) return o;
    for (const value of Object.values(o)) {
      const found = findInput(value, id);
      if (found) return found;
    }
  }
  return undefined;
}
