import { z } from 'zod';
import type { CardAction } from '../scope';
import { id } from './fields';
import { requestReply } from './requestReply';

const Data = z.object({ requestId: id });

/** Approve: only an approver, never the requester (four-eyes); exactly one decision wins. */
export const approveRequest: CardAction<z.infer<typeof Data>> = {
  verb: 'approveRequest',
  requires: 'approver',
  data: Data,
  handle: async (scope, data) => requestReply(scope, await scope.services.approvals.approve(data.requestId, scope.actor), data.requestId),
};
