import type { z } from 'zod';
import type { Checked, DocumentShape, Json } from '../../store/journal/shape';
import { TENANT_COLLECTIONS, TenantPartsSchema } from './state';

/**
 * How the simulated tenant is stored: the journaled store (src/store/journal) keeps `tenant.json` as
 * a snapshot and each change as a journal record. Accounts, numbers, voice apps and operations are
 * checked one by one, so that one bad entry is quarantined instead of stopping start-up (issue 9
 * item 11); the small parts (ids, name, domains, SKUs) are checked together and a bad one refuses
 * the file, since there is no tenant without them.
 */

/** zod's issues on one line: `path: message; …` (a quarantine reason is one line of a JSONL file). */
function reasonOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(value)'}: ${i.message}`).join('; ');
}

function checked<T>(result: z.ZodSafeParseResult<T>): Checked<T> {
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: reasonOf(result.error) };
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
