import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SimulatedTenant, type SimulatedTenantOptions } from '../../src/backends/simulated/tenant';
import { DEMO, demoTenant } from '../../src/backends/simulated/seed';
import { copyOf, type StoredAccount } from '../../src/backends/simulated/state';
import { freeSeats, type NumberType } from '../../src/provisioning/model';
import { DirectoryRefusal, type MessageParams, type ReasonCode } from '../../src/provisioning/result';

const TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';
const RA = DEMO.skus.resourceAccount.skuId;
/** Resource Account seats the demo tenant holds (src/backends/simulated/seed.ts). */
const RA_HELD = DEMO.skus.resourceAccount.consumed;
const PS = DEMO.skus.phoneSystem.skuId;
const A = DEMO.accounts;
const N = DEMO.numbers;
const V = DEMO.voiceApps;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MINUTE = 60_000;
const FREE = { assignmentStatus: 'unassigned', assignmentTargetId: null, activationState: 'activated' };
/** The tenant's misleading words for "not licensed" (teams-apis.md §3.5). */
const FAILED_UNLICENSED = { status: 'failed', statusDetail: expect.stringContaining('on-premises Active Directory') };

/** Time only moves when a test says so. */
class FakeClock {
  private t = Date.parse('2026-03-02T09:00:00.000Z');
  readonly now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
}

let dir: string;
let file: string;
let clock: FakeClock;
let sut: SimulatedTenant;

function open(options: Partial<SimulatedTenantOptions> = {}): Promise<SimulatedTenant> {
  return SimulatedTenant.open({ file, tenantId: TENANT_ID, now: clock.now, ...options });
}

/** Close and open the same file again: a restart of the process. */
async function restart(options: Partial<SimulatedTenantOptions> = {}): Promise<void> {
  await sut.close();
  sut = await open(options);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-simulated-'));
  file = path.join(dir, 'tenant.json');
  clock = new FakeClock();
  sut = await open();
});

afterEach(async () => {
  await sut.close();
  await rm(dir, { recursive: true, force: true });
});

/** Everything the port can see. */
async function snapshot() {
  return {
    facts: await sut.getTenantFacts(),
    accounts: await sut.listAccounts({ offset: 0, limit: 10_000 }),
    numbers: await sut.listPhoneNumbers({ offset: 0, limit: 10_000 }),
    voiceApps: await sut.listVoiceApplications(),
  };
}

async function refusalOf(action: Promise<unknown>): Promise<DirectoryRefusal> {
  const outcome = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof DirectoryRefusal)) throw new Error(`expected a DirectoryRefusal, got ${String(outcome)}`);
  return outcome;
}

/** The tenant refuses with `reason` and changes nothing. */
async function expectRefusal(act: () => Promise<unknown>, reason: ReasonCode, params: MessageParams = {}) {
  const before = await snapshot();
  const refusal = await refusalOf(act());
  expect({ reason: refusal.reason, params: refusal.params }).toMatchObject({ reason, params });
  expect(await snapshot()).toEqual(before);
}

async function account(id: string) {
  const found = await sut.getAccount(id);
  if (!found) throw new Error(`no account ${id}`);
  return found;
}

async function sku(skuId: string) {
  const found = (await sut.getTenantFacts()).skus.find((s) => s.skuId === skuId);
  if (!found) throw new Error(`no sku ${skuId}`);
  return found;
}

const newAccount = (userPrincipalName: string, accountType: 'autoAttendant' | 'callQueue' = 'autoAttendant') =>
  sut.createAccount({ userPrincipalName, displayName: 'New account', accountType });
const assign = (assignmentTargetId: string, telephoneNumber: string, numberType: NumberType = 'callingPlan') =>
  sut.assignNumber({ telephoneNumber, numberType, assignmentTargetId });
const unassign = (telephoneNumber: string, numberType: NumberType = 'callingPlan') =>
  sut.unassignNumber({ telephoneNumber, numberType });
const license = (id: string, addSkuIds: string[], removeSkuIds: string[] = []) =>
  sut.assignLicense(id, { addSkuIds, removeSkuIds });

