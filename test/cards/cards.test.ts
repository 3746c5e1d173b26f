import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as AC from 'adaptivecards';
import type { CardJson } from '../../src/cards/render';
import type { Locale } from '../../src/i18n';
import { assertCatalogueComplete, buildCatalogue, catalogue, templateNames, uncoveredTemplates, type CatalogueEntry } from './catalogue';

/**
 * Every card of the catalogue (every template, in its realistic states) checked offline with the
 * adaptivecards package's own parser at schema 1.5, plus the rules Teams imposes (teams-platform.md
 * §3.1 and §5). The package's `lib/` is bundler-only ESM; its UMD bundle loads in Node and parses
 * and validates without a DOM (stack.md §4).
 */
const A = require('adaptivecards/dist/adaptivecards.min.js') as typeof AC;

/** The Teams-light-like host config the gallery renders with: its limits (6 actions a set) apply. */
const HOST_CONFIG: unknown = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'scripts', 'teams-host-config.json'), 'utf8'));

/** teams-platform.md §5: Teams allows ~80–100 KB a message; Switchboard keeps each card ≤ 25 KB. */
const MAX_CARD_BYTES = 25 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Visits every value with its JSON path (keys and indexes). */
function walk(node: unknown, visit: (value: unknown, at: readonly (string | number)[]) => void, at: readonly (string | number)[] = []): void {
  visit(node, at);
  if (Array.isArray(node)) node.forEach((item, i) => walk(item, visit, [...at, i]));
  else if (isObject(node)) for (const [key, value] of Object.entries(node)) walk(value, visit, [...at, key]);
}

const pathText = (at: readonly (string | number)[]): string => `/${at.join('/')}`;

/**
 * Teams-only keys the Adaptive Cards schema does not know. The SDK ignores unknown properties anyway;
 * they are removed so that the check is about the standard card. No catalogue card uses any today.
 */
const TEAMS_ONLY_ROOT_KEYS = ['msteams'];

function standardCard(card: CardJson): CardJson {
  return Object.fromEntries(Object.entries(card).filter(([key]) => !TEAMS_ONLY_ROOT_KEYS.includes(key)));
}

interface SdkResult {
  /** Parse events and validation failures, as "phase/event: message". */
  events: string[];
  /** The card as the SDK serializes it back. */
  roundTrip: unknown;
}

function parseWithSdk(json: CardJson): SdkResult {
  const context = new A.SerializationContext(A.Versions.v1_5);
  const card = new A.AdaptiveCard();
  card.hostConfig = new A.HostConfig(HOST_CONFIG);
  card.parse(json, context);
  const events: AC.IValidationEvent[] = [];
  for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i));
  events.push(...card.validateProperties().validationEvents);
  return {
    events: events.map((e) => `${A.ValidationPhase[e.phase]}/${A.ValidationEvent[e.event]}: ${e.message}`),
    roundTrip: card.toJSON(new A.SerializationContext(A.Versions.v1_5)),
  };
}

interface ExecuteAction {
  action: Json;
  at: readonly (string | number)[];
}

/** Every Action.Execute in the card with where it sits. */
function executeActions(card: CardJson): ExecuteAction[] {
  const found: ExecuteAction[] = [];
  walk(card, (value, at) => {
    if (isObject(value) && value.type === 'Action.Execute') found.push({ action: value, at });
  });
  return found;
}

/** The card-level refresh action (Universal Actions user-specific views): invoked by the client, never shown. */
const isRefreshAction = (at: readonly (string | number)[]): boolean => at.length === 2 && at[0] === 'refresh' && at[1] === 'action';

/** Where an Action.Execute may sit: in an ActionSet's actions, or as an element's selectAction. */
function placement(card: CardJson, at: readonly (string | number)[]): 'actionSet' | 'selectAction' | 'refresh' | 'elsewhere' {
  if (isRefreshAction(at)) return 'refresh';
  if (at[at.length - 1] === 'selectAction') return 'selectAction';
  if (at.length >= 3 && at[at.length - 2] === 'actions') {
    let owner: unknown = card;
    for (const key of at.slice(0, -2)) owner = Array.isArray(owner) ? owner[key as number] : isObject(owner) ? owner[key as string] : undefined;
    if (isObject(owner) && owner.type === 'ActionSet') return 'actionSet';
  }
  return 'elsewhere';
}

