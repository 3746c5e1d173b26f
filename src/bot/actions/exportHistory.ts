import { z } from 'zod';
import { exportHistory as exportCsv } from '../history';
import type { CardAction } from '../scope';

const Data = z.object({ username: z.string().max(200).default('') });

export const exportHistory: CardAction<z.infer<typeof Data>> = {
  verb: 'exportHistory',
  requires: 'reader',
  data: Data,
  handle: (scope, data) => exportCsv(scope, data.username),
};
