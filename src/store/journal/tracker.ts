import type { Json } from './shape';

/**
 * Finds out what one update changed, without asking the code that changes the document to say so:
 * the update gets the document through Proxies that note, before anything is written, the
 * (collection, key) entries and the parts it may change, with their JSON as it was (the pre-image).
 * At the end, the entries whose JSON differs are the change; their current JSON is the post-image
 * the journal record holds, and the pre-images undo it (a throw in the middle, a failed write).
 *
 * What is noted:
 * - a collection entry when it is written or deleted, or when one of its nested objects or arrays is
 *   read (it may be changed in place, e.g. `account.associations.push`): reads of its plain fields
 *   cost nothing, so a scan over 10,000 accounts notes none of them;
 * - a part (a top-level member that is not a collection, e.g. `skus`) whenever it is read: parts are
 *   small, and a read of `state.skus` may be followed by `sku.consumed -= 1`.
 *
 * Limits, each loud rather than silent:
 * - Change the document only through the draft an update is given. A raw object obtained outside an
 *   update and changed later is not seen.
 * - A draft is dead once its update ends: writing through it throws.
 * - `structuredClone` throws on a Proxy (DataCloneError): clone a spread copy (`{ ...entry }`, as
 *   toResourceAccount does), whose nested values are the raw objects.
 * - Whole collections cannot be replaced or deleted in an update (replace their entries).
 */

const ABSENT = 'null';
const jsonOf = (value: unknown): string => (value === undefined ? ABSENT : JSON.stringify(value));
const own = (object: Json, key: string): unknown => (Object.hasOwn(object, key) ? object[key] : undefined);

/** What one update changed: each changed entry and part, before and after, as JSON text. */
export interface ChangeSet {
  entries: { collection: string; key: string; before: string; after: string }[];
  parts: { name: string; before: string; after: string }[];
}

export function isEmpty(changes: ChangeSet): boolean {
  return changes.entries.length === 0 && changes.parts.length === 0;
}

/** Puts the document back as it was before `changes` (JSON `null` = the entry did not exist). */
export function undo(doc: Json, changes: ChangeSet): void {
  for (const { collection, key, before } of changes.entries) {
    const entries = doc[collection] as Json;
    if (before === ABSENT) delete entries[key];
    else entries[key] = JSON.parse(before) as unknown;
  }
  for (const { name, before } of changes.parts) {
    if (before === ABSENT) delete doc[name];
    else doc[name] = JSON.parse(before) as unknown;
  }
}

/** A trap that refuses an operation the journal cannot follow. */
const refuse = (what: string) => (): never => {
  throw new Error(`journaled store: ${what} is not supported in an update`);
};
const REFUSED: ProxyHandler<Json> = {
  defineProperty: refuse('Object.defineProperty'),
  setPrototypeOf: refuse('setPrototypeOf'),
  preventExtensions: refuse('preventExtensions'),
};

/** Asked of any of our Proxies, gives the raw object behind it (what is stored back is never a Proxy). */
const RAW = Symbol('raw');

function liveKey(draft: Draft, prop: string | symbol): string {
  if (!draft.live) throw new Error('journaled store: the document was changed after its update ended');
  // `__proto__` would set the prototype instead of storing an entry.
  if (typeof prop !== 'string' || prop === '__proto__') throw new Error(`journaled store: ${String(prop)} cannot be a key`);
  return prop;
}

/**
 * The handler of one entry's Proxy: these traps, plus where the entry is. A scan over 10,000 accounts
 * makes 10,000 of them, so each is one small object whose prototype holds the traps (no closures,
 * no map from entry to key).
 */
interface EntryHandler extends ProxyHandler<Json> {
  draft: Draft;
  collection: string;
  key: string;
}

const ENTRY_TRAPS: ProxyHandler<Json> & ThisType<EntryHandler> = {
  ...REFUSED,
  get(target, prop, receiver) {
    if (prop === RAW) return target;
    const value: unknown = Reflect.get(target, prop, receiver);
    // A nested object or array may be changed in place: note the entry before handing it out.
    if (typeof prop === 'string' && typeof value === 'object' && value !== null && this.draft.live) this.draft.noteEntry(this.collection, this.key);
    return value;
  },
  set(target, prop, value) {
    const field = liveKey(this.draft, prop);
    this.draft.noteEntry(this.collection, this.key);
    target[field] = unwrapDeep(value);
    return true;
  },
  deleteProperty(target, prop) {
    const field = liveKey(this.draft, prop);
    this.draft.noteEntry(this.collection, this.key);
    return delete target[field];
  },
};

export function unwrap<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  return ((value as { [RAW]?: T })[RAW] ?? value) as T;
}