/**
 * The card as a client without Universal Actions sees it: every Action.Execute replaced by its
 * fallback. The SDK parses a fallback only when the primary type is unknown, so without this the
 * Action.Submit fallbacks would never be validated.
 */
function fallbackCard(card: CardJson): CardJson {
  const replace = (node: unknown, at: readonly (string | number)[]): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => replace(item, [...at, i]));
    if (!isObject(node)) return node;
    if (node.type === 'Action.Execute' && !isRefreshAction(at) && isObject(node.fallback)) return node.fallback;
    return Object.fromEntries(Object.entries(node).filter(([key]) => !(at.length === 0 && key === 'refresh')).map(([key, value]) => [key, replace(value, [...at, key])]));
  };
  return replace(card, []) as CardJson;
}

/**
 * Properties the SDK left out when serializing the card back: a property it does not know (a typo
 * such as "isSubltle") is parsed without a word and silently lost. The SDK also leaves out values
 * equal to their defaults, and the fallback of an action it knows; those are not reported.
 */
const DEFAULTS: Record<string, Record<string, unknown>> = { 'Input.ChoiceSet': { style: 'compact' } };

function droppedProperties(original: unknown, back: unknown, at: readonly (string | number)[] = []): string[] {
  if (Array.isArray(original)) {
    if (!Array.isArray(back) || back.length !== original.length) return [`${pathText(at)} (array of ${original.length} came back as ${Array.isArray(back) ? back.length : typeof back})`];
    return original.flatMap((item, i) => droppedProperties(item, back[i], [...at, i]));
  }
  if (!isObject(original)) return [];
  if (!isObject(back)) return [`${pathText(at)} (object came back as ${typeof back})`];
  const type = typeof original.type === 'string' ? original.type : '';
  return Object.entries(original).flatMap(([key, value]) => {
    if (key in back) return droppedProperties(value, back[key], [...at, key]);
    const isDefault = value === '' || (Array.isArray(value) && value.length === 0) || DEFAULTS[type]?.[key] === value;
    const isActionFallback = key === 'fallback' && type.startsWith('Action.');
    return isDefault || isActionFallback ? [] : [pathText([...at, key])];
  });
}

