import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../config';

/**
 * The Microsoft 365 backend's settings, read from the environment. Every bad variable is reported,
 * one line each, naming the variable (the same style as src/config.ts).
 */

const GUID = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

const guid = (what: string) => z.string().trim().regex(GUID, `must be the ${what}, a GUID`);

/** https only; plain http is accepted for a loopback fake (tests) so a token never leaves the host in clear. */
const graphBaseUrl = z
  .string()
  .trim()
  .default('https://graph.microsoft.com/v1.0')
  .refine((raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
    } catch {
      return false;
    }
  }, 'must be an https URL such as https://graph.microsoft.com/v1.0 (http only for 127.0.0.1)')
  .transform((raw) => raw.replace(/\/+$/, ''));

const EnvSchema = z
  .object({
    SWITCHBOARD_GRAPH_BASE_URL: graphBaseUrl,
    SWITCHBOARD_M365_TENANT_ID: guid('Entra tenant id of the tenant to manage'),
    SWITCHBOARD_M365_CLIENT_ID: guid('application (client) id of the app registration that calls Graph'),
    SWITCHBOARD_M365_AUTH_MODE: z
      .enum(['delegated', 'app-only'], { message: 'must be delegated or app-only' })
      .default('delegated'),
    SWITCHBOARD_M365_CLIENT_SECRET: z.string().default(''),
    SWITCHBOARD_M365_CERTIFICATE_PATH: z.string().trim().default(''),
    SWITCHBOARD_PWSH_PATH: z.string().trim().min(1, 'must name the pwsh executable').default('pwsh'),
    SWITCHBOARD_PWSH_TIMEOUT_SECONDS: z.coerce
      .number({ message: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .min(10, 'must be at least 10 (importing MicrosoftTeams alone takes seconds)')
      .max(1800, 'must be at most 1800')
      .default(180),
    SWITCHBOARD_PWSH_CONCURRENCY: z.coerce
      .number({ message: 'must be a number of processes' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(16, 'must be at most 16 (each pwsh with MicrosoftTeams takes hundreds of MB)')
      .default(2),
    SWITCHBOARD_PWSH_MODE: z.enum(['warm', 'oneshot'], { message: 'must be warm or oneshot' }).default('warm'),
    SWITCHBOARD_PWSH_MAX_REQUESTS: z.coerce
      .number({ message: 'must be a number of requests' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(100_000, 'must be at most 100000')
      .default(500),
    SWITCHBOARD_PWSH_MAX_MEMORY_MB: z.coerce
      .number({ message: 'must be a number of MB' })
      .int('must be a whole number of MB')
      .min(256, 'must be at least 256 (pwsh with MicrosoftTeams alone takes hundreds of MB)')
      .max(16_384, 'must be at most 16384')
      .default(1024),
    SWITCHBOARD_PWSH_QUEUE: z.coerce
      .number({ message: 'must be a number of calls' })
      .int('must be a whole number')
      .min(0, 'must be at least 0')
      .max(1000, 'must be at most 1000')
      .default(50),
    SWITCHBOARD_M365_CACHE_DIR: z.string().trim().default(''),
    SWITCHBOARD_DATA_DIR: z.string().trim().default(''),
    SWITCHBOARD_GRAPH_TIMEOUT_SECONDS: z.coerce
      .number({ message: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .min(5, 'must be at least 5')
      .max(300, 'must be at most 300')
      .default(30),
  })
  .superRefine((env, ctx) => {
    // App-only needs exactly one client credential; delegated (device code) is a public client.
    if (env.SWITCHBOARD_M365_AUTH_MODE !== 'app-only') return;
    const secret = env.SWITCHBOARD_M365_CLIENT_SECRET !== '';
    const certificate = env.SWITCHBOARD_M365_CERTIFICATE_PATH !== '';
    if (secret === certificate) {
      ctx.addIssue({
        code: 'custom',
        path: [secret ? 'SWITCHBOARD_M365_CERTIFICATE_PATH' : 'SWITCHBOARD_M365_CLIENT_SECRET'],
        message: secret
          ? 'must be empty when SWITCHBOARD_M365_CLIENT_SECRET is set: choose one app-only credential'
          : 'or SWITCHBOARD_M365_CERTIFICATE_PATH is required for SWITCHBOARD_M365_AUTH_MODE=app-only',
      });
    }
  });

export type AuthMode = 'delegated' | 'app-only';

export interface MicrosoftBackendConfig {
  graphBaseUrl: string;
  tenantId: string;
  clientId: string;
  authMode: AuthMode;
  /** App-only credential: exactly one of the two (never logged). */
  clientSecret: string;
  certificatePath: string;
  pwshPath: string;
  pwshTimeoutMs: number;
  /**
   * pwsh processes at once, and calls that may wait for one (issue 9). In warm mode the first is the
   * number of workers kept warm: one setting for "how many cmdlets run at once" in both modes.
   */
  pwshConcurrency: number;
  pwshQueue: number;
  /** warm: long-lived connected workers (default); oneshot: a new pwsh per cmdlet (the earlier runner). */
  pwshMode: 'warm' | 'oneshot';
  /** A warm worker is replaced after this many requests, or past this working set. */
  pwshMaxRequests: number;
  pwshMaxMemoryBytes: number;
  /** Longest one Graph request may take before it is aborted. */
  graphTimeoutMs: number;
  /** Where the service account's sign-in is kept (token cache + account record), 0700 (signin.ts). */
  cacheDir: string;
}

/** Parses the backend's variables; every bad one gives one line in the ConfigError's message. */
export function loadMicrosoftConfig(env: NodeJS.ProcessEnv): MicrosoftBackendConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'environment');
      if (lines.has(variable)) continue;
      const message = env[variable] === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
      lines.set(variable, `Configuration error: ${variable} ${message.replace(/^Invalid input: /, 'is invalid: ')}`);
    }
    throw new ConfigError([...lines.values()].join('\n'));
  }
  const e = parsed.data;
  return {
    graphBaseUrl: e.SWITCHBOARD_GRAPH_BASE_URL,
    tenantId: e.SWITCHBOARD_M365_TENANT_ID.toLowerCase(),
    clientId: e.SWITCHBOARD_M365_CLIENT_ID,
    authMode: e.SWITCHBOARD_M365_AUTH_MODE,
    clientSecret: e.SWITCHBOARD_M365_CLIENT_SECRET,
    certificatePath: e.SWITCHBOARD_M365_CERTIFICATE_PATH,
    pwshPath: e.SWITCHBOARD_PWSH_PATH,
    pwshTimeoutMs: e.SWITCHBOARD_PWSH_TIMEOUT_SECONDS * 1000,
    pwshConcurrency: e.SWITCHBOARD_PWSH_CONCURRENCY,
    pwshQueue: e.SWITCHBOARD_PWSH_QUEUE,
    pwshMode: e.SWITCHBOARD_PWSH_MODE,
    pwshMaxRequests: e.SWITCHBOARD_PWSH_MAX_REQUESTS,
    pwshMaxMemoryBytes: e.SWITCHBOARD_PWSH_MAX_MEMORY_MB * 1_048_576,
    graphTimeoutMs: e.SWITCHBOARD_GRAPH_TIMEOUT_SECONDS * 1000,
    cacheDir: e.SWITCHBOARD_M365_CACHE_DIR || path.join(e.SWITCHBOARD_DATA_DIR || './data', 'm365-signin'),
  };
}