describe('the demo tenant', () => {
  it('has two online verified domains and the two Teams Phone SKUs, Phone System exhausted', async () => {
    const facts = await sut.getTenantFacts();
    expect(facts).toMatchObject({ tenantId: TENANT_ID, displayName: 'Contoso (demo)', countryLetterCode: 'US' });
    expect(facts.domains).toEqual([
      { name: 'contoso.onmicrosoft.com', isDefault: true, isOnline: true },
      { name: 'contoso.com', isDefault: false, isOnline: true },
    ]);
    expect(facts.skus.map((s) => [s.skuPartNumber, s.kind, s.enabled, freeSeats(s)])).toEqual([
      ['PHONESYSTEM_VIRTUALUSER', 'resourceAccount', 25, 14],
      ['MCOEV', 'phoneSystem', 20, 0],
    ]);
  });

  it('lists its fourteen accounts by display name, disabled for sign-in but the doctor\'s example', async () => {
    const page = await sut.listAccounts({ offset: 0, limit: 50 });
    expect(page.total).toBe(14);
    expect(page.items.map((a) => a.userPrincipalName)).toEqual([
      A.escalations.upn,
      A.events.upn,
      A.helpdesk.upn,
      A.holidays.upn,
      A.invoices.upn,
      A.kiosk.upn,
      A.lyon.upn,
      A.mainLine.upn,
      A.orders.upn,
      A.paris.upn,
      A.reception.upn,
      A.returns.upn,
      A.sales.upn,
      A.supportFr.upn,
    ]);
    // The doctor's examples (src/provisioning/doctor.ts): one can sign in, one is broken.
    expect(page.items.filter((a) => a.accountEnabled).map((a) => a.userPrincipalName)).toEqual([A.kiosk.upn]);
    expect(page.items.filter((a) => a.broken).map((a) => a.userPrincipalName)).toEqual([A.invoices.upn]);
  });

  it('has the accounts the flows need', async () => {
    expect(await account(A.mainLine.id)).toMatchObject({
      accountType: 'autoAttendant',
      usageLocation: 'US',
      assignedLicenses: [RA],
      phoneNumber: N.mainLine,
      associations: [V.mainLine],
    });
    expect(await account(A.supportFr.id)).toMatchObject({
      usageLocation: 'FR',
      assignedLicenses: [RA],
      phoneNumber: null,
    });
    expect(await account(A.reception.id)).toMatchObject({ assignedLicenses: [PS], phoneNumber: N.reception });
    expect(await account(A.helpdesk.id)).toMatchObject({ usageLocation: null, assignedLicenses: [] });
  });

  it('keeps numbers and accounts consistent, and seat counts at least what the accounts hold', async () => {
    const { items: accounts } = await sut.listAccounts({ offset: 0, limit: 50 });
    for (const a of accounts.filter((x) => x.phoneNumber)) {
      expect(await sut.getPhoneNumber(a.phoneNumber ?? '')).toMatchObject({
        assignmentStatus: 'voiceApplicationAssigned',
        assignmentTargetId: a.id,
        activationState: 'activated',
      });
    }
    for (const s of (await sut.getTenantFacts()).skus) {
      expect(s.consumed).toBeGreaterThanOrEqual(accounts.filter((a) => a.assignedLicenses.includes(s.skuId)).length);
    }
  });

  it('has eight voice apps, "After hours" without an account, "Deliveries" with a deleted one', async () => {
    expect(await sut.listVoiceApplications()).toEqual([
      { ...V.afterHours, accountIds: [] },
      { ...V.deliveries, accountIds: [DEMO.deletedAccountId] },
      { ...V.escalations, accountIds: [A.escalations.id] },
      { ...V.holidays, accountIds: [A.holidays.id] },
      { ...V.invoices, accountIds: [A.invoices.id] },
      { ...V.mainLine, accountIds: [A.mainLine.id] },
      { ...V.sales, accountIds: [A.sales.id] },
      { ...V.supportFr, accountIds: [A.supportFr.id] },
    ]);
  });

  it('has a number inventory with service, user, pending and blocked numbers in US and FR', async () => {
    const assignable = (isoCountryCode: string) =>
      sut.listPhoneNumbers({ offset: 0, limit: 1, assignableOnly: true, isoCountryCode });
    expect((await assignable('US')).total).toBe(51);
    expect((await assignable('FR')).total).toBe(7);
    expect(await sut.getPhoneNumber(N.usUserFree[0])).toMatchObject({ capabilities: ['userAssignment'] });
    expect(await sut.getPhoneNumber(N.notActivated)).toMatchObject({ activationState: 'assignmentPending' });
    expect(await sut.getPhoneNumber(N.blocked)).toMatchObject({ assignmentBlocked: true });
    expect(await sut.getPhoneNumber(N.frTollFree)).toMatchObject({ tollFree: true, isoCountryCode: 'FR' });
  });

  it('reports healthy', async () => {
    expect(await sut.health()).toEqual({ ok: true, detail: expect.stringContaining('Contoso (demo)') });
  });
});

