import {
  TENANT_CHANGES,
  type AccountChange,
  type AccountQuery,
  type LicenseChange,
  type LicenseProvisioning,
  type NewAccount,
  type NumberAssignment,
  type NumberOperation,
  type NumberQuery,
  type NumberUnassignment,
  type Page,
  type TenantDirectory,
  type TenantScan,
  type VoiceApplication,
} from '../../provisioning/directory';
import type { AccountSummary, PhoneNumber, ResourceAccount, TenantFacts } from '../../provisioning/model';
import { DirectoryRefusal } from '../../provisioning/result';
import { blockSignIn, createAccount, deleteAccount, setUsageLocation, updateAccount } from './accountChanges';
import { scanTenant } from './scan';
import { findAccountByUpn, listAccounts, observeAccount } from './accounts';
import { detectHybridByDns, type ResolveSrv } from './hybrid';
import type { HybridDetection } from '../../provisioning/hybrid';
import type { Tenant } from './context';
import type { Counts } from './meter';
import type { PowerShell } from './powershell/runner';
import type { Logger } from '../../log/logger';
import { assignLicense, getLicenseProvisioning } from './licensing';
import { assignNumber, getNumberOperation, getPhoneNumber, listPhoneNumbers, unassignNumber } from './telephony';
import { associate, dissociate, listVoiceApplications } from './voiceApps';

/**
 * Microsoft 365 behind the TenantDirectory port: Graph v1.0 for users, licenses and numbers, Teams
 * PowerShell for what Graph cannot do (application instances and AA/CQ associations; teams-apis.md
 * §5.1). Tenant refusals come out as DirectoryRefusal; everything else is a fault.
 */
/** Port calls that change the tenant (or, for an operation, learn that a change finished). */
const CHANGES: ReadonlySet<PropertyKey> = new Set([...TENANT_CHANGES, 'getNumberOperation']);

export interface MicrosoftDirectoryParts {
  /** Stopped on close (the warm workers). */
  powerShell?: PowerShell;
  /** Each command's cost goes to debug. */
  log?: Partial<Pick<Logger, 'debug'>>;
  /** DNS SRV lookups for hybrid detection (tests answer them). */
  resolveSrv?: ResolveSrv;
}

/** DNS changes rarely; a lookup per add form would be a lookup too many. */
const HYBRID_CACHE_MS = 3_600_000;

export class MicrosoftDirectory implements TenantDirectory {
  constructor(
    private readonly tenant: Tenant,
    private readonly describe: string,
    private readonly parts: MicrosoftDirectoryParts = {},
  ) {}

  private hybrid: { at: number; value: Promise<HybridDetection> } | undefined;

  /** Hybrid with Skype for Business Server, told by the verified domains' _sipfederationtls records. */
  detectHybrid(): Promise<HybridDetection> {
    const now = Date.now();
    if (!this.hybrid || now - this.hybrid.at > HYBRID_CACHE_MS) {
      const value = this.getTenantFacts().then((facts) => detectHybridByDns(facts.domains, this.parts.resolveSrv));
      this.hybrid = { at: now, value };
      // A failed read is not kept: the next form asks again.
      value.catch(() => {
        if (this.hybrid?.value === value) this.hybrid = undefined;
      });
    }
    return this.hybrid.value;
  }

  /** Round trips since the backend opened: all of them, and those no command waited for. */
  counts(): { total: Counts; background: Counts } {
    return { total: { ...this.tenant.meter.total }, background: { ...this.tenant.meter.background } };
  }

  /**
   * Runs one port call and logs (debug) what it cost: Graph requests and batches, cmdlets, pwsh starts
   * and connects. On a real tenant these counts, not CPU, make a click slow.
   */
  private async command<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const { counts, outcome } = await this.tenant.meter.measure(work);
    // Any change of ours, done or of unknown outcome, may show in a listing: the next one reads afresh.
    if (CHANGES.has(name)) this.tenant.listing.invalidate();
    // An association or dissociation that failed says the voice apps (and the accounts they list) may
    // not be what this instance cached: another instance or an admin may have changed them, and the
    // step that made the call looks again (steps.ts), which only fresh reads can show. The other
    // changes' steps read Graph afresh. An account not visible yet is only propagating: its step polls,
    // and must not re-list the voice apps each time.
    if (!outcome.ok && (name === 'associate' || name === 'dissociate') && !isPropagating(outcome.error)) {
      this.tenant.voiceApps.invalidate();
    }
    this.parts.log?.debug?.({ command: name, ms: Math.round(performance.now() - started), ok: outcome.ok, ...counts }, 'Microsoft 365 command');
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  getTenantFacts(): Promise<TenantFacts> {
    return this.command('getTenantFacts', async () => {
      const { tenantId, displayName, domains, skus, countryLetterCode } = await this.tenant.facts.get();
      return structuredClone({ tenantId, displayName, domains, skus, countryLetterCode: countryLetterCode ?? null });
    });
  }

