import { AccountTypeSchema, freeSeats, type AccountType, type LicenseSku, type TenantFacts } from './model';
import { ok, refuse, type Refusal, type Result } from './result';
import { isIsoCountry } from './countries';

/**
 * Every rule of DOMAIN.md "Identity and form" and "Licenses" as a pure function that returns a typed
 * refusal. Sources: Entra username policy (teams-apis.md §4) and Graph user resource.
 */

// Entra username policy: A–Z a–z 0–9 ' . - _ ! # ^ ~ (no accents, no other "@").
const UPN_LOCAL_CHARACTERS = /^[A-Za-z0-9'._\-!#^~]+$/;
const UPN_MAX_LOCAL = 64;
// The 113-character total of the policy is exactly 64 + '@' + 48, so these two limits enforce it.
const UPN_MAX_DOMAIN = 48;
const DISPLAY_NAME_MAX = 256;
// C0 and C1 control characters (including newlines and tabs) have no place in a display name.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
// What draws nothing on a card or in the Teams directory: spaces, format characters (U+200B, bidi marks),
// combining marks with no base, default-ignorable code points (the Hangul fillers U+115F, U+1160, U+3164,
// U+FFA0, variation selectors), and the blank Braille pattern U+2800 and musical null notehead U+1D159,
// both well-known "empty name" tricks.
const NOTHING_VISIBLE = /^[\s\p{Z}\p{Cc}\p{Cf}\p{M}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]*$/u;

/** Whether a text has at least one character a reader can see: a name without one reads as blank. */
export function hasVisibleCharacter(text: string): boolean {
  return !NOTHING_VISIBLE.test(text);
}

export function checkDisplayName(raw: string): Result<string> {
  const displayName = raw.trim();
  if (!displayName) return refuse('DISPLAY_NAME_REQUIRED', {}, 'displayName');
  if (CONTROL_CHARACTERS.test(displayName)) return refuse('DISPLAY_NAME_CONTROL_CHARACTERS', {}, 'displayName');
  // Entra ID takes such a name, and the account then shows as a blank line in the admin center, in the
  // AA and CQ pickers and to callers searching the directory.
  if (!hasVisibleCharacter(displayName)) return refuse('DISPLAY_NAME_INVISIBLE', {}, 'displayName');
  if (displayName.length > DISPLAY_NAME_MAX) {
    return refuse('DISPLAY_NAME_TOO_LONG', { max: DISPLAY_NAME_MAX, length: displayName.length }, 'displayName');
  }
  return ok(displayName);
}

/** Checks the form of a UPN local part ("username") alone. */
export function checkUsername(raw: string): Result<string> {
  const username = raw.trim();
  if (!username) return refuse('UPN_REQUIRED', {}, 'username');
  if (!UPN_LOCAL_CHARACTERS.test(username)) {
    const bad = [...new Set([...username].filter((c) => !UPN_LOCAL_CHARACTERS.test(c)))].join('');
    return refuse('UPN_INVALID_CHARACTERS', { characters: bad }, 'username');
  }
  if (username.endsWith('.')) return refuse('UPN_DOT_BEFORE_AT', {}, 'username');
  if (username.length > UPN_MAX_LOCAL) {
    return refuse('UPN_LOCAL_PART_TOO_LONG', { max: UPN_MAX_LOCAL, length: username.length }, 'username');
  }
  return ok(username);
}

/**
 * The domain must be one of the tenant's verified domains, and an online one: the UPN becomes the SIP
 * URI (New-CsOnlineApplicationInstance, teams-apis.md §3.2).
 */
export function checkDomain(domain: string, facts: TenantFacts): Result<string> {
  const domainName = domain.trim().toLowerCase();
  if (domainName.length > UPN_MAX_DOMAIN) {
    return refuse('UPN_DOMAIN_TOO_LONG', { max: UPN_MAX_DOMAIN, length: domainName.length }, 'domain');
  }
  // An empty domain was said as "— is not a verified domain": what is missing is a choice.
  if (!domainName) return refuse('UPN_DOMAIN_REQUIRED', {}, 'domain');
  const verified = facts.domains.find((d) => d.name.toLowerCase() === domainName);
  if (!verified) return refuse('UPN_DOMAIN_NOT_VERIFIED', { domain: domainName }, 'domain');
  if (!verified.isOnline) return refuse('UPN_DOMAIN_NOT_ONLINE', { domain: verified.name }, 'domain');
  return ok(verified.name);
}

/** Checks a whole UPN: the username's form, then the domain. */
export function checkUserPrincipalName(username: string, domain: string, facts: TenantFacts): Result<string> {
  const local = checkUsername(username);
  if (!local.ok) return local;
  const verified = checkDomain(domain, facts);
  if (!verified.ok) return verified;
  return ok(`${local.value}@${verified.value}`);
}

/** Lets the caller tell the rule whether the UPN is taken (case-insensitive lookup in the tenant). */
export function checkUpnUnused(existing: { userPrincipalName: string } | null): Refusal | null {
  return existing ? refuse('UPN_IN_USE', { upn: existing.userPrincipalName }, 'username') : null;
}

export function checkAccountType(raw: string): Result<AccountType> {
  const parsed = AccountTypeSchema.safeParse(raw);
  return parsed.success ? ok(parsed.data) : refuse('ACCOUNT_TYPE_INVALID', { value: raw.slice(0, 40) }, 'accountType');
}

/** Usage location is an ISO 3166-1 alpha-2 code (Graph user.usageLocation). */
export function checkUsageLocation(raw: string): Result<string> {
  const code = raw.trim().toUpperCase();
  return isIsoCountry(code) ? ok(code) : refuse('USAGE_LOCATION_INVALID', { value: raw.slice(0, 10) || '—' }, 'usageLocation');
}

/**
 * A free seat of the chosen SKU must exist; when none is left, say how to get more (the seed's
 * Billing › Purchase services path; a bot cannot buy licenses, teams-apis.md §1.5).
 */
export function checkFreeSeat(sku: LicenseSku): Refusal | null {
  const free = freeSeats(sku);
  return free > 0 ? null : refuse('LICENSE_NO_FREE_SEAT', { sku: sku.skuPartNumber, enabled: sku.enabled, free }, 'license');
}

/** Usage location must be set before any license (Graph assignLicense; DOMAIN.md F8). */
export function checkUsageLocationBeforeLicense(usageLocation: string | null): Refusal | null {
  return usageLocation ? null : refuse('LICENSE_USAGE_LOCATION_MISSING', {}, 'usageLocation');
}

/** Resolves a license kind to the tenant's SKU (by kind, never by a hard-coded GUID). */
export function findSku(facts: TenantFacts, kind: string): Result<LicenseSku> {
  if (kind !== 'resourceAccount' && kind !== 'phoneSystem') return refuse('LICENSE_UNKNOWN', { value: kind.slice(0, 40) }, 'license');
  const sku = facts.skus.find((s) => s.kind === kind);
  return sku ? ok(sku) : refuse('LICENSE_NOT_IN_TENANT', { kind }, 'license');
}
