import type { ResolveSrv } from './hybrid';
import type { TokenCredential } from '@azure/identity';
import { StartupError } from '../../config';
import type { Logger } from '../../log/logger';
import { authModeOf, claimsOf, credentialFor, missingRoles, missingScopes, TEAMS_ADMIN_API_RESOURCE, tokenSource } from './auth';
import { consentMissing, SignInRequiredError } from './signin';
import { loadMicrosoftConfig, type MicrosoftBackendConfig } from './config';
import { Cached, OperationLog, RecentlyCreated, type Tenant } from './context';
import { MicrosoftDirectory } from './directory';
import { readListing } from './accounts';
import { readTenantFacts } from './facts';
import { GraphError } from './graph/errors';
import { DEFAULT_RETRY, GraphClient, type RetryPolicy } from './graph/http';
import { TeamsCmdlets } from './powershell/cmdlets';
import { PowerShellError, PowerShellUnavailableError, WHAT_ACCESS_NEEDS } from './powershell/errors';
import { PowerShellPool } from './powershell/pool';
import { PowerShellRunner, type PowerShell } from './powershell/runner';
import { Meter } from './meter';

export { MicrosoftDirectory } from './directory';
export { loadMicrosoftConfig, type MicrosoftBackendConfig } from './config';
export { reasonOfStatusDetail } from './tenantErrors';

export interface MicrosoftDirectoryOptions {
  /**
   * Where start-up notes go (missing admin roles), the operator's line when the sign-in must be renewed,
   * and (debug) what each command cost in Graph requests, cmdlets, pwsh starts and connects.
   */
  log?: Pick<Logger, 'info' | 'warn' | 'error'> & Partial<Pick<Logger, 'debug'>>;
  /** Replaces the credential built from the environment (tests; a managed credential). */
  credential?: TokenCredential;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
  random?: () => number;
  /** pwsh's environment (PATH, HOME, PSModulePath); defaults to this process's. */
  pwshEnv?: NodeJS.ProcessEnv;
  /** Replaces the pwsh runner altogether. */
  powerShell?: PowerShell;
  /** How often idle warm workers pick up rotated tokens (default 60 s). */
  pwshRefreshEveryMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How long tenant facts, the instance list and the AA/CQ list are reused (default 60 s). */
  cacheTtlMs?: number;
  /** How long the Graph half of a listing is reused while nothing of ours changed (default 30 s). */
  listingTtlMs?: number;
  /** How long after creating an account "not found" means "not visible yet" (default 60 min, DOMAIN.md F13). */
  propagationWindowMs?: number;
  /** How long assignNumber / unassignNumber poll their operation before returning it running (default 5 s). */
  operationWaitMs?: number;
  /** DNS SRV lookups for hybrid detection (default: the system resolver). */
  resolveSrv?: ResolveSrv;
}

/**
 * Opens the Microsoft 365 backend and checks, before the bot takes its first message, that it can
 * work: delegated sign-in in the configured tenant, Graph answering, Teams PowerShell runnable and
 * allowed to read application instances. Any problem stops start-up with one plain StartupError.
 */
export async function openMicrosoftDirectory(env: NodeJS.ProcessEnv, options: MicrosoftDirectoryOptions = {}): Promise<MicrosoftDirectory> {
  const config = loadMicrosoftConfig(env);
  // App-only sessions cannot run [Get|Set|New]-CsOnlineApplicationInstance (teams-apis.md §0.2, F12):
  // without them the backend can neither list nor create accounts, so it does not start half-able.
  if (config.authMode === 'app-only') throw new StartupError(`SWITCHBOARD_M365_AUTH_MODE=app-only cannot work: ${WHAT_ACCESS_NEEDS}`);
  const log = options.log;
  const now = options.now ?? (() => new Date());
  const credential = options.credential ?? credentialFor(config);
  // No saved sign-in: the operator signs in first; the bot never shows a device code itself (signin.ts).
  if (!credential) {
    throw new StartupError(
      `the Microsoft 365 service account has not signed in yet (nothing saved in ${config.cacheDir}): run "npm run m365:signin" on this host, then start again`,
    );
  }
  const tokens = tokenSource(credential, config.graphBaseUrl, {
    now,
    timeoutMs: config.graphTimeoutMs,
    onSignInRequired: (why) =>
      log?.error({ tenantId: config.tenantId }, `Microsoft 365: the service account must sign in again; run "npm run m365:signin" on the bot's host (${why})`),
  });
  await checkTokens(config, tokens, log);

  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const meter = new Meter();
  const deps = { fetch: options.fetch ?? fetch, sleep, now, random: options.random ?? Math.random, meter };
  const graph = new GraphClient(config.graphBaseUrl, tokens.graph, deps, { ...DEFAULT_RETRY, timeoutMs: config.graphTimeoutMs, ...options.retry });
  const pwsh = { pwshPath: config.pwshPath, timeoutMs: config.pwshTimeoutMs, tokens, meter, ...(options.pwshEnv ? { env: options.pwshEnv } : {}) };
  const powerShell: PowerShell =
    options.powerShell ??
    (config.pwshMode === 'oneshot'
      ? new PowerShellRunner({ ...pwsh, concurrency: config.pwshConcurrency, maxQueue: config.pwshQueue })
      : new PowerShellPool({
          ...pwsh,
          size: config.pwshConcurrency,
          maxQueue: config.pwshQueue,
          maxRequestsPerWorker: config.pwshMaxRequests,
          maxMemoryBytes: config.pwshMaxMemoryBytes,
          ...(options.pwshRefreshEveryMs ? { refreshEveryMs: options.pwshRefreshEveryMs } : {}),
        }));
  const teams = new TeamsCmdlets(powerShell);
  const ttl = options.cacheTtlMs ?? 60_000;
  const tenant: Tenant = {
    graph,
    teams,
    now,
    sleep,
    facts: new Cached(() => readTenantFacts(graph, config.tenantId), ttl, now),
    instances: new Cached(async () => new Map((await teams.listInstances()).map((i) => [i.objectId, i])), ttl, now),
    voiceApps: new Cached(() => teams.voiceApps(), ttl, now),
    listing: new Cached(() => readListing({ graph }), Math.min(ttl, options.listingTtlMs ?? 30_000), now),
    recent: new RecentlyCreated(options.propagationWindowMs ?? 60 * 60_000, now),
    operations: new OperationLog(now),
    operationWaitMs: options.operationWaitMs ?? 5_000,
    meter,
  };
  // Both checks run at once (the warm workers start, import and connect; that takes seconds); the
  // AA/CQ list is warmed on the side once PowerShell is up.
  const checks = await Promise.allSettled([
    startupCheck('Microsoft Graph', () => tenant.facts.get()),
    startupCheck('Teams PowerShell', async () => {
      await powerShell.start?.();
      await Promise.all([tenant.instances.get(), tenant.voiceApps.get().catch(() => undefined)]);
    }),
  ]);
  const failed = checks.find((c) => c.status === 'rejected');
  if (failed?.status === 'rejected') {
    // Started workers must not outlive a start-up that failed.
    await powerShell.close?.();
    throw failed.reason;
  }
  const mode = options.powerShell ? 'Teams PowerShell' : config.pwshMode === 'oneshot' ? 'Teams PowerShell (one pwsh per cmdlet)' : `Teams PowerShell (${config.pwshConcurrency} warm workers)`;
  log?.info({ tenantId: config.tenantId, graph: config.graphBaseUrl, pwshMode: config.pwshMode }, `Microsoft 365 backend ready (Graph + ${mode}, delegated)`);
  return new MicrosoftDirectory(tenant, `Graph ${config.graphBaseUrl}, ${mode}, delegated`, { powerShell, ...(log ? { log } : {}), ...(options.resolveSrv ? { resolveSrv: options.resolveSrv } : {}) });
}

