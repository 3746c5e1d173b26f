import { randomUUID } from 'node:crypto';
import { format, strings, type Locale } from '../i18n';
import { countryList } from '../provisioning/countries';
import { freeSeats, type TenantFacts } from '../provisioning/model';
import type { Refusal } from '../provisioning/result';
import type { NewAccountForm } from '../provisioning/service';
import { describeRefusal } from './describe';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

const FIELDS = ['displayName', 'username', 'domain', 'accountType', 'usageLocation', 'license', 'telephoneNumber'] as const;

export const EMPTY_FORM: NewAccountForm = {
  displayName: '',
  username: '',
  domain: '',
  accountType: '',
  usageLocation: '',
  license: 'resourceAccount',
  telephoneNumber: '',
};

/**
 * The add form mirrors the Teams admin center's "Add resource account" pane, plus usage location and
 * license with free seats. On a refusal the same card comes back with each message under its field
 * and every value the admin typed kept. A new form starts with the tenant's country as usage location
 * (Graph organization.countryLetterCode, where the backend knows it): a license needs one (F8), so an
 * empty one made the first Add fail.
 */
export function addAccountFormCard(facts: TenantFacts, locale: Locale, typed?: NewAccountForm, refusals: Refusal[] = [], formId: string = randomUUID()): CardJson {
  return formCard(facts, locale, typed, refusals, formId, strings(locale).add.fixBelow);
}

/**
 * The form filled from "add <username> <display name>", before any Add: what the rules refuse in it shows
 * under its field, under a header that does not say "nothing was created" of a form nobody sent.
 */
export function prefilledAddFormCard(facts: TenantFacts, locale: Locale, typed: NewAccountForm, refusals: Refusal[]): CardJson {
  return formCard(facts, locale, typed, refusals, randomUUID(), strings(locale).add.fixTyped);
}

function formCard(facts: TenantFacts, locale: Locale, typed: NewAccountForm | undefined, refusals: Refusal[], formId: string, errorHeader: string): CardJson {
  const values = typed ?? { ...EMPTY_FORM, usageLocation: facts.countryLetterCode ?? '' };
  const s = strings(locale);
  const errors: Record<(typeof FIELDS)[number], string> = { displayName: '', username: '', domain: '', accountType: '', usageLocation: '', license: '', telephoneNumber: '' };
  for (const refusal of refusals) {
    const field = refusal.field && (FIELDS as readonly string[]).includes(refusal.field) ? (refusal.field as (typeof FIELDS)[number]) : 'displayName';
    const message = describeRefusal(refusal, locale);
    errors[field] = errors[field] ? `${errors[field]} ${message}` : message;
  }
  const defaultDomain = facts.domains.find((d) => d.isDefault)?.name ?? facts.domains[0]?.name ?? '';
  // Only the Resource Account license is offered: "all resource accounts must be assigned a Teams Phone
  // Resource Account license … don't assign a Teams Phone Standard license to a resource account"
  // (Microsoft Teams Phone Resource Account licenses, learn.microsoft.com/microsoftteams/teams-add-on-licensing/virtual-user;
  // MicrosoftDocs/OfficeDocs-SkypeForBusiness Teams/teams-add-on-licensing/virtual-user.md). The service refuses it too.
  const licenses: { title: string; value: string }[] = facts.skus.filter((sku) => sku.kind === 'resourceAccount').map((sku) => ({
    title: `${s.license[sku.kind]} (${format(s.license.seats, { free: freeSeats(sku), enabled: sku.enabled })})`,
    value: sku.kind,
  }));
  licenses.push({ title: s.license.none, value: 'none' });
  return renderCard('add-account-form', {
    // Sent with Add: the id of the plan it makes, so that the form sent twice makes one (kept on a refusal).
    formId,
    s: s.add,
    hasErrors: refusals.length > 0,
    errorHeader,
    // A domain refused is not swapped for the default under its error: the admin picks one.
    values: { ...values, domain: values.domain || (errors.domain ? '' : defaultDomain), telephoneNumber: values.telephoneNumber ?? '' },
    // Hybrid tenants: the account is made on-premises; the form says so and takes its Direct Routing number.
    hybrid: facts.hybrid?.hybrid === true,
    showNumberError: facts.hybrid?.hybrid === true && errors.telephoneNumber.length > 0,
    hybridNote: facts.hybrid?.hybrid ? format(s.add.hybridNote, { evidence: plainText(facts.hybrid.evidence) }) : '',
    errors,
    domains: facts.domains.filter((d) => d.isOnline),
    accountTypes: [
      { title: s.accountType.autoAttendant, value: 'autoAttendant' },
      { title: s.accountType.callQueue, value: 'callQueue' },
    ],
    countries: countryList(locale),
    licenses,
  });
}