describe('reads are copies', () => {
  it('an account, a page and the facts can be changed by the caller without changing the tenant', async () => {
    const read = await account(A.mainLine.id);
    const page = await sut.listAccounts({ offset: 0, limit: 50 });
    const facts = await sut.getTenantFacts();
    const before = JSON.stringify([read, page, facts]);
    read.associations[0]!.name = 'changed';
    read.assignedLicenses.push(PS);
    page.items[0]!.assignedLicenses.push(PS);
    facts.skus[0]!.consumed = 999;
    facts.domains.pop();
    expect(JSON.stringify([await account(A.mainLine.id), await sut.listAccounts({ offset: 0, limit: 50 }), await sut.getTenantFacts()])).toBe(before);
  });

  it('copy tenant data as structuredClone does, an own "__proto__" key included', () => {
    const data = JSON.parse('{"a":[1,{"b":null,"c":"x"}],"d":{"__proto__":{"polluted":true},"e":[]},"f":false}') as Record<string, unknown>;
    const copy = copyOf(data);
    expect(copy).toStrictEqual(structuredClone(data));
    expect(Object.hasOwn(copy.d as object, '__proto__')).toBe(true);
    expect((copy.d as { polluted?: unknown }).polluted).toBeUndefined();
    expect(copy.a).not.toBe(data.a);
  });
});

