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
    account: view,
    value,
    error,
  };
  return renderCard('number-direct-routing', data);
}
