import { ACCOUNT_TYPES, type NumberType, type TenantFacts } from './model';
import type { Plan, Step } from './plans';

const GRAPH = 'https://graph.microsoft.com/v1.0';

/** PowerShell single-quoted literal: a quote is doubled, nothing inside is interpreted. */
function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const NUMBER_TYPE: Record<NumberType, string> = { callingPlan: 'CallingPlan', operatorConnect: 'OperatorConnect', directRouting: 'DirectRouting' };

/**
 * What each step does, written as the PowerShell cmdlet or Graph call an admin would run by hand
 * (teams-apis.md §1, §2, §3), for admins who want to see or audit what will happen.
 */
export function equivalentOf(step: Step, plan: Pick<Plan, 'account'>, facts: TenantFacts): string {
  const upn = quote(plan.account.userPrincipalName);
  const id = plan.account.id ?? '{objectId}';
  const sku = (kind: 'resourceAccount' | 'phoneSystem') => facts.skus.find((s) => s.kind === kind)?.skuId ?? `{${kind} skuId}`;
  switch (step.kind) {
    case 'createAccount':
      return `New-CsOnlineApplicationInstance -UserPrincipalName ${quote(step.userPrincipalName)} -ApplicationId ${ACCOUNT_TYPES[step.accountType].applicationId} -DisplayName ${quote(step.displayName)}`;
    case 'setUsageLocation':
      return `PATCH ${GRAPH}/users/${id} {"usageLocation":"${step.usageLocation}"}`;
    case 'assignLicense':
      return `POST ${GRAPH}/users/${id}/assignLicense {"addLicenses":[{"skuId":"${sku(step.license)}","disabledPlans":[]}],"removeLicenses":[]}`;
    case 'switchLicense':
      return `POST ${GRAPH}/users/${id}/assignLicense {"addLicenses":[{"skuId":"${sku('resourceAccount')}","disabledPlans":[]}],"removeLicenses":["${sku('phoneSystem')}"]}`;
    case 'awaitLicense':
      return `GET ${GRAPH}/users/${id}/licenseDetails  (until the Teams Phone service plan reports provisioningStatus "Success")`;
    case 'assignNumber':
      return `Set-CsPhoneNumberAssignment -Identity ${upn} -TelephoneNumber ${quote(step.telephoneNumber)} -NumberType ${NUMBER_TYPE[step.numberType]}`;
    case 'unassignNumber':
      return `Remove-CsPhoneNumberAssignment -Identity ${upn} -TelephoneNumber ${quote(step.telephoneNumber)} -NumberType ${NUMBER_TYPE[step.numberType]}`;
    case 'associate':
      return `New-CsOnlineApplicationInstanceAssociation -Identities ${id} -ConfigurationId ${step.configurationId} -ConfigurationType ${step.configurationType === 'autoAttendant' ? 'AutoAttendant' : 'CallQueue'}`;
    case 'dissociate':
      return `Remove-CsOnlineApplicationInstanceAssociation -Identities ${id}`;
    case 'updateAccount': {
      const parts = [`Set-CsOnlineApplicationInstance -Identity ${upn}`];
      if (step.displayName !== undefined) parts.push(`-DisplayName ${quote(step.displayName)}`);
      if (step.accountType !== undefined) parts.push(`-ApplicationId ${ACCOUNT_TYPES[step.accountType].applicationId}`);
      return parts.join(' ');
    }
    case 'deleteAccount':
      return `DELETE ${GRAPH}/users/${id}`;
  }
}
