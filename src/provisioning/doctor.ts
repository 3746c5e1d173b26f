import type { DirectoryUser, TenantScan } from './directory';
import { isServiceNumber, licenseKindsOf, type PhoneNumber, type ResourceAccount, type TenantFacts } from './model';
import { countryOfCallingCode } from './numbers';

/**
 * The tenant doctor: what is wrong with the resource accounts a tenant already holds (made by hand or
 * by other tools), read from one scan of the tenant. Pure: the same scan gives the same findings, in
 * the same order. Each finding names its subject by id, which is all a Fix button carries; the fix is
 * planned again from a fresh scan when it is clicked (doctorFixes.ts).
 *
 * Sources: DOMAIN.md (F-codes), teams-apis.md, and Microsoft's current licensing guidance, "Microsoft
 * Teams Phone Resource Account licenses" (learn.microsoft.com/microsoftteams/teams-add-on-licensing/virtual-user;
 * MicrosoftDocs/OfficeDocs-SkypeForBusiness Teams/teams-add-on-licensing/virtual-user.md): "all
 * resource accounts must be assigned a Teams Phone Resource Account license, regardless of whether
 * they'll be assigned a phone number or not … don't assign a Teams Phone Standard license to a
 * resource account".
 */

export const FINDING_CODES = [
  // Errors: callers reach nothing, or the tenant refuses or hides something.
  'BROKEN_BY_LICENSE_SWITCH',
  'NUMBER_STUCK_PENDING',
  'VOICE_APP_ACCOUNT_GONE',
  'NUMBER_ON_UNLICENSED_ACCOUNT',
  'VOICE_APP_ACCOUNT_UNLICENSED',
  'USER_NUMBER_ON_RESOURCE_ACCOUNT',
  'NUMBER_COUNTRY_MISMATCH',
  'TYPE_DIFFERS_FROM_VOICE_APP',
  // Warnings: against Microsoft's rules or guidance, works for now.
  'SIGN_IN_ENABLED',
  'PHONE_STANDARD_ON_RESOURCE_ACCOUNT',
  'LICENSE_WITHOUT_USAGE_LOCATION',
  'RESOURCE_LICENSE_ON_USER',
  'ACCOUNT_UNLICENSED',
  // Information: worth a look.
  'ACCOUNT_UNUSED',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export type Severity = 'error' | 'warning' | 'info';

const SEVERITY: Record<FindingCode, Severity> = {
  BROKEN_BY_LICENSE_SWITCH: 'error',
  NUMBER_STUCK_PENDING: 'error',
  VOICE_APP_ACCOUNT_GONE: 'error',
  NUMBER_ON_UNLICENSED_ACCOUNT: 'error',
  VOICE_APP_ACCOUNT_UNLICENSED: 'error',
  USER_NUMBER_ON_RESOURCE_ACCOUNT: 'error',
  NUMBER_COUNTRY_MISMATCH: 'error',
  TYPE_DIFFERS_FROM_VOICE_APP: 'error',
  SIGN_IN_ENABLED: 'warning',
  PHONE_STANDARD_ON_RESOURCE_ACCOUNT: 'warning',
  LICENSE_WITHOUT_USAGE_LOCATION: 'warning',
  RESOURCE_LICENSE_ON_USER: 'warning',
  ACCOUNT_UNLICENSED: 'warning',
  ACCOUNT_UNUSED: 'info',
};

/** The DOMAIN.md failure mode a finding is, where it is one of them. */
export const FAILURE_MODE: Partial<Record<FindingCode, string>> = {
  NUMBER_STUCK_PENDING: 'F1',
  BROKEN_BY_LICENSE_SWITCH: 'F2',
  NUMBER_ON_UNLICENSED_ACCOUNT: 'F3',
  NUMBER_COUNTRY_MISMATCH: 'F4',
  USER_NUMBER_ON_RESOURCE_ACCOUNT: 'F5',
  LICENSE_WITHOUT_USAGE_LOCATION: 'F8',
};

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /**
   * What it is about, by id: a resource account's object id, a telephone number (F1), an AA/CQ's
   * configuration id (its account is gone) or a user's object id. With the code, it names the finding.
   */
  subjectId: string;
  /** For the message: upn, number, voiceApp, country… (tenant data: escaped when shown). */
  params: Record<string, string>;
}

export interface Diagnosis {
  findings: Finding[];
  /** How many resource accounts were looked at. */
  accounts: number;
  /** Paid Teams Phone Standard seats that switching every such account to the free Resource Account license frees. */
  phoneStandardSeatsFreed: number;
}

const key = (id: string) => id.toLowerCase();

/** The country a number belongs to: the tenant's, or its calling code's when that names one country (F17). */
export function countryOfNumber(number: PhoneNumber): string | null {
  return number.isoCountryCode ?? countryOfCallingCode(number.telephoneNumber);
}

