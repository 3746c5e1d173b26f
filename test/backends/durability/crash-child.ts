/**
 * The process the kill -9 test kills (simulated-durability.test.ts): it opens a simulated tenant in
 * the directory it is given and runs `workers` concurrent workers of changes, printing
 * `try <json>` before each change and `ack <json>` once it resolved. The parent kills it at a random
 * moment and checks that every acknowledged change survived.
 *
 * Usage: node crash-child.js <dir> <seed> <workers> <compactAtBytes> [firstWorker]
 *
 * With a `postgres://` URL instead of a directory, the tenant is stored in that database
 * (simulated-postgres.test.ts): several children then share it, each with its own worker numbers
 * (from `firstWorker` on), so that their accounts and numbers do not collide.
 */
import path from 'node:path';
import { postgresStorage, SimulatedTenant } from '../../../src/backends/simulated/tenant';
import { createLogger } from '../../../src/log/logger';
import { Database } from '../../../src/store/pg/database';
import { migrate } from '../../../src/store/pg/migrations';
import { crashSeed, CRASH_TENANT_ID, type CrashStep } from './crash-model';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const say = (kind: 'try' | 'ack', step: CrashStep): void => void process.stdout.write(`${kind} ${JSON.stringify(step)}\n`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function run(tenant: SimulatedTenant, worker: number, random: () => number): Promise<void> {
  for (let k = 1; ; k++) {
    const upn = `crash-w${worker}-${k}@contoso.com`;
    say('try', { op: 'create', worker, upn });
    const { id } = await tenant.createAccount({ userPrincipalName: upn, displayName: 'New', accountType: 'autoAttendant' });
    const step = async (s: CrashStep, act: () => Promise<unknown>): Promise<void> => {
      say('try', s);
      await act();
      say('ack', s);
    };
    say('ack', { op: 'create', worker, upn, id });
    await step({ op: 'rename', worker, id, displayName: `W${worker} K${k} first` }, () => tenant.updateAccount(id, { displayName: `W${worker} K${k} first` }));
    await step({ op: 'location', worker, id, usageLocation: 'US' }, () => tenant.setUsageLocation(id, 'US'));
    await step({ op: 'license', worker, id }, () => tenant.assignLicense(id, { addSkuIds: [crashSeed.resourceAccountSku], removeSkuIds: [] }));
    const number = `+1425${String(worker).padStart(2, '0')}${String(k).padStart(5, '0')}`;
    let opId = '';
    await step({ op: 'assign', worker, id, number }, async () => {
      opId = (await tenant.assignNumber({ telephoneNumber: number, numberType: 'directRouting', assignmentTargetId: id })).id;
    });
    // Polling settles the operation through the tenant's observe(): that change must be durable too.
    while ((await tenant.getNumberOperation(opId))?.status === 'running') await sleep(2);
    await step({ op: 'rename', worker, id, displayName: `W${worker} K${k} second` }, () => tenant.updateAccount(id, { displayName: `W${worker} K${k} second` }));
    if (random() < 0.5) {
      await step({ op: 'unassign', worker, id, number }, () => tenant.unassignNumber({ telephoneNumber: number, numberType: 'directRouting' }));
      // Deleting while the unassignment runs would strand the number (DOMAIN.md F1): wait for it.
      while ((await tenant.getPhoneNumber(number)) !== null) await sleep(2);
      await step({ op: 'delete', worker, id }, () => tenant.deleteAccount(id));
    } else if (random() < 0.5) {
      await step({ op: 'unlicense', worker, id }, () => tenant.assignLicense(id, { addSkuIds: [], removeSkuIds: [crashSeed.resourceAccountSku] }));
    }
  }
}

async function main(): Promise<void> {
  const [dir = '', seed = '1', workers = '4', compactAtBytes = '8192', firstWorker = '0'] = process.argv.slice(2);
  const common = { tenantId: CRASH_TENANT_ID, seed: crashSeed.state, slowness: { numberOperationMs: 3 } };
  let tenant: SimulatedTenant;
  if (dir.startsWith('postgres://')) {
    const log = createLogger('silent');
    const db = new Database({ url: dir, log });
    await migrate(db, log);
    tenant = await SimulatedTenant.open({ ...common, storage: postgresStorage(db, { log }) });
  } else {
    tenant = await SimulatedTenant.open({ ...common, file: path.join(dir, 'tenant.json'), compactAtBytes: Number(compactAtBytes) });
  }
  process.stdout.write('ready\n');
  const ids = Array.from({ length: Number(workers) }, (_, w) => Number(firstWorker) + w);
  await Promise.all(ids.map((w) => run(tenant, w, prng(Number(seed) * 100 + w))));
}

main().catch((error: unknown) => {
  process.stderr.write(`crash-child: ${String(error)}\n`);
  process.exit(1);
});
