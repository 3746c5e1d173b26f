import type { AccountSummary, PhoneNumber, ResourceAccount, TenantFacts } from '../../provisioning/model';
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
import { JournaledStore } from '../../store/journal/store';
import { SnapshotInvalid, SnapshotUnreadable } from '../../store/journal/load';
import type { Quarantined } from '../../store/journal/shape';
import {
  createAccount,
  deleteAccount,
  findByUpn,
  refuseIfNotYetVisible,
  setUsageLocation,
  updateAccount,
} from './accounts';
import { assignLicense, provisioningAt } from './licensing';
import { AccountIndex, listAccounts, listPhoneNumbers } from './queries';
import { demoTenant } from './seed';
import {
  accountOrRefuse,
  copyOf,
  own,
  type Slowness,
  type StoredAccount,
  type TenantState,
  toNumberOperation,
  toResourceAccount,
} from './state';
import { tenantShape } from './storage';
import { settleOperations, startAssignment, startUnassignment } from './telephony';
import { associate, dissociate, listVoiceApplications } from './voiceApps';

export type { Slowness };

export type { Quarantined };

export interface SimulatedTenantOptions {
  /**
   * The tenant's snapshot; created (with `seed`) when missing or empty. Its journal and quarantine
   * files live beside it (src/store/journal/files.ts).
   */
  file: string;
  tenantId: string;
  /** The tenant's clock; inject a fake one to let time pass in tests. */
  now?: () => Date;
  /** How slow the tenant is (DOMAIN.md F13/F14); every knob defaults to 0 = immediate. */
  slowness?: Slowness;
  /** The state a new file starts with: the demo tenant (seed.ts) unless given. */
  seed?: (tenantId: string, now: Date) => TenantState;
  /** Told about each stored record that was unusable and moved to `<file>.quarantine.jsonl`. */
  onQuarantine?: (item: Quarantined) => void;
  /** Fold the journal into the snapshot once it holds this many bytes (default: the snapshot's size, ≥ 1 MiB). */
  compactAtBytes?: number;
}

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
    private readonly store: JournaledStore<TenantState>,
    private readonly now: () => Date,
    private readonly slowness: Required<Slowness>,
  ) {}

  /**
   * Every change resolves only once it is on disk ("Acknowledged = durable", ARCHITECTURE.md; issue 9
   * item 12): the tenant is a snapshot plus a journal of small records, each made durable with
   * fdatasync and shared by the changes made meanwhile (src/store/journal/store.ts).
   */
  static async open(options: SimulatedTenantOptions): Promise<SimulatedTenant> {
    const { file, tenantId } = options;
    const now = options.now ?? (() => new Date());
    const seed = options.seed ?? demoTenant;
    const slowness: Required<Slowness> = {
      licenseProvisioningMs: options.slowness?.licenseProvisioningMs ?? 0,
      numberOperationMs: options.slowness?.numberOperationMs ?? 0,
      accountPropagationMs: options.slowness?.accountPropagationMs ?? 0,
    };
    let tenant: SimulatedTenant | undefined;
    const store = await JournaledStore.open<TenantState>({
      file,
      shape: tenantShape,
      makeDefault: () => seed(tenantId, now()),
      accept: (state) => {
        if (state.tenantId !== tenantId) throw new Error(`simulated tenant: ${file} belongs to tenant ${state.tenantId}, not ${tenantId}`);
      },
      // Changes that never reached the disk were taken back: the index and the due time must look again.
      onRevert: () => tenant?.changed(),
      now,
      ...(options.onQuarantine ? { onQuarantine: options.onQuarantine } : {}),
      ...(options.compactAtBytes !== undefined ? { compactAtBytes: options.compactAtBytes } : {}),
    }).catch((e: unknown) => {
      if (e instanceof SnapshotUnreadable) {
        throw new Error(`simulated tenant: cannot read ${file} (${e.detail}); fix or delete the file`, { cause: e });
      }
      if (e instanceof SnapshotInvalid) {
        throw new Error(`simulated tenant: ${file} does not hold a valid tenant; fix or delete the file\n${e.detail}`, { cause: e });
      }
      throw e;
    });
    tenant = new SimulatedTenant(store, now, slowness);
    return tenant;
  }

  /** Waits for the writes in flight and folds the journal into the snapshot (graceful shutdown). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Flushes and releases the file, so that a later open() re-reads it. */
  close(): Promise<void> {
    return this.store.close();
  }

  /** A deep copy of the whole tenant as held in memory (diagnostics; tests compare it with what the disk holds). */
  exportState(): TenantState {
    return structuredClone(this.store.data);
  }

  async getTenantFacts(): Promise<TenantFacts> {
    const { tenantId, displayName, domains, skus } = await this.observe();
    return { tenantId, displayName, domains: copyOf(domains), skus: copyOf(skus) };
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

  async listAccounts(query: AccountQuery): Promise<Page<AccountSummary>> {
    const state = await this.observe();
    return listAccounts(state, query, this.indexed(state));
  }

  createAccount(input: NewAccount): Promise<ResourceAccount> {
    // The UPN check scans the document itself, not the change's Proxies: through them, a scan of
    // 10,000 accounts costs several times more (V8 runs Object.values on a Proxy trap by trap).
    return this.change((state, now) => toResourceAccount(createAccount(state, input, now, (upn) => findByUpn(this.store.data, upn))));
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
      this.settleIfDue(state, now);
      return toNumberOperation(op);
    });
  }

  unassignNumber(request: NumberUnassignment): Promise<NumberOperation> {
    return this.change((state, now) => {
      const op = startUnassignment(state, request, now, this.slowness);
      this.settleIfDue(state, now);
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
    const failure = this.store.failure;
    if (failure !== undefined) return { ok: false, detail: `simulated tenant "${state.displayName}": changes are refused, its journal cannot be written (${String(failure)})` };
    return { ok: true, detail: `simulated tenant "${state.displayName}": ${accounts} accounts, ${numbers} numbers` };
  }

  // --- time ------------------------------------------------------------------------------------
  /**
   * The tenant as seen now: number operations whose time has come are finished first. A read waits
   * for the changes still being written, so that it never shows one that a failed write takes back.
   */
  private async observe(): Promise<TenantState> {
    await this.store.settled();
    await this.settleDueOperations();
    return this.store.data;
  }

  /** Finishing due operations is a change like any other: durable before anyone sees it. */
  private async settleDueOperations(): Promise<void> {
    const now = this.now();
    if (this.hasDueOperations(now)) {
      await this.store.update((state) => {
        this.generation += 1;
        settleOperations(state, now, this.slowness.licenseProvisioningMs);
      });
    }
  }

  /**
   * `change` checks before it mutates, so a refusal leaves the tenant untouched (and the store undoes
   * whatever a throw interrupts). It does not wait for other changes' writes: changes made meanwhile
   * share one write (group commit).
   */
  private async change<R>(change: (state: TenantState, now: Date) => R): Promise<R> {
    await this.settleDueOperations();
    const now = this.now();
    return this.store.update((state) => {
      // Before the change, in the same synchronous step: no reader can see the change with an index
      // that does not know about it. And after it: the change itself may have brought the index up
      // to date halfway (createAccount's UPN check).
      this.generation += 1;
      try {
        return change(state, now);
      } finally {
        this.generation += 1;
      }
    });
  }

  /**
   * Finishes the operations that are due, within a change. The check reads the document itself:
   * going through the change's Proxies for every operation ever made would cost more and more.
   */
  private settleIfDue(state: TenantState, now: Date): void {
    this.generation += 1; // the change so far may have added a due operation
    if (this.hasDueOperations(now)) settleOperations(state, now, this.slowness.licenseProvisioningMs);
  }

  /** The tenant changed outside a change() (a change taken back): look again. */
  private changed(): void {
    this.generation += 1;
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
