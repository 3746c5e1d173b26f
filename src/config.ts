import { z } from 'zod';
import { DEFAULT_APPROVAL_KINDS, ENFORCEABLE_APPROVAL_KINDS } from './approvals/policy';
import { HybridModeSchema, type HybridSettings } from './provisioning/hybrid';
import type { PlanKind } from './provisioning/plans';

/** The Agents Playground's fixed identity (shared/reference/playground.md): accepted in local mode. */
export const PLAYGROUND_TENANT_ID = '00000000-0000-0000-0000-0000000000001';
export const PLAYGROUND_USER_ID = '00000000-0000-0000-0000-0000000000020';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const idList = z
  .string()
  .default('')
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[0-9a-fA-F-]{8,64}$/, 'each entry must be an Entra object id (GUID)')));

const EnvSchema = z
  .object({
    MicrosoftAppId: z.string().trim().default(''),
    MicrosoftAppPassword: z.string().default(''),
    MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('SingleTenant'),
    MicrosoftAppTenantId: z.string().trim().default(''),
    PORT: z.coerce.number().int().min(0).max(65535).default(3978),
    HOST: z.string().trim().optional(),
    SWITCHBOARD_TENANT_ID: z.string().trim().default(''),
    SWITCHBOARD_ADMIN_IDS: idList,
    SWITCHBOARD_APPROVER_IDS: idList,
    SWITCHBOARD_DATA_DIR: z.string().trim().min(1).default('./data'),
    SWITCHBOARD_BACKEND: z.enum(['simulated', 'microsoft']).default('simulated'),
    SWITCHBOARD_STORE: z.enum(['lowdb', 'postgres']).default('lowdb'),
    DATABASE_URL: z.string().trim().optional(),
    SWITCHBOARD_DATABASE_POOL: z.coerce.number().int().min(2).max(100).default(10),
    SWITCHBOARD_PLAN_LEASE_SECONDS: z.coerce.number().min(1).max(3600).default(60),
    SWITCHBOARD_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3600).default(60),
    SWITCHBOARD_APPROVAL_OPERATIONS: z
      .string()
      .default(DEFAULT_APPROVAL_KINDS.join(','))
      .transform((v) => (v.trim().toLowerCase() === 'none' ? [] : v.split(',').map((x) => x.trim()).filter(Boolean)))
      // Only kinds the plan runner enforces: anything else would be a policy silently ignored (issue 9 item 2).
      .pipe(z.array(z.enum(ENFORCEABLE_APPROVAL_KINDS as [PlanKind, ...PlanKind[]]))),
    SWITCHBOARD_APPROVAL_EXPIRY_HOURS: z.coerce.number().positive().max(24 * 90).default(72),
    SWITCHBOARD_APPROVALS_CHANNEL_ID: z.string().trim().max(200).optional(),
    SWITCHBOARD_PUBLIC_URL: z.string().trim().url().optional().or(z.literal('')),
    SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT: z.enum(['true', 'false', '']).default(''),
    SWITCHBOARD_PLAN_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).default(2_000),
    SWITCHBOARD_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(90),
    // Hybrid with Skype for Business Server 2019: resource accounts are created on-premises (src/provisioning/hybrid.ts).
    SWITCHBOARD_HYBRID: HybridModeSchema.default('auto'),
    SWITCHBOARD_HYBRID_OU: z.string().trim().max(500).optional(),
    SWITCHBOARD_STEP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(7200).default(600),
    // Why 15 s: DEFAULT_CONNECTOR_TIMEOUT_MS in src/bot/connectorDeadline.ts.
    SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(15),
    SWITCHBOARD_IMPORT_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
    SWITCHBOARD_SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(8),
    SWITCHBOARD_SIM_LICENSE_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).default(0),
    SWITCHBOARD_SIM_NUMBER_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).default(0),
    SWITCHBOARD_SIM_PROPAGATION_MS: z.coerce.number().int().min(0).max(86_400_000).default(0),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    checkDatabaseUrl(env.SWITCHBOARD_STORE, env.DATABASE_URL, Boolean(env.MicrosoftAppId), ctx);
    if (env.MicrosoftAppId) {
      if (!/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(env.MicrosoftAppId)) {
        ctx.addIssue({ code: 'custom', path: ['MicrosoftAppId'], message: 'must be the bot\'s Entra application (client) id, a GUID' });
      }
      if (!env.SWITCHBOARD_TENANT_ID) {
        ctx.addIssue({ code: 'custom', path: ['SWITCHBOARD_TENANT_ID'], message: 'is required when MicrosoftAppId is set: only that tenant may use the bot' });
      }
      if (env.MicrosoftAppType === 'SingleTenant' && !env.MicrosoftAppTenantId) {
        ctx.addIssue({ code: 'custom', path: ['MicrosoftAppTenantId'], message: 'is required for MicrosoftAppType=SingleTenant' });
      }
      if (env.MicrosoftAppType !== 'UserAssignedMSI' && !env.MicrosoftAppPassword) {
        ctx.addIssue({ code: 'custom', path: ['MicrosoftAppPassword'], message: `is required for MicrosoftAppType=${env.MicrosoftAppType}` });
      }
      if (env.MicrosoftAppType === 'UserAssignedMSI' && env.MicrosoftAppPassword) {
        ctx.addIssue({ code: 'custom', path: ['MicrosoftAppPassword'], message: 'must be empty for MicrosoftAppType=UserAssignedMSI' });
      }
      // Export links are opened by users' browsers: without it they would point at the bind address
      // (http://0.0.0.0:…), and a one-time link over plain http can be read on the way.
      if (!env.SWITCHBOARD_PUBLIC_URL) {
        ctx.addIssue({ code: 'custom', path: ['SWITCHBOARD_PUBLIC_URL'], message: 'is required when MicrosoftAppId is set: the https address users reach the bot at, for history export links' });
      } else if (!/^https:\/\//i.test(env.SWITCHBOARD_PUBLIC_URL)) {
        ctx.addIssue({ code: 'custom', path: ['SWITCHBOARD_PUBLIC_URL'], message: 'must be an https:// address when MicrosoftAppId is set' });
      }
      return;
    }
    if (env.HOST && !LOOPBACK.has(env.HOST)) {
      // With no app id, botbuilder turns authentication off: never listen beyond loopback then.
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: `is ${env.HOST}, but with no MicrosoftAppId authentication is off, so only a loopback address (127.0.0.1) is allowed`,
      });
    }
    // Local mode takes anyone on this machine as the admin: on the simulated tenant that is a demo,
    // on a real tenant it is real changes with no sign-in. Only on purpose, by name.
    if (env.SWITCHBOARD_BACKEND === 'microsoft' && env.SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT !== 'true') {
      ctx.addIssue({
        code: 'custom',
        path: ['SWITCHBOARD_BACKEND'],
        message:
          'is microsoft, but with no MicrosoftAppId authentication is off and anyone on this machine could change the real tenant; set MicrosoftAppId, or SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT=true to allow it',
      });
    }
  });

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/i;

