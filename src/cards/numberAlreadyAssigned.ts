import { format, strings, type Locale } from '../i18n';
import type { LicenseSku, ResourceAccount } from '../provisioning/model';
import type { Refusal } from '../provisioning/result';
import { describeNumberRefusal, numberAccountView, type NumberAccountView } from './numberText';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** What number-already-assigned.json expands. */
export interface NumberAlreadyAssignedCardData {
  s: ReturnType<typeof strings>['number'];
  title: string;
  text: string;
  account: NumberAccountView;
  number: string;
}

/**
 * One number per account (DOMAIN.md "Numbers"): the account already has one, so the card says so and
 * offers to unassign it (a confirmable plan of its own) instead of a second number.
 */
export function numberAlreadyAssignedCard(account: ResourceAccount, skus: readonly LicenseSku[], refusal: Refusal, locale: Locale): CardJson {
  const s = strings(locale).number;
  const data: NumberAlreadyAssignedCardData = {
    s,
    title: format(s.assignedTitle, { upn: plainText(account.userPrincipalName) }),
    text: describeNumberRefusal(refusal, locale),
    account: numberAccountView(account, skus, locale),
    number: account.phoneNumber ?? '',
  };
  return renderCard('number-already-assigned', data);
}
