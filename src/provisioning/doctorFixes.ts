import type { TenantScan, VoiceApplication } from './directory';
import { countryOfNumber, numbersOn, type Finding, type FindingCode } from './doctor';
import type { AccountType, Actor, ResourceAccount, TenantFacts } from './model';
import type { Step } from './plans';
import { ok, refuse, type Result } from './result';
import { checkFreeSeat, findSku } from './rules';
import type { NewPlan } from './runner';

/**
 * The one-click fix of each finding, as a plan like any other: validated now against the fresh scan,
 * every step validated again when it runs, confirmation and (by policy) approval before anything
 * changes, audited step by step. Three fixes are existing requests (ProvisioningService): switching
 * Teams Phone Standard to the Resource Account license, unassigning a user number, deleting an unused
 * account. The rest are built here.
 */

/** Findings with no fix Switchboard can run; the card says what to do instead. */
const GUIDANCE_ONLY: ReadonlySet<FindingCode> = new Set<FindingCode>([
  // The number sits on a deleted object; no API releases it (Remove-CsPhoneNumberAssignment and Graph
  // unassignNumber need the account). Restoring the user in Entra within 30 days, then unassigning, or
  // Microsoft support, is the way out (teams-apis.md §0.5, §1.6).
  'NUMBER_STUCK_PENDING',
  // The license is on a person or device account, which Switchboard never changes: it manages resource
  // accounts only (src/backends/microsoft/accounts.ts).
  'RESOURCE_LICENSE_ON_USER',
]);

export function hasFix(code: FindingCode): boolean {
  return !GUIDANCE_ONLY.has(code);
}

/** Fixes that are existing requests on the account, by the ProvisioningService method that plans them. */
export const EXISTING_REQUEST: Partial<Record<FindingCode, 'switch' | 'unassign' | 'delete'>> = {
  PHONE_STANDARD_ON_RESOURCE_ACCOUNT: 'switch',
  USER_NUMBER_ON_RESOURCE_ACCOUNT: 'unassign',
  ACCOUNT_UNUSED: 'delete',
};

export interface FixContext {
  scan: TenantScan;
  facts: TenantFacts;
  actor: Actor;
}

const UPN_MAX_LOCAL = 64;
const key = (id: string) => id.toLowerCase();

/** The plan that fixes a finding (one not served by an existing request). */
export function buildFix(finding: Finding, ctx: FixContext): Result<NewPlan> {
  if (!hasFix(finding.code)) return refuse('DOCTOR_NO_FIX', { code: finding.code });
  if (finding.code === 'VOICE_APP_ACCOUNT_GONE') {
    const app = ctx.scan.voiceApplications.find((v) => key(v.configurationId) === key(finding.subjectId));
    return app ? newAccountFor(app, ctx) : refuse('VOICE_APP_NOT_FOUND', { name: finding.params.voiceApp ?? finding.subjectId });
  }
  const account = ctx.scan.accounts.find((a) => key(a.id) === key(finding.subjectId));
  if (!account) return refuse('ACCOUNT_NOT_FOUND', { username: finding.params.upn ?? finding.subjectId });
  const plan = (kind: NewPlan['kind'], steps: Step[]): Result<NewPlan> => ok({ kind, account: accountRef(account), requestedBy: ctx.actor, steps });
  switch (finding.code) {
    case 'BROKEN_BY_LICENSE_SWITCH':
      return replacement(account, ctx);
    case 'SIGN_IN_ENABLED':
      return plan('blockSignIn', [{ kind: 'blockSignIn' }]);
    case 'NUMBER_ON_UNLICENSED_ACCOUNT':
    case 'VOICE_APP_ACCOUNT_UNLICENSED':
    case 'ACCOUNT_UNLICENSED': {
      const steps = licenseSteps(account, ctx);
      return steps.ok ? plan('assignLicense', steps.value) : steps;
    }
    case 'LICENSE_WITHOUT_USAGE_LOCATION': {
      const country = usageLocationFor(account, ctx);
      return country ? plan('setUsageLocation', [{ kind: 'setUsageLocation', usageLocation: country }]) : refuse('DOCTOR_COUNTRY_UNKNOWN', { upn: account.userPrincipalName });
    }
    case 'NUMBER_COUNTRY_MISMATCH': {
      // The number is what callers know: the usage location follows it (DOMAIN.md F4).
      const country = finding.params.numberCountry;
      return country ? plan('setUsageLocation', [{ kind: 'setUsageLocation', usageLocation: country }]) : refuse('DOCTOR_COUNTRY_UNKNOWN', { upn: account.userPrincipalName });
    }
    case 'TYPE_DIFFERS_FROM_VOICE_APP': {
      // The type cannot change while an AA/CQ uses the account (F6): out, change, back in.
      const association = account.associations.find((a) => a.configurationType !== account.accountType);
      if (!association) return refuse('DOCTOR_FINDING_GONE', { upn: account.userPrincipalName });
      return plan('editAccount', [
        { kind: 'dissociate', configurationId: association.configurationId, name: association.name },
        { kind: 'updateAccount', accountType: association.configurationType },
        { kind: 'associate', configurationId: association.configurationId, configurationType: association.configurationType, name: association.name },
      ]);
    }
    default:
      return refuse('DOCTOR_NO_FIX', { code: finding.code });
  }
}

function accountRef(account: ResourceAccount): NewPlan['account'] {
  return { id: account.id, userPrincipalName: account.userPrincipalName, displayName: account.displayName };
}

/** The usage location an account should get: its number's country, else the tenant's (Graph organization). */
function usageLocationFor(account: ResourceAccount, ctx: FixContext): string | null {
  const number = numbersOn(ctx.scan, account)[0];
  return (number ? countryOfNumber(number) : null) ?? ctx.facts.countryLetterCode ?? null;
}

