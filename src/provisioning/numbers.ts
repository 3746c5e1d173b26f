import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { isServiceNumber, licenseKindsOf, type LicenseSku, type NumberType, type PhoneNumber, type ResourceAccount } from './model';
import { ok, refuse, type Refusal, type Result } from './result';

/**
 * DOMAIN.md "Numbers". E.164: "+", a 1–3 digit country code, at most 15 digits in all, no leading 0
 * after "+"; ";ext=digits" only for Direct Routing (Set-CsPhoneNumberAssignment, teams-apis.md §3.3).
 * Spaces, dashes, dots and brackets that people type are dropped; "tel:" is not accepted.
 */
const E164 = /^\+[1-9]\d{1,14}$/;
const EXTENSION = /^;ext=\d{1,10}$/;

export function checkTelephoneNumber(raw: string, numberType: NumberType): Result<string> {
  const trimmed = raw.trim();
  const [main = '', extension = ''] = splitExtension(trimmed);
  const compact = main.replace(/[\s\-.()]/g, '');
  const value = trimmed.slice(0, 40) || '—';
  if (!E164.test(compact)) return refuse('NUMBER_INVALID_FORMAT', { value }, 'telephoneNumber');
  if (extension) {
    if (numberType !== 'directRouting') return refuse('NUMBER_EXTENSION_NOT_ALLOWED', {}, 'telephoneNumber');
    if (!EXTENSION.test(extension)) return refuse('NUMBER_INVALID_FORMAT', { value }, 'telephoneNumber');
  }
  return ok(compact + extension);
}

function splitExtension(raw: string): [string, string] {
  const at = raw.toLowerCase().indexOf(';ext=');
  return at < 0 ? [raw, ''] : [raw.slice(0, at), raw.slice(at).toLowerCase()];
}

/** The account must hold a Teams Phone license before it gets a number (DOMAIN.md F3). */
export function checkLicensedForNumber(account: ResourceAccount, skus: readonly LicenseSku[]): Refusal | null {
  return licenseKindsOf(account, skus).length > 0 ? null : refuse('NUMBER_ACCOUNT_NOT_LICENSED', { upn: account.userPrincipalName });
}

/** One number per account (DOMAIN.md). */
export function checkAccountHasNoNumber(account: ResourceAccount): Refusal | null {
  return account.phoneNumber
    ? refuse('NUMBER_ACCOUNT_HAS_NUMBER', { upn: account.userPrincipalName, number: account.phoneNumber })
    : null;
}

/**
 * The account-level rules of DOMAIN.md "Numbers": one number per account, licensed before a number,
 * and a broken account is beyond repair. Checked before the admin chooses a number and again when
 * the number is picked.
 */
export function checkAccountCanTakeNumber(account: ResourceAccount, skus: readonly LicenseSku[]): Refusal | null {
  return (
    checkAccountHasNoNumber(account) ??
    (account.broken ? refuse('ACCOUNT_BROKEN', { upn: account.userPrincipalName }) : null) ??
    checkLicensedForNumber(account, skus) ??
    // A number's country must match the usage location (F4), which cannot be checked without one (F8).
    (account.usageLocation ? null : refuse('NUMBER_USAGE_LOCATION_MISSING', { upn: account.userPrincipalName }))
  );
}

/**
 * A number from the tenant's inventory can go on a resource account only if it is a service number
 * (F5), of the chosen type, unassigned (F10), activated and not blocked; its country must match the
 * account's usage location (F4: the admin center otherwise hides or refuses it).
 */
export function checkNumberAssignable(
  number: PhoneNumber,
  numberType: NumberType,
  account: ResourceAccount,
  assigneeName: (id: string) => string,
): Refusal | null {
  const n = number.telephoneNumber;
  if (!isServiceNumber(number)) return refuse('NUMBER_NOT_SERVICE', { number: n }, 'telephoneNumber');
  if (number.numberType !== numberType) {
    return refuse('NUMBER_WRONG_TYPE', { number: n, actual: number.numberType, expected: numberType }, 'telephoneNumber');
  }
  if (number.assignmentTargetId && number.assignmentTargetId !== account.id) {
    return refuse('NUMBER_ALREADY_ASSIGNED', { number: n, assignee: assigneeName(number.assignmentTargetId) }, 'telephoneNumber');
  }
  if (number.assignmentStatus !== 'unassigned' && number.assignmentTargetId !== account.id) {
    return refuse('NUMBER_ALREADY_ASSIGNED', { number: n, assignee: number.assignmentStatus }, 'telephoneNumber');
  }
  if (number.activationState !== 'activated') {
    return refuse('NUMBER_NOT_ACTIVATED', { number: n, state: number.activationState }, 'telephoneNumber');
  }
  if (number.assignmentBlocked) return refuse('NUMBER_BLOCKED', { number: n }, 'telephoneNumber');
  // A number the tenant gives no country (Direct Routing, F17) is checked by its calling code when that
  // names one country, and otherwise left to the tenant: never refused for the missing country alone.
  const country = number.isoCountryCode ?? countryOfCallingCode(n);
  return country ? checkNumberCountry(n, country, account) : null;
}

export function checkNumberCountry(telephoneNumber: string, numberCountry: string, account: ResourceAccount): Refusal | null {
  if (!account.usageLocation || account.usageLocation === numberCountry) return null;
  return refuse(
    'NUMBER_COUNTRY_MISMATCH',
    { number: telephoneNumber, numberCountry, upn: account.userPrincipalName, usageLocation: account.usageLocation },
    'telephoneNumber',
  );
}

/**
 * Direct Routing numbers are not in the online inventory until assigned, so their country comes from
 * the calling code. Only the codes below are mapped (+1 is shared by the US, Canada and the Caribbean):
 * for any other, the country check is left to the tenant.
 */
const CALLING_CODES: Record<string, string> = { '33': 'FR', '44': 'GB', '49': 'DE', '34': 'ES', '39': 'IT', '31': 'NL', '32': 'BE', '41': 'CH', '61': 'AU', '81': 'JP' };
/**
 * Codes that other countries share with the one mapped: +44 with Jersey, Guernsey and the Isle of Man,
 * +39 with the Vatican, +61 with Christmas and Cocos Islands. Their numbering plan (libphonenumber-js)
 * tells which; a Jersey account's +44 1534 number was refused as a United Kingdom one.
 */
const SHARED_CODES = new Set(['44', '39', '61']);

export function countryOfCallingCode(telephoneNumber: string): string | null {
  const digits = telephoneNumber.replace(/^\+/, '');
  for (const length of [2, 3]) {
    const code = digits.slice(0, length);
    const country = CALLING_CODES[code];
    if (!country) continue;
    if (!SHARED_CODES.has(code)) return country;
    return parsePhoneNumberFromString(`+${digits.split(';')[0]}`)?.country ?? country;
  }
  return null;
}
