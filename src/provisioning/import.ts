import { randomUUID } from 'node:crypto';
import type { AuditStore } from '../store/audit';
import { countryCodeOf } from './countries';
import { parseCsv, unescapeCell } from './csv';
import { freeSeats, NumberTypeSchema, type Actor, type LicenseKind, type TenantFacts } from './model';
import { checkTelephoneNumber } from './numbers';
import { MAX_BATCH_ROWS, type BatchRow, type Plan, type PlanKind, type RefusedRow, type StepNote } from './plans';
import { refuse, type Refusal } from './result';
import type { PlanRunner } from './runner';
import type { NewAccountForm, ProvisioningService, ValidNewAccount } from './service';

/**
 * Bulk import (issue 12 part 1): CSV rows checked by the same rules as the add form, then against
 * each other, then proposed as one batch plan under the approval policy.
 */

/** The limits the import card states, enforced here. */
export const IMPORT_LIMITS = {
  rows: MAX_BATCH_ROWS,
  /** Pasted text travels in the card's invoke, whose value the bot bounds to 64 KB (src/bot/activity.ts). */
  pasteChars: 60_000,
  /** A file sent in the chat (fetched from Teams' download link, src/bot/importFile.ts). */
  fileBytes: 256 * 1024,
  /** Longer cells are refused: no rule accepts anything near as long (a display name is ≤ 256). */
  cellChars: 1_000,
} as const;

/** The columns of the import format, in the order the template and the exports write them. */
export const IMPORT_COLUMNS = ['displayName', 'username', 'domain', 'type', 'usageLocation', 'license', 'numberType', 'number'] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

const REQUIRED: readonly ImportColumn[] = ['displayName', 'username', 'type', 'usageLocation', 'license'];

/** Header names as people write them, in English and French, compared without case, accents, spaces or punctuation. */
const HEADER_ALIASES: Record<string, ImportColumn> = {
  displayname: 'displayName',
  name: 'displayName',
  nom: 'displayName',
  nomaffiche: 'displayName',
  nomdaffichage: 'displayName',
  username: 'username',
  userprincipalname: 'username',
  upn: 'username',
  nomdutilisateur: 'username',
  domain: 'domain',
  domaine: 'domain',
  type: 'type',
  accounttype: 'type',
  resourceaccounttype: 'type',
  typedecompte: 'type',
  typedecomptederessources: 'type',
  usagelocation: 'usageLocation',
  country: 'usageLocation',
  emplacementdutilisation: 'usageLocation',
  pays: 'usageLocation',
  license: 'license',
  licence: 'license',
  numbertype: 'numberType',
  typedenumero: 'numberType',
  number: 'number',
  phonenumber: 'number',
  telephonenumber: 'number',
  numero: 'number',
  numerodetelephone: 'number',
};

const TYPE_ALIASES: Record<string, string> = {
  autoattendant: 'autoAttendant',
  aa: 'autoAttendant',
  standardautomatique: 'autoAttendant',
  callqueue: 'callQueue',
  cq: 'callQueue',
  filedattente: 'callQueue',
  filedattentedappels: 'callQueue',
};

const LICENSE_ALIASES: Record<string, string> = {
  resourceaccount: 'resourceAccount',
  teamsphoneresourceaccount: 'resourceAccount',
  phonesystemvirtualuser: 'resourceAccount',
  virtualuser: 'resourceAccount',
  comptederessources: 'resourceAccount',
  phonesystem: 'phoneSystem',
  mcoev: 'phoneSystem',
  teamsphonestandard: 'phoneSystem',
  none: 'none',
  nolicense: 'none',
  aucune: 'none',
  aucunelicence: 'none',
};

const NUMBER_TYPE_ALIASES: Record<string, string> = {
  callingplan: 'callingPlan',
  forfaitdappels: 'callingPlan',
  operatorconnect: 'operatorConnect',
  directrouting: 'directRouting',
  routagedirect: 'directRouting',
};

/** "Call queue", "call-queue", "File d'attente" → "callqueue", "filedattente". */
const key = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

