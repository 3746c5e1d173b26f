import { createAccount } from '../../src/backends/simulated/accounts';
import { associate } from '../../src/backends/simulated/voiceApps';
import type { StoredAccount } from '../../src/backends/simulated/state';
import { ACCOUNT_TYPES, type AccountType } from '../../src/provisioning/model';
import { DirectoryRefusal } from '../../src/provisioning/result';
import associationFixture from './fixtures/ps-association-output.json';
import type { FakeTenant } from './tenant';

const ASSOCIATION = { success: associationFixture.success.Results[0]!, failure: associationFixture.failure.Results[0]! };

/** The MicrosoftTeams cmdlets Switchboard uses, answering like the module does (teams-apis.md §3.2). */

export type CmdletResult =
  | { ok: true; output: unknown[] }
  | { ok: false; error: { fullyQualifiedErrorId: string; message: string; category: string } };

const fail = (id: string, message: string, category = 'NotSpecified'): CmdletResult => ({
  ok: false,
  error: { fullyQualifiedErrorId: `${id},Microsoft.Teams.ConfigAPI.Cmdlets.Generated`, message, category },
});

const typeOf = (applicationId: unknown): AccountType | undefined =>
  (Object.keys(ACCOUNT_TYPES) as AccountType[]).find((t) => ACCOUNT_TYPES[t].applicationId === String(applicationId).toLowerCase());

function instance(tenant: FakeTenant, a: StoredAccount) {
  return {
    ObjectId: a.id,
    UserPrincipalName: a.userPrincipalName,
    DisplayName: a.displayName,
    ApplicationId: ACCOUNT_TYPES[a.accountType].applicationId,
    PhoneNumber: a.phoneNumber ? `tel:${a.phoneNumber}` : null,
    TenantId: tenant.state.tenantId,
  };
}

/** How the module words the refusals the backend must recognise (teams-apis.md §1.1, §3.5). */
const PS_TEXTS: Partial<Record<string, string>> = {
  UPN_IN_USE: 'Another object with the same value for property userPrincipalName already exists.',
  ACCOUNT_NOT_FOUND: "The user '' is not found",
};

const DELEGATED_ONLY = new Set(['Get-CsOnlineApplicationInstance', 'New-CsOnlineApplicationInstance', 'Set-CsOnlineApplicationInstance']);

export function runCmdlet(tenant: FakeTenant, cmdlet: string, p: Record<string, unknown>): CmdletResult {
  tenant.observe();
  const state = tenant.state;
  // teams-apis.md §0.2: app-only sessions get "Access Denied" from these three.
  if (tenant.appOnly && DELEGATED_ONLY.has(cmdlet)) return fail('Forbidden', 'Access Denied.', 'PermissionDenied');
  const notFound = (identity: unknown) => fail('NotFound', `Application instance '${String(identity)}' was not found.`, 'ObjectNotFound');
  const account = (identity: unknown) => tenant.account(String(identity ?? ''));
  try {
    switch (cmdlet) {
      case 'Get-CsOnlineApplicationInstance': {
        if (p.Identity === undefined) return { ok: true, output: Object.values(state.accounts).map((a) => instance(tenant, a)) };
        const found = account(p.Identity);
        return found ? { ok: true, output: [instance(tenant, found)] } : notFound(p.Identity);
      }
      case 'New-CsOnlineApplicationInstance': {
        const accountType = typeOf(p.ApplicationId);
        if (!accountType) return fail('BadRequest', 'ApplicationId is not a known application.');
        const upn = String(p.UserPrincipalName);
        if (tenant.user(upn)) return fail('BadRequest', 'Another object with the same value for property userPrincipalName already exists.');
        const created = createAccount(state, { userPrincipalName: upn, displayName: String(p.DisplayName ?? upn), accountType }, tenant.now());
        return { ok: true, output: [instance(tenant, created)] };
      }
      case 'Set-CsOnlineApplicationInstance': {
        const found = account(p.Identity);
        if (!found) return notFound(p.Identity);
        // The cmdlet itself does not guard a type change under an association; the backend must.
        if (p.DisplayName !== undefined) found.displayName = String(p.DisplayName);
        if (p.ApplicationId !== undefined) found.accountType = typeOf(p.ApplicationId) ?? found.accountType;
        return { ok: true, output: [instance(tenant, found)] };
      }
      case 'Get-CsOnlineApplicationInstanceAssociation': {
        const found = account(p.Identity);
        if (!found) return notFound(p.Identity);
        const output = found.associations.map((a) => ({
          Id: found.id,
          ConfigurationId: a.configurationId,
          ConfigurationType: a.configurationType === 'autoAttendant' ? 'AutoAttendant' : 'CallQueue',
          CallPriority: 3,
        }));
        return { ok: true, output };
      }
      // One AssociationOperationOutput with the per-identity rows under Results (fixtures/ps-association-output.json).
      case 'New-CsOnlineApplicationInstanceAssociation': {
        const Results = (p.Identities as unknown[]).map((identity) => {
          const found = account(identity);
          if (!found) return { ...ASSOCIATION.failure, Id: identity, StatusCode: 'NotFound', Message: `The user '${String(identity)}' is not found` };
          const failing = tenant.failAssociations.get(found.id);
          if (failing) return { ...ASSOCIATION.failure, Id: found.id, ConfigurationId: p.ConfigurationId, Message: failing };
          associate(state, found, String(p.ConfigurationId));
          return { ...ASSOCIATION.success, Id: found.id, ConfigurationId: p.ConfigurationId, ConfigurationType: p.ConfigurationType };
        });
        return { ok: true, output: [{ Results }] };
      }
      case 'Remove-CsOnlineApplicationInstanceAssociation': {
        const Results = (p.Identities as unknown[]).map((identity) => {
          const found = account(identity);
          if (!found) return { ...ASSOCIATION.failure, Id: identity, StatusCode: 'NotFound', Message: `The user '${String(identity)}' is not found` };
          const failing = tenant.failAssociations.get(found.id);
          if (failing) return { ...ASSOCIATION.failure, Id: found.id, Message: failing };
          const configurationId = found.associations[0]?.configurationId ?? null;
          found.associations = [];
          return { ...ASSOCIATION.success, Id: found.id, ConfigurationId: configurationId, StatusCode: 'OK' };
        });
        return { ok: true, output: [{ Results }] };
      }
      case 'Get-CsAutoAttendant':
      case 'Get-CsCallQueue': {
        const type: AccountType = cmdlet === 'Get-CsAutoAttendant' ? 'autoAttendant' : 'callQueue';
        const apps = Object.values(state.voiceApps)
          .filter((v) => v.configurationType === type)
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((v) => ({
            Identity: v.configurationId,
            Name: v.name,
            // An account deleted while the AA/CQ used it stays listed by its id.
            ApplicationInstances: [
              ...Object.values(state.accounts).filter((a) => a.associations.some((x) => x.configurationId === v.configurationId)).map((a) => a.id),
              ...v.staleAccountIds,
            ],
          }));
        const skip = Number(p.Skip ?? 0);
        return { ok: true, output: apps.slice(skip, skip + Number(p.First ?? 100)) };
      }
      default:
        return fail('CommandNotFoundException', `The term '${cmdlet}' is not recognized as a name of a cmdlet.`, 'ObjectNotFound');
    }
  } catch (e) {
    if (e instanceof DirectoryRefusal) return fail('BadRequest', PS_TEXTS[e.reason] ?? `The request was refused (${e.reason}).`);
    throw e;
  }
}
