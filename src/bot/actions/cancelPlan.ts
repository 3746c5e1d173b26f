import { PlanData, afterTransition } from './planTransition';
import type { CardAction } from '../scope';

/** Only whoever asked for the change withdraws it (issue 9 item 7); approvers reject instead. */
export const cancelPlan: CardAction<PlanData> = {
  verb: 'cancelPlan',
  requires: 'admin',
  data: PlanData,
  async handle(scope, data) {
    return afterTransition(scope, data.planId, await scope.services.approvals.withdraw(data.planId, scope.actor));
  },
};
