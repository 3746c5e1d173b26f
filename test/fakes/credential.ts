import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** An unsigned JWT carrying the claims the backend reads (tid, scp or roles, wids). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** A TokenCredential that hands out fake tokens and remembers which scopes were asked for. */
export class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];

  /** What the identity platform answers instead of a token, per scope (an expired sign-in, a missing consent). */
  failWith: ((scope: string) => Error | undefined) | undefined;

  constructor(private readonly claims: Record<string, unknown>) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.scopes.push(scope);
    const failure = this.failWith?.(scope);
    if (failure) throw failure;
    return { token: fakeJwt({ ...this.claims, aud: scope }), expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

export const delegatedClaims = (tid: string) => ({
  tid,
  scp: 'User.ReadWrite.All LicenseAssignment.ReadWrite.All Organization.Read.All TeamsTelephoneNumber.ReadWrite.All',
  upn: 'switchboard-svc@contoso.onmicrosoft.com',
  // User Administrator + Teams Telephony Administrator
  wids: ['fe930be7-5e62-47db-91af-98c3a49a38b1', 'aa38014f-0993-46e9-9b45-30501a20909d'],
});

export const appOnlyClaims = (tid: string) => ({ tid, roles: ['User.ReadWrite.All'], idtyp: 'app' });
