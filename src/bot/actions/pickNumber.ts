import { z } from 'zod';
import { numberDirectRoutingCard } from '../../cards/numberDirectRouting';
import { describeNumberRefusal } from '../../cards/numberText';
import { strings } from '../../i18n';
import { NumberTypeSchema } from '../../provisioning/model';
import { proposalReply, refusalReply } from '../accountRequests';
import { accountRefusalCard, loadSubject, searchCard } from '../numberFlow';
import type { CardAction } from '../scope';
import { id, input } from './fields';

/** The card's ids, type and filters plus the number the admin picked or typed. */
const Data = z.object({
  accountId: id,
  numberType: NumberTypeSchema,
  telephoneNumber: input(100),
  country: input(10),
  prefix: input(40),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

/**
 * "Assign selected" (search card) and "Assign" (Direct Routing card). The picked value is untrusted,
 * whatever the card offered: planAssignNumber checks every rule of DOMAIN.md "Numbers" against the
 * tenant as it is now. A refusal brings back the same card with the reason next to the field and
 * the values kept; nothing changes before the plan card's Confirm.
 */
export const pickNumber: CardAction<z.infer<typeof Data>> = {
  verb: 'pickNumber',
  requires: 'admin',
  data: Data,
  async handle(scope, data) {
    const s = strings(scope.locale).number;
    const { provisioning } = scope.services;
    const typed = data.telephoneNumber.trim();
    const result = typed ? await provisioning.planAssignNumber(scope.actor, data.accountId, data.numberType, data.telephoneNumber) : null;
    if (result?.ok) return proposalReply(scope, result);
    if (result?.reason === 'ACCOUNT_GONE' || result?.reason === 'ACCOUNT_NOT_FOUND') return refusalReply(scope, result);

    const subject = await loadSubject(scope, data.accountId);
    if (!subject.ok) return subject.reply;
    const accountCard = result ? accountRefusalCard(scope, subject.value, result) : null;
    if (accountCard) return accountCard;
    const { account, skus } = subject.value;
    if (data.numberType === 'directRouting') {
      const error = result ? describeNumberRefusal(result, scope.locale) : s.directRequired;
      return numberDirectRoutingCard(account, skus, scope.locale, data.telephoneNumber.slice(0, 40), error);
    }
    const pickError = result ? describeNumberRefusal(result, scope.locale) : s.chooseOne;
    return searchCard(scope, subject.value, data.numberType, data, { picked: typed.slice(0, 40), pickError });
  },
};