/** A value written in words becomes its code; anything else goes to the rule as it is, which says what is wrong. */
const alias = (table: Record<string, string>, raw: string): string => (Object.hasOwn(table, key(raw)) ? table[key(raw)]! : raw.trim());

/** Why a whole paste or file cannot be imported (row problems are per row, in the preview). */
export type ImportProblem =
  | { problem: 'empty' }
  | { problem: 'tooLong'; length: number }
  | { problem: 'tooManyRows' }
  | { problem: 'unterminatedQuote' | 'textAfterQuote'; line: number }
  | { problem: 'missingColumns'; columns: string }
  | { problem: 'duplicateColumn'; column: string }
  | { problem: 'numberColumns'; present: string; missing: string }
  | { problem: 'hybridTenant' };

export interface ImportSource {
  kind: 'paste' | 'file';
  fileName?: string;
}

export interface CheckedRows {
  total: number;
  ready: BatchRow[];
  refused: RefusedRow[];
}

interface RowCheck {
  line: number;
  cells: string[];
  reasons: StepNote[];
  valid?: ValidNewAccount;
  upnKey?: string;
  number?: { telephoneNumber: string; numberType: BatchRow['numberType'] };
  numberKey?: string;
}

const note = (refusal: Refusal): StepNote => ({ reason: refusal.reason, params: refusal.params });

export interface ImportOptions {
  /** Rows that run at once (SWITCHBOARD_IMPORT_CONCURRENCY). */
  concurrency: number;
  /** Tenant look-ups at once while the rows are checked. */
  lookups?: number;
}

export class ImportService {
  constructor(
    private readonly provisioning: ProvisioningService,
    private readonly plans: PlanRunner,
    private readonly audit: AuditStore,
    private readonly options: ImportOptions,
  ) {}

  get concurrency(): number {
    return this.options.concurrency;
  }

  /**
   * Checks the CSV and proposes the batch: nothing changes in the tenant until it is confirmed (and
   * approved, when the policy names adding accounts, assigning numbers or importing).
   */
  async preview(actor: Actor, text: string, source: ImportSource): Promise<{ ok: true; plan: Plan } | { ok: false; problem: ImportProblem }> {
    if (source.kind === 'paste' && text.length > IMPORT_LIMITS.pasteChars) return { ok: false, problem: { problem: 'tooLong', length: text.length } };
    const checked = await this.check(text);
    if (!checked.ok) return checked;
    const { ready, refused, total } = checked.value;
    const label = `import-${randomUUID().slice(0, 8)}`;
    const alsoKinds: PlanKind[] = ['addAccount', ...(ready.some((r) => r.telephoneNumber) ? (['assignNumber'] as const) : [])];
    const proposed = await this.plans.propose({
      kind: 'importAccounts',
      account: { id: null, userPrincipalName: label, displayName: label },
      requestedBy: actor,
      steps: [],
      batch: {
        source: source.kind,
        ...(source.fileName ? { fileName: source.fileName.slice(0, 200) } : {}),
        total,
        rows: ready,
        refused,
        concurrency: this.options.concurrency,
      },
      alsoKinds,
    });
    if (!proposed.ok) throw new Error(`an import batch could not be proposed: ${proposed.reason}`);
    // Refused rows changed nothing; the log says how the file was judged (best effort, as other refusals).
    await this.audit
      .append({
        actor,
        action: 'import.checked',
        target: label,
        outcome: 'succeeded',
        requestId: proposed.value.id,
        detail: { rows: String(total), ready: String(ready.length), refused: String(refused.length), source: source.kind },
      })
      .catch(() => undefined);
    return { ok: true, plan: proposed.value };
  }