describe('refusals: the tenant answers like a 4xx and changes nothing', () => {
  type Row = { name: string; reason: ReasonCode; act: () => Promise<unknown>; params?: MessageParams };
  const toSupportFr = (telephoneNumber: string, numberType?: NumberType) =>
    assign(A.supportFr.id, telephoneNumber, numberType);

  it.each<Row>([
    { name: 'UPN taken, other case', reason: 'UPN_IN_USE', act: () => newAccount('AA-Main@Contoso.COM') },
    {
      name: 'UPN at an unverified domain',
      reason: 'UPN_DOMAIN_NOT_VERIFIED',
      act: () => newAccount('aa-new@fabrikam.com'),
      params: { domain: 'fabrikam.com' },
    },
    {
      name: 'blank display name',
      reason: 'DISPLAY_NAME_REQUIRED',
      act: () =>
        sut.createAccount({ userPrincipalName: 'aa-x@contoso.com', displayName: ' ', accountType: 'autoAttendant' }),
    },
    {
      name: 'usage location not ISO',
      reason: 'USAGE_LOCATION_INVALID',
      act: () => sut.setUsageLocation(A.paris.id, 'France'),
    },
    {
      name: 'license before usage location',
      reason: 'LICENSE_USAGE_LOCATION_MISSING',
      act: () => license(A.helpdesk.id, [RA]),
    },
    {
      name: 'no free Phone System seat',
      reason: 'LICENSE_NO_FREE_SEAT',
      act: () => license(A.paris.id, [PS]),
      params: { sku: 'MCOEV', free: 0 },
    },
    {
      name: 'unknown SKU',
      reason: 'LICENSE_NOT_IN_TENANT',
      act: () => license(A.paris.id, ['00000000-0000-0000-0000-000000000000']),
    },
    {
      name: 'license for an unknown account',
      reason: 'ACCOUNT_NOT_FOUND',
      act: () => license('missing', [RA]),
    },
    { name: 'delete an unknown account', reason: 'ACCOUNT_NOT_FOUND', act: () => sut.deleteAccount('missing') },
    { name: 'number for an unknown account', reason: 'ACCOUNT_NOT_FOUND', act: () => assign('missing', N.frToll[0]) },
    { name: 'user number', reason: 'NUMBER_NOT_SERVICE', act: () => toSupportFr(N.frUserFree[0]) },
    {
      name: 'number on another account',
      reason: 'NUMBER_ALREADY_ASSIGNED',
      act: () => toSupportFr(N.mainLine),
      params: { telephoneNumber: N.mainLine, where: A.mainLine.upn },
    },
    { name: 'number not activated', reason: 'NUMBER_NOT_ACTIVATED', act: () => toSupportFr(N.notActivated) },
    { name: 'blocked number', reason: 'NUMBER_BLOCKED', act: () => toSupportFr(N.blocked) },
    { name: 'wrong number type', reason: 'NUMBER_WRONG_TYPE', act: () => toSupportFr(N.frToll[0], 'operatorConnect') },
    { name: 'number not in the tenant', reason: 'NUMBER_NOT_FOUND', act: () => toSupportFr('+33170009999') },
    { name: 'leading 0', reason: 'NUMBER_INVALID_FORMAT', act: () => toSupportFr('0170000100') },
    {
      name: 'Direct Routing number in an unknown country',
      reason: 'NUMBER_INVALID_FORMAT',
      act: () => toSupportFr('+81312345678', 'directRouting'),
    },
    {
      name: 'extension on Calling Plan',
      reason: 'NUMBER_EXTENSION_NOT_ALLOWED',
      act: () => toSupportFr(`${N.frToll[0]};ext=12`),
    },
    {
      name: 'second number for an account',
      reason: 'NUMBER_ACCOUNT_HAS_NUMBER',
      act: () => assign(A.mainLine.id, N.usToll[0]),
      params: { number: N.mainLine },
    },
    {
      name: 'unassign a free number',
      reason: 'NUMBER_NOT_ASSIGNED',
      act: () => unassign(N.usToll[0]),
    },
    {
      name: 'unassign with the wrong type',
      reason: 'NUMBER_WRONG_TYPE',
      act: () => unassign(N.mainLine, 'directRouting'),
    },
    {
      name: 'AA account on a CQ',
      reason: 'ASSOCIATION_TYPE_MISMATCH',
      act: () => sut.associate(A.paris.id, V.sales.configurationId),
    },
    {
      name: 'account already serving an AA',
      reason: 'ACCOUNT_ALREADY_ASSOCIATED',
      act: () => sut.associate(A.mainLine.id, V.afterHours.configurationId),
      params: { upn: A.mainLine.upn, voiceApp: 'Main line' },
    },
    { name: 'unknown voice app', reason: 'VOICE_APP_NOT_FOUND', act: () => sut.associate(A.paris.id, 'missing') },
    {
      name: 'dissociate what is not associated',
      reason: 'ASSOCIATION_NOT_FOUND',
      act: () => sut.dissociate(A.paris.id, V.afterHours.configurationId),
    },
    {
      name: 'type change while associated',
      reason: 'EDIT_TYPE_WHILE_ASSOCIATED',
      act: () => sut.updateAccount(A.mainLine.id, { accountType: 'callQueue' }),
      params: { upn: A.mainLine.upn, voiceApp: 'Main line' },
    },
  ])('$reason: $name', async ({ act, reason, params }) => {
    await expectRefusal(act, reason, params);
  });

  it('UPN_DOMAIN_NOT_ONLINE for a verified domain that is not online', async () => {
    await sut.close();
    await rm(file);
    sut = await open({
      seed: (tenantId, now) => {
        const state = demoTenant(tenantId, now);
        state.domains.push({ name: 'onprem.contoso.com', isDefault: false, isOnline: false });
        return state;
      },
    });
    await expectRefusal(() => newAccount('aa-x@onprem.contoso.com'), 'UPN_DOMAIN_NOT_ONLINE');
  });

  it('lets exactly one of two concurrent creations of the same UPN through', async () => {
    const outcomes = await Promise.allSettled([newAccount('aa-twin@contoso.com'), newAccount('AA-TWIN@contoso.com')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await sut.listAccounts({ offset: 0, limit: 1, text: 'twin' })).total).toBe(1);
  });
});

