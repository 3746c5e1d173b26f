import type { VoiceApplication } from '../../provisioning/directory';
import type { ResourceAccount } from '../../provisioning/model';
import { DirectoryRefusal } from '../../provisioning/result';
import { accountOrRefuse } from './accounts';
import type { Tenant } from './context';
import type { VoiceAppRecord } from './powershell/cmdlets';
import { writeOrReread } from './outcomes';
import { asTenant } from './tenantErrors';

/** Auto attendants and call queues (Get-CsAutoAttendant / Get-CsCallQueue), by name. */
export async function listVoiceApplications(tenant: Tenant): Promise<VoiceApplication[]> {
  return (await tenant.voiceApps.get())
    .map((app) => ({ ...app, accountIds: [...app.accountIds] }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.configurationId.localeCompare(b.configurationId));
}

async function voiceAppOrRefuse(tenant: Tenant, configurationId: string): Promise<VoiceAppRecord> {
  const app = (await tenant.voiceApps.get()).find((a) => a.configurationId === configurationId.toLowerCase());
  if (!app) throw new DirectoryRefusal('VOICE_APP_NOT_FOUND', { name: configurationId.slice(0, 80) }, 'voiceApplication');
  return app;
}

/**
 * New-CsOnlineApplicationInstanceAssociation (teams-apis.md §3.2). An AA takes AA accounts, a CQ CQ
 * accounts, and an account serves one voice app at a time (§4); the current association is read
 * fresh with Get-CsOnlineApplicationInstanceAssociation, not from a cache.
 */
export async function associate(tenant: Tenant, accountId: string, configurationId: string): Promise<ResourceAccount> {
  const account = await accountOrRefuse(tenant, accountId);
  const app = await voiceAppOrRefuse(tenant, configurationId);
  const upn = account.userPrincipalName;
  if (app.configurationType !== account.accountType) {
    throw new DirectoryRefusal('ASSOCIATION_TYPE_MISMATCH', { upn, accountType: account.accountType, voiceApp: app.name }, 'voiceApplication');
  }
  const [current] = await tenant.teams.associationsOf(account.id);
  if (current) {
    const name = (await tenant.voiceApps.get()).find((a) => a.configurationId === current.configurationId)?.name;
    throw new DirectoryRefusal('ACCOUNT_ALREADY_ASSOCIATED', { upn, voiceApp: name ?? current.configurationId }, 'voiceApplication');
  }
  await writeOrReread(
    () => asTenant({ action: 'associate', upn, recentlyCreated: tenant.recent.has(account.id) }, () => tenant.teams.associate(account.id, app.configurationId, app.configurationType)),
    async () => ((await tenant.teams.associationsOf(account.id)).some((a) => a.configurationId === app.configurationId) ? undefined : null),
  );
  const accountKey = account.id.toLowerCase();
  tenant.voiceApps.update((apps) => apps.filter((a) => a.configurationId === app.configurationId).forEach((a) => a.accountIds.push(accountKey)));
  const { configurationId: id, configurationType, name } = app;
  return { ...account, associations: [{ configurationId: id, configurationType, name }] };
}

/** Remove-CsOnlineApplicationInstanceAssociation -Identities (it removes the account's association). */
export async function dissociate(tenant: Tenant, accountId: string, configurationId: string): Promise<ResourceAccount> {
  const account = await accountOrRefuse(tenant, accountId);
  const app = await voiceAppOrRefuse(tenant, configurationId);
  const current = await tenant.teams.associationsOf(account.id);
  if (!current.some((a) => a.configurationId === app.configurationId)) {
    throw new DirectoryRefusal('ASSOCIATION_NOT_FOUND', { upn: account.userPrincipalName, voiceApp: app.name }, 'voiceApplication');
  }
  await writeOrReread(
    () => asTenant({ action: 'associate', upn: account.userPrincipalName }, () => tenant.teams.dissociate(account.id)),
    async () => ((await tenant.teams.associationsOf(account.id)).some((a) => a.configurationId === app.configurationId) ? null : undefined),
  );
  const accountKey = account.id.toLowerCase();
  tenant.voiceApps.update((apps) => apps.forEach((a) => (a.accountIds = a.accountIds.filter((x) => x !== accountKey))));
  return { ...account, associations: account.associations.filter((a) => a.configurationId !== app.configurationId) };
}
