/**
 * The journaled store on a small document of its own (src/store/journal): what the change tracker
 * sees, and what it refuses. The simulated tenant's durability is tested in
 * test/backends/simulated-durability.test.ts.
 */
import { cpSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DocumentShape } from '../../src/store/journal/shape';
import { JournaledStore } from '../../src/store/journal/store';

interface Item {
  id: string;
  tags: string[];
  meta: { count: number };
}
interface Doc {
  title: string;
  settings: { mode: string; limits: number[] };
  items: Record<string, Item>;
}

const isItem = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && typeof (value as Item).id === 'string' && Array.isArray((value as Item).tags);

const shape: DocumentShape = {
  collections: ['items'],
  entry: (_collection, key, value) => (isItem(value) && value.id === key ? { ok: true, value } : { ok: false, reason: 'not an item' }),
  part: (_name, value) => ({ ok: true, value }),
  parts: (value) => (typeof value.title === 'string' ? { ok: true, value } : { ok: false, reason: 'no title' }),
};

const seed = (): Doc => ({
  title: 'Doc',
  settings: { mode: 'a', limits: [1, 2] },
  items: { one: { id: 'one', tags: ['x'], meta: { count: 1 } }, two: { id: 'two', tags: [], meta: { count: 2 } } },
});

let dir: string;
let sut: JournaledStore<Doc>;
const open = (file = path.join(dir, 'doc.json')) => JournaledStore.open<Doc>({ file, shape, makeDefault: seed });

/** The document a restart would find now (a copy of the directory, opened and read). */
async function afterCrash(): Promise<Doc> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'switchboard-journal-copy-'));
  cpSync(dir, copy, { recursive: true });
  const reopened = await open(path.join(copy, 'doc.json'));
  const doc = structuredClone(reopened.data);
  await reopened.close();
  await rm(copy, { recursive: true, force: true });
  return doc;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-journal-'));
  sut = await open();
});

afterEach(async () => {
  await sut.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the change tracker', () => {
  it('records changes made in place inside entries and parts (nested arrays and objects)', async () => {
    await sut.update((d) => {
      d.items.one!.tags.push('y');
      d.items.two!.meta.count += 40;
      d.settings.limits.push(3);
    });
    expect(await afterCrash()).toEqual(sut.data);
    expect(sut.data.items.two!.meta.count).toBe(42);
  });

  it('records additions, replacements and deletions of entries, and the record holds only what changed', async () => {
    await sut.update((d) => {
      d.items.three = { id: 'three', tags: [], meta: { count: 3 } };
      delete d.items.one;
      // Reading a nested array notes the entry (it could be changed in place), but it is unchanged.
      void Object.values(d.items).map((item) => item.tags.length);
    });
    await sut.update((d) => {
      d.items.two = { ...d.items.two!, tags: ['z'] };
    });
    const journal = readFileSync(path.join(dir, 'doc.json.journal.1.jsonl'), 'utf8').trim().split('\n');
    expect(journal.slice(1).map((line) => JSON.parse(line) as unknown)).toEqual([
      { seq: 1, entries: { items: { three: { id: 'three', tags: [], meta: { count: 3 } }, one: null } }, parts: {} },
      { seq: 2, entries: { items: { two: { id: 'two', tags: ['z'], meta: { count: 2 } } } }, parts: {} },
    ]);
    expect(await afterCrash()).toEqual(sut.data);
  });

  it('undoes everything a change did before it threw, and writes nothing', async () => {
    const before = structuredClone(sut.data);
    await expect(
      sut.update((d) => {
        d.items.one!.tags.push('half');
        d.title = 'Half';
        delete d.items.two;
        throw new Error('refused halfway');
      }),
    ).rejects.toThrow('refused halfway');
    expect(sut.data).toEqual(before);
    expect(sut.journalBytes).toBe(readFileSync(path.join(dir, 'doc.json.journal.1.jsonl')).length);
    expect(await afterCrash()).toEqual(before);
  });

  it('hands out values that structuredClone accepts when copied by spreading, and never stores a Proxy', async () => {
    const copy = await sut.update((d) => {
      const item = d.items.one!;
      d.items.again = { ...item, id: 'again' }; // nested values of a spread copy are the raw ones
      return structuredClone({ ...item });
    });
    expect(copy).toEqual({ id: 'one', tags: ['x'], meta: { count: 1 } });
    expect(() => structuredClone(sut.data)).not.toThrow();
  });

  it('refuses writes through a draft after its update ended, and replacing a whole collection', async () => {
    let leaked: Doc | undefined;
    await sut.update((d) => {
      leaked = d;
    });
    expect(() => {
      leaked!.items.one!.tags = [];
    }).toThrow(/after its update ended/);
    await expect(sut.update((d) => void (d.items = {}))).rejects.toThrow(/cannot be replaced or deleted as a whole/);
    expect(Object.keys(sut.data.items)).toEqual(['one', 'two']);
  });
});
