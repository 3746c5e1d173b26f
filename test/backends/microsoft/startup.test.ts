import { openMicrosoftDirectory, loadMicrosoftConfig } from '../../../src/backends/microsoft';
import { ConfigError, StartupError } from '../../../src/config';
import { CLIENT_ID, microsoftEnv, microsoftOptions, TENANT_ID } from '../../contract/harnesses';
import { appOnlyClaims, delegatedClaims, FakeCredential } from '../../fakes/credential';
import type { FakeMicrosoft365 } from '../../fakes/microsoft365';
import type { FakeClock } from '../../fakes/clock';
import { closeOpened, openTracked, startFake } from './helpers';

/** Configuration and the start-up checks: each problem stops start-up with one plain line (DOMAIN.md F12). */

jest.setTimeout(60_000);

describe('configuration', () => {
  const minimal = { SWITCHBOARD_M365_TENANT_ID: TENANT_ID, SWITCHBOARD_M365_CLIENT_ID: CLIENT_ID };

  it('defaults to Graph v1.0, delegated, pwsh on the PATH', () => {
    expect(loadMicrosoftConfig(minimal)).toEqual({
      graphBaseUrl: 'https://graph.microsoft.com/v1.0',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      authMode: 'delegated',
      clientSecret: '',
      certificatePath: '',
      pwshPath: 'pwsh',
      pwshTimeoutMs: 180_000,
      pwshConcurrency: 2,
      pwshQueue: 50,
      pwshMode: 'warm',
      pwshMaxRequests: 500,
      pwshMaxMemoryBytes: 1024 * 1_048_576,
      graphTimeoutMs: 30_000,
      cacheDir: 'data/m365-signin',
    });
  });

  it('names every bad variable, one line each', () => {
    const error = (() => {
      try {
        loadMicrosoftConfig({ SWITCHBOARD_M365_CLIENT_ID: 'my-app', SWITCHBOARD_GRAPH_BASE_URL: 'http://graph.example.com/v1.0', SWITCHBOARD_M365_AUTH_MODE: 'cert' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message).split('\n')).toEqual([
      'Configuration error: SWITCHBOARD_GRAPH_BASE_URL must be an https URL such as https://graph.microsoft.com/v1.0 (http only for 127.0.0.1)',
      'Configuration error: SWITCHBOARD_M365_TENANT_ID is required',
      'Configuration error: SWITCHBOARD_M365_CLIENT_ID must be the application (client) id of the app registration that calls Graph, a GUID',
      'Configuration error: SWITCHBOARD_M365_AUTH_MODE must be delegated or app-only',
    ]);
  });

  it.each([
    [{ SWITCHBOARD_M365_AUTH_MODE: 'app-only' }, /^Configuration error: SWITCHBOARD_M365_CLIENT_SECRET or SWITCHBOARD_M365_CERTIFICATE_PATH is required/],
    [{ SWITCHBOARD_M365_AUTH_MODE: 'app-only', SWITCHBOARD_M365_CLIENT_SECRET: 's', SWITCHBOARD_M365_CERTIFICATE_PATH: '/c.pem' }, /^Configuration error: SWITCHBOARD_M365_CERTIFICATE_PATH must be empty/],
    [{ SWITCHBOARD_PWSH_TIMEOUT_SECONDS: '2' }, /^Configuration error: SWITCHBOARD_PWSH_TIMEOUT_SECONDS must be at least 10/],
  ])('refuses %j', (extra, message) => {
    expect(() => loadMicrosoftConfig({ ...minimal, ...extra })).toThrow(message);
  });
});

describe('start-up checks', () => {
  let fake: FakeMicrosoft365;
  let clock: FakeClock;
  afterEach(async () => {
    await closeOpened();
    await fake.close();
  });

  const open = (env: NodeJS.ProcessEnv = {}, options = {}) =>
    openTracked({ ...microsoftEnv(fake), ...env }, { ...microsoftOptions(fake, clock), ...options });
  const startupError = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    return (error as Error).message;
  };

  it('opens, asks for a Graph and a Teams Admin API token, and reports healthy', async () => {
    ({ fake, clock } = await startFake());
    const credential = new FakeCredential(delegatedClaims(TENANT_ID));
    const info = jest.fn();
    const sut = await open({}, { credential, log: { info, warn: jest.fn() } });
    expect(new Set(credential.scopes)).toEqual(new Set(['https://graph.microsoft.com/.default', '48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default']));
    expect(await sut.health()).toEqual({ ok: true, detail: expect.stringContaining('Microsoft 365 tenant "Contoso (demo)"') });
    expect(info).toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/ready/));
  });

  it('refuses app-only mode and says what is needed, before calling anything', async () => {
    ({ fake, clock } = await startFake());
    const message = await startupError(open({ SWITCHBOARD_M365_AUTH_MODE: 'app-only', SWITCHBOARD_M365_CLIENT_SECRET: 's' }));
    expect(message).toMatch(/lists \[Get\|Set\|New\|Sync\]-CsOnlineApplicationInstance among the cmdlets app-only sessions cannot run/);
    expect(message).toMatch(/SWITCHBOARD_M365_AUTH_MODE=delegated .* User Administrator and a Teams admin role/);
    expect(fake.requests).toEqual([]);
  });

  it('detects an app-only token behind a "delegated" configuration', async () => {
    ({ fake, clock } = await startFake());
    const message = await startupError(open({}, { credential: new FakeCredential(appOnlyClaims(TENANT_ID)) }));
    expect(message).toMatch(/app-only session: Microsoft's "Application-based authentication in Teams PowerShell Module" page lists/);
  });

  it('refuses a sign-in to another tenant', async () => {
    ({ fake, clock } = await startFake());
    const other = '11111111-2222-4333-8444-555555555555';
    expect(await startupError(open({}, { credential: new FakeCredential(delegatedClaims(other)) }))).toBe(
      `signed in to tenant ${other}, but SWITCHBOARD_M365_TENANT_ID is ${TENANT_ID}`,
    );
  });

  it('warns when the account lacks User Administrator or a Teams admin role (§3.1)', async () => {
    ({ fake, clock } = await startFake());
    const warn = jest.fn();
    const credential = new FakeCredential({ ...delegatedClaims(TENANT_ID), wids: ['aa38014f-0993-46e9-9b45-30501a20909d'] });
    await open({}, { credential, log: { info: jest.fn(), warn } });
    expect(warn).toHaveBeenCalledWith({ missing: ['User Administrator'] }, expect.stringMatching(/lacks User Administrator/));
  });

  it('says when Teams PowerShell answers Access Denied (an app-only Teams session)', async () => {
    ({ fake, clock } = await startFake({ appOnly: true }));
    expect(await startupError(open())).toMatch(/^Teams PowerShell answered "Access Denied": .*delegated/);
  });

  it('says when pwsh is missing', async () => {
    ({ fake, clock } = await startFake());
    expect(await startupError(open({ SWITCHBOARD_PWSH_PATH: '/nonexistent/pwsh' }))).toMatch(/cannot start PowerShell at "\/nonexistent\/pwsh" \(ENOENT\): install PowerShell 7/);
  });

  it('says when Graph refuses the app (permissions not granted)', async () => {
    ({ fake, clock } = await startFake());
    fake.inject({ path: /^\/organization$/, times: 1, status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges.' } } });
    expect(await startupError(open())).toMatch(/^Microsoft Graph refused the backend \(403 Authorization_RequestDenied\): grant the app registration the permissions/);
  });
});
