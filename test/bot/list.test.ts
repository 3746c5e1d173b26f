import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { accountListCard, NO_FILTERS, type ListFilters } from '../../src/cards/accountList';
import type { ResourceAccount } from '../../src/provisioning/model';
import { testApp, tempDir } from '../helpers/app';
import { execute, message } from '../helpers/activities';
import { resourceAccount } from '../helpers/accounts';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { APPROVER, STRANGER } from '../helpers/identities';

type Card = Record<string, unknown>;
const CARD = 'application/vnd.microsoft.card.adaptive';

/**
 * 250 accounts on top of the demo tenant's fourteen, so that paging, counts and filters matter:
 * "Bulk 000"…"Bulk 249", even numbers auto attendants and odd numbers call queues; the first twelve
 * licensed (14 Resource Account seats are free) and the first four of those with a number.
 *
 * Demo tenant: AA mainLine, reception, lyon (licensed, number), AA orders (number only), AA kiosk and
 *              escalations (licensed), AA paris and holidays (neither);
 *              CQ sales and returns (licensed, number), CQ supportFr, invoices and events (licensed),
 *              CQ helpdesk (neither).
 */
const BULK = 250;
const BULK_LICENSED = 12;
const BULK_WITH_NUMBER = 4;
const DEMO_ACCOUNTS = 14;
const TOTAL = DEMO_ACCOUNTS + BULK;

async function addBulkAccounts(app: App): Promise<void> {
  for (let i = 0; i < BULK; i += 1) {
    const n = String(i).padStart(3, '0');
    const account = await app.directory.createAccount({
      userPrincipalName: `bulk-${n}@${DEMO.domains.custom}`,
      displayName: `Bulk ${n}`,
      accountType: i % 2 === 0 ? 'autoAttendant' : 'callQueue',
    });
    if (i >= BULK_LICENSED) continue;
    await app.directory.setUsageLocation(account.id, 'US');
    await app.directory.assignLicense(account.id, { addSkuIds: [DEMO.skus.resourceAccount.skuId], removeSkuIds: [] });
    if (i >= BULK_WITH_NUMBER) continue;
    await app.directory.assignNumber({ telephoneNumber: DEMO.numbers.usPool[i]!, numberType: 'callingPlan', assignmentTargetId: account.id });
  }
}

const valueOf = (response: { body?: unknown }): Card => (response.body as { value: Card }).value;

/** The data of the Previous or Next button, exactly as the client sends it back (no inputs). */
function pagingData(card: unknown, title: 'Previous' | 'Next'): Record<string, unknown> | undefined {
  const text = JSON.stringify(card);
  const parsed = JSON.parse(text) as { body: { type: string; actions?: { title: string; data: Record<string, unknown>; associatedInputs?: string }[] }[] };
  const button = parsed.body.flatMap((b) => b.actions ?? []).find((a) => a.title === title);
  if (button) expect(button.associatedInputs).toBe('none');
  return button?.data;
}

/** The "1–10 of 120" line; '' when the card has none (an empty page says "No resource accounts match." alone). */
function summaryOf(card: Card): string {
  return cardTexts(card).find((t) => /^\d[\d,]*–\d[\d,]* of \d[\d,]*$/.test(t)) ?? '';
}

/** The rows' visible cells: display name, UPN, type, license, number. */
function rowsOf(card: Card): string[][] {
  const body = card.body as { selectAction?: unknown }[];
  return body.filter((b) => b.selectAction).map((row) => cardTexts(row));
}

function filterInputs(card: Card): ListFilters {
  return {
    accountType: findInput(card, 'accountType')?.value as ListFilters['accountType'],
    license: findInput(card, 'license')?.value as ListFilters['license'],
    number: findInput(card, 'number')?.value as ListFilters['number'],
    text: findInput(card, 'text')?.value as string,
  };
}

