import { format, strings, type Locale } from '../i18n';
import type { VoiceApplication } from '../provisioning/directory';
import type { ResourceAccount } from '../provisioning/model';
import { refuse, type Refusal } from '../provisioning/result';
import { describeRefusal } from './describe';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/** An expanded choice set of hundreds of AAs would outgrow a card (keep it ≤ 25 KB, teams-platform.md §5). */
export const MAX_VOICE_APP_CHOICES = 50;

export interface AssociateFormOptions {
  /** Part of a voice application name, from "associate <username> <text>". */
  text?: string;
  /** The voice application the admin picked, kept when the card comes back refused. */
  selected?: string;
  refusal?: Refusal;
}

/**
 * "Use with AA / CQ": the voice applications of the account's own type (an AA takes AA accounts, a CQ
 * CQ accounts). An account serves one at a time, so an associated account is offered the way out
 * instead of a list.
 */
export function associateFormCard(account: ResourceAccount, apps: readonly VoiceApplication[], locale: Locale, options: AssociateFormOptions = {}): CardJson {
  const all = strings(locale);
  const s = all.associate;
  const type = all.accountType[account.accountType];
  const current = account.associations[0];
  const text = options.text?.trim().toLowerCase() ?? '';
  const eligible = current
    ? []
    : apps.filter((a) => a.configurationType === account.accountType && (!text || a.name.toLowerCase().includes(text)));
  const shown = eligible.slice(0, MAX_VOICE_APP_CHOICES);
  const choices = shown.map((a) => ({ title: a.accountIds.length ? a.name : format(s.noAccountYet, { name: a.name }), value: a.configurationId }));
  const associatedText = current ? describeRefusal(refuse('ACCOUNT_ALREADY_ASSOCIATED', { upn: account.userPrincipalName, voiceApp: current.name }), locale) : '';
  // When the account is associated, that is the reason whatever was refused; otherwise say it under the list.
  const error = options.refusal && !current ? describeRefusal(localized(options.refusal, locale), locale) : '';
  return renderCard('associate-form', {
    s,
    title: format(s.title, { upn: plainText(account.userPrincipalName) }),
    intro: format(s.intro, { displayName: plainText(account.displayName), type }),
    refused: options.refusal !== undefined,
    associatedText,
    emptyText: current || eligible.length > 0 ? '' : text ? format(s.noMatch, { text: plainText(options.text?.trim() ?? '') }) : s.none[account.accountType],
    choiceLabel: type,
    choices,
    selected: choices.some((c) => c.value === options.selected) ? options.selected : '',
    error,
    moreText: eligible.length > shown.length ? format(s.more, { shown: shown.length, total: eligible.length, upn: plainText(account.userPrincipalName) }) : '',
    accountId: account.id,
  });
}

/** The service names an account type by its code ("autoAttendant"); the card says it in the viewer's language. */
function localized(refusal: Refusal, locale: Locale): Refusal {
  const names = strings(locale).accountType;
  const code = refusal.params.accountType;
  return code === 'autoAttendant' || code === 'callQueue' ? { ...refusal, params: { ...refusal.params, accountType: names[code] } } : refusal;
}
