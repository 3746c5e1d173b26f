import type { CardAction } from '../scope';
import { PlanReply } from '../scope';
import { planView } from '../planView';
import { PlanData, afterTransition } from './planTransition';
import { refusalReply } from '../accountRequests';

/**
 * Confirm runs the plan, unless the policy wants a second person: then it becomes a change request
 * that approvers receive, and nothing runs until one of them approves.
 */
export const confirmPlan: CardAction<PlanData> = {
  verb: 'confirmPlan',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    const { provisioning, approvals, approvalCards } = scope.services;
    const plan = provisioning.plans.get(data.planId);
    if (plan && approvals.needsApproval(plan)) {
      const existing = await approvals.get(plan.id);
      if (!existing) {
        const asked = await approvals.request(plan, { ...scope.actor, userId: scope.userId });
        if (!asked.ok) return asked.reason === 'PLAN_ALREADY_DECIDED' ? afterTransition(scope, plan.id, asked) : refusalReply(scope, asked);
        if (asked.value.created) await approvalCards.deliver(asked.value.request);
      }
      const current = provisioning.plans.get(plan.id) ?? plan;
      return new PlanReply(await planView(scope.services, current, scope.locale), plan.id);
    }
    return afterTransition(scope, data.planId, await provisioning.plans.confirm(data.planId, scope.actor));
  },
};
