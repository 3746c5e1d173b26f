import { format, strings, type Locale } from '../i18n';
import { freeSeats, licenseKindsOf, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import type { Refusal } from '../provisioning/result';
import { checkFreeSeat } from '../provisioning/rules';
import { countryText, describeRefusal } from './describe';
import { describeNumberRefusal, numberAccountView, type NumberAccountView } from './numberText';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** What the card needs of the tenant: its licenses, and its country (a usage location Assign license would set). */
export interface NotReadyFacts {
  skus: readonly LicenseSku[];
  countryLetterCode?: string | null;
}

/** What number-not-ready.json expands. */
export interface NumberNotReadyCardData {
  title: string;
  text: string;
  nextStep: string;
  account: NumberAccountView;
  canAddAccount: boolean;
  /** The account can be licensed here (unlicensed, not broken, a seat free, a country for its usage location). */
  canAssignLicense: boolean;
  s: ReturnType<typeof strings>['number'];
}

/**
 * The account cannot take a number yet: it is unlicensed (DOMAIN.md F3: the tenant would answer with
 * a misleading "on-premises" error) or broken (only a new account cures it, teams-apis.md §1.4).
 * The card says why, in the service's words, and what to do first.
 */
export function numberNotReadyCard(account: ResourceAccount, facts: NotReadyFacts, refusal: Refusal, locale: Locale): CardJson {
  const s = strings(locale);
  const broken = refusal.reason === 'ACCOUNT_BROKEN';
  const step = broken ? null : licenseStep(account, facts, locale);
  const data: NumberNotReadyCardData = {
    s: s.number,
    title: format(s.number.notReadyTitle, { upn: plainText(account.userPrincipalName) }),
    text: describeNumberRefusal(refusal, locale),
    nextStep: step ? step.text : s.number.nextBroken,
    account: numberAccountView(account, facts.skus, locale),
    canAddAccount: broken,
    canAssignLicense: step?.here ?? false,
  };
  return renderCard('number-not-ready', data);
}

/**
 * Usage location comes before any license (F8), and the free Resource Account seats are counted,
 * with how to get more when none are left (F9). When a seat is free, Assign license does it here, as
 * the account card's button does (ProvisioningService.planAssignLicense): it sets a missing usage
 * location to the tenant's country first, which the text names, since the number's must match (F4).
 */
function licenseStep(account: ResourceAccount, facts: NotReadyFacts, locale: Locale): { text: string; here: boolean } {
  const s = strings(locale);
  const sku = facts.skus.find((k) => k.kind === 'resourceAccount');
  const seats = sku ? format(s.license.seats, { free: freeSeats(sku), enabled: sku.enabled }) : describeRefusal({ ok: false, reason: 'LICENSE_NOT_IN_TENANT', params: {} }, locale);
  const licensed = licenseKindsOf(account, facts.skus).length > 0;
  const noSeat = sku ? checkFreeSeat(sku) : null;
  const country = account.usageLocation ? null : (facts.countryLetterCode ?? null);
  const here = !!sku && !noSeat && !licensed && (!!account.usageLocation || !!country);
  const params = { license: s.license.resourceAccount, seats, upn: plainText(account.userPrincipalName), country: country ? countryText(country, locale) : '' };
  const template = account.usageLocation ? (here ? s.number.nextLicenseHere : s.number.nextLicense) : here ? s.number.nextUsageLocationHere : s.number.nextUsageLocation;
  const step = format(template, params);
  return { text: noSeat ? `${step} ${describeRefusal(noSeat, locale)}` : step, here };
}
