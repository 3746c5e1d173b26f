import { planView } from '../planView';
import { PlanReply, type CardAction } from '../scope';
import { PlanData, afterTransition } from './planTransition';

/** Read-only: shows the plan as it stands. */
export const refreshPlan: CardAction<PlanData> = {
  verb: 'refreshPlan',
  requires: 'reader',
  data: PlanData,
  async handle(scope, data) {
    const plan = scope.services.provisioning.plans.get(data.planId);
    if (!plan) return afterTransition(scope, data.planId, { ok: false, reason: 'PLAN_NOT_FOUND', params: {} });
    return new PlanReply(await planView(scope.services, plan, scope.locale), plan.id);
  },
};
