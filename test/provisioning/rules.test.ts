import type { TenantFacts } from '../../src/provisioning/model';
import type { ReasonCode } from '../../src/provisioning/result';
import {
  checkAccountType,
  checkDisplayName,
  checkFreeSeat,
  checkUpnUnused,
  checkUsageLocation,
  checkUsageLocationBeforeLicense,
  checkUserPrincipalName,
  findSku,
} from '../../src/provisioning/rules';

const facts: TenantFacts = {
  tenantId: 't',
  displayName: 'Test',
  domains: [
    { name: 'contoso.onmicrosoft.com', isDefault: true, isOnline: true },
    { name: 'contoso.com', isDefault: false, isOnline: true },
    { name: 'onprem.contoso.com', isDefault: false, isOnline: false },
    { name: `${'d'.repeat(36)}.example.com`, isDefault: false, isOnline: true }, // 48 characters, the maximum
  ],
  skus: [
    { skuId: 'ra', skuPartNumber: 'PHONESYSTEM_VIRTUALUSER', kind: 'resourceAccount', enabled: 25, consumed: 3 },
    { skuId: 'ps', skuPartNumber: 'MCOEV', kind: 'phoneSystem', enabled: 10, consumed: 10 },
  ],
};

describe('identity and form rules (DOMAIN.md)', () => {
  it.each<[string, string, string, ReasonCode, Record<string, string | number>]>([
    ['empty username', '', 'contoso.com', 'UPN_REQUIRED', {}],
    ['accented letter', 'accueil-é', 'contoso.com', 'UPN_INVALID_CHARACTERS', { characters: 'é' }],
    ['space', 'main line', 'contoso.com', 'UPN_INVALID_CHARACTERS', { characters: ' ' }],
    ['second @', 'a@b', 'contoso.com', 'UPN_INVALID_CHARACTERS', { characters: '@' }],
    ['dot before @', 'mainline.', 'contoso.com', 'UPN_DOT_BEFORE_AT', {}],
    ['65 characters before @', 'a'.repeat(65), 'contoso.com', 'UPN_LOCAL_PART_TOO_LONG', { max: 64, length: 65 }],
    ['49 characters after @', 'a', `${'d'.repeat(37)}.contoso.com`, 'UPN_DOMAIN_TOO_LONG', { max: 48, length: 49 }],
    ['unverified domain', 'a', 'fabrikam.com', 'UPN_DOMAIN_NOT_VERIFIED', { domain: 'fabrikam.com' }],
    ['no domain', 'a', ' ', 'UPN_DOMAIN_REQUIRED', {}],
    ['domain that is not online', 'a', 'onprem.contoso.com', 'UPN_DOMAIN_NOT_ONLINE', { domain: 'onprem.contoso.com' }],
  ])('refuses a UPN with %s', (_case, username, domain, reason, params) => {
    const result = checkUserPrincipalName(username, domain, facts);
    expect(result).toEqual({ ok: false, reason, params, field: reason.startsWith('UPN_DOMAIN') ? 'domain' : 'username' });
  });

  it.each([
    ["all allowed punctuation", "a'b.c-d_e!f#g^h~i", 'contoso.com', "a'b.c-d_e!f#g^h~i@contoso.com"],
    ['domain in another case, spaces trimmed', ' AA-Main ', 'Contoso.COM', 'AA-Main@contoso.com'],
    ['exactly 64 before @', 'a'.repeat(64), 'contoso.com', `${'a'.repeat(64)}@contoso.com`],
    ['the 113-character maximum', 'a'.repeat(64), `${'d'.repeat(36)}.example.com`, `${'a'.repeat(64)}@${'d'.repeat(36)}.example.com`],
  ])('accepts a UPN with %s', (_case, username, domain, upn) => {
    expect(checkUserPrincipalName(username, domain, facts)).toEqual({ ok: true, value: upn });
  });

  it('refuses a UPN already used, case-insensitively found by the tenant', () => {
    expect(checkUpnUnused({ userPrincipalName: 'AA@contoso.com' })).toEqual({
      ok: false,
      reason: 'UPN_IN_USE',
      params: { upn: 'AA@contoso.com' },
      field: 'username',
    });
    expect(checkUpnUnused(null)).toBeNull();
  });

  it.each<[string, string, ReasonCode, Record<string, number>]>([
    ['empty', '', 'DISPLAY_NAME_REQUIRED', {}],
    ['only spaces', '   ', 'DISPLAY_NAME_REQUIRED', {}],
    ['257 characters', 'x'.repeat(257), 'DISPLAY_NAME_TOO_LONG', { max: 256, length: 257 }],
    ['a newline', 'Main\nline', 'DISPLAY_NAME_CONTROL_CHARACTERS', {}],
    ['a tab', 'Main\tline', 'DISPLAY_NAME_CONTROL_CHARACTERS', {}],
    ['a C1 control', 'Main\u0085line', 'DISPLAY_NAME_CONTROL_CHARACTERS', {}],
    // Names that Entra ID takes and that then read as a blank line everywhere the account is listed.
    ['only zero-width spaces', '\u200b\u200b', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only bidi marks and a word joiner between spaces', ' \u200e\u2060\u200f ', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only the Hangul filler', '\u3164', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only the halfwidth Hangul filler and the choseong filler', '\uffa0\u115f', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only the blank Braille pattern', '\u2800\u2800', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only the musical null notehead', '\u{1D159}', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only combining marks', '\u0301\u0308', 'DISPLAY_NAME_INVISIBLE', {}],
    ['only a variation selector and a soft hyphen', '\ufe0f\u00ad', 'DISPLAY_NAME_INVISIBLE', {}],
  ])('refuses a display name that is %s', (_case, raw, reason, params) => {
    expect(checkDisplayName(raw)).toEqual({ ok: false, reason, params, field: 'displayName' });
  });

  it('trims the display name and keeps accents and punctuation', () => {
    expect(checkDisplayName('  Accueil – Siège "Paris"  ')).toEqual({ ok: true, value: 'Accueil – Siège "Paris"' });
    expect(checkDisplayName('x'.repeat(256))).toEqual({ ok: true, value: 'x'.repeat(256) });
    // A visible character is enough, whatever else is around it: a decomposed accent, an emoji, a
    // script without Latin letters, a zero-width space inside a name.
    for (const name of ['Cafe\u0301', '\u{1F4DE} Hotline', '東京 受付', 'Main\u200bline', '\u3164A']) {
      expect(checkDisplayName(name)).toEqual({ ok: true, value: name });
    }
  });

  it.each([['autoAttendant'], ['callQueue']])('accepts the type %s', (type) => {
    expect(checkAccountType(type)).toEqual({ ok: true, value: type });
  });

  it.each([['AutoAttendant'], [''], ['user'], ['callqueue']])('refuses the type "%s"', (type) => {
    expect(checkAccountType(type)).toMatchObject({ ok: false, reason: 'ACCOUNT_TYPE_INVALID', field: 'accountType' });
  });

  it.each([['US', 'US'], ['fr', 'FR'], [' gb ', 'GB']])('accepts usage location %s', (raw, code) => {
    expect(checkUsageLocation(raw)).toEqual({ ok: true, value: code });
  });

  it.each([['USA'], ['ZZ'], ['U1'], [''], ['France']])('refuses usage location "%s"', (raw) => {
    expect(checkUsageLocation(raw)).toMatchObject({ ok: false, reason: 'USAGE_LOCATION_INVALID', field: 'usageLocation' });
  });
});

