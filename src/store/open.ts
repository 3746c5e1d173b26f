import path from 'node:path';
import { ExportLinks, MemoryExportTokens } from '../audit/exports';
import { StartupError, type Config } from '../config';
import type { Logger } from '../log/logger';
import { AuditLog, type AuditStore } from './audit';
import { ConversationDirectory, type ContactStore } from './conversations';
import { DataDirLock } from './dataDirLock';
import { LowdbWorkflowStore } from './lowdbWorkflow';
import { PgAuditLog } from './pg/audit';
import { PgContacts, PgExportTokens } from './pg/contacts';
import { Database } from './pg/database';
import { migrate } from './pg/migrations';
import { PgWorkflowStore } from './pg/workflow';
import type { QuarantinedRecord } from './quarantine';
import { previousUse } from './storeFiles';
import type { WorkflowStore } from './workflow';

/** Everything the domain persists, opened for one store kind (ARCHITECTURE.md "Store ports, two implementations"). */
export interface Stores {
  kind: 'lowdb' | 'postgres';
  audit: AuditStore;
  workflow: WorkflowStore;
  contacts: ContactStore;
  exports: ExportLinks;
  /** The database, when the stores are in PostgreSQL (the simulated tenant may live there too). */
  database: Database | undefined;
  /** Only this process runs plans from these stores (lowdb: the data folder is locked to it). */
  exclusive: boolean;
  /**
   * Why the data folder counts as used before, looked at before any store file was opened (undefined
   * on its first start): an empty store file is then refused, not started empty (storeFiles.ts).
   */
  usedBefore: string | undefined;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  log: Logger;
  now?: () => Date;
}

/**
 * lowdb: files in the data folder, one process (DataDirLock). PostgreSQL: one database for every
 * instance, migrated at start-up; a bad or unreachable database stops start-up with one line naming
 * DATABASE_URL (issue 11).
 */
export async function openStores(config: Config, options: StoreOptions): Promise<Stores> {
  const { log } = options;
  const quarantined = (record: QuarantinedRecord) => log.error({ ...record }, 'a stored record does not parse: set aside in the quarantine file, start-up goes on');
  if (config.store.kind === 'postgres') {
    const database = new Database({ url: config.store.url, log, max: config.store.pool });
    try {
      await migrate(database, log);
    } catch (error) {
      await database.close();
      throw new StartupError(`DATABASE_URL: cannot use the database (${describe(error)})`);
    }
    const audit = new PgAuditLog(database, options.now);
    return {
      kind: 'postgres',
      // The simulated tenant still lives in the data folder.
      usedBefore: await previousUse(config.dataDir),
      audit,
      workflow: new PgWorkflowStore(database, (entry) => audit.entryOf(entry), log),
      contacts: new PgContacts(database),
      exports: new ExportLinks(new PgExportTokens(database)),
      database,
      exclusive: false,
      flush: async () => undefined,
      close: () => database.close(),
    };
  }
  const lock = await DataDirLock.acquire(config.dataDir);
  try {
    // Looked at once, before the first open writes anything: on a first start every store is new.
    const usedBefore = await previousUse(config.dataDir);
    const audit = new AuditLog(path.join(config.dataDir, 'audit.jsonl'), options.now);
    const workflow = await LowdbWorkflowStore.open(path.join(config.dataDir, 'workflow.json'), {
      audit,
      legacy: { plans: path.join(config.dataDir, 'plans.json'), requests: path.join(config.dataDir, 'requests.json') },
      onQuarantine: quarantined,
      onAuditDelay: (error) => log.error({ err: error }, 'audit entries could not be appended yet; they are kept and retried'),
      ...(usedBefore ? { usedBefore } : {}),
    });
    let contacts: ConversationDirectory;
    try {
      contacts = await ConversationDirectory.open(path.join(config.dataDir, 'conversations.json'), quarantined, usedBefore);
    } catch (error) {
      await workflow.close().catch(() => undefined);
      throw error;
    }
    return {
      kind: 'lowdb',
      usedBefore,
      audit,
      workflow,
      contacts,
      exports: new ExportLinks(new MemoryExportTokens()),
      database: undefined,
      // This process holds the data folder: nobody else runs these plans.
      exclusive: true,
      flush: async () => {
        await Promise.all([audit.flush(), workflow.flush(), contacts.flush()]);
      },
      close: async () => {
        await Promise.all([workflow.close(), contacts.close()]);
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** What went wrong, in a few words and without the password of the URL. */
function describe(error: unknown): string {
  const code = error && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  return [code, message.replace(/postgres(ql)?:\/\/[^\s@]*@/gi, 'postgres://…@').slice(0, 200)].filter(Boolean).join(': ');
}
