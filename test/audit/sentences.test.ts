import { auditSentence, readableNumber } from '../../src/audit/sentences';
import { AUDIT_CSV_HEADER, auditCsvRow } from '../../src/audit/history';
import type { AuditEntry } from '../../src/store/audit';

const ada = { aadObjectId: '00000000-0000-0000-0000-00000000a0a0', name: 'Ada Admin' };
const entry = (action: string, outcome: AuditEntry['outcome'], detail: Record<string, string | number | boolean | null> = {}, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  id: 'e1',
  at: '2026-11-30T10:00:00.000Z',
  actor: ada,
  action,
  target: 'cq-support@contoso.com',
  outcome,
  detail,
  ...extra,
});

// Every action the runner, the approvals workflow and the service write, with the detail each carries.
const cases: [AuditEntry, string, string][] = [
  [entry('number.assign', 'succeeded', { telephoneNumber: '+14255550101', numberType: 'callingPlan' }), 'Ada Admin assigned +1 425 555 0101 to cq-support', 'Ada Admin a attribué le +1 425 555 0101 à cq-support'],
  [entry('number.assign', 'failed', { telephoneNumber: '+14255550101' }, { reason: 'TENANT_UNAVAILABLE' }), 'Could not assign +1 425 555 0101 to cq-support (for Ada Admin) — TENANT_UNAVAILABLE', 'Échec : attribuer le +1 425 555 0101 à cq-support (pour Ada Admin) — TENANT_UNAVAILABLE'],
  [entry('number.assign', 'refused', {}, { reason: 'NUMBER_IN_USE' }), 'Ada Admin was refused: assign  to cq-support — NUMBER_IN_USE', 'Refusé à Ada Admin : attribuer le  à cq-support — NUMBER_IN_USE'],
  [entry('number.unassign', 'succeeded', { telephoneNumber: '+33123456789' }), 'Ada Admin released +33 1 23 45 67 89 from cq-support', 'Ada Admin a libéré le +33 1 23 45 67 89 de cq-support'],
  [entry('account.create', 'succeeded', { userPrincipalName: 'cq-support@contoso.com' }), 'Ada Admin created cq-support', 'Ada Admin a créé cq-support'],
  [entry('account.create', 'refused', {}, { reason: 'USERNAME_TAKEN' }), 'Ada Admin was refused: create cq-support — USERNAME_TAKEN', 'Refusé à Ada Admin : créer cq-support — USERNAME_TAKEN'],
  [entry('account.setUsageLocation', 'succeeded', { usageLocation: 'FR' }), 'Ada Admin set the usage location of cq-support to FR', 'Ada Admin a défini l’emplacement d’utilisation de cq-support sur FR'],
  [entry('license.assign', 'succeeded', { license: 'resourceAccount' }), 'Ada Admin assigned the Teams Phone Resource Account license to cq-support', 'Ada Admin a attribué la licence Compte de ressources Teams Phone à cq-support'],
  [entry('license.switch', 'succeeded'), 'Ada Admin switched the license of cq-support', 'Ada Admin a changé la licence de cq-support'],
  [entry('license.provisioned', 'succeeded'), 'Ada Admin saw the license of cq-support ready for calls', 'Ada Admin a vu la licence de cq-support prête pour les appels'],
  [entry('account.associate', 'succeeded', { name: 'Support queue' }), 'Ada Admin linked cq-support to Support queue', 'Ada Admin a associé cq-support à Support queue'],
  [entry('account.dissociate', 'succeeded', { name: 'Support queue' }), 'Ada Admin unlinked cq-support from Support queue', 'Ada Admin a dissocié cq-support de Support queue'],
  [entry('account.update', 'succeeded', { displayName: 'Support' }), 'Ada Admin edited cq-support', 'Ada Admin a modifié cq-support'],
  [entry('account.delete', 'succeeded'), 'Ada Admin deleted cq-support', 'Ada Admin a supprimé cq-support'],
  [entry('plan.deleteAccount', 'requested', { status: 'awaitingConfirmation' }), 'Ada Admin asked to delete cq-support', 'Ada Admin a demandé : supprimer cq-support'],
  [entry('plan.assignNumber', 'succeeded', { status: 'done' }), 'Done: assign a number to cq-support (asked by Ada Admin)', 'Effectué : attribuer un numéro à cq-support (demandé par Ada Admin)'],
  [entry('plan.switchLicense', 'failed', { status: 'failed' }), 'Failed: switch the license of cq-support (asked by Ada Admin)', 'Échec : changer la licence de cq-support (demandé par Ada Admin)'],
  [entry('plan.confirm', 'succeeded', { status: 'running' }), 'Ada Admin confirmed the change to cq-support', 'Ada Admin a confirmé la modification de cq-support'],
  [entry('plan.cancel', 'succeeded'), 'Ada Admin cancelled the change to cq-support', 'Ada Admin a annulé la modification de cq-support'],
  [entry('plan.retry', 'succeeded'), 'Ada Admin retried the change to cq-support', 'Ada Admin a relancé la modification de cq-support'],
  [entry('plan.held', 'refused', { status: 'awaitingConfirmation' }, { reason: 'PLAN_HELD_FOR_APPROVAL' }), 'Ada Admin was refused: run the change to cq-support before an approver approved it', 'Refusé à Ada Admin : exécuter la modification de cq-support avant l’accord d’un approbateur'],
  // A refusal's reason in words, from the values the entry kept (reasonDetail) and its own account and number.
  [
    entry('number.assign', 'failed', { telephoneNumber: '+33123456789', 'param.number': '+33123456789', 'param.numberCountry': 'France (FR)', 'param.usageLocation': 'United States of America (US)' }, { reason: 'NUMBER_COUNTRY_MISMATCH' }),
    'Could not assign +33 1 23 45 67 89 to cq-support (for Ada Admin) — +33123456789 is a France (FR) number but the usage location of cq-support@contoso.com is United States of America (US). They must match.',
    'Échec : attribuer le +33 1 23 45 67 89 à cq-support (pour Ada Admin) — Le pays de +33123456789 est France (FR), mais l’emplacement d’utilisation de cq-support@contoso.com est United States of America (US). Ils doivent correspondre.',
  ],
  // Several codes (a form's refusals): each in words when its values are there, else its code.
  [
    entry('account.create', 'refused', { 'param.1.upn': 'cq-support@contoso.com' }, { reason: 'DISPLAY_NAME_REQUIRED,NUMBER_COUNTRY_MISMATCH' }),
    'Ada Admin was refused: create cq-support — Enter a display name. NUMBER_COUNTRY_MISMATCH',
    'Refusé à Ada Admin : créer cq-support — Saisissez un nom d’affichage. NUMBER_COUNTRY_MISMATCH',
  ],
  // A reason this version does not know stays as it was written.
  [entry('account.create', 'refused', {}, { reason: 'SOMETHING_NEW' }), 'Ada Admin was refused: create cq-support — SOMETHING_NEW', 'Refusé à Ada Admin : créer cq-support — SOMETHING_NEW'],
  [entry('request.confirmed', 'succeeded', { kind: 'deleteAccount' }), 'Ada Admin confirmed the request too: delete cq-support', 'Ada Admin a confirmé la demande lui aussi : supprimer cq-support'],
  [entry('account.synced', 'succeeded'), 'Ada Admin saw cq-support arrive from on-premises (Entra Connect)', 'Ada Admin a vu cq-support arriver de l’environnement local (Entra Connect)'],
  [entry('request.created', 'requested', { kind: 'deleteAccount' }), 'Ada Admin asked an approver to delete cq-support', 'Ada Admin a soumis à un approbateur : supprimer cq-support'],
  [entry('request.approved', 'succeeded', { kind: 'deleteAccount' }), 'Ada Admin approved: delete cq-support', 'Ada Admin a approuvé : supprimer cq-support'],
  [entry('request.rejected', 'refused', { kind: 'deleteAccount', why: 'still in use' }), 'Ada Admin rejected: delete cq-support — still in use', 'Ada Admin a refusé : supprimer cq-support — still in use'],
  [entry('request.expired', 'refused', { kind: 'editAccount' }, { actor: { aadObjectId: '', name: 'Switchboard' } }), 'Switchboard let the request expire (no decision in time): edit cq-support', 'Switchboard a laissé expirer la demande (pas de décision à temps) : modifier cq-support'],
  // Written in the approver's name; the approver did not carry it out.
  [entry('request.done', 'succeeded', { kind: 'deleteAccount' }), 'Done as approved: delete cq-support (approved by Ada Admin)', 'Effectué après approbation : supprimer cq-support (approuvé par Ada Admin)'],
  [
    entry('request.failed', 'failed', { kind: 'associate' }),
    'Failed after approval: link cq-support to an auto attendant or call queue (approved by Ada Admin)',
    'Échec après approbation : associer cq-support à un standard automatique ou une file d’attente (approuvé par Ada Admin)',
  ],
  [entry('action:confirmPlan', 'refused', {}, { target: '-', reason: 'NOT_ADMIN' }), 'Ada Admin: action:confirmPlan — NOT_ADMIN', 'Ada Admin : action:confirmPlan — NOT_ADMIN'],
];

