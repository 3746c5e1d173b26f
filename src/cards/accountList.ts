import { format, strings, type Locale } from '../i18n';
import type { Page } from '../provisioning/directory';
import type { LicenseSku, ResourceAccount } from '../provisioning/model';
import { accountView } from './describe';
import { renderCard, type CardJson } from './render';

export function accountListCard(page: Page<ResourceAccount>, skus: readonly LicenseSku[], locale: Locale): CardJson {
  const s = strings(locale).list;
  const rows = page.items.map((a) => {
    const v = accountView(a, skus, locale);
    return { id: v.id, displayName: v.displayName, upn: v.userPrincipalName, type: v.type, license: v.license, number: v.number };
  });
  const from = page.total === 0 ? 0 : page.offset + 1;
  return renderCard('account-list', {
    s,
    rows,
    summary: format(s.summary, { from, to: page.offset + rows.length, total: page.total }),
    hasPrevious: page.offset > 0,
    hasNext: page.offset + rows.length < page.total,
    previousOffset: Math.max(0, page.offset - page.limit),
    nextOffset: page.offset + page.limit,
  });
}