describe('the resource-account lifecycle', () => {
  it('creates, licenses, numbers, associates and edits an account; seats follow', async () => {
    const created = await newAccount('CQ-Lyon@contoso.com', 'callQueue');
    expect(created).toMatchObject({ id: expect.stringMatching(UUID), accountEnabled: false, usageLocation: null });
    expect(await sut.findAccountByUpn('cq-lyon@CONTOSO.com')).toEqual(created);

    await sut.setUsageLocation(created.id, 'fr');
    await license(created.id, [RA]);
    expect((await sku(RA)).consumed).toBe(RA_HELD + 1);
    expect(await sut.getLicenseProvisioning(created.id)).toBe('success');

    const op = await assign(created.id, N.frToll[1]);
    expect(op).toEqual({ id: expect.stringMatching(UUID), status: 'succeeded', telephoneNumber: N.frToll[1] });
    expect(await sut.getNumberOperation(op.id)).toEqual(op);

    await sut.associate(created.id, V.supportFr.configurationId);
    const edited = await sut.updateAccount(created.id, { displayName: ' Lyon queue ' });
    expect(edited).toMatchObject({ displayName: 'Lyon queue', usageLocation: 'FR', phoneNumber: N.frToll[1] });
    expect((await sut.listVoiceApplications()).find((v) => v.name === 'Support FR')?.accountIds).toEqual([
      A.supportFr.id,
      created.id,
    ]);

    await unassign(N.frToll[1]);
    await sut.dissociate(created.id, V.supportFr.configurationId);
    await sut.deleteAccount(created.id);
    expect(await sut.getAccount(created.id)).toBeNull();
    expect((await sku(RA)).consumed).toBe(RA_HELD);
    expect(await sut.getPhoneNumber(N.frToll[1])).toMatchObject(FREE);
  });

  it('creates and removes Direct Routing numbers on assignment, with an extension', async () => {
    const telephoneNumber = '+33170009999;ext=12';
    const op = await assign(A.supportFr.id, telephoneNumber, 'directRouting');
    expect(op.status).toBe('succeeded');
    expect(await sut.getPhoneNumber(telephoneNumber)).toMatchObject({
      numberType: 'directRouting',
      isoCountryCode: 'FR',
      capabilities: ['voiceApplicationAssignment'],
      assignmentTargetId: A.supportFr.id,
      activationState: 'activated',
    });

    await unassign(telephoneNumber, 'directRouting');
    expect(await sut.getPhoneNumber(telephoneNumber)).toBeNull();
    expect((await account(A.supportFr.id)).phoneNumber).toBeNull();
  });

  it('accepts a number without its "+" and stores it with one', async () => {
    await assign(A.supportFr.id, N.frToll[0].slice(1));
    expect((await account(A.supportFr.id)).phoneNumber).toBe(N.frToll[0]);
  });
});

describe('F2: a license switch in two operations breaks the account', () => {
  it('switches cleanly in one call and keeps the number', async () => {
    await license(A.reception.id, [RA], [PS]);
    expect(await account(A.reception.id)).toMatchObject({
      assignedLicenses: [RA],
      phoneNumber: N.reception,
      broken: false,
    });
    expect([(await sku(RA)).consumed, (await sku(PS)).consumed]).toEqual([RA_HELD + 1, 19]);
    expect(await sut.getLicenseProvisioning(A.reception.id)).toBe('success');
  });

  it('breaks the account and drops its number when Phone System goes first; adding later does not repair', async () => {
    await license(A.reception.id, [], [PS]);
    expect(await account(A.reception.id)).toMatchObject({ broken: true, phoneNumber: null, assignedLicenses: [] });
    expect(await sut.getPhoneNumber(N.reception)).toMatchObject(FREE);

    await license(A.reception.id, [RA]);
    expect(await account(A.reception.id)).toMatchObject({ broken: true, assignedLicenses: [RA] });
    expect(await sut.getLicenseProvisioning(A.reception.id)).toBe('error');
    await expectRefusal(
      () => assign(A.reception.id, N.reception),
      'ACCOUNT_BROKEN',
    );
  });

  it('unassigns the number, without breaking, when the only Resource Account license is removed', async () => {
    await license(A.mainLine.id, [], [RA]);
    expect(await account(A.mainLine.id)).toMatchObject({ broken: false, phoneNumber: null });
    expect((await sku(RA)).consumed).toBe(RA_HELD - 1);
  });
});

