import { DEMO } from '../../src/backends/simulated/seed';
import { aroundCalls, TENANT_CHANGES, type TenantDirectory } from '../../src/provisioning/directory';
import type { LicenseSku, ResourceAccount } from '../../src/provisioning/model';
import type { Step } from '../../src/provisioning/plans';
import { executeStep, type StepOutcome } from '../../src/provisioning/steps';
import { openMicrosoftDirectory, type MicrosoftDirectory } from '../../src/backends/microsoft';
import { FakeClock } from '../fakes/clock';
import { FakeMicrosoft365 } from '../fakes/microsoft365';
import { HARNESSES, microsoftEnv, microsoftOptions, TENANT_ID, type Opened } from './harnesses';

/**
 * Two runs of one step at once, in the worst order: each run's first change of the tenant is held
 * until the other run has reached one too (or ended), so both observe the tenant before either acts.
 * That is what a runner that stalled past its lease and the instance that took the plan over do.
 */
function twoRunsAtOnce(bases: TenantDirectory | [TenantDirectory, TenantDirectory]) {
  const [first, second] = Array.isArray(bases) ? bases : [bases, bases];
  let reached = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const acts: string[] = [];
  const run = (base: TenantDirectory): { directory: TenantDirectory; ended: () => void } => {
    let here = false;
    const reach = () => {
      if (here) return;
      here = true;
      if (++reached === 2) open();
    };
    const directory = aroundCalls(
      base,
      async (call, name) => {
        reach();
        await gate;
        acts.push(name);
        return call();
      },
      TENANT_CHANGES,
    );
    return { directory, ended: reach };
  };
  return { runs: [run(first), run(second)], acts };
}

interface Case {
  name: string;
  step: Step;
  /** The plan's account (null before createAccount made it). */
  account: { id: string | null; upn: string };
  /** Puts the tenant in the state the step starts from, where the demo tenant is not in it already. */
  arrange?: (directory: TenantDirectory) => Promise<void>;
  /** What the tenant shows once the step is done, whoever did it. */
  then: (directory: TenantDirectory, seats: SeatChange) => Promise<void>;
}

type SeatChange = (kind: LicenseSku['kind']) => Promise<number>;

const a = DEMO.accounts;
const account = async (directory: TenantDirectory, id: string): Promise<ResourceAccount> => (await directory.getAccount(id))!;

const CASES: Case[] = [
  {
    name: 'createAccount',
    step: { kind: 'createAccount', userPrincipalName: 'aa-twice@contoso.com', displayName: 'Twice', accountType: 'autoAttendant' },
    account: { id: null, upn: 'aa-twice@contoso.com' },
    then: async (directory) => {
      expect((await directory.listAccounts({ offset: 0, limit: 10, text: 'aa-twice' })).total).toBe(1);
      expect(await directory.findAccountByUpn('aa-twice@contoso.com')).toMatchObject({ displayName: 'Twice', accountType: 'autoAttendant' });
    },
  },
  {
    name: 'setUsageLocation',
    step: { kind: 'setUsageLocation', usageLocation: 'US' },
    account: { id: a.helpdesk.id, upn: a.helpdesk.upn },
    then: async (directory) => expect((await account(directory, a.helpdesk.id)).usageLocation).toBe('US'),
  },
  {
    name: 'assignLicense (one seat taken, not two)',
    step: { kind: 'assignLicense', license: 'resourceAccount' },
    account: { id: a.paris.id, upn: a.paris.upn },
    then: async (directory, seats) => {
      expect((await account(directory, a.paris.id)).assignedLicenses).toEqual([DEMO.skus.resourceAccount.skuId]);
      expect(await seats('resourceAccount')).toBe(1);
    },
  },
  {
    name: 'switchLicense (Phone System given back once, one seat taken)',
    step: { kind: 'switchLicense' },
    account: { id: a.reception.id, upn: a.reception.upn },
    then: async (directory, seats) => {
      expect((await account(directory, a.reception.id)).assignedLicenses).toEqual([DEMO.skus.resourceAccount.skuId]);
      expect(await seats('resourceAccount')).toBe(1);
      expect(await seats('phoneSystem')).toBe(-1);
    },
  },
  {
    name: 'assignNumber',
    step: { kind: 'assignNumber', telephoneNumber: DEMO.numbers.usToll[0]!, numberType: 'callingPlan' },
    account: { id: a.kiosk.id, upn: a.kiosk.upn },
    then: async (directory) => {
      expect(await directory.getPhoneNumber(DEMO.numbers.usToll[0]!)).toMatchObject({ assignmentTargetId: a.kiosk.id, activationState: 'activated' });
      expect((await account(directory, a.kiosk.id)).phoneNumber).toBe(DEMO.numbers.usToll[0]);
    },
  },
  {
    name: 'unassignNumber',
    step: { kind: 'unassignNumber', telephoneNumber: DEMO.numbers.mainLine, numberType: 'callingPlan' },
    account: { id: a.mainLine.id, upn: a.mainLine.upn },
    then: async (directory) => {
      expect(await directory.getPhoneNumber(DEMO.numbers.mainLine)).toMatchObject({ assignmentTargetId: null, activationState: 'activated' });
      expect((await account(directory, a.mainLine.id)).phoneNumber).toBeNull();
    },
  },
  {
    name: 'associate',
    step: { kind: 'associate', ...DEMO.voiceApps.afterHours },
    account: { id: a.kiosk.id, upn: a.kiosk.upn },
    then: async (directory) => expect((await account(directory, a.kiosk.id)).associations).toEqual([DEMO.voiceApps.afterHours]),
  },
  {
    name: 'dissociate',
    step: { kind: 'dissociate', configurationId: DEMO.voiceApps.mainLine.configurationId, name: DEMO.voiceApps.mainLine.name },
    account: { id: a.mainLine.id, upn: a.mainLine.upn },
    then: async (directory) => expect((await account(directory, a.mainLine.id)).associations).toEqual([]),
  },
  {
    name: 'updateAccount',
    step: { kind: 'updateAccount', displayName: 'Kiosk (lobby)' },
    account: { id: a.kiosk.id, upn: a.kiosk.upn },
    then: async (directory) => expect((await account(directory, a.kiosk.id)).displayName).toBe('Kiosk (lobby)'),
  },
  {
    name: 'blockSignIn',
    step: { kind: 'blockSignIn' },
    account: { id: a.kiosk.id, upn: a.kiosk.upn },
    then: async (directory) => expect((await account(directory, a.kiosk.id)).accountEnabled).toBe(false),
  },
  {
    name: 'deleteAccount',
    step: { kind: 'deleteAccount' },
    account: { id: a.paris.id, upn: a.paris.upn },
    then: async (directory) => {
      expect(await directory.getAccount(a.paris.id)).toBeNull();
      expect(await directory.findAccountByUpn(a.paris.upn)).toBeNull();
    },
  },
];

