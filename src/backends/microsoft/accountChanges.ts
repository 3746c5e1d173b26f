import type { AccountChange, NewAccount } from '../../provisioning/directory';
import type { ResourceAccount } from '../../provisioning/model';
import { DirectoryRefusal } from '../../provisioning/result';
import { accountOrRefuse, observedOrRefuse } from './accounts';
import { path, type Tenant } from './context';
import { GraphUserSchema } from './graph/schemas';
import { writeOrReread } from './outcomes';
import { asTenant } from './tenantErrors';

/** Graph refuses an empty display name: required, cannot be cleared (teams-apis.md §4). */
function displayNameOrRefuse(raw: string): string {
  const displayName = raw.trim();
  if (!displayName) throw new DirectoryRefusal('DISPLAY_NAME_REQUIRED', {}, 'displayName');
  return displayName;
}

/**
 * New-CsOnlineApplicationInstance (teams-apis.md §3.2; Graph cannot create one, §0.1). The UPN becomes
 * the SIP URI, so its domain must be a verified, online domain of the tenant (§4). A UPN held by any
 * object, resource account or not, is refused before PowerShell runs.
 */
export async function createAccount(tenant: Tenant, input: NewAccount): Promise<ResourceAccount> {
  const upn = input.userPrincipalName.trim();
  const domainName = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
  const domain = (await tenant.facts.get()).domains.find((d) => d.name.toLowerCase() === domainName);
  if (!upn.includes('@') || !domain) throw new DirectoryRefusal('UPN_DOMAIN_NOT_VERIFIED', { domain: domainName }, 'domain');
  if (!domain.isOnline) throw new DirectoryRefusal('UPN_DOMAIN_NOT_ONLINE', { domain: domain.name }, 'domain');
  const displayName = displayNameOrRefuse(input.displayName);
  const holder = await tenant.graph.getOrNull(path('users', upn), GraphUserSchema, { $select: 'id,userPrincipalName' });
  if (holder) throw new DirectoryRefusal('UPN_IN_USE', { upn: holder.userPrincipalName }, 'username');

  const instance = await writeOrReread(
    () => asTenant({ action: 'createAccount', upn }, () => tenant.teams.newInstance(upn, displayName, input.accountType)),
    // The UPN was free a moment ago: an instance with it, of this type and name, is this very order.
    async () => {
      const found = await tenant.teams.getInstance(upn);
      return found && found.accountType === input.accountType && found.displayName === displayName ? found : null;
    },
  );
  tenant.recent.add(instance);
  tenant.instances.update((all) => all.set(instance.objectId, instance));
  return {
    id: instance.objectId,
    userPrincipalName: instance.userPrincipalName,
    displayName: instance.displayName || displayName,
    accountType: input.accountType,
    accountEnabled: false,
    usageLocation: null,
    assignedLicenses: [],
    phoneNumber: null,
    associations: [],
    broken: false,
    createdAt: tenant.now().toISOString(),
  };
}

/**
 * Set-CsOnlineApplicationInstance -DisplayName / -ApplicationId (teams-apis.md §3.2). The cmdlet itself
 * does not stop a type change under an AA/CQ that uses the account; we do (DOMAIN.md F6), reading the
 * association fresh from Get-CsOnlineApplicationInstanceAssociation.
 */