describe('F1: deleting an account that still holds a number', () => {
  it('leaves the number stuck "pending" on the deleted account and frees the seat', async () => {
    await sut.deleteAccount(A.mainLine.id);
    expect(await sut.getAccount(A.mainLine.id)).toBeNull();
    expect((await sku(RA)).consumed).toBe(RA_HELD - 1);
    expect(await sut.getPhoneNumber(N.mainLine)).toMatchObject({
      activationState: 'assignmentPending',
      assignmentTargetId: A.mainLine.id,
    });
    const onDeleted = await sut.listPhoneNumbers({ offset: 0, limit: 5, assignmentTargetId: A.mainLine.id });
    expect(onDeleted.items.map((n) => n.telephoneNumber)).toEqual([N.mainLine]);
    await expectRefusal(() => unassign(N.mainLine), 'NUMBER_PENDING');
    await expectRefusal(
      () => assign(A.sales.id, N.mainLine),
      'NUMBER_ALREADY_ASSIGNED',
    );
  });

  it('frees the number when it is unassigned before the delete', async () => {
    await unassign(N.mainLine);
    await sut.deleteAccount(A.mainLine.id);
    const free = await sut.listPhoneNumbers({ offset: 0, limit: 100, assignableOnly: true, prefix: '1425555010' });
    expect(free.items.map((n) => n.telephoneNumber)).toContain(N.mainLine);
  });
});

describe('F3: a number on an account without a working Teams Phone license', () => {
  it('fails the operation with the misleading on-premises text and assigns nothing', async () => {
    const before = await snapshot();
    const op = await assign(A.paris.id, N.frToll[0]);
    expect(op).toMatchObject(FAILED_UNLICENSED);
    expect(await snapshot()).toEqual(before);
  });
});

describe('a slow tenant (fake clock)', () => {
  const slowness = { licenseProvisioningMs: 60 * MINUTE, numberOperationMs: MINUTE, accountPropagationMs: 5 * MINUTE };
  beforeEach(() => restart({ slowness }));

  it('provisions a license after licenseProvisioningMs, and fails a number assigned before that', async () => {
    expect(await sut.getLicenseProvisioning(A.paris.id)).toBe('none');
    await license(A.paris.id, [RA]);
    expect(await sut.getLicenseProvisioning(A.paris.id)).toBe('pending');

    const early = await assign(A.paris.id, N.frToll[0]);
    clock.advance(MINUTE);
    expect(await sut.getNumberOperation(early.id)).toMatchObject(FAILED_UNLICENSED);
    expect(await sut.getPhoneNumber(N.frToll[0])).toMatchObject(FREE);

    clock.advance(59 * MINUTE - 1);
    expect(await sut.getLicenseProvisioning(A.paris.id)).toBe('pending');
    clock.advance(1);
    expect(await sut.getLicenseProvisioning(A.paris.id)).toBe('success');
  });

  it('runs an assignment as an operation: pending until numberOperationMs, applied when next observed', async () => {
    const op = await assign(A.supportFr.id, N.frToll[0]);
    expect(op.status).toBe('running');
    expect(await sut.getPhoneNumber(N.frToll[0])).toMatchObject({
      activationState: 'assignmentPending',
      assignmentTargetId: A.supportFr.id,
    });
    expect((await account(A.supportFr.id)).phoneNumber).toBeNull();
    await expectRefusal(
      () => assign(A.supportFr.id, N.frToll[1]),
      'NUMBER_ACCOUNT_HAS_NUMBER',
    );

    clock.advance(MINUTE);
    expect((await account(A.supportFr.id)).phoneNumber).toBe(N.frToll[0]);
    expect(await sut.getNumberOperation(op.id)).toMatchObject({ status: 'succeeded' });
    expect(await sut.getPhoneNumber(N.frToll[0])).toMatchObject({ activationState: 'activated' });
  });

  it('keeps the number on the account while an unassignment is "updatePending"', async () => {
    const op = await unassign(N.mainLine);
    expect(op.status).toBe('running');
    expect(await sut.getPhoneNumber(N.mainLine)).toMatchObject({ activationState: 'updatePending' });
    expect((await account(A.mainLine.id)).phoneNumber).toBe(N.mainLine);
    await expectRefusal(() => unassign(N.mainLine), 'NUMBER_PENDING');

    clock.advance(MINUTE);
    expect(await sut.getPhoneNumber(N.mainLine)).toMatchObject(FREE);
    expect((await account(A.mainLine.id)).phoneNumber).toBeNull();
    expect(await sut.getNumberOperation(op.id)).toMatchObject({ status: 'succeeded' });
  });

  it('does not see a new account for accountPropagationMs ("user not found")', async () => {
    const created = await newAccount('aa-new@contoso.com');
    await expectRefusal(() => sut.setUsageLocation(created.id, 'US'), 'ACCOUNT_NOT_YET_VISIBLE');
    await expectRefusal(() => license(created.id, [RA]), 'ACCOUNT_NOT_YET_VISIBLE');
    await expectRefusal(
      () => assign(created.id, N.usToll[0]),
      'ACCOUNT_NOT_YET_VISIBLE',
    );
    clock.advance(5 * MINUTE);
    await expect(sut.setUsageLocation(created.id, 'US')).resolves.toMatchObject({ usageLocation: 'US' });
  });

  it('finishes an operation that was running when the process restarted', async () => {
    const op = await assign(A.supportFr.id, N.usToll[0]);
    await restart({ slowness });
    expect(await sut.getNumberOperation(op.id)).toMatchObject({ status: 'running' });
    clock.advance(MINUTE);
    await restart({ slowness });
    expect(await sut.getNumberOperation(op.id)).toMatchObject({ status: 'succeeded' });
    expect((await account(A.supportFr.id)).phoneNumber).toBe(N.usToll[0]);
  });

  it('strands a number whose assignment is still running when the account is deleted', async () => {
    const op = await assign(A.supportFr.id, N.frToll[0]);
    await sut.deleteAccount(A.supportFr.id);
    clock.advance(MINUTE);
    expect(await sut.getNumberOperation(op.id)).toMatchObject({
      status: 'failed',
      statusDetail: expect.stringContaining('not found'),
    });
    expect(await sut.getPhoneNumber(N.frToll[0])).toMatchObject({
      activationState: 'assignmentPending',
      assignmentTargetId: A.supportFr.id,
    });
  });
});

