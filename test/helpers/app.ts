import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App, type AppOptions } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/log/logger';
import { ADMIN, APPROVER, TENANT } from './identities';

export async function tempDir(prefix = 'switchboard-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_TENANT_ID: TENANT,
    SWITCHBOARD_ADMIN_IDS: ADMIN.aadObjectId,
    SWITCHBOARD_APPROVER_IDS: APPROVER.aadObjectId,
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** A whole app (real lowdb files in a temp dir, real cards, real bot) with a silent logger. */
export async function testApp(dataDir: string, env: Record<string, string> = {}, options: AppOptions = {}): Promise<App> {
  return createApp(testConfig(dataDir, env), { log: createLogger('silent'), ...options });
}
