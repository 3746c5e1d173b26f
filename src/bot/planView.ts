import { viewVersion } from '../approvals/copies';
import { isApprover } from '../approvals/policy';
import { confirmers, isFinalRequest, requesters, type ChangeRequest } from '../approvals/requests';
import { accountDetailsCard } from '../cards/accountDetails';
import { approvalRequestCard, approvalStatusLine, type Viewer } from '../cards/approvalRequest';
import { importBatchCard } from '../cards/importBatch';
import { planCard, type ApprovalState } from '../cards/planCard';
import { plainText } from '../cards/text';
import { format, strings, type Locale } from '../i18n';
import { isFinished, type Plan } from '../provisioning/plans';
import { StoreUnavailableError } from '../store/errors';
import type { ContactStore } from '../store/conversations';
import { PlanReply, type Services } from './scope';

/**
 * A batch's card version: its own (plan + request) version first, then the sum of its rows' versions,
 * which stays far below this (500 rows × their few transitions each).
 */
const BATCH_VERSION_SCALE = 10_000_000;

/** A click is answered within ~2 s (teams-platform.md §3.6): longer plans answer "working" and update later. */
export const CLICK_BUDGET_MS = 1_500;

/**
 * Renders plans and approval requests as the viewer sees them, with the version of what is shown, so
 * that card copies are only ever moved forward (issue 9 item 10).
 */
export class Views {
  constructor(
    private readonly services: Pick<Services, 'provisioning' | 'approvals'>,
    private readonly contacts: ContactStore,
  ) {}

  /** The card for a plan as it stands: a finished add shows the new account, anything else the plan. */
  async plan(plan: Plan, locale: Locale, download?: { url: string; expires: string }): Promise<PlanReply> {
    const { provisioning, approvals } = this.services;
    const request = await approvals.get(plan.id);
    // Render what the store holds now (the plan may have moved on, e.g. by the request's expiry).
    const current = (await provisioning.plans.get(plan.id)) ?? plan;
    if (current.batch) return this.batch(current, request, locale, download);
    const version = viewVersion(current.version, request?.version);
    const [facts, account] = await Promise.all([
      provisioning.tenantFacts(),
      current.account.id && current.status !== 'done' ? provisioning.getAccount(current.account.id) : Promise.resolve(null),
    ]);
    if (current.status === 'done' && current.kind === 'addAccount' && current.account.id) {
      const created = await provisioning.getAccount(current.account.id);
      if (created) return new PlanReply(accountDetailsCard(created, facts.skus, locale, true), current.id, version, 'plan', true);
    }
    const approval: ApprovalState | undefined = request
      ? {
          line: approvalStatusLine(request, current, locale),
          tone: request.status === 'pending' ? 'warning' : 'default',
          pending: request.status === 'pending',
          endedPlan: request.status === 'rejected' || request.status === 'expired' || request.status === 'cancelled',
          requestId: request.id,
          note: await this.deliveryNote(request, locale),
          done: request.status === 'done' && request.decision !== undefined,
        }
      : undefined;
    const fault = provisioning.plans.storeFault(current.id);
    const faultNote = fault instanceof StoreUnavailableError ? format(strings(locale).approval.storeFault, { code: fault.code }) : '';
    return new PlanReply(planCard(current, facts, locale, account, approval, faultNote), current.id, version, 'plan', isFinished(current.status));
  }

  /**
   * An import batch: its preview, then its progress. Rows move without the batch record changing, so
   * the version shown also counts every row's plan version: each row that moves moves the card forward.
   */
  private async batch(plan: Plan, request: ChangeRequest | undefined, locale: Locale, download?: { url: string; expires: string }): Promise<PlanReply> {
    const { provisioning } = this.services;
    const [facts, progress] = await Promise.all([provisioning.tenantFacts(), provisioning.plans.batchProgress(plan)]);
    const version = viewVersion(plan.version, request?.version) * BATCH_VERSION_SCALE + progress.versions;
    const approval: ApprovalState | undefined = request
      ? {
          line: approvalStatusLine(request, plan, locale),
          tone: request.status === 'pending' ? 'warning' : 'default',
          pending: request.status === 'pending',
          endedPlan: request.status === 'rejected' || request.status === 'expired' || request.status === 'cancelled',
          requestId: request.id,
          note: await this.deliveryNote(request, locale),
        }
      : undefined;
    const fault = provisioning.plans.storeFault(plan.id);
    const notice = fault instanceof StoreUnavailableError ? format(strings(locale).approval.storeFault, { code: fault.code }) : '';
    const card = importBatchCard({ plan, progress, facts, locale, ...(approval ? { approval } : {}), notice, ...(download ? { download } : {}) });
    return new PlanReply(card, plan.id, version, 'plan', isFinished(plan.status));
  }

