import { loadConfig, PLAYGROUND_TENANT_ID, PLAYGROUND_USER_ID } from '../src/config';

const APP_ID = '11111111-2222-4333-8444-555555555555';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const production = { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 's', MicrosoftAppTenantId: TENANT, SWITCHBOARD_TENANT_ID: TENANT, SWITCHBOARD_PUBLIC_URL: 'https://switchboard.contoso.com' };

describe('configuration from the environment', () => {
  it('starts in local mode on loopback with the Playground identity when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      localMode: true,
      bot: { appId: '', appPassword: '', appType: 'SingleTenant', appTenantId: '' },
      port: 3978,
      host: '127.0.0.1',
      hybrid: { mode: 'auto' },
      tenantId: PLAYGROUND_TENANT_ID,
      adminIds: [PLAYGROUND_USER_ID],
      approverIds: [],
      dataDir: './data',
      backend: 'simulated',
      approvals: { kinds: ['deleteAccount', 'switchLicense', 'unassignNumber', 'replaceAccount'], expiresAfterMs: 72 * 3_600_000, channelId: undefined },
      publicUrl: undefined,
      retentionMs: 90 * 86_400_000,
      stepTimeoutMs: 600_000,
      connectorTimeoutMs: 15_000,
      shutdownTimeoutMs: 8_000,
      store: { kind: 'lowdb' },
      planLeaseMs: 60_000,
      sweepMs: 60_000,
      planPollMs: 2000,
      importConcurrency: 4,
      simulatedSlowness: { licenseProvisioningMs: 0, numberOperationMs: 0, accountPropagationMs: 0 },
      logLevel: 'info',
    });
  });

  it('bounds how many import rows run at once', () => {
    expect(loadConfig({ SWITCHBOARD_IMPORT_CONCURRENCY: '8' }).importConcurrency).toBe(8);
    expect(() => loadConfig({ SWITCHBOARD_IMPORT_CONCURRENCY: '0' })).toThrow(/SWITCHBOARD_IMPORT_CONCURRENCY/);
    expect(() => loadConfig({ SWITCHBOARD_IMPORT_CONCURRENCY: '64' })).toThrow(/SWITCHBOARD_IMPORT_CONCURRENCY/);
  });

  it('treats empty variables (as copied from .env.example) as unset', () => {
    expect(loadConfig({ HOST: '', SWITCHBOARD_TENANT_ID: '', SWITCHBOARD_ADMIN_IDS: '', SWITCHBOARD_APPROVALS_CHANNEL_ID: '', SWITCHBOARD_PUBLIC_URL: '' })).toMatchObject({
      host: '127.0.0.1',
      tenantId: PLAYGROUND_TENANT_ID,
      adminIds: [PLAYGROUND_USER_ID],
      approvals: { channelId: undefined },
      publicUrl: undefined,
    });
  });

  it('requires tokens and listens on all interfaces by default with an app id', () => {
    expect(loadConfig({ ...production, SWITCHBOARD_ADMIN_IDS: ' a1a1a1a1-0000-4000-8000-000000000001 , b2b2b2b2-0000-4000-8000-000000000002' })).toMatchObject({
      localMode: false,
      host: '0.0.0.0',
      tenantId: TENANT,
      adminIds: ['a1a1a1a1-0000-4000-8000-000000000001', 'b2b2b2b2-0000-4000-8000-000000000002'],
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /^Configuration error: PORT /],
    [{ PORT: '70000' }, /^Configuration error: PORT /],
    [{ HOST: '0.0.0.0' }, /^Configuration error: HOST is 0\.0\.0\.0, but with no MicrosoftAppId authentication is off, so only a loopback address \(127\.0\.0\.1\) is allowed$/],
    [{ SWITCHBOARD_BACKEND: 'azure' }, /^Configuration error: SWITCHBOARD_BACKEND /],
    [{ SWITCHBOARD_ADMIN_IDS: 'alice@contoso.com' }, /^Configuration error: SWITCHBOARD_ADMIN_IDS each entry must be an Entra object id \(GUID\)$/],
    [{ LOG_LEVEL: 'loud' }, /^Configuration error: LOG_LEVEL /],
    [{ SWITCHBOARD_APPROVAL_OPERATIONS: 'delete' }, /^Configuration error: SWITCHBOARD_APPROVAL_OPERATIONS is invalid: expected one of "addAccount"\|"assignNumber"/],
    [{ SWITCHBOARD_APPROVAL_EXPIRY_HOURS: '0' }, /^Configuration error: SWITCHBOARD_APPROVAL_EXPIRY_HOURS /],
    [{ SWITCHBOARD_SWEEP_SECONDS: '0' }, /^Configuration error: SWITCHBOARD_SWEEP_SECONDS /],
    [{ ...production, MicrosoftAppId: 'my-bot' }, /^Configuration error: MicrosoftAppId must be the bot's Entra application \(client\) id, a GUID$/],
    [{ ...production, SWITCHBOARD_TENANT_ID: '' }, /^Configuration error: SWITCHBOARD_TENANT_ID is required when MicrosoftAppId is set/],
    [{ ...production, MicrosoftAppTenantId: '' }, /^Configuration error: MicrosoftAppTenantId is required for MicrosoftAppType=SingleTenant$/],
    [{ ...production, MicrosoftAppPassword: '' }, /^Configuration error: MicrosoftAppPassword is required for MicrosoftAppType=SingleTenant$/],
    [{ ...production, MicrosoftAppType: 'UserAssignedMSI' }, /^Configuration error: MicrosoftAppPassword must be empty for MicrosoftAppType=UserAssignedMSI$/],
    // Export links would otherwise point at http://0.0.0.0:… (the bind address), or travel in clear.
    [{ ...production, SWITCHBOARD_PUBLIC_URL: '' }, /^Configuration error: SWITCHBOARD_PUBLIC_URL is required when MicrosoftAppId is set: the https address users reach the bot at/],
    [{ ...production, SWITCHBOARD_PUBLIC_URL: 'http://switchboard.contoso.com' }, /^Configuration error: SWITCHBOARD_PUBLIC_URL must be an https:\/\/ address when MicrosoftAppId is set$/],
    // A real tenant with authentication off: only when asked for by name.
    [{ SWITCHBOARD_BACKEND: 'microsoft' }, /^Configuration error: SWITCHBOARD_BACKEND is microsoft, but with no MicrosoftAppId .*set MicrosoftAppId, or SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT=true to allow it$/],
    [{ SWITCHBOARD_BACKEND: 'microsoft', SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT: 'yes' }, /^Configuration error: SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT is invalid: expected one of "true"\|"false"/],
  ])('stops on %j with one line naming the variable', (env, expected) => {
    expect(() => loadConfig(env)).toThrow(expected);
    try {
      loadConfig(env);
    } catch (e) {
      expect((e as Error).message.split('\n')).toHaveLength(1);
    }
  });

  it('takes the https public address for export links with an app id', () => {
    expect(loadConfig(production).publicUrl).toBe('https://switchboard.contoso.com');
  });

  it('runs a real tenant without authentication only when SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT=true', () => {
    expect(loadConfig({ SWITCHBOARD_BACKEND: 'microsoft', SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT: 'true' })).toMatchObject({ localMode: true, backend: 'microsoft' });
    expect(() => loadConfig({ SWITCHBOARD_BACKEND: 'microsoft', SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT: 'false' })).toThrow(/SWITCHBOARD_ALLOW_UNAUTHENTICATED_REAL_TENANT=true/);
    expect(loadConfig({ ...production, SWITCHBOARD_BACKEND: 'microsoft' })).toMatchObject({ localMode: false, backend: 'microsoft' });
  });
});

describe('hybrid settings', () => {
  it('takes on / off / auto and the OU, and names the variable on a bad value', () => {
    expect(loadConfig({ SWITCHBOARD_HYBRID: 'on', SWITCHBOARD_HYBRID_OU: 'OU=RA,DC=contoso,DC=com' }).hybrid).toEqual({ mode: 'on', ou: 'OU=RA,DC=contoso,DC=com' });
    expect(loadConfig({ SWITCHBOARD_HYBRID: 'off' }).hybrid).toEqual({ mode: 'off' });
    expect(() => loadConfig({ SWITCHBOARD_HYBRID: 'yes' })).toThrow(/^Configuration error: SWITCHBOARD_HYBRID /);
  });
});
