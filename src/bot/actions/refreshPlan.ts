import type { CardAction } from '../scope';
import { PlanData, afterTransition } from './planTransition';

/** Read-only: shows the plan as it stands (a reader's click never moves where updates go). */
export const refreshPlan: CardAction<PlanData> = {
  verb: 'refreshPlan',
  requires: 'reader',
  data: PlanData,
  async handle(scope, data) {
    const plan = await scope.services.provisioning.plans.get(data.planId);
    if (!plan) return afterTransition(scope, data.planId, { ok: false, reason: 'PLAN_NOT_FOUND', params: {} });
    return scope.services.views.plan(plan, scope.locale);
  },
};