/** The token says which tenant and which kind of session this is (F12); a mismatch stops start-up. */
async function checkTokens(config: MicrosoftBackendConfig, tokens: ReturnType<typeof tokenSource>, log: MicrosoftDirectoryOptions['log']) {
  const graphToken = await tokens.graph().catch((e: unknown) => {
    if (e instanceof SignInRequiredError) {
      throw new StartupError(`the Microsoft 365 service account's saved sign-in no longer works: run "npm run m365:signin" on this host (${e.why})`);
    }
    throw new StartupError(`Microsoft 365 sign-in failed for SWITCHBOARD_M365_CLIENT_ID ${config.clientId}: ${messageOf(e)}`);
  });
  const claims = claimsOf(graphToken);
  if (claims && authModeOf(claims) === 'app-only') {
    throw new StartupError(`the Microsoft 365 credential gives an app-only session: ${WHAT_ACCESS_NEEDS}`);
  }
  if (claims?.tid && claims.tid.toLowerCase() !== config.tenantId) {
    throw new StartupError(`signed in to tenant ${claims.tid}, but SWITCHBOARD_M365_TENANT_ID is ${config.tenantId}`);
  }
  // The token says which delegated permissions were consented (scp): each missing one is named.
  const scopes = claims ? missingScopes(claims) : [];
  if (scopes.length > 0) {
    throw new StartupError(
      `the app registration ${config.clientId} lacks the delegated Microsoft Graph permission(s) ${scopes.join(', ')}: add them and grant admin consent (docs/microsoft-backend.md §1)`,
    );
  }
  const missing = claims ? missingRoles(claims) : [];
  if (missing.length > 0) {
    log?.warn({ missing }, `the signed-in account lacks ${missing.join(' and ')}: creating resource accounts will be refused (teams-apis.md §3.1)`);
  }
  await tokens.teams().catch((e: unknown) => {
    const what = `the Skype and Teams Tenant Admin API (${TEAMS_ADMIN_API_RESOURCE}), delegated permission user_impersonation`;
    if (consentMissing(e)) throw new StartupError(`no consent for ${what}: add it to the app registration and grant admin consent (${messageOf(e)})`);
    if (e instanceof SignInRequiredError) throw new StartupError(`no token for ${what} without a new sign-in: run "npm run m365:signin" (${e.why})`);
    throw new StartupError(`no token for ${what}: grant the app registration that permission, with admin consent (${messageOf(e)})`);
  });
}

async function startupCheck(what: string, check: () => Promise<unknown>): Promise<void> {
  try {
    await check();
  } catch (e) {
    if (e instanceof PowerShellUnavailableError) throw new StartupError(e.message);
    if (e instanceof PowerShellError && e.accessDenied) throw new StartupError(`Teams PowerShell answered "Access Denied": ${WHAT_ACCESS_NEEDS}`);
    if (e instanceof PowerShellError && e.moduleMissing) {
      throw new StartupError('Teams PowerShell: the MicrosoftTeams module is not installed for pwsh (Install-Module MicrosoftTeams -Scope AllUsers)');
    }
    if (e instanceof GraphError && (e.status === 401 || e.status === 403)) {
      throw new StartupError(
        `Microsoft Graph refused the backend (${e.status} ${e.code}): grant the app registration the permissions in docs/microsoft-backend.md, with admin consent`,
      );
    }
    throw new StartupError(`${what} is not usable: ${messageOf(e)}`);
  }
}

function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 300) ?? '';
}
