import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEMO, demoTenant } from '../src/backends/simulated/seed';
import type { StoredAccount, TenantState } from '../src/backends/simulated/state';
import type { AuditEntry } from '../src/store/audit';

/** A small deterministic PRNG (mulberry32): the same fixtures every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const benchAccountId = (i: number): string => `e0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

const TEAMS = ['Sales', 'Support', 'Billing', 'Reception', 'Helpdesk', 'Main line', 'After hours', 'Claims', 'Orders', 'Returns'];
const PLACES = ['Redmond', 'Paris', 'Lyon', 'Seattle', 'Berlin', 'Zürich', 'Montréal', 'Oslo', 'Austin', 'Dublin'];

export interface BenchAccount {
  id: string;
  upn: string;
  accountType: StoredAccount['accountType'];
}

/**
 * The demo tenant plus `count` generated resource accounts (a third of them licensed), with enough
 * Resource Account seats for all of them.
 */
export function bigTenant(tenantId: string, now: Date, count: number): { state: TenantState; accounts: BenchAccount[] } {
  const state = demoTenant(tenantId, now);
  const random = prng(42);
  const ra = DEMO.skus.resourceAccount.skuId;
  const since = new Date(now.getTime() - 90 * 24 * 3600 * 1000).toISOString();
  const accounts: BenchAccount[] = [];
  let licensed = 0;
  for (let i = 0; i < count; i++) {
    const accountType: StoredAccount['accountType'] = random() < 0.5 ? 'autoAttendant' : 'callQueue';
    const team = TEAMS[Math.floor(random() * TEAMS.length)]!;
    const place = PLACES[Math.floor(random() * PLACES.length)]!;
    const id = benchAccountId(i);
    const upn = `${accountType === 'autoAttendant' ? 'aa' : 'cq'}-bench-${String(i).padStart(5, '0')}@contoso.com`;
    const hasLicense = random() < 1 / 3;
    if (hasLicense) licensed += 1;
    state.accounts[id] = {
      id,
      userPrincipalName: upn,
      displayName: `${team} ${place} ${Math.floor(random() * 1000)}`,
      accountType,
      accountEnabled: false,
      usageLocation: hasLicense ? (random() < 0.5 ? 'US' : 'FR') : null,
      assignedLicenses: hasLicense ? [ra] : [],
      phoneNumber: null,
      associations: [],
      broken: false,
      createdAt: since,
      licensedAt: hasLicense ? since : null,
    };
    accounts.push({ id, upn, accountType });
  }
  const sku = state.skus.find((s) => s.skuId === ra)!;
  sku.enabled = count * 2;
  sku.consumed += licensed;
  return { state, accounts };
}

const ACTIONS = ['plan.addAccount', 'account.create', 'account.setUsageLocation', 'license.assign', 'account.update', 'number.assign'] as const;

/** `count` audit lines (JSONL, oldest first) about the given accounts, as AuditLog writes them. */
export function auditLines(count: number, accounts: readonly BenchAccount[], until: Date): string {
  const random = prng(7);
  const lines: string[] = new Array<string>(count);
  const start = until.getTime() - count * 60_000;
  for (let i = 0; i < count; i++) {
    const account = accounts[Math.floor(random() * accounts.length)]!;
    const entry: AuditEntry = {
      id: `f0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      at: new Date(start + i * 60_000).toISOString(),
      actor: { aadObjectId: 'a1a1a1a1-0000-4000-8000-000000000001', name: 'Ada Admin' },
      action: ACTIONS[i % ACTIONS.length]!,
      target: account.upn,
      outcome: random() < 0.9 ? 'succeeded' : 'refused',
      requestId: `plan-${Math.floor(i / 4)}`,
      detail: { status: 'done', step: i % 4 },
    };
    lines[i] = JSON.stringify(entry);
  }
  return lines.join('\n') + '\n';
}

export interface Fixture {
  accounts: BenchAccount[];
  tenantBytes: number;
  auditBytes: number;
}

/** Writes tenant.json (as lowdb's JSONFile writes it: pretty-printed) and audit.jsonl into `dataDir`. */
export async function writeFixture(dataDir: string, tenantId: string, accountCount: number, auditCount: number): Promise<Fixture> {
  const now = new Date();
  const { state, accounts } = bigTenant(tenantId, now, accountCount);
  const tenant = JSON.stringify(state, null, 2);
  const audit = auditLines(auditCount, accounts, now);
  await writeFile(path.join(dataDir, 'tenant.json'), tenant);
  await writeFile(path.join(dataDir, 'audit.jsonl'), audit);
  return { accounts, tenantBytes: Buffer.byteLength(tenant), auditBytes: Buffer.byteLength(audit) };
}
