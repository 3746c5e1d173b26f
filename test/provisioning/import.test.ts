import path from 'node:path';
import { DEMO } from '../../src/backends/simulated/seed';
import { SimulatedTenant } from '../../src/backends/simulated/tenant';
import { ImportService, type CheckedRows, type ImportProblem } from '../../src/provisioning/import';
import type { ReasonCode } from '../../src/provisioning/result';
import type { PlanRunner } from '../../src/provisioning/runner';
import { ProvisioningService } from '../../src/provisioning/service';
import type { AuditStore } from '../../src/store/audit';
import { tempDir } from '../helpers/app';

const HEADER = 'displayName,username,domain,type,usageLocation,license,numberType,number';
const C = DEMO.domains.custom;

/**
 * The import's checks on their own (no bot): the same rules as the add form, row by row, then the
 * rows against each other. The simulated demo tenant gives the tenant's side (domains, seats, numbers).
 */
describe('ImportService.check', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let tenant: SimulatedTenant;
  let sut: ImportService;

  beforeAll(async () => {
    dir = await tempDir();
    tenant = await SimulatedTenant.open({ file: path.join(dir.dir, 'tenant.json'), tenantId: 'import-test' });
    const audit = { append: async () => undefined } as unknown as AuditStore;
    const provisioning = new ProvisioningService(tenant, audit, {} as PlanRunner);
    sut = new ImportService(provisioning, {} as PlanRunner, audit, { concurrency: 4 });
  });

  afterAll(async () => {
    await tenant.close();
    await dir.remove();
  });

  async function checked(text: string): Promise<CheckedRows> {
    const result = await sut.check(text);
    if (!result.ok) throw new Error(`refused as a whole: ${JSON.stringify(result.problem)}`);
    return result.value;
  }

  /** The reason codes of one row of a one-row file. */
  async function reasonsOf(row: string): Promise<ReasonCode[]> {
    const { refused } = await checked(`${HEADER}\n${row}`);
    return refused[0]?.reasons.map((r) => r.reason) ?? [];
  }

  it.each<[string, string, ReasonCode[]]>([
    ['a good unlicensed row', `A,aa-one,${C},autoAttendant,US,none,,`, []],
    ['a good licensed row with a Calling Plan number', `A,aa-two,${C},autoAttendant,US,resourceAccount,callingPlan,${DEMO.numbers.usPool[3]}`, []],
    ['a Direct Routing number not in the inventory', `A,aa-dr,${C},autoAttendant,FR,resourceAccount,directRouting,+33 1 99 00 00 01;ext=12`, []],
    ['no display name', `,aa-x,${C},autoAttendant,US,none,,`, ['DISPLAY_NAME_REQUIRED']],
    ['an accented username', `A,accueil-é,${C},autoAttendant,US,none,,`, ['UPN_INVALID_CHARACTERS']],
    ['an unverified domain', 'A,aa-x,fabrikam.com,autoAttendant,US,none,,', ['UPN_DOMAIN_NOT_VERIFIED']],
    ['a username in use', `A,aa-main,${C},autoAttendant,US,none,,`, ['UPN_IN_USE']],
    ['an unknown type', `A,aa-x,${C},receptionist,US,none,,`, ['ACCOUNT_TYPE_INVALID']],
    ['no usage location with a license', `A,aa-x,${C},autoAttendant,,resourceAccount,,`, ['LICENSE_USAGE_LOCATION_MISSING']],
    ['an unknown country', `A,aa-x,${C},autoAttendant,Atlantis,none,,`, ['USAGE_LOCATION_INVALID']],
    ['an empty license', `A,aa-x,${C},autoAttendant,US,,,`, ['LICENSE_UNKNOWN']],
    ['an exhausted license', `A,aa-x,${C},autoAttendant,US,phoneSystem,,`, ['LICENSE_NO_FREE_SEAT']],
    ['a number without a license', `A,aa-x,${C},autoAttendant,US,none,callingPlan,${DEMO.numbers.usPool[4]}`, ['NUMBER_ACCOUNT_NOT_LICENSED']],
    ['a user number', `A,aa-x,${C},autoAttendant,US,resourceAccount,callingPlan,${DEMO.numbers.usUserFree[1]}`, ['NUMBER_NOT_SERVICE']],
    ['a number of another country', `A,aa-x,${C},autoAttendant,US,resourceAccount,callingPlan,${DEMO.numbers.frToll[1]}`, ['NUMBER_COUNTRY_MISMATCH']],
    ['an assigned number', `A,aa-x,${C},autoAttendant,US,resourceAccount,callingPlan,${DEMO.numbers.mainLine}`, ['NUMBER_ALREADY_ASSIGNED']],
    ['a number not in the tenant', `A,aa-x,${C},autoAttendant,US,resourceAccount,callingPlan,+14255559999`, ['NUMBER_NOT_FOUND']],
    ['a number in no E.164 form', `A,aa-x,${C},autoAttendant,US,resourceAccount,callingPlan,0425 555 0100`, ['NUMBER_INVALID_FORMAT']],
    ['a number without its type', `A,aa-x,${C},autoAttendant,US,resourceAccount,,${DEMO.numbers.usPool[5]}`, ['IMPORT_NUMBER_INCOMPLETE']],
    ['a number type without a number', `A,aa-x,${C},autoAttendant,US,resourceAccount,callingPlan,`, ['IMPORT_NUMBER_INCOMPLETE']],
    ['more cells than the header', `A, B,aa-x,${C},autoAttendant,US,none,,`, ['IMPORT_ROW_COLUMNS']],
    ['a cell over 1,000 characters', `${'A'.repeat(1001)},aa-x,${C},autoAttendant,US,none,,`, ['IMPORT_CELL_TOO_LONG']],
    ['several problems at once, each said', ',aa-x,fabrikam.com,receptionist,US,none,,', ['DISPLAY_NAME_REQUIRED', 'UPN_DOMAIN_NOT_VERIFIED', 'ACCOUNT_TYPE_INVALID']],
  ])('row with %s → %j', async (_case, row, reasons) => {
    expect(await reasonsOf(row)).toEqual(reasons);
  });

  it.each([
    ['type and license in words, a country name, a full UPN in the username column', `"Standard, Lyon",aa-lyon@${C},,Auto attendant,France,Teams Phone Resource Account,,`],
    ['French words', `Lyon,aa-lyon,${C},Standard automatique,FR,Compte de ressources,,`],
    ['abbreviations', `Lyon,aa-lyon,${C},AA,fr,resource account,,`],
    ['a formula-safe exported number', `Lyon,aa-lyon,${C},autoAttendant,FR,resourceAccount,Routage direct,'+33199000002`],
  ])('reads %s', async (_case, row) => {
    const { ready, refused } = await checked(`${HEADER}\n${row}`);
    expect(refused).toEqual([]);
    expect(ready[0]).toMatchObject({ userPrincipalName: `aa-lyon@${C}`, accountType: 'autoAttendant', usageLocation: 'FR', license: 'resourceAccount' });
  });

  it('reads headers as people write them, in any order, ignoring other columns, with fewer cells read as empty', async () => {
    const { ready } = await checked(`Nom d'affichage;Type;Licence;Pays;Domaine;Nom d'utilisateur;Notes\nAccueil;Standard automatique;aucune;FR;${C};aa-accueil;appeler Marie\nFile;cq;aucune;FR;${C};cq-file`);
    expect(ready.map((r) => r.userPrincipalName)).toEqual([`aa-accueil@${C}`, `cq-file@${C}`]);
  });

  it.each<[string, string, ImportProblem]>([
    ['nothing but a header', HEADER, { problem: 'empty' }],
    ['nothing at all', '', { problem: 'empty' }],
    ['missing columns', 'displayName,username\nA,b', { problem: 'missingColumns', columns: 'type, usageLocation, license' }],
    ['a column twice', 'displayName,username,domain,type,usageLocation,license,name\nA,b,c,d,e,f,g', { problem: 'duplicateColumn', column: 'displayName' }],
    ['a number column alone', 'displayName,username,domain,type,usageLocation,license,number\nA,b,c,d,e,f,g', { problem: 'numberColumns', present: 'number', missing: 'numberType' }],
    ['an unterminated quote', `${HEADER}\n"A,b`, { problem: 'unterminatedQuote', line: 2 }],
    ['501 rows', `${HEADER}\n${'A,b,c,d,e,f,,\n'.repeat(501)}`, { problem: 'tooManyRows' }],
  ])('refuses as a whole %s', async (_case, text, problem) => {
    expect(await sut.check(text)).toEqual({ ok: false, problem });
  });

  it('takes exactly 500 rows', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `Q${i},cq-many-${i},${C},callQueue,US,none,,`);
    const { ready, total } = await checked(`${HEADER}\n${rows.join('\n')}`);
    expect([total, ready.length]).toEqual([500, 500]);
  });

  it('refuses every row of a username or number given twice, naming the lines; the rest are ready', async () => {
    const n = DEMO.numbers.usPool[6];
    const { ready, refused } = await checked(
      [
        HEADER,
        `A,aa-dup,${C},autoAttendant,US,none,,`,
        `B,aa-solo,${C},autoAttendant,US,resourceAccount,callingPlan,${n}`,
        `C,AA-DUP,${C},callQueue,US,none,,`,
        `D,aa-other,${C},autoAttendant,US,resourceAccount,callingPlan,${n!.replace('+1', '+1 ')}`,
      ].join('\n'),
    );
    expect(ready).toEqual([]);
    expect(refused.map((r) => [r.line, r.reasons.map((x) => [x.reason, x.params.lines])])).toEqual([
      [2, [['IMPORT_DUPLICATE_USERNAME', '2, 4']]],
      [3, [['IMPORT_DUPLICATE_NUMBER', '3, 5']]],
      [4, [['IMPORT_DUPLICATE_USERNAME', '2, 4']]],
      [5, [['IMPORT_DUPLICATE_NUMBER', '3, 5']]],
    ]);
  });

  it('gives the free seats to the first licensed rows in file order; a refused row takes none', async () => {
    const facts = await tenant.getTenantFacts();
    const ra = facts.skus.find((s) => s.kind === 'resourceAccount')!;
    const free = ra.enabled - ra.consumed;
    const rows = [`Bad,aa-seat-bad,fabrikam.com,autoAttendant,US,resourceAccount,,`, ...Array.from({ length: free + 2 }, (_, i) => `S${i},aa-seat-${i},${C},autoAttendant,US,resourceAccount,,`), `U,aa-seat-none,${C},autoAttendant,US,none,,`];
    const { ready, refused } = await checked(`${HEADER}\n${rows.join('\n')}`);
    expect(ready).toHaveLength(free + 1);
    expect(refused.map((r) => [r.line, r.reasons[0]!.reason])).toEqual([
      [2, 'UPN_DOMAIN_NOT_VERIFIED'],
      [free + 3, 'IMPORT_NO_SEAT_LEFT'],
      [free + 4, 'IMPORT_NO_SEAT_LEFT'],
    ]);
    expect(refused[1]!.reasons[0]!.params).toEqual({ sku: 'PHONESYSTEM_VIRTUALUSER', free, needed: free + 2 });
  });
});
