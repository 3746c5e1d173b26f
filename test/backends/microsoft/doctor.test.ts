import { DEMO } from '../../../src/backends/simulated/seed';
import { diagnose } from '../../../src/provisioning/doctor';
import { openOverFake, type OverFake } from './helpers';

/**
 * What the doctor costs and puts on the wire with the Microsoft backend, checked on the fake Graph's
 * records: reads only, batched; the one write it adds (blocking sign-in) is the documented PATCH.
 */

jest.setTimeout(60_000);

const A = DEMO.accounts;
const RA = DEMO.skus.resourceAccount.skuId;

let env: OverFake;
beforeEach(async () => {
  env = await openOverFake();
});
afterEach(() => env.close());

describe('the doctor over the Microsoft backend', () => {
  it('scans with reads only, batched: the listing, each licensed account\'s licenseDetails, the Resource Account license holders', async () => {
    const before = env.fake.requests.length;
    const roundTrips = env.fake.graphRoundTrips;
    const scan = await env.sut.scanTenant();
    const requests = env.fake.requests.slice(before);
    expect(requests.every((r) => r.method === 'GET' || r.path === '/$batch')).toBe(true);
    // The listing (users and numbers) in one round, then 10 licenseDetails and the holders' query in one $batch.
    expect(env.fake.graphRoundTrips - roundTrips).toBeLessThanOrEqual(2);
    const details = requests.filter((r) => /^\/users\/[^/]+\/licenseDetails$/.test(r.path)).map((r) => r.path.split('/')[2]);
    const licensed = scan.accounts.filter((a) => a.assignedLicenses.length > 0).map((a) => a.id);
    expect([...details].sort()).toEqual([...licensed].sort());
    const holders = requests.filter((r) => r.path === '/users' && r.query.$filter?.startsWith('assignedLicenses/'));
    expect(holders.map((r) => r.query.$filter)).toEqual([`assignedLicenses/any(x:x/skuId eq ${RA})`]);
    // The broken account is told by its Teams Phone plan's provisioning status, and only it.
    expect(scan.accounts.filter((a) => a.broken).map((a) => a.id)).toEqual([A.invoices.id]);
    // Lee Gu holds the license; the resource accounts that hold it are not "users".
    expect(scan.usersWithResourceAccountLicense.map((u) => u.userPrincipalName)).toEqual([DEMO.users.leeGu.upn]);
  });

  it('blocks sign-in with PATCH /users/{id} {"accountEnabled":false}, once', async () => {
    await env.sut.blockSignIn(A.kiosk.id);
    await env.sut.blockSignIn(A.kiosk.id);
    expect(env.fake.calls('PATCH', /^\/users\//).map((r) => [r.path, r.body])).toEqual([[`/users/${A.kiosk.id}`, { accountEnabled: false }]]);
    expect(env.fake.tenant.account(A.kiosk.id)?.accountEnabled).toBe(false);
  });

  it('finds on a real tenant\'s wire what it finds in the simulation', async () => {
    const [scan, facts] = await Promise.all([env.sut.scanTenant(), env.sut.getTenantFacts()]);
    const found = diagnose(scan, facts).findings.map((f) => f.code);
    expect(new Set(found).size).toBe(14);
  });
});
