import { z } from 'zod';
import { showHistory } from '../history';
import type { CardAction } from '../scope';

const Data = z.object({ offset: z.coerce.number().int().min(0).max(100_000_000).default(0), username: z.string().max(200).default('') });

export const historyPage: CardAction<z.infer<typeof Data>> = {
  verb: 'historyPage',
  requires: 'reader',
  data: Data,
  handle: (scope, data) => showHistory(scope, data.offset, data.username),
};
