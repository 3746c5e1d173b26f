import type { HistoryPage } from '../audit/history';
import { auditSentence, OUTCOME_MARK } from '../audit/sentences';
import { format, strings, type Locale } from '../i18n';
import { when } from './approvalRequest';
import type { Tone } from './message';
import { renderCard, type CardJson } from './render';
import { plainText } from './text';

const TONE: Record<'requested' | 'succeeded' | 'refused' | 'failed', Tone> = { requested: 'default', succeeded: 'good', refused: 'warning', failed: 'attention' };

/** The audit log as an admin reads it: one sentence per entry with its outcome mark; who and when. */
export function historyCard(page: HistoryPage, locale: Locale, username: string): CardJson {
  const s = strings(locale).history;
  const rows = page.entries.map((e) => ({
    what: `${OUTCOME_MARK[e.outcome]} ${plainText(auditSentence(e, locale))}`,
    who: format(s.line, { at: when(e.at), actor: plainText(e.actor.name || e.actor.aadObjectId) }),
    tone: TONE[e.outcome],
  }));
  return renderCard('history', {
    s,
    title: username ? format(s.titleFor, { username: plainText(username) }) : s.title,
    summary: rows.length === 0 ? '' : format(s.summary, { from: page.offset + 1, to: page.offset + rows.length, total: page.total }),
    rows,
    username,
    hasPrevious: page.offset > 0,
    hasNext: page.hasMore ?? page.offset + rows.length < page.total,
    previousOffset: Math.max(0, page.offset - page.limit),
    nextOffset: page.offset + page.limit,
  });
}
