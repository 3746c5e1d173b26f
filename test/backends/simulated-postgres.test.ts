/**
 * The simulated tenant stored in PostgreSQL (issue 11): several instances share one tenant with the
 * behaviour and the durability of the file version. What one instance changes the others see; a
 * check-then-change (the last seat, a free number) holds across instances; a change resolves only
 * once committed, and one that could not be committed is gone from memory; bad rows are set aside.
 * Against a real PostgreSQL (test/helpers/postgres.ts), several instances in this process (each with
 * a pool of its own, as separate processes have) and, at the end, in real child processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { DEMO, demoTenant } from '../../src/backends/simulated/seed';
import type { TenantState } from '../../src/backends/simulated/state';
import { postgresStorage, SimulatedTenant, type Quarantined, type SimulatedTenantOptions } from '../../src/backends/simulated/tenant';
import { createLogger } from '../../src/log/logger';
import { freeSeats } from '../../src/provisioning/model';
import { DirectoryRefusal } from '../../src/provisioning/result';
import { StoreUnavailableError } from '../../src/store/errors';
import { Database } from '../../src/store/pg/database';
import { migrate } from '../../src/store/pg/migrations';
import { prng } from '../../bench/fixtures';
import { FakeClock } from '../fakes/clock';
import { startPostgres, type TestPostgres } from '../helpers/postgres';
import { CuttingProxy } from '../store/pg/cuttingProxy';
import { after, CRASH_TENANT_ID, type CrashStep, crashSeed, type Expected, inconsistencies, observed, same, seatsOutside } from './durability/crash-model';
import { asStored, compileChildren, TENANT_ID, until } from './durability/helpers';

jest.setTimeout(120_000);

const RA = DEMO.skus.resourceAccount.skuId;
const A = DEMO.accounts;
const N = DEMO.numbers;
const MINUTE = 60_000;
/** Only the commit statement of src/store/pg/tenant.ts holds this text. */
const COMMIT_STATEMENT = 'ON CONFLICT (collection, key) DO UPDATE';

let server: TestPostgres;
let clock: FakeClock;
/** Closed after each test, newest first (a tenant before the pool it uses). */
let toClose: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  clock = new FakeClock();
});

afterEach(async () => {
  await server.start(); // a test that stopped it may have failed before starting it again
  for (const close of toClose.reverse()) await close().catch(() => undefined);
  toClose = [];
});

interface Instance {
  tenant: SimulatedTenant;
  db: Database;
  /** Its log lines at warn and above (JSON). */
  logs: string[];
  quarantined: Quarantined[];
}

/** One instance on the database `url`: its own pool, migrations, tenant — as a process of its own has. */
async function instance(url: string, options: Partial<SimulatedTenantOptions> & { keepCommits?: number } = {}): Promise<Instance> {
  const logs: string[] = [];
  const log = createLogger('warn', { write: (line: string) => void logs.push(line) });
  const db = new Database({ url, log });
  toClose.push(() => db.close());
  await migrate(db, log);
  const quarantined: Quarantined[] = [];
  const { keepCommits, ...rest } = options;
  const tenant = await SimulatedTenant.open({
    storage: postgresStorage(db, { log, ...(keepCommits !== undefined ? { keepCommits } : {}) }),
    tenantId: TENANT_ID,
    now: clock.now,
    onQuarantine: (item) => quarantined.push(item),
    ...rest,
  });
  toClose.push(() => tenant.close());
  return { tenant, db, logs, quarantined };
}

/** The tenant as the database holds it now: a fresh instance's view, closed again. */
async function stored(url: string, options: Partial<SimulatedTenantOptions> = {}): Promise<unknown> {
  const fresh = await instance(url, options);
  const state = fresh.tenant.exportState();
  await fresh.tenant.close();
  return asStored(state);
}

