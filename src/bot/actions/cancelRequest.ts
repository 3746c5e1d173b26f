import { z } from 'zod';
import { PlanReply, type CardAction } from '../scope';
import { planView } from '../planView';
import { id } from './fields';
import { requestReply } from './requestReply';

const Data = z.object({ requestId: id });

/** The requester withdraws a pending request; on their own plan card, the plan card answers. */
export const cancelRequest: CardAction<z.infer<typeof Data>> = {
  verb: 'cancelRequest',
  requires: 'admin',
  data: Data,
  async handle(scope, data) {
    const outcome = await scope.services.approvals.cancel(data.requestId, scope.actor);
    const plan = scope.services.provisioning.plans.get(data.requestId);
    if (outcome.ok && plan) return new PlanReply(await planView(scope.services, plan, scope.locale), plan.id);
    return requestReply(scope, outcome, data.requestId);
  },
};
