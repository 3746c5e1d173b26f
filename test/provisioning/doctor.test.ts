import type { TenantScan, VoiceApplication } from '../../src/provisioning/directory';
import { diagnose, type Finding } from '../../src/provisioning/doctor';
import { buildFix } from '../../src/provisioning/doctorFixes';
import type { LicenseSku, PhoneNumber, ResourceAccount, TenantFacts } from '../../src/provisioning/model';

/** The doctor's rules one by one, on the smallest scan that shows each (src/provisioning/doctor.ts). */

const RA: LicenseSku = { skuId: 'ra', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER', kind: 'resourceAccount', enabled: 25, consumed: 1 };
const PS: LicenseSku = { skuId: 'ps', skuPartNumber: 'MCOEV', kind: 'phoneSystem', enabled: 5, consumed: 5 };
const FACTS: TenantFacts = {
  tenantId: 't',
  displayName: 'T',
  domains: [{ name: 'contoso.onmicrosoft.com', isDefault: true, isOnline: true }],
  skus: [RA, PS],
  countryLetterCode: 'US',
};
const AA = { configurationId: 'c-aa', configurationType: 'autoAttendant' as const, name: 'Main' };
const CQ = { configurationId: 'c-cq', configurationType: 'callQueue' as const, name: 'Queue' };

/** A healthy AA account: licensed, US, used by AA "Main". */
function account(over: Partial<ResourceAccount> = {}): ResourceAccount {
  return {
    id: 'A1',
    userPrincipalName: 'aa-1@contoso.com',
    displayName: 'One',
    accountType: 'autoAttendant',
    accountEnabled: false,
    usageLocation: 'US',
    assignedLicenses: ['ra'],
    phoneNumber: null,
    associations: [AA],
    broken: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function number(telephoneNumber: string, over: Partial<PhoneNumber> = {}): PhoneNumber {
  return {
    telephoneNumber,
    numberType: 'callingPlan',
    tollFree: false,
    capabilities: ['voiceApplicationAssignment'],
    activationState: 'activated',
    assignmentStatus: 'voiceApplicationAssigned',
    assignmentTargetId: 'a1',
    isoCountryCode: 'US',
    assignmentBlocked: false,
    ...over,
  };
}

function scan(accounts: ResourceAccount[], numbers: PhoneNumber[] = [], apps?: VoiceApplication[]): TenantScan {
  const voiceApplications = apps ?? [{ ...AA, accountIds: accounts.filter((a) => a.associations.length).map((a) => a.id) }];
  return { accounts, numbers, voiceApplications, usersWithResourceAccountLicense: [] };
}

const codes = (s: TenantScan) => diagnose(s, FACTS).findings.map((f) => f.code);

describe('diagnose', () => {
  it('finds nothing in a healthy tenant (ids compared whatever their case)', () => {
    expect(codes(scan([account()], [number('+14255550100', { assignmentTargetId: 'a1' })]))).toEqual([]);
  });

  it.each<[string, TenantScan, string[]]>([
    ['a broken account: that alone, the rest does not matter any more', scan([account({ broken: true, accountEnabled: true, assignedLicenses: [] })]), ['BROKEN_BY_LICENSE_SWITCH']],
    ['sign-in enabled', scan([account({ accountEnabled: true })]), ['SIGN_IN_ENABLED']],
    ['unlicensed with a number: F3, not also "unlicensed"', scan([account({ assignedLicenses: [] })], [number('+14255550100')]), ['NUMBER_ON_UNLICENSED_ACCOUNT']],
    ['unlicensed, used by an AA', scan([account({ assignedLicenses: [] })]), ['VOICE_APP_ACCOUNT_UNLICENSED']],
    ['unlicensed and unused', scan([account({ assignedLicenses: [], associations: [] })], [], []), ['ACCOUNT_UNLICENSED', 'ACCOUNT_UNUSED']],
    ['Teams Phone Standard', scan([account({ assignedLicenses: ['ps'] })]), ['PHONE_STANDARD_ON_RESOURCE_ACCOUNT']],
    ['a license without usage location', scan([account({ usageLocation: null })]), ['LICENSE_WITHOUT_USAGE_LOCATION']],
    ['a user number', scan([account()], [number('+14255550200', { capabilities: ['userAssignment'] })]), ['USER_NUMBER_ON_RESOURCE_ACCOUNT']],
    ['a French number on a US account', scan([account()], [number('+33170000100', { isoCountryCode: 'FR' })]), ['NUMBER_COUNTRY_MISMATCH']],
    // F17: a Direct Routing number without a country is judged by its calling code when that names one country…
    ['a +33 Direct Routing number without a country on a US account', scan([account()], [number('+33170009999', { numberType: 'directRouting', isoCountryCode: null })]), ['NUMBER_COUNTRY_MISMATCH']],
    // …and left alone when it does not (+1 is shared by several countries).
    ['a +1 Direct Routing number without a country on a French account', scan([account({ usageLocation: 'FR' })], [number('+14255559999', { numberType: 'directRouting', isoCountryCode: null })]), []],
    ['an AA account serving a CQ', scan([account({ associations: [CQ] })], [], [{ ...CQ, accountIds: ['A1'] }]), ['TYPE_DIFFERS_FROM_VOICE_APP']],
    ['a number on an object that no longer exists', scan([account()], [number('+14255550140', { assignmentTargetId: 'gone', activationState: 'assignmentPending' })]), ['NUMBER_STUCK_PENDING']],
    ['an AA that lists only a gone account', scan([], [], [{ ...AA, accountIds: ['gone'] }]), ['VOICE_APP_ACCOUNT_GONE']],
    ['an AA that lists a gone account and a live one: it still answers', scan([account()], [], [{ ...AA, accountIds: ['gone', 'A1'] }]), []],
    ['an AA with no account at all: not "gone"', scan([], [], [{ ...AA, accountIds: [] }]), []],
  ])('%s', (_case, s, expected) => {
    expect(codes(s)).toEqual(expected);
  });

  it('reports the Resource Account license on users, and counts the paid seats a switch frees', () => {
    const s = scan([account({ assignedLicenses: ['ps'] }), account({ id: 'A2', userPrincipalName: 'aa-2@contoso.com', assignedLicenses: ['ps', 'ra'] })]);
    s.voiceApplications = [{ ...AA, accountIds: ['A1', 'A2'] }];
    s.usersWithResourceAccountLicense = [{ id: 'U1', userPrincipalName: 'lee@contoso.com', displayName: 'Lee', assignedLicenses: ['ra'] }];
    const { findings, phoneStandardSeatsFreed } = diagnose(s, FACTS);
    expect(findings.map((f) => [f.code, f.subjectId])).toEqual([
      ['PHONE_STANDARD_ON_RESOURCE_ACCOUNT', 'A1'],
      ['PHONE_STANDARD_ON_RESOURCE_ACCOUNT', 'A2'],
      ['RESOURCE_LICENSE_ON_USER', 'U1'],
    ]);
    expect(phoneStandardSeatsFreed).toBe(2);
  });
});

describe('buildFix', () => {
  const actor = { aadObjectId: 'x', name: 'X' };
  const finding = (code: Finding['code'], subjectId: string, params: Record<string, string> = {}): Finding => ({ code, severity: 'error', subjectId, params });

  it('names a new account after its voice application, in the default online domain, the first free username', () => {
    const s = scan([account({ id: 'A9', userPrincipalName: 'cq-queue-d-ete@contoso.onmicrosoft.com', associations: [] })], [], [{ ...CQ, name: 'Queue d’été', accountIds: ['gone'] }]);
    const fix = buildFix(finding('VOICE_APP_ACCOUNT_GONE', 'c-cq'), { scan: s, facts: FACTS, actor });
    expect(fix).toMatchObject({ ok: true, value: { kind: 'addAccount', account: { userPrincipalName: 'cq-queue-d-ete-2@contoso.onmicrosoft.com', displayName: 'Queue d’été' } } });
  });

  it('replaces a broken account under the next free name, moving its number and AA, deleting it last', () => {
    const old = account({ broken: true });
    const fix = buildFix(finding('BROKEN_BY_LICENSE_SWITCH', 'A1'), { scan: scan([old], [number('+14255550100')]), facts: FACTS, actor });
    if (!fix.ok) throw new Error(fix.reason);
    expect(fix.value.account.userPrincipalName).toBe('aa-1-2@contoso.com');
    expect(fix.value.steps.map((s) => [s.kind, 'of' in s && s.of ? 'old' : 'new'])).toEqual([
      ['createAccount', 'new'],
      ['setUsageLocation', 'new'],
      ['assignLicense', 'new'],
      ['unassignNumber', 'old'],
      ['awaitLicense', 'new'],
      ['assignNumber', 'new'],
      ['associate', 'new'],
      ['dissociate', 'old'],
      ['deleteAccount', 'old'],
    ]);
  });

  it.each<[string, Finding, TenantFacts, string]>([
    ['no Resource Account seat left', finding('ACCOUNT_UNLICENSED', 'A1'), { ...FACTS, skus: [{ ...RA, consumed: 25 }] }, 'LICENSE_NO_FREE_SEAT'],
    ['no country to give it', finding('LICENSE_WITHOUT_USAGE_LOCATION', 'A1'), { ...FACTS, countryLetterCode: null }, 'DOCTOR_COUNTRY_UNKNOWN'],
    ['a finding with no fix', finding('NUMBER_STUCK_PENDING', '+14255550140'), FACTS, 'DOCTOR_NO_FIX'],
  ])('refuses when there is %s', (_case, f, facts, reason) => {
    const s = scan([account({ assignedLicenses: [], usageLocation: null, associations: [] })], [], []);
    expect(buildFix(f, { scan: s, facts, actor })).toMatchObject({ ok: false, reason });
  });
});
