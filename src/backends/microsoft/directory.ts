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
import type { PhoneNumber, ResourceAccount, TenantFacts } from '../../provisioning/model';
import { createAccount, deleteAccount, setUsageLocation, updateAccount } from './accountChanges';
import { findAccountByUpn, listAccounts, observeAccount } from './accounts';
import type { Tenant } from './context';
import { assignLicense, getLicenseProvisioning } from './licensing';
import { assignNumber, getNumberOperation, getPhoneNumber, listPhoneNumbers, unassignNumber } from './telephony';
import { associate, dissociate, listVoiceApplications } from './voiceApps';

/**
 * Microsoft 365 behind the TenantDirectory port: Graph v1.0 for users, licenses and numbers, Teams
 * PowerShell for what Graph cannot do (application instances and AA/CQ associations; teams-apis.md
 * §5.1). Tenant refusals come out as DirectoryRefusal; everything else is a fault.
 */
export class MicrosoftDirectory implements TenantDirectory {
  constructor(
    private readonly tenant: Tenant,
    private readonly describe: string,
  ) {}

  async getTenantFacts(): Promise<TenantFacts> {
    const { tenantId, displayName, domains, skus } = await this.tenant.facts.get();
    return structuredClone({ tenantId, displayName, domains, skus });
  }

  findAccountByUpn(userPrincipalName: string): Promise<ResourceAccount | null> {
    return findAccountByUpn(this.tenant, userPrincipalName);
  }

  async getAccount(id: string): Promise<ResourceAccount | null> {
    return (await observeAccount(this.tenant, id))?.account ?? null;
  }

  listAccounts(query: AccountQuery): Promise<Page<ResourceAccount>> {
    return listAccounts(this.tenant, query);
  }

  createAccount(input: NewAccount): Promise<ResourceAccount> {
    return createAccount(this.tenant, input);
  }

  updateAccount(id: string, change: AccountChange): Promise<ResourceAccount> {
    return updateAccount(this.tenant, id, change);
  }

  setUsageLocation(id: string, usageLocation: string): Promise<ResourceAccount> {
    return setUsageLocation(this.tenant, id, usageLocation);
  }

  assignLicense(id: string, change: LicenseChange): Promise<ResourceAccount> {
    return assignLicense(this.tenant, id, change);
  }

  getLicenseProvisioning(id: string): Promise<LicenseProvisioning> {
    return getLicenseProvisioning(this.tenant, id);
  }

  deleteAccount(id: string): Promise<void> {
    return deleteAccount(this.tenant, id);
  }

  getPhoneNumber(telephoneNumber: string): Promise<PhoneNumber | null> {
    return getPhoneNumber(this.tenant, telephoneNumber);
  }

  listPhoneNumbers(query: NumberQuery): Promise<Page<PhoneNumber>> {
    return listPhoneNumbers(this.tenant, query);
  }

  assignNumber(request: NumberAssignment): Promise<NumberOperation> {
    return assignNumber(this.tenant, request);
  }

  unassignNumber(request: NumberUnassignment): Promise<NumberOperation> {
    return unassignNumber(this.tenant, request);
  }

  getNumberOperation(id: string): Promise<NumberOperation | null> {
    return getNumberOperation(this.tenant, id);
  }

  listVoiceApplications(): Promise<VoiceApplication[]> {
    return listVoiceApplications(this.tenant);
  }

  associate(accountId: string, configurationId: string): Promise<ResourceAccount> {
    return associate(this.tenant, accountId, configurationId);
  }

  dissociate(accountId: string, configurationId: string): Promise<ResourceAccount> {
    return dissociate(this.tenant, accountId, configurationId);
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

  async close(): Promise<void> {
    this.tenant.facts.invalidate();
    this.tenant.instances.invalidate();
    this.tenant.voiceApps.invalidate();
  }
}
