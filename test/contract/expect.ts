import type { TenantDirectory } from '../../src/provisioning/directory';
import { DirectoryRefusal, type ReasonCode } from '../../src/provisioning/result';

/** Everything the port can see, to prove that a refusal changed nothing. */
export async function snapshot(sut: TenantDirectory) {
  return {
    facts: await sut.getTenantFacts(),
    accounts: await sut.listAccounts({ offset: 0, limit: 10_000 }),
    numbers: await sut.listPhoneNumbers({ offset: 0, limit: 10_000 }),
    voiceApps: await sut.listVoiceApplications(),
  };
}

export async function refusalOf(action: Promise<unknown>): Promise<DirectoryRefusal> {
  const outcome = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof DirectoryRefusal)) throw new Error(`expected a DirectoryRefusal, got ${String(outcome)}`);
  return outcome;
}

/** The tenant refuses with `reason` (and `field`, when given) and changes nothing. */
export async function expectRefusal(sut: TenantDirectory, act: () => Promise<unknown>, reason: ReasonCode, field?: string) {
  const before = await snapshot(sut);
  const refusal = await refusalOf(act());
  expect({ reason: refusal.reason, ...(field ? { field: refusal.field } : {}) }).toEqual({ reason, ...(field ? { field } : {}) });
  expect(await snapshot(sut)).toEqual(before);
  return refusal;
}
