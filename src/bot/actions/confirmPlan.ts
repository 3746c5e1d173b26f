import type { CardAction } from '../scope';
import { PlanData, afterTransition } from './planTransition';
import { CLICK_BUDGET_MS } from '../planView';

/** How long a Confirm waits for the approval cards to go out, so its answer says who has the request. */
const DELIVERY_BUDGET_MS = 1_000;

/**
 * Confirm runs the plan, unless the policy wants a second person: then it becomes a change request
 * that approvers receive, and nothing runs until one of them approves. The decision which of the two
 * is the domain's (ApprovalService.confirm), so no button can skip it.
 */
export const confirmPlan: CardAction<PlanData> = {
  verb: 'confirmPlan',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    const { approvals, delivery } = scope.services;
    const confirmed = await approvals.confirm(data.planId, { ...scope.actor, userId: scope.userId });
    if (confirmed.ok && confirmed.value.request) {
      await delivery.settle(data.planId, Math.min(DELIVERY_BUDGET_MS, CLICK_BUDGET_MS));
      return scope.services.views.plan(confirmed.value.plan, scope.locale);
    }
    return afterTransition(scope, data.planId, confirmed.ok ? { ok: true, value: confirmed.value.plan } : confirmed);
  },
};