/*
 * Why: a runner stalled longer than its plan's lease (a long Graph call, a cut-off from PostgreSQL) may
 * still be inside a step when the instance that took the plan over runs the same step. Every step
 * observes before it acts, but two runs can both observe before either acts; the tenant then refuses
 * the second act (the number is already assigned, the account is gone…). That refusal must not fail a
 * plan whose step is in fact done: whichever runner holds the plan records its outcome. The two steps
 * that only read (awaitLicense, awaitOnPremisesAccount) have nothing to race on.
 */
// Every call of the Microsoft backend that needs Teams PowerShell goes to a (fake) pwsh worker.
jest.setTimeout(60_000);

describe.each(HARNESSES)('a step run twice at the same moment ends done for both runs, with the tenant changed once: $name', (harness) => {
  let opened: Opened;

  beforeEach(async () => {
    // No modelled delays: a number is assigned, a license provisioned, an account visible at once.
    opened = await harness.open(new FakeClock(), { licenseProvisioningMs: 0, numberOperationMs: 0, accountPropagationMs: 0 });
  });

  afterEach(async () => {
    await opened.close();
  });

  it.each(CASES)('$name', async ({ step, account: target, arrange, then }) => {
    const directory = opened.sut;
    await arrange?.(directory);
    const consumed = async () => new Map((await directory.getTenantFacts()).skus.map((s) => [s.kind, s.consumed]));
    const before = await consumed();
    const facts = await directory.getTenantFacts();
    const { runs, acts } = twoRunsAtOnce(directory);

    const outcomes: StepOutcome[] = await Promise.all(
      runs.map((run) => executeStep({ directory: run.directory, facts, accountId: target.id, userPrincipalName: target.upn }, step, { status: 'pending' }).finally(run.ended)),
    );

    // The race happened: both runs observed the step not done and went on to act.
    expect(acts).toHaveLength(2);
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done']);
    const ids = new Set(outcomes.map((o) => (o.status === 'done' ? o.accountId : undefined)));
    expect(ids.size).toBe(1);
    await then(directory, async (kind) => (await consumed()).get(kind)! - before.get(kind)!);
    // The seats of every other license are untouched, and the tenant's counts agree with its accounts.
    for (const [kind, count] of await consumed()) if (!['resourceAccount', 'phoneSystem'].includes(kind)) expect(count).toBe(before.get(kind));
  });

  it("a refused act the tenant does not show done is still the tenant's refusal, and looking again changes nothing", async () => {
    const directory = opened.sut;
    const other = await directory.createAccount({ userPrincipalName: 'aa-other@contoso.com', displayName: 'Other', accountType: 'autoAttendant' });
    await directory.setUsageLocation(other.id, 'US');
    await directory.assignLicense(other.id, { addSkuIds: [DEMO.skus.resourceAccount.skuId], removeSkuIds: [] });
    const number = DEMO.numbers.usToll[1]!;
    const assignments: string[] = [];
    // Someone else takes the number between our look and our act.
    const interposed = new Proxy(directory, {
      get(target, key, receiver) {
        if (key !== 'assignNumber') return Reflect.get(target, key, receiver) as unknown;
        return async (request: Parameters<TenantDirectory['assignNumber']>[0]) => {
          assignments.push(request.assignmentTargetId);
          await target.assignNumber({ telephoneNumber: number, numberType: 'callingPlan', assignmentTargetId: other.id });
          return target.assignNumber(request);
        };
      },
    });
    const step = { kind: 'assignNumber', telephoneNumber: number, numberType: 'callingPlan' } as const;
    const outcome = await executeStep({ directory: interposed, facts: await directory.getTenantFacts(), accountId: a.kiosk.id, userPrincipalName: a.kiosk.upn }, step, { status: 'pending' });

    // The tenant's own refusal (each backend words its parameters its own way).
    expect(outcome).toMatchObject({ status: 'failed', note: { reason: 'NUMBER_ALREADY_ASSIGNED' } });
    expect(assignments).toEqual([a.kiosk.id]);
    expect(await directory.getPhoneNumber(number)).toMatchObject({ assignmentTargetId: other.id });
    expect((await account(directory, a.kiosk.id)).phoneNumber).toBeNull();
  });

  it('an act whose answer is lost (a fault) is done when the tenant shows it done, and the fault stands when it does not', async () => {
    const directory = opened.sut;
    const lost = new Error('socket hang up');
    // The tenant blocks the sign-in, then the answer is lost on the way back.
    const answerLost = aroundCalls(directory, async (call, name) => {
      const answer = await call();
      if (name === 'blockSignIn') throw lost;
      return answer;
    });
    const ctx = { facts: await directory.getTenantFacts(), accountId: a.kiosk.id, userPrincipalName: a.kiosk.upn };
    expect(await executeStep({ ...ctx, directory: answerLost }, { kind: 'blockSignIn' }, { status: 'pending' })).toEqual({ status: 'done', acted: false, mayHaveActed: true });
    expect((await account(directory, a.kiosk.id)).accountEnabled).toBe(false);

    // The call never reached the tenant: the fault is the step's outcome (the plan parks with Retry).
    const neverSent = aroundCalls(directory, (call, name) => (name === 'updateAccount' ? Promise.reject(lost) : call()));
    await expect(executeStep({ ...ctx, directory: neverSent }, { kind: 'updateAccount', displayName: 'Kiosk (lobby)' }, { status: 'pending' })).rejects.toBe(lost);
    expect((await account(directory, a.kiosk.id)).displayName).toBe('Kiosk');
  });
});