describe('account list: filters and paging beyond 100 accounts', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeAll(async () => {
    dir = await tempDir();
    app = await testApp(dir.dir);
    await addBulkAccounts(app);
    sut = new Conversation(app);
  });

  afterAll(async () => {
    await app.close();
    await dir.remove();
  });

  /** Walks Next from the first page to the last, as a user clicking would; returns every page. */
  async function walk(first: Card): Promise<Card[]> {
    const pages = [first];
    for (let data = pagingData(first, 'Next'); data; data = pagingData(pages.at(-1), 'Next')) {
      const response = await sut.invoke(execute('listAccounts', data));
      expect(response).toMatchObject({ status: 200, body: { statusCode: 200, type: CARD } });
      pages.push(valueOf(response));
      expect(pages.length).toBeLessThanOrEqual(TOTAL);
    }
    return pages;
  }

  it('walks all 264 accounts ten at a time, each once, in name order, with the right summaries', async () => {
    const pages = await walk(await sut.card(message('list')));

    expect(pages).toHaveLength(27);
    expect(pages.map(summaryOf)).toEqual(Array.from({ length: 27 }, (_, p) => `${p * 10 + 1}–${Math.min(TOTAL, p * 10 + 10)} of ${TOTAL}`));
    const names = pages.flatMap((page) => rowsOf(page).map((cells) => cells[0]!));
    expect(names).toHaveLength(TOTAL);
    expect(new Set(names).size).toBe(TOTAL);
    expect(names.slice(0, 3)).toEqual(['Bulk 000', 'Bulk 001', 'Bulk 002']);
    expect(names.at(-1)).toBe('Support FR');
    expect(pagingData(pages[0], 'Previous')).toBeUndefined();
    expect(pagingData(pages.at(-1), 'Next')).toBeUndefined();
  });

  it('goes back with Previous, carrying the filters', async () => {
    const second = valueOf(await sut.invoke(execute('listAccounts', { offset: 10, accountType: 'callQueue', license: 'unlicensed', number: 'all', text: '' })));
    expect(summaryOf(second)).toBe('11–20 of 120');
    expect(pagingData(second, 'Previous')).toEqual({ offset: 0, accountType: 'callQueue', license: 'unlicensed', number: 'all', text: '' });
    const first = valueOf(await sut.invoke(execute('listAccounts', pagingData(second, 'Previous'))));
    expect(summaryOf(first)).toBe('1–10 of 120');
    expect(filterInputs(first)).toEqual({ accountType: 'callQueue', license: 'unlicensed', number: 'all', text: '' });
  });

  it.each<[string, Partial<ListFilters>, number]>([
    ['only auto attendants', { accountType: 'autoAttendant' }, 8 + 125],
    ['only call queues', { accountType: 'callQueue' }, 6 + 125],
    ['only licensed', { license: 'licensed' }, 10 + BULK_LICENSED],
    ['only unlicensed', { license: 'unlicensed' }, 4 + BULK - BULK_LICENSED],
    ['only with a number', { number: 'with' }, 6 + BULK_WITH_NUMBER],
    ['only without a number', { number: 'without' }, 8 + BULK - BULK_WITH_NUMBER],
    ['unlicensed call queues', { accountType: 'callQueue', license: 'unlicensed' }, 1 + 119],
    ['licensed auto attendants with a number', { accountType: 'autoAttendant', license: 'licensed', number: 'with' }, 3 + 2],
    ['licensed call queues without a number', { accountType: 'callQueue', license: 'licensed', number: 'without' }, 3 + 4],
    ['a search', { text: 'bulk 01' }, 10],
    ['a search for call queues', { text: 'BULK 01', accountType: 'callQueue' }, 5],
    ['a search by username', { text: 'contoso.onmicrosoft' }, 1],
    ['everything at once', { text: 'bulk', accountType: 'autoAttendant', license: 'unlicensed', number: 'without' }, 125 - 6],
    ['a search that matches nothing', { text: 'zzz' }, 0],
  ])('Apply (%s) counts and pages the matches', async (_case, filters, total) => {
    const applied = { ...NO_FILTERS, ...filters };
    const first = valueOf(await sut.invoke(execute('listAccounts', { offset: 0, ...applied })));
    expect(filterInputs(first)).toEqual(applied);
    if (total === 0) {
      expect(cardTexts(first)).toContain('No resource accounts match.');
      expect(summaryOf(first)).toBe('');
      return;
    }
    const pages = await walk(first);
    expect(pages).toHaveLength(Math.ceil(total / 10));
    expect(summaryOf(pages.at(-1)!)).toBe(`${(pages.length - 1) * 10 + 1}–${total} of ${total}`);
    const rows = pages.flatMap(rowsOf);
    expect(rows).toHaveLength(total);
    // Every row shown satisfies every filter (cells: name, username, type, license, number).
    for (const [name = '', upn = '', type, license, number] of rows) {
      if (applied.accountType !== 'all') expect(type).toBe(applied.accountType === 'autoAttendant' ? 'Auto attendant' : 'Call queue');
      if (applied.license !== 'all') expect(license === 'Unlicensed').toBe(applied.license === 'unlicensed');
      if (applied.number !== 'all') expect(number === 'None').toBe(applied.number === 'without');
      if (applied.text) expect(`${name} ${upn}`.toLowerCase()).toContain(applied.text.toLowerCase());
    }
  });

  it.each<[string, ListFilters, string]>([
    ['list', NO_FILTERS, `1–10 of ${TOTAL}`],
    ['list sales', { ...NO_FILTERS, text: 'sales' }, '1–1 of 1'],
    ['list cq unlicensed', { ...NO_FILTERS, accountType: 'callQueue', license: 'unlicensed' }, '1–10 of 120'],
    ['list AA licensed number', { ...NO_FILTERS, accountType: 'autoAttendant', license: 'licensed', number: 'with' }, '1–5 of 5'],
    ['list no-number bulk 24', { ...NO_FILTERS, number: 'without', text: 'bulk 24' }, '1–10 of 10'],
    ['list main line aa', { ...NO_FILTERS, accountType: 'autoAttendant', text: 'main line' }, '1–1 of 1'],
    ['list "number"', { ...NO_FILTERS, text: 'number' }, ''],
    ['list “cq” ', { ...NO_FILTERS, text: 'cq' }, '1–7 of 7'],
  ])('"%s" sets the filters in the card', async (text, filters, summary) => {
    const card = await sut.card(message(text));
    expect(filterInputs(card)).toEqual(filters);
    expect(summaryOf(card)).toBe(summary);
  });

  it('lands on the last page when the offset is past the end (a stale card, or a crafted one)', async () => {
    const card = valueOf(await sut.invoke(execute('listAccounts', { offset: 9_999_990 })));
    expect(summaryOf(card)).toBe(`261–${TOTAL} of ${TOTAL}`);
    expect(pagingData(card, 'Next')).toBeUndefined();
    expect(pagingData(card, 'Previous')).toMatchObject({ offset: 250 });
  });

  it('finds an account by its phone number, written as admins write it (seen missing in a Playground walk)', async () => {
    const card = await sut.card(message('list +1 (425) 555-0100'));
    expect(summaryOf(card)).toBe('1–1 of 1');
    expect(cardTexts(card)).toContain(DEMO.accounts.mainLine.upn);
  });

  it('lets an approver page and filter', async () => {
    const card = valueOf(await sut.invoke(execute('listAccounts', { offset: 10, license: 'licensed' }, { from: APPROVER })));
    expect(summaryOf(card)).toBe('11–20 of 22');
  });

  const refusal = (text: string) => ({
    status: 200,
    body: {
      statusCode: 200,
      type: CARD,
      value: {
        type: 'AdaptiveCard',
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        version: '1.5',
        body: [
          { type: 'TextBlock', text: 'Not done', size: 'medium', weight: 'bolder', wrap: true, color: 'attention' },
          { type: 'TextBlock', text, wrap: true },
        ],
      },
    },
  });

  it.each([
    ['an unknown type', { accountType: 'fax' }, 'accountType: Invalid option: expected one of "all"|"autoAttendant"|"callQueue"'],
    ['an unknown license filter', { license: true }, 'license: Invalid option: expected one of "all"|"licensed"|"unlicensed"'],
    ['a 201-character search', { text: 's'.repeat(201) }, 'text: Too big: expected string to have <=200 characters'],
    ['an offset beyond ten million', { offset: 10_000_001 }, 'offset: Too big: expected number to be <=10000000'],
    ['a fractional offset', { offset: 1.5 }, 'offset: Invalid input: expected int, received number'],
  ])('refuses %s as a malformed payload', async (_case, data, detail) => {
    expect(await sut.invoke(execute('listAccounts', data))).toEqual(refusal(`This card sent data I cannot use (${detail}). Nothing was changed.`));
  });

  it('refuses the list to someone with no role, filters or not', async () => {
    expect(cardTexts(valueOf(await sut.invoke(execute('listAccounts', { accountType: 'callQueue' }, { from: STRANGER }))))[0]).toBe('Not done');
  });
});

