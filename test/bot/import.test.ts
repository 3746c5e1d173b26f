import type { App } from '../../src/app';
import { DEMO } from '../../src/backends/simulated/seed';
import { freeSeats } from '../../src/provisioning/model';
import { batchChildId, type Plan } from '../../src/provisioning/plans';
import { DirectoryRefusal } from '../../src/provisioning/result';
import type { TenantDirectory } from '../../src/provisioning/directory';
import { execute, message } from '../helpers/activities';
import { testApp, tempDir } from '../helpers/app';
import { cardTexts, Conversation, findInput } from '../helpers/conversation';
import { APPROVER } from '../helpers/identities';
import { bodyOf, idOn, until } from '../helpers/waiting';

type Card = Record<string, unknown>;

const HEADER = 'displayName,username,domain,type,usageLocation,license,numberType,number';
const csv = (rows: string[][]): string => [HEADER, ...rows.map((r) => r.join(','))].join('\n');

const buttons = (card: unknown) => cardTexts(card).filter((t) => t.startsWith('['));
const texts = (card: unknown) => cardTexts(card);

/** The last card an update put on the message with this id. */
function lastUpdate(sut: Conversation, id: string): Card | undefined {
  const update = sut.adapter.updates.filter((u) => u.id === id).at(-1);
  return update ? ((update.attachments![0] as { content: Card }).content) : undefined;
}

async function freeResourceAccountSeats(app: App): Promise<number> {
  const facts = await app.directory.getTenantFacts();
  return freeSeats(facts.skus.find((s) => s.kind === 'resourceAccount')!);
}

/**
 * 200 rows: 150 unlicensed call queues, 15 licensed auto attendants (2 with a number), 25 more
 * unlicensed rows written the way people write them (words for the type, a country name), and 10
 * rows each refused for a reason of its own — by the add form's rules and against the other rows.
 */
function twoHundredRows(): { text: string; refusedLines: number[]; ready: string[] } {
  const rows: string[][] = [];
  const ready: string[] = [];
  for (let i = 0; i < 150; i++) {
    rows.push([`Queue ${i}`, `cq-bulk-${i}`, 'contoso.com', 'callQueue', 'US', 'none', '', '']);
    ready.push(`cq-bulk-${i}@contoso.com`);
  }
  for (let i = 0; i < 15; i++) {
    const number = i < 2 ? ['callingPlan', DEMO.numbers.usPool[i]!] : ['', ''];
    // The demo tenant has 14 free Resource Account seats: the 15th attendant takes none.
    rows.push([`Attendant ${i}`, `aa-bulk-${i}`, 'contoso.com', 'autoAttendant', 'US', i < 14 ? 'resourceAccount' : 'none', ...number]);
    ready.push(`aa-bulk-${i}@contoso.com`);
  }
  for (let i = 0; i < 25; i++) {
    rows.push([`File ${i}`, `cq-words-${i}`, 'contoso.com', "File d'attente", 'France', 'none', '', '']);
    ready.push(`cq-words-${i}@contoso.com`);
  }
  const refused: string[][] = [
    ['Elsewhere', 'aa-elsewhere', 'fabrikam.com', 'autoAttendant', 'US', 'none', '', ''],
    ['Receptionist', 'aa-receptionist', 'contoso.com', 'receptionist', 'US', 'none', '', ''],
    ['Twin one', 'cq-twin', 'contoso.com', 'callQueue', 'US', 'none', '', ''],
    ['Twin two', 'CQ-TWIN', 'contoso.com', 'callQueue', 'US', 'none', '', ''],
    ['Full system', 'aa-full', 'contoso.com', 'autoAttendant', 'US', 'phoneSystem', '', ''],
    ['Main again', 'aa-main', 'contoso.com', 'autoAttendant', 'US', 'none', '', ''],
    ['Nowhere', 'aa-nowhere', 'contoso.com', 'autoAttendant', 'XX', 'none', '', ''],
    ['Sales, EMEA', 'cq-emea', 'contoso.com', 'callQueue', 'US', 'none', '', ''],
    ['Same number A', 'aa-same-a', 'contoso.com', 'autoAttendant', 'US', 'resourceAccount', 'callingPlan', DEMO.numbers.usPool[10]!],
    ['Same number B', 'aa-same-b', 'contoso.com', 'autoAttendant', 'US', 'resourceAccount', 'callingPlan', DEMO.numbers.usPool[10]!],
  ];
  rows.push(...refused);
  // Data rows start on line 2 (line 1 is the header).
  const refusedLines = refused.map((_, i) => 2 + 190 + i);
  return { text: csv(rows), refusedLines, ready };
}

