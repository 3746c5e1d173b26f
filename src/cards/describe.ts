import { format, strings, type Locale } from '../i18n';
import type { Refusal } from '../provisioning/result';
import { countryName } from '../provisioning/countries';
import { licenseKindsOf, type LicenseSku, type ResourceAccount } from '../provisioning/model';

/** "MCOEV" → "Phone System (MCOEV)": admins know the product names, the part numbers less so. */
function skuLabel(skuPartNumber: string, locale: Locale): string {
  const kind = skuPartNumber.startsWith('PHONESYSTEM_VIRTUALUSER') ? 'resourceAccount' : skuPartNumber.startsWith('MCOEV') ? 'phoneSystem' : null;
  return kind ? `${strings(locale).license[kind]} (${skuPartNumber})` : skuPartNumber;
}

/** The human message of a refusal, in the viewer's language; type codes read as words. */
export function describeRefusal(refusal: Refusal, locale: Locale): string {
  const s = strings(locale);
  const params: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(refusal.params)) {
    const text = String(value);
    params[key] =
      key === 'sku'
        ? skuLabel(text, locale)
        : key === 'accountType' && (text === 'autoAttendant' || text === 'callQueue')
        ? s.accountType[text]
        : (key === 'actual' || key === 'expected') && (text === 'callingPlan' || text === 'operatorConnect' || text === 'directRouting')
          ? s.numberType[text]
          : key === 'status' && Object.hasOwn(s.plan.state, text)
            ? s.plan.state[text as keyof typeof s.plan.state]
            : value;
  }
  return format(s.reasons[refusal.reason], params);
}

/** How an account reads in a card: plain strings, localized. */
export interface AccountView {
  id: string;
  displayName: string;
  userPrincipalName: string;
  type: string;
  usageLocation: string;
  license: string;
  number: string;
  associations: string;
  broken: boolean;
}

export function accountView(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale): AccountView {
  const s = strings(locale);
  const kinds = licenseKindsOf(account, skus);
  return {
    id: account.id,
    displayName: account.displayName,
    userPrincipalName: account.userPrincipalName,
    type: s.accountType[account.accountType],
    usageLocation: account.usageLocation ? `${countryName(account.usageLocation, locale)} (${account.usageLocation})` : s.account.notSet,
    license: kinds.length ? kinds.map((k) => s.license[k]).join(', ') : s.license.unlicensed,
    number: account.phoneNumber ?? s.account.noNumber,
    associations: account.associations.length ? account.associations.map((a) => a.name).join(', ') : s.account.none,
    broken: account.broken,
  };
}
