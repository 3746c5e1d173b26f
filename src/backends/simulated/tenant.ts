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
  TenantScan,
  VoiceApplication,
} from '../../provisioning/directory';
import { StartupError } from '../../config';
import type { Quarantined } from '../../store/journal/shape';
import {
  createAccount,
  deleteAccount,
  findByUpn,
  refuseIfNotYetVisible,
  setUsageLocation,
  syncFromOnPremises,
  updateAccount,
} from './accounts';
import type { HybridDetection } from '../../provisioning/hybrid';
import { assignLicense, provisioningAt } from './licensing';
import { AccountIndex, listAccounts, listPhoneNumbers, scanOf } from './queries';
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
import { fileStorage, type TenantStorage, type TenantStorageFactory } from './storage';
import { settleOperations, startAssignment, startUnassignment } from './telephony';
import { associate, dissociate, listVoiceApplications } from './voiceApps';

export type { Slowness };

export type { Quarantined };
export { fileStorage, postgresStorage, type TenantStorage, type TenantStorageFactory } from './storage';

export interface SimulatedTenantOptions {
  /**
   * Where the tenant lives, one of the two:
   * - `file`: its snapshot (one instance), created (with `seed`) when missing or empty; its journal
   *   and quarantine files live beside it (src/store/journal/files.ts). Short for
   *   `storage: fileStorage(file, { compactAtBytes })`.
   * - `storage`: e.g. `postgresStorage(db)`, one tenant shared by every instance on the database.
   */
  file?: string;
  storage?: TenantStorageFactory;
  tenantId: string;
  /** The tenant's clock; inject a fake one to let time pass in tests. */
  now?: () => Date;
  /** How slow the tenant is (DOMAIN.md F13/F14); every knob defaults to 0 = immediate. */
  slowness?: Slowness;
  /** The state a new file starts with: the demo tenant (seed.ts) unless given. */
  seed?: (tenantId: string, now: Date) => TenantState;
  /** Told about each stored record that was unusable and set aside (`<file>.quarantine.jsonl`, or the table sim_quarantine). */
  onQuarantine?: (item: Quarantined) => void;
  /** With `file`: fold the journal into the snapshot once it holds this many bytes (default: the snapshot's size, ≥ 1 MiB). */
  compactAtBytes?: number;
  /**
   * Why the data folder counts as used before (src/store/storeFiles.ts previousUse): an empty
   * tenant.json is then refused instead of being seeded again.
   */
  usedBefore?: string;
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
    private readonly store: TenantStorage,
    private readonly now: () => Date,
    private readonly slowness: Required<Slowness>,
  ) {}

  /**
   * Every change resolves only once it is durable ("Acknowledged = durable", ARCHITECTURE.md; issue 9
   * item 12): in a file, the tenant is a snapshot plus a journal of small records, each made durable
   * with fdatasync and shared by the changes made meanwhile (src/store/journal/store.ts); in
   * PostgreSQL, each change is committed in one statement that every instance's commits queue on
   * (src/store/pg/tenant.ts).
   */
  static async open(options: SimulatedTenantOptions): Promise<SimulatedTenant> {
    const { tenantId } = options;
    const now = options.now ?? (() => new Date());
    const seed = options.seed ?? demoTenant;
    const slowness: Required<Slowness> = {
      licenseProvisioningMs: options.slowness?.licenseProvisioningMs ?? 0,
      numberOperationMs: options.slowness?.numberOperationMs ?? 0,
      accountPropagationMs: options.slowness?.accountPropagationMs ?? 0,
    };
    const { file, storage } = options;
    const open =
      file === undefined
        ? storage
        : storage === undefined
          ? fileStorage(file, { ...(options.compactAtBytes !== undefined ? { compactAtBytes: options.compactAtBytes } : {}), ...(options.usedBefore ? { usedBefore: options.usedBefore } : {}) })
          : undefined;
    if (!open) throw new Error('simulated tenant: give either a file or a storage, not both');
    const where = file ?? 'the database';
    let tenant: SimulatedTenant | undefined;
    const store = await open({
      tenantId,
      makeDefault: () => seed(tenantId, now()),
      accept: (state) => {
        if (state.tenantId !== tenantId) {
          throw new StartupError(`simulated tenant: ${where} belongs to tenant ${state.tenantId}, not ${tenantId} (SWITCHBOARD_TENANT_ID); use that tenant's data folder or database, or move the file away to start from the demo tenant`);
        }
      },
      // Changes taken back, or made by another instance: the index and the due time must look again.
      onChanged: () => tenant?.changed(),
      now,
      ...(options.onQuarantine ? { onQuarantine: options.onQuarantine } : {}),
    });
    tenant = new SimulatedTenant(store, now, slowness);
    return tenant;
  }

  /** Waits for the writes in flight (and folds the file journal into its snapshot): graceful shutdown. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Flushes and releases the storage (a later open() of the same file re-reads it). */
  close(): Promise<void> {
    return this.store.close();
  }

  /** A deep copy of the whole tenant as held in memory (diagnostics; tests compare it with what the disk holds). */
  exportState(): TenantState {
    return structuredClone(this.store.data);
  }

  async getTenantFacts(): Promise<TenantFacts> {
    const { tenantId, displayName, domains, skus, countryLetterCode } = await this.observe();
    return { tenantId, displayName, domains: copyOf(domains), skus: copyOf(skus), countryLetterCode };
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

  blockSignIn(id: string): Promise<ResourceAccount> {
    return this.change((state, now) => {
      const account = this.visibleAccount(state, id, now);
      account.accountEnabled = false;
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

  async detectHybrid(): Promise<HybridDetection> {
    const state = await this.observe();
    return state.hybrid ? { hybrid: true, evidence: 'simulated tenant: hybrid with Skype for Business Server 2019' } : { hybrid: false, evidence: 'simulated tenant: online only' };
  }

  /** Marks the simulated tenant hybrid (or not), as SRV _sipfederationtls pointing on-premises would. */
  setHybrid(hybrid: boolean): Promise<void> {
    return this.change((state) => {
      state.hybrid = hybrid;
    });
  }

  /** What Entra Connect does once an admin ran New-CsHybridApplicationEndpoint on-premises. */
  syncFromOnPremises(input: NewAccount): Promise<ResourceAccount> {
    return this.change((state, now) => toResourceAccount(syncFromOnPremises(state, input, now)));
  }

  // --- the tenant doctor ------------------------------------------------------------------------
  async scanTenant(): Promise<TenantScan> {
    const state = await this.observe();
    return scanOf(state, this.indexed(state));
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    let state: TenantState;
    try {
      state = await this.observe();
    } catch (error) {
      // On PostgreSQL a read needs the database: without it, nothing current can be said.
      return { ok: false, detail: `simulated tenant: its storage cannot be read (${String(error)})` };
    }
    const accounts = Object.keys(state.accounts).length;
    const numbers = Object.keys(state.numbers).length;
    const failure = this.store.failure;
    if (failure !== undefined) return { ok: false, detail: `simulated tenant "${state.displayName}": changes are refused, its storage cannot be written (${String(failure)})` };
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
   * share one write (group commit). It may run more than once (PostgreSQL: again on the latest state
   * when another instance committed first), so it decides from `state` alone.
   */
  private async change<R>(change: (state: TenantState, now: Date) => R): Promise<R> {
    await this.settleDueOperations();
    return this.store.update((state) => {
      // The time when it applies, not when it was asked for: on PostgreSQL it runs after a catch-up,
      // and again after another instance's commit, so its stamps (createdAt, dueAt) and its "due" and
      // "visible yet" checks go with the state it is applied on. (The file store applies at once.)
      const now = this.now();
      // Operations that came due since the settling above — on PostgreSQL also ones another
      // instance started, caught up with just before this runs — finish first, as a read would see.
      const due = this.hasDueOperations(now);
      // Before the change, in the same synchronous step: no reader can see the change with an index
      // that does not know about it. And after it: the change itself may have brought the index up
      // to date halfway (createAccount's UPN check).
      this.generation += 1;
      try {
        if (due) settleOperations(state, now, this.slowness.licenseProvisioningMs);
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
