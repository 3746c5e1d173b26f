/**
 * What a change to the simulated tenant costs at 10,000 accounts, on PostgreSQL beside the journaled
 * file, in the same run (issue 11: "a mutation at 10,000 accounts costs a few ms"). A measurement,
 * not a test: it asserts nothing about time and runs only when asked, since the numbers mean
 * something only on a quiet machine:
 *
 *   SWITCHBOARD_MEASURE=1 npx jest test/store/pg/tenant-cost
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { bigTenant } from '../../../bench/fixtures';
import { ms, summarize } from '../../../bench/stats';
import { postgresStorage, SimulatedTenant } from '../../../src/backends/simulated/tenant';
import { createLogger } from '../../../src/log/logger';
import { Database } from '../../../src/store/pg/database';
import { migrate } from '../../../src/store/pg/migrations';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';

const TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';
const ACCOUNTS = 10_000;
const SAMPLES = 400;

const measureIt = process.env.SWITCHBOARD_MEASURE === '1' ? it : it.skip;

async function timed(count: number, work: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await work(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

function line(what: string, samples: number[]): string {
  const s = summarize(samples);
  return `${what.padEnd(58)} p50 ${ms(s.p50).padStart(9)}   p99 ${ms(s.p99).padStart(9)}   max ${ms(s.max).padStart(9)}   (n=${s.n})`;
}

describe('cost of a change at 10,000 accounts', () => {
  jest.setTimeout(600_000);
  let server: TestPostgres;

  beforeAll(async () => {
    if (process.env.SWITCHBOARD_MEASURE === '1') server = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  measureIt('PostgreSQL (one and two instances) and the journaled file', async () => {
    const seed = (tenantId: string, now: Date) => bigTenant(tenantId, now, ACCOUNTS).state;
    const { accounts } = bigTenant(TENANT_ID, new Date(), ACCOUNTS);
    const ids = accounts.map((a) => a.id);
    const report: string[] = [];

    const url = await server.newDatabase();
    const log = createLogger('silent');
    const dbs = [new Database({ url, log }), new Database({ url, log })];
    await migrate(dbs[0]!, log);
    let start = performance.now();
    const a = await SimulatedTenant.open({ tenantId: TENANT_ID, storage: postgresStorage(dbs[0]!, { log }), seed });
    report.push(`PostgreSQL: first start (seeding ${ACCOUNTS} accounts, then loading them): ${ms(performance.now() - start)}`);
    start = performance.now();
    const b = await SimulatedTenant.open({ tenantId: TENANT_ID, storage: postgresStorage(dbs[1]!, { log }), seed });
    report.push(`PostgreSQL: a second instance's start (loading ${ACCOUNTS} accounts): ${ms(performance.now() - start)}`);

    await timed(50, (i) => a.updateAccount(ids[i]!, { displayName: `Warm ${i}` }));
    report.push(line('PostgreSQL: updateAccount, one instance, one at a time', await timed(SAMPLES, (i) => a.updateAccount(ids[i % ids.length]!, { displayName: `Renamed ${i}` }))));
    report.push(line('PostgreSQL: setUsageLocation, one instance, one at a time', await timed(SAMPLES, (i) => a.setUsageLocation(ids[(i * 7) % ids.length]!, i % 2 ? 'US' : 'FR'))));
    report.push(
      line(
        'PostgreSQL: createAccount, one instance, one at a time',
        await timed(SAMPLES / 2, (i) => a.createAccount({ userPrincipalName: `aa-cost-${i}@contoso.com`, displayName: `Cost ${i}`, accountType: 'autoAttendant' })),
      ),
    );
    report.push(line('PostgreSQL: getAccount (a read: one catch-up query)', await timed(SAMPLES, (i) => a.getAccount(ids[i % ids.length]!))));
    report.push(
      line(
        'PostgreSQL: updateAccount, two instances taking turns',
        await timed(SAMPLES, (i) => (i % 2 ? b : a).updateAccount(ids[(i * 3) % ids.length]!, { displayName: `Turns ${i}` })),
      ),
    );
    const together = await timed(40, (i) => Promise.all(Array.from({ length: 20 }, (_, k) => (k % 2 ? b : a).updateAccount(ids[(i * 20 + k) % ids.length]!, { displayName: `Together ${i}-${k}` }))));
    report.push(line('PostgreSQL: 20 updates at once over two instances (all 20)', together));
    await a.close();
    await b.close();
    for (const db of dbs) await db.close();

    const dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-cost-'));
    try {
      const file = await SimulatedTenant.open({ tenantId: TENANT_ID, file: path.join(dir, 'tenant.json'), seed });
      await timed(50, (i) => file.updateAccount(ids[i]!, { displayName: `Warm ${i}` }));
      report.push(line('file (journal): updateAccount, one at a time', await timed(SAMPLES, (i) => file.updateAccount(ids[i % ids.length]!, { displayName: `Renamed ${i}` }))));
      report.push(
        line(
          'file (journal): createAccount, one at a time',
          await timed(SAMPLES / 2, (i) => file.createAccount({ userPrincipalName: `aa-cost-${i}@contoso.com`, displayName: `Cost ${i}`, accountType: 'autoAttendant' })),
        ),
      );
      report.push(line('file (journal): getAccount', await timed(SAMPLES, (i) => file.getAccount(ids[i % ids.length]!))));
      await file.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    report.push(`load average: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} CPUs)`);
    process.stdout.write(`\n${report.join('\n')}\n`);
    expect(report.length).toBeGreaterThan(0);
  });
});