  findAccountByUpn(userPrincipalName: string): Promise<ResourceAccount | null> {
    return this.command('findAccountByUpn', () => findAccountByUpn(this.tenant, userPrincipalName));
  }

  getAccount(id: string): Promise<ResourceAccount | null> {
    return this.command('getAccount', async () => (await observeAccount(this.tenant, id))?.account ?? null);
  }

  listAccounts(query: AccountQuery): Promise<Page<AccountSummary>> {
    return this.command('listAccounts', () => listAccounts(this.tenant, query));
  }

  createAccount(input: NewAccount): Promise<ResourceAccount> {
    return this.command('createAccount', () => createAccount(this.tenant, input));
  }

  updateAccount(id: string, change: AccountChange): Promise<ResourceAccount> {
    return this.command('updateAccount', () => updateAccount(this.tenant, id, change));
  }

  setUsageLocation(id: string, usageLocation: string): Promise<ResourceAccount> {
    return this.command('setUsageLocation', () => setUsageLocation(this.tenant, id, usageLocation));
  }

  assignLicense(id: string, change: LicenseChange): Promise<ResourceAccount> {
    return this.command('assignLicense', () => assignLicense(this.tenant, id, change));
  }

  blockSignIn(id: string): Promise<ResourceAccount> {
    return this.command('blockSignIn', () => blockSignIn(this.tenant, id));
  }

  scanTenant(): Promise<TenantScan> {
    return this.command('scanTenant', () => scanTenant(this.tenant));
  }

  getLicenseProvisioning(id: string): Promise<LicenseProvisioning> {
    return this.command('getLicenseProvisioning', () => getLicenseProvisioning(this.tenant, id));
  }

  deleteAccount(id: string): Promise<void> {
    return this.command('deleteAccount', () => deleteAccount(this.tenant, id));
  }

  getPhoneNumber(telephoneNumber: string): Promise<PhoneNumber | null> {
    return this.command('getPhoneNumber', () => getPhoneNumber(this.tenant, telephoneNumber));
  }

  listPhoneNumbers(query: NumberQuery): Promise<Page<PhoneNumber>> {
    return this.command('listPhoneNumbers', () => listPhoneNumbers(this.tenant, query));
  }

  assignNumber(request: NumberAssignment): Promise<NumberOperation> {
    return this.command('assignNumber', () => assignNumber(this.tenant, request));
  }

  unassignNumber(request: NumberUnassignment): Promise<NumberOperation> {
    return this.command('unassignNumber', () => unassignNumber(this.tenant, request));
  }

  getNumberOperation(id: string): Promise<NumberOperation | null> {
    return this.command('getNumberOperation', () => getNumberOperation(this.tenant, id));
  }

  listVoiceApplications(): Promise<VoiceApplication[]> {
    return this.command('listVoiceApplications', () => listVoiceApplications(this.tenant));
  }

  associate(accountId: string, configurationId: string): Promise<ResourceAccount> {
    return this.command('associate', () => associate(this.tenant, accountId, configurationId));
  }

  dissociate(accountId: string, configurationId: string): Promise<ResourceAccount> {
    return this.command('dissociate', () => dissociate(this.tenant, accountId, configurationId));
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      const facts = await this.tenant.facts.get();
      return { ok: true, detail: `Microsoft 365 tenant "${facts.displayName}" (${this.describe})` };
    } catch (e) {
      return { ok: false, detail: `Microsoft 365 backend (${this.describe}): ${e instanceof Error ? e.name : 'error'}` };
    }
  }

  /** Nothing is buffered: the tenant holds the state. Present so app.ts can treat both backends alike. */
  async flush(): Promise<void> {}

  /** Forgets every cached read: the next command reads the tenant afresh (a cold start, for the bench). */
  dropCaches(): void {
    this.tenant.facts.invalidate();
    this.tenant.instances.invalidate();
    this.tenant.voiceApps.invalidate();
    this.tenant.listing.invalidate();
  }

  /** Drops the caches and stops the warm PowerShell workers. */
  async close(): Promise<void> {
    this.dropCaches();
    await this.parts.powerShell?.close?.();
  }
}

/** The account was made a moment ago and the tenant does not show it everywhere yet (DOMAIN.md F13). */
function isPropagating(error: unknown): boolean {
  return error instanceof DirectoryRefusal && error.reason === 'ACCOUNT_NOT_YET_VISIBLE';
}