/** Every number the scan shows on the account, settled or on its way. */
export function numbersOn(scan: TenantScan, account: ResourceAccount): PhoneNumber[] {
  const id = key(account.id);
  return scan.numbers.filter((n) => n.assignmentTargetId !== null && key(n.assignmentTargetId) === id);
}

/** Everything the doctor finds in one scan, errors first. */
export function diagnose(scan: TenantScan, facts: Pick<TenantFacts, 'skus'>): Diagnosis {
  const findings: Finding[] = [];
  const add = (code: FindingCode, subjectId: string, params: Record<string, string>) => findings.push({ code, severity: SEVERITY[code], subjectId, params });
  const accounts = new Map(scan.accounts.map((a) => [key(a.id), a]));
  const usedByVoiceApp = new Set(scan.voiceApplications.flatMap((v) => v.accountIds.map(key)));

  for (const account of scan.accounts) {
    const upn = account.userPrincipalName;
    // A broken account cannot be repaired, only replaced (teams-apis.md §1.4): nothing else about it matters.
    if (account.broken) {
      add('BROKEN_BY_LICENSE_SWITCH', account.id, { upn });
      continue;
    }
    if (account.accountEnabled) add('SIGN_IN_ENABLED', account.id, { upn });
    const kinds = licenseKindsOf(account, facts.skus);
    const numbers = numbersOn(scan, account);
    const voiceApp = account.associations[0];
    if (kinds.length === 0) {
      // One finding per unlicensed account, the most serious that applies.
      if (numbers[0]) add('NUMBER_ON_UNLICENSED_ACCOUNT', account.id, { upn, number: numbers[0].telephoneNumber });
      else if (voiceApp) add('VOICE_APP_ACCOUNT_UNLICENSED', account.id, { upn, voiceApp: voiceApp.name });
      else add('ACCOUNT_UNLICENSED', account.id, { upn });
    } else if (!account.usageLocation) {
      add('LICENSE_WITHOUT_USAGE_LOCATION', account.id, { upn });
    }
    if (kinds.includes('phoneSystem')) add('PHONE_STANDARD_ON_RESOURCE_ACCOUNT', account.id, { upn });
    for (const number of numbers) {
      if (!isServiceNumber(number)) add('USER_NUMBER_ON_RESOURCE_ACCOUNT', account.id, { upn, number: number.telephoneNumber });
      const country = countryOfNumber(number);
      if (country && account.usageLocation && country !== account.usageLocation) {
        add('NUMBER_COUNTRY_MISMATCH', account.id, { upn, number: number.telephoneNumber, numberCountry: country, usageLocation: account.usageLocation });
      }
    }
    for (const association of account.associations) {
      if (association.configurationType !== account.accountType) {
        add('TYPE_DIFFERS_FROM_VOICE_APP', account.id, { upn, voiceApp: association.name, accountType: account.accountType, voiceAppType: association.configurationType });
      }
    }
    if (account.associations.length === 0 && !usedByVoiceApp.has(key(account.id))) add('ACCOUNT_UNUSED', account.id, { upn });
  }

  // Numbers whose resource account no longer exists: deleted while the number was on it (F1).
  for (const number of scan.numbers) {
    if (number.assignmentTargetId !== null && !accounts.has(key(number.assignmentTargetId))) {
      add('NUMBER_STUCK_PENDING', number.telephoneNumber, { number: number.telephoneNumber, state: number.activationState });
    }
  }

  // AA/CQs that still list accounts, none of which exists any more.
  for (const app of scan.voiceApplications) {
    const live = app.accountIds.filter((id) => accounts.has(key(id)));
    if (app.accountIds.length > 0 && live.length === 0) add('VOICE_APP_ACCOUNT_GONE', app.configurationId, { voiceApp: app.name, voiceAppType: app.configurationType });
  }

  for (const user of scan.usersWithResourceAccountLicense) add('RESOURCE_LICENSE_ON_USER', user.id, { upn: user.userPrincipalName, displayName: user.displayName });

  const order = new Map(FINDING_CODES.map((c, i) => [c, i]));
  findings.sort((a, b) => order.get(a.code)! - order.get(b.code)! || nameOf(a).localeCompare(nameOf(b)) || a.subjectId.localeCompare(b.subjectId));
  return {
    findings,
    accounts: scan.accounts.length,
    phoneStandardSeatsFreed: findings.filter((f) => f.code === 'PHONE_STANDARD_ON_RESOURCE_ACCOUNT').length,
  };
}

function nameOf(finding: Finding): string {
  return finding.params.upn ?? finding.params.voiceApp ?? finding.params.number ?? '';
}

/** The user a RESOURCE_LICENSE_ON_USER finding is about. */
export function userOf(scan: TenantScan, id: string): DirectoryUser | undefined {
  return scan.usersWithResourceAccountLicense.find((u) => key(u.id) === key(id));
}