/** Whether `actual` has every property of `expected` (recursively for objects), with the same value. */
function contains(actual: unknown, expected: unknown): boolean {
  if (isObject(expected)) return isObject(actual) && Object.entries(expected).every(([key, value]) => contains(actual[key], value));
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/**
 * `${...}` left in a string (the templating engine leaves unresolved expressions as they are),
 * $when/$data keys, or a `{name}` placeholder of the strings table that format() left unfilled.
 * Monospace text is exempt from the last: the plan's PowerShell/Graph lines name ids that do not
 * exist yet as "{objectId}" on purpose (src/provisioning/equivalents.ts).
 */
function templateLeftovers(card: CardJson): string[] {
  const leftovers: string[] = [];
  walk(card, (value, at) => {
    if (typeof value === 'string' && value.includes('${')) leftovers.push(`${pathText(at)}: ${value}`);
    if (!isObject(value)) return;
    for (const [key, v] of Object.entries(value)) {
      if (key.startsWith('$') && key !== '$schema') leftovers.push(`${pathText([...at, key])} (templating key)`);
      if (typeof v === 'string' && !v.includes('${') && /\{\w+\}/.test(v) && value.fontType !== 'monospace') leftovers.push(`${pathText([...at, key])}: ${v}`);
    }
  });
  return leftovers;
}

/**
 * teams-platform.md §3.1: every Action.Execute sits in an ActionSet (older clients ignore the
 * fallback otherwise) or is a selectAction, and falls back to an Action.Submit with the same title,
 * data, verb (in data) and associatedInputs, so the bot handles both alike (src/cards/render.ts).
 */
function executeProblems(card: CardJson): string[] {
  const problems: string[] = [];
  for (const { action, at } of executeActions(card)) {
    const where = placement(card, at);
    if (where === 'refresh') continue;
    if (where === 'elsewhere') problems.push(`${pathText(at)}: not in an ActionSet nor a selectAction`);
    const data = isObject(action.data) ? action.data : {};
    const expected = {
      type: 'Action.Submit',
      data: { ...data, verb: action.verb },
      ...(action.title !== undefined ? { title: action.title } : {}),
      ...(action.associatedInputs !== undefined ? { associatedInputs: action.associatedInputs } : {}),
    };
    if (!isObject(action.fallback)) problems.push(`${pathText(at)}: no Action.Submit fallback`);
    else if (!contains(action.fallback, expected)) problems.push(`${pathText(at)}: fallback ${JSON.stringify(action.fallback)} does not carry ${JSON.stringify(expected)}`);
  }
  return problems;
}

/** The English catalogue (the gallery's) and the same cards in French: French strings run longer. */
const LOCALES: readonly Locale[] = ['en', 'fr'];
const cases = LOCALES.flatMap((locale) => (locale === 'en' ? catalogue : buildCatalogue(locale)).map((entry) => [`${locale} ${entry.name}`, entry] as const));
const bytes = (card: CardJson): number => Buffer.byteLength(JSON.stringify(card), 'utf8');

describe('card catalogue', () => {
  it('has an entry for every template in cards/', () => {
    expect(templateNames().length).toBeGreaterThan(0);
    expect(uncoveredTemplates(catalogue)).toEqual([]);
    expect(() => assertCatalogueComplete(catalogue)).not.toThrow();
  });

  it('has the same cards in every language', () => {
    for (const locale of LOCALES) expect(buildCatalogue(locale).map((e) => e.name)).toEqual(catalogue.map((e) => e.name));
  });

  it('uses unique, file-name-safe names', () => {
    const names = catalogue.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('reports a template without an entry', () => {
    const withoutHelp = catalogue.filter((e) => e.template !== 'help');
    expect(uncoveredTemplates(withoutHelp)).toEqual(['help']);
    expect(() => assertCatalogueComplete(withoutHelp)).toThrow('cards/help.json has no entry');
  });
});

describe.each(cases)('card %s', (_name, entry: CatalogueEntry) => {
  const { card } = entry;

  it('parses and validates with the adaptivecards SDK at schema 1.5, without any event', () => {
    expect(parseWithSdk(standardCard(card)).events).toEqual([]);
  });

  it('keeps every property through the SDK (no unknown property)', () => {
    const json = standardCard(card);
    expect(droppedProperties(json, parseWithSdk(json).roundTrip)).toEqual([]);
  });

  it('declares version 1.5', () => {
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.5');
  });

  it(`is under ${MAX_CARD_BYTES / 1024} KB`, () => {
    expect(bytes(card)).toBeLessThan(MAX_CARD_BYTES);
  });

  it('has no unresolved template expression, templating key or strings placeholder left', () => {
    expect(templateLeftovers(card)).toEqual([]);
  });

  it('puts every Action.Execute in an ActionSet (or a selectAction), with an Action.Submit fallback carrying its verb', () => {
    expect(executeProblems(card)).toEqual([]);
  });

  it('still validates as seen by a client without Universal Actions (fallbacks in place)', () => {
    const old = fallbackCard(standardCard(card));
    expect(executeActions(old).map(({ at }) => pathText(at))).toEqual([]);
    expect(parseWithSdk(old).events).toEqual([]);
  });
});

/** The checks above catch what they are meant to: each fails on a card that breaks its rule. */
describe('the card checks', () => {
  const base = (body: unknown[], extra: Json = {}): CardJson => ({ type: 'AdaptiveCard', version: '1.5', body, ...extra });
  const execute = (verb: string, extra: Json = {}): Json => ({ type: 'Action.Execute', title: 'Go', verb, data: { id: 1 }, fallback: { type: 'Action.Submit', title: 'Go', data: { id: 1, verb } }, ...extra });

  it('the SDK reports unknown types, bad values, missing ids, unlabelled inputs, duplicate ids and too many actions', () => {
    const events = (card: CardJson) => parseWithSdk(card).events.join('\n');
    expect(events(base([{ type: 'TextBlok', text: 'x' }]))).toContain('UnknownElementType');
    expect(events(base([{ type: 'TextBlock', text: 'x', size: 'huge' }]))).toContain('InvalidPropertyValue');
    expect(events(base([{ type: 'Input.Text' }]))).toContain('PropertyCantBeNull');
    expect(events(base([{ type: 'Input.Text', id: 'a', label: 'A', isRequired: true }]))).toContain('RequiredInputsShouldHaveErrorMessage');
    expect(events(base([{ type: 'TextBlock', text: 'a', id: 'x' }, { type: 'TextBlock', text: 'b', id: 'x' }]))).toContain('DuplicateId');
    expect(events(base([{ type: 'ActionSet', actions: Array.from({ length: 7 }, (_, i) => execute(`v${i}`)) }]))).toContain('TooManyActions');
  });

  it('finds a property the SDK does not know', () => {
    const card = base([{ type: 'TextBlock', text: 'x', isSubltle: true }]);
    expect(droppedProperties(card, parseWithSdk(card).roundTrip)).toEqual(['/body/0/isSubltle']);
  });

  it('finds leftover template expressions, keys and placeholders', () => {
    expect(templateLeftovers(base([{ type: 'TextBlock', text: 'Hi ${nope.x}', $when: true }]))).toEqual(['/body/0/$when (templating key)', '/body/0/text: Hi ${nope.x}']);
    expect(templateLeftovers(base([{ type: 'TextBlock', text: 'No free {sku} seat' }]))).toEqual(['/body/0/text: No free {sku} seat']);
    expect(templateLeftovers(base([{ type: 'TextBlock', text: "Set-CsX -Body @{usageLocation='US'}" }]))).toEqual([]);
    expect(templateLeftovers(base([{ type: 'TextBlock', text: 'PATCH /users/{objectId}', fontType: 'monospace' }]))).toEqual([]);
  });

  it('finds an Action.Execute outside an ActionSet, or without a matching fallback', () => {
    expect(executeProblems(base([], { actions: [execute('a')] }))).toEqual(['/actions/0: not in an ActionSet nor a selectAction']);
    expect(executeProblems(base([{ type: 'ActionSet', actions: [{ ...execute('a'), fallback: undefined }] }]))).toEqual(['/body/0/actions/0: no Action.Submit fallback']);
    const wrongVerb = { ...execute('a'), fallback: { type: 'Action.Submit', title: 'Go', data: { id: 1, verb: 'b' } } };
    expect(executeProblems(base([{ type: 'ActionSet', actions: [wrongVerb] }]))).toHaveLength(1);
    const sendsInputs = execute('cancel', { associatedInputs: 'none' });
    expect(executeProblems(base([{ type: 'ActionSet', actions: [sendsInputs] }]))).toHaveLength(1);
    expect(executeProblems(base([{ type: 'Container', items: [], selectAction: execute('a') }], { refresh: { action: { type: 'Action.Execute', verb: 'r' } } }))).toEqual([]);
  });

  it('shows a client without Universal Actions the fallbacks', () => {
    const card = base([{ type: 'ActionSet', actions: [execute('a')] }], { refresh: { action: { type: 'Action.Execute', verb: 'r' }, userIds: [] } });
    expect(fallbackCard(card)).toEqual(base([{ type: 'ActionSet', actions: [{ type: 'Action.Submit', title: 'Go', data: { id: 1, verb: 'a' } }] }]));
  });
});
