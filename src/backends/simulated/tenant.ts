import { rm, stat } from 'node:fs/promises';
import { z } from 'zod';
import type { PhoneNumber, ResourceAccount, TenantFacts } from '../../provisioning/model';
import type {
  AccountChange,
  AccountQuery,
  LicenseChange,
  LicenseProvisioning,
  NewAccount,
  NumberAssignment,
  NumberOperation,
  NumberQuery,
  NumberUnassignment,
  Page,
  TenantDirectory,
  VoiceApplication,
} from '../../provisioning/directory';
import { JsonFileStore, type WriteBehind } from '../../store/jsonFile';
import {
  createAccount,
  deleteAccount,
  refuseIfNotYetVisible,
  setUsageLocation,
  updateAccount,
} from './accounts';
import { assignLicense, provisioningAt } from './licensing';
import { AccountIndex, listAccounts, listPhoneNumbers } from './queries';
import { demoTenant } from './seed';
import {
  accountOrRefuse,
  own,
  type Slowness,
  type StoredAccount,
  type TenantState,
  TenantStateSchema,
  toNumberOperation,
  toResourceAccount,
} from './state';
import { settleOperations, startAssignment, startUnassignment } from './telephony';
import { associate, dissociate, listVoiceApplications } from './voiceApps';

export type { Slowness };

export interface SimulatedTenantOptions {
  /** The lowdb file holding the whole tenant; created (with `seed`) when missing or empty. */
  file: string;
  tenantId: string;
  /** The tenant's clock; inject a fake one to let time pass in tests. */
  now?: () => Date;
  /** How slow the tenant is (DOMAIN.md F13/F14); every knob defaults to 0 = immediate. */
  slowness?: Slowness;
  /** The state a new file starts with: the demo tenant (seed.ts) unless given. */
  seed?: (tenantId: string, now: Date) => TenantState;
  /** How far the file may lag behind the tenant (write-behind); TENANT_WRITE_BEHIND unless given. */
  writeBehind?: WriteBehind;
}

/**
 * The tenant file is written behind the changes: a mutation returns once the in-memory tenant has
 * changed, and the whole file (about 4 MB at 10,000 accounts) is rewritten at most once per window —
 * 20× the time one serialization takes, between 100 ms and 2 s (jsonFile.ts). A crash (kill -9,
 * power loss) loses the last window of changes; a graceful stop (app.close, SIGTERM) writes them.
 */
export const TENANT_WRITE_BEHIND: WriteBehind = { minMs: 100, maxMs: 2_000 };

/**
 * An embedded Microsoft 365 tenant behind the TenantDirectory port. It refuses what a real tenant
 * refuses (DirectoryRefusal, like a 4xx) and fails the way real tenants fail (DOMAIN.md F1–F3), so
 * the domain's safeguards are tested against something that bites.
 */
export class SimulatedTenant implements TenantDirectory {
  /** Bumped (synchronously, inside the store's update) on every change to the tenant. */
  private generation = 0;
  /** List order and UPN lookup, kept beside the document (queries.ts). */
  private readonly index = new AccountIndex();
  /** The earliest due time of a running number operation, as of `generation`. */
  private due = { generation: -1, earliest: Number.POSITIVE_INFINITY };

  private constructor(
    private readonly store: JsonFileStore<TenantState>,
    private readonly now: () => Date,
    private readonly slowness: Required<Slowness>,
  ) {}

  static async open(options: SimulatedTenantOptions): Promise<SimulatedTenant> {
    const { file, tenantId } = options;
    const now = options.now ?? (() => new Date());
    const seed = options.seed ?? demoTenant;
    const slowness: Required<Slowness> = {
      licenseProvisioningMs: options.slowness?.licenseProvisioningMs ?? 0,
      numberOperationMs: options.slowness?.numberOperationMs ?? 0,
      accountPropagationMs: options.slowness?.accountPropagationMs ?? 0,
    };
    // lowdb seeds only a missing file; an empty one (e.g. from `touch`) is new too.
    if ((await stat(file).catch(() => undefined))?.size === 0) await rm(file);
    const store = await JsonFileStore.open<TenantState>(file, () => seed(tenantId, now()), {
      writeBehind: options.writeBehind ?? TENANT_WRITE_BEHIND,
    }).catch((e: unknown) => {
      throw new Error(`simulated tenant: cannot read ${file} (${String(e)}); fix or delete the file`, { cause: e });
    });
    const parsed = TenantStateSchema.safeParse(store.data);
    if (!parsed.success) {
      await store.close();
      const problems = z.prettifyError(parsed.error);
      throw new Error(`simulated tenant: ${file} does not hold a valid tenant; fix or delete the file\n${problems}`);
    }
    if (parsed.data.tenantId !== tenantId) {
      await store.close();
      throw new Error(`simulated tenant: ${file} belongs to tenant ${parsed.data.tenantId}, not ${tenantId}`);
    }
    // Persists the seed on first open, and the parsed form (defaults filled in) on every open, before
    // the tenant is used.
    await store.update((data) => Object.assign(data, parsed.data));
    await store.flush();
    return new SimulatedTenant(store, now, slowness);
  }

  /** Waits for the writes in flight (graceful shutdown). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Waits for the writes in flight and releases the file, so that a later open() re-reads it. */
  close(): Promise<void> {
    return this.store.close();
  }

  async getTenantFacts(): Promise<TenantFacts> {
    const { tenantId, displayName, domains, skus } = await this.observe();
    return structuredClone({ tenantId, displayName, domains, skus });
  }

  // --- accounts --------------------------------------------------------------------------------
  async findAccountByUpn(userPrincipalName: string): Promise<ResourceAccount | null> {
    const account = this.indexed(await this.observe()).findByUpn(userPrincipalName);
    return account ? toResourceAccount(account) : null;
  }

