import { DEMO, demoTenant } from '../../../src/backends/simulated/seed';
import { openOverFake, type OverFake } from './helpers';

/**
 * Fewer round trips to Microsoft (issue 13 part 2): what each command costs in Graph requests and
 * cmdlets over the fake, and the per-command line in the debug log.
 */

jest.setTimeout(60_000);

const ACCOUNTS = 1_000;
/** The demo tenant's own accounts that hold a number (src/backends/simulated/seed.ts). */
const SEEDED_WITH_NUMBER = Object.values(demoTenant('t', new Date()).accounts).filter((a) => a.phoneNumber !== null).length;

describe('round trips per command, 1,000 extra accounts', () => {
  let env: OverFake;
  const debug = jest.fn();
  beforeAll(async () => {
    env = await openOverFake({
      // Graph pages users by the $top asked (999), as documented.
      fake: { maxPageSize: 999 },
      seed: (fake) => fake.tenant.addResourceAccounts(ACCOUNTS),
      backend: { log: { info: jest.fn(), warn: jest.fn(), error: jest.fn(), debug } },
    });
  });
  afterAll(() => env.close());
  beforeEach(() => debug.mockClear());

  /** What one command cost, seen from the fake's side: HTTP round trips to Graph and cmdlets. */
  async function cost<T>(work: () => Promise<T>): Promise<{ value: T; roundTrips: number; cmdlets: number; starts: number }> {
    const [roundTrips, cmdlets, starts] = [env.fake.graphRoundTrips, env.fake.pwshCalls.length, env.fake.pwshProcesses.length];
    const value = await work();
    return {
      value,
      roundTrips: env.fake.graphRoundTrips - roundTrips,
      cmdlets: env.fake.pwshCalls.length - cmdlets,
      starts: env.fake.pwshProcesses.length - starts,
    };
  }

  it('lists 1,000 accounts and the demo ones from cold caches in at most 3 Graph round trips and 1 cmdlet, and from warm ones in none', async () => {
    env.sut.dropCaches();
    const cold = await cost(() => env.sut.listAccounts({ offset: 0, limit: 10, hasNumber: true }));
    expect(cold.value.total).toBe(ACCOUNTS / 2 + SEEDED_WITH_NUMBER);
    // Facts (organization + subscribedSkus) in one batch; users and numbers page for page in two more.
    expect(cold.roundTrips).toBeLessThanOrEqual(3);
    // The instance list, the only source of types (§3.2); list items carry no associations, so the AA
    // and CQ lists are not read.
    expect(cold.cmdlets).toBe(1);
    expect(cold.value.items.every((a) => !('associations' in a))).toBe(true);
    expect(cold.starts).toBe(0);

    const warm = await cost(() => env.sut.listAccounts({ offset: 10, limit: 10 }));
    expect(warm).toMatchObject({ roundTrips: 0, cmdlets: 0, starts: 0 });
  });

  it('shows one account in one Graph round trip (user and numbers in one $batch), no cmdlet when the Teams listings are cached', async () => {
    await env.sut.getAccount(DEMO.accounts.sales.id);
    const show = await cost(() => env.sut.getAccount(DEMO.accounts.mainLine.id));
    expect(show.value?.phoneNumber).toBe(DEMO.numbers.mainLine);
    expect(show).toMatchObject({ roundTrips: 1, cmdlets: 0 });
  });

  it('reads the AA and CQ lists for an account, not for a list: its associations come with it', async () => {
    env.sut.dropCaches();
    await env.sut.listAccounts({ offset: 0, limit: 10 });
    const show = await cost(() => env.sut.getAccount(DEMO.accounts.mainLine.id));
    expect(show.value?.associations).toEqual([expect.objectContaining({ name: 'Main line' })]);
    // Get-CsAutoAttendant and Get-CsCallQueue; the instance list is still cached from the listing.
    expect(show.cmdlets).toBe(2);
  });

  it('deletes in two round trips: the account with its numbers, then DELETE', async () => {
    await env.sut.listAccounts({ offset: 0, limit: 1 });
    const removed = await cost(() => env.sut.deleteAccount(DEMO.accounts.helpdesk.id));
    expect(removed).toMatchObject({ roundTrips: 2, cmdlets: 0 });
  });

  it('logs what each command cost at debug level', async () => {
    env.sut.dropCaches();
    await env.sut.listAccounts({ offset: 0, limit: 10 });
    expect(debug).toHaveBeenCalledTimes(1);
    const [fields, message] = debug.mock.calls[0] as [Record<string, unknown>, string];
    expect(message).toBe('Microsoft 365 command');
    expect(fields).toMatchObject({ command: 'listAccounts', ok: true, cmdlets: 1, processStarts: 0, connects: 0 });
    expect(fields.graphRequests).toBeLessThanOrEqual(3);
    expect(fields.graphBatches).toBeGreaterThanOrEqual(2);
    expect(fields.ms).toEqual(expect.any(Number));

    debug.mockClear();
    await expect(env.sut.createAccount({ userPrincipalName: 'aa-logged@contoso.com', displayName: 'Logged', accountType: 'autoAttendant' })).resolves.toBeDefined();
    expect(debug.mock.calls[0]?.[0]).toMatchObject({ command: 'createAccount', ok: true, cmdlets: 1, graphRequests: 1, processStarts: 0, connects: 0 });
  });

  it('counts the work no command waited for apart (boot, replacements)', () => {
    const { total, background } = env.sut.counts();
    // Two workers started and connected at boot; none since.
    expect(background).toMatchObject({ processStarts: 2, connects: 2 });
    expect(total.cmdlets).toBeGreaterThan(background.cmdlets);
  });
});

