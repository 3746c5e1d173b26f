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
    ['no milliseconds', '2026-11-30T20:00:00Z'],
    ['microseconds', '2026-11-30T20:00:00.000000Z'],
    ['a negative offset', '2026-11-30T15:00:00.000-05:00'],
  ];
  it.each(cases.flatMap(([name, schema, record, where]) => spellings.map(([how, value]) => [name, how, schema, record, where, value] as const)))(
    '%s: the same instant with %s reads back as toISOString() writes it',
    (_name, _how, schema, record, where, value) => {
      expect(valueAt(schema.parse(withValue(record, where, value)), where)).toBe(at);
    },
  );

  const notInstants = ['soon', '2026-11-30', '2026-11-30T20:00:00', '30/11/2026 20:00', '2026-02-30T00:00:00Z', '', '1764532800000'];
  it.each(cases.flatMap(([name, schema, record, where]) => notInstants.map((value) => [name, JSON.stringify(value), schema, record, where, value] as const)))(
    '%s: %s names no instant, so the record does not parse, naming that field',
    (_name, _shown, schema, record, where, value) => {
      const parsed = schema.safeParse(withValue(record, where, value));
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([where.join('.')]);
    },
  );
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

describe('the PostgreSQL workflow store reads a hand-edited row in the canonical form', () => {
  let postgres: TestPostgres | undefined;
  afterAll(async () => {
    await postgres?.close();
  });

  it('gives the instant of a document edited with an offset as toISOString() writes it, and ignores a row whose instant is no instant', async () => {
    postgres = await startPostgres();
    const log = createLogger('silent');
    const db = new Database({ url: await postgres.newDatabase(), log });
    try {
      await migrate(db, log);
      const audit = new PgAuditLog(db);
      const store = new PgWorkflowStore(db, (e) => audit.entryOf(e), log);
      const edited = pendingMessage({ planId: 'p1', kind: 'refreshCopies' }, at, at);
      const broken = pendingMessage({ planId: 'p2', kind: 'refreshCopies' }, at, at);
      await store.transact((tx) => {
        tx.putOutbox(edited);
        tx.putOutbox(broken);
      });
      // The column is timestamptz, so PostgreSQL orders rows rightly; the document is what the worker reads.
      await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{nextAttemptAt}', '"2026-11-30T21:00:00+01:00"') WHERE id = $1`, [edited.id]);
      await db.query(`UPDATE outbox SET doc = jsonb_set(doc, '{nextAttemptAt}', '"after lunch"') WHERE id = $1`, [broken.id]);
      expect((await store.dueOutbox(new Date('2026-11-30T20:10:00.000Z'), 10)).map((m) => [m.id, m.nextAttemptAt])).toEqual([[edited.id, at]]);
    } finally {
      await db.close();
    }
  });
});
