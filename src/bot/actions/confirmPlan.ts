import { PlanData, afterTransition } from './planTransition';
import type { CardAction } from '../scope';

export const confirmPlan: CardAction<PlanData> = {
  verb: 'confirmPlan',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    return afterTransition(scope, data.planId, await scope.services.provisioning.plans.confirm(data.planId, scope.actor));
  },
};