/**
 * DATABASE_URL must be a PostgreSQL URL; outside local mode a database that is not on this machine
 * must be reached over TLS (Azure Database for PostgreSQL enforces it: sslmode=require, or verify-ca /
 * verify-full with the server's CA).
 */
function checkDatabaseUrl(store: 'lowdb' | 'postgres', url: string | undefined, production: boolean, ctx: z.RefinementCtx): void {
  if (store !== 'postgres') {
    if (url) ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is set but SWITCHBOARD_STORE is not postgres: set SWITCHBOARD_STORE=postgres to use it, or unset it' });
    return;
  }
  if (!url) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required with SWITCHBOARD_STORE=postgres (postgres://user:password@host:5432/database?sslmode=require)' });
    return;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is not a URL (postgres://user:password@host:5432/database?sslmode=require)' });
    return;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: `must start with postgres:// (it starts with ${parsed.protocol}//)` });
    return;
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (production && !LOOPBACK_HOST.test(parsed.hostname) && !['require', 'verify-ca', 'verify-full'].includes(sslmode ?? '')) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'must ask for TLS (sslmode=require, verify-ca or verify-full) for a database that is not on this machine' });
  }
}

export interface Config {
  /** No app id: Bot Framework authentication is off and the server binds to loopback only. */
  localMode: boolean;
  bot: { appId: string; appPassword: string; appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI'; appTenantId: string };
  port: number;
  host: string;
  tenantId: string;
  adminIds: string[];
  approverIds: string[];
  dataDir: string;
  backend: 'simulated' | 'microsoft';
  /** lowdb files in dataDir (one instance), or PostgreSQL shared by several instances. */
  store: { kind: 'lowdb' } | { kind: 'postgres'; url: string; pool: number };
  /** How long a plan's runner holds it without renewing; another instance takes it over after that. */
  planLeaseMs: number;
  /** How often expiry, reconciliation and retention run (on one instance at a time). */
  sweepMs: number;
  approvals: {
    /** Which requests need an approver's decision (four-eyes). */
    kinds: PlanKind[];
    expiresAfterMs: number;
    /** A Teams channel (19:…@thread.tacv2) where every request is also posted, if the bot is installed there. */
    channelId: string | undefined;
  };
  /** The address users reach this server at (https://…), for history export links. */
  publicUrl: string | undefined;
  /** How often a waiting plan looks at the tenant again (doubling up to a minute). */
  planPollMs: number;
  /** Finished plans and decided requests are kept this long; the audit log keeps the history. */
  retentionMs: number;
  /** The longest one plan step may take before it counts as a fault (the plan parks with Retry). */
  stepTimeoutMs: number;
  /** The longest one call to the Bot Connector (a reply, a proactive message, a card update) may take. */
  connectorTimeoutMs: number;
  /** Rows of an import batch that run at once (fewer while the tenant throttles). */
  importConcurrency: number;
  /** How long SIGTERM/SIGINT waits for in-flight turns and the stores before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** How slow the simulated tenant is, to demo and test the waiting and resume paths (DOMAIN.md F13, F14). */
  simulatedSlowness: { licenseProvisioningMs: number; numberOperationMs: number; accountPropagationMs: number };
  hybrid: HybridSettings;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A start-up problem that one plain line explains (e.g. a backend that cannot be used). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Parses the environment; a bad value throws ConfigError with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Configuration error: ${variable} ${issue.message.replace(/^Invalid (input|option): /, 'is invalid: ')}`);
  }
  const e = parsed.data;
  const localMode = !e.MicrosoftAppId;
  const adminIds = e.SWITCHBOARD_ADMIN_IDS.length > 0 || !localMode ? e.SWITCHBOARD_ADMIN_IDS : [PLAYGROUND_USER_ID];
  return {
    localMode,
    bot: { appId: e.MicrosoftAppId, appPassword: e.MicrosoftAppPassword, appType: e.MicrosoftAppType, appTenantId: e.MicrosoftAppTenantId },
    port: e.PORT,
    host: e.HOST || (localMode ? '127.0.0.1' : '0.0.0.0'),
    tenantId: e.SWITCHBOARD_TENANT_ID || PLAYGROUND_TENANT_ID,
    adminIds,
    approverIds: e.SWITCHBOARD_APPROVER_IDS,
    dataDir: e.SWITCHBOARD_DATA_DIR,
    backend: e.SWITCHBOARD_BACKEND,
    store: e.SWITCHBOARD_STORE === 'postgres' ? { kind: 'postgres', url: e.DATABASE_URL!, pool: e.SWITCHBOARD_DATABASE_POOL } : { kind: 'lowdb' },
    planLeaseMs: Math.round(e.SWITCHBOARD_PLAN_LEASE_SECONDS * 1000),
    sweepMs: Math.round(e.SWITCHBOARD_SWEEP_SECONDS * 1000),
    approvals: {
      kinds: e.SWITCHBOARD_APPROVAL_OPERATIONS,
      expiresAfterMs: Math.round(e.SWITCHBOARD_APPROVAL_EXPIRY_HOURS * 3_600_000),
      channelId: e.SWITCHBOARD_APPROVALS_CHANNEL_ID || undefined,
    },
    publicUrl: e.SWITCHBOARD_PUBLIC_URL || undefined,
    planPollMs: e.SWITCHBOARD_PLAN_POLL_MS,
    retentionMs: Math.round(e.SWITCHBOARD_RETENTION_DAYS * 86_400_000),
    stepTimeoutMs: e.SWITCHBOARD_STEP_TIMEOUT_SECONDS * 1000,
    connectorTimeoutMs: e.SWITCHBOARD_CONNECTOR_TIMEOUT_SECONDS * 1000,
    importConcurrency: e.SWITCHBOARD_IMPORT_CONCURRENCY,
    shutdownTimeoutMs: Math.round(e.SWITCHBOARD_SHUTDOWN_TIMEOUT_SECONDS * 1000),
    simulatedSlowness: {
      licenseProvisioningMs: e.SWITCHBOARD_SIM_LICENSE_DELAY_MS,
      numberOperationMs: e.SWITCHBOARD_SIM_NUMBER_DELAY_MS,
      accountPropagationMs: e.SWITCHBOARD_SIM_PROPAGATION_MS,
    },
    hybrid: { mode: e.SWITCHBOARD_HYBRID, ...(e.SWITCHBOARD_HYBRID_OU ? { ou: e.SWITCHBOARD_HYBRID_OU } : {}) },
    logLevel: e.LOG_LEVEL,
  };
}
