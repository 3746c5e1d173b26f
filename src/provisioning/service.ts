import type { AuditLog } from '../store/audit';
import type { AccountQuery, Page, TenantDirectory } from './directory';
import type { AccountType, Actor, LicenseKind, LicenseSku, ResourceAccount, TenantFacts } from './model';
import { licenseKindsOf } from './model';
import { DirectoryRefusal, ok, refuse, type FormResult, type Refusal, type Result } from './result';
import {
  checkAccountType,
  checkDisplayName,
  checkFreeSeat,
  checkUpnUnused,
  checkUsageLocation,
  checkUsageLocationBeforeLicense,
  checkDomain,
  checkUserPrincipalName,
  checkUsername,
  findSku,
} from './rules';

/** What the add-account form submits, untrusted. */
export interface NewAccountForm {
  displayName: string;
  username: string;
  domain: string;
  accountType: string;
  usageLocation: string;
  /** 'resourceAccount' | 'phoneSystem' | 'none' */
  license: string;
}

export interface ValidNewAccount {
  userPrincipalName: string;
  displayName: string;
  accountType: AccountType;
  usageLocation: string | null;
  sku: LicenseSku | null;
}

export interface CreatedAccount {
  account: ResourceAccount;
  licenseKinds: LicenseKind[];
}

/**
 * The provisioning service: every step validated against the tenant's current state before anything
 * changes, every change written to the audit log with who, what, when and the outcome.
 */
