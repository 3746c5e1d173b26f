import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GlobalSettings } from 'adaptivecards-templating';
import { libraryTemplate, loadTemplate, type CardTemplate } from '../../src/cards/compiledTemplate';
import * as render from '../../src/cards/render';
import { CARDS_DIR, loadCardTemplates } from '../../src/cards/render';
import type { Locale } from '../../src/i18n';
import { BUILD_DIR, ensureBuilt } from '../helpers/botProcess';
import { seeded } from '../helpers/random';
import { buildCatalogue, templateNames } from './catalogue';

/**
 * The compiled card templates (src/cards/compiledTemplate.ts) against adaptivecards-templating's own
 * expansion (plus the fallbacks walk, as cards were rendered before): the same card, byte for byte and
 * value for value, or the same error, for the data of every card in the catalogue (the gallery's cards,
 * in both languages), and for many variations of that data — hostile strings in every text, and
 * missing, null, mistyped, case-colliding and oddly shaped values — plus synthetic templates that use
 * every construct the compiler supports, and the library's fallback for those it does not.
 */

type Json = Record<string, unknown>;

/** Variations per catalogue card: every string replaced, then shapes changed. */
const STRING_ROUNDS = 6;
const SHAPE_ROUNDS = 6;
/** Random data sets per synthetic template. */
const SYNTHETIC_ROUNDS = 250;

/** Text that Markdown, the bidi algorithm, the templating engine or JSON could act on. */
const HOSTILE: readonly string[] = [
  '**bold** _italic_ [link](https://evil.example) ![img](https://evil.example/x.png) <at>Ada</at>',
  '# heading\n- item\n1. item\n> quote\n```\ncode\n```',
  'evil\u202Etxt.exe',
  '\u2066isolated\u2069 \u200Fmark\u200E \u061C',
  '${s.title}',
  '${$root}',
  '${',
  '}${',
  '$${x}',
  "${length('abc')}",
  '${if(true, 1, 2)}',
  '@{x} {{DATE(2026-01-01T00:00:00Z)}}',
  '\\${x} `${x}` ${x',
  'Zürich Ωμέγα 日本語 😀 عربى עברית',
  '\uD83D lone surrogate \uDC00',
  'İstanbul \u212Aelvin ß ﬀ',
  '\u0000\u0007\r\n\t\u2028\u2029',
  '"quotes" \'single\' \\backslash\\ </script>',
  'null',
  'true',
  '0',
  '',
  ' ',
  '{"type":"Action.Execute","verb":"x"}',
  'x'.repeat(2000),
];

function randomString(random: () => number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0xa0, 0x24f],
    [0x200b, 0x206f],
    [0x0590, 0x06ff],
    [0x4e00, 0x4e80],
    [0x1f600, 0x1f64f],
  ];
  let out = '';
  const length = Math.floor(random() * 24);
  for (let i = 0; i < length; i++) {
    const [from, to] = ranges[Math.floor(random() * ranges.length)]!;
    out += String.fromCodePoint(from + Math.floor(random() * (to - from + 1)));
    if (random() < 0.08) out += '${';
  }
  return out;
}

function hostileString(random: () => number): string {
  return random() < 0.6 ? HOSTILE[Math.floor(random() * HOSTILE.length)]! : randomString(random);
}

/** `data` with every string replaced by a hostile one. */
function withHostileStrings(value: unknown, random: () => number): unknown {
  if (typeof value === 'string') return hostileString(random);
  if (Array.isArray(value)) return value.map((item) => withHostileStrings(item, random));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withHostileStrings(v, random)]));
  return value;
}