describe('bulk import in the conversation (issue 12)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let app: App;
  let sut: Conversation;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await app?.close();
    await dir.remove();
  });

  describe('with the default approval policy', () => {
    beforeEach(async () => {
      app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
      sut = new Conversation(app);
    });

    it('"import" shows the card: a CSV box, the columns, the limits, and the template', async () => {
      const card = await sut.card(message('import'));
      expect(texts(card)).toEqual([
        'Import resource accounts',
        'Paste CSV below (a header line, then one account per line), or send the CSV file in this chat. Every row is checked before anything is created.',
        'Accounts as CSV',
        expect.stringMatching(/^Columns: displayName, username, domain, type/),
        'At most 500 rows per import; pasted text up to 60000 characters, a file up to 256 KB. Split anything larger.',
        '[Check rows]',
        '[Download template]',
        '[Cancel]',
      ]);
      expect(findInput(card, 'csv')).toMatchObject({ isMultiline: true, isRequired: true, maxLength: 60000 });
    });

    it('checks 200 rows, refuses 10 with their reasons, then creates the 190 others with bounded concurrency, the card updated in place', async () => {
      const { text, refusedLines, ready } = twoHundredRows();
      const createAccount = app.directory.createAccount.bind(app.directory);
      let inFlight = 0;
      let peak = 0;
      jest.spyOn(app.directory, 'createAccount').mockImplementation(async (input) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        try {
          // 190 rows, 4 at a time: about 6 s, longer than a click waits for its plan (about 2 s,
          // PlanRunner.settle), so the card is answered while the batch runs and then updated in place.
          await new Promise((r) => setTimeout(r, 120));
          return await createAccount(input);
        } finally {
          inFlight -= 1;
        }
      });
      const preview = bodyOf(await sut.invoke({ ...execute('previewImport', { csv: text }), replyToId: 'import-card' }));
      const shown = texts(preview);
      expect(shown.slice(0, 2)).toEqual(['Import resource accounts', '190 of 200 rows are ready, 10 refused. Nothing has changed yet: confirm to create the 190 accounts.']);
      expect(shown).toEqual(
        expect.arrayContaining([
          'Source: Pasted text',
          'Rows in the file: 200',
          'Ready: 190',
          'Refused: 10',
          'With a phone number: 2',
          `Teams Phone Resource Account licenses: 14 needed, ${await freeResourceAccountSeats(app)} free`,
          'Refused rows (10)',
          'Ready rows (the first 5 of 190)',
          '○ Row 2 · Queue 0 · cq-bulk-0@contoso.com · Call queue · US · Unlicensed',
        ]),
      );
      const refusedShown = shown.filter((t) => t.startsWith('✗ Row'));
      expect(refusedShown).toEqual([
        `✗ Row ${refusedLines[0]} · aa-elsewhere@fabrikam.com: fabrikam.com is not a verified domain of this tenant. Pick one of the verified domains.`,
        `✗ Row ${refusedLines[1]} · aa-receptionist@contoso.com: Choose Auto attendant or Call queue.`,
        `✗ Row ${refusedLines[2]} · cq-twin@contoso.com: cq-twin@contoso.com is on more than one row of this file (rows ${refusedLines[2]}, ${refusedLines[3]}): keep one row per account.`,
        `✗ Row ${refusedLines[3]} · CQ-TWIN@contoso.com: CQ-TWIN@contoso.com is on more than one row of this file (rows ${refusedLines[2]}, ${refusedLines[3]}): keep one row per account.`,
        `✗ Row ${refusedLines[4]} · aa-full@contoso.com: A new resource account takes the free Teams Phone Resource Account license: Microsoft says not to assign Teams Phone Standard (Phone System) to resource accounts.`,
        `✗ Row ${refusedLines[5]} · aa-main@contoso.com: aa-main@contoso.com is already used by another account in this tenant.`,
        `✗ Row ${refusedLines[6]} · aa-nowhere@contoso.com: "XX" is not a country. Choose the usage location from the list (ISO 3166 two-letter code).`,
        `✗ Row ${refusedLines[7]} · Sales, EMEA,cq-emea,contoso.com,callQueue,US,none,,: This row has 9 cells but the header has 8: a comma inside a value needs the whole value in double quotes.`,
        `✗ Row ${refusedLines[8]} · aa-same-a@contoso.com: ${DEMO.numbers.usPool[10]} is on more than one row of this file (rows ${refusedLines[8]}, ${refusedLines[9]}): a number goes on one account only.`,
        `✗ Row ${refusedLines[9]} · aa-same-b@contoso.com: ${DEMO.numbers.usPool[10]} is on more than one row of this file (rows ${refusedLines[8]}, ${refusedLines[9]}): a number goes on one account only.`,
      ]);
      expect(buttons(preview)).toEqual(['[Confirm import]', '[Download rows not imported]', '[Cancel]']);
      // Nothing was created by the preview; the card carries the plan id only.
      expect(await app.directory.findAccountByUpn('cq-bulk-0@contoso.com')).toBeNull();
      const planId = idOn(preview, 'planId');
      expect(JSON.stringify(preview)).not.toContain('cq-bulk-42');

      // An update takes a while on the wire, as it does in Teams: rows move while it is out.
      sut.adapter.updateDelayMs = 150;
      const started = Date.now();
      const running = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'import-card' }));
      expect(texts(running)[1]).toMatch(/^Working: \d+ of 190 rows done, 0 failed\. This card updates by itself\.$/);
      await until(async () => (await app.plans.get(planId))!.status === 'done', 30_000, 'the batch to finish');
      const elapsed = Date.now() - started;
      await sut.settled();
      await until(() => texts(lastUpdate(sut, 'import-card') ?? {})[1] === 'Done: 190 of 190 accounts created.', 8_000, 'the card to say done');
      const done = lastUpdate(sut, 'import-card')!;
      expect(texts(done)).toEqual(expect.arrayContaining(['Rows done: 190 / 190', 'Refused rows (10)']));
      expect(buttons(done)).toEqual(['[Download rows not imported]']);

      // Every ready row exists once; no refused row does; at most 4 rows were created at once.
      for (const upn of ready) expect(await app.directory.findAccountByUpn(upn)).not.toBeNull();
      for (const upn of ['aa-elsewhere@fabrikam.com', 'cq-twin@contoso.com', 'aa-full@contoso.com', 'aa-same-a@contoso.com']) expect(await app.directory.findAccountByUpn(upn)).toBeNull();
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(4);
      const words = (await app.directory.findAccountByUpn('cq-words-3@contoso.com'))!;
      expect(words).toMatchObject({ accountType: 'callQueue', usageLocation: 'FR', assignedLicenses: [] });
      const numbered = (await app.directory.findAccountByUpn('aa-bulk-1@contoso.com'))!;
      expect(numbered.phoneNumber).toBe(DEMO.numbers.usPool[1]);
      const created = (await app.audit.readAll()).filter((e) => e.action === 'account.create' && e.outcome === 'succeeded');
      expect(created).toHaveLength(190);
      expect(new Set(created.map((e) => e.target)).size).toBe(190);
      // The card moved in place while the rows ran, coalesced: about one update every 2 s
      // (BATCH_REFRESH_DELAY_MS) plus the first and the last — not one per row (190).
      const ours = sut.adapter.updates.flatMap((u, i) => (u.id === 'import-card' ? [{ at: sut.adapter.updateTimes[i]!, text: texts((u.attachments![0] as { content: Card }).content)[1] }] : []));
      const updates = ours.map((u) => u.text);
      expect(updates.length).toBeGreaterThanOrEqual(2);
      expect(updates.length).toBeLessThanOrEqual(2 * Math.ceil(elapsed / 2_000) + 1);
      // Never back to back while the rows run (Teams allows 7 sends a second per thread): after the
      // card's first update, which shows the batch starting, each progress update comes at least
      // BATCH_REFRESH_DELAY_MS after the last one went out — even though rows moved while it was on the wire.
      const progress = ours.filter((u) => u.text!.startsWith('Working'));
      const gaps = progress.slice(2).map((u, i) => u.at - progress[i + 1]!.at);
      expect(gaps.filter((gap) => gap < 1_950)).toEqual([]);
      expect(updates[0]).toMatch(/^Working: \d+ of 190 rows done, 0 failed\. This card updates by itself\.$/);
      expect(updates.at(-1)).toBe('Done: 190 of 190 accounts created.');
    }, 60_000);

    /** Nine rows; the first holds its slot until `release`, the others take 1 s each. */
    async function lateBatch(): Promise<{ planId: string; release: () => void }> {
      const rows = Array.from({ length: 9 }, (_, i) => [`Late ${i}`, `cq-late-${i}`, 'contoso.com', 'callQueue', 'US', 'none', '', '']);
      const createAccount = app.directory.createAccount.bind(app.directory);
      let release!: () => void;
      const lastRow = new Promise<void>((r) => (release = r));
      jest.spyOn(app.directory, 'createAccount').mockImplementation(async (input) => {
        if (input.userPrincipalName.startsWith('cq-late-0@')) await lastRow;
        else await new Promise((r) => setTimeout(r, 1_000));
        return createAccount(input);
      });
      const preview = bodyOf(await sut.invoke({ ...execute('previewImport', { csv: csv(rows) }), replyToId: 'import-card' }));
      return { planId: idOn(preview, 'planId'), release };
    }

    /** Confirms, waits for a progress update to be on the wire (3 s), ends the batch meanwhile; when that update started. */
    async function endWhileOnTheWire(planId: string, release: () => void): Promise<number> {
      sut.adapter.updateDelayMs = 3_000;
      await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'import-card' });
      await until(() => sut.adapter.updates.some((u) => u.id === 'import-card'), 15_000, 'a progress update to go out');
      const onTheWire = sut.adapter.updateTimes[sut.adapter.updates.findIndex((u) => u.id === 'import-card')]!;
      release();
      await until(async () => (await app.plans.get(planId))!.status === 'done', 10_000, 'the batch to finish');
      expect(Date.now()).toBeLessThan(onTheWire + 3_000);
      sut.adapter.updateDelayMs = 0;
      return onTheWire;
    }

    it('says Done soon after the last row, even when the batch ends while a spaced update is on the wire', async () => {
      const { planId, release } = await lateBatch();
      const onTheWire = await endWhileOnTheWire(planId, release);
      await until(() => texts(lastUpdate(sut, 'import-card') ?? {})[1] === 'Done: 9 of 9 accounts created.', 10_000, 'the card to say done');
      // The batch's own status is not spaced from the update that was out: it follows it at once.
      const doneAt = sut.adapter.updateTimes[sut.adapter.updates.length - 1]!;
      expect(doneAt - (onTheWire + 3_000)).toBeLessThan(1_000);
    }, 40_000);

    it('keeps what was folded into a card update that then failed: Done goes at the retry, not spaced', async () => {
      const { planId, release } = await lateBatch();
      sut.adapter.failNextUpdates = 1;
      const onTheWire = await endWhileOnTheWire(planId, release);
      await until(async () => (await app.workflow.outboxOf(planId)).some((m) => m.attempts === 1), 8_000, 'the failed update to be recorded');
      const [retry] = (await app.workflow.outboxOf(planId)).filter((m) => m.kind === 'refreshCopies');
      expect(retry).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('503') });
      expect(retry!.spacingMs).toBeUndefined();
      await until(() => texts(lastUpdate(sut, 'import-card') ?? {})[1] === 'Done: 9 of 9 accounts created.', 10_000, 'the card to say done');
      // One retry after the failure's back-off (1 s).
      const doneAt = sut.adapter.updateTimes[sut.adapter.updates.length - 1]!;
      expect(doneAt - (onTheWire + 3_000)).toBeLessThan(2_000);
    }, 40_000);

    it('refuses the licensed rows past the free seats, saying which and why; the others are ready', async () => {
      const free = await freeResourceAccountSeats(app);
      const rows = Array.from({ length: free + 5 }, (_, i) => [`Line ${i}`, `aa-seat-${i}`, 'contoso.com', 'autoAttendant', 'US', 'resourceAccount', '', '']);
      const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) })));
      expect(texts(preview)[1]).toBe(`${free} of ${free + 5} rows are ready, 5 refused. Nothing has changed yet: confirm to create the ${free} accounts.`);
      const refused = texts(preview).filter((t) => t.startsWith('✗ Row'));
      expect(refused).toEqual(
        Array.from(
          { length: 5 },
          (_, i) =>
            `✗ Row ${free + 2 + i} · aa-seat-${free + i}@contoso.com: No Teams Phone Resource Account (PHONESYSTEM_VIRTUALUSER) license left for this row: ${free} are free and the rows above take them all (${free + 5} rows of this file need one). Get more under Billing › Purchase services, or import this row later.`,
        ),
      );
      expect(texts(preview)).toContain(`Teams Phone Resource Account licenses: ${free} needed, ${free} free`);
    });

    it('a row that runs out of seats at run time fails alone; Retry failed rows finishes it once seats are back, without creating anything twice', async () => {
      const rows = Array.from({ length: 6 }, (_, i) => [`Seat ${i}`, `aa-late-${i}`, 'contoso.com', 'autoAttendant', 'US', 'resourceAccount', '', '']);
      const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) })));
      const planId = idOn(preview, 'planId');
      // Someone else takes seats between the preview and the run: the tenant refuses the last rows' licenses.
      const assign = app.directory.assignLicense.bind(app.directory);
      let refusing = true;
      const spy = jest.spyOn(app.directory, 'assignLicense').mockImplementation(async (id, change) => {
        const account = await app.directory.getAccount(id);
        if (refusing && /aa-late-[45]@/.test(account!.userPrincipalName)) {
          throw new DirectoryRefusal('LICENSE_NO_FREE_SEAT', { sku: 'PHONESYSTEM_VIRTUALUSER', enabled: 25, free: 0 }, 'license');
        }
        return assign(id, change);
      });
      const answer = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'late-card' }));
      await until(async () => (await app.plans.get(planId))!.status === 'failed', 10_000, 'the batch to stop');
      await sut.settled();
      // The click's answer, or the update that followed it when the rows took longer than the click.
      const failed = lastUpdate(sut, 'late-card') ?? answer;
      expect(texts(failed)[1]).toBe('4 of 6 rows done; 2 failed (below). Retry failed rows tries those again; accounts already created are not created twice.');
      expect(texts(failed)).toEqual(
        expect.arrayContaining([
          'Failed rows (2)',
          '✗ Row 6 · aa-late-4@contoso.com: No free Teams Phone Resource Account (PHONESYSTEM_VIRTUALUSER) license: 0 of 25 left. Get more in the Microsoft 365 admin center under Billing › Purchase services (Resource Account licenses cost nothing but must be acquired).',
        ]),
      );
      expect(buttons(failed)).toEqual(['[Retry failed rows]', '[Download rows not imported]', '[Cancel]']);
      // The failed rows' accounts exist (created before the license step): the retry finds them.
      expect(await app.directory.findAccountByUpn('aa-late-4@contoso.com')).not.toBeNull();

      refusing = false;
      const retried = bodyOf(await sut.invoke({ ...execute('retryPlan', { planId }), replyToId: 'late-card' }));
      expect(texts(retried)[1]).toMatch(/^(Working|Done)/);
      await until(async () => (await app.plans.get(planId))!.status === 'done', 10_000, 'the retried batch');
      expect(spy).toHaveBeenCalled();
      const created = (await app.audit.readAll()).filter((e) => e.action === 'account.create' && e.outcome === 'succeeded');
      expect(created.map((e) => e.target).sort()).toEqual(rows.map((r) => `${r[1]}@contoso.com`).sort());
      const licensed = (await app.directory.findAccountByUpn('aa-late-5@contoso.com'))!;
      expect(licensed.assignedLicenses).toEqual([DEMO.skus.resourceAccount.skuId]);
    });

    it('backs off and runs fewer rows at once when the tenant throttles beyond its own retries, and Retry failed rows finishes', async () => {
      const rows = Array.from({ length: 12 }, (_, i) => [`Busy ${i}`, `cq-busy-${i}`, 'contoso.com', 'callQueue', 'US', 'none', '', '']);
      const create = app.directory.createAccount.bind(app.directory);
      let throttled = 0;
      jest.spyOn(app.directory, 'createAccount').mockImplementation(async (input) => {
        if (input.userPrincipalName.startsWith('cq-busy-1@') || input.userPrincipalName.startsWith('cq-busy-2@')) {
          throttled += 1;
          throw Object.assign(new Error('Too Many Requests'), { statusCode: 429 });
        }
        return create(input);
      });
      const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) })));
      const planId = idOn(preview, 'planId');
      await sut.invoke(execute('confirmPlan', { planId }));
      await until(async () => (await app.plans.get(planId))!.status === 'failed', 10_000, 'the batch to stop');
      const card = bodyOf(await sut.invoke(execute('refreshPlan', { planId })));
      expect(texts(card)).toEqual(expect.arrayContaining(['✗ Row 3 · cq-busy-1@contoso.com: The tenant could not be reached for cq-busy-1@contoso.com (HTTP 429).']));
      expect(throttled).toBe(2);
      jest.restoreAllMocks();
      await sut.invoke(execute('retryPlan', { planId }));
      await until(async () => (await app.plans.get(planId))!.status === 'done', 10_000, 'the retried batch');
      for (const row of rows) expect(await app.directory.findAccountByUpn(`${row[1]}@contoso.com`)).not.toBeNull();
    });

    it('states its limits and refuses what is over them with the reason, keeping the pasted text', async () => {
      const tooMany = csv(Array.from({ length: 501 }, (_, i) => [`Q${i}`, `q${i}`, 'contoso.com', 'callQueue', 'US', 'none', '', '']));
      const refused = bodyOf(await sut.invoke(execute('previewImport', { csv: tooMany })));
      expect(texts(refused)[2]).toBe('Nothing was imported: the CSV has more than 500 rows. Import at most 500 at a time: split it. Your text was too long to show again here: paste it again once fixed.');
      const long = bodyOf(await sut.invoke(execute('previewImport', { csv: `${HEADER}\n${'x'.repeat(60_001)}` })));
      expect(texts(long)[2]).toMatch(/^Nothing was imported: the pasted text has 60\d{3} characters and at most 60000 can be pasted\./);
      const header = bodyOf(await sut.invoke(execute('previewImport', { csv: 'name,username\nA,b' })));
      expect(texts(header)[2]).toBe('Nothing was imported: the header line lacks these columns: type, usageLocation, license. The template shows the expected header.');
      expect(findInput(header, 'csv')).toMatchObject({ value: 'name,username\nA,b' });
      const quote = bodyOf(await sut.invoke(execute('previewImport', { csv: `${HEADER}\n"Open,aa-x,contoso.com,autoAttendant,US,none,,` })));
      expect(texts(quote)[2]).toBe('Nothing was imported: a quoted cell that starts on line 2 never ends (a closing " is missing).');
      expect(await app.plans.counts()).toEqual({});
    });

    it('cancels a preview: nothing is created', async () => {
      const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv([['A', 'aa-cancel', 'contoso.com', 'autoAttendant', 'US', 'none', '', '']]) })));
      const cancelled = bodyOf(await sut.invoke(execute('cancelPlan', { planId: idOn(preview, 'planId') })));
      expect(texts(cancelled)[1]).toBe('Cancelled. Nothing more was changed.');
      expect(await app.directory.findAccountByUpn('aa-cancel@contoso.com')).toBeNull();
    });
  });

  it('asks one approval for the whole batch when the policy names adding accounts, and runs every row once approved', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'addAccount' });
    sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
    const rows = Array.from({ length: 30 }, (_, i) => [`Approved ${i}`, `cq-ok-${i}`, 'contoso.com', 'callQueue', 'US', 'none', '', '']);
    const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) })));
    const planId = idOn(preview, 'planId');
    const pending = bodyOf(await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'batch-card' }));
    expect(texts(pending)[1]).toMatch(/^Waiting for an approver\./);
    expect(await app.directory.findAccountByUpn('cq-ok-0@contoso.com')).toBeNull();
    await sut.settled();
    // One approval card, for the batch as a whole, saying what approving it does.
    const approvalCards = sut.adapter.later.filter((a) => a.conversation?.id === `a:personal-${APPROVER.id}`);
    expect(approvalCards).toHaveLength(1);
    const approval = (approvalCards[0]!.attachments![0] as { content: Card }).content;
    expect(texts(approval)).toEqual(expect.arrayContaining([expect.stringMatching(/^Approval needed: Import resource accounts \(import-[0-9a-f]{8}\)$/), '1. Create 30 resource accounts (0 auto attendant, 30 call queue)']));
    const approved = bodyOf(await sut.invoke(execute('approveRequest', { requestId: idOn(approval, 'requestId') }, { from: APPROVER })));
    expect(texts(approved)[1]).toMatch(/^Approved by Bob Approver/);
    await until(async () => (await app.plans.get(planId))!.status === 'done', 15_000, 'the approved batch');
    // The rows ran without asking again, each as an add of its own under the batch.
    const child = (await app.plans.get(batchChildId(planId, 0))) as Plan;
    expect(child).toMatchObject({ kind: 'addAccount', status: 'done', parentId: planId, needsApproval: false });
    expect((await app.approvals.get(planId))!.status).toBe('done');
    expect((await app.workflow.requests()).length).toBe(1);
    for (const row of rows) expect(await app.directory.findAccountByUpn(`${row[1]}@contoso.com`)).not.toBeNull();
  });

  it('asks an approval when the policy names assigning numbers only if some row gets a number', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_APPROVAL_OPERATIONS: 'assignNumber' });
    sut = new Conversation(app);
    await sut.send(message('help', { from: APPROVER }));
    const plain = bodyOf(await sut.invoke(execute('previewImport', { csv: csv([['No number', 'cq-plain', 'contoso.com', 'callQueue', 'US', 'none', '', '']]) })));
    const ran = bodyOf(await sut.invoke(execute('confirmPlan', { planId: idOn(plain, 'planId') })));
    expect(texts(ran)[1]).toMatch(/^(Working|Done)/);
    const numbered = bodyOf(await sut.invoke(execute('previewImport', { csv: csv([['Numbered', 'aa-numbered', 'contoso.com', 'autoAttendant', 'US', 'resourceAccount', 'callingPlan', DEMO.numbers.usPool[20]!]]) })));
    const waits = bodyOf(await sut.invoke(execute('confirmPlan', { planId: idOn(numbered, 'planId') })));
    expect(texts(waits)[1]).toMatch(/^Waiting for an approver\./);
    expect(await app.directory.findAccountByUpn('aa-numbered@contoso.com')).toBeNull();
  });

  it('waits while rows wait for license provisioning, then finishes by itself when they do', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_SIM_LICENSE_DELAY_MS: '400' });
    sut = new Conversation(app);
    const rows = [0, 1, 2].map((i) => [`Numbered ${i}`, `aa-wait-${i}`, 'contoso.com', 'autoAttendant', 'US', 'resourceAccount', 'callingPlan', DEMO.numbers.usPool[30 + i]!]);
    const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) })));
    const planId = idOn(preview, 'planId');
    await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'wait-card' });
    await until(async () => (await app.plans.get(planId))!.status === 'waiting', 5_000, 'the batch to wait');
    // The batch waits as soon as one row waits; the others reach the license wait a moment later.
    let line = '';
    await until(async () => {
      line = texts(bodyOf(await sut.invoke(execute('refreshPlan', { planId }))))[1] ?? '';
      return line.includes('3 wait');
    }, 5_000, 'all three rows to wait');
    expect(line).toBe('0 of 3 rows done; 3 wait for the tenant (license provisioning). I carry on by myself.');
    await until(async () => (await app.plans.get(planId))!.status === 'done', 10_000, 'the batch to finish by itself');
    for (const [i, row] of rows.entries()) expect((await app.directory.findAccountByUpn(`${row[1]}@contoso.com`))!.phoneNumber).toBe(DEMO.numbers.usPool[30 + i]);
    await sut.settled();
    await until(() => texts(lastUpdate(sut, 'wait-card') ?? {})[1] === 'Done: 3 of 3 accounts created.', 8_000, 'the card to say done');
  });

  it('resumes after a restart mid-batch: rows done stay done, the others finish, nothing is created twice', async () => {
    const env = { SWITCHBOARD_PLAN_POLL_MS: '10', SWITCHBOARD_IMPORT_CONCURRENCY: '2' };
    const slow = (directory: TenantDirectory): TenantDirectory => {
      const create = directory.createAccount.bind(directory);
      directory.createAccount = async (input) => {
        // Longer than a click waits for its plan (about 2 s, PlanRunner.settle): the batch is still
        // running when the Confirm click is answered, and the restart below comes mid-batch.
        await new Promise((r) => setTimeout(r, 150));
        return create(input);
      };
      return directory;
    };
    app = await testApp(dir.dir, env, { wrapDirectory: slow });
    sut = new Conversation(app);
    const rows = Array.from({ length: 60 }, (_, i) => [`Restart ${i}`, `cq-restart-${i}`, 'contoso.com', 'callQueue', 'US', 'none', '', '']);
    const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) })));
    const planId = idOn(preview, 'planId');
    await sut.invoke({ ...execute('confirmPlan', { planId }), replyToId: 'restart-card' });
    await until(async () => (await app.plans.batchProgress((await app.plans.get(planId))!)).done >= 10, 10_000, 'some rows to be done');
    await app.close();

    // The files as the first process left them: the batch still running, some rows done, some not started.
    const reopened = await testApp(dir.dir, env, { wrapDirectory: slow });
    app = reopened;
    sut = new Conversation(app);
    const before = await app.plans.batchProgress((await app.plans.get(planId))!);
    expect(before.done).toBeGreaterThanOrEqual(10);
    expect(before.done).toBeLessThan(60);
    await until(async () => (await app.plans.get(planId))!.status === 'done', 20_000, 'the resumed batch');
    const after = await app.plans.batchProgress((await app.plans.get(planId))!);
    expect(after).toMatchObject({ count: 60, done: 60, failed: 0 });
    const created = (await app.audit.readAll()).filter((e) => e.action === 'account.create' && e.outcome === 'succeeded');
    expect(created.map((e) => e.target).sort()).toEqual(rows.map((r) => `${r[1]}@contoso.com`).sort());
    expect((await app.audit.readAll()).filter((e) => e.outcome === 'failed')).toEqual([]);
    // The card is still the batch's: refreshing it shows the end.
    const card = bodyOf(await sut.invoke(execute('refreshPlan', { planId })));
    expect(texts(card)[1]).toBe('Done: 60 of 60 accounts created.');
  }, 60_000);

  it('speaks French', async () => {
    app = await testApp(dir.dir, { SWITCHBOARD_PLAN_POLL_MS: '10' });
    sut = new Conversation(app);
    const fr = { locale: 'fr-FR' };
    const form = await sut.card(message('import', fr));
    expect(texts(form).slice(0, 1)).toEqual(['Importer des comptes de ressources']);
    const rows = [
      ['Accueil', 'aa-accueil', 'contoso.com', 'Standard automatique', 'FR', 'aucune', '', ''],
      ['Accueil bis', 'aa-accueil', 'contoso.com', 'autoAttendant', 'FR', 'none', '', ''],
      ['Support', 'cq-support-bis', 'contoso.com', 'callQueue', 'FR', 'none', '', ''],
    ];
    const preview = bodyOf(await sut.invoke(execute('previewImport', { csv: csv(rows) }, fr)));
    expect(texts(preview)[1]).toBe('1 lignes sur 3 sont prêtes, 2 refusées. Rien n’a encore changé\u00a0: confirmez pour créer les 1 comptes.');
    expect(texts(preview)).toContain('✗ Ligne 2 · aa-accueil@contoso.com\u00a0: aa-accueil@contoso.com figure sur plusieurs lignes de ce fichier (lignes 2, 3)\u00a0: gardez une seule ligne par compte.');
    expect(buttons(preview)).toEqual(['[Confirmer l’import]', '[Télécharger les lignes non importées]', '[Annuler]']);
  });
});
