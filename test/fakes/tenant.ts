import { randomUUID } from 'node:crypto';
import { refuseIfNotYetVisible } from '../../src/backends/simulated/accounts';
import { demoTenant } from '../../src/backends/simulated/seed';
import { own, type Slowness, type StoredAccount, type TenantState } from '../../src/backends/simulated/state';
import { hasDueOperations, settleOperations } from '../../src/backends/simulated/telephony';
import { DirectoryRefusal } from '../../src/provisioning/result';

/**
 * The state behind the fake Graph server and the fake pwsh: the simulated tenant's model (its pure
 * state functions), so that both backends answer from the same rules; only the wire differs.
 */

export interface OrdinaryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
}

export interface FakeTenantOptions {
  tenantId: string;
  now: () => Date;
  slowness?: Slowness;
  /** Teams PowerShell runs app-only: [Get|Set|New]-CsOnlineApplicationInstance answer Access Denied. */
  appOnly?: boolean;
  /** Graph may page below the $top asked for; a small page makes every listing follow @odata.nextLink. */
  maxPageSize?: number;
}

export class FakeTenant {
  readonly state: TenantState;
  /** Users that are not resource accounts (Graph sees them; Teams has no instance for them). */
  readonly users = new Map<string, OrdinaryUser>();
  readonly slowness: Required<Slowness>;
  appOnly: boolean;
  readonly maxPageSize: number;

  constructor(readonly options: FakeTenantOptions) {
    this.state = demoTenant(options.tenantId, options.now());
    this.slowness = {
      licenseProvisioningMs: options.slowness?.licenseProvisioningMs ?? 0,
      numberOperationMs: options.slowness?.numberOperationMs ?? 0,
      accountPropagationMs: options.slowness?.accountPropagationMs ?? 0,
    };
    this.appOnly = options.appOnly ?? false;
    this.maxPageSize = options.maxPageSize ?? 20;
    const someone = { id: randomUUID(), userPrincipalName: 'adele.vance@contoso.com', displayName: 'Adele Vance' };
    this.users.set(someone.id, someone);
  }

  now(): Date {
    return this.options.now();
  }

  /** Number operations whose time has come are finished before any answer (as the simulated tenant does). */
  observe(): void {
    const now = this.now();
    if (hasDueOperations(this.state, now)) settleOperations(this.state, now, this.slowness.licenseProvisioningMs);
  }

  /** By object id or UPN, case-insensitive. */
  account(idOrUpn: string): StoredAccount | undefined {
    const key = idOrUpn.toLowerCase();
    return own(this.state.accounts, key) ?? Object.values(this.state.accounts).find((a) => a.userPrincipalName.toLowerCase() === key);
  }

  user(idOrUpn: string): OrdinaryUser | undefined {
    const key = idOrUpn.toLowerCase();
    return [...this.users.values()].find((u) => u.id === key || u.userPrincipalName.toLowerCase() === key);
  }

  /** Entra replication lag right after creation (DOMAIN.md F13): Graph does not see the account yet. */
  visibleInGraph(account: StoredAccount): boolean {
    try {
      refuseIfNotYetVisible(account, this.now(), this.slowness.accountPropagationMs);
      return true;
    } catch (e) {
      if (e instanceof DirectoryRefusal) return false;
      throw e;
    }
  }
}
