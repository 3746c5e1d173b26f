import { format, strings, type Locale } from '../i18n';
import type { BatchProgress } from '../provisioning/batch';
import { freeSeats, type LicenseKind, type TenantFacts } from '../provisioning/model';
import { failedStep, type Plan } from '../provisioning/plans';
import { describeRefusal } from './describe';
import type { Tone } from './message';
import type { ApprovalState } from './planCard';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

/**
 * How many rows a card lists by name. A batch has up to 500 rows; Teams refuses messages over ~80 KB
 * and Switchboard keeps cards under 25 KB (teams-platform.md §5), so the card names the first few of
 * each kind and the rest are in the CSV download.
 */
export const LISTED_ROWS = 10;
const LISTED_READY = 5;

export interface ImportBatchView {
  plan: Plan;
  progress: BatchProgress;
  facts: TenantFacts;
  locale: Locale;
  approval?: ApprovalState;
  notice?: string;
  /** A one-time link just made for this viewer (the download button's answer). */
  download?: { url: string; expires: string };
}

/** "Row 12 · aa-main@contoso.com: reason" with every user value as plain text. */
function rowLine(locale: Locale, line: number, upn: string, reason: string): string {
  const s = strings(locale).import;
  return format(s.rowLine, { line, upn: plainText(upn) || s.noUsername, reason });
}

/** The refused rows' reasons in words (the first reason names the problem; the CSV has them all). */
function refusedLines(plan: Plan, locale: Locale): string[] {
  return (plan.batch?.refused ?? []).map((r) => {
    const [displayName = '', username = '', domain = ''] = r.cells;
    const named = username ? (username.includes('@') || !domain ? username : `${username}@${domain}`) : displayName;
    const upn = named.length > 80 ? `${named.slice(0, 79)}…` : named;
    const reasons = r.reasons.map((n) => describeRefusal({ ok: false, reason: n.reason, params: n.params }, locale));
    return rowLine(locale, r.line, upn, reasons.join(' '));
  });
}

function failedLines(plan: Plan, progress: BatchProgress, locale: Locale): string[] {
  const rows = plan.batch?.rows ?? [];
  const lines: string[] = [];
  progress.children.forEach((child, i) => {
    if (!child || (child.status !== 'failed' && child.status !== 'cancelled')) return;
    const note = failedStep(child)?.note;
    const reason = note ? describeRefusal({ ok: false, reason: note.reason, params: note.params }, locale) : strings(locale).plan.state[child.status];
    lines.push(rowLine(locale, rows[i]!.line, rows[i]!.userPrincipalName, reason));
  });
  return lines;
}

function statusLine(view: ImportBatchView): { text: string; tone: Tone } {
  const { plan, progress, locale } = view;
  const s = strings(locale).import.status;
  const counts = { done: progress.done, count: progress.count, failed: progress.failed, waiting: progress.waiting };
  switch (plan.status) {
    case 'awaitingConfirmation': {
      const batch = plan.batch!;
      if (view.approval) return { text: view.approval.line, tone: view.approval.tone };
      if (batch.rows.length === 0) return { text: s.previewNone, tone: 'attention' };
      return { text: format(s.preview, { ready: batch.rows.length, total: batch.total, refused: batch.refused.length }), tone: batch.refused.length > 0 ? 'warning' : 'default' };
    }
    case 'running':
      return { text: format(s.running, counts), tone: 'default' };
    case 'waiting':
      return { text: format(s.waiting, counts), tone: 'warning' };
    case 'failed':
      return { text: format(s.failed, counts), tone: 'attention' };
    case 'done':
      return { text: format(s.done, counts), tone: 'good' };
    case 'cancelled':
      if (view.approval?.endedPlan && progress.done + progress.failed === 0) return { text: view.approval.line, tone: view.approval.tone };
      return { text: progress.done + progress.failed === 0 ? strings(locale).plan.status.cancelled : format(s.cancelled, counts), tone: 'default' };
  }
}

/** Seats the batch needs per license kind, against the free ones now. */
function seatFacts(plan: Plan, facts: TenantFacts, locale: Locale): { title: string; value: string }[] {
  const s = strings(locale);
  const needed = new Map<LicenseKind, number>();
  for (const row of plan.batch?.rows ?? []) if (row.license) needed.set(row.license, (needed.get(row.license) ?? 0) + 1);
  return [...needed].map(([kind, count]) => {
    const sku = facts.skus.find((x) => x.kind === kind);
    return {
      title: format(s.import.seats, { license: s.license[kind] }),
      value: format(s.import.seatsValue, { needed: count, free: sku ? freeSeats(sku) : 0 }),
    };
  });
}

/**
 * The import batch as its requester sees it: the preview (ready and refused rows, Confirm), then the
 * progress (k of n, failures, Retry failed rows), updated in place. Buttons carry the plan id only;
 * the rows stay on the server (ARCHITECTURE.md, "Card data carries only ids").
 */
