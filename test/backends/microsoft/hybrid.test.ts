import type { SrvRecord } from 'node:dns';
import { DEMO } from '../../../src/backends/simulated/seed';
import { detectHybridByDns, type ResolveSrv } from '../../../src/backends/microsoft/hybrid';
import { openOverFake, type OverFake } from './helpers';

jest.setTimeout(60_000);

const srv = (name: string): SrvRecord => ({ name, port: 5061, priority: 100, weight: 1 });
const dnsError = (code: string) => Object.assign(new Error(`querySrv ${code}`), { code });
const domains = [
  { name: 'contoso.onmicrosoft.com', isDefault: true, isOnline: true },
  { name: 'contoso.com', isDefault: false, isOnline: true },
];

describe('hybrid detection from _sipfederationtls (seed page, hybrid section)', () => {
  it.each<[string, ResolveSrv, boolean, string]>([
    ['on-premises edge', async () => [srv('sip.contoso.com')], true, '_sipfederationtls._tcp.contoso.com → sip.contoso.com (not Microsoft 365)'],
    ['Microsoft 365', async () => [srv('sipfed.online.lync.com')], false, '_sipfederationtls points to Microsoft 365 (or is absent) for every verified domain'],
    ['no record', async () => Promise.reject(dnsError('ENOTFOUND')), false, '_sipfederationtls points to Microsoft 365 (or is absent) for every verified domain'],
    ['DNS not answering', async () => Promise.reject(dnsError('ETIMEOUT')), false, 'DNS did not answer for contoso.com: set SWITCHBOARD_HYBRID=on or off to decide'],
  ])('%s', async (_what, resolve, hybrid, evidence) => {
    const asked: string[] = [];
    const result = await detectHybridByDns(domains, (name) => (asked.push(name), resolve(name)));
    expect(result).toEqual({ hybrid, evidence });
    // onmicrosoft.com domains never point on-premises: not asked.
    expect(asked).toEqual(['_sipfederationtls._tcp.contoso.com']);
  });
});

describe('the Microsoft 365 backend in a hybrid tenant', () => {
  let env: OverFake;
  afterEach(() => env.close());

  it('reads onPremisesSyncEnabled (selected, as Graph returns it only when asked) and detects hybrid through DNS', async () => {
    env = await openOverFake({
      seed: (fake) => {
        const stored = fake.tenant.state.accounts[DEMO.accounts.mainLine.id];
        if (stored) stored.onPremisesSynced = true;
      },
      backend: { resolveSrv: async () => [srv('sipfed.contoso.com')] },
    });
    expect(await env.sut.getAccount(DEMO.accounts.mainLine.id)).toMatchObject({ onPremisesSynced: true });
    expect((await env.sut.getAccount(DEMO.accounts.sales.id))?.onPremisesSynced).toBeUndefined();
    const reads = env.fake.calls('GET', new RegExp(`/users/${DEMO.accounts.mainLine.id}$`));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => (r.query['$select'] ?? '').split(',').includes('onPremisesSyncEnabled'))).toBe(true);
    expect(await env.sut.detectHybrid()).toEqual({ hybrid: true, evidence: '_sipfederationtls._tcp.contoso.com → sipfed.contoso.com (not Microsoft 365)' });
  });
});
