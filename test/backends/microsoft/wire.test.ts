import { DEMO } from '../../../src/backends/simulated/seed';
import { SERVICE_PLANS } from '../../../src/provisioning/model';
import { refusalOf } from '../../contract/expect';
import { openOverFake, type OverFake } from './helpers';

/** What the Microsoft backend puts on the wire, checked on the fake Graph's records (teams-apis.md §1–§2). */

jest.setTimeout(60_000);

const RA = DEMO.skus.resourceAccount.skuId;
const PS = DEMO.skus.phoneSystem.skuId;
const A = DEMO.accounts;
const N = DEMO.numbers;
const LICENSE = /\/assignLicense$/;
const MINUTE = 60_000;

let env: OverFake;
afterEach(() => env.close());

describe('licenses', () => {
  beforeEach(async () => {
    env = await openOverFake();
  });

  it('switches Phone System → Resource Account with ONE assignLicense call carrying both lists (F2)', async () => {
    await env.sut.assignLicense(A.reception.id, { addSkuIds: [RA], removeSkuIds: [PS] });
    expect(env.fake.calls('POST', LICENSE).map((r) => [r.path, r.body])).toEqual([
      [`/users/${A.reception.id}/assignLicense`, { addLicenses: [{ skuId: RA, disabledPlans: [] }], removeLicenses: [PS] }],
    ]);
  });

  it('always sends removeLicenses, even empty, and sends nothing for a license already held', async () => {
    await env.sut.assignLicense(A.paris.id, { addSkuIds: [RA], removeSkuIds: [] });
    await env.sut.assignLicense(A.paris.id, { addSkuIds: [RA], removeSkuIds: [] });
    expect(env.fake.calls('POST', LICENSE).map((r) => r.body)).toEqual([{ addLicenses: [{ skuId: RA, disabledPlans: [] }], removeLicenses: [] }]);
  });

  it('finds the SKUs by service plan in each tenant, never by one hard-coded GUID, and leaves bundles out', async () => {
    const facultyId = '0e142028-345e-45da-8d92-8bfd4093bbb9';
    const sku = env.fake.tenant.state.skus[0];
    if (sku) Object.assign(sku, { skuId: facultyId, skuPartNumber: 'PHONESYSTEM_VIRTUALUSER_FACULTY' });
    await env.sut.close(); // drops the cached facts
    const facts = await env.sut.getTenantFacts();
    expect(facts.skus.map((s) => [s.skuId, s.skuPartNumber, s.kind])).toEqual([
      [facultyId, 'PHONESYSTEM_VIRTUALUSER_FACULTY', 'resourceAccount'],
      [PS, 'MCOEV', 'phoneSystem'],
    ]);
    expect(facts.skus.map((s) => s.skuPartNumber)).not.toContain('SPE_E5');
    expect(SERVICE_PLANS.resourceAccount.servicePlanId).toBe('f47330e9-c134-43b3-9993-e7f004506889');
  });

  it('selects the properties Graph only returns when asked for (§1.2)', async () => {
    await env.sut.getAccount(A.mainLine.id);
    const [read] = env.fake.calls('GET', new RegExp(`^/users/${A.mainLine.id}$`));
    expect(read?.query.$select?.split(',')).toEqual(expect.arrayContaining(['usageLocation', 'assignedLicenses', 'accountEnabled', 'department']));
  });

  it('maps a usage-location refusal the tenant gives despite the pre-check', async () => {
    env.fake.inject({
      method: 'POST',
      path: LICENSE,
      times: 1,
      status: 400,
      body: { error: { code: 'Request_BadRequest', message: 'License assignment cannot be done for user with invalid usage location.' } },
    });
    expect((await refusalOf(env.sut.assignLicense(A.paris.id, { addSkuIds: [RA], removeSkuIds: [] }))).reason).toBe('LICENSE_USAGE_LOCATION_MISSING');
  });

  it('retries a throttled assignLicense and assigns once', async () => {
    env.fake.inject({ method: 'POST', path: LICENSE, times: 1, status: 429, headers: { 'retry-after': '3' } });
    await env.sut.assignLicense(A.paris.id, { addSkuIds: [RA], removeSkuIds: [] });
    expect(env.clock.waits).toContain(3_000);
    expect(env.fake.tenant.state.skus[0]?.consumed).toBe(DEMO.skus.resourceAccount.consumed + 1);
  });
});