export class ProvisioningService {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly audit: AuditLog,
  ) {}

  tenantFacts(): Promise<TenantFacts> {
    return this.directory.getTenantFacts();
  }

  /** Checks the whole add form against the rules and the tenant; changes nothing. */
  async validateNewAccount(form: NewAccountForm, facts?: TenantFacts): Promise<FormResult<ValidNewAccount>> {
    const tenant = facts ?? (await this.directory.getTenantFacts());
    const refusals: Refusal[] = [];
    const displayName = checkDisplayName(form.displayName);
    if (!displayName.ok) refusals.push(displayName);
    // Username and domain are checked apart so that each field shows its own problem.
    const username = checkUsername(form.username);
    const domain = checkDomain(form.domain, tenant);
    if (!username.ok) refusals.push(username);
    if (!domain.ok) refusals.push(domain);
    const upn = checkUserPrincipalName(form.username, form.domain, tenant);
    if (upn.ok) {
      const taken = checkUpnUnused(upn.value, await this.directory.findAccountByUpn(upn.value));
      if (taken) refusals.push(taken);
    }
    const accountType = checkAccountType(form.accountType);
    if (!accountType.ok) refusals.push(accountType);

    const wantsLicense = form.license !== 'none';
    let usageLocation: string | null = null;
    if (form.usageLocation.trim() || wantsLicense) {
      const checked = form.usageLocation.trim()
        ? checkUsageLocation(form.usageLocation)
        : (checkUsageLocationBeforeLicense(null) as Refusal);
      if (checked.ok) usageLocation = checked.value;
      else refusals.push(checked);
    }
    let sku: LicenseSku | null = null;
    if (wantsLicense) {
      const found = findSku(tenant, form.license);
      if (!found.ok) refusals.push(found);
      else {
        const noSeat = checkFreeSeat(found.value);
        if (noSeat) refusals.push(noSeat);
        else sku = found.value;
      }
    }
    if (refusals.length > 0 || !displayName.ok || !upn.ok || !accountType.ok) {
      return { ok: false, refusals };
    }
    return ok({ userPrincipalName: upn.value, displayName: displayName.value, accountType: accountType.value, usageLocation, sku });
  }

  /**
   * Creates the account, then sets its usage location and license when the form asked for them
   * (usage location first: DOMAIN.md F8). Nothing is created when the form is refused.
   */
  async createAccount(actor: Actor, form: NewAccountForm): Promise<FormResult<CreatedAccount>> {
    const facts = await this.directory.getTenantFacts();
    const valid = await this.validateNewAccount(form, facts);
    const target = `${form.username.trim()}@${form.domain.trim()}`.slice(0, 200);
    if (!valid.ok) {
      await this.audit.append({
        actor,
        action: 'account.create',
        target,
        outcome: 'refused',
        reason: valid.refusals.map((r) => r.reason).join(','),
      });
      return valid;
    }
    const input = valid.value;
    const created = await this.attempt(actor, 'account.create', input.userPrincipalName, () =>
      this.directory.createAccount({
        userPrincipalName: input.userPrincipalName,
        displayName: input.displayName,
        accountType: input.accountType,
      }),
      { displayName: input.displayName, accountType: input.accountType },
    );
    if (!created.ok) return { ok: false, refusals: [created] };
    let account = created.value;
    if (input.usageLocation) {
      const located = await this.setUsageLocation(actor, account, input.usageLocation);
      if (!located.ok) return { ok: false, refusals: [located] };
      account = located.value;
    }
    if (input.sku) {
      const licensed = await this.assignLicense(actor, account, input.sku.kind);
      if (!licensed.ok) return { ok: false, refusals: [licensed] };
      account = licensed.value;
    }
    return ok({ account, licenseKinds: licenseKindsOf(account, facts.skus) });
  }

  async setUsageLocation(actor: Actor, account: ResourceAccount, raw: string): Promise<Result<ResourceAccount>> {
    const usageLocation = checkUsageLocation(raw);
    if (!usageLocation.ok) return usageLocation;
    if (account.usageLocation === usageLocation.value) return ok(account);
    return this.attempt(actor, 'account.setUsageLocation', account.userPrincipalName, () =>
      this.directory.setUsageLocation(account.id, usageLocation.value),
      { usageLocation: usageLocation.value },
    );
  }

  /** Assigns a license of the given kind; idempotent when the account already holds it. */
  async assignLicense(actor: Actor, account: ResourceAccount, kind: string): Promise<Result<ResourceAccount>> {
    const facts = await this.directory.getTenantFacts();
    const sku = findSku(facts, kind);
    if (!sku.ok) return sku;
    if (account.assignedLicenses.includes(sku.value.skuId)) return ok(account);
    const refusal = checkUsageLocationBeforeLicense(account.usageLocation) ?? checkFreeSeat(sku.value);
    if (refusal) {
      await this.audit.append({ actor, action: 'license.assign', target: account.userPrincipalName, outcome: 'refused', reason: refusal.reason });
      return refusal;
    }
    return this.attempt(actor, 'license.assign', account.userPrincipalName, () =>
      this.directory.assignLicense(account.id, { addSkuIds: [sku.value.skuId], removeSkuIds: [] }),
      { sku: sku.value.skuPartNumber },
    );
  }

  getAccount(id: string): Promise<ResourceAccount | null> {
    return this.directory.getAccount(id);
  }

  listAccounts(query: AccountQuery): Promise<Page<ResourceAccount>> {
    return this.directory.listAccounts(query);
  }

  /** Finds an account by full UPN, or by username alone when exactly one domain has it. */
  async findAccount(username: string): Promise<Result<ResourceAccount>> {
    const wanted = username.trim();
    if (!wanted) return refuse('ACCOUNT_NOT_FOUND', { username: '—' });
    if (wanted.includes('@')) {
      const account = await this.directory.findAccountByUpn(wanted);
      return account ? ok(account) : refuse('ACCOUNT_NOT_FOUND', { username: wanted.slice(0, 120) });
    }
    const facts = await this.directory.getTenantFacts();
    const matches: ResourceAccount[] = [];
    for (const domain of facts.domains) {
      const account = await this.directory.findAccountByUpn(`${wanted}@${domain.name}`);
      if (account) matches.push(account);
    }
    if (matches.length === 1) return ok(matches[0]!);
    if (matches.length > 1) {
      return refuse('ACCOUNT_AMBIGUOUS', { username: wanted, candidates: matches.map((m) => m.userPrincipalName).join(', ') });
    }
    return refuse('ACCOUNT_NOT_FOUND', { username: wanted.slice(0, 120) });
  }

  /** Runs one directory change and audits it; a tenant's refusal becomes a typed Refusal. */
  private async attempt<T>(
    actor: Actor,
    action: string,
    target: string,
    change: () => Promise<T>,
    detail?: Record<string, string>,
  ): Promise<Result<T>> {
    try {
      const value = await change();
      await this.audit.append({ actor, action, target, outcome: 'succeeded', ...(detail ? { detail } : {}) });
      return ok(value);
    } catch (e) {
      if (e instanceof DirectoryRefusal) {
        await this.audit.append({ actor, action, target, outcome: 'refused', reason: e.reason, ...(detail ? { detail } : {}) });
        return e.toRefusal();
      }
      await this.audit.append({ actor, action, target, outcome: 'failed', ...(detail ? { detail } : {}) });
      throw e;
    }
  }
}
