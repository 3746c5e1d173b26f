import { DEMO } from '../../src/backends/simulated/seed';
import { plainText } from '../../src/cards/text';
import { equivalentOf, powerShellString } from '../../src/provisioning/equivalents';
import type { TenantFacts } from '../../src/provisioning/model';
import type { Plan, Step } from '../../src/provisioning/plans';

/**
 * The PowerShell equivalents on the plan card: every value reads back exactly in PowerShell, and the
 * line is inert Markdown (the card shows it in a TextBlock, which Teams renders as Markdown).
 *
 * pwsh is not installed here, so the PowerShell side is a small parser of exactly what
 * powerShellString writes, from the PowerShell Language Specification 3.0 (§2.3.5.2 String literals;
 * about_Quoting_Rules):
 *   verbatim-string-literal: single-quote-character verbatim-string-characters? single-quote-character
 *   single-quote-character: ' (U+0027) | U+2018 | U+2019 | U+201A | U+201B
 *   verbatim-string-part: any character except single-quote-character
 *                       | single-quote-character single-quote-character
 * plus, for characters written by code point, a parenthesized sum of such literals and [char]0xNNNN
 * casts (§7.2.9 cast expressions, §7.7.1 string concatenation with a string on the left).
 */

const SINGLE_QUOTES = ["'", '\u2018', '\u2019', '\u201A', '\u201B'] as const;
const isSingleQuote = (c: string | undefined): boolean => c !== undefined && (SINGLE_QUOTES as readonly string[]).includes(c);

