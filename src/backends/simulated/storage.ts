import type { z } from 'zod';
import type { Logger } from '../../log/logger';
import { issuesOnOneLine } from '../../store/issues';
import { refusalFor, type StoreSubject } from '../../store/storeFiles';
import type { Checked, DocumentShape, Json, Quarantined } from '../../store/journal/shape';
import { JournaledStore } from '../../store/journal/store';
import type { Database } from '../../store/pg/database';
import { PgTenantStore } from '../../store/pg/tenant';
import { TENANT_COLLECTIONS, TenantPartsSchema, type TenantState } from './state';

/**
 * How the simulated tenant is stored, in one of two places behind one small API (TenantStorage):
 * - a file (the default, one instance): the journaled store (src/store/journal) keeps `tenant.json`
 *   as a snapshot and each change as a journal record;
 * - PostgreSQL (several instances sharing one tenant, issue 11): src/store/pg/tenant.ts keeps each
 *   entry as a row and serializes every instance's commits on one version row.
 * Both keep the whole tenant in memory and check what they read the same way (tenantShape):
 * accounts, numbers, voice apps and operations one by one, so that one bad entry is quarantined
 * instead of stopping start-up (issue 9 item 11); the small parts (ids, name, domains, SKUs)
 * together, and a bad one refuses the tenant, since there is no tenant without them.
 */

/**
 * What the simulated tenant needs from its storage. "Acknowledged = durable" (ARCHITECTURE.md): an
 * update resolves only once its change is on disk or committed, and a change that could not be made
 * so is rejected and gone from `data`.
 */
export interface TenantStorage {
  /** The live tenant. Read it freely (after settled()); change it only through update(). */
  readonly data: TenantState;
  /**
   * Applies `change` to the tenant and resolves once it is durable; a throw undoes whatever it
   * changed. `change` must change nothing but the draft and decide only from the draft and the
   * values it was given: on PostgreSQL it runs on the latest state of every instance's commits,
   * later than the call, and again if another instance committed first. Return copies, not live
   * parts of the draft.
   */
  update<R>(change: (draft: TenantState) => R): Promise<R>;
  /**
   * Resolves once `data` holds no change that may still be taken back (and, on PostgreSQL, every
   * commit made before the call by any instance). On PostgreSQL it rejects with
   * StoreUnavailableError when the database cannot be reached.
   */
  settled(): Promise<void>;
  /** Waits for the changes in flight (and folds the file journal into its snapshot). */
  flush(): Promise<void>;
  /** Flushes; later updates are refused. */
  close(): Promise<void>;
  /** Why changes are refused right now (a journal that cannot be written, a database out of reach), if they are. */
  readonly failure: unknown;
}

/** What the tenant gives its storage when it opens it. */
export interface TenantStorageContext {
  tenantId: string;
  /** The state a new tenant starts with (the seed). */
  makeDefault: () => TenantState;
  /** Throws when the stored tenant is not this one. */
  accept: (state: TenantState) => void;
  /** The tenant changed outside an update (changes taken back, another instance's commits). */
  onChanged: () => void;
  onQuarantine?: (item: Quarantined) => void;
  now: () => Date;
}

/** Opens the storage of a tenant: fileStorage(…) or postgresStorage(…). */
export type TenantStorageFactory = (context: TenantStorageContext) => Promise<TenantStorage>;

/**
 * The tenant in a snapshot file plus its journal (one instance). Its journal and quarantine files live
 * beside it (src/store/journal/files.ts).
 */
/** How the tenant file is named when it cannot be used at start-up (src/store/storeFiles.ts). */
export const TENANT_FILE: StoreSubject = {
  label: 'simulated tenant',
  noun: 'tenant',
  loses: 'every account, number and license change made in it (the demo tenant would be seeded again)',
  startsOver: 'from the demo tenant again',
};

/**
 * The tenant in a file: a snapshot plus a journal (src/store/journal). `usedBefore` (why the data
 * folder counts as used, storeFiles.ts previousUse) makes an empty file a refusal, not a new seed.
 */
export function fileStorage(file: string, options: { compactAtBytes?: number; usedBefore?: string } = {}): TenantStorageFactory {
  return (context) =>
    JournaledStore.open<TenantState>({
      file,
      shape: tenantShape,
      makeDefault: context.makeDefault,
      accept: context.accept,
      // Changes that never reached the disk were taken back: the index and the due time must look again.
      onRevert: context.onChanged,
      now: context.now,
      ...(context.onQuarantine ? { onQuarantine: context.onQuarantine } : {}),
      ...(options.compactAtBytes !== undefined ? { compactAtBytes: options.compactAtBytes } : {}),
      ...(options.usedBefore ? { usedBefore: options.usedBefore } : {}),
    }).catch((e: unknown) => {
      throw refusalFor(e, TENANT_FILE);
    });
}

export interface PostgresStorageOptions {
  /** Where a lost commit answer found committed after all, and quarantine moves that failed, are said. */
  log?: Logger;
  /** Tombstones and commit ids are pruned once this many commits are newer (default 10,000). */
  keepCommits?: number;
}

/**
 * The tenant in PostgreSQL, shared by every instance on the database (src/store/pg/tenant.ts). The
 * database must be migrated (src/store/pg/migrations.ts, version 3); it stays open when the tenant
 * closes (it is shared with the other stores). Unusable rows go to the table sim_quarantine.
 */
export function postgresStorage(db: Database, options: PostgresStorageOptions = {}): TenantStorageFactory {
  return (context) =>
    PgTenantStore.open<TenantState>({
      db,
      tenantId: context.tenantId,
      shape: tenantShape,
      makeDefault: context.makeDefault,
      accept: context.accept,
      onChanged: context.onChanged,
      ...(context.onQuarantine ? { onQuarantine: context.onQuarantine } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.keepCommits !== undefined ? { keepCommits: options.keepCommits } : {}),
    });
}

function checked<T>(result: z.ZodSafeParseResult<T>): Checked<T> {
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: issuesOnOneLine(result.error, { whole: '(value)' }) };
}

type CollectionName = keyof typeof TENANT_COLLECTIONS;
const isCollection = (name: string): name is CollectionName => Object.hasOwn(TENANT_COLLECTIONS, name);
const PART_SCHEMAS: Record<string, z.ZodType> = TenantPartsSchema.shape;

export const tenantShape: DocumentShape = {
  collections: Object.keys(TENANT_COLLECTIONS),

  entry(collection, key, value) {
    if (!isCollection(collection)) return { ok: false, reason: `${collection} is not a collection of the tenant` };
    const { schema, keyField } = TENANT_COLLECTIONS[collection];
    const parsed = checked(schema.safeParse(value));
    if (!parsed.ok) return parsed;
    // The key is how the entry is found: an entry filed under another key would be a second copy.
    const own = (parsed.value as Json)[keyField];
    return own === key ? parsed : { ok: false, reason: `key does not match the record it holds (${keyField} ${String(own)})` };
  },

  part(name, value) {
    const schema = Object.hasOwn(PART_SCHEMAS, name) ? PART_SCHEMAS[name] : undefined;
    if (!schema) return { ok: false, reason: `${name} is not a part of the tenant` };
    return checked(schema.safeParse(value));
  },

  parts(value) {
    return checked(TenantPartsSchema.safeParse(value)) as Checked<Json>;
  },
};