describe('account list card', () => {
  const account = (i: number): ResourceAccount => resourceAccount({ id: `a-${i}`, userPrincipalName: `aa-${i}@contoso.com`, displayName: `Account ${i}` });

  it('says "11–20 of 10,000" and carries the filters on Previous and Next', () => {
    const filters: ListFilters = { accountType: 'callQueue', license: 'licensed', number: 'without', text: 'north' };
    const card = accountListCard({ items: Array.from({ length: 10 }, (_, i) => account(10 + i)), total: 10_000, offset: 10, limit: 10 }, [], 'en', filters);
    expect(summaryOf(card)).toBe('11–20 of 10,000');
    expect(pagingData(card, 'Previous')).toEqual({ offset: 0, ...filters });
    expect(pagingData(card, 'Next')).toEqual({ offset: 20, ...filters });
    expect(filterInputs(card)).toEqual(filters);
    expect(cardTexts(card).slice(0, 6)).toEqual(['Resource accounts', 'Type', 'License', 'Phone number', 'Search', '[Apply]']);
    expect(findInput(card, 'accountType')?.choices).toEqual([
      { title: 'All types', value: 'all' },
      { title: 'Auto attendant', value: 'autoAttendant' },
      { title: 'Call queue', value: 'callQueue' },
    ]);
    expect(findInput(card, 'license')?.choices).toEqual([
      { title: 'Licensed or not', value: 'all' },
      { title: 'Licensed', value: 'licensed' },
      { title: 'Unlicensed', value: 'unlicensed' },
    ]);
    expect(findInput(card, 'number')?.choices).toEqual([
      { title: 'With or without', value: 'all' },
      { title: 'With a number', value: 'with' },
      { title: 'Without a number', value: 'without' },
    ]);
  });

  it('stays small enough for Teams with a full page of long names (teams-platform.md §5)', () => {
    const long = (i: number): ResourceAccount => ({ ...account(i), displayName: 'N'.repeat(256), userPrincipalName: `${'u'.repeat(64)}@${'d'.repeat(40)}.com` });
    const card = accountListCard({ items: Array.from({ length: 10 }, (_, i) => long(i)), total: 10_000, offset: 0, limit: 10 }, [], 'en', { ...NO_FILTERS, text: 's'.repeat(200) });
    expect(JSON.stringify(card).length).toBeLessThan(25_000);
  });
});
