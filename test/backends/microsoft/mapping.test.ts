import { accountTypeOf } from '../../../src/backends/microsoft/powershell/cmdlets';
import { toDomains, toLicenseProvisioning, toLicenseSkus, toNumberOperation, toPhoneNumber } from '../../../src/backends/microsoft/graph/mapping';
import type { NumberAssignmentRecord, SubscribedSku } from '../../../src/backends/microsoft/graph/schemas';
import { operationIdOf } from '../../../src/backends/microsoft/telephony';

/** Graph records → the domain model (teams-apis.md §1.5, §1.7, §2). */

const record = (extra: Partial<NumberAssignmentRecord> = {}): NumberAssignmentRecord => ({
  telephoneNumber: '+14255550101',
  numberType: 'callingPlan',
  activationState: 'activated',
  assignmentStatus: 'unassigned',
  capabilities: ['voiceApplicationAssignment', 'conferenceAssignment'],
  assignmentTargetId: null,
  isoCountryCode: 'US',
  city: 'Redmond',
  ...extra,
});

describe('numberAssignment → PhoneNumber', () => {
  it('maps a service number', () => {
    expect(toPhoneNumber(record())).toEqual({
      telephoneNumber: '+14255550101',
      numberType: 'callingPlan',
      tollFree: false,
      capabilities: ['voiceApplicationAssignment', 'conferenceAssignment'],
      activationState: 'activated',
      assignmentStatus: 'unassigned',
      assignmentTargetId: null,
      isoCountryCode: 'US',
      city: 'Redmond',
      assignmentBlocked: false,
    });
  });

  it.each([
    ['a number without "+"', record({ telephoneNumber: '18005550100' }), { telephoneNumber: '+18005550100', tollFree: true }],
    ['an empty target', record({ assignmentTargetId: '' }), { assignmentTargetId: null }],
    ['a future capability', record({ capabilities: ['voiceApplicationAssignment', 'unknownFutureValue'] }), { capabilities: ['voiceApplicationAssignment'] }],
    ['a French toll-free number', record({ telephoneNumber: '+33805000100', isoCountryCode: 'fr' }), { tollFree: true, isoCountryCode: 'FR' }],
  ])('maps %s', (_name, input, expected) => {
    expect(toPhoneNumber(input)).toMatchObject(expected);
  });

  it.each([
    ['numberType internalError', record({ numberType: 'internalError' })],
    ['a policy-assigned number', record({ assignmentStatus: 'policyAssigned' })],
    ['a third-party app number', record({ assignmentStatus: 'thirdPartyAppAssigned' })],
    ['no country', record({ isoCountryCode: null })],
  ])('leaves out what no resource account can take: %s', (_name, input) => {
    expect(toPhoneNumber(input)).toBeNull();
  });
});

describe('subscribedSkus → license SKUs', () => {
  const sku = (skuPartNumber: string, plans: string[], enabled = 10, consumed = 4): SubscribedSku => ({
    skuId: `${skuPartNumber}-id`,
    skuPartNumber,
    consumedUnits: consumed,
    prepaidUnits: { enabled },
    servicePlans: plans.map((servicePlanId) => ({ servicePlanId })),
  });
  const VU = 'f47330e9-c134-43b3-9993-e7f004506889';
  const VU_GOV = '0628a73f-3b4a-4989-bd7b-0f8823144313';
  const MCOEV = '4828c8ec-dc2e-4779-b502-87ac9ce28ab7';

  it('finds Resource Account SKUs by plan (GCC too), Phone System only as a standalone MCOEV product', () => {
    const skus = toLicenseSkus([
      sku('SPE_E5', [MCOEV, '57ff2da0-773e-42df-b2af-ffb7a2317929'], 100, 20),
      sku('MCOEV', [MCOEV], 5, 5),
      sku('PHONESYSTEM_VIRTUALUSER', [VU], 25, 24),
      sku('PHONESYSTEM_VIRTUALUSER_GOV', [VU_GOV], 25, 5),
      sku('ENTERPRISEPACK', ['x']),
    ]);
    expect(skus.map((s) => [s.skuPartNumber, s.kind, s.enabled, s.consumed])).toEqual([
      ['PHONESYSTEM_VIRTUALUSER_GOV', 'resourceAccount', 25, 5],
      ['PHONESYSTEM_VIRTUALUSER', 'resourceAccount', 25, 24],
      ['MCOEV', 'phoneSystem', 5, 5],
    ]);
  });

  it.each([
    [[{ servicePlanId: VU, provisioningStatus: 'Success' }], 'success'],
    [[{ servicePlanId: VU, provisioningStatus: 'PendingProvisioning' }], 'pending'],
    [[{ servicePlanId: MCOEV, provisioningStatus: 'PendingActivation' }], 'pending'],
    [[{ servicePlanId: VU, provisioningStatus: 'Error' }], 'error'],
    [[{ servicePlanId: 'other', provisioningStatus: 'Success' }], 'none'],
  ])('reads licenseDetails %j as %s', (servicePlans, expected) => {
    expect(toLicenseProvisioning([{ skuId: 's', servicePlans }])).toBe(expected);
  });
});

describe('other records', () => {
  it('calls a domain online when it has the OfficeCommunicationsOnline capability', () => {
    expect(
      toDomains({
        id: 't',
        verifiedDomains: [
          { name: 'contoso.onmicrosoft.com', isDefault: true, capabilities: 'Email, OfficeCommunicationsOnline' },
          { name: 'mail.contoso.com', capabilities: 'Email' },
        ],
      }),
    ).toEqual([
      { name: 'contoso.onmicrosoft.com', isDefault: true, isOnline: true },
      { name: 'mail.contoso.com', isDefault: false, isOnline: false },
    ]);
  });

  it.each([
    ['succeeded', { status: 'succeeded' }],
    ['failed', { status: 'failed', statusDetail: 'The user is not found', reason: 'ACCOUNT_NOT_YET_VISIBLE' }],
    ['skipped', { status: 'failed', statusDetail: 'The user is not found' }],
    ['unknownFutureValue', { status: 'failed', statusDetail: 'The user is not found' }],
  ])('reads an operation "%s" conservatively', (status, expected) => {
    const op = toNumberOperation({ id: 'op', status, numbers: [{ statusDetail: 'The user is not found' }] }, '+1');
    expect(op).toEqual({ id: 'op', telephoneNumber: '+1', ...expected });
  });

  it.each([
    ["https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/operations('QXNzaWdu')", 'QXNzaWdu'],
    ['https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/operations/abc%3D', 'abc='],
    ['https://graph.microsoft.com/v1.0/somewhere/else', null],
    [null, null],
  ])('takes the operation id from the Location %s', (location, id) => {
    expect(operationIdOf(location)).toBe(id);
  });

  it.each([
    ['ce933385-9390-45d1-9512-c8d228074e07', 'autoAttendant'],
    ['11CD3E2E-FCCB-42AD-AD00-878B93575E07', 'callQueue'],
    ['00000000-0000-0000-0000-000000000000', null],
    [null, null],
  ])('tells the account type from ApplicationId %s', (applicationId, type) => {
    expect(accountTypeOf(applicationId)).toBe(type);
  });
});