describe('persistence', () => {
  it('survives a restart', async () => {
    const created = await newAccount('cq-restart@contoso.com', 'callQueue');
    await sut.setUsageLocation(created.id, 'US');
    await license(created.id, [RA]);
    const op = await assign(created.id, N.usPool[0]);
    await sut.associate(created.id, V.sales.configurationId);
    const before = await snapshot();

    await restart();
    expect(await snapshot()).toEqual(before);
    expect(await sut.getNumberOperation(op.id)).toEqual(op);
  });

  it('seeds an empty (zero-byte) file on its first start only (no journal beside it yet)', async () => {
    await sut.close();
    for (const name of await readdir(dir)) await rm(path.join(dir, name));
    await writeFile(file, '');
    sut = await open();
    expect((await sut.listAccounts({ offset: 0, limit: 1 })).total).toBe(14);
  });

  it('refuses an empty file once it has been used (its journal is beside it): the accounts would be lost', async () => {
    await newAccount('cq-kept@contoso.com', 'callQueue');
    await sut.close();
    await writeFile(file, '');
    await expect(open()).rejects.toThrow(/^simulated tenant: .*tenant\.json is empty, although this data folder was used before \(tenant\.json\.journal\.\d+\.jsonl exists\)/);
    await expect(open({ usedBefore: 'workflow.json holds data' })).rejects.toThrow(/used before/);
    await writeFile(file, JSON.stringify(demoTenant(TENANT_ID, clock.now())));
    sut = await open();
  });

  it.each([
    ['not JSON', '{ "schemaVersion": 1, ', /cannot read/],
    ['not a tenant', '{ "schemaVersion": 1, "accounts": [] }', /does not hold a valid tenant/],
  ])('refuses to open a corrupt file (%s) with a clear error', async (_name, content, message) => {
    await sut.close();
    await writeFile(file, content);
    await expect(open()).rejects.toThrow(message);
    await writeFile(file, JSON.stringify(demoTenant(TENANT_ID, clock.now())));
    sut = await open();
  });

  it('refuses a file that belongs to another tenant', async () => {
    await sut.close();
    await expect(open({ tenantId: 'another-tenant' })).rejects.toThrow(/belongs to tenant/);
    sut = await open();
  });
});

