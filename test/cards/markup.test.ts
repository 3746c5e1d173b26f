import type { ChangeRequest } from '../../src/approvals/requests';
import { DEMO, demoTenant } from '../../src/backends/simulated/seed';
import { toResourceAccount } from '../../src/backends/simulated/state';
import { accountDetailsCard } from '../../src/cards/accountDetails';
import { accountListCard } from '../../src/cards/accountList';
import { approvalRequestCard } from '../../src/cards/approvalRequest';
import { associateFormCard } from '../../src/cards/associateForm';
import { describeRefusal } from '../../src/cards/describe';
import { editAccountFormCard } from '../../src/cards/editAccountForm';
import { helpCard } from '../../src/cards/help';
import { historyCard } from '../../src/cards/history';
import { numberTypeCard } from '../../src/cards/numberType';
import { planCard } from '../../src/cards/planCard';
import type { CardJson } from '../../src/cards/render';
import { plainText } from '../../src/cards/text';
import { en } from '../../src/i18n/en';
import { fr } from '../../src/i18n/fr';
import { countryList } from '../../src/provisioning/countries';
import type { VoiceApplication } from '../../src/provisioning/directory';
import type { ResourceAccount } from '../../src/provisioning/model';
import type { Plan, Step } from '../../src/provisioning/plans';
import { refuse } from '../../src/provisioning/result';
import { findInput } from '../helpers/conversation';
import { ADMIN, APPROVER, TENANT } from '../helpers/identities';
import { asRead, cardMarkup, markdownTexts, markupIn } from './markdown';

/**
 * Issue 9 item 15: text from users and from the tenant reaches Markdown-rendered card texts as plain
 * text (src/cards/text.ts). Conversation-level checks through the bot: test/bot/markup.test.ts; in a
 * real renderer (the Agents Playground): test/e2e/playground.test.ts.
 */

/** Text a user or a tenant can send that Markdown (or the bidi algorithm) would act on. */
const HOSTILE: readonly (readonly [string, string])[] = [
  ['a link', '[click](https://evil.example)'],
  ['an image', '![x](https://evil.example/pixel.png)'],
  ['a reference link definition', '[x]: https://evil.example'],
  ['bold', '**bold**'],
  ['italic', '_italic_'],
  ['bold inside a word', 'a**b**c'],
  ['a heading', '# heading'],
  ['a bullet list', '- item'],
  ['a "+" list', '+ item'],
  ['a numbered list', '1. item'],
  ['a numbered list with ")"', '2) item'],
  ['a block quote', '> quoted'],
  ['a thematic break', '---'],
  ['a list on a second line', 'Sales\n- item\r\n1. item'],
  ['a list after a parenthesis (shared-model parser)', '(x)- item'],
  ['a numbered list after a bracket (shared-model parser)', '[x]1. item'],
  ['a Teams mention tag', '<at>x</at>'],
  ['an autolink', '<https://evil.example>'],
  ['an email autolink', '<boss@evil.example>'],
  ['a right-to-left override', 'evil\u202Etxt.exe'],
  ['a left-to-right isolate', 'a\u2066b'],
  ['every bidi control', 'a\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061Cb'],
  ['a character reference to a bidi control', '&#x202E;gnp.exe'],
  ['a date function', '{{DATE(2017-02-14T06:00:00Z, SHORT)}}'],
  ['a backslash before a link', '\\[x](https://evil.example)'],
];

/** Names as they are: must come out byte-identical. */
const ORDINARY = [
  'Ada Admin',
  'Main line',
  'contoso.com',
  'aa-main@contoso.com',
  'aa_main.night-1@contoso.com',
  "O'Brien (Paris) - night line, 24/7",
  'O’Brien',
  'Accueil général',
  'Zürich Empfang',
  'مكتب الاستقبال',
  '+14255550100',
  '+33170000999;ext=12',
  'x <= 5 & y > 2',
  'Sales & Support',
  'Mainline*',
] as const;

