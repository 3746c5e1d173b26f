import { format, strings, type Locale } from '../i18n';
import { freeSeats, type LicenseSku, type ResourceAccount } from '../provisioning/model';
import type { Refusal } from '../provisioning/result';
import { checkFreeSeat } from '../provisioning/rules';
import { describeRefusal } from './describe';
import { describeNumberRefusal, numberAccountView, type NumberAccountView } from './numberText';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** What number-not-ready.json expands. */
export interface NumberNotReadyCardData {
  title: string;
  text: string;
  nextStep: string;
  account: NumberAccountView;
  canAddAccount: boolean;
  s: ReturnType<typeof strings>['number'];
}

/**
 * The account cannot take a number yet: it is unlicensed (DOMAIN.md F3: the tenant would answer with
 * a misleading "on-premises" error) or broken (only a new account cures it, teams-apis.md §1.4).
 * The card says why, in the service's words, and what to do first.
 */
export function numberNotReadyCard(account: ResourceAccount, skus: readonly LicenseSku[], refusal: Refusal, locale: Locale): CardJson {
  const s = strings(locale);
  const broken = refusal.reason === 'ACCOUNT_BROKEN';
  const data: NumberNotReadyCardData = {
    s: s.number,
    title: format(s.number.notReadyTitle, { upn: plainText(account.userPrincipalName) }),
    text: describeNumberRefusal(refusal, locale),
    nextStep: broken ? s.number.nextBroken : licenseStep(account, skus, locale),
    account: numberAccountView(account, skus, locale),
    canAddAccount: broken,
  };
  return renderCard('number-not-ready', data);
}

/**
 * Usage location comes before any license (F8), and the free Resource Account seats are counted,
 * with how to get more when none are left (F9).
 */
function licenseStep(account: ResourceAccount, skus: readonly LicenseSku[], locale: Locale): string {
  const s = strings(locale);
  const sku = skus.find((k) => k.kind === 'resourceAccount');
  const seats = sku ? format(s.license.seats, { free: freeSeats(sku), enabled: sku.enabled }) : describeRefusal({ ok: false, reason: 'LICENSE_NOT_IN_TENANT', params: {} }, locale);
  const params = { license: s.license.resourceAccount, seats, upn: plainText(account.userPrincipalName) };
  const step = format(account.usageLocation ? s.number.nextLicense : s.number.nextUsageLocation, params);
  const noSeat = sku ? checkFreeSeat(sku) : null;
  return noSeat ? `${step} ${describeRefusal(noSeat, locale)}` : step;
}