describe('queries', () => {
  it.each([
    [{ accountType: 'callQueue' as const }, [A.events.upn, A.helpdesk.upn, A.invoices.upn, A.returns.upn, A.sales.upn, A.supportFr.upn]],
    [{ licensed: false }, [A.helpdesk.upn, A.holidays.upn, A.orders.upn, A.paris.upn]],
    [{ hasNumber: true }, [A.lyon.upn, A.mainLine.upn, A.orders.upn, A.reception.upn, A.returns.upn, A.sales.upn]],
    [{ licensed: true, hasNumber: false }, [A.escalations.upn, A.events.upn, A.invoices.upn, A.kiosk.upn, A.supportFr.upn]],
    [{ text: 'SUPPORT' }, [A.supportFr.upn]],
    [{ text: 'onmicrosoft' }, [A.helpdesk.upn]],
  ])('lists accounts matching %j', async (filter, upns) => {
    const page = await sut.listAccounts({ offset: 0, limit: 50, ...filter });
    expect(page.items.map((a) => a.userPrincipalName)).toEqual(upns);
    expect(page.total).toBe(upns.length);
  });

  it('pages accounts with offset and limit', async () => {
    const page = await sut.listAccounts({ offset: 2, limit: 2 });
    expect(page).toMatchObject({ total: 14, offset: 2, limit: 2 });
    expect(page.items.map((a) => a.userPrincipalName)).toEqual([A.helpdesk.upn, A.holidays.upn]);
  });

  it('pages through the assignable US Calling Plan numbers in order', async () => {
    const query = { limit: 10, assignableOnly: true, isoCountryCode: 'us', numberType: 'callingPlan' as const };
    const seen: string[] = [];
    for (let offset = 0; ; offset += 10) {
      const page = await sut.listPhoneNumbers({ ...query, offset });
      expect(page.total).toBe(47);
      if (page.items.length === 0) break;
      seen.push(...page.items.map((n) => n.telephoneNumber));
    }
    expect(seen).toHaveLength(47);
    expect([...seen].sort()).toEqual(seen);
    expect(seen).not.toContain(N.blocked);
    expect(seen).not.toContain(N.notActivated);
  });

  it.each([
    [{ prefix: '1855' }, [N.sales, ...N.usTollFree]],
    [{ prefix: '+3317000030' }, N.frOperatorConnect],
    [{ numberType: 'operatorConnect' as const, isoCountryCode: 'FR' }, N.frOperatorConnect],
    [{ assignmentTargetId: A.reception.id }, [N.reception]],
  ])('lists numbers matching %j', async (filter, numbers) => {
    const page = await sut.listPhoneNumbers({ offset: 0, limit: 100, ...filter });
    expect(page.items.map((n) => n.telephoneNumber)).toEqual(numbers);
  });

  // The bench measures the speed at this size ((b) list page and findAccountByUpn, bench/results.md).
  // This test checks that the answers are right at that size.
  it('lists, filters and finds among 10,000 accounts', async () => {
    await sut.close();
    await rm(file);
    const bulkSeed: SimulatedTenantOptions['seed'] = (tenantId, now) => {
      const state = demoTenant(tenantId, now);
      for (let i = 0; i < 10_000; i += 1) {
        const id = `f0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        const bulk: StoredAccount = {
          ...state.accounts[A.paris.id],
          id,
          userPrincipalName: `aa-bulk-${i}@contoso.com`,
          displayName: `Bulk ${10_000 - i}`,
          associations: [],
        };
        state.accounts[id] = bulk;
      }
      return state;
    };
    sut = await open({ seed: bulkSeed });

    const all = await sut.listAccounts({ offset: 9_990, limit: 20 });
    const found = await sut.listAccounts({ offset: 0, limit: 10, text: 'bulk-99', accountType: 'autoAttendant' });
    const unlicensed = await sut.listAccounts({ offset: 100, limit: 10, licensed: false });
    expect(await sut.findAccountByUpn('AA-BULK-5000@contoso.com')).not.toBeNull();
    await newAccount('aa-one-more@contoso.com');

    expect(all.total).toBe(10_014);
    expect(all.items).toHaveLength(20);
    expect(found.total).toBe(111);
    expect(unlicensed.total).toBe(10_004);
    expect((await sut.listAccounts({ offset: 0, limit: 10, text: 'aa-one-more' })).total).toBe(1);
  });
});
