import { z } from 'zod';
import { ACCOUNT_REQUESTS, accountButtonReply } from '../accountRequests';
import type { CardAction } from '../scope';
import { id } from './fields';

const Data = z.object({ accountId: id });

/** "Assign license" on an unlicensed account's card: the plan to confirm, as `license <username>` gives. */
export const requestLicense: CardAction<z.infer<typeof Data>> = {
  verb: 'requestLicense',
  requires: 'admin',
  data: Data,
  handle: async (scope, data) => accountButtonReply(scope, data.accountId, await ACCOUNT_REQUESTS.license(scope, data.accountId)),
};
