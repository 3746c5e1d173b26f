/**
 * One instance of a race between processes (simulated-postgres.test.ts): it opens the simulated
 * tenant stored in PostgreSQL, says `ready`, and on a `go` line from the parent assigns the Resource
 * Account license to each account it was given, all at once; then it prints one line per account,
 * `{"id":…,"ok":true}` or `{"id":…,"ok":false,"reason":…}`, and `done`.
 *
 * Usage: node race-child.js <databaseUrl> <tenantId> <skuId> <accountId>…
 */
import { createInterface } from 'node:readline';
import { postgresStorage, SimulatedTenant } from '../../../src/backends/simulated/tenant';
import { createLogger } from '../../../src/log/logger';
import { DirectoryRefusal } from '../../../src/provisioning/result';
import { Database } from '../../../src/store/pg/database';

async function main(): Promise<void> {
  const [url = '', tenantId = '', skuId = '', ...ids] = process.argv.slice(2);
  const log = createLogger('silent');
  const db = new Database({ url, log });
  const tenant = await SimulatedTenant.open({ tenantId, storage: postgresStorage(db, { log }) });
  const go = new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      if (line === 'go') resolve();
    });
  });
  process.stdout.write('ready\n');
  await go;
  const outcomes = await Promise.allSettled(ids.map((id) => tenant.assignLicense(id, { addSkuIds: [skuId], removeSkuIds: [] })));
  outcomes.forEach((outcome, i) => {
    const id = ids[i];
    if (outcome.status === 'fulfilled') process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`);
    else {
      const reason = outcome.reason instanceof DirectoryRefusal ? outcome.reason.reason : String(outcome.reason);
      process.stdout.write(`${JSON.stringify({ id, ok: false, reason })}\n`);
    }
  });
  await tenant.close();
  await db.close();
  process.stdout.write('done\n');
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`race-child: ${String(error)}\n`);
  process.exit(1);
});
