import { DEMO } from '../../src/backends/simulated/seed';
import { numberMatches, numberNeedle, type TenantDirectory } from '../../src/provisioning/directory';
import { FakeClock } from '../fakes/clock';
import { microsoft, simulated } from './harnesses';

const A = DEMO.accounts;
const DR = '+14255550199;ext=12';

/*
 * Why: admins look an account up by the number callers dial, written their way (Playground walk; the
 * forms below came from an attack review). A short run of digits with no "+" stays a name search, so
 * "2024" in an auto attendant's name does not also list every number holding 2024.
 */
describe('the account search reads a phone number as admins write it', () => {
  it.each([
    ['as cards show E.164', '+1 (425) 555-0100', '+14255550100', true],
    ['a national French form (trunk 0)', '01 70 00 01 00', '+33170000100', true],
    ['a French form with (0)', '+33 (0)1 70 00 01 00', '+33170000100', true],
    ['the international 00 prefix', '0033 1 70 00 01 00', '+33170000100', true],
    ['a Direct Routing number as the card shows it', DR, DR, true],
    ['with "x12" for the extension', '+1 425 555 0199 x12', DR, true],
    ['digits across number and extension', '019912', DR, false],
    ['a year in a name', '2024', '+14252024777', false],
    ['three digits', '911', '+19115550123', false],
  ])('%s: "%s" against %s', (_case, typed, number, matches) => {
    const needle = numberNeedle(typed);
    expect(needle !== null && numberMatches(number, needle)).toBe(matches);
  });

  describe.each([simulated, microsoft])('a Direct Routing number with an extension, on $name', (harness) => {
    jest.setTimeout(60_000);
    let sut: TenantDirectory;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const clock = new FakeClock();
      const opened = await harness.open(clock);
      sut = opened.sut;
      close = opened.close;
      await sut.assignNumber({ telephoneNumber: DR, numberType: 'directRouting', assignmentTargetId: A.kiosk.id });
      for (let i = 0; i < 20 && (await sut.getAccount(A.kiosk.id))?.phoneNumber == null; i++) await clock.sleep(60_000);
    });

    afterAll(async () => close());

    it.each([DR, '+1 425 555 0199', '4255550199', '+14255550199;EXT=12'])('is found by "%s"', async (text) => {
      const page = await sut.listAccounts({ offset: 0, limit: 10, text });
      expect(page.items.map((a) => a.userPrincipalName)).toEqual([A.kiosk.upn]);
    });
  });
});