describe('numbers', () => {
  it('posts assignNumber, follows the 202 Location and polls the operation with backoff until it succeeds', async () => {
    env = await openOverFake({ slowness: { numberOperationMs: 3_000 } });
    const op = await env.sut.assignNumber({ telephoneNumber: N.frToll[0]!, numberType: 'callingPlan', assignmentTargetId: A.supportFr.id });
    expect(op).toEqual({ id: expect.any(String), status: 'succeeded', telephoneNumber: N.frToll[0] });
    expect(env.fake.calls('POST', /assignNumber$/).map((r) => r.body)).toEqual([
      { telephoneNumber: N.frToll[0], assignmentTargetId: A.supportFr.id, numberType: 'callingPlan', assignmentCategory: 'primary' },
    ]);
    // Read at once, then after 0.5 s, 1.5 s and 3.5 s (fake time), when the 3-second operation is done.
    expect(env.fake.calls('GET', /\/operations\//).length).toBe(4);
    expect(env.clock.waits).toEqual([500, 1_000, 2_000]);
  });

  it('returns a long operation as running and lets the caller poll it later', async () => {
    env = await openOverFake({ slowness: { numberOperationMs: 10 * MINUTE } });
    const op = await env.sut.unassignNumber({ telephoneNumber: N.mainLine, numberType: 'callingPlan' });
    expect(op.status).toBe('running');
    expect(env.fake.calls('POST', /unassignNumber$/).map((r) => r.body)).toEqual([{ telephoneNumber: N.mainLine, numberType: 'callingPlan' }]);
    env.clock.advance(10 * MINUTE);
    expect(await env.sut.getNumberOperation(op.id)).toEqual({ id: op.id, status: 'succeeded', telephoneNumber: N.mainLine });
  });

  it.each([
    ['a number taken in the meantime', "Telephone Number '+33170000100' has already been assigned to another user", 'NUMBER_ALREADY_ASSIGNED'],
    ['the misleading "on-premises" text', "The user 'x' already has a telephone number set in the on-premises Active Directory.", 'NUMBER_ACCOUNT_NOT_LICENSED'],
  ])('maps %s from a 400 on assignNumber', async (_name, message, reason) => {
    env = await openOverFake();
    env.fake.inject({ method: 'POST', path: /assignNumber$/, times: 1, status: 400, body: { error: { code: 'BadRequest', message } } });
    const refusal = await refusalOf(env.sut.assignNumber({ telephoneNumber: N.frToll[0]!, numberType: 'callingPlan', assignmentTargetId: A.supportFr.id }));
    expect(refusal.reason).toBe(reason);
  });

  it('reads "user not found" right after creation as "not yet visible" (F13)', async () => {
    env = await openOverFake();
    const created = await env.sut.createAccount({ userPrincipalName: 'cq-new@contoso.com', displayName: 'New', accountType: 'callQueue' });
    await env.sut.setUsageLocation(created.id, 'US');
    await env.sut.assignLicense(created.id, { addSkuIds: [RA], removeSkuIds: [] });
    env.fake.inject({ method: 'POST', path: /assignNumber$/, times: 1, status: 400, body: { error: { code: 'BadRequest', message: `The user '${created.id}' is not found` } } });
    const refusal = await refusalOf(env.sut.assignNumber({ telephoneNumber: N.usToll[0]!, numberType: 'callingPlan', assignmentTargetId: created.id }));
    expect(refusal.reason).toBe('ACCOUNT_NOT_YET_VISIBLE');
  });
});

describe('what the backend will not touch', () => {
  beforeEach(async () => {
    env = await openOverFake();
  });

  it('refuses to delete an account that still holds a number, and sends no DELETE (F1)', async () => {
    expect(await refusalOf(env.sut.deleteAccount(A.mainLine.id))).toMatchObject({ reason: 'DELETE_NUMBER_STILL_ASSIGNED', params: { number: N.mainLine } });
    expect(env.fake.calls('DELETE', /^\/users\//)).toEqual([]);
  });

  it('sees an ordinary user as no account of ours, but as a UPN in use', async () => {
    const [user] = [...env.fake.tenant.users.values()];
    if (!user) throw new Error('the fake has an ordinary user');
    expect(await env.sut.getAccount(user.id)).toBeNull();
    expect(await env.sut.findAccountByUpn(user.userPrincipalName)).toBeNull();
    expect((await refusalOf(env.sut.deleteAccount(user.id))).reason).toBe('ACCOUNT_NOT_FOUND');
    expect((await refusalOf(env.sut.setUsageLocation(user.id, 'FR'))).reason).toBe('ACCOUNT_NOT_FOUND');
    const taken = await refusalOf(env.sut.createAccount({ userPrincipalName: user.userPrincipalName, displayName: 'x', accountType: 'autoAttendant' }));
    expect(taken).toMatchObject({ reason: 'UPN_IN_USE', field: 'username' });
    expect(env.fake.calls('DELETE', /^\/users\//)).toEqual([]);
    expect(env.fake.calls('PATCH', /^\/users\//)).toEqual([]);
    expect(env.fake.pwshCalls.map((c) => c.cmdlet)).not.toContain('New-CsOnlineApplicationInstance');
  });

  it('never puts an id that is not a GUID into a URL or a filter', async () => {
    const before = env.fake.requests.length;
    expect(await env.sut.getAccount("x' or 1 eq 1")).toBeNull();
    expect(env.fake.requests.length).toBe(before);
  });
});
