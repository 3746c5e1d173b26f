import { PlanData, afterTransition } from './planTransition';
import type { CardAction } from '../scope';

export const retryPlan: CardAction<PlanData> = {
  verb: 'retryPlan',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    return afterTransition(scope, data.planId, await scope.services.provisioning.plans.retry(data.planId, scope.actor));
  },
};

/** Read-only: shows the plan as it stands. */
