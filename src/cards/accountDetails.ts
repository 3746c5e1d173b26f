import { format, strings, type Locale } from '../i18n';
import { licenseKindsOf, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import { checkFreeSeat } from '../provisioning/rules';
import { accountView, describeRefusal } from './describe';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** The Teams Phone Resource Account SKU (servicePlans.ts) as a tenant without it has it: no seat. */
const NO_RESOURCE_ACCOUNT_SKU: LicenseSku = { skuId: '440eaaa8-b3e0-484b-a8be-62870b9ba70a', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER', kind: 'resourceAccount', enabled: 0, consumed: 0 };

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
  // Without a free Resource Account seat the button could only be refused (F9): the next step says why
  // and how to get one instead, as the number card does. A tenant without the SKU has none of 0 seats:
  // "no subscription for that license" named no license and no way to get it.
  const sku = skus.find((k) => k.kind === 'resourceAccount') ?? NO_RESOURCE_ACCOUNT_SKU;
  const noSeat = licensed || account.broken ? null : checkFreeSeat(sku);
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
