/**
 * "Acknowledged = durable" for the simulated tenant (ARCHITECTURE.md; issue 9 items 5, 11, 12): every
 * change it confirms survives a crash, a failed write takes nothing with it that is not on disk, and
 * bad stored records are quarantined instead of blocking start-up.
 *
 * A crash is simulated by copying the data directory while the tenant is open (crashImage): after a
 * kill -9 the disk holds exactly what the files held at that instant. The kill -9 test at the end does
 * it for real, to a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs, { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEMO, demoTenant } from '../../src/backends/simulated/seed';
import type { TenantState } from '../../src/backends/simulated/state';
import { SimulatedTenant, type Quarantined, type SimulatedTenantOptions } from '../../src/backends/simulated/tenant';
import type { NumberType } from '../../src/provisioning/model';
import { prng } from '../../bench/fixtures';
import { FakeClock } from '../fakes/clock';
import { after, CRASH_TENANT_ID, type CrashStep, crashSeed, type Expected, inconsistencies, observed, same, seatsOutside } from './durability/crash-model';
import { asStored, compileChildren, crashImage, errno, failWhile, holdFirst, segments, stateAfterCrash, TENANT_ID, tempDir, until } from './durability/helpers';

const RA = DEMO.skus.resourceAccount.skuId;
const PS = DEMO.skus.phoneSystem.skuId;
const A = DEMO.accounts;
const N = DEMO.numbers;
const V = DEMO.voiceApps;
const MINUTE = 60_000;

let dir: string;
let file: string;
let clock: FakeClock;
let sut: SimulatedTenant;

function open(options: Partial<SimulatedTenantOptions> = {}): Promise<SimulatedTenant> {
  return SimulatedTenant.open({ file, tenantId: TENANT_ID, now: clock.now, ...options });
}

/** The tenant a restart right now would find, and the tenant in memory: they must be the same. */
async function expectDurable(options: Partial<SimulatedTenantOptions> = {}): Promise<void> {
  expect(await stateAfterCrash(dir, { now: clock.now, ...options })).toEqual(asStored(sut.exportState()));
}

const newAccount = (upn: string) => sut.createAccount({ userPrincipalName: upn, displayName: 'New account', accountType: 'autoAttendant' });

beforeEach(async () => {
  dir = tempDir('durability');
  file = path.join(dir, 'tenant.json');
  clock = new FakeClock();
  sut = await open();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await sut.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('every acknowledged change is on disk when it resolves', () => {
  it('without a flush or a close (no write-behind)', async () => {
    const created = await newAccount('aa-durable@contoso.com');
    await sut.setUsageLocation(created.id, 'US');
    await sut.assignLicense(created.id, { addSkuIds: [RA], removeSkuIds: [] });
    await sut.assignNumber({ telephoneNumber: N.usToll[0], numberType: 'callingPlan', assignmentTargetId: created.id });
    await sut.associate(created.id, V.afterHours.configurationId);
    await sut.deleteAccount(A.paris.id);
    const after = (await stateAfterCrash(dir, { now: clock.now })) as TenantState;
    expect(after.accounts[created.id]).toMatchObject({ phoneNumber: N.usToll[0], assignedLicenses: [RA], associations: [V.afterHours] });
    expect(after.accounts[A.paris.id]).toBeUndefined();
    await expectDurable();
  });

  it('the settling of a due number operation, which a read does, is durable before the read answers', async () => {
    await sut.close();
    const slowness = { numberOperationMs: MINUTE };
    sut = await open({ slowness });
    const op = await sut.assignNumber({ telephoneNumber: N.frToll[0], numberType: 'callingPlan', assignmentTargetId: A.supportFr.id });
    clock.advance(MINUTE);
    expect(await sut.getNumberOperation(op.id)).toMatchObject({ status: 'succeeded' });
    // Restarted with a clock from before the operation was due: only the record can say it finished.
    const before = new FakeClock();
    const after = (await stateAfterCrash(dir, { now: before.now, slowness })) as TenantState;
    expect(after.operations[op.id]).toMatchObject({ status: 'succeeded' });
    expect(after.accounts[A.supportFr.id]?.phoneNumber).toBe(N.frToll[0]);
  });

  it('changes made together share one fdatasync (group commit), and each resolves only after it', async () => {
    const syncs = jest.spyOn(fs, 'fdatasync');
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => newAccount(`aa-group-${i}@contoso.com`)));
    expect(syncs.mock.calls.length).toBeLessThanOrEqual(3);
    expect(created).toHaveLength(20);
    await expectDurable();
  });
});

