import { z } from 'zod';
import { numberDirectRoutingCard } from '../../cards/numberDirectRouting';
import { numberTypeCard } from '../../cards/numberType';
import { strings } from '../../i18n';
import { NumberTypeSchema } from '../../provisioning/model';
import { readySubject, searchCard } from '../numberFlow';
import type { CardAction } from '../scope';
import { id, input } from './fields';

const Data = z.object({ accountId: id, numberType: input(40) });

/**
 * Next on the number-type card. Calling Plan and Operator Connect numbers are in the tenant's
 * inventory: search them, starting with the account's usage location (DOMAIN.md F4). Direct Routing
 * numbers are not, so the admin types one in.
 */
export const chooseNumberType: CardAction<z.infer<typeof Data>> = {
  verb: 'chooseNumberType',
  requires: 'admin',
  data: Data,
  async handle(scope, data) {
    const subject = await readySubject(scope, data.accountId);
    if (!subject.ok) return subject.reply;
    const { account, skus } = subject.value;
    const type = NumberTypeSchema.safeParse(data.numberType);
    if (!type.success) return numberTypeCard(account, skus, scope.locale, '', strings(scope.locale).number.typeRequired);
    if (type.data === 'directRouting') return numberDirectRoutingCard(account, skus, scope.locale);
    return searchCard(scope, subject.value, type.data, { country: account.usageLocation ?? '', prefix: '', offset: 0 });
  },
};
