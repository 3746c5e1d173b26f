import { DEMO } from '../../src/backends/simulated/seed';
import { diagnose } from '../../src/provisioning/doctor';
import { FakeClock } from '../fakes/clock';
import { expectRefusal } from './expect';
import { HARNESSES, type Opened } from './harnesses';

/**
 * What the tenant doctor sees (TenantDirectory.scanTenant, blockSignIn, the organization's country),
 * the same from the simulated tenant and from the Microsoft backend over the fake Graph and fake pwsh:
 * the demo tenant's seed holds one example of each problem (src/backends/simulated/seed.ts).
 */

const A = DEMO.accounts;
const V = DEMO.voiceApps;
const N = DEMO.numbers;

jest.setTimeout(60_000);

/** Every finding the demo tenant holds, in the doctor's order. */
const DEMO_FINDINGS = [
  ['BROKEN_BY_LICENSE_SWITCH', A.invoices.id],
  ['NUMBER_STUCK_PENDING', N.stuck],
  ['VOICE_APP_ACCOUNT_GONE', V.deliveries.configurationId],
  ['NUMBER_ON_UNLICENSED_ACCOUNT', A.orders.id],
  ['VOICE_APP_ACCOUNT_UNLICENSED', A.holidays.id],
  ['USER_NUMBER_ON_RESOURCE_ACCOUNT', A.returns.id],
  ['NUMBER_COUNTRY_MISMATCH', A.lyon.id],
  ['TYPE_DIFFERS_FROM_VOICE_APP', A.escalations.id],
  ['SIGN_IN_ENABLED', A.kiosk.id],
  ['PHONE_STANDARD_ON_RESOURCE_ACCOUNT', A.reception.id],
  ['LICENSE_WITHOUT_USAGE_LOCATION', A.events.id],
  ['RESOURCE_LICENSE_ON_USER', DEMO.users.leeGu.id],
  ['ACCOUNT_UNLICENSED', A.paris.id],
  ['ACCOUNT_UNLICENSED', A.helpdesk.id],
  ...[A.kiosk, A.lyon, A.orders, A.paris, A.reception, A.events, A.helpdesk, A.returns].map((a) => ['ACCOUNT_UNUSED', a.id]),
];

describe.each(HARNESSES)('the tenant doctor\'s view: $name', (harness) => {
  let clock: FakeClock;
  let opened: Opened;
  const sut = () => opened.sut;

  describe('scanning the demo tenant', () => {
    beforeAll(async () => {
      clock = new FakeClock();
      opened = await harness.open(clock);
    });
    afterAll(() => opened.close());

    it('finds one example of each problem', async () => {
      const [scan, facts] = await Promise.all([sut().scanTenant(), sut().getTenantFacts()]);
      const { findings, accounts, phoneStandardSeatsFreed } = diagnose(scan, facts);
      expect(findings.map((f) => [f.code, f.subjectId])).toEqual(DEMO_FINDINGS);
      expect({ accounts, phoneStandardSeatsFreed }).toEqual({ accounts: 14, phoneStandardSeatsFreed: 1 });
      expect(findings.find((f) => f.code === 'NUMBER_COUNTRY_MISMATCH')?.params).toEqual({ upn: A.lyon.upn, number: N.lyon, numberCountry: 'US', usageLocation: 'FR' });
      expect(findings.find((f) => f.code === 'TYPE_DIFFERS_FROM_VOICE_APP')?.params).toEqual({
        upn: A.escalations.upn,
        voiceApp: V.escalations.name,
        accountType: 'autoAttendant',
        voiceAppType: 'callQueue',
      });
    });

    it('reads what the doctor needs: sign-in, broken accounts, numbers on deleted objects, AA/CQs listing gone accounts, users holding the license', async () => {
      const scan = await sut().scanTenant();
      expect(scan.accounts.map((a) => a.userPrincipalName)).toHaveLength(14);
      expect(scan.accounts.filter((a) => a.accountEnabled).map((a) => a.id)).toEqual([A.kiosk.id]);
      expect(scan.accounts.filter((a) => a.broken).map((a) => a.id)).toEqual([A.invoices.id]);
      expect(scan.numbers.find((n) => n.telephoneNumber === N.stuck)).toMatchObject({ assignmentTargetId: DEMO.deletedAccountId, activationState: 'assignmentPending' });
      expect(scan.numbers.find((n) => n.telephoneNumber === N.returnsUserNumber)).toMatchObject({ assignmentTargetId: A.returns.id, capabilities: ['userAssignment'] });
      expect(scan.voiceApplications.find((v) => v.configurationId === V.deliveries.configurationId)?.accountIds).toEqual([DEMO.deletedAccountId]);
      expect(scan.usersWithResourceAccountLicense).toEqual([
        { id: DEMO.users.leeGu.id, userPrincipalName: DEMO.users.leeGu.upn, displayName: DEMO.users.leeGu.displayName, assignedLicenses: [DEMO.skus.resourceAccount.skuId] },
      ]);
    });

    it('knows the organization\'s country (the add form\'s default usage location)', async () => {
      expect((await sut().getTenantFacts()).countryLetterCode).toBe('US');
    });
  });

  describe('blocking sign-in', () => {
    beforeEach(async () => {
      clock = new FakeClock();
      opened = await harness.open(clock);
    });
    afterEach(() => opened.close());

    it('blocks it on a resource account, once, and the doctor no longer finds it', async () => {
      expect(await sut().blockSignIn(A.kiosk.id)).toMatchObject({ id: A.kiosk.id, accountEnabled: false });
      expect(await sut().blockSignIn(A.kiosk.id)).toMatchObject({ accountEnabled: false });
      expect((await sut().getAccount(A.kiosk.id))?.accountEnabled).toBe(false);
      const [scan, facts] = await Promise.all([sut().scanTenant(), sut().getTenantFacts()]);
      expect(diagnose(scan, facts).findings.map((f) => f.code)).not.toContain('SIGN_IN_ENABLED');
    });

    it('refuses an object that is no resource account', async () => {
      await expectRefusal(sut(), () => sut().blockSignIn(DEMO.users.leeGu.id), 'ACCOUNT_NOT_FOUND');
    });
  });
});