describe('replay: the tenant rebuilt from disk equals the tenant in memory after every step', () => {
  /** One random call on the port: refused ones, settles, deletes, license switches, number operations. */
  function randomCall(random: () => number, step: number): () => Promise<unknown> {
    const any = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const state = sut.exportState();
    const accounts = [...Object.keys(state.accounts), 'missing-account'];
    const numbers = Object.values(state.numbers);
    const apps = [...Object.keys(state.voiceApps), 'missing-app'];
    const ops = Object.keys(state.operations);
    const roll = random();
    if (roll < 0.12) {
      const domain = any(['contoso.com', 'contoso.onmicrosoft.com', 'fabrikam.com']);
      const name = any(['aa-x', 'cq-y', 'AA-X', 'aa-z', `aa-${step}`]);
      return () => sut.createAccount({ userPrincipalName: `${name}@${domain}`, displayName: any(['Night line', ' ', 'Zürich']), accountType: any(['autoAttendant', 'callQueue'] as const) });
    }
    if (roll < 0.22) {
      const change = random() < 0.6 ? { displayName: any(['Renamed', '', `Name ${step}`]) } : { accountType: any(['autoAttendant', 'callQueue'] as const) };
      return () => sut.updateAccount(any(accounts), change);
    }
    if (roll < 0.3) return () => sut.setUsageLocation(any(accounts), any(['US', 'fr', 'France']));
    if (roll < 0.45) {
      const skus = [RA, PS, 'no-such-sku'];
      const addSkuIds = skus.filter(() => random() < 0.35);
      const removeSkuIds = skus.filter((s) => !addSkuIds.includes(s) && random() < 0.35);
      return () => sut.assignLicense(any(accounts), { addSkuIds, removeSkuIds });
    }
    if (roll < 0.5) return () => sut.deleteAccount(any(accounts));
    if (roll < 0.65) {
      const direct = random() < 0.25;
      const number = direct ? `+3317999${String(Math.floor(random() * 100)).padStart(4, '0')}` : any(numbers).telephoneNumber;
      const numberType: NumberType = direct ? 'directRouting' : random() < 0.9 ? (numbers.find((n) => n.telephoneNumber === number)?.numberType ?? 'callingPlan') : 'operatorConnect';
      return () => sut.assignNumber({ telephoneNumber: number, numberType, assignmentTargetId: any(accounts) });
    }
    if (roll < 0.75) {
      const number = any(numbers);
      return () => sut.unassignNumber({ telephoneNumber: number.telephoneNumber, numberType: random() < 0.9 ? number.numberType : 'directRouting' });
    }
    if (roll < 0.82) return () => (random() < 0.5 ? sut.associate(any(accounts), any(apps)) : sut.dissociate(any(accounts), any(apps)));
    // Time passes; a read settles what has come due.
    return async () => {
      clock.advance(Math.floor(random() * 3 * MINUTE));
      if (ops.length > 0 && random() < 0.5) return sut.getNumberOperation(any(ops));
      return sut.listAccounts({ offset: 0, limit: 5 });
    };
  }

  it.each([1, 2, 3])('seed %i: 150 steps (some concurrent), crash images compared after each', async (seed) => {
    await sut.close();
    const slowness = { numberOperationMs: MINUTE, licenseProvisioningMs: 2 * MINUTE, accountPropagationMs: 30_000 };
    // A small journal bound: compactions happen throughout (the snapshot is ~20 KB).
    sut = await open({ slowness, compactAtBytes: 6_000 });
    const random = prng(seed);
    let refused = 0;
    for (let step = 0; step < 150; step++) {
      const together = random() < 0.2 ? 2 + Math.floor(random() * 3) : 1;
      const calls = Array.from({ length: together }, () => randomCall(random, step));
      const outcomes = await Promise.allSettled(calls.map((call) => call()));
      refused += outcomes.filter((o) => o.status === 'rejected').length;
      await expectDurable({ slowness });
    }
    expect(refused).toBeGreaterThan(20);
    // Compactions did happen (each one starts a new segment).
    expect(Number(segments(dir).at(-1)?.split('.')[3])).toBeGreaterThan(3);
  }, 120_000);
});