/** A value of any shape the templates could be given by mistake. */
function oddValue(random: () => number, depth = 0): unknown {
  const choices: (() => unknown)[] = [
    () => undefined,
    () => null,
    () => 0,
    () => -1.5,
    () => Number.NaN,
    () => Number.POSITIVE_INFINITY,
    () => 42,
    () => true,
    () => false,
    () => '',
    () => hostileString(random),
    () => [],
    () => ({}),
    () => ['a', 1, null, undefined],
    () => ({ type: 'Action.Execute', verb: 'injected', title: 'x', data: { type: 'Action.Execute', verb: 'inner' } }),
    () => (depth < 2 ? [oddValue(random, depth + 1), { title: oddValue(random, depth + 1), value: oddValue(random, depth + 1) }] : 'deep'),
  ];
  return choices[Math.floor(random() * choices.length)]!();
}

/**
 * `data` with some of its values changed in shape: a value made odd, a key removed, a key added
 * before it that differs only in case (the library finds keys ignoring case, first match wins), an
 * array emptied, shortened or given odd items.
 */
function withOddShapes(value: unknown, random: () => number, rate: number): unknown {
  if (Array.isArray(value)) {
    const roll = random();
    if (roll < rate / 2) return [];
    const items = value.map((item) => withOddShapes(item, random, rate));
    if (roll < rate) items.push(oddValue(random));
    if (roll > 1 - rate / 2) items.splice(0, 1);
    return items;
  }
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) {
      const roll = random();
      if (roll < rate / 4) continue;
      if (roll < rate / 2) out[key.toUpperCase() === key ? key.toLowerCase() : key.toUpperCase()] = oddValue(random);
      else if (roll < (3 * rate) / 4) out[key.replace(/k/g, '\u212A')] = hostileString(random);
      out[key] = roll < rate ? oddValue(random) : withOddShapes(item, random, rate);
    }
    return out;
  }
  return random() < rate ? oddValue(random) : value;
}

/** A deep copy that keeps `undefined`, NaN and the like (the data never holds anything else). */
function copy(value: unknown): unknown {
  return structuredClone(value);
}

type Outcome = { ok: true; card: unknown; json: string | undefined } | { ok: false; error: string };

function outcome(template: CardTemplate, data: unknown): Outcome {
  try {
    const card = template.expand(copy(data) as object);
    return { ok: true, card, json: JSON.stringify(card) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.constructor.name}: ${e.message}` : `thrown ${String(e)}` };
  }
}

/**
 * Compares the compiled template with the library on `data`: what differs (null when nothing does),
 * and whether the library made a card or threw.
 */
function compare(compiled: CardTemplate, library: CardTemplate, data: unknown): { difference: string | null; libraryThrew: boolean } {
  const ours = outcome(compiled, data);
  const theirs = outcome(library, data);
  const result = (difference: string | null) => ({ difference, libraryThrew: !theirs.ok });
  if (!ours.ok && !theirs.ok) return result(ours.error === theirs.error ? null : `errors differ: ${ours.error} / ${theirs.error}`);
  if (!ours.ok) return result(`compiled threw ${ours.error}, the library expanded`);
  if (!theirs.ok) return result(`the library threw ${theirs.error}, compiled expanded`);
  if (ours.json !== theirs.json) return result(`JSON differs:\n  compiled ${ours.json?.slice(0, 600)}\n  library  ${theirs.json?.slice(0, 600)}`);
  try {
    expect(ours.card).toStrictEqual(theirs.card);
  } catch {
    return result('values differ (undefined members or array holes)');
  }
  return result(null);
}

const difference = (compiled: CardTemplate, library: CardTemplate, data: unknown): string | null => compare(compiled, library, data).difference;

function templateJson(name: string): unknown {
  return JSON.parse(readFileSync(path.join(CARDS_DIR, `${name}.json`), 'utf8'));
}

/** What the catalogue's cards were rendered from (template and data), captured at renderCard, in both languages. */
function catalogueData(): { entry: string; template: string; data: unknown }[] {
  const captured: { entry: string; template: string; data: unknown }[] = [];
  const original = render.renderCard;
  let locale: Locale = 'en';
  const spy = jest.spyOn(render, 'renderCard').mockImplementation((name, data) => {
    captured.push({ entry: `${name} #${captured.length} (${locale})`, template: name, data: copy(data) });
    return original(name, data);
  });
  try {
    for (locale of ['en', 'fr'] as Locale[]) buildCatalogue(locale);
  } finally {
    spy.mockRestore();
  }
  return captured;
}

