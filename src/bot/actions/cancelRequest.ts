import { z } from 'zod';
import type { CardAction } from '../scope';
import { id } from './fields';
import { requestReply } from './requestReply';

const Data = z.object({ requestId: id });

/** The requester withdraws a pending request; on their own plan card, the plan card answers. */
export const cancelRequest: CardAction<z.infer<typeof Data>> = {
  verb: 'cancelRequest',
  requires: 'admin',
  data: Data,
  async handle(scope, data) {
    const outcome = await scope.services.approvals.withdraw(data.requestId, scope.actor);
    if (outcome.ok) return scope.services.views.plan(outcome.value, scope.locale);
    const request = await scope.services.approvals.get(data.requestId);
    return requestReply(scope, request && outcome.reason !== 'REQUEST_NOT_REQUESTER' ? { ok: true, value: request } : outcome, data.requestId);
  },
};