/*
 * Two instances on the Microsoft backend each keep their own short-lived caches (voice apps, application
 * instances: src/backends/microsoft/context.ts). A run refused because the other instance acted first
 * must look again at the tenant, not at what it cached a moment before.
 */
describe('a step run twice at once by two instances of the Microsoft backend (each with its own caches)', () => {
  let clock: FakeClock;
  let fake: FakeMicrosoft365;
  let instances: MicrosoftDirectory[];

  beforeEach(async () => {
    clock = new FakeClock();
    fake = await FakeMicrosoft365.start({ tenantId: TENANT_ID, now: clock.now, slowness: { licenseProvisioningMs: 0, numberOperationMs: 0, accountPropagationMs: 0 } });
    instances = [await openMicrosoftDirectory(microsoftEnv(fake), microsoftOptions(fake, clock)), await openMicrosoftDirectory(microsoftEnv(fake), microsoftOptions(fake, clock))];
  });

  afterEach(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await fake.close();
  });

  it.each(CASES.filter((c) => c.account.id !== null))('$name', async ({ step, account: target, then }) => {
    const [one, two] = instances as [MicrosoftDirectory, MicrosoftDirectory];
    const consumed = async () => {
      two.dropCaches();
      return new Map((await two.getTenantFacts()).skus.map((s) => [s.kind, s.consumed]));
    };
    const before = await consumed();
    // Both instances have read the account (and the voice apps) before either acts: their caches are warm.
    for (const instance of instances) await instance.getAccount(target.id!);
    const facts = await one.getTenantFacts();
    const { runs, acts } = twoRunsAtOnce([one, two]);
    const outcomes = await Promise.all(
      runs.map((run) => executeStep({ directory: run.directory, facts, accountId: target.id, userPrincipalName: target.upn }, step, { status: 'pending' }).finally(run.ended)),
    );
    expect(acts).toHaveLength(2);
    expect(outcomes.map((o) => (o.status === 'failed' ? `failed ${o.note.reason}` : o.status))).toEqual(['done', 'done']);
    two.dropCaches();
    await then(two, async (kind) => (await consumed()).get(kind)! - before.get(kind)!);
  });
});
