import { z } from 'zod';
import { ACCOUNT_REQUESTS, accountButtonReply } from '../accountRequests';
import type { CardAction } from '../scope';
import { id } from './fields';

const Data = z.object({ accountId: id });

export const requestUnassign: CardAction<z.infer<typeof Data>> = {
  verb: 'requestUnassign',
  requires: 'admin',
  data: Data,
  handle: async (scope, data) => accountButtonReply(scope, data.accountId, await ACCOUNT_REQUESTS.unassign(scope, data.accountId)),
};
