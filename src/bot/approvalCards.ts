import { CardFactory, MessageFactory, type BotAdapter, type ConversationReference } from 'botbuilder';
import type { ChangeRequest, SentCard } from '../approvals/requests';
import { approvalRequestCard, type Viewer } from '../cards/approvalRequest';
import { messageCard } from '../cards/message';
import type { CardJson } from '../cards/render';
import { plainText } from '../cards/text';
import { format, strings } from '../i18n';
import type { Logger } from '../log/logger';
import type { Actor } from '../provisioning/model';
import type { ConversationDirectory } from '../store/conversations';
import type { ApprovalService } from '../approvals/service';
import type { PlanRunner } from '../provisioning/runner';

/**
 * Delivers approval cards and keeps every copy current. Approvers get the card in their personal chat
 * with Switchboard (proactively, from the conversation reference saved when they last talked to it),
 * and the approvals channel gets one when configured; after each transition every copy is updated in
 * place with the message ids saved at send time (teams-platform.md §4), and the requester is told.
 */
export class ApprovalCards {
  private adapter: BotAdapter;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    adapter: BotAdapter,
    private readonly appId: string,
    private readonly services: { approvals: ApprovalService; plans: PlanRunner },
    private readonly contacts: ConversationDirectory,
    private readonly approvalsChannelId: string | undefined,
    private readonly log: Logger,
  ) {
    this.adapter = adapter;
    services.approvals.onChange((request) => this.enqueue(request));
  }

  useAdapter(adapter: BotAdapter): void {
    this.adapter = adapter;
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  /** Who sees which view: approvers decide, the requester may cancel, anyone else reads. */
  viewerOf(request: ChangeRequest, aadObjectId: string): Viewer {
    const id = aadObjectId.toLowerCase();
    if (id === request.requestedBy.aadObjectId.toLowerCase()) return 'requester';
    return this.services.approvals.policy.approverIds.some((a) => a.toLowerCase() === id) ? 'approver' : 'other';
  }

  /** Teams user ids (29:…) of the requester and the approvers, for Universal Actions refresh. */
  refreshUserIds(request: ChangeRequest): string[] {
    const ids = [request.requestedBy.userId, ...this.services.approvals.policy.approverIds.map((a) => this.contacts.contact(a)?.userId)];
    return [...new Set(ids.filter((x): x is string => typeof x === 'string' && x.length > 0))].slice(0, 60);
  }

  cardFor(request: ChangeRequest, viewer: Viewer, locale: 'en' | 'fr'): CardJson {
    return approvalRequestCard(request, this.services.plans.get(request.id), viewer, locale, this.refreshUserIds(request));
  }

  /** Sends the request to every approver but the requester, and to the approvals channel. */
  async deliver(request: ChangeRequest): Promise<ChangeRequest> {
    const cards: SentCard[] = [];
    const unreachable: Actor[] = [];
    const approvers = this.services.approvals.policy.approverIds.filter((a) => a.toLowerCase() !== request.requestedBy.aadObjectId.toLowerCase());
    for (const approverId of approvers) {
      const contact = this.contacts.contact(approverId);
      if (!contact) {
        unreachable.push({ aadObjectId: approverId, name: approverId });
        continue;
      }
      try {
        const activityId = await this.send(contact.conversation, this.cardFor(request, 'approver', contact.locale));
        cards.push({ audience: 'approver', aadObjectId: contact.aadObjectId, name: contact.name, conversation: contact.conversation, activityId, locale: contact.locale });
      } catch (error) {
        // 403 BotNotInConversationRoster / ForbiddenOperationException: uninstalled or blocked.
        this.log.warn({ err: error, approver: approverId, requestId: request.id }, 'approver not reachable');
        unreachable.push({ aadObjectId: approverId, name: contact.name });
      }
    }
    const channel = this.approvalsChannelId ? this.contacts.channel(this.approvalsChannelId) : undefined;
    if (channel) {
      try {
        const activityId = await this.send(channel.conversation, this.cardFor(request, 'other', 'en'));
        cards.push({ audience: 'channel', aadObjectId: null, name: '', conversation: channel.conversation, activityId, locale: 'en' });
      } catch (error) {
        this.log.warn({ err: error, requestId: request.id }, 'approvals channel not reachable');
      }
    }
    return (await this.services.approvals.attachCards(request.id, cards, unreachable)) ?? request;
  }

  private enqueue(request: ChangeRequest): void {
    const previous = this.queues.get(request.id) ?? Promise.resolve();
    const next = previous.then(() => this.update(request)).catch((error: unknown) => this.log.warn({ err: error, requestId: request.id }, 'approval card update failed'));
    this.queues.set(request.id, next);
    void next.finally(() => {
      if (this.queues.get(request.id) === next) this.queues.delete(request.id);
    });
  }

  /** Every copy shows the current state; the requester hears about a decision. */
  private async update(changed: ChangeRequest): Promise<void> {
    const request = (await this.services.approvals.get(changed.id)) ?? changed;
    for (const copy of request.cards) {
      const viewer: Viewer = copy.audience === 'approver' && copy.aadObjectId ? this.viewerOf(request, copy.aadObjectId) : 'other';
      try {
        await this.replace(copy.conversation, copy.activityId, this.cardFor(request, viewer, copy.locale));
      } catch (error) {
        this.log.warn({ err: error, requestId: request.id, audience: copy.audience }, 'could not update an approval card');
      }
    }
    if (changed.status === 'approved' || changed.status === 'rejected' || changed.status === 'expired') await this.tell(changed);
  }

  private async tell(request: ChangeRequest): Promise<void> {
    const contact = this.contacts.contact(request.requestedBy.aadObjectId);
    if (!contact) return;
    const s = strings(contact.locale);
    const what = format(s.plan.title[request.kind], { upn: plainText(request.account.userPrincipalName) });
    const params = { what, name: plainText(request.decision?.name ?? ''), reason: plainText(request.decision?.reason ?? '') };
    const status = request.status as 'approved' | 'rejected' | 'expired';
    const tone = status === 'approved' ? 'good' : 'attention';
    await this.send(contact.conversation, messageCard(format(s.approval.toldTitle, { what }), format(s.approval.told[status], params), tone));
  }

  private async send(conversation: Record<string, unknown>, card: CardJson): Promise<string> {
    let id = '';
    await this.adapter.continueConversationAsync(this.appId, conversation as Partial<ConversationReference>, async (context) => {
      const sent = await context.sendActivity(MessageFactory.attachment(CardFactory.adaptiveCard(card)));
      id = sent?.id ?? '';
    });
    if (!id) throw new Error('the channel returned no message id');
    return id;
  }

  private async replace(conversation: Record<string, unknown>, activityId: string, card: CardJson): Promise<void> {
    await this.adapter.continueConversationAsync(this.appId, conversation as Partial<ConversationReference>, async (context) => {
      await context.updateActivity({ ...MessageFactory.attachment(CardFactory.adaptiveCard(card)), id: activityId });
    });
  }
}
