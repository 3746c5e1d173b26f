import type { MicrosoftDirectory } from '../../src/backends/microsoft';
import { closeOpened, openTracked } from '../backends/microsoft/helpers';
import { PowerShellError } from '../../src/backends/microsoft/powershell/errors';
import { DEMO } from '../../src/backends/simulated/seed';
import { checkNumberAssignable } from '../../src/provisioning/numbers';
import { FakeClock } from '../fakes/clock';
import { FakeMicrosoft365 } from '../fakes/microsoft365';
import type { FakeTenantOptions } from '../fakes/tenant';
import { expectRefusal, refusalOf, snapshot } from './expect';
import { microsoftEnv, microsoftOptions, TENANT_ID } from './harnesses';

/**
 * The Microsoft backend against Microsoft's own documented examples, replayed by the fakes
 * (test/fakes/fixtures/*.json, each naming its page): Direct Routing numbers without a country, more
 * than 1,000 number assignments paged by $top/$skip with no nextLink, an association row that failed,
 * an operation status wrapped in "value", and a 504 on an order the tenant did accept.
 */

jest.setTimeout(60_000);

const A = DEMO.accounts;
const V = DEMO.voiceApps;
const MINUTE = 60_000;
/** Example 2 of the list page: an unassigned Direct Routing service number, "isoCountryCode": null. */
const DR = '+1123457';
const ASSIGN = /\/numberAssignments\/assignNumber$/;
const UNASSIGN = /\/numberAssignments\/unassignNumber$/;

let clock: FakeClock;
let fake: FakeMicrosoft365;
let sut: MicrosoftDirectory;

async function open(options: Partial<FakeTenantOptions> = {}): Promise<void> {
  clock = new FakeClock();
  fake = await FakeMicrosoft365.start({ tenantId: TENANT_ID, now: clock.now, ...options });
  fake.tenant.loadDocumentedNumbers();
  sut = await openTracked(microsoftEnv(fake), microsoftOptions(fake, clock));
}
afterEach(async () => {
  await closeOpened();
  await fake.close();
});

const assignDr = () => sut.assignNumber({ telephoneNumber: DR, numberType: 'directRouting', assignmentTargetId: A.supportFr.id });

