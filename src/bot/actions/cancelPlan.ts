import { PlanData, afterTransition } from './planTransition';
import type { CardAction } from '../scope';

export const cancelPlan: CardAction<PlanData> = {
  verb: 'cancelPlan',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    return afterTransition(scope, data.planId, await scope.services.provisioning.plans.cancel(data.planId, scope.actor));
  },
};