describe('crash in the middle of an append', () => {
  it('ignores a torn last line (never acknowledged), quarantines it, and carries on', async () => {
    const created = await newAccount('aa-before-tear@contoso.com');
    const image = crashImage(dir);
    const last = segments(image).at(-1)!;
    appendFileSync(path.join(image, last), '{"seq":99,"entries":{"accounts":{"torn":{"id":"torn","userPrinc');
    const quarantined: Quarantined[] = [];
    const reopened = await SimulatedTenant.open({ file: path.join(image, 'tenant.json'), tenantId: TENANT_ID, now: clock.now, onQuarantine: (q) => quarantined.push(q) });
    try {
      expect(await reopened.getAccount(created.id)).not.toBeNull();
      expect(reopened.exportState().accounts.torn).toBeUndefined();
      expect(quarantined).toEqual([expect.objectContaining({ source: `${last}:3`, reason: expect.stringMatching(/torn last line/) })]);
      expect(readFileSync(path.join(image, 'tenant.json.quarantine.jsonl'), 'utf8')).toMatch(/torn last line/);
      // The next change after the tear is readable after another crash.
      const next = await reopened.createAccount({ userPrincipalName: 'aa-after-tear@contoso.com', displayName: 'After', accountType: 'autoAttendant' });
      const again = (await stateAfterCrash(image, { now: clock.now })) as TenantState;
      expect(Object.keys(again.accounts)).toEqual(expect.arrayContaining([created.id, next.id]));
    } finally {
      await reopened.close();
      await rm(image, { recursive: true, force: true });
    }
  });
});