describe('history entries read as sentences, in English and French (issue 12, paper cuts)', () => {
  it.each(cases)('%o', (e, english, french) => {
    expect(auditSentence(e, 'en')).toBe(english);
    // French typography: a no-break space before ":" (src/i18n/fr.ts applies it to the whole table).
    expect(auditSentence(e, 'fr')).toBe(french.replace(/ :/g, '\u00a0:'));
  });

  it('keeps the action codes in the CSV export', () => {
    const e = cases[0]![0];
    expect(AUDIT_CSV_HEADER).toContain('action');
    expect(auditCsvRow(e)).toContain(',number.assign,');
  });

  it('writes numbers as people read them, and leaves what it cannot place as stored', () => {
    expect(readableNumber('+14255550101')).toBe('+1 425 555 0101');
    expect(readableNumber('+442071234567')).toBe('+44 20 7123 4567');
    expect(readableNumber('not a number')).toBe('not a number');
  });
});

describe('a sentence is escaped whole on the history card', () => {
  it('shows Markdown, HTML and bidi controls in names as text', () => {
    const { historyCard } = jest.requireActual<typeof import('../../src/cards/history')>('../../src/cards/history');
    const hostile = entry('account.associate', 'succeeded', { name: '[click](https://evil.example) <b>x</b> \u202Eabc' }, { actor: { aadObjectId: 'x', name: '**Eve**' } });
    const card = historyCard({ entries: [hostile], total: 1, offset: 0, limit: 10 }, 'en', '');
    const texts = JSON.stringify(card);
    expect(texts).not.toContain('](https://evil.example)');
    expect(texts).not.toContain('**Eve**');
    expect(texts).not.toContain('\u202E');
  });
});

describe('Older follows the log, not its count', () => {
  const { historyCard } = jest.requireActual<typeof import('../../src/cards/history')>('../../src/cards/history');
  const verbs = (card: object) => [...new Set([...JSON.stringify(card).matchAll(/"title":"(Older|Newer)"/g)].map((m) => m[1]))];
  const page = Array.from({ length: 10 }, (_, i) => entry('account.update', 'succeeded', { name: `Line ${i}` }));

  it.each([
    // A count that lags the log (an instance of the previous version during a rolling update counts the
    // PostgreSQL log without the entries of the new version): the page read says more follow.
    ['a count lower than the entries read, more follow', { total: 10, hasMore: true }, ['Older']],
    ['the page read is the last one', { total: 10, hasMore: false }, []],
    ['no page-read answer (the count decides)', { total: 25 }, ['Older']],
  ])('%s', (_what, page2, expected) => {
    expect(verbs(historyCard({ entries: page, offset: 0, limit: 10, ...page2 }, 'en', ''))).toEqual(expected);
  });
});
