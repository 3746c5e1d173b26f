import { ClientCertificateCredential, ClientSecretCredential, DeviceCodeCredential, type TokenCredential } from '@azure/identity';
import { z } from 'zod';
import type { AuthMode, MicrosoftBackendConfig } from './config';

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
 * Delegated: a service account signs in once with a device code (works with MFA; the app registration
 * must allow public client flows). Username/password (ROPC) is not offered: @azure/identity deprecates
 * it and it fails under MFA. App-only: a client secret or a certificate (PEM file).
 */
export function credentialFor(config: MicrosoftBackendConfig, prompt: (message: string) => void): TokenCredential {
  const { tenantId, clientId } = config;
  if (config.authMode === 'delegated') {
    return new DeviceCodeCredential({ tenantId, clientId, userPromptCallback: (info) => prompt(info.message) });
  }
  if (config.certificatePath) {
    return new ClientCertificateCredential(tenantId, clientId, { certificatePath: config.certificatePath });
  }
  return new ClientSecretCredential(tenantId, clientId, config.clientSecret);
}

/** The Graph scope follows the configured endpoint (national clouds have their own Graph host). */
export function tokenSource(credential: TokenCredential, graphBaseUrl: string): TokenSource {
  const graphOrigin = new URL(graphBaseUrl).origin;
  const graphScope = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(graphOrigin)
    ? 'https://graph.microsoft.com/.default'
    : `${graphOrigin}/.default`;
  const get = async (scope: string): Promise<string> => {
    const token = await credential.getToken(scope);
    if (!token) throw new Error(`no access token for ${scope}`);
    return token.token;
  };
  return { graph: () => get(graphScope), teams: () => get(`${TEAMS_ADMIN_API_RESOURCE}/.default`) };
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