/*
 * A failed association makes this instance read the voice apps afresh (another instance may have
 * changed them: the step looks again, src/provisioning/steps.ts). An account that is only propagating
 * must not: its steps poll it every few seconds, and each drop would cost a full Teams listing.
 */
describe('round trips while a new account propagates', () => {
  let env: OverFake;
  beforeAll(async () => {
    env = await openOverFake({ slowness: { licenseProvisioningMs: 0, numberOperationMs: 0, accountPropagationMs: 600_000 } });
  });
  afterAll(() => env.close());

  it('polling changes on an account not visible yet re-lists nothing: each poll costs its own calls only', async () => {
    const created = await env.sut.createAccount({ userPrincipalName: 'aa-propagating@contoso.com', displayName: 'Propagating', accountType: 'autoAttendant' });
    // Graph does not see the account yet; Teams says so in the words seen in the field (teams-apis.md §3.5).
    env.fake.failPwsh({ kind: 'error', cmdlet: 'New-CsOnlineApplicationInstanceAssociation', message: `The user '${created.id}' is not found`, times: 5 });
    const reasons: string[] = [];
    const cmdlets = env.fake.pwshCalls.length;
    for (let poll = 0; poll < 5; poll++) {
      await env.sut.setUsageLocation(created.id, 'US').catch((e: { reason?: string }) => reasons.push(e.reason ?? 'fault'));
      await env.sut.associate(created.id, DEMO.voiceApps.afterHours.configurationId).catch((e: { reason?: string }) => reasons.push(e.reason ?? 'fault'));
    }
    expect(reasons).toEqual(Array(10).fill('ACCOUNT_NOT_YET_VISIBLE'));
    // Each association attempt reads the account's association afresh and tries; no listing of the tenant's instances or voice apps.
    const names = env.fake.pwshCalls.slice(cmdlets).map((c) => c.cmdlet);
    expect(names.filter((name) => !['Get-CsOnlineApplicationInstanceAssociation', 'New-CsOnlineApplicationInstanceAssociation'].includes(name))).toEqual([]);
  });
});
