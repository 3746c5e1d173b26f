import { stringify } from 'csv-stringify/sync';
import type { AuditEntry, AuditFilter } from '../store/audit';

export { matchesAccount } from '../store/audit';

/** The audit filter for one account (by full UPN or username in any domain), or everything. */
export function accountFilter(username: string): AuditFilter {
  return username.trim() ? { account: username.trim() } : {};
}

export interface HistoryPage {
  entries: AuditEntry[];
  total: number;
  offset: number;
  limit: number;
  /**
   * Whether older entries follow, as the page read found them. The total is for the summary line; Older
   * follows the log itself, so a total read otherwise (an instance of the previous version during a
   * rolling update counts the log differently) cannot hide entries.
   */
  hasMore?: boolean;
}

// A cell starting with = + - @ (or tab/CR) is run as a formula by spreadsheet apps (CSV injection,
// OWASP): such cells are prefixed with a quote so that they stay text.
const FORMULA_START = /^[=+\-@\t\r]/;

const CSV_OPTIONS = { cast: { string: (value: string) => (FORMULA_START.test(value) ? `'${value}` : value) } };

export const AUDIT_CSV_HEADER = stringify([['at', 'actor', 'actorObjectId', 'action', 'target', 'outcome', 'reason', 'requestId', 'detail']], CSV_OPTIONS);

/** One entry as a CSV line (with its line break). */
export function auditCsvRow(e: AuditEntry): string {
  return stringify(
    [[e.at, e.actor.name, e.actor.aadObjectId, e.action, e.target, e.outcome, e.reason ?? '', e.requestId ?? '', e.detail ? JSON.stringify(e.detail) : '']],
    CSV_OPTIONS,
  );
}