/** What a hostile value should read as once shown: the same characters, minus bidi controls, one line. */
const expectedReading = (value: string): string => value.replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');

describe('plainText', () => {
  it.each(HOSTILE)('leaves %s nothing Markdown or the bidi algorithm would act on', (_case, value) => {
    expect(markupIn(value)).not.toEqual([]);
    const plain = plainText(value);
    expect(markupIn(plain)).toEqual([]);
    // Nothing is lost: read by a person, it is the text that was sent.
    expect(asRead(plain)).toBe(expectedReading(value));
  });

  it.each(HOSTILE)('changes nothing the second time (%s)', (_case, value) => {
    expect(plainText(plainText(value))).toBe(plainText(value));
  });

  it.each(ORDINARY.filter((v) => !v.includes('*')))('leaves %j byte-identical', (value) => {
    expect(plainText(value)).toBe(value);
  });

  it('shows a lone asterisk as its lookalike (any "*" may pair with another one in the same text)', () => {
    expect(plainText('Mainline*')).toBe('Mainline\u2217');
  });

  it('keeps an underscore between letters or digits, where it cannot delimit emphasis, and replaces the others', () => {
    expect(plainText('aa_main_1@contoso.com')).toBe('aa_main_1@contoso.com');
    expect(plainText('_x a_ é_b')).toBe('\uff3fx a\uff3f é\uff3fb');
  });

  it('breaks link syntax with an invisible word joiner, not with a backslash a client may show or ignore', () => {
    expect(plainText('[click](https://evil.example)')).toBe('[click]\u2060(https://evil.example)');
    expect(plainText('<at>x</at>')).toBe('<\u2060at>x<\u2060/at>');
    expect(plainText('[click](https://evil.example)')).not.toContain('\\');
  });

  it('breaks a character reference that the template would complete with its ";" ("{number}; it must…")', () => {
    expect(markupIn('+1 &#x202E; it must be unassigned')).not.toEqual([]);
    expect(markupIn(`${plainText('+1 &#x202E')}; it must be unassigned`)).toEqual([]);
  });

  it('removes bidi controls, so that the characters read in the order they are stored', () => {
    expect(plainText('evil\u202Etxt.exe')).toBe('eviltxt.exe');
    expect(plainText('\u2067مكتب\u2069 Paris')).toBe('مكتب Paris');
  });

  it('changes none of the demo tenant, the strings tables\' labels or the country names', () => {
    const state = demoTenant(TENANT, new Date('2026-03-02T09:30:00.000Z'));
    const tenantTexts = [
      ...Object.values(state.accounts).flatMap((a) => [a.displayName, a.userPrincipalName, a.phoneNumber ?? '', ...a.associations.map((x) => x.name)]),
      ...Object.values(state.voiceApps).map((v) => v.name),
      ...state.domains.map((d) => d.name),
      ...state.skus.map((s) => s.skuPartNumber),
    ];
    const labels = [en, fr].flatMap((s) => [...Object.values(s.accountType), ...Object.values(s.numberType), ...Object.values(s.license), ...Object.values(s.plan.state)]);
    const countries = (['en', 'fr'] as const).flatMap((l) => countryList(l).map((c) => c.name));
    for (const text of [...tenantTexts, ...labels, ...countries]) expect(plainText(text)).toBe(text);
  });
});

/**
 * plainText decides some cases on the character after a value, which the strings table supplies: it
 * never completes markup there. Checked on every string of both tables.
 */
