import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openMicrosoftDirectory, type MicrosoftDirectoryOptions } from '../../src/backends/microsoft';
import { postgresStorage, SimulatedTenant, type Slowness } from '../../src/backends/simulated/tenant';
import { createLogger } from '../../src/log/logger';
import type { TenantDirectory } from '../../src/provisioning/directory';
import { Database } from '../../src/store/pg/database';
import { migrate } from '../../src/store/pg/migrations';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import type { FakeClock } from '../fakes/clock';
import { delegatedClaims, FakeCredential } from '../fakes/credential';
import { FAKE_PWSH, FakeMicrosoft365 } from '../fakes/microsoft365';

/** Both backends, opened on the same demo tenant (src/backends/simulated/seed.ts). */

export const TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';
export const CLIENT_ID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';

export interface Opened {
  sut: TenantDirectory;
  close(): Promise<void>;
}

export interface Harness {
  name: string;
  open(clock: FakeClock, slowness?: Slowness): Promise<Opened>;
}

export const simulated: Harness = {
  name: 'simulated tenant',
  async open(clock, slowness) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-contract-'));
    const sut = await SimulatedTenant.open({ file: path.join(dir, 'tenant.json'), tenantId: TENANT_ID, now: clock.now, ...(slowness ? { slowness } : {}) });
    return {
      sut,
      close: async () => {
        await sut.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/**
 * One PostgreSQL server for a test file's tenants (a database each), started on first use and stopped
 * after the file by the afterAll below. Registered here, on import, so that no file can forget it: one
 * server left running keeps a jest that runs in band (one file alone; every file, on a 2-core machine
 * before jest.config.js asked for two workers) from exiting — a CI run hung until its deadline when
 * doctor.contract.test.ts had no afterAll of its own.
 */
let sharedServer: Promise<TestPostgres> | undefined;
afterAll(() => closeSharedPostgres(), 60_000);

export function sharedPostgres(): Promise<TestPostgres> {
  sharedServer ??= startPostgres();
  return sharedServer;
}

export async function closeSharedPostgres(): Promise<void> {
  const server = sharedServer;
  sharedServer = undefined;
  if (server) await (await server).close();
}

/** The simulated tenant stored in PostgreSQL (src/store/pg/tenant.ts), on a database of its own. */
export const simulatedOnPostgres: Harness = {
  name: 'simulated tenant on PostgreSQL',
  async open(clock, slowness) {
    const url = await (await sharedPostgres()).newDatabase();
    const log = createLogger('silent');
    const db = new Database({ url, log });
    try {
      await migrate(db, log);
      const sut = await SimulatedTenant.open({ storage: postgresStorage(db, { log }), tenantId: TENANT_ID, now: clock.now, ...(slowness ? { slowness } : {}) });
      return {
        sut,
        close: async () => {
          await sut.close();
          await db.close();
        },
      };
    } catch (e) {
      await db.close();
      throw e;
    }
  },
};

/** The environment that points the backend at a fake, with the fake pwsh. */
export function microsoftEnv(fake: FakeMicrosoft365): NodeJS.ProcessEnv {
  return {
    SWITCHBOARD_GRAPH_BASE_URL: fake.graphBaseUrl,
    SWITCHBOARD_M365_TENANT_ID: TENANT_ID,
    SWITCHBOARD_M365_CLIENT_ID: CLIENT_ID,
    SWITCHBOARD_PWSH_PATH: FAKE_PWSH,
    SWITCHBOARD_PWSH_TIMEOUT_SECONDS: '30',
  };
}

/** Options for a backend on fake time: its sleeps let the fake tenant's time pass. */
export function microsoftOptions(fake: FakeMicrosoft365, clock: FakeClock): MicrosoftDirectoryOptions {
  return {
    credential: new FakeCredential(delegatedClaims(TENANT_ID)),
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    pwshEnv: fake.pwshEnv(),
  };
}

export const microsoft: Harness = {
  name: 'microsoft backend over fake Graph and fake pwsh',
  async open(clock, slowness) {
    const fake = await FakeMicrosoft365.start({ tenantId: TENANT_ID, now: clock.now, ...(slowness ? { slowness } : {}) });
    try {
      const sut = await openMicrosoftDirectory(microsoftEnv(fake), microsoftOptions(fake, clock));
      return {
        sut,
        close: async () => {
          // The warm pwsh workers stop with the backend.
          await sut.close();
          await fake.close();
        },
      };
    } catch (e) {
      await fake.close();
      throw e;
    }
  },
};

export const HARNESSES: Harness[] = [simulated, simulatedOnPostgres, microsoft];