export function importBatchCard(view: ImportBatchView): CardJson {
  const { plan, progress, facts, locale, approval } = view;
  const s = strings(locale);
  const batch = plan.batch!;
  const line = statusLine(view);
  const awaitingApproval = approval !== undefined && plan.status === 'awaitingConfirmation';
  const preview = plan.status === 'awaitingConfirmation';
  const refused = refusedLines(plan, locale);
  const failed = preview ? [] : failedLines(plan, progress, locale);
  const listedFailed = failed.slice(0, LISTED_ROWS);
  const listedRefused = refused.slice(0, Math.max(0, LISTED_ROWS - listedFailed.length));
  const unlisted = failed.length - listedFailed.length + refused.length - listedRefused.length;
  const started = !preview && plan.status !== 'cancelled';
  const facts_ = [
    { title: s.import.source, value: batch.source === 'file' ? format(s.import.sourceFile, { name: plainText(batch.fileName ?? '') }) : s.import.sourcePaste },
    { title: s.import.rows, value: String(batch.total) },
    { title: s.import.ready, value: String(batch.rows.length) },
    { title: s.import.refused, value: String(batch.refused.length) },
    ...(started || progress.done > 0 ? [{ title: s.import.created, value: `${progress.done} / ${progress.count}` }] : []),
    ...(progress.failed > 0 ? [{ title: s.import.failed, value: String(progress.failed) }] : []),
    ...(progress.waiting > 0 ? [{ title: s.import.waiting, value: String(progress.waiting) }] : []),
    ...(batch.rows.some((r) => r.telephoneNumber) ? [{ title: s.import.numbers, value: String(batch.rows.filter((r) => r.telephoneNumber).length) }] : []),
    ...(preview ? seatFacts(plan, facts, locale) : []),
    { title: s.import.requestedBy, value: plainText(plan.requestedBy.name || plan.requestedBy.aadObjectId) },
  ];
  const ready = preview
    ? batch.rows.slice(0, LISTED_READY).map((r) =>
        [
          format(s.import.readyLine, {
            line: r.line,
            displayName: plainText(r.displayName),
            upn: plainText(r.userPrincipalName),
            type: s.accountType[r.accountType],
            usageLocation: r.usageLocation ?? s.account.notSet,
            license: r.license ? s.license[r.license] : s.license.unlicensed,
          }),
          r.telephoneNumber && r.numberType ? format(s.import.readyNumber, { number: plainText(r.telephoneNumber), numberType: s.numberType[r.numberType] }) : '',
        ]
          .filter(Boolean)
          .join(' · '),
      )
    : [];
  return renderCard('import-batch', {
    s: s.import,
    cancelRequest: s.approval.cancelRequest,
    title: s.import.title,
    statusLine: line.text,
    tone: line.tone,
    approvalNote: [awaitingApproval ? approval.note : '', view.notice ?? ''].filter(Boolean).join(' '),
    facts: facts_,
    failed: listedFailed,
    failedTitle: format(s.import.failedTitle, { count: failed.length }),
    refused: listedRefused,
    refusedTitle: format(s.import.refusedTitle, { count: refused.length }),
    moreLine: unlisted > 0 ? format(s.import.more, { count: unlisted }) : '',
    ready,
    readyTitle: format(s.import.readyTitle, { shown: ready.length, count: batch.rows.length }),
    limitsLine: format(s.import.concurrency, { concurrency: batch.concurrency }),
    planId: plan.id,
    requestId: approval?.requestId ?? '',
    canConfirm: preview && !awaitingApproval && batch.rows.length > 0,
    canRetry: plan.status === 'failed',
    canRefresh: plan.status === 'running' || plan.status === 'waiting' || (awaitingApproval && approval.pending),
    canDownload: refused.length + failed.length > 0,
    canCancelRequest: awaitingApproval && approval.pending,
    canCancel: (preview && !awaitingApproval) || plan.status === 'failed',
    downloadUrl: view.download?.url ?? '',
    downloadText: view.download ? format(s.import.downloadReady, { expires: view.download.expires }) : '',
  });
}

/** The batch in a few lines, for the approval card: what approving it will do. */
export function batchSummaryLines(plan: Plan, locale: Locale): string[] {
  const s = strings(locale);
  const rows = plan.batch?.rows ?? [];
  const lines = [
    format(s.import.summary.create, {
      count: rows.length,
      aa: rows.filter((r) => r.accountType === 'autoAttendant').length,
      cq: rows.filter((r) => r.accountType === 'callQueue').length,
    }),
  ];
  for (const kind of ['resourceAccount', 'phoneSystem'] as const) {
    const count = rows.filter((r) => r.license === kind).length;
    if (count > 0) lines.push(format(s.import.summary.license, { count, license: s.license[kind] }));
  }
  const unlicensed = rows.filter((r) => !r.license).length;
  if (unlicensed > 0) lines.push(format(s.import.summary.unlicensed, { count: unlicensed }));
  const numbers = rows.filter((r) => r.telephoneNumber).length;
  if (numbers > 0) lines.push(format(s.import.summary.numbers, { count: numbers }));
  const refused = plan.batch?.refused.length ?? 0;
  if (refused > 0) lines.push(format(s.import.summary.refused, { count: refused }));
  return lines;
}