describe('the strings tables around a placeholder', () => {
  const leaves = (node: unknown): string[] => (typeof node === 'string' ? [node] : node && typeof node === 'object' ? Object.values(node).flatMap(leaves) : []);
  const templates = [...leaves(en), ...leaves(fr)].filter((t) => /\{\w+\}/.test(t));

  it('never puts right after a placeholder a letter, "/", "!", "?", "{", "-", a digit or "#"', () => {
    expect(templates.filter((t) => /\{\w+\}[A-Za-z/!?{\-0-9#]/.test(t))).toEqual([]);
  });

  it('never starts with a placeholder followed by "." or ")" (a number there would start a list)', () => {
    expect(templates.filter((t) => /^\{\w+\}[.)]/.test(t))).toEqual([]);
  });

  it('never puts right before a placeholder "[", "]", ")", "<", "&", "\\\\" or "_"', () => {
    expect(templates.filter((t) => /[[\])<&\\_]\{\w+\}/.test(t))).toEqual([]);
  });
});

/**
 * An attack on plainText: random mixes of every character that matters, in every string of both tables
 * (each placeholder filled with the same value), and alone as a whole TextBlock. Seeded, so a failure
 * repeats; a longer run (20,000 values over every string) found nothing these 400 miss.
 */
describe('random mixes of Markdown characters', () => {
  const alphabet = ['[', ']', '(', ')', '<', '>', '*', '_', '-', '+', '#', '&', ';', '{', '}', '\\', '\n', '\r', '\u202E', '\u2066', '\u200F', '1', '.', ' ', 'a', 'Z', '@', ':', '!', '=', '`', '~', 'é', '\u2060', 'x', '/', '?', '"', "'", '\u2019', '|', '0'];
  let seed = 20260302;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const values = Array.from({ length: 400 }, () => Array.from({ length: 1 + Math.floor(random() * 10) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
  const leaves = (node: unknown): string[] => (typeof node === 'string' ? [node] : node && typeof node === 'object' ? Object.values(node).flatMap(leaves) : []);
  // History sentences are filled with raw values and escaped whole (src/audit/sentences.ts, then
  // plainText in src/cards/history.ts), so filling them with escaped values is not how they are used.
  const sentenceParts = (h: typeof en.history) => leaves([h.sentence, h.verbs, h.changes, h.planDone, h.planFailed, h.planRequested]);
  const escapedWhole = new Set([...sentenceParts(en.history), ...sentenceParts(fr.history)]);
  const templates = ['{value}', ...[...leaves(en), ...leaves(fr)].filter((t) => /\{\w+\}/.test(t) && !escapedWhole.has(t))];
  const fill = (template: string, value: string) => template.replace(/\{\w+\}/g, value);

  it('never adds markup to a string of the tables, nor on its own', () => {
    const found: string[] = [];
    for (const template of templates) {
      const own = markupIn(fill(template, 'Ordinary'));
      for (const value of values) {
        const extra = markupIn(fill(template, plainText(value))).filter((m) => !own.includes(m));
        if (extra.length) found.push(`${JSON.stringify(value)} in ${JSON.stringify(template)}: ${extra.join(', ')}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('is idempotent on them', () => {
    expect(values.filter((v) => plainText(plainText(v)) !== plainText(v))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The cards, through their real builders

const NOW = new Date('2026-03-02T09:30:00.000Z');
const at = (minutes: number): string => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const state = demoTenant(TENANT, NOW);
const facts = { tenantId: state.tenantId, displayName: state.displayName, domains: state.domains, skus: state.skus };
const mainLine = toResourceAccount(state.accounts[DEMO.accounts.mainLine.id]!);

/** The demo's Main line account with a display name, a UPN and an association (voice application) name from the tenant. */
function accountNamed(text: string): ResourceAccount {
  return { ...mainLine, displayName: text, associations: mainLine.associations.map((a) => ({ ...a, name: text })) };
}

function plan(text: string, steps: Step[], status: Plan['status'] = 'awaitingConfirmation'): Plan {
  return {
    id: 'p-markup',
    kind: 'editAccount',
    version: 1,
    status,
    account: { id: mainLine.id, userPrincipalName: mainLine.userPrincipalName, displayName: text },
    requestedBy: { aadObjectId: ADMIN.aadObjectId, name: text },
    needsApproval: false,
    createdAt: at(-10),
    updatedAt: at(-1),
    steps: steps.map((step) => ({ step, state: { status: 'pending' } })),
  };
}

function request(text: string, status: ChangeRequest['status']): ChangeRequest {
  return {
    id: 'p-markup',
    kind: 'deleteAccount',
    account: { id: mainLine.id, userPrincipalName: mainLine.userPrincipalName, displayName: text },
    requestedBy: { aadObjectId: ADMIN.aadObjectId, name: text, userId: ADMIN.id },
    proposedBy: { aadObjectId: ADMIN.aadObjectId, name: text },
    status,
    version: 2,
    createdAt: at(-10),
    expiresAt: at(60),
    ...(status === 'rejected' ? { decision: { aadObjectId: APPROVER.aadObjectId, name: text, at: at(-1), reason: text } } : {}),
  };
}

const voiceApps = (text: string): VoiceApplication[] => [{ configurationId: 'c0000000-0000-4000-8000-000000000042', configurationType: 'autoAttendant', name: text, accountIds: [] }];

/** Each place where a card shows user or tenant text, built with that text. */
const CARDS: readonly (readonly [string, (text: string) => CardJson])[] = [
  ['account card: display name, association', (t) => accountDetailsCard(accountNamed(t), facts.skus, 'en')],
  ['account list: display name', (t) => accountListCard({ items: [accountNamed(t)], total: 1, offset: 0, limit: 10 }, facts.skus, 'en')],
  [
    'plan card: display name, voice application, requester, a tenant error',
    (t) => {
      const p = plan(t, [
        { kind: 'createAccount', userPrincipalName: mainLine.userPrincipalName, displayName: t, accountType: 'autoAttendant' },
        { kind: 'updateAccount', displayName: t },
        { kind: 'associate', configurationId: 'c0000000-0000-4000-8000-000000000042', configurationType: 'autoAttendant', name: t },
        { kind: 'dissociate', configurationId: 'c0000000-0000-4000-8000-000000000042', name: t },
      ]);
      const failed: Plan = { ...p, status: 'failed', steps: p.steps.map((s, i) => (i === 0 ? { ...s, state: { status: 'failed', note: { reason: 'TENANT_OPERATION_FAILED', params: { upn: t, detail: t } } } } : s)) };
      return planCard(failed, facts, 'en', accountNamed(t));
    },
  ],
  [
    'plan card waiting for an approver: who was asked',
    (t) => planCard(plan(t, [{ kind: 'deleteAccount' }]), facts, 'en', accountNamed(t), { line: 'Waiting for an approver.', tone: 'warning', pending: true, endedPlan: false, requestId: 'p-markup', note: `Sent for approval to ${plainText(t)}.` }),
  ],
  ['approval card (approver): requester', (t) => approvalRequestCard(request(t, 'pending'), plan(t, [{ kind: 'deleteAccount' }]), 'approver', 'en', [])],
  ['approval card (requester): unreachable approver', (t) => approvalRequestCard(request(t, 'pending'), plan(t, [{ kind: 'deleteAccount' }]), 'requester', 'en', [], [t])],
  ['approval card, rejected: approver name and reason', (t) => approvalRequestCard(request(t, 'rejected'), plan(t, [{ kind: 'deleteAccount' }], 'cancelled'), 'other', 'en', [])],
  ['edit form: "used by" a voice application', (t) => editAccountFormCard(accountNamed(t), 'en')],
  ['associate form: display name, "already used by"', (t) => associateFormCard(accountNamed(t), voiceApps(t), 'en')],
  ['associate form: typed search words that match nothing', (t) => associateFormCard({ ...accountNamed(t), associations: [] }, [], 'en', { text: `${t} zzz` })],
  [
    'history: actor, account, reason',
    (t) => historyCard({ entries: [{ id: 'e1', at: at(-1), actor: { aadObjectId: ADMIN.aadObjectId, name: t }, action: 'account.update', target: t, outcome: 'refused', reason: t }], total: 1, offset: 0, limit: 10 }, 'en', t),
  ],
  ['help: the command that was not understood', (t) => helpCard('en', { admin: true, approver: false }, ADMIN.aadObjectId, t)],
  ['number card: UPN from the tenant', (t) => numberTypeCard({ ...mainLine, userPrincipalName: t, phoneNumber: null }, facts.skus, 'en')],
];

describe.each(CARDS)('%s', (_name, build) => {
  /** What the template itself contributes (e.g. "1. " steps on the approval card); the same for every name. */
  const own = (card: CardJson): string[] => cardMarkup(card).map((m) => m.replace(/ in ".*"$/, ''));
  const baseline = own(build('Ordinary name'));

  it.each(HOSTILE)('shows %s as plain text', (_case, value) => {
    const card = build(value);
    expect(own(card)).toEqual(baseline);
    expect(asRead(markdownTexts(card).join('\n'))).toContain(expectedReading(value));
  });

  it.each(ORDINARY.filter((v) => !v.includes('*')))('shows %j exactly as it is', (value) => {
    expect(markdownTexts(build(value)).join('\n')).toContain(value);
  });
});

describe('refusal messages', () => {
  it.each(HOSTILE)('make every param plain text (%s)', (_case, value) => {
    const message = describeRefusal(refuse('TENANT_OPERATION_FAILED', { upn: value, detail: value }), 'en');
    expect(markupIn(message)).toEqual([]);
    expect(asRead(message)).toBe(`The tenant refused the change for ${expectedReading(value)}: "${expectedReading(value)}"`);
  });

  it('keep the strings table\'s own text as it is (the "_" in the allowed characters is ours)', () => {
    expect(describeRefusal(refuse('UPN_INVALID_CHARACTERS', { characters: 'é' }), 'en')).toBe(
      "The username can only contain letters A–Z, digits and ' . - _ ! # ^ ~ (no accents or spaces). Not allowed here: é.",
    );
  });

  it.each([
    ['en', ' é@', 'Not allowed here: space é @.'],
    ['fr', ' ', 'Non autorisé ici : espace.'],
    // Invisible ones by their code point (a zero-width space, a tab, a right-to-left override).
    ['en', '\u200B\t\u202E', 'Not allowed here: U+200B U+0009 U+202E.'],
    // An accent typed apart from its letter (NFD, as macOS pastes "josé").
    ['en', '\u0301', 'Not allowed here: U+0301.'],
  ] as const)('name characters that do not show when written as they are (%s, %j)', (locale, characters, end) => {
    // French sets a narrow no-break space before its colon.
    const message = describeRefusal(refuse('UPN_INVALID_CHARACTERS', { characters }), locale).replace(/[\u00A0\u202F]/g, ' ');
    expect(message.slice(-end.length)).toBe(end);
  });
});

describe('text that is not Markdown-rendered is left exactly as typed', () => {
  const value = '[x](https://evil.example) **b** evil\u202Etxt';

  it('keeps an Input value, so that saving the form does not save escape characters', () => {
    expect(findInput(editAccountFormCard(accountNamed(value), 'en'), 'displayName')?.value).toBe(value);
  });

  it('keeps choice titles and the data a button sends back', () => {
    const card = associateFormCard({ ...accountNamed('x'), associations: [] }, voiceApps(value), 'en');
    expect(findInput(card, 'configurationId')?.choices).toEqual([{ title: `${value} (no resource account yet)`, value: 'c0000000-0000-4000-8000-000000000042' }]);
    const history = historyCard({ entries: [], total: 0, offset: 0, limit: 10 }, 'en', value);
    expect(JSON.stringify(history)).toContain(JSON.stringify({ username: value }).slice(1, -1));
  });
});