describe('crash during a compaction', () => {
  const isTempSnapshot = (args: unknown[]) => String(args[0]).endsWith('.snapshot.tmp');
  const points = [
    { at: 'after the new journal segment, before the snapshot is written', fn: 'open' as const, matches: isTempSnapshot },
    { at: 'after the snapshot is written, before it replaces tenant.json', fn: 'rename' as const, matches: isTempSnapshot },
    { at: 'after tenant.json is replaced, before the old journal is deleted', fn: 'unlink' as const, matches: (args: unknown[]) => /journal\.\d+\.jsonl$/.test(String(args[0])) },
  ];

  it.each(points)('$at: nothing lost, nothing applied twice, and changes made meanwhile are acknowledged', async ({ fn, matches }) => {
    const first = await newAccount('aa-compact-1@contoso.com');
    await sut.assignLicense(A.paris.id, { addSkuIds: [RA], removeSkuIds: [] });
    const hold = holdFirst(fn, matches);
    const flushing = sut.flush();
    await until(hold.held);
    // Changes go on while the compaction is stopped, and resolve once in the new segment.
    const during = await newAccount('aa-compact-2@contoso.com');
    await sut.assignLicense(A.paris.id, { addSkuIds: [], removeSkuIds: [RA] });
    await expectDurable();
    const image = (await stateAfterCrash(dir, { now: clock.now })) as TenantState;
    expect(Object.keys(image.accounts)).toEqual(expect.arrayContaining([first.id, during.id]));
    // Seats are a count: applying a license record twice would show here.
    expect(image.skus.find((s) => s.skuId === RA)?.consumed).toBe(DEMO.skus.resourceAccount.consumed);
    hold.release();
    await flushing;
    hold.restore();
    await expectDurable();
  });

  it.each([
    ['while the snapshot is being written', 0],
    ['while the compaction waits for the records it holds', 200],
  ])('never installs a snapshot holding a change whose journal write then failed (%s)', async (_when, delayMs) => {
    await sut.close();
    sut = await open({ compactAtBytes: 1 }); // compact after every write
    const isRecordOf = (upn: string) => (args: unknown[]) => Buffer.isBuffer(args[1]) && args[1].toString().startsWith('{"seq":') && args[1].toString().includes(upn);
    // The first change's write completes only once the second change is queued behind it; the
    // compaction it then starts serializes the tenant with the second change in it.
    const firstSync = holdFirst('fdatasync', () => true);
    const first = newAccount('aa-first@contoso.com');
    await until(firstSync.held);
    const secondWrite = holdFirst('write', isRecordOf('aa-in-flight@contoso.com'));
    const creating = newAccount('aa-in-flight@contoso.com');
    firstSync.release();
    await first;
    await until(secondWrite.held);
    await until(() => fs.readdirSync(dir).some((name) => name.endsWith('.snapshot.tmp')));
    await new Promise((done) => setTimeout(done, delayMs));
    secondWrite.release(errno('ENOSPC'));
    await expect(creating).rejects.toThrow(/ENOSPC/);
    firstSync.restore();
    secondWrite.restore();
    expect(await sut.findAccountByUpn('aa-in-flight@contoso.com')).toBeNull();
    expect(readFileSync(file, 'utf8')).not.toContain('aa-in-flight');
    await expectDurable();
    await sut.flush();
    expect(readFileSync(file, 'utf8')).toContain('aa-first');
    await expectDurable();
  });

  it('a full disk when the new journal segment is created fails the compaction only', async () => {
    await newAccount('aa-before@contoso.com');
    const full = failWhile('open', (args) => String(args[0]).startsWith(dir) && /journal\.\d+\.jsonl$/.test(String(args[0])), 'ENOSPC');
    await expect(sut.flush()).rejects.toThrow(/ENOSPC/);
    await newAccount('aa-after@contoso.com');
    await expectDurable();
    full.mockRestore();
    await sut.flush();
    await expectDurable();
  });

  it('a full disk while writing the snapshot fails the compaction only: changes go on and nothing is lost', async () => {
    await newAccount('aa-before-full@contoso.com');
    const snapshotFds = new Set<number>();
    const realOpen = fs.open;
    jest.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) => {
      const callback = args[args.length - 1] as (error: NodeJS.ErrnoException | null, fd?: number) => void;
      const target = String(args[0]);
      (realOpen as unknown as (...a: unknown[]) => void)(...args.slice(0, -1), (error: NodeJS.ErrnoException | null, fd?: number) => {
        if (!error && fd !== undefined && target === path.join(dir, '.tenant.json.snapshot.tmp')) snapshotFds.add(fd);
        callback(error, fd);
      });
    }) as never);
    const realClose = fs.close;
    jest.spyOn(fs, 'close').mockImplementation(((fd: number, callback: fs.NoParamCallback) => {
      snapshotFds.delete(fd); // the number can be reused by the next open
      realClose(fd, callback);
    }) as never);
    const full = failWhile('write', (args) => snapshotFds.has(args[0] as number), 'ENOSPC');
    await expect(sut.flush()).rejects.toThrow(/ENOSPC/);
    const during = await newAccount('aa-while-full@contoso.com');
    expect(fs.readdirSync(dir).some((name) => name.endsWith('.snapshot.tmp'))).toBe(false);
    await expectDurable();
    full.mockRestore();
    await sut.flush();
    expect(segments(dir)).toHaveLength(1);
    expect((await stateAfterCrash(dir, { now: clock.now }) as TenantState).accounts[during.id]).toBeDefined();
  });
});

