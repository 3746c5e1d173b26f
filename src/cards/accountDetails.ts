import { format, strings, type Locale } from '../i18n';
import { licenseKindsOf, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import { checkFreeSeat } from '../provisioning/rules';
import { accountView, describeRefusal } from './describe';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/**
 * One account with what can be done to it next. Buttons are offered only when the rules allow the
 * request (the service checks again when it comes); admins only, since others cannot act.
 */
export function accountDetailsCard(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale, created = false, canChange = true, refused = ''): CardJson {
  const s = strings(locale).account;
  const view = accountView(account, skus, locale);
  const kinds = licenseKindsOf(account, skus);
  const licensed = kinds.length > 0;
  const associated = account.associations.length > 0;
  // Without a free Resource Account seat (or the SKU) the button could only be refused (F9): the next
  // step says why and how to get one instead, as the number card does.
  const sku = skus.find((k) => k.kind === 'resourceAccount');
  const noSeat = licensed || account.broken ? null : sku ? checkFreeSeat(sku) : ({ ok: false, reason: 'LICENSE_NOT_IN_TENANT', params: {} } as const);
  const can = {
    assignNumber: canChange && licensed && !account.phoneNumber && !account.broken,
    unassignNumber: canChange && account.phoneNumber !== null,
    associate: canChange && !associated && !account.broken,
    // Name and type of a synced hybrid endpoint are changed on-premises (src/provisioning/hybrid.ts).
    edit: canChange && !account.onPremisesSynced,
    switchLicense: canChange && kinds.includes('phoneSystem'),
    // The "Next step" this card names for an unlicensed account, as a button.
    assignLicense: canChange && !licensed && !account.broken && !noSeat,
    dissociate: canChange && associated,
    delete: canChange && !account.onPremisesSynced,
  };
  const nextStep =
    account.broken || account.phoneNumber
      ? ''
      : licensed
        ? format(s.nextStepNumber, { upn: plainText(account.userPrincipalName) })
        : noSeat
          ? `${s.nextStepLicense} ${describeRefusal(noSeat, locale)}`
          : s.nextStepLicense;
  // `refused`: why a button of this card was refused just now (already plain text, from describeRefusal).
  const notice = refused ? { title: strings(locale).errors.refusedTitle, text: refused } : { title: '', text: '' };
  return renderCard('account-details', { s, title: created ? s.created : s.details, created, account: view, onPremises: account.onPremisesSynced === true, nextStep, can, notice });
}
