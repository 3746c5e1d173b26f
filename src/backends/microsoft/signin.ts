import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  AuthenticationRequiredError,
  DeviceCodeCredential,
  deserializeAuthenticationRecord,
  serializeAuthenticationRecord,
  useIdentityPlugin,
  type AuthenticationRecord,
  type DeviceCodeCredentialOptions,
  type IdentityPlugin,
  type TokenCredential,
} from '@azure/identity';
import { DirectoryRefusal } from '../../provisioning/result';

/**
 * The service account's sign-in, kept across restarts, and never a prompt in the middle of a chat turn.
 *
 * @azure/identity keeps tokens in memory only. To survive a restart it needs BOTH a persisted token cache
 * (the refresh token) AND the AuthenticationRecord of the signed-in account (which account in that cache
 * to use; without it a new credential finds nothing "silently"). Microsoft's plugin for the cache,
 * @azure/identity-cache-persistence, stores it in the OS keyring: on Linux that is libsecret over a D-Bus
 * session, which a headless host does not have, and its only fallback is `unsafeAllowUnencryptedStorage`
 * (a plain file). Switchboard therefore keeps the cache itself, as a plain file, and enforces what that
 * fallback leaves to chance: the folder is 0700 and every file 0600, owned by the user the bot runs as;
 * a cache found readable by anyone else is refused, not used. Encryption at rest is the host's (disk
 * encryption); whoever is root or the bot's user can read the refresh token, as they can read the bot's
 * other secrets.
 *
 * The sign-in itself (device code) is an operator step: `npm run m365:signin` (scripts/m365-signin.js).
 * The bot's credential is built with disableAutomaticAuthentication, so when the silent refresh fails
 * (revoked, expired after 90 days idle, password change, Conditional Access) it throws at once instead
 * of printing a device code that nobody sees while an admin's click waits.
 */

export const CACHE_NAME = 'switchboard-m365';
const RECORD_FILE = 'authentication-record.json';

/** The click's answer when the service account's sign-in no longer refreshes (a typed refusal the cards show). */
export class SignInRequiredError extends DirectoryRefusal {
  constructor(readonly why: string) {
    super('TENANT_SIGN_IN_REQUIRED');
    this.message = `the Microsoft 365 service account must sign in again (npm run m365:signin): ${why}`;
  }
}

/** The folder: created 0700; an existing one must belong to us and be closed to group and others. */
export function secureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.isSymbolicLink()) throw new Error(`${dir} must be a directory, not a link`);
  checkPrivate(dir, stat);
}

function checkPrivate(file: string, stat: { mode: number; uid: number }): void {
  if (process.platform === 'win32') return;
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new Error(`${file} belongs to uid ${stat.uid}, not to the user the bot runs as (${process.getuid()}): refusing to use it`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`${file} is open to group or others (mode ${(stat.mode & 0o777).toString(8)}): chmod it to 700 (folder) or 600 (file), or delete it and sign in again`);
  }
}

