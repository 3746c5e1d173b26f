import { addAccountFormCard, EMPTY_FORM, prefilledAddFormCard } from '../../cards/addAccountForm';
import type { TenantFacts } from '../../provisioning/model';
import type { Refusal } from '../../provisioning/result';
import { checkDisplayName, checkDomain, checkUsername } from '../../provisioning/rules';
import type { NewAccountForm } from '../../provisioning/service';
import type { Command } from '../scope';

/**
 * "add", or "add cq-support-fr Support France": what follows fills the form, as an admin who names the
 * account up front expects. The first word is the username (with its domain when it has one), "aa-"/"cq-"
 * picks the type (the naming Microsoft's examples use), the rest is the display name; a display name in
 * quotes may come first, alone or before the username. What was typed is checked by the same rules as
 * Add, and what breaks one shows under its field at once: nothing typed is cut or dropped unsaid.
 */
export const add: Command = {
  name: 'add',
  requires: 'admin',
  async handle(scope, args) {
    const facts = await scope.services.provisioning.tenantFacts();
    const typed = prefilled(args, facts);
    return typed ? prefilledAddFormCard(facts, scope.locale, typed.form, typed.refusals) : addAccountFormCard(facts, scope.locale);
  },
};

/** Opening quotes and the closing quote each takes, English, French (« »), German („ “) and single. */
const QUOTES: Readonly<Record<string, string>> = { '"': '"', '“': '”', '”': '”', '„': '“', '«': '»', '‘': '’', "'": "'", '‹': '›' };

function prefilled(args: string, facts: TenantFacts): { form: NewAccountForm; refusals: Refusal[] } | undefined {
  const { first, displayName } = split(args.trim());
  if (!first && !displayName) return undefined;
  const refusals: Refusal[] = [];
  const at = first.lastIndexOf('@');
  const local = at >= 0 ? first.slice(0, at) : first;
  // "aa-x@" with nothing after the @ names no domain: the form's default stands, as with no @ at all.
  const typedDomain = at >= 0 ? first.slice(at + 1) : '';
  let domain = '';
  if (typedDomain) {
    // A domain the tenant does not have (or not online) is said under the domain, which keeps a verified one.
    const checked = checkDomain(typedDomain, facts);
    if (checked.ok) domain = checked.value;
    else refusals.push(checked);
  }
  if (local) {
    const checked = checkUsername(local);
    if (!checked.ok) refusals.push(checked);
  }
  if (displayName) {
    const checked = checkDisplayName(displayName);
    if (!checked.ok) refusals.push(checked);
  }
  const prefix = local.toLowerCase().slice(0, 3);
  return {
    form: {
      ...EMPTY_FORM,
      usageLocation: facts.countryLetterCode ?? '',
      username: local,
      domain,
      accountType: prefix === 'aa-' ? 'autoAttendant' : prefix === 'cq-' ? 'callQueue' : '',
      displayName,
    },
    refusals,
  };
}

/** The username and the display name, a pair of quotes around the display name taken off. */
function split(text: string): { first: string; displayName: string } {
  const quoted = unquote(text);
  if (quoted) return { first: quoted.after, displayName: quoted.inner };
  const space = text.search(/\s/);
  if (space < 0) return { first: text, displayName: '' };
  const rest = text.slice(space).trim();
  // Quotes come off only when one pair holds it all: '"Night" "desk"' is kept as typed (and shown on the form before Add).
  const name = unquote(rest);
  return { first: text.slice(0, space), displayName: name && !name.after ? name.inner : rest };
}

/**
 * A phrase in a matching pair of quotes at the start of `text`, and what follows it (a comma or the
 * like after the closing quote dropped). The closing quote ends a word: in 'Joe's line' the apostrophe
 * of Joe's does not close the phrase, and in "Support France", the comma does not keep it open.
 */
function unquote(text: string): { inner: string; after: string } | undefined {
  const close = QUOTES[text.charAt(0)];
  if (!close) return undefined;
  for (let end = text.indexOf(close, 1); end >= 0; end = text.indexOf(close, end + 1)) {
    const next = text.charAt(end + 1);
    if (next === '' || /[\s.,;:]/.test(next)) return { inner: text.slice(1, end).trim(), after: text.slice(end + 1).replace(/^[.,;:]+/, '').trim() };
  }
  return undefined;
}
