#!/usr/bin/env node
'use strict';
/**
 * `npm run m365:signin`: the operator signs the Microsoft 365 service account in, once, on the bot's host.
 * Shows a device code (open https://microsoft.com/devicelogin, enter it, sign in as the service account,
 * MFA included), then saves the token cache and the account record in SWITCHBOARD_M365_CACHE_DIR
 * (default <SWITCHBOARD_DATA_DIR>/m365-signin; folder 0700, files 0600). The bot uses them silently
 * and never prompts; run this again when its log says "must sign in again".
 *
 * It reads the same settings as the bot (.env beside package.json, then the environment) and checks what
 * start-up checks: the tenant, the delegated Graph permissions granted, the Teams admin API consent.
 * Run it as the user the bot runs as (the files must be that user's).
 */
const { existsSync } = require('node:fs');

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { loadMicrosoftConfig } = require('../dist/backends/microsoft/config');
  const { claimsOf, graphScopeFor, missingScopes, TEAMS_SCOPE } = require('../dist/backends/microsoft/auth');
  const { consentMissing, signInInteractively } = require('../dist/backends/microsoft/signin');
  const config = loadMicrosoftConfig(process.env);
  if (config.authMode !== 'delegated') throw new Error('SWITCHBOARD_M365_AUTH_MODE is not delegated: there is no service account to sign in');
  const settings = { tenantId: config.tenantId, clientId: config.clientId, cacheDir: config.cacheDir };
  const graphScope = graphScopeFor(config.graphBaseUrl);
  process.stdout.write(`Signing in to tenant ${config.tenantId} with app ${config.clientId}; the sign-in is kept in ${config.cacheDir}\n`);
  let record;
  try {
    record = await signInInteractively(settings, graphScope, TEAMS_SCOPE, (message) => process.stdout.write(`\n${message}\n\n`));
  } catch (e) {
    if (consentMissing(e)) {
      throw new Error(
        'signed in, but the app has no consent for the Skype and Teams Tenant Admin API (48ac35b8-9aa8-4d74-927d-1f4a14a0b239, delegated user_impersonation): ' +
          'add it to the app registration, grant admin consent, and run this again',
      );
    }
    throw e;
  }
  process.stdout.write(`Signed in as ${record.username} (tenant ${record.tenantId}).\n`);
  const { DeviceCodeCredential } = require('@azure/identity');
  const { silentCredentialOptions } = require('../dist/backends/microsoft/signin');
  const token = await new DeviceCodeCredential(silentCredentialOptions(settings, record)).getToken(graphScope);
  const claims = token ? claimsOf(token.token) : null;
  const missing = claims ? missingScopes(claims) : [];
  if (missing.length > 0) process.stdout.write(`Warning: the app lacks ${missing.join(', ')}; the bot will refuse to start until they are granted.\n`);
  process.stdout.write('Done. Start (or restart) the bot.\n');
}

main().catch((error) => {
  process.stderr.write(`m365:signin failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
