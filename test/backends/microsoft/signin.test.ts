import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthenticationRequiredError, type AuthenticationRecord } from '@azure/identity';
import { openMicrosoftDirectory } from '../../../src/backends/microsoft';
import { missingScopes } from '../../../src/backends/microsoft/auth';
import { fileCachePlugin, loadRecord, saveRecord, silentCredential, silentCredentialOptions } from '../../../src/backends/microsoft/signin';
import { DEMO } from '../../../src/backends/simulated/seed';
import { describeRefusal } from '../../../src/cards/describe';
import { StartupError } from '../../../src/config';
import { DirectoryRefusal } from '../../../src/provisioning/result';
import { CLIENT_ID, microsoftEnv, microsoftOptions, TENANT_ID } from '../../contract/harnesses';
import { delegatedClaims, FakeCredential } from '../../fakes/credential';
import type { FakeMicrosoft365 } from '../../fakes/microsoft365';
import type { FakeClock } from '../../fakes/clock';
import { closeOpened, openTracked, startFake } from './helpers';

/** The service account's sign-in: kept across restarts, renewed by the operator, never prompted for mid-click. */

jest.setTimeout(60_000);

const TEAMS = '48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default';
const RECORD: AuthenticationRecord = {
  authority: 'login.microsoftonline.com',
  homeAccountId: `00000000-0000-0000-0000-0000000000aa.${TENANT_ID}`,
  clientId: CLIENT_ID,
  tenantId: TENANT_ID,
  username: 'switchboard-svc@contoso.onmicrosoft.com',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-signin-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('first start, with nobody signed in', () => {
  let fake: FakeMicrosoft365;
  let clock: FakeClock;
  afterEach(async () => {
    await closeOpened();
    await fake.close();
  });

  it('stops with the command to run, without prompting and without calling Microsoft', async () => {
    ({ fake, clock } = await startFake());
    const cacheDir = path.join(dir, 'signin');
    const { credential: _none, ...options } = microsoftOptions(fake, clock);
    const error = await openTracked({ ...microsoftEnv(fake), SWITCHBOARD_M365_CACHE_DIR: cacheDir }, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toBe(
      `the Microsoft 365 service account has not signed in yet (nothing saved in ${cacheDir}): run "npm run m365:signin" on this host, then start again`,
    );
    expect(fake.requests).toEqual([]);
    expect(mode(cacheDir)).toBe('700');
  });
});

describe('a restart with a saved sign-in', () => {
  it('keeps the account record in a 0600 file and builds a silent credential from it', () => {
    saveRecord(dir, RECORD);
    expect(mode(path.join(dir, 'authentication-record.json'))).toBe('600');
    expect(loadRecord(dir)).toEqual(RECORD);
    expect(silentCredentialOptions({ tenantId: TENANT_ID, clientId: CLIENT_ID, cacheDir: dir }, RECORD)).toEqual({
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      authenticationRecord: RECORD,
      disableAutomaticAuthentication: true,
      tokenCachePersistenceOptions: { enabled: true, name: 'switchboard-m365' },
    });
    expect(silentCredential({ tenantId: TENANT_ID, clientId: CLIENT_ID, cacheDir: dir })).not.toBeNull();
  });

  it('keeps the token cache in a private file that a new process reads back', async () => {
    let factory: ((options?: { name?: string }) => Promise<unknown>) | undefined;
    fileCachePlugin(dir)({ cachePluginControl: { setPersistence: (f: typeof factory) => (factory = f) } });
    type Plugin = { beforeCacheAccess(c: unknown): Promise<void>; afterCacheAccess(c: unknown): Promise<void> };
    const plugin = (await factory!({ name: 'switchboard-m365.nocae' })) as Plugin;
    await plugin.afterCacheAccess({ cacheHasChanged: true, tokenCache: { serialize: () => '{"RefreshToken":{"x":{}}}', deserialize: () => undefined } });
    const file = path.join(dir, 'switchboard-m365.nocae.json');
    expect([mode(dir), mode(file), readFileSync(file, 'utf8')]).toEqual(['700', '600', '{"RefreshToken":{"x":{}}}']);
    // "After a restart": a fresh plugin reads what the last process wrote.
    const restored: string[] = [];
    await plugin.beforeCacheAccess({ cacheHasChanged: false, tokenCache: { serialize: () => '', deserialize: (t: string) => restored.push(t) } });
    expect(restored).toEqual(['{"RefreshToken":{"x":{}}}']);
    // Nothing is written when the cache did not change.
    await plugin.afterCacheAccess({ cacheHasChanged: false, tokenCache: { serialize: () => 'other', deserialize: () => undefined } });
    expect(readFileSync(file, 'utf8')).toBe('{"RefreshToken":{"x":{}}}');
  });

  it('refuses a cache that others can read, instead of using it', async () => {
    saveRecord(dir, RECORD);
    chmodSync(path.join(dir, 'authentication-record.json'), 0o644);
    expect(() => loadRecord(dir)).toThrow(/open to group or others \(mode 644\)/);
    chmodSync(path.join(dir, 'authentication-record.json'), 0o600);
    chmodSync(dir, 0o755);
    expect(() => loadRecord(dir)).toThrow(/open to group or others \(mode 755\)/);
    expect(existsSync(path.join(dir, 'authentication-record.json'))).toBe(true);
  });
});

describe('the sign-in fails to refresh during a click', () => {
  let fake: FakeMicrosoft365;
  let clock: FakeClock;
  afterEach(async () => {
    await closeOpened();
    await fake.close();
  });

  it('answers at once with TENANT_SIGN_IN_REQUIRED (a clear card), tells the operator once, prompts nobody, runs no pwsh', async () => {
    ({ fake, clock } = await startFake());
    const credential = new FakeCredential(delegatedClaims(TENANT_ID));
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const sut = await openTracked(microsoftEnv(fake), { ...microsoftOptions(fake, clock), credential, log });
    credential.failWith = (scope) => new AuthenticationRequiredError({ scopes: [scope], message: 'AADSTS700082: The refresh token has expired due to inactivity.' });
    const pwshBefore = fake.pwshCalls.length;
    const started = Date.now();

    const read = await sut.getAccount(DEMO.accounts.paris.id).catch((e: unknown) => e);
    const change = await sut.createAccount({ userPrincipalName: 'aa-new@contoso.com', displayName: 'New', accountType: 'autoAttendant' }).catch((e: unknown) => e);
    const plan = await sut.assignLicense(DEMO.accounts.paris.id, { addSkuIds: [DEMO.skus.resourceAccount.skuId], removeSkuIds: [] }).catch((e: unknown) => e);

    for (const outcome of [read, change, plan]) {
      expect(outcome).toBeInstanceOf(DirectoryRefusal);
      expect(outcome).toMatchObject({ reason: 'TENANT_SIGN_IN_REQUIRED' });
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fake.pwshCalls.length).toBe(pwshBefore);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error.mock.calls[0]?.[1]).toMatch(/must sign in again; run "npm run m365:signin" on the bot's host \(AADSTS700082/);
    expect(describeRefusal((read as DirectoryRefusal).toRefusal(), 'en')).toMatch(/its service account must sign in again\. Nothing was changed/);
    expect(describeRefusal((read as DirectoryRefusal).toRefusal(), 'fr')).toMatch(/compte de service doit se reconnecter/);

    // Once the operator has signed in again, the next click works.
    credential.failWith = undefined;
    expect((await sut.getAccount(DEMO.accounts.paris.id))?.id).toBe(DEMO.accounts.paris.id);
  });
});

describe('start-up checks of consent and permissions', () => {
  let fake: FakeMicrosoft365;
  let clock: FakeClock;
  afterEach(async () => {
    await closeOpened();
    await fake.close();
  });

  const open = (credential: FakeCredential) => openTracked(microsoftEnv(fake), { ...microsoftOptions(fake, clock), credential });

  it('names a missing consent for the Teams admin API, asks for it once and prompts for nothing', async () => {
    ({ fake, clock } = await startFake());
    const credential = new FakeCredential(delegatedClaims(TENANT_ID));
    credential.failWith = (scope) =>
      scope === TEAMS ? new Error("AADSTS65001: The user or administrator has not consented to use the application with ID '0f1e…'.") : undefined;
    const error = await open(credential).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(
      /^no consent for the Skype and Teams Tenant Admin API \(48ac35b8-9aa8-4d74-927d-1f4a14a0b239\), delegated permission user_impersonation: add it to the app registration and grant admin consent/,
    );
    expect(credential.scopes.filter((s) => s === TEAMS)).toHaveLength(1);
  });

  it('names each delegated Graph permission missing from the token', async () => {
    ({ fake, clock } = await startFake());
    const credential = new FakeCredential({ ...delegatedClaims(TENANT_ID), scp: 'User.ReadWrite.All LicenseAssignment.ReadWrite.All openid profile' });
    const error = await open(credential).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toBe(
      `the app registration ${CLIENT_ID} lacks the delegated Microsoft Graph permission(s) Organization.Read.All (verified domains, subscribedSkus), ` +
        'TeamsTelephoneNumber.ReadWrite.All (list, assign and unassign numbers): add them and grant admin consent (docs/microsoft-backend.md §1)',
    );
    expect(fake.requests).toEqual([]);
  });

  it('accepts a higher permission in place of a narrower one', () => {
    expect(missingScopes({ scp: 'Directory.ReadWrite.All TeamsTelephoneNumber.ReadWrite.All' })).toEqual([]);
    expect(missingScopes({ scp: 'user.readwrite.all organization.read.all teamstelephonenumber.readwrite.all' })).toEqual([]);
  });
});
