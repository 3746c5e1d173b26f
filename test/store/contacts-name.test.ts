import path from 'node:path';
import { createLogger } from '../../src/log/logger';
import { ConversationDirectory, type Contact, type ContactStore } from '../../src/store/conversations';
import { PgContacts } from '../../src/store/pg/contacts';
import { Database } from '../../src/store/pg/database';
import { migrate } from '../../src/store/pg/migrations';
import { tempDir } from '../helpers/app';
import { startPostgres, type TestPostgres } from '../helpers/postgres';

/*
 * nameContact: the name Teams gives later for a member whose activities carried none
 * (src/bot/memberNames.ts). It only fills a blank: a name a message saved meanwhile is never covered,
 * and no contact is made from it. The same on the lowdb file and on PostgreSQL.
 */
const contact = (name: string): Contact => ({
  aadObjectId: 'B2B2B2B2-0000-4000-8000-000000000002',
  userId: '29:approver',
  name,
  conversation: { channelId: 'msteams', serviceUrl: 'https://smba.example/', conversation: { id: 'a:personal' }, bot: { id: '28:switchboard' } },
  locale: 'en',
  updatedAt: '2026-12-02T00:00:00.000Z',
});
const key = 'b2b2b2b2-0000-4000-8000-000000000002';

describe.each([
  ['the lowdb file', 'lowdb'],
  ['PostgreSQL', 'pg'],
] as const)('a contact is named later, on %s', (_, kind) => {
  jest.setTimeout(120_000);
  let store: ContactStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    if (kind === 'lowdb') {
      const dir = await tempDir();
      const directory = await ConversationDirectory.open(path.join(dir.dir, 'conversations.json'));
      store = directory;
      close = async () => {
        await directory.close();
        await dir.remove();
      };
    } else {
      const server: TestPostgres = await startPostgres();
      const log = createLogger('silent');
      const db = new Database({ url: await server.newDatabase(), log });
      await migrate(db, log);
      store = new PgContacts(db);
      close = async () => {
        await db.close();
        await server.close();
      };
    }
  });

  afterAll(() => close());

  it('makes no contact for someone not on record', async () => {
    expect(await store.nameContact(key, 'Bob Approver')).toBe(false);
    expect(await store.contact(key)).toBeUndefined();
  });

  it('fills a blank name, keeping everything else', async () => {
    await store.saveContact(contact(''));
    expect(await store.nameContact(key.toUpperCase(), 'Bob Approver')).toBe(true);
    expect(await store.contact(key)).toEqual({ ...contact('Bob Approver'), aadObjectId: key });
  });

  it('never covers a name on record', async () => {
    await store.saveContact(contact('Bob From A Message'));
    expect(await store.nameContact(key, 'Bob Approver')).toBe(false);
    expect((await store.contact(key))?.name).toBe('Bob From A Message');
    // A nameless activity later keeps the name too.
    await store.saveContact(contact(''));
    expect((await store.contact(key))?.name).toBe('Bob From A Message');
  });
});