describe('a journal write that fails (issue 9 item 5)', () => {
  it('rejects the change, keeps it out of memory and off the disk; earlier changes stay, later ones work', async () => {
    const earlier = await newAccount('aa-earlier@contoso.com');
    const full = failWhile('fdatasync', () => true, 'ENOSPC');
    await expect(newAccount('aa-rejected@contoso.com')).rejects.toThrow(/ENOSPC/);
    full.mockRestore();
    expect(await sut.findAccountByUpn('aa-rejected@contoso.com')).toBeNull();
    expect(await sut.getAccount(earlier.id)).not.toBeNull();
    await expectDurable();

    const later = await newAccount('aa-later@contoso.com');
    const image = (await stateAfterCrash(dir, { now: clock.now })) as TenantState;
    expect(Object.values(image.accounts).map((a) => a.userPrincipalName)).toEqual(expect.arrayContaining([earlier.userPrincipalName, later.userPrincipalName]));
    expect(Object.values(image.accounts).map((a) => a.userPrincipalName)).not.toContain('aa-rejected@contoso.com');
  });

  it('a write cut short (half written, then EACCES) leaves no garbage for the next record', async () => {
    const realWrite = fs.write as unknown as (...args: unknown[]) => void;
    let calls = 0;
    jest.spyOn(fs, 'write').mockImplementation(((...args: unknown[]) => {
      const callback = args[args.length - 1] as (error: NodeJS.ErrnoException | null, written?: number) => void;
      calls += 1;
      if (calls === 1) {
        const [fd, buffer, offset, length, position] = args as [number, Buffer, number, number, number];
        realWrite(fd, buffer, offset, Math.floor(length / 2), position, callback);
        return;
      }
      if (calls === 2) return void setImmediate(() => callback(errno('EACCES')));
      realWrite(...args);
    }) as never);
    await expect(sut.updateAccount(A.paris.id, { displayName: 'Half written' })).rejects.toThrow(/EACCES/);
    expect((await sut.getAccount(A.paris.id))?.displayName).toBe('Paris office');
    await sut.updateAccount(A.paris.id, { displayName: 'Written whole' });
    const quarantined: Quarantined[] = [];
    expect(await stateAfterCrash(dir, { now: clock.now, onQuarantine: (q) => quarantined.push(q) })).toEqual(asStored(sut.exportState()));
    expect(quarantined).toEqual([]);
  });

  it('rejects every change that was waiting behind the failed write, undoes them all, and readers never see them', async () => {
    const hold = holdFirst('fdatasync', () => true);
    const creating = newAccount('aa-phantom@contoso.com');
    await until(hold.held);
    // Applied in memory while the first write is in flight; they depend on it.
    const phantom = sut.exportState();
    const id = Object.values(phantom.accounts).find((a) => a.userPrincipalName === 'aa-phantom@contoso.com')!.id;
    const renaming = sut.updateAccount(id, { displayName: 'Phantom renamed' });
    const locating = sut.setUsageLocation(id, 'US');
    const reading = sut.getAccount(id);
    hold.release(errno('EIO'));
    hold.restore();
    const outcomes = await Promise.allSettled([creating, renaming, locating]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await reading).toBeNull();
    expect(sut.exportState().accounts[id]).toBeUndefined();
    await expectDurable();
    await expect(newAccount('aa-phantom@contoso.com')).resolves.toMatchObject({ userPrincipalName: 'aa-phantom@contoso.com' });
  });

  it('refuses changes, and says so in health, while the failed bytes cannot be cut off; works again once the disk does', async () => {
    const syncs = failWhile('fdatasync', () => true, 'EIO');
    const cuts = failWhile('ftruncate', () => true, 'EIO');
    await expect(sut.updateAccount(A.paris.id, { displayName: 'Never' })).rejects.toThrow(/EIO/);
    await expect(sut.updateAccount(A.helpdesk.id, { displayName: 'Not applied either' })).rejects.toThrow(/EIO/);
    expect(sut.exportState().accounts[A.helpdesk.id]?.displayName).toBe('Helpdesk');
    expect(await sut.health()).toMatchObject({ ok: false, detail: expect.stringContaining('EIO') });
    syncs.mockRestore();
    cuts.mockRestore();
    await expect(sut.updateAccount(A.helpdesk.id, { displayName: 'Disk is back' })).resolves.toMatchObject({ displayName: 'Disk is back' });
    expect(await sut.health()).toMatchObject({ ok: true });
    await expectDurable();
  });
});