  /** Parses and checks every row: by the add form's rules, then against the other rows of the file. */
  async check(text: string): Promise<{ ok: true; value: CheckedRows } | { ok: false; problem: ImportProblem }> {
    const parsed = parseCsv(text, IMPORT_LIMITS.rows + 1);
    if (!parsed.ok) return { ok: false, problem: parsed.problem === 'tooManyRecords' ? { problem: 'tooManyRows' } : { problem: parsed.problem, line: parsed.line } };
    const [header, ...records] = parsed.records;
    if (!header || records.length === 0) return { ok: false, problem: { problem: 'empty' } };
    const columns = this.columnsOf(header.cells);
    if ('problem' in columns) return { ok: false, problem: columns };

    const facts = await this.provisioning.tenantFacts();
    // A batch creates accounts online; in a hybrid tenant they must be made on Skype for Business
    // Server 2019 (src/provisioning/hybrid.ts), one add at a time with its on-premises command.
    if (facts.hybrid?.hybrid) return { ok: false, problem: { problem: 'hybridTenant' } };
    const rows: RowCheck[] = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const index = next++;
        const record = records[index]!;
        rows[index] = await this.checkRow(record.line, record.cells, header.cells.length, columns, facts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.lookups ?? 8, records.length) }, worker));

    markDuplicates(rows, (r) => r.upnKey, (r, lines) => refuse('IMPORT_DUPLICATE_USERNAME', { upn: r.valid?.userPrincipalName ?? r.upnKey!, lines }, 'username'));
    markDuplicates(rows, (r) => r.numberKey, (r, lines) => refuse('IMPORT_DUPLICATE_NUMBER', { number: r.number?.telephoneNumber ?? r.numberKey!, lines }, 'telephoneNumber'));
    markSeats(rows, facts);

    const ready: BatchRow[] = [];
    const refused: RefusedRow[] = [];
    for (const row of rows) {
      if (row.reasons.length === 0 && row.valid) {
        ready.push({
          line: row.line,
          displayName: row.valid.displayName,
          userPrincipalName: row.valid.userPrincipalName,
          accountType: row.valid.accountType,
          usageLocation: row.valid.usageLocation,
          license: row.valid.sku?.kind ?? null,
          ...(row.number ? { numberType: row.number.numberType, telephoneNumber: row.number.telephoneNumber } : {}),
        });
      } else {
        refused.push({ line: row.line, cells: row.cells.map((c) => c.slice(0, 400)), reasons: row.reasons.slice(0, 8) });
      }
    }
    return { ok: true, value: { total: rows.length, ready, refused } };
  }

  private columnsOf(header: string[]): Map<ImportColumn, number> | ImportProblem {
    const columns = new Map<ImportColumn, number>();
    for (const [index, name] of header.entries()) {
      const column = HEADER_ALIASES[key(unescapeCell(name))];
      // Other columns (the "line" and "reason" of a downloaded file, notes) are ignored.
      if (!column) continue;
      if (columns.has(column)) return { problem: 'duplicateColumn', column };
      columns.set(column, index);
    }
    const missing = REQUIRED.filter((c) => !columns.has(c));
    if (missing.length > 0) return { problem: 'missingColumns', columns: missing.join(', ') };
    if (columns.has('numberType') !== columns.has('number')) {
      const [present, absent] = columns.has('number') ? ['number', 'numberType'] : ['numberType', 'number'];
      return { problem: 'numberColumns', present, missing: absent };
    }
    return columns;
  }

  private async checkRow(line: number, raw: string[], width: number, columns: Map<ImportColumn, number>, facts: TenantFacts): Promise<RowCheck> {
    const cell = (column: ImportColumn) => {
      const index = columns.get(column);
      return index === undefined ? '' : unescapeCell(raw[index] ?? '');
    };
    const cells = IMPORT_COLUMNS.map(cell);
    const row: RowCheck = { line, cells, reasons: [] };
    // More cells than the header: usually a comma inside a name without quotes, so every value after
    // it is shifted; the row is refused for that alone. Fewer are read as empty (a hand-written paste).
    if (raw.length > width) {
      row.reasons.push(note(refuse('IMPORT_ROW_COLUMNS', { count: raw.length, expected: width })));
      // Which cell is which cannot be told: the whole line is kept in the first column, to be fixed.
      row.cells = [raw.join(','), ...IMPORT_COLUMNS.slice(1).map(() => '')];
      return row;
    }
    const long = raw.find((c) => c.length > IMPORT_LIMITS.cellChars);
    if (long !== undefined) {
      row.reasons.push(note(refuse('IMPORT_CELL_TOO_LONG', { length: long.length, max: IMPORT_LIMITS.cellChars })));
      return row;
    }
    // "aa-main@contoso.com" in the username column and no domain: the username and domain it names.
    let username = cell('username').trim();
    let domain = cell('domain').trim();
    const at = username.lastIndexOf('@');
    if (at > 0 && !domain) {
      domain = username.slice(at + 1);
      username = username.slice(0, at);
    }
    const form: NewAccountForm = {
      displayName: cell('displayName'),
      username,
      domain,
      accountType: alias(TYPE_ALIASES, cell('type')),
      usageLocation: cell('usageLocation').trim() ? (countryCodeOf(cell('usageLocation')) ?? cell('usageLocation')) : '',
      license: alias(LICENSE_ALIASES, cell('license')),
    };
    if (username) row.upnKey = `${username}@${domain}`.toLowerCase();
    // The add form's rules, every one (the same function the form calls).
    const valid = await this.provisioning.validateNewAccount(form, facts);
    if (valid.ok) row.valid = valid.value;
    else row.reasons.push(...valid.refusals.map(note));

    const numberTypeRaw = alias(NUMBER_TYPE_ALIASES, cell('numberType'));
    const numberRaw = cell('number').trim();
    if (numberTypeRaw || numberRaw) {
      const type = NumberTypeSchema.safeParse(numberTypeRaw);
      const formatted = type.success ? checkTelephoneNumber(numberRaw, type.data) : null;
      row.numberKey = formatted?.ok ? formatted.value : numberRaw.replace(/[\s\-.()]/g, '') || undefined;
      if (!numberTypeRaw || !numberRaw) {
        row.reasons.push(note(refuse('IMPORT_NUMBER_INCOMPLETE', {}, numberRaw ? 'numberType' : 'telephoneNumber')));
      } else if (valid.ok) {
        // The number rules, as for an existing account, against the account as the row will make it.
        const number = await this.provisioning.validateNumberForNewAccount(valid.value, numberTypeRaw, numberRaw, facts);
        if (number.ok) row.number = number.value;
        else row.reasons.push(note(number));
      } else if (formatted && !formatted.ok) {
        row.reasons.push(note(formatted));
      }
    }
    return row;
  }
}

