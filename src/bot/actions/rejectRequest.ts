import { z } from 'zod';
import { describeRefusal } from '../../cards/describe';
import type { CardAction } from '../scope';
import { id, input } from './fields';
import { requestReply } from './requestReply';

const Data = z.object({ requestId: id, reason: input(2000) });

/** Reject with a reason the requester will read; the plan is cancelled and nothing runs. */
export const rejectRequest: CardAction<z.infer<typeof Data>> = {
  verb: 'rejectRequest',
  requires: 'approver',
  data: Data,
  async handle(scope, data) {
    const outcome = await scope.services.approvals.reject(data.requestId, scope.actor, data.reason.slice(0, 500));
    const error = !outcome.ok && outcome.reason === 'REQUEST_REASON_REQUIRED' ? describeRefusal(outcome, scope.locale) : undefined;
    return requestReply(scope, outcome, data.requestId, error);
  },
};
