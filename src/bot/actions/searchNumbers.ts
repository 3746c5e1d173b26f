import { z } from 'zod';
import { readySubject, searchCard } from '../numberFlow';
import type { CardAction } from '../scope';
import { id, input } from './fields';

/** Ids, the number type and filter values only; Previous / Next carry the filters of the page shown. */
export const SearchData = z.object({
  accountId: id,
  numberType: z.enum(['callingPlan', 'operatorConnect']),
  country: input(10),
  prefix: input(40),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/** Search, Previous and Next on the search card. */
export const searchNumbers: CardAction<z.infer<typeof SearchData>> = {
  verb: 'searchNumbers',
  requires: 'admin',
  data: SearchData,
  async handle(scope, data) {
    const subject = await readySubject(scope, data.accountId);
    if (!subject.ok) return subject.reply;
    return searchCard(scope, subject.value, data.numberType, data);
  },
};
