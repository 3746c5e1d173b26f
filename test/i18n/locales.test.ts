import { describeRefusal } from '../../src/cards/describe';
import { en } from '../../src/i18n/en';
import { fr, frenchSpacing } from '../../src/i18n/fr';
import { format, localeOf, strings } from '../../src/i18n';
import { refuse } from '../../src/provisioning/result';

/** Every string of a table with its path: ["reasons.UPN_REQUIRED", "Enter a username."], … */
function leaves(node: unknown, path = ''): [string, string][] {
  if (typeof node === 'string') return [[path, node]];
  if (node && typeof node === 'object') {
    return Object.entries(node).flatMap(([key, value]) => leaves(value, path ? `${path}.${key}` : key));
  }
  throw new Error(`${path || 'the table'} is neither a string nor an object`);
}

/** The {placeholders} of a string, sorted, each once. */
const placeholders = (text: string): string[] => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();

const EN = new Map(leaves(en));
const FR = new Map(leaves(fr));

/**
 * Strings that read the same in both languages: product and cmdlet names, a command's own syntax,
 * separators. Anything else equal to its English original was probably forgotten.
 */
const SAME_IN_BOTH = new Set([
  'help.title', // Switchboard
  'account.type', // Type
  'list.type',
  'numberType.operatorConnect', // product name
  'plan.showCommands', // PowerShell / Graph
  'history.line', // {at} · {actor}
  'history.sentence.reason', // {sentence} — {reason}
  'history.sentence.system', // Switchboard (the product's name, as actor)
  'import.readyNumber', // {number} ({numberType})
]);

describe('the French table', () => {
  it('has exactly the keys of the English one', () => {
    expect([...FR.keys()].sort()).toEqual([...EN.keys()].sort());
  });

  it.each([...EN.entries()])('%s keeps the same placeholders', (path, english) => {
    expect(placeholders(FR.get(path) ?? '')).toEqual(placeholders(english));
  });

  it('translates every string but names and syntax', () => {
    const same = [...EN.entries()].filter(([path, english]) => FR.get(path) === english).map(([path]) => path);
    expect(same.sort()).toEqual([...SAME_IN_BOTH].sort());
  });

  it('is non-empty and has no stray whitespace', () => {
    for (const [path, text] of FR) {
      expect([path, text.trim().length > 0, text === text.trim(), /\s{2}/.test(text)]).toEqual([path, true, true, false]);
    }
  });

  it('keeps the commands users type untranslated', () => {
    expect(fr.account.nextStepNumber).toContain('number {upn}');
    expect(fr.number.usage).toContain('number <nom d’utilisateur>');
    expect(fr.edit.usage).toContain('edit <nom d’utilisateur>');
    expect(fr.associate.more).toContain('associate {upn}');
    expect(fr.errors.exportUsage).toContain('export history');
    expect(fr.help.listSyntax).toBe('list [mots] [aa|cq] [licensed|unlicensed] [number|no-number]');
  });

  it('uses a no-break space before : ; ? ! and inside « », never an ordinary one', () => {
    for (const [path, text] of FR) {
      expect([path, /[\p{L}\p{N})\]}»] [:;?!](\s|$)/u.test(text), /« | »/.test(text)]).toEqual([path, false, false]);
    }
    expect(fr.approval.status.rejected).toBe('Refusé par {name} le {at}\u00a0: «\u00a0{reason}\u00a0». Rien n’a été modifié.');
    expect(fr.number.typeIntro).toBe('Quel type de numéro de service doit-il recevoir\u00a0?');
  });
});

