import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { z } from 'zod';
import type { AuthMode, MicrosoftBackendConfig } from './config';
import { needsSignIn, SignInRequiredError, silentCredential } from './signin';

/**
 * Tokens for the two resources the backend talks to: Microsoft Graph, and the "Skype and Teams Tenant
 * Admin API" that Connect-MicrosoftTeams -AccessTokens needs beside the Graph one (teams-apis.md §3.1).
 */
export const TEAMS_ADMIN_API_RESOURCE = '48ac35b8-9aa8-4d74-927d-1f4a14a0b239';

export interface TokenSource {
  graph(): Promise<string>;
  teams(): Promise<string>;
}

/**
 * Delegated: the service account's saved sign-in, used silently (signin.ts); null when nobody has signed
 * in yet. App-only: a client secret or a certificate (PEM file).
 */
export function credentialFor(config: MicrosoftBackendConfig): TokenCredential | null {
  const { tenantId, clientId } = config;
  if (config.authMode === 'delegated') return silentCredential({ tenantId, clientId, cacheDir: config.cacheDir });
  if (config.certificatePath) {
    return new ClientCertificateCredential(tenantId, clientId, { certificatePath: config.certificatePath });
  }
  return new ClientSecretCredential(tenantId, clientId, config.clientSecret);
}

/** The Graph scope follows the configured endpoint (national clouds have their own Graph host). */
export function graphScopeFor(graphBaseUrl: string): string {
  const graphOrigin = new URL(graphBaseUrl).origin;
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(graphOrigin) ? 'https://graph.microsoft.com/.default' : `${graphOrigin}/.default`;
}

export const TEAMS_SCOPE = `${TEAMS_ADMIN_API_RESOURCE}/.default`;

export interface TokenSourceOptions {
  /** Told (once per quarter hour at most) when a token needs a new sign-in: the operator's log line. */
  onSignInRequired?: (why: string) => void;
  /** Longest a token request may take (a silent refresh is an HTTP call too). */
  timeoutMs?: number;
  now?: () => Date;
}

/**
 * Tokens for Graph and the Teams admin API. A token that needs a person (refresh token expired or
 * revoked, MFA or Conditional Access asking again) becomes SignInRequiredError at once: the click gets
 * a clear card and the operator a log line; nobody is ever prompted mid-turn.
 */
export function tokenSource(credential: TokenCredential, graphBaseUrl: string, options: TokenSourceOptions = {}): TokenSource {
  const graphScope = graphScopeFor(graphBaseUrl);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  let toldAt = -Infinity;
  const get = async (scope: string): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const token = await Promise.race([
        credential.getToken(scope),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no token for ${scope} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
        }),
      ]);
      if (!token) throw new Error(`no access token for ${scope}`);
      return token.token;
    } catch (e) {
      if (e instanceof SignInRequiredError || !needsSignIn(e)) throw e;
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 300) ?? '';
      if (now().getTime() - toldAt > 15 * 60_000) {
        toldAt = now().getTime();
        options.onSignInRequired?.(why);
      }
      throw new SignInRequiredError(why);
    } finally {
      clearTimeout(timer);
    }
  };
  return { graph: () => get(graphScope), teams: () => get(TEAMS_SCOPE) };
}

const ClaimsSchema = z.object({
  tid: z.string().optional(),
  scp: z.string().optional(),
  roles: z.array(z.string()).optional(),
  idtyp: z.string().optional(),
  wids: z.array(z.string()).optional(),
  upn: z.string().optional(),
});
export type TokenClaims = z.infer<typeof ClaimsSchema>;

/** Reads (does not verify: the service does) the claims of an access token. */
export function claimsOf(accessToken: string): TokenClaims | null {
  const payload = accessToken.split('.')[1];
  if (!payload) return null;
  try {
    const parsed = ClaimsSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A delegated token carries `scp`; an app-only one carries `roles` and no `scp` (idtyp=app when present). */
export function authModeOf(claims: TokenClaims): AuthMode {
  return claims.idtyp === 'app' || claims.scp === undefined ? 'app-only' : 'delegated';
}

/**
 * The delegated Graph permissions the backend needs (docs/microsoft-backend.md §1), each with the higher
 * ones that include it (the permission reference's "higher privileged" column, teams-apis.md §1.8).
 */
export const REQUIRED_SCOPES: ReadonlyArray<{ scope: string; orHigher: readonly string[]; for: string }> = [
  { scope: 'User.ReadWrite.All', orHigher: ['Directory.ReadWrite.All'], for: 'read resource accounts, set usage location, delete' },
  { scope: 'LicenseAssignment.ReadWrite.All', orHigher: ['User.ReadWrite.All', 'Directory.ReadWrite.All'], for: 'assignLicense, licenseDetails' },
  { scope: 'Organization.Read.All', orHigher: ['Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'], for: 'verified domains, subscribedSkus' },
  { scope: 'TeamsTelephoneNumber.ReadWrite.All', orHigher: [], for: 'list, assign and unassign numbers' },
];

/** The required scopes missing from a delegated token's `scp` claim, named with what each is for. */
export function missingScopes(claims: TokenClaims): string[] {
  const granted = new Set((claims.scp ?? '').split(' ').filter(Boolean).map((s) => s.toLowerCase()));
  return REQUIRED_SCOPES.filter((r) => ![r.scope, ...r.orHigher].some((s) => granted.has(s.toLowerCase()))).map((r) => `${r.scope} (${r.for})`);
}

/** Entra role template ids (Microsoft Entra built-in roles reference). */
const ROLES = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  userAdministrator: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  teamsAdministrator: '69091246-20e8-4a56-aa4d-066075b2a7a8',
  teamsCommunicationsAdministrator: 'baf37b3a-610e-45da-9e62-d9d1e5e8914b',
  teamsTelephonyAdministrator: 'aa38014f-0993-46e9-9b45-30501a20909d',
} as const;

/**
 * Since 2024 creating a resource account needs a Teams admin role AND User Administrator (teams-apis.md
 * §3.1, §5.2). Only checkable when the token lists the roles (`wids`); a custom role with
 * microsoft.directory/users/create also works, so this warns rather than refuses.
 */
export function missingRoles(claims: TokenClaims): string[] {
  if (!claims.wids) return [];
  const has = (id: string) => claims.wids?.includes(id) ?? false;
  if (has(ROLES.globalAdministrator)) return [];
  const missing: string[] = [];
  if (!has(ROLES.userAdministrator)) missing.push('User Administrator');
  const teamsRoles = [ROLES.teamsAdministrator, ROLES.teamsCommunicationsAdministrator, ROLES.teamsTelephonyAdministrator];
  if (!teamsRoles.some(has)) missing.push('a Teams admin role (Teams Telephony, Teams Communications or Teams Administrator)');
  return missing;
}