/** The tenant an instance holds, once it caught up (a read does). */
async function current(tenant: SimulatedTenant): Promise<unknown> {
  await tenant.getTenantFacts();
  return asStored(tenant.exportState());
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const reasonOf = (outcome: PromiseSettledResult<unknown>): string =>
  outcome.status === 'fulfilled' ? 'ok' : outcome.reason instanceof DirectoryRefusal ? outcome.reason.reason : String(outcome.reason);

/** The demo tenant with exactly `free` Resource Account seats free. */
const withFreeSeats =
  (free: number) =>
  (tenantId: string, now: Date): TenantState => {
    const state = demoTenant(tenantId, now);
    for (const sku of state.skus) if (sku.skuId === RA) sku.enabled = sku.consumed + free;
    return state;
  };

/** Accounts made through `tenant`, each with a usage location (ready for a license). */
async function readyAccounts(tenant: SimulatedTenant, prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await tenant.createAccount({ userPrincipalName: `${prefix}-${i}@contoso.com`, displayName: `${prefix} ${i}`, accountType: 'autoAttendant' });
    await tenant.setUsageLocation(id, 'US');
    ids.push(id);
  }
  return ids;
}

describe('several instances share one tenant', () => {
  it('a change made through one instance is seen by the other at its next read', async () => {
    const url = await server.newDatabase();
    const [a, b] = [await instance(url), await instance(url)];
    const created = await a.tenant.createAccount({ userPrincipalName: 'aa-shared@contoso.com', displayName: 'Shared', accountType: 'autoAttendant' });
    expect(await b.tenant.findAccountByUpn('AA-SHARED@contoso.com')).toEqual(created);
    expect((await b.tenant.listAccounts({ offset: 0, limit: 50 })).total).toBe(Object.keys(demoTenant(TENANT_ID, clock.now()).accounts).length + 1);

    await b.tenant.updateAccount(created.id, { displayName: 'Renamed on B' });
    expect((await a.tenant.getAccount(created.id))?.displayName).toBe('Renamed on B');
    // The list order follows a rename made elsewhere (the account index looks again).
    expect((await a.tenant.listAccounts({ offset: 0, limit: 50, text: 'renamed' })).items.map((x) => x.id)).toEqual([created.id]);

    await a.tenant.deleteAccount(created.id);
    expect(await b.tenant.getAccount(created.id)).toBeNull();
    expect(await b.tenant.findAccountByUpn('aa-shared@contoso.com')).toBeNull();
    expect(await current(a.tenant)).toEqual(await current(b.tenant));
    expect(await stored(url)).toEqual(await current(a.tenant));
  });

  it('20 license assignments at once, spread over both, with 5 seats free: exactly 5 succeed, and the seats add up everywhere', async () => {
    const url = await server.newDatabase();
    const seed = withFreeSeats(5);
    const [a, b] = [await instance(url, { seed }), await instance(url, { seed })];
    const ids = [...(await readyAccounts(a.tenant, 'aa-seat-a', 10)), ...(await readyAccounts(b.tenant, 'aa-seat-b', 10))];
    const outcomes = await Promise.allSettled(ids.map((id, i) => (i % 2 === 0 ? a : b).tenant.assignLicense(id, { addSkuIds: [RA], removeSkuIds: [] })));
    expect(outcomes.map(reasonOf).sort()).toEqual([...Array<string>(15).fill('LICENSE_NO_FREE_SEAT'), ...Array<string>(5).fill('ok')]);
    const winners = ids.filter((_, i) => outcomes[i]!.status === 'fulfilled');
    for (const tenant of [a.tenant, b.tenant]) {
      const sku = (await tenant.getTenantFacts()).skus.find((s) => s.skuId === RA)!;
      expect(freeSeats(sku)).toBe(0);
      const holders = (await tenant.listAccounts({ offset: 0, limit: 100, text: 'aa-seat', licensed: true })).items.map((x) => x.id);
      expect(holders.sort()).toEqual([...winners].sort());
    }
    const fresh = (await stored(url, { seed })) as TenantState;
    expect(inconsistencies(fresh, seatsOutside(seed(TENANT_ID, clock.now())))).toEqual([]);
  });

  it('two instances assigning the same number at the same moment: one gets it, the other is told it is taken', async () => {
    const url = await server.newDatabase();
    const [a, b] = [await instance(url), await instance(url)];
    const ids = await readyAccounts(a.tenant, 'aa-number', 10);
    for (const id of ids) await a.tenant.assignLicense(id, { addSkuIds: [RA], removeSkuIds: [] });
    for (let round = 0; round < 5; round++) {
      const telephoneNumber = N.usPool[round]!;
      const targets = [ids[2 * round]!, ids[2 * round + 1]!];
      const outcomes = await Promise.allSettled([
        a.tenant.assignNumber({ telephoneNumber, numberType: 'callingPlan', assignmentTargetId: targets[0]! }),
        b.tenant.assignNumber({ telephoneNumber, numberType: 'callingPlan', assignmentTargetId: targets[1]! }),
      ]);
      expect(outcomes.map(reasonOf).sort()).toEqual(['NUMBER_ALREADY_ASSIGNED', 'ok']);
      const winner = targets[outcomes.findIndex((o) => o.status === 'fulfilled')];
      for (const tenant of [a.tenant, b.tenant]) {
        expect(await tenant.getPhoneNumber(telephoneNumber)).toMatchObject({ assignmentTargetId: winner, activationState: 'activated' });
        expect((await tenant.getAccount(winner!))?.phoneNumber).toBe(telephoneNumber);
      }
    }
    expect(inconsistencies((await stored(url)) as TenantState, seatsOutside(demoTenant(TENANT_ID, clock.now())))).toEqual([]);
  });

  it('four instances changing the tenant without pause: every change commits (losing a race costs a retry, never a refusal), and the seats add up', async () => {
    const url = await server.newDatabase();
    const all = await Promise.all([0, 1, 2, 3].map(() => instance(url)));
    const perInstance = await Promise.all(all.map((x, i) => readyAccounts(x.tenant, `aa-busy-${i}`, 3)));
    const rounds = 25;
    await Promise.all(
      all.map(async (x, i) => {
        for (let round = 0; round < rounds; round++) {
          // Three changes at once per instance, each instance in its own loop: constant contention.
          await Promise.all(
            perInstance[i]!.map((id, k) =>
              (round + k) % 2 === 0 ? x.tenant.assignLicense(id, { addSkuIds: [RA], removeSkuIds: [] }) : x.tenant.assignLicense(id, { addSkuIds: [], removeSkuIds: [RA] }),
            ),
          );
        }
      }),
    );
    const views = await Promise.all(all.map((x) => current(x.tenant)));
    for (const view of views) expect(view).toEqual(views[0]);
    expect(inconsistencies(views[0] as TenantState, seatsOutside(demoTenant(TENANT_ID, clock.now())))).toEqual([]);
    // The last round decides: account k of each instance ends licensed when (rounds - 1 + k) is even
    // (two of three after an odd number of rounds, one of three after an even one); 5 were taken before.
    const licensed = (views[0] as TenantState).skus.find((x) => x.skuId === RA)!.consumed;
    const before = demoTenant(TENANT_ID, clock.now()).skus.find((x) => x.skuId === RA)!.consumed;
    expect(licensed).toBe(before + 4 * (rounds % 2 === 1 ? 2 : 1));
  });

  it('random changes and refusals through three instances at once end in one tenant, the one the database holds', async () => {
    const url = await server.newDatabase();
    const slowness = { numberOperationMs: MINUTE, licenseProvisioningMs: 2 * MINUTE };
    const all = [await instance(url, { slowness }), await instance(url, { slowness }), await instance(url, { slowness })];
    const random = prng(11);
    const any = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    let refused = 0;
    for (let step = 0; step < 60; step++) {
      const calls = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, k) => {
        const tenant = any(all).tenant;
        const state = tenant.exportState();
        const accounts = Object.keys(state.accounts);
        const roll = random();
        if (roll < 0.2) return tenant.createAccount({ userPrincipalName: `aa-r${step}-${k}@contoso.com`, displayName: `R ${step}`, accountType: 'autoAttendant' });
        if (roll < 0.35) return tenant.setUsageLocation(any(accounts), any(['US', 'FR']));
        if (roll < 0.55) return tenant.assignLicense(any(accounts), random() < 0.6 ? { addSkuIds: [RA], removeSkuIds: [] } : { addSkuIds: [], removeSkuIds: [RA] });
        if (roll < 0.75) return tenant.assignNumber({ telephoneNumber: any(N.usPool), numberType: 'callingPlan', assignmentTargetId: any(accounts) });
        if (roll < 0.85) return tenant.unassignNumber({ telephoneNumber: any(N.usPool), numberType: 'callingPlan' });
        if (roll < 0.92) return tenant.deleteAccount(any(accounts));
        clock.advance(Math.floor(random() * 2 * MINUTE));
        return tenant.listAccounts({ offset: 0, limit: 5 });
      });
      refused += (await Promise.allSettled(calls)).filter((o) => o.status === 'rejected').length;
    }
    expect(refused).toBeGreaterThan(10);
    const views = await Promise.all(all.map((x) => current(x.tenant)));
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
    expect(await stored(url, { slowness })).toEqual(views[0]);
    expect(inconsistencies(views[0] as TenantState, seatsOutside(demoTenant(TENANT_ID, clock.now())))).toEqual([]);
  });
});

