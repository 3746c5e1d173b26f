import { createLogger } from '../../../src/log/logger';
import { PgExportTokens } from '../../../src/store/pg/contacts';
import { Database } from '../../../src/store/pg/database';
import { migrate } from '../../../src/store/pg/migrations';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';

describe('export links in PostgreSQL keep what they download (issue 12)', () => {
  jest.setTimeout(120_000);
  let server: TestPostgres;
  let db: Database;

  beforeAll(async () => {
    server = await startPostgres();
    const log = createLogger('silent');
    db = new Database({ url: await server.newDatabase(), log });
    await migrate(db, log);
  });

  afterAll(async () => {
    await db.close();
    await server.close();
  });

  it('hands out a link of any kind once, with its subject and language; a history link as before', async () => {
    const sut = new PgExportTokens(db);
    const at = new Date();
    const later = new Date(at.getTime() + 60_000);
    await sut.put('h1', { username: 'aa-main', fileName: 'history.csv' }, later);
    await sut.put('h2', { username: '', fileName: 'rows.csv', kind: 'importRows', subject: 'plan-1', locale: 'fr' }, later);
    expect(await sut.take('h2', at)).toEqual({ username: '', fileName: 'rows.csv', kind: 'importRows', subject: 'plan-1', locale: 'fr' });
    expect(await sut.take('h2', at)).toBeUndefined();
    expect(await sut.take('h1', at)).toEqual({ username: 'aa-main', fileName: 'history.csv', kind: 'history', subject: '', locale: 'en' });
  });
});
