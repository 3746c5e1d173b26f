import { stringify } from 'csv-stringify/sync';
import type { AuditEntry } from '../store/audit';

/** Entries about one account: by full UPN, or by username alone in any domain (deleted ones too). */
export function matchesAccount(entry: AuditEntry, username: string): boolean {
  const wanted = username.trim().toLowerCase();
  const target = entry.target.toLowerCase();
  return wanted.includes('@') ? target === wanted : target.split('@')[0] === wanted && target.includes('@');
}

export interface HistoryPage {
  entries: AuditEntry[];
  total: number;
  offset: number;
  limit: number;
}

// A cell starting with = + - @ (or tab/CR) is run as a formula by spreadsheet apps (CSV injection,
// OWASP): such cells are prefixed with a quote so that they stay text.
const FORMULA_START = /^[=+\-@\t\r]/;

export function auditCsv(entries: readonly AuditEntry[]): string {
  const rows = entries.map((e) => [
    e.at,
    e.actor.name,
    e.actor.aadObjectId,
    e.action,
    e.target,
    e.outcome,
    e.reason ?? '',
    e.requestId ?? '',
    e.detail ? JSON.stringify(e.detail) : '',
  ]);
  return stringify([['at', 'actor', 'actorObjectId', 'action', 'target', 'outcome', 'reason', 'requestId', 'detail'], ...rows], {
    cast: { string: (value) => (FORMULA_START.test(value) ? `'${value}` : value) },
  });
}