describe('seeding and start-up', () => {
  it('two instances starting together on an empty database: the tenant is seeded once, and both hold it', async () => {
    const url = await server.newDatabase();
    const named = (displayName: string) => (tenantId: string, now: Date): TenantState => ({ ...demoTenant(tenantId, now), displayName });
    const [a, b] = await Promise.all([instance(url, { seed: named('Seed A') }), instance(url, { seed: named('Seed B') })]);
    const [factsA, factsB] = [await a.tenant.getTenantFacts(), await b.tenant.getTenantFacts()];
    expect(factsA.displayName).toBe(factsB.displayName);
    expect(['Seed A', 'Seed B']).toContain(factsA.displayName);
    expect(await sql(url, 'SELECT seq FROM sim_commits WHERE seq = 1')).toHaveLength(1);
    expect(await current(a.tenant)).toEqual(await current(b.tenant));
  });

  it('refuses a database that holds another tenant, saying which', async () => {
    const url = await server.newDatabase();
    await instance(url);
    await expect(instance(url, { tenantId: 'another-tenant' })).rejects.toThrow(/holds tenant 7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f, not another-tenant/);
  });
});

describe('the database out of reach (an outage)', () => {
  it('changes and reads are refused with StoreUnavailableError and nothing is half-done; once it is back, changes work without a restart', async () => {
    const url = await server.newDatabase();
    const [a, b] = [await instance(url), await instance(url)];
    await a.tenant.updateAccount(A.paris.id, { displayName: 'Before the outage' });
    const before = a.tenant.exportState();
    await server.stop();
    await expect(a.tenant.updateAccount(A.paris.id, { displayName: 'During the outage' })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(a.tenant.createAccount({ userPrincipalName: 'aa-outage@contoso.com', displayName: 'Outage', accountType: 'autoAttendant' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(a.tenant.exportState()).toEqual(before);
    // A read cannot say what is current either.
    await expect(a.tenant.getAccount(A.paris.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await a.tenant.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/cannot be read/) });

    await server.start();
    await expect(a.tenant.updateAccount(A.paris.id, { displayName: 'After the outage' })).resolves.toMatchObject({ displayName: 'After the outage' });
    expect((await b.tenant.getAccount(A.paris.id))?.displayName).toBe('After the outage');
    expect(await b.tenant.findAccountByUpn('aa-outage@contoso.com')).toBeNull();
    expect(await a.tenant.health()).toMatchObject({ ok: true });
  });

  it('the server stopped while a commit waits for its lock: the change is refused, gone from memory, not in the database', async () => {
    const url = await server.newDatabase();
    const a = await instance(url);
    const before = a.tenant.exportState();
    // Another session holds the version row, so the commit statement is on the server, waiting.
    const blocker = new pg.Client({ connectionString: url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT version FROM sim_tenant FOR UPDATE');
    const renaming = a.tenant.updateAccount(A.paris.id, { displayName: 'Mid-transaction' });
    await waitForStatement(url, COMMIT_STATEMENT);
    // At once: in a fast shutdown the blocker's session may end first and the waiting commit go through
    // (seen on a loaded machine) — the next test covers that either outcome is whole.
    await server.crash();
    await expect(renaming).rejects.toBeInstanceOf(StoreUnavailableError);
    await blocker.end().catch(() => undefined);
    expect(a.tenant.exportState()).toEqual(before);
    await server.start();
    // Its next batch first settles whether the lost one committed (it did not), then carries on.
    await a.tenant.updateAccount(A.helpdesk.id, { displayName: 'Next' });
    expect((await stored(url)) as TenantState).toMatchObject({ accounts: { [A.paris.id]: { displayName: 'Paris office' }, [A.helpdesk.id]: { displayName: 'Next' } } });
    expect(a.logs.join('')).not.toMatch(/had committed/);
  });

  it('the server stopped while changes stream in: each change either resolved and is stored, or was refused and is nowhere', async () => {
    const url = await server.newDatabase();
    const a = await instance(url);
    const resolved: string[] = [];
    const refused: string[] = [];
    let stopping = false;
    const worker = async (w: number) => {
      for (let k = 0; ; k++) {
        const upn = `aa-stream-${w}-${k}@contoso.com`;
        try {
          await a.tenant.createAccount({ userPrincipalName: upn, displayName: 'Stream', accountType: 'autoAttendant' });
          resolved.push(upn);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
          refused.push(upn);
          if (stopping) return;
        }
      }
    };
    const workers = Promise.all([0, 1, 2, 3].map(worker));
    await until(() => resolved.length >= 40, 30_000);
    stopping = true;
    await server.stop();
    await workers;
    await server.start();
    const state = (await stored(url)) as TenantState;
    const upns = new Set(Object.values(state.accounts).map((x) => x.userPrincipalName));
    expect(resolved.filter((upn) => !upns.has(upn))).toEqual([]);
    expect(refused.filter((upn) => upns.has(upn))).toEqual([]);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(await current(a.tenant)).toEqual(state);
  });
});

/** Waits until a statement holding `text` is running on the server (e.g. waiting for a lock). */
async function waitForStatement(url: string, text: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await sql(url, `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND position($1 in query) > 0 AND pid <> pg_backend_pid()`, [text]);
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`no statement holding "${text}" is running`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

describe('a commit whose answer is lost (the connection breaks after the statement was sent)', () => {
  let proxy: CuttingProxy;

  beforeEach(async () => {
    proxy = await CuttingProxy.start(server.port);
    toClose.push(() => proxy.close());
  });

  it('committed: the instance finds out (fence, then its commit id) and reports the change as done', async () => {
    const url = await server.newDatabase();
    const a = await instance(proxy.url(url));
    const b = await instance(url);
    proxy.loseAnswerTo(COMMIT_STATEMENT);
    await expect(a.tenant.updateAccount(A.paris.id, { displayName: 'Answer lost' })).resolves.toMatchObject({ displayName: 'Answer lost' });
    expect(proxy.cuts).toBe(1);
    expect((await b.tenant.getAccount(A.paris.id))?.displayName).toBe('Answer lost');
    expect(await current(a.tenant)).toEqual(await current(b.tenant));
    expect(a.logs.join('')).not.toMatch(/had committed/);
  });

  it('committed, and the database then out of reach: refused and taken back for now; once it is back, found committed, caught up with, and logged', async () => {
    const url = await server.newDatabase();
    const a = await instance(proxy.url(url));
    const b = await instance(url);
    proxy.loseAnswerTo(COMMIT_STATEMENT, { thenRefuse: true });
    await expect(a.tenant.updateAccount(A.helpdesk.id, { displayName: 'Lost, then unreachable' })).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(a.tenant.exportState().accounts[A.helpdesk.id]?.displayName).toBe('Helpdesk');
    // It did commit: the other instance sees it.
    expect((await b.tenant.getAccount(A.helpdesk.id))?.displayName).toBe('Lost, then unreachable');
    proxy.pass();
    expect((await a.tenant.getAccount(A.helpdesk.id))?.displayName).toBe('Lost, then unreachable');
    expect(a.logs.join('')).toMatch(/a batch of changes reported as failed had committed/);
    expect(await current(a.tenant)).toEqual(await current(b.tenant));
  });

  it('connections that died quietly (a fail-over): the next change and the next read go through on fresh connections', async () => {
    const url = await server.newDatabase();
    const a = await instance(proxy.url(url));
    // Several pooled connections, all idle now.
    await Promise.all(Array.from({ length: 6 }, () => a.tenant.getTenantFacts()));
    await Promise.all([A.paris.id, A.helpdesk.id, A.mainLine.id].map((id, i) => a.tenant.updateAccount(id, { displayName: `Before ${i}` })));
    proxy.breakQuietly();
    await expect(a.tenant.updateAccount(A.paris.id, { displayName: 'After the fail-over' })).resolves.toMatchObject({ displayName: 'After the fail-over' });
    proxy.breakQuietly();
    expect((await a.tenant.getAccount(A.paris.id))?.displayName).toBe('After the fail-over');
    expect(((await stored(url)) as TenantState).accounts[A.paris.id]?.displayName).toBe('After the fail-over');
  });

  it('killed on the server before it committed: the instance finds out that it did not, and runs the change again on another connection', async () => {
    const url = await server.newDatabase();
    const a = await instance(url);
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT version FROM sim_tenant FOR UPDATE');
    const renaming = a.tenant.updateAccount(A.paris.id, { displayName: 'Killed, then again' });
    await waitForStatement(url, COMMIT_STATEMENT);
    await sql(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'active' AND position($1 in query) > 0`, [COMMIT_STATEMENT]);
    await blocker.query('ROLLBACK');
    await blocker.end();
    await expect(renaming).resolves.toMatchObject({ displayName: 'Killed, then again' });
    // Committed once: the version moved by the seed, the fence and this one commit.
    expect(await sql(url, 'SELECT seq FROM sim_commits ORDER BY seq')).toEqual([{ seq: '1' }, { seq: '2' }, { seq: '3' }]);
    expect(await stored(url)).toEqual(await current(a.tenant));
  });
});

describe('durability: what resolved is committed', () => {
  it('a fresh instance, with a pool of its own, reads back every change that resolved (numbers, settling, deletes)', async () => {
    const url = await server.newDatabase();
    const slowness = { numberOperationMs: MINUTE };
    const a = await instance(url, { slowness });
    const created = await a.tenant.createAccount({ userPrincipalName: 'aa-durable@contoso.com', displayName: 'Durable', accountType: 'autoAttendant' });
    await a.tenant.setUsageLocation(created.id, 'US');
    await a.tenant.assignLicense(created.id, { addSkuIds: [RA], removeSkuIds: [] });
    const op = await a.tenant.assignNumber({ telephoneNumber: N.usToll[0]!, numberType: 'callingPlan', assignmentTargetId: created.id });
    await a.tenant.deleteAccount(A.paris.id);
    expect(((await stored(url, { slowness })) as TenantState).operations[op.id]).toMatchObject({ status: 'running' });
    clock.advance(MINUTE);
    // The read settles the operation: a change like any other, committed before the read answers.
    expect(await a.tenant.getNumberOperation(op.id)).toMatchObject({ status: 'succeeded' });
    const later = new FakeClock(); // a clock from before the operation was due: only the rows can say it finished
    const state = (await stored(url, { slowness, now: later.now })) as TenantState;
    expect(state.operations[op.id]).toMatchObject({ status: 'succeeded' });
    expect(state.accounts[created.id]).toMatchObject({ phoneNumber: N.usToll[0], assignedLicenses: [RA] });
    expect(state.accounts[A.paris.id]).toBeUndefined();
    expect(asStored(a.tenant.exportState())).toEqual(state);
  });

  it('an instance that slept past the pruning horizon reloads the whole tenant (deletes it never saw included)', async () => {
    const url = await server.newDatabase();
    const a = await instance(url, { keepCommits: 10 });
    const b = await instance(url);
    const doomed = await a.tenant.createAccount({ userPrincipalName: 'aa-doomed@contoso.com', displayName: 'Doomed', accountType: 'autoAttendant' });
    expect(await b.tenant.getAccount(doomed.id)).not.toBeNull();
    await a.tenant.deleteAccount(doomed.id);
    for (let i = 0; i < 30; i++) await a.tenant.updateAccount(A.paris.id, { displayName: `Paris ${i}` });
    await a.tenant.flush();
    // The delete's tombstone is gone from the database: b cannot learn it from the rows since its version.
    expect(await sql(url, 'SELECT key FROM sim_entities WHERE key = $1', [doomed.id])).toEqual([]);
    expect(Number((await sql<{ horizon: string }>(url, 'SELECT horizon FROM sim_tenant'))[0]!.horizon)).toBeGreaterThan(3);
    expect(await b.tenant.getAccount(doomed.id)).toBeNull();
    expect((await b.tenant.getAccount(A.paris.id))?.displayName).toBe('Paris 29');
    expect(await current(b.tenant)).toEqual(await current(a.tenant));
  });
});

describe('bad stored rows are set aside, never block start-up', () => {
  it('entries that do not pass their checks: reported, copied to sim_quarantine, forgotten by every instance; a restart finds nothing more', async () => {
    const url = await server.newDatabase();
    const a = await instance(url);
    // Hand edits that do not move the version: nobody notices them until a start-up reads the rows.
    // accountEnabled is a boolean since the doctor reports sign-in enabled: a string is what breaks the check.
    await sql(url, `UPDATE sim_entities SET doc = jsonb_set(doc, '{accountEnabled}', '"yes"') WHERE collection = 'accounts' AND key = $1`, [A.paris.id]);
    await sql(url, `INSERT INTO sim_entities (collection, key, seq, doc) SELECT 'numbers', '+10000000000', seq, doc FROM sim_entities WHERE collection = 'numbers' AND key = $1`, [N.usToll[0]]);
    await sql(url, `INSERT INTO sim_entities (collection, key, seq, doc) VALUES ('widgets', 'w1', 1, '{"id":"w1"}')`);
    const b = await instance(url);
    expect(b.quarantined.map((q) => [q.collection, q.key])).toEqual(
      expect.arrayContaining([
        ['accounts', A.paris.id],
        ['numbers', '+10000000000'],
        ['widgets', 'w1'],
      ]),
    );
    expect(b.quarantined).toHaveLength(3);
    expect(b.quarantined.find((q) => q.key === A.paris.id)?.reason).toMatch(/accountEnabled/);
    expect(await b.tenant.getAccount(A.paris.id)).toBeNull();
    expect(await b.tenant.getAccount(A.helpdesk.id)).not.toBeNull();
    const aside = await sql<{ collection: string; key: string; reason: string }>(url, 'SELECT collection, key, reason FROM sim_quarantine ORDER BY id');
    expect(aside.map((r) => r.key).sort()).toEqual(['+10000000000', A.paris.id, 'w1'].sort());
    // The instance that was running forgets the entry too (the tombstones are a commit).
    expect(await a.tenant.getAccount(A.paris.id)).toBeNull();
    expect(await current(a.tenant)).toEqual(await current(b.tenant));
    const c = await instance(url);
    expect(c.quarantined).toEqual([]);
  });

  it('a bad row another instance committed is set aside when caught up with', async () => {
    const url = await server.newDatabase();
    const a = await instance(url);
    // As a newer version (or a bug) might write it: a commit of its own, with the version moved on.
    await sql(
      url,
      `WITH t AS (UPDATE sim_tenant SET version = version + 1 RETURNING version)
       UPDATE sim_entities SET doc = jsonb_set(doc, '{accountType}', '"faxMachine"'), seq = (SELECT version FROM t)
        WHERE collection = 'accounts' AND key = $1`,
      [A.helpdesk.id],
    );
    expect(await a.tenant.getAccount(A.helpdesk.id)).toBeNull();
    expect(a.quarantined).toEqual([expect.objectContaining({ collection: 'accounts', key: A.helpdesk.id, reason: expect.stringMatching(/accountType/) })]);
    expect(await sql(url, 'SELECT key FROM sim_quarantine')).toEqual([{ key: A.helpdesk.id }]);
    await expect(a.tenant.updateAccount(A.paris.id, { displayName: 'Still working' })).resolves.toMatchObject({ displayName: 'Still working' });
    expect(await stored(url)).toEqual(await current(a.tenant));
  });

  it('parts that are not valid refuse start-up with one message naming the rows (there is no tenant without them)', async () => {
    const url = await server.newDatabase();
    await instance(url);
    await sql(url, `UPDATE sim_entities SET doc = '"many"' WHERE collection = '$parts' AND key = 'skus'`);
    await expect(instance(url)).rejects.toThrow(/the database does not hold a valid tenant \(rows of sim_entities with collection '\$parts'\): skus/);
  });
});

describe('real processes on one database', () => {
  let compiled: { js: (file: string) => string; dir: string };
  const CRASH = 'test/backends/durability/crash-child.ts';
  const RACE = 'test/backends/durability/race-child.ts';

  beforeAll(() => {
    compiled = compileChildren(CRASH, RACE);
  }, 180_000);

  afterAll(async () => {
    await rm(compiled.dir, { recursive: true, force: true });
  });

  interface Child {
    child: ChildProcess;
    lines: string[];
    err: () => string;
    exited: Promise<void>;
  }

  function run(script: string, args: string[]): Child {
    const child = spawn(process.execPath, [compiled.js(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const parts = out.split('\n');
      out = parts.pop()!; // a line cut by a kill is not an acknowledgement
      lines.push(...parts);
    });
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    return { child, lines, err: () => err, exited };
  }

  it('two processes race for 5 free seats with 20 assignments: exactly 5 succeed', async () => {
    const url = await server.newDatabase();
    const seed = withFreeSeats(5);
    const setup = await instance(url, { seed });
    const ids = await readyAccounts(setup.tenant, 'aa-proc', 20);
    const children = [run(RACE, [url, TENANT_ID, RA, ...ids.slice(0, 10)]), run(RACE, [url, TENANT_ID, RA, ...ids.slice(10)])];
    for (const c of children) await until(() => c.lines.includes('ready') || c.err() !== '', 60_000);
    for (const c of children) expect(c.err()).toBe('');
    for (const c of children) c.child.stdin!.write('go\n');
    await Promise.all(children.map((c) => c.exited));
    for (const c of children) expect(c.err()).toBe('');
    const results = children.flatMap((c) => c.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { id: string; ok: boolean; reason?: string }));
    expect(results).toHaveLength(20);
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).map((r) => r.reason)).toEqual(Array<string>(15).fill('LICENSE_NO_FREE_SEAT'));
    const state = (await stored(url, { seed })) as TenantState;
    expect(Object.values(state.accounts).filter((x) => ids.includes(x.id) && x.assignedLicenses.includes(RA)).map((x) => x.id).sort()).toEqual(
      results.filter((r) => r.ok).map((r) => r.id).sort(),
    );
    expect(inconsistencies(state, seatsOutside(seed(TENANT_ID, clock.now())))).toEqual([]);
  });

  it('two processes working on one tenant, each killed (-9) at a random moment: every acknowledged change survives, the tenant stays consistent', async () => {
    const random = prng(4242);
    const outside = seatsOutside(crashSeed.state(CRASH_TENANT_ID, new Date()));
    let acknowledged = 0;
    for (let round = 0; round < 3; round++) {
      const url = await server.newDatabase();
      const children = [run(CRASH, [url, String(round * 2 + 1), '3', '0', '0']), run(CRASH, [url, String(round * 2 + 2), '3', '0', '10'])];
      for (const c of children) await until(() => c.lines.includes('ready') || c.err() !== '', 60_000);
      for (const c of children) {
        await new Promise((done) => setTimeout(done, 50 + Math.floor(random() * 400)));
        c.child.kill('SIGKILL');
        await c.exited;
        expect(c.err()).toBe('');
      }
      const acked: CrashStep[] = [];
      const inFlight = new Map<number, CrashStep>();
      for (const line of children.flatMap((c) => c.lines)) {
        if (line === 'ready') continue;
        const step = JSON.parse(line.slice(4)) as CrashStep;
        if (line.startsWith('try ')) inFlight.set(step.worker, step);
        else {
          acked.push(step);
          inFlight.delete(step.worker);
        }
      }
      acknowledged += acked.length;
      const expected = new Map<string, Expected>();
      for (const step of acked) {
        const id = step.op === 'create' ? step.id! : step.id;
        const next = after(expected.get(id), step);
        if (next) expected.set(id, next);
      }
      const logs: string[] = [];
      const log = createLogger('warn', { write: (line: string) => void logs.push(line) });
      const db = new Database({ url, log });
      const quarantined: Quarantined[] = [];
      const tenant = await SimulatedTenant.open({
        storage: postgresStorage(db, { log }),
        tenantId: CRASH_TENANT_ID,
        seed: crashSeed.state,
        slowness: { numberOperationMs: 3 },
        onQuarantine: (q) => quarantined.push(q),
      });
      try {
        await new Promise((done) => setTimeout(done, 10)); // number operations (3 ms) are due
        await tenant.health(); // settles them
        for (const [id, want] of expected) {
          const pending = [...inFlight.values()].find((s) => s.op !== 'create' && s.id === id);
          const allowed = [want, ...(pending ? [after(want, pending)!] : [])];
          const got = observed(await tenant.getAccount(id), want.upn);
          expect({ id, got, ok: allowed.some((x) => same(x, got)) }).toEqual({ id, got, ok: true });
        }
        for (const step of inFlight.values()) {
          if (step.op !== 'create') continue;
          const account = await tenant.findAccountByUpn(step.upn);
          if (account) expect(observed(account, step.upn)).toEqual(after(undefined, step));
        }
        expect(inconsistencies(tenant.exportState(), outside)).toEqual([]);
        expect(quarantined).toEqual([]);
        expect(logs).toEqual([]);
      } finally {
        await tenant.close();
        await db.close();
      }
    }
    expect(acknowledged).toBeGreaterThan(60);
  });
});