describe('Direct Routing numbers carry no country (F17)', () => {
  beforeEach(() => open());

  it('lists and finds them, with the country left empty rather than the number left out', async () => {
    expect(await sut.getPhoneNumber(DR)).toMatchObject({ numberType: 'directRouting', isoCountryCode: null, assignmentTargetId: null });
    const assignable = await sut.listPhoneNumbers({ offset: 0, limit: 500, numberType: 'directRouting', assignableOnly: true });
    expect(assignable.items.map((n) => n.telephoneNumber)).toContain(DR);
    // The user-assigned one of Example 1 is a number too, just not a free one.
    expect(await sut.getPhoneNumber('+112345')).toMatchObject({ assignmentStatus: 'userAssigned', isoCountryCode: null });
  });

  it('assigns one, verifies it, shows it on the account, guards the delete and unassigns it', async () => {
    expect(await assignDr()).toMatchObject({ status: 'succeeded', telephoneNumber: DR });
    expect(await sut.getPhoneNumber(DR)).toMatchObject({ assignmentTargetId: A.supportFr.id, activationState: 'activated', isoCountryCode: null });
    expect((await sut.getAccount(A.supportFr.id))?.phoneNumber).toBe(DR);
    const withNumber = await sut.listAccounts({ offset: 0, limit: 50, hasNumber: true });
    expect(withNumber.items.map((a) => a.id)).toContain(A.supportFr.id);
    // The delete guard sees the number (F1): nothing is deleted, nothing is stranded "pending".
    const refusal = await refusalOf(sut.deleteAccount(A.supportFr.id));
    expect(refusal).toMatchObject({ reason: 'DELETE_NUMBER_STILL_ASSIGNED', params: { number: DR } });
    expect(fake.calls('DELETE', /^\/users\//)).toEqual([]);
    // Unassign finds it (no "not found"), and only then is the number released.
    expect(await sut.unassignNumber({ telephoneNumber: DR, numberType: 'directRouting' })).toMatchObject({ status: 'succeeded' });
    expect((await sut.getAccount(A.supportFr.id))?.phoneNumber).toBeNull();
  });

  it('finds them under a country through their calling code when that names one country', async () => {
    fake.tenant.state.numbers['+33170009000'] = { ...(fake.tenant.state.numbers[DR]!), telephoneNumber: '+33170009000' };
    const fr = await sut.listPhoneNumbers({ offset: 0, limit: 50, isoCountryCode: 'FR', numberType: 'directRouting' });
    expect(fr.items.map((n) => [n.telephoneNumber, n.isoCountryCode])).toEqual([['+33170009000', null]]);
  });

  it('is never refused for the missing country alone; a calling code that names another country is', async () => {
    const number = (await sut.getPhoneNumber(DR))!;
    const account = (await sut.getAccount(A.supportFr.id))!;
    expect(checkNumberAssignable(number, 'directRouting', account, (id) => id)).toBeNull();
    const french = { ...number, telephoneNumber: '+33170009000' };
    const us = { ...account, usageLocation: 'US' };
    expect(checkNumberAssignable(french, 'directRouting', us, (id) => id)).toMatchObject({ reason: 'NUMBER_COUNTRY_MISMATCH', params: { numberCountry: 'FR' } });
  });
});

describe('a tenant with 2,500 more numbers than one page holds', () => {
  beforeEach(async () => {
    await open();
    fake.tenant.addServiceNumbers(2_500);
  });

  it('reads them whole, by $top=1000 and $skip, though Graph sends no nextLink', async () => {
    const before = fake.requests.length;
    const page = await sut.listPhoneNumbers({ offset: 2_400, limit: 10, numberType: 'directRouting', assignableOnly: true });
    expect(page.total).toBe(2_501);
    expect(page.items).toHaveLength(10);
    const reads = fake.requests.slice(before).filter((r) => /numberAssignments$/.test(r.path));
    expect(reads.map((r) => [r.query.$top, r.query.$skip])).toEqual([
      ['1000', '0'],
      ['1000', '1000'],
      ['1000', '2000'],
    ]);
  });

  it('still finds the number of an account that sorts past the first 1,000', async () => {
    const late = '+14257002400';
    expect(await sut.assignNumber({ telephoneNumber: late, numberType: 'directRouting', assignmentTargetId: A.supportFr.id })).toMatchObject({ status: 'succeeded' });
    expect((await sut.getAccount(A.supportFr.id))?.phoneNumber).toBe(late);
    await expectRefusal(sut, () => sut.deleteAccount(A.supportFr.id), 'DELETE_NUMBER_STILL_ASSIGNED');
  });
});

describe('an association row that failed (AssociationOperationOutput.Results)', () => {
  beforeEach(() => open());

  it('is a failure, not a success, and the cached AA/CQ list is left as it was', async () => {
    fake.tenant.failAssociations.set(A.paris.id, 'The application instance could not be associated.');
    const before = await snapshot(sut);
    const outcome = await sut.associate(A.paris.id, V.afterHours.configurationId).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(PowerShellError);
    expect(outcome).toMatchObject({ psMessage: 'The application instance could not be associated.' });
    expect(await snapshot(sut)).toEqual(before);
    expect((await sut.getAccount(A.paris.id))?.associations).toEqual([]);
  });

  it('reads a successful row from Results as done', async () => {
    expect(await sut.associate(A.paris.id, V.afterHours.configurationId)).toMatchObject({ associations: [V.afterHours] });
    expect(fake.tenant.state.accounts[A.paris.id]?.associations).toEqual([V.afterHours]);
  });

  it('does not report a removal the tenant refused as done', async () => {
    fake.tenant.failAssociations.set(A.mainLine.id, 'Removal refused.');
    await expect(sut.dissociate(A.mainLine.id, V.mainLine.configurationId)).rejects.toBeInstanceOf(PowerShellError);
    expect((await sut.getAccount(A.mainLine.id))?.associations).toEqual([V.mainLine]);
  });
});

describe('a number operation read as the Get page shows it', () => {
  it.each(['wrapped', 'bare'] as const)('reads a %s status, and after a restart still knows its number from resourceLocation', async (operationShape) => {
    await open({ operationShape, slowness: { numberOperationMs: 10 * MINUTE } });
    const op = await assignDr();
    expect(op).toMatchObject({ status: 'running', telephoneNumber: DR });
    clock.advance(10 * MINUTE);
    // A new process: its operation log is empty; only the tenant's answer names the number.
    const restarted = await openTracked(microsoftEnv(fake), microsoftOptions(fake, clock));
    expect(await restarted.getNumberOperation(op.id)).toEqual({ id: op.id, status: 'succeeded', telephoneNumber: DR });
  });
});

describe('a 504 on an order the tenant did accept', () => {
  beforeEach(() => open());
  const gatewayTimeout = { status: 504, body: { error: { code: 'GatewayTimeout', message: 'Gateway Timeout' } } };

  it('assign: looks at the number, finds it ours, and never says "already assigned to another account"', async () => {
    fake.inject({ method: 'POST', path: ASSIGN, times: 1, applied: true, ...gatewayTimeout });
    expect(await assignDr()).toEqual({ id: '', status: 'succeeded', telephoneNumber: DR });
    expect(fake.calls('POST', ASSIGN)).toHaveLength(1);
    expect((await sut.getAccount(A.supportFr.id))?.phoneNumber).toBe(DR);
  });

  it('assign: a 504 on an order that did not land is sent once more, and only once', async () => {
    fake.inject({ method: 'POST', path: ASSIGN, times: 1, ...gatewayTimeout });
    expect(await assignDr()).toMatchObject({ status: 'succeeded', telephoneNumber: DR });
    expect(fake.calls('POST', ASSIGN)).toHaveLength(2);
  });

  it('assign: a number someone else took meanwhile is refused with the real holder', async () => {
    fake.inject({ method: 'POST', path: ASSIGN, times: 1, ...gatewayTimeout });
    const number = fake.tenant.state.numbers[DR]!;
    Object.assign(number, { assignmentTargetId: A.sales.id, assignmentStatus: 'voiceApplicationAssigned' });
    const refusal = await refusalOf(sut.assignNumber({ telephoneNumber: DR, numberType: 'directRouting', assignmentTargetId: A.supportFr.id }));
    expect(refusal).toMatchObject({ reason: 'NUMBER_ALREADY_ASSIGNED' });
    expect(fake.calls('POST', ASSIGN)).toHaveLength(0);
  });

  it('unassign: a 504 after the tenant released the number is success, sent once', async () => {
    await assignDr();
    fake.inject({ method: 'POST', path: UNASSIGN, times: 1, applied: true, ...gatewayTimeout });
    expect(await sut.unassignNumber({ telephoneNumber: DR, numberType: 'directRouting' })).toMatchObject({ status: 'succeeded' });
    expect(fake.calls('POST', UNASSIGN)).toHaveLength(1);
  });
});
