import { approvalStatusLine } from '../cards/approvalRequest';
import { accountDetailsCard } from '../cards/accountDetails';
import { planCard, type ApprovalState } from '../cards/planCard';
import type { CardJson } from '../cards/render';
import { plainText } from '../cards/text';
import { format, strings, type Locale } from '../i18n';
import type { ChangeRequest } from '../approvals/requests';
import type { Plan } from '../provisioning/plans';
import { PlanReply, type Services } from './scope';

/** A click is answered within ~2 s (teams-platform.md §3.6): longer plans answer "working" and update later. */
export const CLICK_BUDGET_MS = 1_500;

/** The card for a plan as it stands: a finished add shows the new account, anything else the plan. */
export async function planView(services: Services, plan: Plan, locale: Locale): Promise<CardJson> {
  const { provisioning, approvals } = services;
  const [facts, account, request] = await Promise.all([
    provisioning.tenantFacts(),
    plan.account.id && plan.status !== 'done' ? provisioning.getAccount(plan.account.id) : Promise.resolve(null),
    approvals.get(plan.id),
  ]);
  if (plan.status === 'done' && plan.kind === 'addAccount' && plan.account.id) {
    const created = await provisioning.getAccount(plan.account.id);
    if (created) return accountDetailsCard(created, facts.skus, locale, true);
  }
  const approval: ApprovalState | undefined = request
    ? {
        line: approvalStatusLine(request, plan, locale),
        tone: request.status === 'pending' ? 'warning' : 'default',
        pending: request.status === 'pending',
        requestId: request.id,
        note: approvalNote(request, locale),
      }
    : undefined;
  return planCard(plan, facts, locale, account, approval);
}

/** Tells the requester who received the request, and who could not be reached. */
function approvalNote(request: ChangeRequest, locale: Locale): string {
  const s = strings(locale).approval;
  const names = (people: { name: string; aadObjectId: string }[]) => people.map((p) => plainText(p.name || p.aadObjectId)).join(', ');
  const reached = request.cards.filter((c) => c.audience !== 'requester');
  const parts = [];
  if (reached.length === 0) parts.push(s.nobodyReached);
  else {
    const approvers = request.cards.filter((c) => c.audience === 'approver').map((c) => ({ aadObjectId: c.aadObjectId ?? '', name: c.name }));
    const channel = request.cards.some((c) => c.audience === 'channel') ? [strings(locale).approval.channel] : [];
    parts.push(format(s.sentTo, { names: [...approvers.map((a) => plainText(a.name || a.aadObjectId)), ...channel].join(', ') }));
  }
  if (request.unreachable.length) parts.push(format(s.unreachable, { names: names(request.unreachable) }));
  return parts.join(' ');
}

/** Lets a started plan run for up to the click budget, then shows where it stands. */
export async function settledPlanReply(services: Services, plan: Plan, locale: Locale): Promise<PlanReply> {
  const settled = plan.status === 'running' ? ((await services.provisioning.plans.settle(plan.id, CLICK_BUDGET_MS)) ?? plan) : plan;
  return new PlanReply(await planView(services, settled, locale), plan.id);
}