/** Usage location when missing (F8), then the free Resource Account license every resource account needs. */
function licenseSteps(account: ResourceAccount, ctx: FixContext): Result<Step[]> {
  const sku = findSku(ctx.facts, 'resourceAccount');
  if (!sku.ok) return sku;
  const noSeat = checkFreeSeat(sku.value);
  if (noSeat) return noSeat;
  const steps: Step[] = [];
  if (!account.usageLocation) {
    const country = usageLocationFor(account, ctx);
    if (!country) return refuse('DOCTOR_COUNTRY_UNKNOWN', { upn: account.userPrincipalName });
    steps.push({ kind: 'setUsageLocation', usageLocation: country, ifMissing: true });
  }
  steps.push({ kind: 'assignLicense', license: 'resourceAccount' });
  return ok(steps);
}

/**
 * A broken account cannot be repaired: "create a new resource account using the Teams Phone Resource
 * Account license and remove the broken resource account" (virtual-user.md; teams-apis.md §1.4). The
 * new one takes the old one's name, type, usage location, number and AA/CQ; the old one is deleted last,
 * once nothing is left on it (the delete step re-checks, F1 and F15).
 */
function replacement(old: ResourceAccount, ctx: FixContext): Result<NewPlan> {
  const country = old.usageLocation ?? usageLocationFor(old, ctx);
  if (!country) return refuse('DOCTOR_COUNTRY_UNKNOWN', { upn: old.userPrincipalName });
  const sku = findSku(ctx.facts, 'resourceAccount');
  if (!sku.ok) return sku;
  const noSeat = checkFreeSeat(sku.value);
  if (noSeat) return noSeat;
  const at = old.userPrincipalName.lastIndexOf('@');
  const upn = freeUpn(old.userPrincipalName.slice(0, at), old.userPrincipalName.slice(at + 1), ctx.scan, true);
  const of = { id: old.id, userPrincipalName: old.userPrincipalName };
  const steps: Step[] = [
    { kind: 'createAccount', userPrincipalName: upn, displayName: old.displayName, accountType: old.accountType },
    { kind: 'setUsageLocation', usageLocation: country },
    { kind: 'assignLicense', license: 'resourceAccount' },
  ];
  const number = numbersOn(ctx.scan, old)[0];
  if (number) {
    steps.push(
      { kind: 'unassignNumber', telephoneNumber: number.telephoneNumber, numberType: number.numberType, of },
      { kind: 'awaitLicense' },
      { kind: 'assignNumber', telephoneNumber: number.telephoneNumber, numberType: number.numberType },
    );
  }
  for (const a of old.associations) {
    steps.push({ kind: 'associate', configurationId: a.configurationId, configurationType: a.configurationType, name: a.name });
    steps.push({ kind: 'dissociate', configurationId: a.configurationId, name: a.name, of });
  }
  steps.push({ kind: 'deleteAccount', of });
  return ok({ kind: 'replaceAccount', account: { id: null, userPrincipalName: upn, displayName: old.displayName }, requestedBy: ctx.actor, steps });
}

/** An AA/CQ whose account is gone gets a new, licensed one of its type (the seed's lifecycle, steps 2–4). */
function newAccountFor(app: VoiceApplication, ctx: FixContext): Result<NewPlan> {
  const domain = ctx.facts.domains.find((d) => d.isDefault && d.isOnline) ?? ctx.facts.domains.find((d) => d.isOnline);
  if (!domain) return refuse('UPN_DOMAIN_NOT_ONLINE', { domain: ctx.facts.domains[0]?.name ?? '—' });
  const country = ctx.facts.countryLetterCode;
  if (!country) return refuse('DOCTOR_COUNTRY_UNKNOWN', { upn: app.name });
  const sku = findSku(ctx.facts, 'resourceAccount');
  if (!sku.ok) return sku;
  const noSeat = checkFreeSeat(sku.value);
  if (noSeat) return noSeat;
  const upn = freeUpn(`${PREFIX[app.configurationType]}-${slug(app.name)}`, domain.name, ctx.scan);
  const displayName = app.name.trim().slice(0, 256) || upn;
  return ok({
    kind: 'addAccount',
    account: { id: null, userPrincipalName: upn, displayName },
    requestedBy: ctx.actor,
    steps: [
      { kind: 'createAccount', userPrincipalName: upn, displayName, accountType: app.configurationType },
      { kind: 'setUsageLocation', usageLocation: country },
      { kind: 'assignLicense', license: 'resourceAccount' },
      { kind: 'associate', configurationId: app.configurationId, configurationType: app.configurationType, name: app.name },
    ],
  });
}

const PREFIX: Record<AccountType, string> = { autoAttendant: 'aa', callQueue: 'cq' };

/** A username from a voice application's name: Entra's allowed characters only (DOMAIN.md, teams-apis.md §4). */
function slug(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return ascii.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'voice-app';
}

/**
 * `local@domain`, or `local-2@domain`, `local-3@domain`…: the first no account or user of the scan
 * holds. A replacement starts at -2 (cq-billing → cq-billing-2); the old name is kept whole, so that
 * "aa-1" becomes "aa-1-2", never a name that reads like another account's.
 */
function freeUpn(local: string, domain: string, scan: TenantScan, replacing = false): string {
  const taken = new Set([...scan.accounts, ...scan.usersWithResourceAccountLicense].map((a) => a.userPrincipalName.toLowerCase()));
  for (let n = replacing ? 2 : 1; ; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const candidate = `${local.slice(0, UPN_MAX_LOCAL - suffix.length)}${suffix}@${domain}`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}
