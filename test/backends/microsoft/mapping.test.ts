import { accountTypeOf } from '../../../src/backends/microsoft/powershell/cmdlets';
import { toDomains, toLicenseProvisioning, toLicenseSkus, toNumberOperation, toPhoneNumber } from '../../../src/backends/microsoft/graph/mapping';
import { NumberAssignmentSchema, NumberOperationSchema, type NumberAssignmentRecord, type SubscribedSku } from '../../../src/backends/microsoft/graph/schemas';
import { numberOfResourceLocation, operationIdOf } from '../../../src/backends/microsoft/telephony';
import documented from '../../fakes/fixtures/graph-numberassignments.json';
import operationPage from '../../fakes/fixtures/graph-telephonenumberlongrunningoperation.json';

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
  ])('leaves out what no resource account can take: %s', (_name, input) => {
    expect(toPhoneNumber(input)).toBeNull();
  });
});

describe("Microsoft's documented numberAssignment records (fixtures/graph-numberassignments.json)", () => {
  const all = [...documented.example1, ...documented.example2, ...documented.example4];

  it.each(all.map((r) => [`${r.telephoneNumber} (${r.numberType}, country ${String(r.isoCountryCode)})`, r] as const))('parses and keeps %s', (_name, raw) => {
    const parsed = NumberAssignmentSchema.parse(raw);
    const number = toPhoneNumber(parsed);
    expect(number).toMatchObject({ telephoneNumber: raw.telephoneNumber, numberType: raw.numberType, isoCountryCode: raw.isoCountryCode });
  });

  it('keeps a Direct Routing number without a country, with its capabilities (F17)', () => {
    const [dr] = documented.example2;
    expect(toPhoneNumber(NumberAssignmentSchema.parse(dr))).toEqual({
      telephoneNumber: '+1123457',
      numberType: 'directRouting',
      tollFree: false,
      capabilities: ['conferenceAssignment', 'voiceApplicationAssignment', 'userAssignment'],
      activationState: 'activated',
      assignmentStatus: 'unassigned',
      assignmentTargetId: null,
      isoCountryCode: null,
      assignmentBlocked: false,
    });
  });

  it('reads an empty IsoCountryCode (Get-CsPhoneNumberAssignment Example 2) as no country', () => {
    expect(toPhoneNumber(record({ numberType: 'directRouting', isoCountryCode: '' }))?.isoCountryCode).toBeNull();
  });
});

describe('a telephone number operation (fixtures/graph-telephonenumberlongrunningoperation.json)', () => {
  it('reads the wrapped entity of the Get page and the bare one alike', () => {
    const wrapped = NumberOperationSchema.parse(operationPage.response);
    const bare = NumberOperationSchema.parse(operationPage.response.value);
    expect(wrapped).toEqual(bare);
    expect(toNumberOperation(wrapped, '+12061234567')).toEqual({ id: 'QXNzaWdubWVudHw2Y2E4Yjc0Ni00YzgxLTRhY2EtOTUyNi1jZmNjNGRiYWYyMmI', status: 'succeeded', telephoneNumber: '+12061234567' });
  });

  it.each([
    [operationPage.response.value.numbers[0]!.resourceLocation, '+12061234567'],
    ["https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/numberAssignments('+33170000100')", '+33170000100'],
    [`https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/${Buffer.from('x|+12065551000;ext=524').toString('base64url')}`, '+12065551000;ext=524'],
    ['https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/bm90IGEgbnVtYmVy', null],
    [null, null],
  ])('decodes the number of resourceLocation %s', (location, number) => {
    expect(numberOfResourceLocation(location)).toBe(number);
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

  it('recognises Phone System of every cloud from the licensing table: commercial, GCC and SMB (servicePlans.ts)', () => {
    const MCOEV_GOV = 'db23fce2-a974-42ef-9002-d78dd42a0f22';
    const MCOEVSMB = 'ed777b71-af04-42ca-9798-84344c66f7c6';
    const FOUNDATION_GOV = '922ba911-5694-4e99-a794-73aed9bfeec8';
    const skus = toLicenseSkus([
      sku('MCOEV_GOV', [FOUNDATION_GOV, MCOEV_GOV], 10, 1),
      sku('MCOEVSMB_1', [MCOEVSMB], 10, 2),
      sku('MCOEV', [MCOEV], 10, 3),
      // Teams Rooms Standard for GCC and Teams Shared Devices carry a phone plan too: never offered.
      sku('MEETING_ROOM_GOV', ['41781fb2-bc02-4b7c-bd55-b576c07bb09d', MCOEV_GOV, '304767db-7d23-49e8-a945-4a7eb65f9f28']),
      sku('MCOCAP', [MCOEV, '57ff2da0-773e-42df-b2af-ffb7a2317929']),
    ]);
    expect(skus.map((s) => [s.skuPartNumber, s.kind])).toEqual([
      ['MCOEV_GOV', 'phoneSystem'],
      ['MCOEVSMB_1', 'phoneSystem'],
      ['MCOEV', 'phoneSystem'],
    ]);
    expect(toLicenseProvisioning([{ skuId: 's', servicePlans: [{ servicePlanId: MCOEVSMB, provisioningStatus: 'Success' }] }])).toBe('success');
    expect(toLicenseProvisioning([{ skuId: 's', servicePlans: [{ servicePlanId: MCOEV_GOV, provisioningStatus: 'PendingActivation' }] }])).toBe('pending');
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
