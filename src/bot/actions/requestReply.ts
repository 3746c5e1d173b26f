import type { ChangeRequest } from '../../approvals/requests';
import { describeRefusal } from '../../cards/describe';
import { messageCard } from '../../cards/message';
import { strings } from '../../i18n';
import type { Result } from '../../provisioning/result';
import { CLICK_BUDGET_MS } from '../planView';
import { PlanReply, type Reply, type TurnScope } from '../scope';

/**
 * The answer to a click on an approval card: that viewer's view of the request as it now stands.
 * A stale card or a second click simply shows the current state (decisions are compare-and-set).
 */
export async function requestReply(scope: TurnScope, outcome: Result<ChangeRequest>, requestId: string, error?: string): Promise<Reply> {
  const s = strings(scope.locale).errors;
  if (!outcome.ok && outcome.reason !== 'REQUEST_REASON_REQUIRED') return messageCard(s.refusedTitle, describeRefusal(outcome, scope.locale), 'attention');
  const { approvals, views, provisioning } = scope.services;
  // An approved plan is given the click budget to finish, so the approver usually sees the result.
  if (outcome.ok && (outcome.value.status === 'approved' || outcome.value.status === 'executing')) await provisioning.plans.settle(requestId, CLICK_BUDGET_MS);
  const request = await approvals.get(requestId);
  if (!request) return messageCard(s.refusedTitle, strings(scope.locale).reasons.REQUEST_NOT_FOUND, 'attention');
  const view = await views.approval(request, views.viewerOf(request, scope.actor.aadObjectId), scope.locale);
  if (error) (view.card.body as unknown[]).splice(2, 0, { type: 'TextBlock', text: error, color: 'attention', wrap: true, weight: 'bolder' });
  return new PlanReply(view.card, view.planId, view.version, 'approval', view.final);
}
