import type { VoiceApplication } from '../../provisioning/directory';
import { DirectoryRefusal } from '../../provisioning/result';
import { own, type StoredAccount, type StoredVoiceApp, type TenantState } from './state';

function voiceAppOrRefuse(state: TenantState, configurationId: string): StoredVoiceApp {
  const app = own(state.voiceApps, configurationId);
  if (!app) throw new DirectoryRefusal('VOICE_APP_NOT_FOUND', { name: configurationId }, 'voiceApplication');
  return app;
}

/**
 * New-CsOnlineApplicationInstanceAssociation (teams-apis.md §3.2). An AA takes AA accounts and a CQ
 * CQ accounts; an account serves one voice app at a time (teams-apis.md §4).
 */
export function associate(state: TenantState, account: StoredAccount, configurationId: string): void {
  const app = voiceAppOrRefuse(state, configurationId);
  if (app.configurationType !== account.accountType) {
    throw new DirectoryRefusal(
      'ASSOCIATION_TYPE_MISMATCH',
      { upn: account.userPrincipalName, accountType: account.accountType, voiceAppType: app.configurationType, voiceApp: app.name },
      'voiceApplication',
    );
  }
  const current = account.associations[0];
  if (current) {
    throw new DirectoryRefusal('ACCOUNT_ALREADY_ASSOCIATED', { upn: account.userPrincipalName, voiceApp: current.name }, 'voiceApplication');
  }
  const { configurationId: id, configurationType, name } = app;
  account.associations = [{ configurationId: id, configurationType, name }];
}

/** Remove-CsOnlineApplicationInstanceAssociation (teams-apis.md §3.2). */
export function dissociate(state: TenantState, account: StoredAccount, configurationId: string): void {
  const app = voiceAppOrRefuse(state, configurationId);
  if (!account.associations.some((a) => a.configurationId === configurationId)) {
    throw new DirectoryRefusal('ASSOCIATION_NOT_FOUND', { upn: account.userPrincipalName, voiceApp: app.name }, 'voiceApplication');
  }
  account.associations = account.associations.filter((a) => a.configurationId !== configurationId);
}

/**
 * Voice apps by name, each with the accounts associated with it (one pass over the accounts), then the
 * ids it still lists of accounts that no longer exist, as Get-CsAutoAttendant shows them.
 */
export function listVoiceApplications(state: TenantState): VoiceApplication[] {
  const accountIds = new Map<string, string[]>();
  for (const account of Object.values(state.accounts)) {
    for (const { configurationId } of account.associations) {
      const ids = accountIds.get(configurationId) ?? [];
      ids.push(account.id);
      accountIds.set(configurationId, ids);
    }
  }
  return Object.values(state.voiceApps)
    .map(({ configurationId, configurationType, name, staleAccountIds }) => ({
      configurationId,
      configurationType,
      name,
      accountIds: [...(accountIds.get(configurationId) ?? []), ...staleAccountIds],
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.configurationId.localeCompare(b.configurationId));
}