describe('compiled card templates', () => {
  const samples = catalogueData();
  const names = templateNames();
  const compiled = new Map(names.map((name) => [name, loadTemplate(templateJson(name))]));
  const library = new Map(names.map((name) => [name, libraryTemplate(templateJson(name))]));

  it('compile every template in cards/ (none falls back to the library)', () => {
    expect(loadCardTemplates()).toEqual(names.map((name) => ({ name, engine: 'compiled' })));
  });

  it('are exercised by catalogue data for every template, in both languages', () => {
    expect([...new Set(samples.map((s) => s.template))].sort()).toEqual(names);
    expect(samples.length).toBeGreaterThanOrEqual(2 * names.length);
  });

  it('give the same card as adaptivecards-templating for every catalogue card', () => {
    const problems = samples.map((s) => [s.entry, difference(compiled.get(s.template)!, library.get(s.template)!, s.data)]).filter(([, d]) => d !== null);
    expect(problems).toEqual([]);
  });

  it('give the same card for catalogue data with hostile text in every string', () => {
    const random = seeded(1301);
    const problems: string[] = [];
    for (const s of samples) {
      for (let round = 0; round < STRING_ROUNDS; round++) {
        const data = withHostileStrings(s.data, random);
        const d = difference(compiled.get(s.template)!, library.get(s.template)!, data);
        if (d) problems.push(`${s.entry} round ${round}: ${d}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('give the same card, or the same error, for catalogue data of odd shapes', () => {
    const random = seeded(1302);
    const problems: string[] = [];
    let errors = 0;
    for (const s of samples) {
      for (let round = 0; round < SHAPE_ROUNDS; round++) {
        const data = withOddShapes(s.data, random, 0.05 + 0.3 * (round / SHAPE_ROUNDS));
        const { difference: d, libraryThrew } = compare(compiled.get(s.template)!, library.get(s.template)!, data);
        if (d) problems.push(`${s.entry} round ${round}: ${d}`);
        else if (libraryThrew) errors += 1;
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // Some of these shapes make the library throw (e.g. null in a concatenated text): the same error was seen.
    expect(errors).toBeGreaterThan(0);
  });

  it('honour a substitution string set in GlobalSettings, as the library does', () => {
    const s = samples.find((x) => x.template === 'account-list')!;
    GlobalSettings.getUndefinedFieldValueSubstitutionString = (p) => `<missing ${p}>`;
    try {
      const data = { ...(s.data as Json), s: {} };
      expect(difference(compiled.get('account-list')!, library.get('account-list')!, data)).toBeNull();
      expect(JSON.stringify(compiled.get('account-list')!.expand(data))).toContain('<missing s.title>');
    } finally {
      GlobalSettings.getUndefinedFieldValueSubstitutionString = undefined;
    }
  });

  it('return fresh objects on every expansion (what the bot adds to a card never reaches the template)', () => {
    const s = samples.find((x) => x.template === 'plan')!;
    const template = compiled.get('plan')!;
    const first = template.expand(copy(s.data) as object) as Json;
    const before = JSON.stringify(template.expand(copy(s.data) as object));
    (first.body as Json[]).push({ type: 'TextBlock', text: 'added' });
    (first.body as Json[])[0]!.text = 'changed';
    expect(JSON.stringify(template.expand(copy(s.data) as object))).toBe(before);
  });
});

/** Synthetic templates: every construct the compiler supports, in combinations the catalogue lacks. */
const SYNTHETIC: Record<string, unknown> = {
  constructs: {
    type: 'AdaptiveCard',
    version: '1.5',
    $schema: 'kept',
    $root: 'dropped',
    $host: 'dropped',
    body: [
      { type: 'TextBlock', text: '${a} and ${b.c} at ${$index} of ${$root.title}', $when: '${x}' },
      {
        $data: '${items}',
        type: 'Container',
        items: [
          { type: 'TextBlock', text: '${$root.title}: ${name} #${$index}', $when: '${count(sub) > 0 || flag}' },
          { $data: '${sub}', type: 'TextBlock', text: '${$data}', size: '${$index}' },
          { $data: '${$data}', type: 'TextBlock', text: '${NAME}' },
        ],
      },
      { type: 'TextBlock', text: "${if(flag, 'yes', n)}", $when: '${count(items) == 0 || length(a) > 2}' },
      { type: 'TextBlock', text: '${length(a)} ${count(items)} ${n > 1} ${a == b.c}' },
      // A concat() call as the whole value: the library concatenates its arguments as it does a text's parts.
      { type: 'TextBlock', text: "${concat(a, '-', n)}" },
      { type: 'Input.Number', value: '${n}', $when: true },
      { type: 'TextBlock', text: 'never', $when: 'literal' },
      { type: 'TextBlock', text: 'always', $when: '' },
      { type: 'TextBlock', $data: 'literal data', text: '${$data}' },
      { type: 'TextBlock', $data: 7, text: '${$data} ${$index}' },
      ['${list}', null, 3, ['nested', '${a}']],
      '${b}',
      {
        type: 'ActionSet',
        actions: [
          { type: 'Action.Execute', verb: 'go', title: '${t}', data: { id: '${id}', n: '${n}', all: '${b}' }, associatedInputs: 'none' },
          { type: 'Action.Execute', verb: 'bare', $data: '${items}', title: '${name}' },
          // `||` without a true argument gives its last argument's value, here often undefined: the member is left out.
          { type: 'Action.Execute', verb: 'odd', title: '${x || flag}', data: { a: '${flag || x}', verb: 'overwritten', $when: '${x}' }, associatedInputs: "${if(flag, t, x || flag)}" },
          { type: 'Action.Execute', verb: 'constantData', data: 'not an object', associatedInputs: '${t}' },
        ],
      },
      { type: 'FactSet', facts: [{ $data: '${items}', title: '${name}', value: '${$root.a}' }] },
    ],
  },
  walked: {
    type: 'AdaptiveCard',
    body: [
      { type: '${kind}', verb: '${v}', title: 'dynamic', data: { x: '${a}' } },
      { type: 'Action.Execute', verb: 'withData', data: { type: 'Action.Execute', verb: 'inner' } },
      { type: 'Action.Execute', verb: 'kept', fallback: '${fb}' },
    ],
  },
};

const NAMES = ['a', 'b', 'c', 'x', 'items', 'sub', 'name', 'NAME', 'title', 'flag', 't', 'id', 'n', 'list', 'kind', 'v', 'fb'];
/** The names the templates repeat over or read through: these get lists and objects most of the time. */
const CONTAINERS = new Set(['items', 'sub', 'b', 'list']);

function randomData(random: () => number, depth = 0): Json {
  const out: Json = {};
  for (const name of NAMES) {
    const roll = random();
    if (roll < 0.15) continue;
    const key = roll < 0.2 ? name.toUpperCase() : name;
    if (CONTAINERS.has(name) && depth < 2 && roll < 0.8) {
      out[key] = roll < 0.6 ? Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.8 ? randomData(random, depth + 1) : oddValue(random))) : randomData(random, depth + 1);
    } else if (roll < 0.55) {
      out[key] = name === 'kind' ? 'Action.Execute' : name === 'n' ? Math.floor(random() * 5) : name === 'flag' || name === 'x' ? random() < 0.5 : hostileString(random);
    } else {
      out[key] = oddValue(random);
    }
  }
  return out;
}

describe('compiled synthetic templates', () => {
  it.each(Object.keys(SYNTHETIC))('%s: the same card or the same error as the library, on random data', (name) => {
    const json = SYNTHETIC[name];
    const compiled = loadTemplate(json);
    expect(compiled.engine).toBe('compiled');
    const library = libraryTemplate(json);
    const random = seeded(name.length * 7919);
    const problems: string[] = [];
    let cards = 0;
    for (let i = 0; i < SYNTHETIC_ROUNDS; i++) {
      const data = randomData(random);
      const { difference: d, libraryThrew } = compare(compiled, library, data);
      if (d) problems.push(`#${i}: ${d}`);
      else if (!libraryThrew) cards += 1;
    }
    expect(problems.slice(0, 5)).toEqual([]);
    // Random data makes some expansions throw (the same error, checked above); most give a card.
    expect(cards).toBeGreaterThan(SYNTHETIC_ROUNDS / 3);
  });
});

describe('where code generation from strings is not allowed', () => {
  it('every template is expanded by the library, with the reason, and cards still render (node --disallow-code-generation-from-strings)', async () => {
    await ensureBuilt();
    const render = path.join(BUILD_DIR, 'src', 'cards', 'render.js');
    const script = `const r = require(${JSON.stringify(render)}); const t = r.loadCardTemplates(); process.stdout.write(JSON.stringify({ engines: [...new Set(t.map((x) => x.engine))], reason: t[0].reason, card: r.renderCard('message', { title: 'T', text: 'x', tone: 'default', detail: '' }) }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--disallow-code-generation-from-strings', '-e', script]);
    const out = JSON.parse(stdout) as { engines: string[]; reason: string; card: { type: string } };
    expect(out.engines).toEqual(['library']);
    expect(out.reason).toMatch(/code generation from strings is not allowed/);
    expect(out.card.type).toBe('AdaptiveCard');
  }, 180_000);
});

describe('templates the compiler does not support', () => {
  const unsupported: [string, unknown, RegExp][] = [
    ['a function outside the subset', { type: 'TextBlock', text: "${formatNumber(n, 2)}" }, /formatNumber/],
    ['an index into a list', { type: 'TextBlock', text: '${items[0].name}' }, /path through/],
    ['the template version', { type: 'TextBlock', text: '${$_acTemplateVersion.major}' }, /_acTemplateVersion/],
    ['a concatenation inside a function', { type: 'TextBlock', text: "${length(concat(a, 'x'))}" }, /concat/],
    ['a $when of several parts', { type: 'TextBlock', text: 'x', $when: '${a} ${b}' }, /\$when/],
    ['a constant list as $data', { type: 'TextBlock', text: '${$data}', $data: ['one', 'two'] }, /\$data/],
    ['a "__proto__" key', JSON.parse('{"type":"TextBlock","__proto__":{"text":"x"}}') as unknown, /__proto__/],
  ];

  it.each(unsupported)('%s: the library expands the template, and the card is the library\'s', (_what, node, reason) => {
    const json = { type: 'AdaptiveCard', body: [node, { type: 'ActionSet', actions: [{ type: 'Action.Execute', verb: 'go', title: '${a}' }] }] };
    const template = loadTemplate(json);
    expect(template.engine).toBe('library');
    expect(template.reason).toMatch(reason);
    const data = { a: 'A', b: 'B', n: 3.14159, items: [{ name: 'first' }] };
    expect(difference(template, libraryTemplate(json), data)).toBeNull();
    // The library's own expansion, fallbacks included.
    const card = template.expand(data) as { body: { type: string; actions?: { fallback?: unknown }[] }[] };
    expect(card.body.find((n) => n.type === 'ActionSet')!.actions![0]!.fallback).toEqual({ type: 'Action.Submit', title: 'A', data: { verb: 'go' } });
  });
});
