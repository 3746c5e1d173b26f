import { describeRefusal } from '../cards/describe';
import { strings, type Locale } from '../i18n';
import { csvLine } from '../provisioning/csv';
import { IMPORT_COLUMNS } from '../provisioning/import';
import { licenseKindsOf, type TenantFacts } from '../provisioning/model';
import { failedStep, type Plan } from '../provisioning/plans';
import type { PlanRunner } from '../provisioning/runner';
import type { ProvisioningService } from '../provisioning/service';
import type { ExportGrant } from './exports';

/**
 * The CSV files of bulk import, all in the import format (issue 12): the template, every resource
 * account (`export accounts`, which imports back as it is), and the rows of a batch that were not
 * imported, with the reason in a last column (the import ignores it, so the file can be fixed and
 * sent again). Each is generated when its one-time link is used (src/server.ts), never kept.
 */

const PAGE = 100;

/** The header and two example rows, at the tenant's default domain. */
export async function* templateCsv(facts: TenantFacts): AsyncGenerator<string> {
  const domain = facts.domains.find((d) => d.isDefault && d.isOnline)?.name ?? facts.domains.find((d) => d.isOnline)?.name ?? 'contoso.com';
  yield csvLine(IMPORT_COLUMNS);
  yield csvLine(['Main line', 'aa-mainline', domain, 'autoAttendant', 'US', 'resourceAccount', '', '']);
  yield csvLine(['Support', 'cq-support', domain, 'callQueue', 'US', 'resourceAccount', 'directRouting', '+14255550199']);
}

/** Every resource account, page by page (memory stays flat), as rows an import would create. */
export async function* accountsCsv(provisioning: ProvisioningService): AsyncGenerator<string> {
  const facts = await provisioning.tenantFacts();
  yield csvLine(IMPORT_COLUMNS);
  for (let offset = 0; ; offset += PAGE) {
    const page = await provisioning.listAccounts({ offset, limit: PAGE });
    for (const account of page.items) {
      const at = account.userPrincipalName.lastIndexOf('@');
      const [kind] = licenseKindsOf(account, facts.skus);
      // A Direct Routing number is not always in the online inventory (F17): it is Direct Routing then.
      const numberType = account.phoneNumber ? ((await provisioning.phoneNumber(account.phoneNumber))?.numberType ?? 'directRouting') : '';
      yield csvLine([
        account.displayName,
        account.userPrincipalName.slice(0, at),
        account.userPrincipalName.slice(at + 1),
        account.accountType,
        account.usageLocation ?? '',
        kind ?? 'none',
        numberType,
        account.phoneNumber ?? '',
      ]);
    }
    if (page.items.length === 0 || offset + page.items.length >= page.total) return;
  }
}

/** The refused rows (as given) and the failed rows (as planned) of a batch, in file order, with why. */
export async function* rowsNotImportedCsv(plan: Plan, plans: PlanRunner, locale: Locale): AsyncGenerator<string> {
  const s = strings(locale);
  const batch = plan.batch;
  yield csvLine(['line', ...IMPORT_COLUMNS, s.import.reasonColumn]);
  if (!batch) return;
  const out: { line: number; cells: string[] }[] = [];
  const why = (reason: Parameters<typeof describeRefusal>[0]['reason'], params: Record<string, string | number>) => describeRefusal({ ok: false, reason, params }, locale);
  for (const row of batch.refused) out.push({ line: row.line, cells: [...row.cells, row.reasons.map((r) => why(r.reason, r.params)).join(' ')] });
  const progress = await plans.batchProgress(plan);
  progress.children.forEach((child, i) => {
    if (!child || (child.status !== 'failed' && child.status !== 'cancelled')) return;
    const row = batch.rows[i]!;
    const at = row.userPrincipalName.lastIndexOf('@');
    const note = failedStep(child)?.note;
    out.push({
      line: row.line,
      cells: [
        row.displayName,
        row.userPrincipalName.slice(0, at),
        row.userPrincipalName.slice(at + 1),
        row.accountType,
        row.usageLocation ?? '',
        row.license ?? 'none',
        row.numberType ?? '',
        row.telephoneNumber ?? '',
        note ? why(note.reason, note.params) : s.plan.state[child.status],
      ],
    });
  });
  out.sort((a, b) => a.line - b.line);
  for (const row of out) yield csvLine([String(row.line), ...row.cells]);
}

/** The CSV a link of an import kind downloads; undefined for history links (streamed from the audit log) and unknown batches. */
export async function importExport(grant: ExportGrant, deps: { provisioning: ProvisioningService }): Promise<AsyncGenerator<string> | undefined> {
  const locale = grant.locale ?? 'en';
  switch (grant.kind) {
    case 'importTemplate':
      return templateCsv(await deps.provisioning.tenantFacts());
    case 'accounts':
      return accountsCsv(deps.provisioning);
    case 'importRows': {
      const plan = grant.subject ? await deps.provisioning.plans.get(grant.subject) : undefined;
      return plan?.batch ? rowsNotImportedCsv(plan, deps.provisioning.plans, locale) : undefined;
    }
    default:
      return undefined;
  }
}
