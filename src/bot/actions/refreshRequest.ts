import { z } from 'zod';
import type { CardAction } from '../scope';
import { id } from './fields';
import { requestReply } from './requestReply';

const Data = z.object({ requestId: id });

/**
 * Universal Actions refresh (trigger "automatic"): read-only, it gives each viewer their own view —
 * approvers Approve/Reject, the requester Cancel, anyone else the state (teams-platform.md §3.4).
 */
export const refreshRequest: CardAction<z.infer<typeof Data>> = {
  verb: 'refreshRequest',
  requires: 'anyone',
  data: Data,
  async handle(scope, data) {
    const request = await scope.services.approvals.get(data.requestId);
    return requestReply(scope, request ? { ok: true, value: request } : { ok: false, reason: 'REQUEST_NOT_FOUND', params: {} }, data.requestId);
  },
};