export async function updateAccount(tenant: Tenant, id: string, change: AccountChange): Promise<ResourceAccount> {
  const account = await accountOrRefuse(tenant, id);
  const displayName = change.displayName === undefined ? undefined : displayNameOrRefuse(change.displayName);
  const typeChanges = change.accountType !== undefined && change.accountType !== account.accountType;
  if (typeChanges) {
    const [association] = await tenant.teams.associationsOf(account.id);
    if (association) {
      const app = (await tenant.voiceApps.get()).find((a) => a.configurationId === association.configurationId);
      throw new DirectoryRefusal(
        'EDIT_TYPE_WHILE_ASSOCIATED',
        { upn: account.userPrincipalName, voiceApp: app?.name ?? association.configurationId },
        'accountType',
      );
    }
  }
  const renames = displayName !== undefined && displayName !== account.displayName;
  if (!renames && !typeChanges) return account;
  await writeOrReread(
    () =>
      asTenant({ action: 'updateAccount', upn: account.userPrincipalName, recentlyCreated: tenant.recent.has(id) }, () =>
        tenant.teams.setInstance(account.id, {
          ...(renames ? { displayName } : {}),
          ...(typeChanges && change.accountType ? { accountType: change.accountType } : {}),
        }),
      ),
    async () => {
      const now = await tenant.teams.getInstance(account.id);
      const applied = now && (!renames || now.displayName === displayName) && (!typeChanges || now.accountType === change.accountType);
      return applied ? undefined : null;
    },
  );
  tenant.instances.update((all) => {
    const instance = all.get(account.id.toLowerCase());
    if (!instance) return;
    if (renames && displayName) instance.displayName = displayName;
    if (typeChanges && change.accountType) instance.accountType = change.accountType;
  });
  return {
    ...account,
    ...(renames && displayName ? { displayName } : {}),
    ...(typeChanges && change.accountType ? { accountType: change.accountType } : {}),
  };
}

/** PATCH /users/{id} {usageLocation}: ISO 3166-1 alpha-2, before any license (teams-apis.md §1.3). */
export async function setUsageLocation(tenant: Tenant, id: string, usageLocation: string): Promise<ResourceAccount> {
  const code = usageLocation.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw new DirectoryRefusal('USAGE_LOCATION_INVALID', { value: usageLocation.slice(0, 10) }, 'usageLocation');
  const account = await accountOrRefuse(tenant, id, true);
  if (account.usageLocation === code) return account;
  const attempt = { action: 'setUsageLocation', upn: account.userPrincipalName, usageLocation: code, recentlyCreated: tenant.recent.has(id) } as const;
  await asTenant(attempt, () => tenant.graph.send('PATCH', tenant.graph.url(path('users', account.id)), { usageLocation: code }));
  return { ...account, usageLocation: code };
}

/**
 * PATCH /users/{id} {accountEnabled:false}: a resource account is a disabled user object and must stay
 * one (teams-apis.md §1.1; "Resource accounts used for auto attendants and call queues are disabled for
 * sign in and must remain so", manage-resource-accounts). Only resource accounts: accountOrRefuse finds
 * application instances alone.
 */
export async function blockSignIn(tenant: Tenant, id: string): Promise<ResourceAccount> {
  const account = await accountOrRefuse(tenant, id, true);
  if (!account.accountEnabled) return account;
  await asTenant({ action: 'blockSignIn', upn: account.userPrincipalName, recentlyCreated: tenant.recent.has(id) }, () =>
    tenant.graph.send('PATCH', tenant.graph.url(path('users', account.id)), { accountEnabled: false }),
  );
  return { ...account, accountEnabled: false };
}

/**
 * DELETE /users/{id} (teams-apis.md §1.6). Deliberately stricter than the tenant: an account that still
 * holds a number is refused, because deleting it leaves the number "stuck in pending mode" (§0.5,
 * DOMAIN.md F1); a delete plan unassigns and waits first.
 */
export async function deleteAccount(tenant: Tenant, id: string): Promise<void> {
  // The account and its numbers come in one batch: no second read of the numbers.
  const { account, numbers } = await observedOrRefuse(tenant, id);
  const [held] = numbers;
  if (held) {
    throw new DirectoryRefusal('DELETE_NUMBER_STILL_ASSIGNED', { upn: account.userPrincipalName, number: held.telephoneNumber });
  }
  await asTenant({ action: 'deleteAccount', upn: account.userPrincipalName }, () =>
    tenant.graph.send('DELETE', tenant.graph.url(path('users', account.id))),
  );
  tenant.recent.forget(account.id);
  const key = account.id.toLowerCase();
  tenant.instances.update((all) => all.delete(key));
  tenant.voiceApps.update((apps) => apps.forEach((app) => (app.accountIds = app.accountIds.filter((a) => a !== key))));
  tenant.facts.invalidate();
}
