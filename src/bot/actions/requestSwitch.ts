import { z } from 'zod';
import { ACCOUNT_REQUESTS, accountButtonReply } from '../accountRequests';
import type { CardAction } from '../scope';
import { id } from './fields';

const Data = z.object({ accountId: id });

export const requestSwitch: CardAction<z.infer<typeof Data>> = {
  verb: 'requestSwitch',
  requires: 'admin',
  data: Data,
  handle: async (scope, data) => accountButtonReply(scope, data.accountId, await ACCOUNT_REQUESTS.switch(scope, data.accountId)),
};
