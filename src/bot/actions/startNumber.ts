import { z } from 'zod';
import { startNumberFlow } from '../numberFlow';
import type { CardAction } from '../scope';
import { id } from './fields';

const Data = z.object({ accountId: id });

/** "Assign number" on the account card: the number-type card, or why the account cannot take one. */
export const startNumber: CardAction<z.infer<typeof Data>> = {
  verb: 'startNumber',
  requires: 'admin',
  data: Data,
  handle: (scope, data) => startNumberFlow(scope, data.accountId),
};
