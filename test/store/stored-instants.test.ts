import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { CardCopySchema, OutboxMessageSchema, type OutboxMessage } from '../../src/approvals/copies';
import { pendingMessage } from '../../src/approvals/outbox';
import { ChangeRequestSchema } from '../../src/approvals/requests';
import { StoredOperationSchema, StoredAccountSchema } from '../../src/backends/simulated/state';
import { PlanSchema } from '../../src/provisioning/plans';
import { AuditLog } from '../../src/store/audit';
import { ChannelSchema, ContactSchema } from '../../src/store/conversations';
import { canonicalInstant } from '../../src/store/instant';
import { LowdbWorkflowStore } from '../../src/store/lowdbWorkflow';
import { createLogger } from '../../src/log/logger';
import { PgAuditLog } from '../../src/store/pg/audit';
import { Database } from '../../src/store/pg/database';
import { migrate } from '../../src/store/pg/migrations';
import { PgWorkflowStore } from '../../src/store/pg/workflow';
import type { QuarantinedRecord } from '../../src/store/quarantine';
import { tempDir } from '../helpers/app';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/**
 * Stored instants are compared and sorted as text (the next outbox message due, a request past its
 * expiry, a plan past retention). That orders them only in the one form code writes; a record edited
 * by hand or written by another tool must not be run early, late or never because its instant is
 * spelt another way (src/store/instant.ts).
 */
const at = '2026-11-30T20:00:00.000Z';
const actor = { aadObjectId: '00000000-0000-4000-8000-0000000000a1', name: 'Ada' };
const conversation = { conversation: { id: 'a:chat' }, serviceUrl: 'https://smba.trafficmanager.net/emea/', channelId: 'msteams', bot: { id: '28:bot' } };

const plan = {
  id: 'p1',
  kind: 'deleteAccount',
  version: 1,
  status: 'waiting',
  account: { id: 'a1', userPrincipalName: 'aa@contoso.com', displayName: 'AA' },
  requestedBy: actor,
  createdAt: at,
  updatedAt: at,
  steps: [{ step: { kind: 'deleteAccount' }, state: { status: 'pending', startedAt: at, finishedAt: at } }],
  held: { reason: 'ACCOUNT_NOT_FOUND', params: {}, at },
  nextRunAt: at,
  lease: { owner: 'instance-1', until: at },
};

const request = {
  id: 'p1',
  kind: 'deleteAccount',
  account: plan.account,
  requestedBy: actor,
  proposedBy: actor,
  status: 'approved',
  version: 1,
  createdAt: at,
  expiresAt: at,
  decision: { ...actor, at },
};
const copy = { id: 'c1', planId: 'p1', view: 'plan', audience: 'requester', aadObjectId: null, name: 'Ada', conversation, activityId: 'm1', locale: 'en', shownVersion: 1, quietUntil: at, createdAt: at };
const operation = { id: 'o1', kind: 'assign', status: 'running', telephoneNumber: '+14255550100', numberType: 'callingPlan', targetId: 'a1', createdAt: at, dueAt: at };