  /** The approval card as one viewer sees it: approvers decide, the requester may cancel, others read. */
  async approval(request: ChangeRequest, viewer: Viewer, locale: Locale): Promise<PlanReply> {
    const plan = await this.services.provisioning.plans.get(request.id);
    const version = viewVersion(plan?.version ?? 0, request.version);
    const unreachable = viewer === 'requester' ? (await this.delivery(request)).unreachable : [];
    // The impact line only: a tenant that cannot be read now leaves it out, never the approval card.
    const account = request.status === 'pending' && plan?.account.id ? await this.services.provisioning.getAccount(plan.account.id).catch(() => null) : null;
    const card = approvalRequestCard(request, plan, viewer, locale, await this.refreshUserIds(request), unreachable, account);
    return new PlanReply(card, request.id, version, 'approval', isFinalRequest(request.status) && (!plan || isFinished(plan.status) || plan.status === 'failed'));
  }

  /** An approver who confirmed the request again may not decide it (four-eyes): they only read it. */
  viewerOf(request: ChangeRequest, aadObjectId: string): Viewer {
    const id = aadObjectId.toLowerCase();
    if (requesters(request).includes(id)) return 'requester';
    if (confirmers(request).includes(id)) return 'other';
    return isApprover(this.services.approvals.policy, id) ? 'approver' : 'other';
  }

  /** Teams user ids (29:…) of the requester and the approvers, for Universal Actions refresh (≤ 60). */
  async refreshUserIds(request: ChangeRequest): Promise<string[]> {
    const approvers = await Promise.all(this.services.approvals.policy.approverIds.map(async (a) => (await this.contacts.contact(a))?.userId));
    const ids = [request.requestedBy.userId, ...approvers];
    return [...new Set(ids.filter((x): x is string => typeof x === 'string' && x.length > 0))].slice(0, 60);
  }

  /** Who has the request's card, who is being sent it, and who could not be reached (by name). */
  private async delivery(request: ChangeRequest): Promise<{ reached: string[]; channel: boolean; sending: string[]; sendingChannel: boolean; unreachable: string[] }> {
    const { copies, messages } = await this.services.approvals.deliveries(request.id);
    // Names come from Teams activities: plain text on the card, never Markdown (issue 9 item 15).
    const nameOf = async (aadObjectId: string | null | undefined, known?: string) =>
      plainText(known || (aadObjectId ? (await this.contacts.contact(aadObjectId))?.name || aadObjectId : ''));
    const names = (list: { id: string | null | undefined; known?: string }[]) => Promise.all(list.map((x) => nameOf(x.id, x.known)));
    const pending = messages.filter((m) => m.status === 'pending');
    // In the order the approvers are configured, whatever order the cards went out in.
    const order = this.services.approvals.policy.approverIds.map((a) => a.toLowerCase());
    const rank = (id: string | null | undefined) => (id ? order.indexOf(id.toLowerCase()) : -1);
    const approverCopies = copies.filter((c) => c.audience === 'approver').sort((a, b) => rank(a.aadObjectId) - rank(b.aadObjectId));
    return {
      reached: [...new Set(await names(approverCopies.map((c) => ({ id: c.aadObjectId, known: c.name }))))],
      channel: copies.some((c) => c.audience === 'channel'),
      sending: await names(pending.filter((m) => m.kind === 'deliverApproval').map((m) => ({ id: m.approverId }))),
      sendingChannel: pending.some((m) => m.kind === 'postChannel'),
      unreachable: await names(messages.filter((m) => m.status === 'unreachable' && m.kind === 'deliverApproval').map((m) => ({ id: m.approverId }))),
    };
  }

  /** Tells the requester who has the request, who is being sent it, and who could not be reached. */
  private async deliveryNote(request: ChangeRequest, locale: Locale): Promise<string> {
    const s = strings(locale).approval;
    const d = await this.delivery(request);
    const reached = [...d.reached, ...(d.channel ? [s.channel] : [])];
    const sending = [...d.sending, ...(d.sendingChannel ? [s.channel] : [])];
    const parts: string[] = [];
    if (reached.length > 0) parts.push(format(s.sentTo, { names: reached.join(', ') }));
    if (sending.length > 0) parts.push(format(s.sending, { names: sending.join(', ') }));
    if (reached.length === 0 && sending.length === 0) parts.push(s.nobodyReached);
    if (d.unreachable.length > 0) parts.push(format(s.unreachable, { names: d.unreachable.join(', ') }));
    return parts.join(' ');
  }
}

/** Lets a started plan run for up to the click budget, then shows where it stands. */
export async function settledPlanReply(services: Services, plan: Plan, locale: Locale): Promise<PlanReply> {
  const settled = plan.status === 'running' ? ((await services.provisioning.plans.settle(plan.id, CLICK_BUDGET_MS)) ?? plan) : plan;
  return services.views.plan(settled, locale);
}
