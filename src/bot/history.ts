import { auditCsv, matchesAccount } from '../audit/history';
import type { AuditFilter } from '../store/audit';
import { historyCard } from '../cards/history';
import { messageCard } from '../cards/message';
import { format, strings } from '../i18n';
import type { Reply, TurnScope } from './scope';

export const HISTORY_PAGE_SIZE = 10;

/** Entries about one account, by full UPN or by username in any domain; the text speeds the file scan. */
function accountFilter(username: string): AuditFilter {
  return username ? { match: (e) => matchesAccount(e, username), contains: username.toLowerCase() } : {};
}

/** A page read from the end of the log: its cost does not grow with the log (bench/results.md). */
export async function showHistory(scope: TurnScope, offset: number, username: string): Promise<Reply> {
  const { audit } = scope.services;
  const filter = accountFilter(username);
  const [page, total] = await Promise.all([audit.page({ ...filter, offset, limit: HISTORY_PAGE_SIZE }), audit.count(filter)]);
  return historyCard({ entries: page.items, total, offset, limit: HISTORY_PAGE_SIZE }, scope.locale, username);
}

/** The whole history (or one account's) as CSV behind a one-time link. */
export async function exportHistory(scope: TurnScope, username: string): Promise<Reply> {
  const s = strings(scope.locale).history;
  const { audit } = scope.services;
  // Oldest first, as a spreadsheet reads a log.
  const entries = username ? (await audit.page({ ...accountFilter(username), offset: 0, limit: Number.MAX_SAFE_INTEGER })).items.reverse() : await audit.readAll();
  const stamp = new Date().toISOString().slice(0, 10);
  const link = scope.services.exports.create(auditCsv(entries), `switchboard-history${username ? `-${username.replace(/[^A-Za-z0-9._-]/g, '_')}` : ''}-${stamp}.csv`);
  if (!link.url.startsWith('http')) return messageCard(s.exportTitle, s.exportNoUrl, 'attention');
  scope.log.info({ entries: entries.length, username }, 'history exported');
  const card = messageCard(s.exportTitle, format(s.exportText, { count: entries.length, expires: `${link.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` }), 'good');
  card.actions = [{ type: 'Action.OpenUrl', title: s.download, url: link.url }];
  return card;
}