/** Rows that share a key (the same username, the same number): each is refused, naming the lines. */
function markDuplicates(rows: RowCheck[], keyOf: (row: RowCheck) => string | undefined, refusal: (row: RowCheck, lines: string) => Refusal): void {
  const byKey = new Map<string, RowCheck[]>();
  for (const row of rows) {
    const k = keyOf(row);
    if (k) byKey.set(k, [...(byKey.get(k) ?? []), row]);
  }
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    // The admin must say which one they meant: none of them is taken.
    const lines = group.map((r) => r.line).join(', ');
    for (const row of group) row.reasons.push(note(refusal(row, lines)));
  }
}

/**
 * Seats across rows: each license kind has `free` seats (the single add checks at least one is free);
 * the rows that are otherwise ready take them in file order, and the ones past the last seat are
 * refused, saying how many the file needs.
 */
function markSeats(rows: RowCheck[], facts: TenantFacts): void {
  const wanting = new Map<LicenseKind, RowCheck[]>();
  for (const row of rows) {
    const kind = row.valid?.sku?.kind;
    if (kind && row.reasons.length === 0) wanting.set(kind, [...(wanting.get(kind) ?? []), row]);
  }
  for (const [kind, group] of wanting) {
    const sku = facts.skus.find((s) => s.kind === kind);
    if (!sku) continue;
    const free = freeSeats(sku);
    for (const row of group.slice(free)) {
      row.reasons.push(note(refuse('IMPORT_NO_SEAT_LEFT', { sku: sku.skuPartNumber, free, needed: group.length }, 'license')));
    }
  }
}