describe('frenchSpacing', () => {
  it.each([
    ['Motif : « {reason} »', 'Motif\u00a0: «\u00a0{reason}\u00a0»'],
    ['{upn} a déjà une modification en cours ; attendez.', '{upn} a déjà une modification en cours\u00a0; attendez.'],
    ['Pourquoi ?', 'Pourquoi\u00a0?'],
    // A list of signs and ";ext=" are left as they are.
    ["lettres, chiffres et ' . - _ ! # ^ ~ (ni accents)", "lettres, chiffres et ' . - _ ! # ^ ~ (ni accents)"],
    ['un poste ;ext=12', 'un poste ;ext=12'],
    ['10:00 UTC', '10:00 UTC'],
  ])('%s', (text, spaced) => {
    expect(frenchSpacing(text)).toBe(spaced);
  });
});

describe('localeOf', () => {
  it.each([
    ['fr-FR', 'fr'],
    ['fr-CA', 'fr'],
    ['fr-be', 'fr'],
    ['FR', 'fr'],
    ['fr', 'fr'],
    ['en-US', 'en'],
    ['en-GB', 'en'],
    ['de-DE', 'en'],
    ['frr-DE', 'en'],
    ['', 'en'],
    [undefined, 'en'],
  ])('%s → %s', (activityLocale, locale) => {
    expect(localeOf(activityLocale)).toBe(locale);
  });

  it('gives each locale its own table, with a word joiner after each "<" of a placeholder (Markdown would take "<username>" for a tag)', () => {
    const unjoined = (table: unknown) => JSON.parse(JSON.stringify(table).replace(/\u2060/g, '')) as unknown;
    expect(unjoined(strings('en'))).toEqual(en);
    expect(unjoined(strings('fr'))).toEqual(fr);
    expect(strings('en').errors.accountUsage).toContain('"{command} <\u2060username>"');
    expect(JSON.stringify(strings('fr'))).not.toMatch(/<\p{L}/u);
  });
});

describe('refusals in both languages', () => {
  it.each([
    ['en', 'cancelled', 'This request is already cancelled; nothing more was done.'],
    ['en', 'done', 'This request is already done; nothing more was done.'],
    ['fr', 'cancelled', 'Cette demande est déjà annulée\u00a0; rien de plus n’a été fait.'],
    ['fr', 'done', 'Cette demande est déjà terminée\u00a0; rien de plus n’a été fait.'],
    ['fr', 'running', 'Cette demande est déjà en cours\u00a0; rien de plus n’a été fait.'],
  ] as const)('a plan already decided (%s, %s) names its state in words', (locale, status, text) => {
    expect(describeRefusal(refuse('PLAN_ALREADY_DECIDED', { status }), locale)).toBe(text);
  });

  it('names account and number types in the viewer’s language', () => {
    const mismatch = refuse('ASSOCIATION_TYPE_MISMATCH', { upn: 'cq-ventes@contoso.com', accountType: 'callQueue', voiceApp: 'Standard' });
    expect(describeRefusal(mismatch, 'fr')).toBe('cq-ventes@contoso.com est un compte de type File d’attente d’appels et ne peut pas être utilisé par Standard.');
    const wrongType = refuse('NUMBER_WRONG_TYPE', { number: '+33170000100', actual: 'callingPlan', expected: 'directRouting' });
    expect(describeRefusal(wrongType, 'fr')).toBe('+33170000100 est de type Forfait d’appels, et non Routage direct.');
    expect(describeRefusal(wrongType, 'en')).toBe('+33170000100 is of type Calling Plan, not Direct Routing.');
  });

  it('fills the same placeholders in both languages', () => {
    const params = { free: 0, enabled: 20, sku: 'MCOEV' };
    expect(format(en.reasons.LICENSE_NO_FREE_SEAT, params)).toContain('No free MCOEV license: 0 of 20 left.');
    expect(format(fr.reasons.LICENSE_NO_FREE_SEAT, params)).toBe(
      'Aucune licence MCOEV disponible\u00a0: il en reste 0 sur 20. Procurez-vous-en dans le Centre d’administration Microsoft 365, sous Facturation › Acheter des services (les licences Compte de ressources sont gratuites, mais doivent être acquises).',
    );
  });
});
