import { auditCsv, historyPage, matchesAccount } from '../audit/history';
import { historyCard } from '../cards/history';
import { messageCard } from '../cards/message';
import { format, strings } from '../i18n';
import type { Reply, TurnScope } from './scope';

export const HISTORY_PAGE_SIZE = 10;

export async function showHistory(scope: TurnScope, offset: number, username: string): Promise<Reply> {
  const all = await scope.services.audit.readAll();
  return historyCard(historyPage(all, offset, HISTORY_PAGE_SIZE, username || undefined), scope.locale, username);
}

/** The whole history (or one account's) as CSV behind a one-time link. */
export async function exportHistory(scope: TurnScope, username: string): Promise<Reply> {
  const s = strings(scope.locale).history;
  const all = await scope.services.audit.readAll();
  const entries = username ? all.filter((e) => matchesAccount(e, username)) : all;
  const stamp = new Date().toISOString().slice(0, 10);
  const link = scope.services.exports.create(auditCsv(entries), `switchboard-history${username ? `-${username.replace(/[^A-Za-z0-9._-]/g, '_')}` : ''}-${stamp}.csv`);
  if (!link.url.startsWith('http')) return messageCard(s.exportTitle, s.exportNoUrl, 'attention');
  scope.log.info({ entries: entries.length, username }, 'history exported');
  const card = messageCard(s.exportTitle, format(s.exportText, { count: entries.length, expires: `${link.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` }), 'good');
  card.actions = [{ type: 'Action.OpenUrl', title: s.download, url: link.url }];
  return card;
}
