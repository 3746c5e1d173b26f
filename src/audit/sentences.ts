import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { format, strings, type Locale } from '../i18n';
import type { AuditEntry } from '../store/audit';
import { describeNumberRefusal } from '../cards/numberText';
import { REASON_CODES, type MessageParams, type ReasonCode } from '../provisioning/result';

/** What the history card shows before each sentence: the outcome at a glance. */
export const OUTCOME_MARK: Record<AuditEntry['outcome'], string> = { succeeded: '✓', failed: '✗', refused: '⊘', requested: '•' };

/** "+14255550101" as people write it ("+1 425 555 0101"); anything libphonenumber cannot place stays as stored. */
export function readableNumber(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}

/** The username of a UPN: accounts are named by it in chat ("history cq-support"), the CSV keeps the UPN. */
function accountName(target: string): string {
  if (target === '-' || target === '') return '';
  const at = target.indexOf('@');
  return at > 0 ? target.slice(0, at) : target;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * An audit entry as a sentence in the reader's language ("Ada Admin assigned +1 425 555 0101 to
 * cq-support"), built from its action code, outcome and detail. The CSV export keeps the codes
 * (src/audit/history.ts); an action this version does not know is shown by its code, never dropped.
 * The result is plain text: the caller escapes it for the card.
 */
export function auditSentence(entry: AuditEntry, locale: Locale): string {
  const s = strings(locale).history;
  const detail = entry.detail ?? {};
  const actor = entry.actor.name || entry.actor.aadObjectId || s.sentence.system;
  const account = accountName(entry.target);
  const license = text(detail.license);
  const licenses = strings(locale).license as Record<string, string>;
  const params: Record<string, string> = {
    actor,
    account,
    // A refused request keeps the number in its reason's values (reasonDetail).
    number: readableNumber(text(detail.telephoneNumber) || text(detail['param.number'])),
    usageLocation: text(detail.usageLocation),
    license: licenses[license] ?? license,
    name: text(detail.name) || text(detail.configurationId),
  };
  const kind = text(detail.kind);
  params.change = format(s.changes[kind] ?? s.changes[entry.action.slice('plan.'.length)] ?? '{account}', params);

  const sentence = ((): string => {
    if (entry.action.startsWith('plan.') && s.changes[entry.action.slice('plan.'.length)] !== undefined) {
      if (entry.outcome === 'succeeded') return format(s.planDone, params);
      if (entry.outcome === 'failed') return format(s.planFailed, params);
      return format(s.planRequested, params);
    }
    // Written in the approver's name (the request's decision), but the approver did not carry it out.
    if (entry.action === 'request.done' || entry.action === 'request.failed') return format(entry.action === 'request.done' ? s.approvedDone : s.approvedFailed, params);
    const verb = s.verbs[entry.action];
    if (!verb) return format(s.sentence.unknown, { actor, action: entry.action });
    const what = format(verb.what, params);
    const done = format(verb.done, params);
    // A request's decisions (rejected, expired) are audited as "refused" outcomes of the request,
    // but they are acts that happened: they read as done, like every other request event.
    if (entry.action.startsWith('request.')) return entry.outcome === 'failed' ? format(s.sentence.failed, { actor, what }) : format(s.sentence.succeeded, { actor, done });
    if (entry.outcome === 'succeeded') return format(s.sentence.succeeded, { actor, done });
    if (entry.outcome === 'requested') return format(s.sentence.requested, { actor, what });
    if (entry.outcome === 'failed') return format(s.sentence.failed, { actor, what });
    return format(s.sentence.refused, { actor, what });
  })();
  // A held plan's sentence says why it was held; its reason's message speaks of the plan card ("steps marked ✓").
  const why = entry.action === 'plan.held' ? '' : entry.reason ? reasonText(entry, locale) : text(detail.why);
  return why ? format(s.sentence.reason, { sentence, reason: why }) : sentence;
}

const isReasonCode = (code: string): code is ReasonCode => (REASON_CODES as readonly string[]).includes(code);

/**
 * A refusal's reason as the admin was told it, in the reader's language: its code and the values the
 * entry kept (reasonDetail), else what the entry itself says (its account, its number). A message
 * whose values are not all there (entries written before they were kept) is left as its code, not
 * shown with a gap.
 */
function reasonText(entry: AuditEntry, locale: Locale): string {
  const detail = entry.detail ?? {};
  const codes = (entry.reason ?? '').split(',');
  const known: MessageParams = {};
  if (entry.target && entry.target !== '-') known.upn = entry.target;
  if (text(detail.telephoneNumber)) known.number = text(detail.telephoneNumber);
  const kept = (prefix: string): MessageParams => {
    const params: MessageParams = {};
    for (const [key, value] of Object.entries(detail)) {
      if (key.startsWith(prefix) && !key.slice(prefix.length).includes('.') && (typeof value === 'string' || typeof value === 'number')) params[key.slice(prefix.length)] = value;
    }
    return params;
  };
  return codes
    .map((code, index) => {
      if (!isReasonCode(code)) return code;
      const params = { ...known, ...(codes.length === 1 ? kept('param.') : kept(`param.${index}.`)) };
      const wanted = [...strings(locale).reasons[code].matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      return wanted.every((key) => key in params) ? describeNumberRefusal({ ok: false, reason: code, params }, locale) : code;
    })
    .join(' ');
}
