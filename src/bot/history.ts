import { accountFilter } from '../audit/history';
import { historyCard } from '../cards/history';
import { messageCard } from '../cards/message';
import { format, strings } from '../i18n';
import type { Reply, TurnScope } from './scope';

export const HISTORY_PAGE_SIZE = 10;

/** A page read from the end of the log: its cost does not grow with the log (bench/results.md). */
export async function showHistory(scope: TurnScope, offset: number, username: string): Promise<Reply> {
  const { audit } = scope.services;
  const filter = accountFilter(username);
  const [page, total] = await Promise.all([audit.page({ ...filter, offset, limit: HISTORY_PAGE_SIZE }), audit.count(filter)]);
  return historyCard({ entries: page.items, total, offset, limit: HISTORY_PAGE_SIZE, hasMore: page.hasMore }, scope.locale, username);
}

/** The whole history (or one account's) as CSV behind a one-time link. */
export async function exportHistory(scope: TurnScope, username: string): Promise<Reply> {
  const s = strings(scope.locale).history;
  const count = await scope.services.audit.count(accountFilter(username));
  const stamp = new Date().toISOString().slice(0, 10);
  // The CSV is streamed from the log when the link is opened (src/server.ts), not built here.
  const link = await scope.services.exports.create(username, `switchboard-history${username ? `-${username.replace(/[^A-Za-z0-9._-]/g, '_')}` : ''}-${stamp}.csv`);
  if (!link.url.startsWith('http')) return messageCard(s.exportTitle, s.exportNoUrl, 'attention');
  scope.log.info({ entries: count, username }, 'history export link created');
  const card = messageCard(s.exportTitle, format(s.exportText, { count, expires: `${link.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` }), 'good');
  card.actions = [{ type: 'Action.OpenUrl', title: s.download, url: link.url }];
  return card;
}
