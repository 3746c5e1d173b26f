import { format, strings, type Locale } from '../i18n';
import { NumberTypeSchema, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import { numberAccountView, type NumberAccountView } from './numberText';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** What number-type.json expands. */
export interface NumberTypeCardData {
  s: ReturnType<typeof strings>['number'];
  title: string;
  account: NumberAccountView;
  value: string;
  error: string;
  types: { title: string; value: string }[];
}

/** Step 1 of "Assign number": the number types of DOMAIN.md §4, as the admin center lists them. */
export function numberTypeCard(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale, value = 'callingPlan', error = ''): CardJson {
  const s = strings(locale).number;
  const data: NumberTypeCardData = {
    s,
    title: format(s.typeTitle, { upn: plainText(account.userPrincipalName) }),
    account: numberAccountView(account, skus, locale),
    value,
    error,
    types: NumberTypeSchema.options.map((type) => ({ title: s.typeChoice[type], value: type })),
  };
  return renderCard('number-type', data);
}
