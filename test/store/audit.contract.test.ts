import path from 'node:path';
import { createLogger } from '../../src/log/logger';
import { AuditLog, type AuditStore, type NewAuditEntry } from '../../src/store/audit';
import { PgAuditLog } from '../../src/store/pg/audit';
import { Database } from '../../src/store/pg/database';
import { migrate } from '../../src/store/pg/migrations';
import { tempDir } from '../helpers/app';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/** The audit log's contract on both stores: pages newest first, one account's history, counts, streaming. */
const log = createLogger('silent');
let postgres: TestPostgres | undefined;

const harnesses: [string, () => Promise<{ audit: AuditStore; close(): Promise<void> }>][] = [
  [
    'JSON lines',
    async () => {
      const dir = await tempDir();
      return { audit: new AuditLog(path.join(dir.dir, 'audit.jsonl')), close: () => dir.remove() };
    },
  ],
  [
    'postgres',
    async () => {
      postgres ??= await startPostgres();
      const db = new Database({ url: await postgres.newDatabase(), log });
      await migrate(db, log);
      return { audit: new PgAuditLog(db), close: () => db.close() };
    },
  ],
];

afterAll(async () => {
  await postgres?.close();
});

const entry = (target: string, action: string): NewAuditEntry => ({ actor: { aadObjectId: 'u1', name: 'Ada' }, action, target, outcome: 'succeeded' });

describe.each(harnesses)('audit log contract: %s', (_name, make) => {
  jest.setTimeout(120_000);
  let h: Awaited<ReturnType<(typeof harnesses)[number][1]>>;

  beforeAll(async () => {
    h = await make();
    const targets = ['aa-main@contoso.com', 'aa-main@contoso.onmicrosoft.com', 'cq-sales@contoso.com', 'AA-MAIN@CONTOSO.COM', '-', 'aa-main'];
    for (let i = 0; i < 60; i++) await h.audit.append(entry(targets[i % targets.length]!, `action.${i}`));
  });

  afterAll(async () => {
    await h.close();
  });

  it('pages the whole log newest first, and says when there is more', async () => {
    const first = await h.audit.page({ offset: 0, limit: 10 });
    expect(first.items.map((e) => e.action)).toEqual(Array.from({ length: 10 }, (_, i) => `action.${59 - i}`));
    expect(first.hasMore).toBe(true);
    const last = await h.audit.page({ offset: 55, limit: 10 });
    expect(last.items.map((e) => e.action)).toEqual(['action.4', 'action.3', 'action.2', 'action.1', 'action.0']);
    expect(last.hasMore).toBe(false);
    expect(await h.audit.count()).toBe(60);
  });

  it("finds one account's history by full UPN (any case) and by username in any domain", async () => {
    const byUpn = await h.audit.page({ account: 'AA-Main@Contoso.com', offset: 0, limit: 100 });
    expect(byUpn.items.map((e) => e.target.toLowerCase())).toEqual(Array(20).fill('aa-main@contoso.com'));
    expect(await h.audit.count({ account: 'aa-main@contoso.com' })).toBe(20);
    const byUsername = await h.audit.page({ account: 'aa-main', offset: 0, limit: 100 });
    expect(byUsername.items).toHaveLength(30);
    expect(byUsername.items.every((e) => e.target.toLowerCase().startsWith('aa-main@'))).toBe(true);
    expect(await h.audit.count({ account: 'aa-main' })).toBe(30);
    expect(await h.audit.count({ target: 'cq-sales@contoso.com' })).toBe(10);
  });

  it('streams entries oldest first with a filter', async () => {
    const seen: string[] = [];
    for await (const e of h.audit.entries({ account: 'cq-sales' })) seen.push(e.action);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `action.${2 + i * 6}`));
  });
});