// Every stored instant, by the record that holds it: [schema, record, path to the instant].
const cases: [string, z.ZodType, Record<string, unknown>, (string | number)[]][] = [
  ['outbox message: nextAttemptAt', OutboxMessageSchema, pendingMessage({ planId: 'p1', kind: 'refreshCopies' }, at, at), ['nextAttemptAt']],
  ['outbox message: createdAt', OutboxMessageSchema, pendingMessage({ planId: 'p1', kind: 'refreshCopies' }, at, at), ['createdAt']],
  ['outbox message: updatedAt', OutboxMessageSchema, pendingMessage({ planId: 'p1', kind: 'refreshCopies' }, at, at), ['updatedAt']],
  ['plan: createdAt', PlanSchema, plan, ['createdAt']],
  ['plan: updatedAt', PlanSchema, plan, ['updatedAt']],
  ['plan: nextRunAt', PlanSchema, plan, ['nextRunAt']],
  ['plan: lease.until', PlanSchema, plan, ['lease', 'until']],
  ['plan: held.at', PlanSchema, plan, ['held', 'at']],
  ['plan: a step startedAt', PlanSchema, plan, ['steps', 0, 'state', 'startedAt']],
  ['plan: a step finishedAt', PlanSchema, plan, ['steps', 0, 'state', 'finishedAt']],
  [
    'change request: createdAt',
    ChangeRequestSchema,
    request,
    ['createdAt'],
  ],
  [
    'change request: expiresAt',
    ChangeRequestSchema,
    request,
    ['expiresAt'],
  ],
  [
    'change request: decision.at',
    ChangeRequestSchema,
    request,
    ['decision', 'at'],
  ],
  ['card copy: createdAt', CardCopySchema, copy, ['createdAt']],
  ['card copy: quietUntil', CardCopySchema, copy, ['quietUntil']],
  ['contact: updatedAt', ContactSchema, { aadObjectId: actor.aadObjectId, userId: '29:u', name: 'Ada', conversation, locale: 'en', updatedAt: at }, ['updatedAt']],
  ['channel: updatedAt', ChannelSchema, { conversation, updatedAt: at }, ['updatedAt']],
  [
    'simulated number operation: dueAt',
    StoredOperationSchema,
    operation,
    ['dueAt'],
  ],
  [
    'simulated number operation: createdAt',
    StoredOperationSchema,
    operation,
    ['createdAt'],
  ],
  [
    'simulated account: licensedAt',
    StoredAccountSchema,
    {
      id: 'a1',
      userPrincipalName: 'aa@contoso.com',
      displayName: 'AA',
      accountType: 'autoAttendant',
      accountEnabled: true,
      usageLocation: 'US',
      assignedLicenses: [],
      phoneNumber: null,
      associations: [],
      createdAt: at,
      licensedAt: at,
    },
    ['licensedAt'],
  ],
];