/** One verbatim-string-literal starting at `at`: its value and where it ends. */
function verbatimString(source: string, at: number): { value: string; end: number } {
  if (!isSingleQuote(source[at])) throw new Error(`no single quote at ${at}: ${source.slice(at)}`);
  let value = '';
  let i = at + 1;
  for (;;) {
    if (i >= source.length) throw new Error(`unterminated string: ${source.slice(at)}`);
    const c = source[i]!;
    if (isSingleQuote(c)) {
      // Two single-quote characters (any two of the five) stand for the second one; one alone ends it.
      if (isSingleQuote(source[i + 1])) {
        value += source[i + 1]!;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
    i += 1;
  }
}

/** A PowerShell argument as powerShellString writes it: a literal, or ('…' + [char]0xNNNN + …). */
function parseArgument(source: string, at: number): { value: string; end: number } {
  if (source[at] !== '(') return verbatimString(source, at);
  let value = '';
  let i = at + 1;
  for (let first = true; ; first = false) {
    if (!first) {
      if (source.startsWith(')', i)) return { value, end: i + 1 };
      if (!source.startsWith(' + ', i)) throw new Error(`expected " + " or ")" at ${i}: ${source.slice(i)}`);
      i += 3;
    }
    const code = /^\[char\]0x([0-9A-F]{4})/.exec(source.slice(i));
    if (code) {
      if (first) throw new Error('a [char] first would add numbers, not concatenate');
      value += String.fromCharCode(parseInt(code[1]!, 16));
      i += code[0].length;
    } else {
      const literal = verbatimString(source, i);
      value += literal.value;
      i = literal.end;
    }
  }
}

/** The value of the argument after `-Name ` in a command, checking that the command goes on as expected. */
function argumentOf(command: string, name: string): { value: string; rest: string } {
  const start = command.indexOf(`-${name} `);
  if (start < 0) throw new Error(`no -${name} in ${command}`);
  const parsed = parseArgument(command, start + name.length + 2);
  return { value: parsed.value, rest: command.slice(parsed.end) };
}

describe('the PowerShell string parser of this test', () => {
  it('ends a string at any of the five single-quote characters, as the specification says', () => {
    for (const q of SINGLE_QUOTES) expect(verbatimString(`'O${q}Brien'`, 0)).toEqual({ value: 'O', end: 3 });
  });

  it('reads two of them in a row as one', () => {
    for (const q of SINGLE_QUOTES) expect(verbatimString(`'O${q}${q}Brien'`, 0).value).toBe(`O${q}Brien`);
  });

  it('shows why doubling only the ASCII apostrophe is not enough', () => {
    const onlyAscii = (value: string) => `'${value.replace(/'/g, "''")}'`;
    const value = "x\u2019; Remove-Item -Recurse C:\\ ; \u2019";
    expect(verbatimString(onlyAscii(value), 0).value).not.toBe(value);
  });
});

describe('powerShellString', () => {
  const cases: [string, string][] = [
    ...SINGLE_QUOTES.flatMap((q): [string, string][] => [
      [`U+${q.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} alone`, q],
      [`U+${q.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} in a name`, `O${q}Brien`],
      [`U+${q.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} twice`, `${q}${q}`],
      [`U+${q.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} closing early`, `x${q}; Remove-Item -Recurse C:\\ ; ${q}`],
    ]),
    ['all five in a row', "'\u2018\u2019\u201A\u201B"],
    ['all five between letters', "a'b\u2018c\u2019d\u201Ae\u201Bf"],
    ['quotes around markup', "\u2018[x](https://evil.example)\u2019 '**b**'"],
    ['a bidi override', 'evil\u202Etxt.exe'],
    ['a line break', 'Main\nline'],
    ['a dollar sign and a backtick (nothing expands in single quotes)', '$env:PATH `n $(Get-Date)'],
    ['a character beyond U+FFFF', '📞 Main line*'],
    ['empty', ''],
  ];

  it.each(cases)('reads back exactly in PowerShell: %s', (_case, value) => {
    const written = powerShellString(value);
    expect(parseArgument(written, 0)).toEqual({ value, end: written.length });
  });

  it.each(cases)('is inert Markdown: %s', (_case, value) => {
    const written = powerShellString(value);
    expect(plainText(written)).toBe(written);
  });

  it.each([
    ["O'Brien", "'O''Brien'"],
    ['O\u2018Brien', "'O\u2018\u2018Brien'"],
    ['O\u2019Brien', "'O\u2019\u2019Brien'"],
    ['O\u201ABrien', "'O\u201A\u201ABrien'"],
    ['O\u201BBrien', "'O\u201B\u201BBrien'"],
    ["'\u2018\u2019\u201A\u201B", "'''\u2018\u2018\u2019\u2019\u201A\u201A\u201B\u201B'"],
  ])('doubles every single-quote character: %j → %s', (value, expected) => {
    expect(powerShellString(value)).toBe(expected);
  });

  it.each([
    ['[click](https://evil.example)', "('' + [char]0x005B + 'click' + [char]0x005D + '(https://evil.example)')"],
    ['**Boss**', "('' + [char]0x002A + [char]0x002A + 'Boss' + [char]0x002A + [char]0x002A)"],
    ['evil\u202Etxt.exe', "('evil' + [char]0x202E + 'txt.exe')"],
    ['<at>x</at>', "('' + [char]0x003C + 'at>x' + [char]0x003C + '/at>')"],
  ])('writes what Markdown or the bidi algorithm would act on by code point: %j', (value, expected) => {
    expect(powerShellString(value)).toBe(expected);
  });

  it.each(['Main line', 'aa-main@contoso.com', 'aa_main.night-1@contoso.com', 'Accueil général (Paris) - 24/7', '+33170000999;ext=12'])('leaves %j one plain literal', (value) => {
    expect(powerShellString(value)).toBe(`'${value}'`);
  });
});

describe('equivalentOf', () => {
  const facts: TenantFacts = { tenantId: 't', displayName: 'Contoso', domains: [], skus: [DEMO.skus.resourceAccount, DEMO.skus.phoneSystem] };
  const account = (id: string | null, userPrincipalName: string): Pick<Plan, 'account'> => ({ account: { id, userPrincipalName, displayName: 'x' } });
  const HOSTILE = ["O\u2019Brien'; Remove-Item -Recurse C:\\; '", '[x](https://evil.example) **now**', 'evil\u202Etxt.exe', 'a\u2066b\u2069 <at>c</at>'];

  it.each(HOSTILE)('writes a display name that PowerShell reads back exactly and Markdown leaves alone: %j', (displayName) => {
    const create: Step = { kind: 'createAccount', userPrincipalName: 'aa-x@contoso.com', displayName, accountType: 'autoAttendant' };
    const created = equivalentOf(create, account(null, 'aa-x@contoso.com'), facts);
    expect(argumentOf(created, 'DisplayName')).toEqual({ value: displayName, rest: '' });
    expect(argumentOf(created, 'UserPrincipalName').value).toBe('aa-x@contoso.com');
    expect(plainText(created)).toBe(created);

    const updated = equivalentOf({ kind: 'updateAccount', displayName }, account(DEMO.accounts.mainLine.id, DEMO.accounts.mainLine.upn), facts);
    expect(argumentOf(updated, 'DisplayName')).toEqual({ value: displayName, rest: '' });
    expect(plainText(updated)).toBe(updated);
  });

  it.each(HOSTILE)('writes a UPN and a number from the tenant the same way: %j', (text) => {
    const command = equivalentOf({ kind: 'assignNumber', telephoneNumber: text, numberType: 'directRouting' }, account(DEMO.accounts.mainLine.id, text), facts);
    expect(argumentOf(command, 'Identity').value).toBe(text);
    expect(argumentOf(command, 'TelephoneNumber')).toEqual({ value: text, rest: ' -NumberType DirectRouting' });
    expect(plainText(command)).toBe(command);
  });

  it('leaves ordinary commands as they were', () => {
    const { mainLine } = DEMO.accounts;
    expect(equivalentOf({ kind: 'updateAccount', displayName: 'Main line (24/7)' }, account(mainLine.id, mainLine.upn), facts)).toBe(
      "Set-CsOnlineApplicationInstance -Identity 'aa-main@contoso.com' -DisplayName 'Main line (24/7)'",
    );
    expect(equivalentOf({ kind: 'dissociate', configurationId: DEMO.voiceApps.mainLine.configurationId, name: 'Main line' }, account(mainLine.id, mainLine.upn), facts)).toBe(
      `Remove-CsOnlineApplicationInstanceAssociation -Identities ${mainLine.id}`,
    );
    expect(equivalentOf({ kind: 'assignLicense', license: 'resourceAccount' }, account(mainLine.id, mainLine.upn), facts)).toBe(
      `POST https://graph.microsoft.com/v1.0/users/${mainLine.id}/assignLicense {"addLicenses":[{"skuId":"${DEMO.skus.resourceAccount.skuId}","disabledPlans":[]}],"removeLicenses":[]}`,
    );
  });

  it('quotes an id from the tenant that is not a GUID, and percent-encodes it in a Graph URL', () => {
    const id = "x' ; Remove-Item C:\\ ; '[y](https://evil.example)";
    const association = equivalentOf({ kind: 'associate', configurationId: id, configurationType: 'autoAttendant', name: 'A' }, account(id, 'aa-x@contoso.com'), facts);
    expect(argumentOf(association, 'Identities').value).toBe(id);
    expect(argumentOf(association, 'ConfigurationId')).toEqual({ value: id, rest: ' -ConfigurationType AutoAttendant' });
    expect(plainText(association)).toBe(association);

    const deletion = equivalentOf({ kind: 'deleteAccount' }, account(id, 'aa-x@contoso.com'), facts);
    expect(deletion).toBe(`DELETE https://graph.microsoft.com/v1.0/users/${encodeURIComponent(id).replace(/[!'()*._~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
    expect(decodeURIComponent(deletion.split('/users/')[1]!)).toBe(id);
    expect(plainText(deletion)).toBe(deletion);
  });

  it('writes a usage location and SKU ids from the tenant as JSON strings that Markdown leaves alone', () => {
    const odd: TenantFacts = { ...facts, skus: [{ ...DEMO.skus.resourceAccount, skuId: '*x*' }] };
    const command = equivalentOf({ kind: 'assignLicense', license: 'resourceAccount' }, account(DEMO.accounts.mainLine.id, 'x'), odd);
    expect(command).toContain('{"addLicenses":[{"skuId":"\\u002ax\\u002a","disabledPlans":[]}]');
    expect(JSON.parse(command.slice(command.indexOf('{')))).toEqual({ addLicenses: [{ skuId: '*x*', disabledPlans: [] }], removeLicenses: [] });
    expect(plainText(command)).toBe(command);
  });
});