describe('license rules (DOMAIN.md)', () => {
  it('refuses a SKU with no free seat, saying how many are left', () => {
    expect(checkFreeSeat(facts.skus[1]!)).toEqual({
      ok: false,
      reason: 'LICENSE_NO_FREE_SEAT',
      params: { sku: 'MCOEV', enabled: 10, free: 0 },
      field: 'license',
    });
    expect(checkFreeSeat(facts.skus[0]!)).toBeNull();
  });

  it('requires a usage location before any license', () => {
    expect(checkUsageLocationBeforeLicense(null)).toEqual({ ok: false, reason: 'LICENSE_USAGE_LOCATION_MISSING', params: {}, field: 'usageLocation' });
    expect(checkUsageLocationBeforeLicense('US')).toBeNull();
  });

  it.each<[string, TenantFacts, ReasonCode | null]>([
    ['resourceAccount', facts, null],
    ['phoneSystem', facts, null],
    ['e5', facts, 'LICENSE_UNKNOWN'],
    ['phoneSystem', { ...facts, skus: [facts.skus[0]!] }, 'LICENSE_NOT_IN_TENANT'],
  ])('resolves license kind %s by the tenant catalogue', (kind, tenant, reason) => {
    const result = findSku(tenant, kind);
    if (reason) expect(result).toMatchObject({ ok: false, reason, field: 'license' });
    else expect(result).toMatchObject({ ok: true, value: { kind } });
  });
});
