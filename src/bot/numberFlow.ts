import { countryText } from '../cards/describe';
import { messageCard } from '../cards/message';
import { numberAlreadyAssignedCard } from '../cards/numberAlreadyAssigned';
import { numberNotReadyCard } from '../cards/numberNotReady';
import { numberSearchCard, type NumberFilter, type SearchableNumberType } from '../cards/numberSearch';
import { numberTypeCard } from '../cards/numberType';
import type { CardJson } from '../cards/render';
import { plainText } from '../cards/text';
import { format, strings } from '../i18n';
import { isIsoCountry } from '../provisioning/countries';
import type { Page } from '../provisioning/directory';
import type { LicenseSku, PhoneNumber, ResourceAccount } from '../provisioning/model';
import { checkAccountCanTakeNumber } from '../provisioning/numbers';
import { refuse, type Refusal } from '../provisioning/result';
import { refusalReply } from './accountRequests';
import type { Reply, TurnScope } from './scope';

/** A Teams ChoiceSet shows at most 15 options (teams-platform.md §5): one page of results is 15. */
export const NUMBER_PAGE_SIZE = 15;

export interface NumberSubject {
  account: ResourceAccount;
  skus: readonly LicenseSku[];
  /** The tenant's country: a usage location that Assign license would set (numberNotReadyCard). */
  countryLetterCode: string | null;
}

/** The account a number card is about, read fresh from the tenant (a card carries only its id). */
export async function loadSubject(scope: TurnScope, accountId: string): Promise<{ ok: true; value: NumberSubject } | { ok: false; reply: Reply }> {
  const { provisioning } = scope.services;
  const [account, facts] = await Promise.all([provisioning.getAccount(accountId), provisioning.tenantFacts()]);
  if (!account) return { ok: false, reply: refusalReply(scope, refuse('ACCOUNT_GONE')) };
  return { ok: true, value: { account, skus: facts.skus, countryLetterCode: facts.countryLetterCode ?? null } };
}

/** The card for a refusal about the account itself (not the number); null for any other refusal. */
export function accountRefusalCard(scope: TurnScope, subject: NumberSubject, refusal: Refusal): CardJson | null {
  switch (refusal.reason) {
    case 'NUMBER_ACCOUNT_HAS_NUMBER':
      return numberAlreadyAssignedCard(subject.account, subject.skus, refusal, scope.locale);
    case 'ACCOUNT_BROKEN':
    case 'NUMBER_ACCOUNT_NOT_LICENSED':
      return numberNotReadyCard(subject.account, subject, refusal, scope.locale);
    default:
      return null;
  }
}

/** Loads the account and stops with the right card when it cannot take a number. */
export async function readySubject(scope: TurnScope, accountId: string): Promise<{ ok: true; value: NumberSubject } | { ok: false; reply: Reply }> {
  const subject = await loadSubject(scope, accountId);
  if (!subject.ok) return subject;
  const refusal = checkAccountCanTakeNumber(subject.value.account, subject.value.skus);
  if (!refusal) return subject;
  const card = accountRefusalCard(scope, subject.value, refusal) ?? refusalReply(scope, refusal);
  return { ok: false, reply: card };
}

/** "number <username>" and the account card's "Assign number" button both start here. */
export async function startNumberFlow(scope: TurnScope, accountId: string): Promise<Reply> {
  const subject = await readySubject(scope, accountId);
  if (!subject.ok) return subject.reply;
  return numberTypeCard(subject.value.account, subject.value.skus, scope.locale);
}

export function numberUsageCard(scope: TurnScope): CardJson {
  const s = strings(scope.locale);
  return messageCard(s.errors.refusedTitle, s.number.usage, 'attention');
}

/** Filters as the card sent them: untrusted, bounded by zod, checked here. */
export interface RawFilter {
  country: string;
  prefix: string;
  offset: number;
}

export interface SearchOptions {
  /** The number the admin picked, kept on the card after a refusal. */
  picked?: string;
  /** Why the pick was refused, shown next to the list. */
  pickError?: string;
}

/**
 * One page of free service numbers of the type (searchNumbers never lists user numbers, F5). A filter
 * that is not a country or not digits is refused next to its field, with what was typed kept.
 */
export async function searchCard(scope: TurnScope, subject: NumberSubject, numberType: SearchableNumberType, raw: RawFilter, options: SearchOptions = {}): Promise<CardJson> {
  const s = strings(scope.locale).number;
  const usage = subject.account.usageLocation;
  // No country given ("Any country"): the usage location's, since numbers of any other cannot go to this account (F4).
  const country = raw.country.trim().toUpperCase() || (usage ?? '').toUpperCase();
  // As admins write numbers ("+1 (425) 555-10"): spaces, brackets, dashes and dots are not digits of it.
  const prefix = raw.prefix.replace(/[\s().-]/g, '').replace(/^\+/, '');
  const errors: { country?: string; prefix?: string; telephoneNumber?: string } = {};
  if (country && !isIsoCountry(country)) errors.country = format(s.countryInvalid, { value: plainText(raw.country.trim().slice(0, 10)) });
  // A number's country must match the account's usage location (DOMAIN.md F4): numbers of another
  // country are refused at the search, not after the admin picked one.
  if (country && isIsoCountry(country) && usage && country !== usage.toUpperCase()) {
    errors.country = format(s.countryMismatch, { country: countryText(country, scope.locale), usage: countryText(usage, scope.locale) });
  }
  if (!/^\d{0,15}$/.test(prefix)) errors.prefix = format(s.prefixInvalid, { value: plainText(raw.prefix.trim().slice(0, 40)) });
  if (options.pickError) errors.telephoneNumber = options.pickError;
  const filterOk = !errors.country && !errors.prefix;
  const filter: NumberFilter = { country: filterOk ? country : raw.country.trim(), prefix: filterOk ? prefix : raw.prefix.trim(), offset: raw.offset };
  let page: Page<PhoneNumber> | null = null;
  if (filterOk) {
    const query = { numberType, limit: NUMBER_PAGE_SIZE, ...(country ? { isoCountryCode: country } : {}), ...(prefix ? { prefix } : {}) };
    page = await scope.services.provisioning.searchNumbers({ ...query, offset: raw.offset });
    // A stale page (numbers taken since the card was sent) starts over rather than showing nothing.
    if (page.items.length === 0 && raw.offset > 0) {
      page = await scope.services.provisioning.searchNumbers({ ...query, offset: 0 });
      filter.offset = 0;
    }
  }
  return numberSearchCard(
    { account: subject.account, skus: subject.skus, numberType, filter, page, ...(options.picked ? { picked: options.picked } : {}), errors },
    scope.locale,
  );
}
