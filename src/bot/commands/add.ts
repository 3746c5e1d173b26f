import { addAccountFormCard, EMPTY_FORM } from '../../cards/addAccountForm';
import type { TenantFacts } from '../../provisioning/model';
import type { NewAccountForm } from '../../provisioning/service';
import type { Command } from '../scope';

/**
 * "add", or "add cq-support-fr Support France": what follows fills the form, as an admin who names the
 * account up front expects. The first word is the username (with its domain when it has one the tenant
 * verified), "aa-"/"cq-" picks the type (the naming Microsoft's examples use), the rest is the display
 * name. Nothing is checked here: the form is, when Add is clicked.
 */
export const add: Command = {
  name: 'add',
  requires: 'admin',
  async handle(scope, args) {
    const facts = await scope.services.provisioning.tenantFacts();
    const typed = prefilled(args, facts);
    return addAccountFormCard(facts, scope.locale, typed);
  },
};

function prefilled(args: string, facts: TenantFacts): NewAccountForm | undefined {
  const [first = '', ...rest] = args.trim().split(/\s+/).filter(Boolean);
  if (!first) return undefined;
  const at = first.lastIndexOf('@');
  const local = (at > 0 ? first.slice(0, at) : first).slice(0, 64);
  const named = at > 0 ? facts.domains.find((d) => d.isOnline && d.name.toLowerCase() === first.slice(at + 1).toLowerCase()) : undefined;
  const prefix = local.toLowerCase().slice(0, 3);
  return {
    ...EMPTY_FORM,
    usageLocation: facts.countryLetterCode ?? '',
    // A domain the tenant does not have is left in the username, where Add names what is wrong with it.
    username: at > 0 && !named ? first.slice(0, 120) : local,
    domain: named?.name ?? '',
    accountType: prefix === 'aa-' ? 'autoAttendant' : prefix === 'cq-' ? 'callQueue' : '',
    displayName: rest.join(' ').replace(/^["“']|["”']$/g, '').slice(0, 256),
  };
}
