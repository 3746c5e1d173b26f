import { format, strings, type Locale } from '../i18n';
import type { ResourceAccount } from '../provisioning/model';
import type { Refusal } from '../provisioning/result';
import type { EditForm } from '../provisioning/service';
import { describeRefusal } from './describe';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

const FIELDS = ['displayName', 'accountType'] as const;
type Field = (typeof FIELDS)[number];

/**
 * The edit form: display name and type, as the Teams admin center's "Edit resource account" pane.
 * On a refusal the same card comes back with each message under its field and the typed values kept.
 * A type change refused because the account serves an AA/CQ (DOMAIN.md F6) offers the way out: a
 * button that proposes removing that association (it asks for confirmation before anything changes).
 */
export function editAccountFormCard(account: ResourceAccount, locale: Locale, values?: EditForm, refusals: readonly Refusal[] = []): CardJson {
  const all = strings(locale);
  const s = all.edit;
  const errors: Record<Field, string> = { displayName: '', accountType: '' };
  const general: string[] = [];
  for (const refusal of refusals) {
    const message = describeRefusal(refusal, locale);
    const field = FIELDS.find((f) => f === refusal.field);
    if (field) errors[field] = errors[field] ? `${errors[field]} ${message}` : message;
    else general.push(message);
  }
  const typeBlocked = refusals.some((r) => r.reason === 'EDIT_TYPE_WHILE_ASSOCIATED');
  const association = account.associations[0];
  return renderCard('edit-account-form', {
    s,
    title: format(s.title, { upn: plainText(account.userPrincipalName) }),
    hasErrors: refusals.length > 0,
    general: general.join(' '),
    values: values ?? { displayName: account.displayName, accountType: account.accountType },
    errors,
    accountTypes: [
      { title: all.accountType.autoAttendant, value: 'autoAttendant' },
      { title: all.accountType.callQueue, value: 'callQueue' },
    ],
    // Said up front so that the admin knows before trying; the refusal says it again next to the field.
    usedBy: association && !typeBlocked ? format(s.usedBy, { voiceApp: plainText(association.name) }) : '',
    canDissociate: typeBlocked && association !== undefined,
    accountId: account.id,
  });
}
