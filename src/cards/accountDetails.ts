import { format, strings, type Locale } from '../i18n';
import type { LicenseSku, ResourceAccount } from '../provisioning/model';
import { accountView } from './describe';
import { renderCard, type CardJson } from './render';

export function accountDetailsCard(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale, created = false): CardJson {
  const s = strings(locale).account;
  const view = accountView(account, skus, locale);
  const licensed = account.assignedLicenses.length > 0;
  const nextStep = account.broken || account.phoneNumber ? '' : licensed ? format(s.nextStepNumber, { upn: account.userPrincipalName }) : s.nextStepLicense;
  return renderCard('account-details', { s, title: created ? s.created : s.details, created, account: view, nextStep });
}
