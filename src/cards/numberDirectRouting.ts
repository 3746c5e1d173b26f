import { getCountryCallingCode, getExampleNumber, isSupportedCountry } from 'libphonenumber-js';
import examples from 'libphonenumber-js/examples.mobile.json';
import { format, strings, type Locale } from '../i18n';
import type { LicenseSku, ResourceAccount } from '../provisioning/model';
import { numberAccountView, type NumberAccountView } from './numberText';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** What number-direct-routing.json expands. */
export interface NumberDirectRoutingCardData {
  s: ReturnType<typeof strings>['number'];
  title: string;
  intro: string;
  placeholder: string;
  account: NumberAccountView;
  value: string;
  error: string;
}

/**
 * Direct Routing numbers live on the admin's SBC, not in the online inventory, so they are typed in.
 * The card's regex only helps the admin: validation runs on the client alone (teams-platform.md §5)
 * and the service checks E.164 and ";ext=" again (DOMAIN.md "Numbers").
 */
export function numberDirectRoutingCard(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale, value = '', error = ''): CardJson {
  const s = strings(locale).number;
  const view = numberAccountView(account, skus, locale);
  const data: NumberDirectRoutingCardData = {
    s,
    title: format(s.directTitle, { upn: plainText(account.userPrincipalName) }),
    intro: format(s.directIntro, { country: view.usageLocation }),
    placeholder: format(s.directPlaceholder, { example: exampleNumber(account.usageLocation) }),
    account: view,
    value,
    error,
  };
  return renderCard('number-direct-routing', data);
}

/**
 * A number of the usage location's country as the placeholder: the number must be of that country
 * (DOMAIN.md F4), and a French example was shown to every tenant. libphonenumber-js ships example
 * numbers only of mobile ranges; the placeholder shows the form (E.164, ";ext="), not a range. A country
 * without an example gets its calling code, one without a numbering plan of its own (Antarctica) only
 * the "+"; no usage location, the example of Microsoft's own docs (+1 425 555 0100).
 */
function exampleNumber(usageLocation: string | null): string {
  if (!usageLocation) return '+14255550100';
  const country = usageLocation.toUpperCase();
  if (!isSupportedCountry(country)) return '+…';
  return getExampleNumber(country, examples)?.number ?? `+${getCountryCallingCode(country)}…`;
}
