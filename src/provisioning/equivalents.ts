import { isMarkupSensitive } from '../cards/text';
import { onPremisesCommands } from './hybrid';
import { ACCOUNT_TYPES, type NumberType, type TenantFacts } from './model';
import type { Plan, Step } from './plans';

const GRAPH = 'https://graph.microsoft.com/v1.0';

/**
 * PowerShell takes five characters for a single quote: ' ‘ ’ ‚ ‛ (U+0027, U+2018–U+201B). Any of them
 * ends a single-quoted (verbatim) string, and two of them in a row stand for one inside it (PowerShell
 * Language Specification 3.0 §2.3.5.2, "single-quote-character"; about_Quoting_Rules; IsSingleQuote in
 * PowerShell's src/System.Management.Automation/engine/parser/CharTraits.cs).
 */
const SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g;

/**
 * Characters that are not shown as themselves: controls, format characters (bidi controls, zero-width
 * characters, BOM), line separators, lone surrogates, private use and unassigned code points.
 */
const NOT_VISIBLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]$/u;

/**
 * A PowerShell string expression that evaluates to exactly `value`, written so that the plan card can
 * show it as it is. The card shows these lines in a TextBlock, which Teams renders as Markdown even in
 * monospace, and an admin copies them: escaping them as plain text would change what gets copied. So
 * whatever Markdown would act on (src/cards/text.ts), and whatever is invisible or reorders text (bidi
 * controls), is written as [char]0xNNNN outside the quotes and concatenated:
 * 'a' + [char]0x2A + 'b'. Everything else, ordinary names and UPNs included, stays one plain
 * single-quoted literal, with each of the five quote characters doubled.
 */
export function powerShellString(value: string): string {
  const parts: string[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(`'${literal.replace(SINGLE_QUOTES, (q) => q + q)}'`);
    literal = '';
  };
  for (let i = 0; i < value.length; ) {
    const c = String.fromCodePoint(value.codePointAt(i)!);
    if (NOT_VISIBLE.test(c) || isMarkupSensitive(value, i)) {
      flush();
      // [char] is one UTF-16 code unit: a character beyond U+FFFF is two [char]s in a row.
      for (let u = 0; u < c.length; u++) parts.push(`[char]0x${c.charCodeAt(u).toString(16).toUpperCase().padStart(4, '0')}`);
    } else literal += c;
    i += c.length;
  }
  flush();
  if (parts.length === 0) return "''";
  if (parts.length === 1 && parts[0]!.startsWith("'")) return parts[0]!;
  // [char] + [char] adds numbers: a string first makes every + a concatenation. The parentheses make
  // it one argument in argument mode (about_Parsing).
  if (!parts[0]!.startsWith("'")) parts.unshift("''");
  return `(${parts.join(' + ')})`;
}

const quote = powerShellString;

/** Entra object ids, SKU ids and voice application ids are GUIDs; one that is not is shown quoted or encoded. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id as a PowerShell argument: a GUID as it is (it cannot hold anything unexpected), anything else quoted. */
function idArgument(id: string): string {
  return GUID.test(id) ? id : quote(id);
}

/**
 * An id in a Graph URL path: a GUID as it is, anything else percent-encoded beyond ASCII letters,
 * digits and "-" (RFC 3986 §2.1), so that the path names that id and nothing in it reads as Markdown.
 */
function pathSegment(id: string): string {
  if (GUID.test(id)) return id;
  return [...new TextEncoder().encode(id)].map((b) => (/^[A-Za-z0-9-]$/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A JSON string in a Graph body, every character but [A-Za-z0-9 .-] written \uXXXX (RFC 8259 §7): the same value, no Markdown. */
function jsonString(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    out += /^[A-Za-z0-9 .-]$/.test(c) ? c : `\\u${value.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return `"${out}"`;
}

const NUMBER_TYPE: Record<NumberType, string> = { callingPlan: 'CallingPlan', operatorConnect: 'OperatorConnect', directRouting: 'DirectRouting' };

/**
 * What each step does, written as the PowerShell cmdlet or Graph call an admin would run by hand
 * (teams-apis.md §1, §2, §3), for admins who want to see or audit what will happen.
 */
export function equivalentOf(step: Step, plan: Pick<Plan, 'account'>, facts: TenantFacts): string {
  const upn = quote(plan.account.userPrincipalName);
  // Placeholders name what does not exist yet (the account of a plan that creates it); they are ours.
  const accountId = plan.account.id;
  const id = accountId === null ? '{objectId}' : idArgument(accountId);
  const path = accountId === null ? '{objectId}' : pathSegment(accountId);
  const sku = (kind: 'resourceAccount' | 'phoneSystem') => {
    const skuId = facts.skus.find((s) => s.kind === kind)?.skuId;
    return skuId === undefined ? `"{${kind} skuId}"` : jsonString(skuId);
  };
  switch (step.kind) {
    case 'awaitOnPremisesAccount':
      return onPremisesCommands(step, step.ou, quote).join('  ·  ');
    case 'createAccount':
      return `New-CsOnlineApplicationInstance -UserPrincipalName ${quote(step.userPrincipalName)} -ApplicationId ${ACCOUNT_TYPES[step.accountType].applicationId} -DisplayName ${quote(step.displayName)}`;
    case 'setUsageLocation':
      return `PATCH ${GRAPH}/users/${path} {"usageLocation":${jsonString(step.usageLocation)}}`;
    case 'assignLicense':
      return `POST ${GRAPH}/users/${path}/assignLicense {"addLicenses":[{"skuId":${sku(step.license)},"disabledPlans":[]}],"removeLicenses":[]}`;
    case 'switchLicense':
      return `POST ${GRAPH}/users/${path}/assignLicense {"addLicenses":[{"skuId":${sku('resourceAccount')},"disabledPlans":[]}],"removeLicenses":[${sku('phoneSystem')}]}`;
    case 'awaitLicense':
      return `GET ${GRAPH}/users/${path}/licenseDetails  (until the Teams Phone service plan reports provisioningStatus "Success")`;
    case 'assignNumber':
      return `Set-CsPhoneNumberAssignment -Identity ${upn} -TelephoneNumber ${quote(step.telephoneNumber)} -NumberType ${NUMBER_TYPE[step.numberType]}`;
    case 'unassignNumber':
      return `Remove-CsPhoneNumberAssignment -Identity ${upn} -TelephoneNumber ${quote(step.telephoneNumber)} -NumberType ${NUMBER_TYPE[step.numberType]}`;
    case 'associate':
      return `New-CsOnlineApplicationInstanceAssociation -Identities ${id} -ConfigurationId ${idArgument(step.configurationId)} -ConfigurationType ${step.configurationType === 'autoAttendant' ? 'AutoAttendant' : 'CallQueue'}`;
    case 'dissociate':
      return `Remove-CsOnlineApplicationInstanceAssociation -Identities ${id}`;
    case 'updateAccount': {
      const parts = [`Set-CsOnlineApplicationInstance -Identity ${upn}`];
      if (step.displayName !== undefined) parts.push(`-DisplayName ${quote(step.displayName)}`);
      if (step.accountType !== undefined) parts.push(`-ApplicationId ${ACCOUNT_TYPES[step.accountType].applicationId}`);
      return parts.join(' ');
    }
    case 'deleteAccount':
      return `DELETE ${GRAPH}/users/${path}`;
  }
}