describe('bad stored records are quarantined, never block start-up (issue 9 item 11)', () => {
  it('in the snapshot: a bad account, a misfiled number and a bad operation', async () => {
    await sut.close();
    const state = demoTenant(TENANT_ID, clock.now()) as unknown as Record<string, Record<string, unknown>>;
    state.accounts![A.paris.id] = { ...(state.accounts![A.paris.id] as object), accountEnabled: 'yes' };
    state.numbers!['+10000000000'] = state.numbers![N.usToll[0]];
    state.operations!['op-1'] = { id: 'op-1', status: 'sleeping' };
    writeFileSync(file, JSON.stringify(state, null, 2));
    const quarantined: Quarantined[] = [];
    sut = await open({ onQuarantine: (q) => quarantined.push(q) });
    expect(quarantined.map((q) => [q.source, q.collection, q.key])).toEqual([
      ['tenant.json', 'accounts', A.paris.id],
      ['tenant.json', 'numbers', '+10000000000'],
      ['tenant.json', 'operations', 'op-1'],
    ]);
    expect(quarantined[0]?.reason).toMatch(/accountEnabled/);
    expect(quarantined[1]?.reason).toMatch(/key does not match/);
    expect(await sut.getAccount(A.paris.id)).toBeNull();
    expect(await sut.getAccount(A.helpdesk.id)).not.toBeNull();
    const lines = readFileSync(path.join(dir, 'tenant.json.quarantine.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { key: string }).key)).toEqual([A.paris.id, '+10000000000', 'op-1']);
    // The snapshot no longer holds them; a restart quarantines nothing more.
    await sut.close();
    quarantined.length = 0;
    sut = await open({ onQuarantine: (q) => quarantined.push(q) });
    expect(quarantined).toEqual([]);
  });

  it('in the journal: the bad entry is quarantined, the rest of the journal still applies', async () => {
    const created = await newAccount('aa-bad-record@contoso.com');
    await sut.updateAccount(A.helpdesk.id, { displayName: 'After the bad record' });
    const image = crashImage(dir);
    const segment = path.join(image, segments(image).at(-1)!);
    writeFileSync(segment, readFileSync(segment, 'utf8').replace('"accountEnabled":false', '"accountEnabled":"yes"'));
    const quarantined: Quarantined[] = [];
    const reopened = await SimulatedTenant.open({ file: path.join(image, 'tenant.json'), tenantId: TENANT_ID, now: clock.now, onQuarantine: (q) => quarantined.push(q) });
    try {
      expect(quarantined).toEqual([expect.objectContaining({ collection: 'accounts', key: created.id, reason: expect.stringMatching(/accountEnabled/) })]);
      expect(await reopened.getAccount(created.id)).toBeNull();
      expect((await reopened.getAccount(A.helpdesk.id))?.displayName).toBe('After the bad record');
    } finally {
      await reopened.close();
      await rm(image, { recursive: true, force: true });
    }
  });

  it('a journal left from another snapshot (tenant.json deleted by hand) is quarantined, not applied', async () => {
    await newAccount('aa-old-life@contoso.com');
    const image = crashImage(dir);
    fs.rmSync(path.join(image, 'tenant.json'));
    const quarantined: Quarantined[] = [];
    const reopened = await SimulatedTenant.open({ file: path.join(image, 'tenant.json'), tenantId: TENANT_ID, now: clock.now, onQuarantine: (q) => quarantined.push(q) });
    try {
      expect(await reopened.findAccountByUpn('aa-old-life@contoso.com')).toBeNull();
      expect(quarantined).toEqual([expect.objectContaining({ reason: expect.stringMatching(/another snapshot/) })]);
    } finally {
      await reopened.close();
      await rm(image, { recursive: true, force: true });
    }
  });

  it('refuses, as before, a snapshot that cannot be decoded (one line naming the file) or that belongs to another tenant', async () => {
    await sut.close();
    const before = readFileSync(file, 'utf8');
    await expect(open({ tenantId: 'another-tenant' })).rejects.toThrow(/belongs to tenant/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    writeFileSync(file, '{ "schemaVersion": 1, ');
    const refusal = await open().then(() => undefined, (e: unknown) => e as Error);
    expect(refusal?.message).toMatch(new RegExp(`^simulated tenant: cannot read ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(.*\\); restore it from a backup, or move it away to start from the demo tenant again$`));
    writeFileSync(file, before);
    sut = await open();
  });
});

describe('files from before the journal, and one instance per file', () => {
  it('opens a tenant.json written by the former store (pretty-printed, no journal), then journals its changes', async () => {
    await sut.close();
    for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name));
    writeFileSync(file, JSON.stringify(demoTenant(TENANT_ID, clock.now()), null, 2));
    sut = await open();
    expect((await sut.listAccounts({ offset: 0, limit: 1 })).total).toBe(Object.keys(DEMO.accounts).length);
    await sut.updateAccount(A.paris.id, { displayName: 'Journaled' });
    await expectDurable();
  });

  it('refuses a second open of the same file in one process until the first is closed', async () => {
    await expect(open()).rejects.toThrow(/already open/);
    await sut.close();
    sut = await open();
    expect(await sut.health()).toMatchObject({ ok: true });
  });
});

describe('kill -9 at random moments (a real child process)', () => {
  let build: string;
  let childJs: string;

  beforeAll(() => {
    // The child runs compiled JavaScript: tsc builds crash-child.ts and what it imports.
    const child = 'test/backends/durability/crash-child.ts';
    const compiled = compileChildren(child);
    build = compiled.dir;
    childJs = compiled.js(child);
  }, 120_000);

  afterAll(async () => {
    await rm(build, { recursive: true, force: true });
  });

  /** Runs the child in `data` and kills it `killAfterMs` after it is ready (or after spawn, when negative). */
  async function runAndKill(data: string, seed: number, killAfterMs: number): Promise<string[]> {
    const child: ChildProcess = spawn(process.execPath, [childJs, data, String(seed), '4', '8192'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<void>((done) => child.on('exit', () => done()));
    if (killAfterMs >= 0) await until(() => out.startsWith('ready\n') || err !== '', 15_000);
    expect(err).toBe('');
    await new Promise((done) => setTimeout(done, Math.abs(killAfterMs)));
    child.kill('SIGKILL');
    await exited;
    expect(err).toBe('');
    // A line cut by the kill is not an acknowledgement.
    return out.split('\n').slice(0, -1);
  }

  it('every acknowledged change survives and the tenant stays consistent', async () => {
    const random = prng(2026);
    const outside = seatsOutside(crashSeed.state(CRASH_TENANT_ID, new Date()));
    let acknowledged = 0;
    // Kill moments: during start-up (the first snapshot being written), then at random while working.
    const kills = [-40, -120, ...Array.from({ length: 6 }, () => Math.floor(random() * 400))];
    for (const [run, killAfterMs] of kills.entries()) {
      const data = tempDir('kill');
      try {
        const lines = await runAndKill(data, run + 1, killAfterMs);
        const acked: CrashStep[] = [];
        const inFlight = new Map<number, CrashStep>();
        for (const line of lines) {
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

        const quarantined: Quarantined[] = [];
        const tenant = await SimulatedTenant.open({ file: path.join(data, 'tenant.json'), tenantId: CRASH_TENANT_ID, seed: crashSeed.state, slowness: { numberOperationMs: 3 }, onQuarantine: (q) => quarantined.push(q) });
        try {
          await new Promise((done) => setTimeout(done, 10)); // number operations (3 ms) are due
          await tenant.health(); // settles them
          for (const [id, want] of expected) {
            const pending = [...inFlight.values()].find((s) => s.op !== 'create' && s.id === id);
            const allowed = [want, ...(pending ? [after(want, pending)!] : [])];
            const got = observed(await tenant.getAccount(id), want.upn);
            expect({ id, got, ok: allowed.some((a) => same(a, got)) }).toEqual({ id, got, ok: true });
          }
          for (const step of inFlight.values()) {
            if (step.op !== 'create') continue;
            const account = await tenant.findAccountByUpn(step.upn);
            if (account) expect(observed(account, step.upn)).toEqual(after(undefined, step));
          }
          expect(inconsistencies(tenant.exportState(), outside)).toEqual([]);
          // A crash can tear the last append; nothing else may be found wrong.
          expect(quarantined.filter((q) => !/torn last line/.test(q.reason))).toEqual([]);
        } finally {
          await tenant.close();
        }
      } finally {
        await rm(data, { recursive: true, force: true });
      }
    }
    expect(acknowledged).toBeGreaterThan(100);
  }, 120_000);
});