/** Replaces Proxies nested anywhere in a value about to be stored with their raw objects. */
function unwrapDeep(value: unknown, seen = new Set<object>()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const raw = unwrap(value);
  if (seen.has(raw)) return raw;
  seen.add(raw);
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i++) raw[i] = unwrapDeep(raw[i], seen);
  } else {
    const object = raw as Json;
    for (const key of Object.keys(object)) object[key] = unwrapDeep(object[key], seen);
  }
  return raw;
}

/** One update's view of the document, and what it noted. */
export class Draft {
  live = true;
  /** collection → key → JSON before the update. */
  private readonly entryBefore = new Map<string, Map<string, string>>();
  private readonly partBefore = new Map<string, string>();
  private readonly collectionProxies = new Map<string, Json>();
  /** The document as the update sees it. */
  readonly root: Json;

  constructor(
    private readonly doc: Json,
    private readonly collections: ReadonlySet<string>,
  ) {
    this.root = new Proxy(doc, {
      ...REFUSED,
      get: (target, prop, receiver) => {
        if (prop === RAW) return target;
        if (typeof prop !== 'string' || !Object.hasOwn(target, prop)) return Reflect.get(target, prop, receiver);
        if (this.collections.has(prop)) return this.collection(prop);
        const value: unknown = target[prop];
        if (typeof value === 'object' && value !== null) this.notePart(prop);
        return value;
      },
      set: (target, prop, value) => {
        const name = this.partName(prop);
        this.notePart(name);
        target[name] = unwrapDeep(value);
        return true;
      },
      deleteProperty: (target, prop) => {
        const name = this.partName(prop);
        this.notePart(name);
        return delete target[name];
      },
    });
  }

  /** Ends the update: what it changed (the draft is dead from now on). */
  finish(): ChangeSet {
    this.live = false;
    const changes: ChangeSet = { entries: [], parts: [] };
    for (const [collection, keys] of this.entryBefore) {
      const entries = this.doc[collection] as Json;
      for (const [key, before] of keys) {
        const after = jsonOf(own(entries, key));
        if (after !== before) changes.entries.push({ collection, key, before, after });
      }
    }
    for (const [name, before] of this.partBefore) {
      const after = jsonOf(this.doc[name]);
      if (after !== before) changes.parts.push({ name, before, after });
    }
    return changes;
  }

  /** Notes an entry before it may change: its JSON now is what undoing the update restores. */
  noteEntry(collection: string, key: string): void {
    let keys = this.entryBefore.get(collection);
    if (!keys) this.entryBefore.set(collection, (keys = new Map()));
    if (!keys.has(key)) keys.set(key, jsonOf(own(this.doc[collection] as Json, key)));
  }

  private notePart(name: string): void {
    if (this.live && !this.partBefore.has(name)) this.partBefore.set(name, jsonOf(this.doc[name]));
  }

  private partName(prop: string | symbol): string {
    if (!this.live) throw new Error('journaled store: the document was changed after its update ended');
    if (typeof prop !== 'string' || prop === '__proto__' || this.collections.has(prop)) {
      throw new Error(`journaled store: ${String(prop)} cannot be replaced or deleted as a whole`);
    }
    return prop;
  }

  private collection(name: string): Json {
    const existing = this.collectionProxies.get(name);
    if (existing) return existing;
    // Reading an entry twice gives the same Proxy (code may compare what it read).
    const proxies = new Map<string, { raw: object; proxy: Json }>();
    const proxy = new Proxy(this.doc[name] as Json, {
      ...REFUSED,
      get: (target, prop, receiver) => {
        if (prop === RAW) return target;
        if (typeof prop !== 'string' || !Object.hasOwn(target, prop)) return Reflect.get(target, prop, receiver);
        const entry: unknown = target[prop];
        if (typeof entry !== 'object' || entry === null) return entry;
        const known = proxies.get(prop);
        if (known?.raw === entry) return known.proxy;
        const handler: EntryHandler = Object.assign(Object.create(ENTRY_TRAPS) as EntryHandler, { draft: this, collection: name, key: prop });
        const made = new Proxy(entry as Json, handler);
        proxies.set(prop, { raw: entry, proxy: made });
        return made;
      },
      set: (target, prop, value) => {
        const key = liveKey(this, prop);
        this.noteEntry(name, key);
        target[key] = unwrapDeep(value);
        return true;
      },
      deleteProperty: (target, prop) => {
        const key = liveKey(this, prop);
        this.noteEntry(name, key);
        return delete target[key];
      },
    });
    this.collectionProxies.set(name, proxy);
    return proxy;
  }
}
