import { openMicrosoftDirectory, type MicrosoftDirectory, type MicrosoftDirectoryOptions } from '../../../src/backends/microsoft';
import type { Slowness } from '../../../src/backends/simulated/tenant';
import { microsoftEnv, microsoftOptions, TENANT_ID } from '../../contract/harnesses';
import { FakeClock } from '../../fakes/clock';
import { FakeMicrosoft365, type FakeMicrosoft365Options } from '../../fakes/microsoft365';

export { TENANT_ID };

export interface OverFake {
  fake: FakeMicrosoft365;
  sut: MicrosoftDirectory;
  clock: FakeClock;
  close(): Promise<void>;
}

/** The Microsoft backend over a fresh fake Microsoft 365 (demo tenant) on fake time. */
export async function openOverFake(
  options: {
    slowness?: Slowness;
    appOnly?: boolean;
    env?: NodeJS.ProcessEnv;
    backend?: Partial<MicrosoftDirectoryOptions>;
    /** Options of the fake itself (page size, Graph latency). */
    fake?: Partial<FakeMicrosoft365Options>;
    /** Changes the fake tenant before the backend opens (and warms its caches). */
    seed?: (fake: FakeMicrosoft365) => void;
  } = {},
): Promise<OverFake> {
  const clock = new FakeClock();
  const fake = await FakeMicrosoft365.start({
    tenantId: TENANT_ID,
    now: clock.now,
    ...(options.slowness ? { slowness: options.slowness } : {}),
    ...(options.appOnly ? { appOnly: true } : {}),
    ...options.fake,
  });
  try {
    options.seed?.(fake);
    const sut = await openMicrosoftDirectory(
      { ...microsoftEnv(fake), ...options.env },
      { ...microsoftOptions(fake, clock), ...options.backend },
    );
    return {
      fake,
      sut,
      clock,
      close: async () => {
        await sut.close();
        await fake.close();
      },
    };
  } catch (e) {
    await fake.close();
    throw e;
  }
}

/** A listening fake only, for tests that open the backend themselves. */
export async function startFake(options: { appOnly?: boolean } = {}): Promise<{ fake: FakeMicrosoft365; clock: FakeClock }> {
  const clock = new FakeClock();
  const fake = await FakeMicrosoft365.start({ tenantId: TENANT_ID, now: clock.now, ...(options.appOnly ? { appOnly: true } : {}) });
  return { fake, clock };
}

const opened = new Set<MicrosoftDirectory>();

/**
 * openMicrosoftDirectory for tests that open the backend themselves: what it opens is closed by
 * closeOpened() (the warm pwsh workers must not outlive the test).
 */
export async function openTracked(...args: Parameters<typeof openMicrosoftDirectory>): Promise<MicrosoftDirectory> {
  const sut = await openMicrosoftDirectory(...args);
  opened.add(sut);
  return sut;
}

export async function closeOpened(): Promise<void> {
  const all = [...opened];
  opened.clear();
  await Promise.all(all.map((sut) => sut.close()));
}
