/**
 * Tests of the storage changes made for the benchmark (JsonFileStore group commits and write-behind,
 * account index, audit pages). Not in `npm test` (jest's roots are test/): run with
 * `npx jest --roots bench/tests`, or move this file to test/store/.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEMO } from '../../src/backends/simulated/seed';
import { listAccounts } from '../../src/backends/simulated/queries';
import type { TenantState } from '../../src/backends/simulated/state';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import type { AccountQuery } from '../../src/provisioning/directory';
import { AuditLog, type AuditEntry, type NewAuditEntry } from '../../src/store/audit';
import { JsonFileStore } from '../../src/store/jsonFile';
import { bigTenant, prng } from '../../bench/fixtures';

const TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-storage-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readJson = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8')) as unknown;

describe('JsonFileStore', () => {
  it('write-through: update() resolves once the change is on disk, as compact JSON', async () => {
    const file = path.join(dir, 'a.json');
    const store = await JsonFileStore.open<{ n: number[] }>(file, () => ({ n: [] }));
    await store.update((d) => d.n.push(1));
    expect(await readFile(file, 'utf8')).toBe('{"n":[1]}');
    await store.close();
  });

  it('write-through: concurrent updates all land (one write for many)', async () => {
    const file = path.join(dir, 'b.json');
    const store = await JsonFileStore.open<{ n: number[] }>(file, () => ({ n: [] }));
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.update((d) => d.n.push(i))));
    expect(await readJson(file)).toEqual({ n: Array.from({ length: 100 }, (_, i) => i) });
    await store.close();
  });

  it('write-behind: update() returns before the write; flush() and close() write everything', async () => {
    const file = path.join(dir, 'c.json');
    const store = await JsonFileStore.open<{ n: number[] }>(file, () => ({ n: [] }), { writeBehind: { minMs: 60_000, maxMs: 60_000 } });
    await store.update((d) => d.n.push(1));
    await store.update((d) => d.n.push(2));
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
    await store.flush();
    expect(await readJson(file)).toEqual({ n: [1, 2] });
    await store.update((d) => d.n.push(3));
    await store.close();
    const again = await JsonFileStore.open<{ n: number[] }>(file, () => ({ n: [] }));
    expect(again.data).toEqual({ n: [1, 2, 3] });
    await again.close();
  });

  it('write-behind: the file follows by itself after the window', async () => {
    const file = path.join(dir, 'd.json');
    const store = await JsonFileStore.open<{ n: number[] }>(file, () => ({ n: [] }), { writeBehind: { minMs: 20, maxMs: 20 } });
    await store.update((d) => d.n.push(1));
    await new Promise((done) => setTimeout(done, 300));
    expect(await readJson(file)).toEqual({ n: [1] });
    await store.close();
  });

  it('reads a file pretty-printed by lowdb JSONFile (the former format)', async () => {
    const file = path.join(dir, 'e.json');
    await writeFile(file, JSON.stringify({ n: [7] }, null, 2));
    const store = await JsonFileStore.open<{ n: number[] }>(file, () => ({ n: [] }));
    expect(store.data).toEqual({ n: [7] });
    await store.close();
  });
});

describe('the simulated tenant keeps its account index in step with every change', () => {
  it('lists and finds exactly what a fresh sort of the file finds, through creates, renames, deletes and licenses', async () => {
    const file = path.join(dir, 'tenant.json');
    const random = prng(11);
    const sut = await SimulatedTenant.open({ file, tenantId: TENANT_ID, seed: (id, now) => bigTenant(id, now, 300).state });
    const names = ['Sales', 'sales', 'Zürich', 'Support 10', 'Support 9', 'Älter', 'Main line'];
    const texts = [undefined, 'sales', 'BENCH-001', 'zür', 'nothing-matches'];
    const ids = async (): Promise<string[]> => (await sut.listAccounts({ offset: 0, limit: 100_000 })).items.map((a) => a.id);
    const any = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    let created = 0;
    const deletedUpns: string[] = [];

    for (let step = 0; step < 120; step++) {
      const roll = random();
      const existing = await ids();
      if (roll < 0.3) {
        created += 1;
        await sut.createAccount({ userPrincipalName: `new-${created}@contoso.com`, displayName: `${any(names)} ${created % 7}`, accountType: random() < 0.5 ? 'autoAttendant' : 'callQueue' });
      } else if (roll < 0.6) {
        await sut.updateAccount(any(existing), { displayName: `${any(names)} ${step}` });
      } else if (roll < 0.7) {
        const id = any(existing);
        const account = await sut.getAccount(id);
        await sut.deleteAccount(id);
        deletedUpns.push(account!.userPrincipalName);
      } else if (roll < 0.85) {
        await sut.setUsageLocation(any(existing), 'FR');
      } else {
        const id = any(existing);
        const account = await sut.getAccount(id);
        if (account?.usageLocation && account.assignedLicenses.length === 0) await sut.assignLicense(id, { addSkuIds: [DEMO.skus.resourceAccount.skuId], removeSkuIds: [] });
      }

      await sut.flush();
      const onDisk = (await readJson(file)) as TenantState;
      for (let q = 0; q < 4; q++) {
        const text = any(texts);
        const query: AccountQuery = {
          offset: Math.floor(random() * 40) * (random() < 0.5 ? 1 : 10),
          limit: 1 + Math.floor(random() * 25),
          ...(random() < 0.3 ? { accountType: random() < 0.5 ? ('autoAttendant' as const) : ('callQueue' as const) } : {}),
          ...(random() < 0.3 ? { licensed: random() < 0.5 } : {}),
          ...(random() < 0.2 ? { hasNumber: random() < 0.5 } : {}),
          ...(text ? { text } : {}),
        };
        expect(await sut.listAccounts(query)).toEqual(listAccounts(onDisk, query));
      }
      const some = Object.values(onDisk.accounts)[Math.floor(random() * Object.keys(onDisk.accounts).length)]!;
      expect((await sut.findAccountByUpn(some.userPrincipalName.toUpperCase()))?.id).toBe(some.id);
      for (const upn of deletedUpns) expect(await sut.findAccountByUpn(upn)).toBeNull();
    }
    await sut.close();
  });
});

describe('AuditLog pages from the end of the file', () => {
  const entry = (i: number, target: string): NewAuditEntry => ({
    actor: { aadObjectId: 'a1', name: 'Ada' },
    action: i % 3 === 0 ? 'account.create' : 'account.update',
    target,
    outcome: 'succeeded',
    // Long enough that pages cross the 64 KiB chunks; quotes and non-ASCII text on purpose.
    detail: { note: `entry ${i} "quoted" – Zürich ${'x'.repeat(i % 300)}` },
  });
  const targets = ['aa-main@contoso.com', 'AA-Main@Contoso.com', 'cq-sales@contoso.com', 'Zoë "q"@contoso.com', '-'];

  async function filled(n: number): Promise<{ log: AuditLog; all: AuditEntry[] }> {
    const log = new AuditLog(path.join(dir, 'audit.jsonl'));
    for (let i = 0; i < n; i++) await log.append(entry(i, targets[i % targets.length]!));
    return { log, all: await log.readAll() };
  }

  it('pages newest first, with or without a target, like readAll() would', async () => {
    const { log, all } = await filled(1500);
    const newestFirst = [...all].reverse();
    for (const [offset, limit] of [[0, 10], [10, 10], [0, 1], [1490, 20], [1500, 5], [37, 250]] as const) {
      const page = await log.page({ offset, limit });
      expect(page.items).toEqual(newestFirst.slice(offset, offset + limit));
      expect(page.hasMore).toBe(offset + limit < all.length);
    }
    for (const target of ['aa-main@contoso.com', 'ZOË "Q"@CONTOSO.COM', 'nobody@contoso.com']) {
      const wanted = newestFirst.filter((e) => e.target.toLowerCase() === target.toLowerCase());
      const page = await log.page({ offset: 3, limit: 40, target });
      expect(page.items).toEqual(wanted.slice(3, 43));
      expect(page.hasMore).toBe(wanted.length > 43);
      expect(await log.count({ target })).toBe(wanted.length);
    }
    const creates = (e: AuditEntry) => e.action === 'account.create' && e.target.includes('sales');
    expect((await log.page({ limit: 7, match: creates, contains: 'sales' })).items).toEqual(newestFirst.filter(creates).slice(0, 7));
  });

  it('counts the entries once, then follows the appends', async () => {
    const { log, all } = await filled(300);
    expect(await log.count()).toBe(all.length);
    await log.append(entry(1, 'x@contoso.com'));
    expect(await log.count()).toBe(all.length + 1);
    expect((await log.readAll()).length).toBe(all.length + 1);
  });

  it('reads lines longer than the chunk it reads the file in', async () => {
    const log = new AuditLog(path.join(dir, 'audit.jsonl'));
    const big = { ...entry(1, 'big@contoso.com'), detail: { note: 'y'.repeat(3_000_000) } };
    for (let i = 0; i < 5; i++) await log.append(i === 2 ? big : entry(i, 'small@contoso.com'));
    const all = (await log.readAll()).reverse();
    expect((await log.page({ limit: 10 })).items).toEqual(all);
    expect((await log.page({ limit: 10, target: 'BIG@contoso.com' })).items).toEqual([all[2]]);
  });

  it('answers an empty page and a zero count when there is no file yet', async () => {
    const log = new AuditLog(path.join(dir, 'none.jsonl'));
    expect(await log.page({ limit: 10 })).toEqual({ items: [], offset: 0, limit: 10, hasMore: false });
    expect(await log.count()).toBe(0);
  });

  it('skips a line torn by a crash and starts the next entry on a line of its own', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const before = new AuditLog(file);
    await before.append(entry(1, 'a@contoso.com'));
    await appendFile(file, '{"id":"torn","at":"2026-');
    const after = new AuditLog(file);
    const added = await after.append(entry(2, 'b@contoso.com'));
    expect((await after.readAll()).map((e) => e.target)).toEqual(['a@contoso.com', 'b@contoso.com']);
    expect((await after.page({ limit: 5 })).items.map((e) => e.id)).toEqual([added.id, expect.any(String)]);
    expect(await after.count()).toBe(2);
  });
});
