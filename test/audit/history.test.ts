import { AUDIT_CSV_HEADER, auditCsvRow, matchesAccount } from '../../src/audit/history';

const auditCsv = (entries: AuditEntry[]): string => AUDIT_CSV_HEADER + entries.map(auditCsvRow).join('');
import type { AuditEntry } from '../../src/store/audit';

const entry = (n: number, target: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  id: `e${n}`,
  at: `2026-11-28T10:00:${String(n).padStart(2, '0')}.000Z`,
  actor: { aadObjectId: 'a1', name: 'Ada' },
  action: 'account.create',
  target,
  outcome: 'succeeded',
  ...extra,
});

describe('history pages and CSV export of the audit log', () => {
  const log = [entry(1, 'aa-main@contoso.com'), entry(2, 'cq-sales@contoso.com'), entry(3, 'aa-main@contoso.onmicrosoft.com'), entry(4, '-'), entry(5, 'aa-main@contoso.com')];

  it.each([
    ['aa-main', ['e5', 'e3', 'e1']],
    ['aa-main@contoso.com', ['e5', 'e1']],
    ['AA-MAIN@CONTOSO.COM', ['e5', 'e1']],
    ['cq', []],
    ['-', []],
  ])('finds the entries of account "%s"', (username, ids) => {
    expect(log.filter((e) => matchesAccount(e, username)).map((e) => e.id).reverse()).toEqual(ids);
  });

  it('writes CSV with a header, quoting where needed, and defuses cells a spreadsheet would run as a formula', () => {
    const csv = auditCsv([
      entry(1, 'aa-main@contoso.com', { actor: { aadObjectId: 'a1', name: '=cmd|\' /C calc\'!A0' }, reason: 'UPN_IN_USE', detail: { displayName: 'Main, line' } }),
      entry(2, '+1425', { outcome: 'refused', requestId: 'r1' }),
    ]);
    expect(csv.split('\n')).toEqual([
      'at,actor,actorObjectId,action,target,outcome,reason,requestId,detail',
      `2026-11-28T10:00:01.000Z,'=cmd|' /C calc'!A0,a1,account.create,aa-main@contoso.com,succeeded,UPN_IN_USE,,"{""displayName"":""Main, line""}"`,
      "2026-11-28T10:00:02.000Z,Ada,a1,account.create,'+1425,refused,,r1,",
      '',
    ]);
  });
});