  async getAccount(id: string): Promise<ResourceAccount | null> {
    const account = own((await this.observe()).accounts, id);
    return account ? toResourceAccount(account) : null;
  }

  async listAccounts(query: AccountQuery): Promise<Page<ResourceAccount>> {
    const state = await this.observe();
    return listAccounts(state, query, this.indexed(state));
  }

  createAccount(input: NewAccount): Promise<ResourceAccount> {
    return this.change((state, now) => toResourceAccount(createAccount(state, input, now)));
  }

  updateAccount(id: string, change: AccountChange): Promise<ResourceAccount> {
    return this.change((state) => {
      const account = accountOrRefuse(state, id);
      updateAccount(account, change);
      return toResourceAccount(account);
    });
  }

  setUsageLocation(id: string, usageLocation: string): Promise<ResourceAccount> {
    return this.change((state, now) => {
      const account = this.visibleAccount(state, id, now);
      setUsageLocation(account, usageLocation);
      return toResourceAccount(account);
    });
  }

  assignLicense(id: string, change: LicenseChange): Promise<ResourceAccount> {
    return this.change((state, now) => {
      const account = this.visibleAccount(state, id, now);
      assignLicense(state, account, change, now);
      return toResourceAccount(account);
    });
  }

  async getLicenseProvisioning(id: string): Promise<LicenseProvisioning> {
    const state = await this.observe();
    return provisioningAt(state, accountOrRefuse(state, id), this.now(), this.slowness.licenseProvisioningMs);
  }

  deleteAccount(id: string): Promise<void> {
    return this.change((state) => deleteAccount(state, accountOrRefuse(state, id)));
  }

  // --- numbers ---------------------------------------------------------------------------------
  async getPhoneNumber(telephoneNumber: string): Promise<PhoneNumber | null> {
    const key = telephoneNumber.startsWith('+') ? telephoneNumber : `+${telephoneNumber}`;
    const number = own((await this.observe()).numbers, key);
    return number ? structuredClone(number) : null;
  }

  async listPhoneNumbers(query: NumberQuery): Promise<Page<PhoneNumber>> {
    return listPhoneNumbers(await this.observe(), query);
  }

  assignNumber(request: NumberAssignment): Promise<NumberOperation> {
    return this.change((state, now) => {
      const op = startAssignment(state, request, now, this.slowness);
      settleOperations(state, now, this.slowness.licenseProvisioningMs);
      return toNumberOperation(op);
    });
  }

  unassignNumber(request: NumberUnassignment): Promise<NumberOperation> {
    return this.change((state, now) => {
      const op = startUnassignment(state, request, now, this.slowness);
      settleOperations(state, now, this.slowness.licenseProvisioningMs);
      return toNumberOperation(op);
    });
  }

  async getNumberOperation(id: string): Promise<NumberOperation | null> {
    const op = own((await this.observe()).operations, id);
    return op ? toNumberOperation(op) : null;
  }

  // --- voice applications ----------------------------------------------------------------------
  async listVoiceApplications(): Promise<VoiceApplication[]> {
    return structuredClone(listVoiceApplications(await this.observe()));
  }

  associate(accountId: string, configurationId: string): Promise<ResourceAccount> {
    return this.change((state) => {
      const account = accountOrRefuse(state, accountId);
      associate(state, account, configurationId);
      return toResourceAccount(account);
    });
  }

  dissociate(accountId: string, configurationId: string): Promise<ResourceAccount> {
    return this.change((state) => {
      const account = accountOrRefuse(state, accountId);
      dissociate(state, account, configurationId);
      return toResourceAccount(account);
    });
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    const state = await this.observe();
    const accounts = Object.keys(state.accounts).length;
    const numbers = Object.keys(state.numbers).length;
    return { ok: true, detail: `simulated tenant "${state.displayName}": ${accounts} accounts, ${numbers} numbers` };
  }

  // --- time ------------------------------------------------------------------------------------
  /** The tenant as seen now: number operations whose time has come are finished first. */
  private async observe(): Promise<TenantState> {
    const now = this.now();
    if (this.hasDueOperations(now)) {
      await this.store.update((state) => {
        this.generation += 1;
        settleOperations(state, now, this.slowness.licenseProvisioningMs);
      });
    }
    return this.store.data;
  }

  /** `change` checks everything before it mutates, so a refusal leaves the tenant untouched. */
  private async change<R>(change: (state: TenantState, now: Date) => R): Promise<R> {
    await this.observe();
    const now = this.now();
    return this.store.update((state) => {
      // Before the change, in the same synchronous step: no reader can see the change with an index
      // that does not know about it.
      this.generation += 1;
      return change(state, now);
    });
  }

  /** The account index, brought up to date with every change made so far. */
  private indexed(state: TenantState): AccountIndex {
    this.index.sync(state, this.generation);
    return this.index;
  }

  /** A running number operation is due (the earliest due time is kept until the tenant changes). */
  private hasDueOperations(now: Date): boolean {
    if (this.due.generation !== this.generation) {
      let earliest = Number.POSITIVE_INFINITY;
      for (const op of Object.values(this.store.data.operations)) {
        const at = op.status === 'running' ? Date.parse(op.dueAt) : Number.NaN;
        if (at < earliest) earliest = at;
      }
      this.due = { generation: this.generation, earliest };
    }
    return this.due.earliest <= now.getTime();
  }

  private visibleAccount(state: TenantState, id: string, now: Date): StoredAccount {
    const account = accountOrRefuse(state, id);
    refuseIfNotYetVisible(account, now, this.slowness.accountPropagationMs);
    return account;
  }
}