/** A private file's text, or null when there is none. */
export function readPrivate(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    checkPrivate(file, statSync(file));
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Written to a 0600 temp file, flushed, then renamed over: never half a cache, never readable by others. */
export function writePrivate(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** What MSAL hands a cache plugin (the part of @azure/msal-node's TokenCacheContext used here). */
interface CacheContext {
  cacheHasChanged: boolean;
  tokenCache: { serialize(): string; deserialize(cache: string): void };
}

/**
 * An @azure/identity plugin that stores the MSAL token cache in `dir` (one file per cache name). It uses
 * the plugin context's cachePluginControl, the hook @azure/identity-cache-persistence itself uses
 * (@azure/identity 4.14.1 is pinned in package.json).
 */
export function fileCachePlugin(dir: string): IdentityPlugin {
  return (context: unknown) => {
    const control = (context as { cachePluginControl?: { setPersistence(factory: (options?: { name?: string }) => Promise<unknown>): void } })
      .cachePluginControl;
    if (!control) throw new Error('@azure/identity no longer offers cachePluginControl: the token cache cannot be kept');
    control.setPersistence(async (options) => {
      secureDir(dir);
      const file = path.join(dir, `${(options?.name ?? CACHE_NAME).replace(/[^\w.-]/g, '_')}.json`);
      return {
        beforeCacheAccess: async (ctx: CacheContext) => {
          const text = readPrivate(file);
          if (text !== null) ctx.tokenCache.deserialize(text);
        },
        afterCacheAccess: async (ctx: CacheContext) => {
          if (ctx.cacheHasChanged) writePrivate(file, ctx.tokenCache.serialize());
        },
      };
    });
  };
}

let pluginDir: string | undefined;

/** Registers the file cache once per process (@azure/identity keeps one persistence provider). */
export function useFileCache(dir: string): void {
  const resolved = path.resolve(dir);
  if (pluginDir === resolved) return;
  if (pluginDir !== undefined) throw new Error(`the Microsoft 365 token cache is already kept in ${pluginDir}`);
  useIdentityPlugin(fileCachePlugin(resolved));
  pluginDir = resolved;
}

export function loadRecord(dir: string): AuthenticationRecord | null {
  secureDir(dir);
  const text = readPrivate(path.join(dir, RECORD_FILE));
  return text === null ? null : deserializeAuthenticationRecord(text);
}

export function saveRecord(dir: string, record: AuthenticationRecord): void {
  secureDir(dir);
  writePrivate(path.join(dir, RECORD_FILE), serializeAuthenticationRecord(record));
}

export interface SignInSettings {
  tenantId: string;
  clientId: string;
  cacheDir: string;
}

/** The options of the bot's credential: silent only, from the saved account and the file cache. */
export function silentCredentialOptions(settings: SignInSettings, record: AuthenticationRecord): DeviceCodeCredentialOptions {
  return {
    tenantId: settings.tenantId,
    clientId: settings.clientId,
    authenticationRecord: record,
    disableAutomaticAuthentication: true,
    tokenCachePersistenceOptions: { enabled: true, name: CACHE_NAME },
  };
}

/** The bot's credential, or null when nobody has signed in yet (start-up then says to run the sign-in). */
export function silentCredential(settings: SignInSettings): TokenCredential | null {
  const record = loadRecord(settings.cacheDir);
  if (!record) return null;
  useFileCache(settings.cacheDir);
  return new DeviceCodeCredential(silentCredentialOptions(settings, record));
}

/**
 * The operator's sign-in (npm run m365:signin): device code for Graph, then the Teams admin API token
 * from the same refresh token (no second prompt), then the account saved for the bot.
 */
export async function signInInteractively(
  settings: SignInSettings,
  graphScope: string,
  teamsScope: string,
  prompt: (message: string) => void,
): Promise<AuthenticationRecord> {
  useFileCache(settings.cacheDir);
  const options = { tenantId: settings.tenantId, clientId: settings.clientId, tokenCachePersistenceOptions: { enabled: true, name: CACHE_NAME } };
  const credential = new DeviceCodeCredential({ ...options, userPromptCallback: (info) => prompt(info.message) });
  const record = await credential.authenticate(graphScope);
  if (!record) throw new Error('the sign-in returned no account');
  saveRecord(settings.cacheDir, record);
  // The second resource must come silently; a consent that is missing is named, not prompted for.
  const silent = new DeviceCodeCredential(silentCredentialOptions(settings, record));
  await silent.getToken(teamsScope);
  return record;
}

/**
 * Whether a token error means "a person must sign in again" (the refresh token is gone, expired or
 * revoked, or a prompt would be needed), as opposed to a network fault. AADSTS codes from Microsoft
 * Entra's error code reference: 50076/50079 (MFA), 50173/700082/70043 (expired or revoked grant),
 * 50078, 50158 (Conditional Access), 65001 is consent (named apart: consentMissing).
 */
export function needsSignIn(e: unknown): boolean {
  if (e instanceof AuthenticationRequiredError) return true;
  const text = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return /AuthenticationRequired|invalid_grant|interaction_required|login_required|AADSTS(50076|50079|50078|50158|50173|700082|70043|700084)\b/i.test(text);
}

/** AADSTS65001: the app has no (admin) consent for what was asked. */
export function consentMissing(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  return /AADSTS65001|consent_required/i.test(text);
}
