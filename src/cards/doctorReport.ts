import { format, strings, type Locale } from '../i18n';
import { FAILURE_MODE, type Diagnosis, type Finding, type FindingCode, type Severity } from '../provisioning/doctor';
import { hasFix } from '../provisioning/doctorFixes';
import { countryText } from './describe';
import type { Tone } from './message';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/**
 * Findings per page. A bot message may hold about 100 KB, 28 KB for a card posted by other means
 * (teams-apis.md / anchors.md §4, "Size limit"); Switchboard keeps a card under 25 KB (test/cards).
 * Eight findings with their buttons stay well under that in both languages; the rest are paged.
 */
export const DOCTOR_PAGE_SIZE = 8;

const TONE: Record<Severity, Tone> = { error: 'attention', warning: 'warning', info: 'default' };
const MARK: Record<Severity, string> = { error: '✗', warning: '⚠', info: 'ℹ' };

/** Findings about a resource account (the others are about a number, an AA/CQ or a user). */
const ABOUT_ACCOUNT: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'BROKEN_BY_LICENSE_SWITCH',
  'NUMBER_ON_UNLICENSED_ACCOUNT',
  'VOICE_APP_ACCOUNT_UNLICENSED',
  'USER_NUMBER_ON_RESOURCE_ACCOUNT',
  'NUMBER_COUNTRY_MISMATCH',
  'TYPE_DIFFERS_FROM_VOICE_APP',
  'SIGN_IN_ENABLED',
  'PHONE_STANDARD_ON_RESOURCE_ACCOUNT',
  'LICENSE_WITHOUT_USAGE_LOCATION',
  'ACCOUNT_UNLICENSED',
  'ACCOUNT_UNUSED',
]);

export interface DoctorReportOptions {
  offset: number;
  /** Admins get the fix buttons; approvers read. */
  canChange: boolean;
  /** Said at the top, e.g. why a fix was refused (already escaped). */
  notice?: string;
}

/** The finding's words: tenant data as plain text, codes as words. */
function params(finding: Finding, locale: Locale): Record<string, string> {
  const s = strings(locale);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(finding.params)) {
    if ((key === 'accountType' || key === 'voiceAppType') && (value === 'autoAttendant' || value === 'callQueue')) out[key] = s.accountType[value];
    else if ((key === 'numberCountry' || key === 'usageLocation') && /^[A-Z]{2}$/.test(value)) out[key] = countryText(value, locale);
    else out[key] = plainText(value);
  }
  // VOICE_APP_ACCOUNT_GONE names the AA/CQ's type as {type}.
  const type = finding.params.voiceAppType;
  if (type === 'autoAttendant' || type === 'callQueue') out.type = s.accountType[type];
  return out;
}

function findingView(finding: Finding, locale: Locale, canChange: boolean) {
  const s = strings(locale).doctor;
  const p = params(finding, locale);
  const mode = FAILURE_MODE[finding.code];
  const label = `${MARK[finding.severity]} ${s.severity[finding.severity]}${mode ? ` (${mode})` : ''}`;
  const accountId = ABOUT_ACCOUNT.has(finding.code) ? finding.subjectId : '';
  // Buttons carry ids only: the finding's code and subject; the fix is planned from a fresh scan.
  const data = { code: finding.code, subjectId: finding.subjectId, accountId };
  const actions: { title: string; verb: string; data: typeof data }[] = [];
  if (canChange && hasFix(finding.code)) actions.push({ title: (s.fix as Partial<Record<FindingCode, string>>)[finding.code] ?? '', verb: 'doctorFix', data });
  if (canChange && finding.code === 'ACCOUNT_UNUSED') actions.push({ title: s.useWith, verb: 'openAssociate', data });
  if (accountId) actions.push({ title: s.showAccount, verb: 'showAccount', data });
  return {
    label,
    tone: TONE[finding.severity],
    title: format(s.finding[finding.code], p),
    detail: format(s.detail[finding.code], p),
    actions,
  };
}

/** One page of the doctor's findings, errors first, with a fix button each where one exists. */
export function doctorReportCard(diagnosis: Diagnosis, locale: Locale, options: DoctorReportOptions): CardJson {
  const s = strings(locale).doctor;
  const total = diagnosis.findings.length;
  // A stale page (findings fixed since) lands on the last page.
  const offset = total === 0 ? 0 : Math.min(Math.max(0, options.offset), Math.floor((total - 1) / DOCTOR_PAGE_SIZE) * DOCTOR_PAGE_SIZE);
  const shown = diagnosis.findings.slice(offset, offset + DOCTOR_PAGE_SIZE);
  const count = (severity: Severity) => diagnosis.findings.filter((f) => f.severity === severity).length;
  const number = new Intl.NumberFormat(locale);
  const after = total - offset - shown.length;
  return renderCard('doctor-report', {
    s,
    notice: options.notice ?? '',
    summary:
      total === 0
        ? format(s.healthy, { accounts: number.format(diagnosis.accounts) })
        : format(s.summary, { accounts: number.format(diagnosis.accounts), errors: count('error'), warnings: count('warning'), notes: count('info') }),
    summaryTone: count('error') > 0 ? 'attention' : total > 0 ? 'warning' : 'good',
    seats: diagnosis.phoneStandardSeatsFreed === 0 ? '' : diagnosis.phoneStandardSeatsFreed === 1 ? s.seatsOne : format(s.seats, { count: diagnosis.phoneStandardSeatsFreed }),
    pageLine: total > DOCTOR_PAGE_SIZE ? format(s.page, { from: offset + 1, to: offset + shown.length, total }) : '',
    more: after > 0 ? format(s.more, { count: after }) : '',
    findings: shown.map((f) => findingView(f, locale, options.canChange)),
    hasPrevious: offset > 0,
    hasNext: after > 0,
    previousOffset: Math.max(0, offset - DOCTOR_PAGE_SIZE),
    nextOffset: offset + DOCTOR_PAGE_SIZE,
  });
}