function withValue(record: Record<string, unknown>, at: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(record);
  let node: Record<string | number, unknown> = copy;
  for (const step of at.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  node[at[at.length - 1]!] = value;
  return copy;
}

function valueAt(record: unknown, at: (string | number)[]): unknown {
  return at.reduce<unknown>((node, step) => (node as Record<string | number, unknown>)[step], record);
}

describe('every stored instant is read in the one form the stores compare', () => {
  it.each(cases)('%s: the record as code writes it parses unchanged', (_name, schema, record) => {
    expect(schema.parse(record)).toMatchObject(record);
  });

  const spellings: [string, string][] = [
    ['an offset', '2026-11-30T21:00:00+01:00'],
    ['a negative offset', '2026-11-30T15:00:00.000-05:00'],
    ['an offset of hours only', '2026-11-30T21:00:00+01'],
    ['an offset without its colon', '2026-11-30T21:00:00+0100'],
    ['no milliseconds', '2026-11-30T20:00:00Z'],
    ['no seconds', '2026-11-30T20:00Z'],
    ['microseconds', '2026-11-30T20:00:00.000000Z'],
    ['a decimal comma', '2026-11-30T20:00:00,0Z'],
    ['a space for the T', '2026-11-30 20:00:00Z'],
    ['lower-case t and z', '2026-11-30t20:00:00.000z'],
    ['a space before the offset', '2026-11-30 21:00:00 +01:00'],
  ];
  it.each(cases.flatMap(([name, schema, record, where]) => spellings.map(([how, value]) => [name, how, schema, record, where, value] as const)))(
    '%s: the same instant with %s reads back as toISOString() writes it',
    (_name, _how, schema, record, where, value) => {
      expect(valueAt(schema.parse(withValue(record, where, value)), where)).toBe(at);
    },
  );

  const notInstants = [
    'soon',
    '',
    '1764532800000',
    '2026-11-30',
    '30/11/2026 20:00',
    // No zone: a time of day somewhere, not an instant.
    '2026-11-30T20:00:00',
    // Days the month does not have (Date.parse takes 2026-02-30 for 2 March).
    '2026-02-30T00:00:00.000Z',
    '2026-11-31T00:00:00Z',
    '2026-11-30T24:00:00Z',
    '2026-11-30T20:00:00+24:00',
    // Outside the years toISOString() writes in four digits: as text they would sort before any other.
    '9999-12-31T23:30:00-01:00',
    '0000-01-01T00:30:00+01:00',
  ];
  it.each(cases.flatMap(([name, schema, record, where]) => notInstants.map((value) => [name, JSON.stringify(value), schema, record, where, value] as const)))(
    '%s: %s names no instant, so the record does not parse, naming that field',
    (_name, _shown, schema, record, where, value) => {
      const parsed = schema.safeParse(withValue(record, where, value));
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([where.join('.')]);
    },
  );
});

describe('canonicalInstant', () => {
  it.each([
    ['2026-11-30T20:00:00.000Z', '2026-11-30T20:00:00.000Z'],
    // RFC 3339 §5.7: a leap second is the minute's last millisecond, so it stays in order.
    ['2016-12-31T23:59:60Z', '2016-12-31T23:59:59.999Z'],
    ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['2000-02-29T00:00:00+01:00', '2000-02-28T23:00:00.000Z'],
    // Not read as 1950 (Date.UTC reads the years 0–99 as 1900–1999).
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000Z'],
    ['2026-11-30T20:00:00+14:00', '2026-11-30T06:00:00.000Z'],
    ['2026-11-30T20:00:00-12:00', '2026-12-01T08:00:00.000Z'],
    ['2026-11-30T20:00:00+05:45', '2026-11-30T14:15:00.000Z'],
    ['2026-11-30T20:00:00-00:00', '2026-11-30T20:00:00.000Z'],
  ])('%s is %s', (text, canonical) => {
    expect(canonicalInstant(text)).toBe(canonical);
  });

  it.each(['2100-02-29T00:00:00Z', '2026-00-10T00:00:00Z', '2026-13-10T00:00:00Z', '2026-11-00T00:00:00Z', '2026-11-30T20:60:00Z', '2026-11-30T20:00:61Z', '2026-11-30T20:00:00+01:60', ' 2026-11-30T20:00:00Z', '2026-11-30T20:00:00Z\n'])(
    '%j names no instant',
    (text) => {
      expect(canonicalInstant(text)).toBeUndefined();
    },
  );

  it('reads random spellings as an independent reckoning of their instant does (seeded)', () => {
    // mulberry32: 32-bit integer steps, so the sequence never loses precision.
    let state = 2026_11_30;
    const random = (n: number) => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    const pick = <T,>(values: readonly T[]): T => values[random(values.length)]!;
    const outcomes = { read: 0, refused: 0 };
    for (let i = 0; i < 20_000; i += 1) {
      const [year, month, day] = [1970 + random(130), 1 + random(12), 1 + random(31)];
      const [hour, minute, second] = [random(24), random(60), random(60)];
      const withSeconds = random(8) > 0 || second === 0;
      const fraction = withSeconds ? String(random(10 ** 6)).padStart(6, '0').slice(0, random(7)) : '';
      const offset = random(3) === 0 ? 0 : (random(2) ? 1 : -1) * (random(24) * 60 + pick([0, 0, 30, 45, random(60)]));
      const zone =
        offset === 0 && random(2)
          ? pick(['Z', 'z'])
          : `${pick(['', ' '])}${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}${Math.abs(offset) % 60 === 0 ? pick(['', ':00', '00']) : pick([':', '']) + pad(Math.abs(offset) % 60)}`;
      const text = `${year}-${pad(month)}-${pad(day)}${pick(['T', 't', ' '])}${pad(hour)}:${pad(minute)}${withSeconds ? `:${pad(second)}${fraction ? pick(['.', ',']) + fraction : ''}` : ''}${zone}`;
      const lastDay = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
      const millis = Number(`${fraction}000`.slice(0, 3));
      const expected = day > lastDay ? undefined : new Date(Date.UTC(year, month - 1, day, hour, minute, withSeconds ? second : 0, millis) - offset * 60_000).toISOString();
      expect([text, canonicalInstant(text)]).toEqual([text, expected]);
      outcomes[expected === undefined ? 'refused' : 'read'] += 1;
    }
    // Both ways out were taken, each often (about 1 day in 60 does not exist).
    expect(outcomes.read).toBeGreaterThan(19_000);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});

describe('the lowdb workflow store runs a hand-edited outbox message when it is due', () => {
  it('finds a message due whose instant has an offset, in due order, and quarantines one whose instant is no instant', async () => {
    const dir = await tempDir();
    const file = path.join(dir.dir, 'workflow.json');
    const audit = new AuditLog(path.join(dir.dir, 'audit.jsonl'));
    try {
      const first = pendingMessage({ planId: 'p1', kind: 'refreshCopies' }, '2026-11-30T20:30:00.000Z', at);
      const second = pendingMessage({ planId: 'p2', kind: 'refreshCopies' }, '2026-11-30T20:30:00.000Z', at);
      const third = pendingMessage({ planId: 'p3', kind: 'refreshCopies' }, '2026-11-30T20:30:00.000Z', at);
      const store = await LowdbWorkflowStore.open(file, { audit });
      await store.transact((tx) => {
        for (const m of [first, second, third]) tx.putOutbox(m);
      });
      await store.close();
      // What an operator's edit leaves: the first message due at 20:00 UTC, written in Paris time, which
      // as text sorts after 20:30 UTC and after every "now" before 21:00 UTC.
      const doc = JSON.parse(await readFile(file, 'utf8')) as { outbox: Record<string, OutboxMessage> };
      expect(Object.keys(doc.outbox).sort()).toEqual([first.id, second.id, third.id].sort());
      doc.outbox[first.id] = { ...first, nextAttemptAt: '2026-11-30T21:00:00+01:00' };
      doc.outbox[third.id] = { ...third, nextAttemptAt: 'after lunch' };
      await writeFile(file, JSON.stringify(doc));

      const quarantined: QuarantinedRecord[] = [];
      const reopened = await LowdbWorkflowStore.open(file, { audit, onQuarantine: (q) => quarantined.push(q) });
      try {
        expect((await reopened.dueOutbox(new Date('2026-11-30T20:10:00.000Z'), 10)).map((m) => [m.id, m.nextAttemptAt])).toEqual([[first.id, at]]);
        expect((await reopened.dueOutbox(new Date('2026-11-30T20:45:00.000Z'), 10)).map((m) => m.id)).toEqual([first.id, second.id]);
        expect(quarantined).toEqual([expect.objectContaining({ collection: 'outbox', key: third.id, problems: expect.stringContaining('nextAttemptAt') })]);
      } finally {
        await reopened.close();
      }
      expect((await readdir(dir.dir)).filter((f) => f.includes('quarantine'))).toEqual(['workflow.json.quarantine.jsonl']);
    } finally {
      await dir.remove();
    }
  });
});

describe('the PostgreSQL workflow store and hand-edited outbox rows', () => {
  let postgres: TestPostgres | undefined;
  let db: Database | undefined;
  afterEach(async () => {
    await db?.close();
  });
  afterAll(async () => {
    await postgres?.close();
  });

  interface Line {
    msg: string;
    what?: string;
    problems?: string;
  }
  async function setUp(): Promise<{ db: Database; store: (log?: Line[]) => PgWorkflowStore }> {
    postgres ??= await startPostgres();
    const silent = createLogger('silent');
    const database = new Database({ url: await postgres.newDatabase(), log: silent });
    db = database;
    await migrate(database, silent);
    const audit = new PgAuditLog(database);
    const store = (lines?: Line[]) =>
      new PgWorkflowStore(database, (e) => audit.entryOf(e), lines ? createLogger('error', { write: (line: string) => void lines.push(JSON.parse(line) as Line) }) : silent);
    return { db: database, store };
  }
  /** A message due at 20:30 and `count` due at 20:00, ahead of it. */
  async function queued(store: PgWorkflowStore, count: number): Promise<{ good: OutboxMessage; broken: OutboxMessage[] }> {
    const good = pendingMessage({ planId: 'p0', kind: 'refreshCopies' }, '2026-11-30T20:30:00.000Z', at);
    const broken = Array.from({ length: count }, (_, i) => pendingMessage({ planId: `p${i + 1}`, kind: 'refreshCopies' }, at, at));
    await store.transact((tx) => {
      for (const m of [good, ...broken]) tx.putOutbox(m);
    });
    return { good, broken };
  }
  const claimsOf = (rows: { claimed_by: string | null; claimed_until: Date | null }[]) => rows.map((r) => [r.claimed_by, r.claimed_until?.toISOString() ?? null]);

  it('claims a row whose instant was edited in another spelling, canonical; rows no one can read neither hold up the others nor are lost', async () => {
    const { db, store } = await setUp();
    const lines: Line[] = [];
    const a = store(lines);
    // More rows than a claim of 8 takes, all due before the good one.
    const { good, broken } = await queued(a, 30);
    await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{nextAttemptAt}', '"2026-11-30 21:30:00+01"') WHERE id = $1`, [good.id]);
    await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{nextAttemptAt}', '"after lunch"') WHERE id = ANY($1::text[])`, [broken.map((m) => m.id)]);

    const now = new Date('2026-11-30T20:45:00.000Z');
    expect((await a.claimOutbox('instance-a', now, 8, 60_000)).map((m) => `${m.id} ${m.nextAttemptAt}`)).toEqual([`${good.id} 2026-11-30T20:30:00.000Z`]);
    // Said once per row, with the field and why.
    expect(lines.map((l) => l.what).sort()).toEqual(broken.map((m) => `outbox message ${m.id}`).sort());
    expect(new Set(lines.map((l) => l.problems))).toEqual(new Set(['nextAttemptAt: not an instant: an ISO 8601 date-time with Z or an offset is expected, e.g. 2026-11-30T20:00:00.000Z']));
    // Still pending, set aside for five minutes under a name no instance claims with.
    const parked = (await db.query<{ status: string; claimed_by: string | null; claimed_until: Date | null }>('SELECT status, claimed_by, claimed_until FROM outbox WHERE id = ANY($1::text[])', [broken.map((m) => m.id)])).rows;
    expect(parked.map((r) => r.status)).toEqual(broken.map(() => 'pending'));
    expect(claimsOf(parked)).toEqual(broken.map(() => ['unreadable:instance-a', '2026-11-30T20:50:00.000Z']));

    // Neither this instance nor another reads them again meanwhile.
    lines.length = 0;
    const otherLines: Line[] = [];
    expect(await a.claimOutbox('instance-a', new Date(now.getTime() + 10_000), 8, 60_000)).toEqual([expect.objectContaining({ id: good.id })]);
    expect(await store(otherLines).claimOutbox('instance-b', new Date(now.getTime() + 10_000), 8, 60_000)).toEqual([]);
    expect([lines, otherLines]).toEqual([[], []]);

    // Mended by hand: read again once set aside long enough, and delivered with the rest due.
    await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{nextAttemptAt}', '"2026-11-30T20:00:00Z"') WHERE id = $1`, [broken[0]!.id]);
    const later = new Date(now.getTime() + 5 * 60_000);
    expect((await store(otherLines).claimOutbox('instance-b', later, 8, 60_000)).map((m) => m.id)).toEqual([broken[0]!.id, good.id]);
    expect(otherLines).toHaveLength(29);
  });

  it('gets past more unreadable rows than one claim sets aside, over successive claims, without losing any', async () => {
    const { db, store } = await setUp();
    const lines: Line[] = [];
    const a = store(lines);
    const { good, broken } = await queued(a, 1_050);
    await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{kind}', '"somethingNew"') WHERE id <> $1`, [good.id]);
    const now = new Date('2026-11-30T20:45:00.000Z');
    // Ten rounds of (1 wanted + 100 looked ahead): 1,010 set aside by the first claim, the rest by the second.
    expect(await a.claimOutbox('instance-a', now, 1, 60_000)).toEqual([]);
    expect(lines).toHaveLength(1_010);
    expect((await a.claimOutbox('instance-a', new Date(now.getTime() + 5_000), 1, 60_000)).map((m) => m.id)).toEqual([good.id]);
    expect(lines).toHaveLength(1_050);
    const held = (await db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE status = 'pending' AND claimed_by = 'unreadable:instance-a'`)).rows[0]!.n;
    expect(Number(held)).toBe(1_050);
  });

  it('does not hand a row it is delivering to another instance when its document is edited meanwhile', async () => {
    const { db, store } = await setUp();
    const a = store([]);
    const b = store([]);
    const message = pendingMessage({ planId: 'p1', kind: 'refreshCopies' }, at, at);
    await a.transact((tx) => tx.putOutbox(message));
    const now = new Date('2026-11-30T20:10:00.000Z');
    expect((await a.claimOutbox('instance-a', now, 8, 60_000)).map((m) => m.id)).toEqual([message.id]);
    await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{kind}', '"somethingNew"') WHERE id = $1`, [message.id]);
    // A's next pass finds its own row unreadable: set aside, still held past A's hold.
    expect(await a.claimOutbox('instance-a', new Date(now.getTime() + 5_000), 8, 60_000)).toEqual([]);
    for (const offset of [0, 30_000, 65_000, 4 * 60_000]) expect(await b.claimOutbox('instance-b', new Date(now.getTime() + 5_000 + offset), 8, 60_000)).toEqual([]);
    const row = (await db.query<{ claimed_by: string | null; claimed_until: Date | null }>('SELECT claimed_by, claimed_until FROM outbox WHERE id = $1', [message.id])).rows;
    expect(claimsOf(row)).toEqual([['unreadable:instance-a', '2026-11-30T20:15:05.000Z']]);
  });
});
