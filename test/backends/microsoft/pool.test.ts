import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { DEMO } from '../../../src/backends/simulated/seed';
import { Meter } from '../../../src/backends/microsoft/meter';
import {
  PowerShellBusyError,
  PowerShellError,
  PowerShellOutcomeUnknownError,
  PowerShellTimeoutError,
  PowerShellUnavailableError,
  PowerShellWorkerError,
} from '../../../src/backends/microsoft/powershell/errors';
import { PowerShellPool, type PowerShellPoolOptions } from '../../../src/backends/microsoft/powershell/pool';
import { RESULT_MARKER, WORKER_ARGS } from '../../../src/backends/microsoft/powershell/script';
import { fakeJwt } from '../../fakes/credential';
import { FAKE_PWSH, type FakeMicrosoft365 } from '../../fakes/microsoft365';
import { openOverFake, startFake, type OverFake } from './helpers';

/** What Get-CsCallQueue lists in the demo tenant. */
const CALL_QUEUES = Object.values(DEMO.voiceApps).filter((v) => v.configurationType === 'callQueue').length;

/**
 * The warm pool over the fake pwsh (test/fakes/pwsh.js), which runs WORKER_SCRIPT's protocol, models
 * start, import, connect and cmdlet costs, and can be told to crash or hang (FakeMicrosoft365.failPwsh).
 */

jest.setTimeout(60_000);

const APP_ID = 'ce933385-9390-45d1-9512-c8d228074e07';

/** Tokens that can be rotated, as MSAL does a few minutes before expiry. */
class RotatingTokens {
  generation = 1;
  readonly graph = async (): Promise<string> => fakeJwt({ aud: 'graph', generation: this.generation });
  readonly teams = async (): Promise<string> => fakeJwt({ aud: 'teams', generation: this.generation });
  rotate(): void {
    this.generation += 1;
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the warm PowerShell pool', () => {
  let fake: FakeMicrosoft365;
  let tokens: RotatingTokens;
  const pools: PowerShellPool[] = [];

  beforeEach(async () => {
    ({ fake } = await startFake());
    tokens = new RotatingTokens();
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
    await fake.close();
  });

  function pool(options: Partial<PowerShellPoolOptions> = {}, costs: Parameters<FakeMicrosoft365['pwshEnv']>[0] = {}): PowerShellPool {
    const sut = new PowerShellPool({
      pwshPath: FAKE_PWSH,
      timeoutMs: 10_000,
      tokens,
      env: fake.pwshEnv(costs),
      size: 2,
      maxQueue: 50,
      maxRequestsPerWorker: 500,
      maxMemoryBytes: 64 * 1024 ** 3,
      ...options,
    });
    pools.push(sut);
    return sut;
  }

  it('starts its workers at boot, imports and connects each once, and reuses them for every call', async () => {
    const sut = pool();
    await sut.start();
    expect(fake.pwshProcesses).toHaveLength(2);
    expect(fake.pwshConnects).toHaveLength(2);
    for (let i = 0; i < 10; i += 1) await sut.run('Get-CsOnlineApplicationInstance', { Identity: DEMO.accounts.paris.id });
    await Promise.all(Array.from({ length: 10 }, () => sut.run('Get-CsCallQueue', {})));
    expect(fake.pwshProcesses).toHaveLength(2);
    expect(fake.pwshConnects).toHaveLength(2);
    const pids = new Set(fake.pwshProcesses.map((p) => p.pid));
    expect(fake.pwshCalls).toHaveLength(20);
    expect(fake.pwshCalls.every((c) => pids.has(c.pid) && c.mode === 'warm' && c.wellFormed)).toBe(true);
    // Both workers served: the parallel calls were spread.
    expect(new Set(fake.pwshCalls.map((c) => c.pid)).size).toBe(2);
  });

  it('pays start, import and connect once: after warm-up a cmdlet costs about its own time', async () => {
    const costs = { startMs: 100, importMs: 400, connectMs: 200, cmdletMs: 100 };
    const sut = pool({ size: 1 }, costs);
    const bootStarted = performance.now();
    await sut.start();
    expect(performance.now() - bootStarted).toBeGreaterThanOrEqual(700);
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      await sut.run('Get-CsCallQueue', {});
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    // The median: well under the 800 ms a one-shot call pays (start + import + connect + cmdlet).
    expect(times[2]).toBeGreaterThanOrEqual(100);
    expect(times[2]).toBeLessThan(300);
  });

  it('reconnects with rotated tokens, over stdin only: never in argv or the environment', async () => {
    const sut = pool({ size: 1 });
    await sut.start();
    await sut.run('Get-CsCallQueue', {});
    const first = await tokens.graph();
    tokens.rotate();
    const second = await tokens.graph();
    await sut.run('Get-CsCallQueue', {});
    expect(fake.pwshConnects.map((c) => c.graphToken)).toEqual([first, second]);
    expect(fake.pwshCalls.map((c) => c.graphToken)).toEqual([first, second]);
    expect(fake.pwshProcesses).toHaveLength(1);
    for (const process of fake.pwshProcesses) {
      const given = [...process.argv, ...Object.entries(process.env).flat()].join('\n');
      for (const token of [first, second, await tokens.teams()]) expect(given).not.toContain(token);
      expect(process.argv).toEqual([...WORKER_ARGS]);
    }
    // The request lines themselves carry no token: only the connect line does.
    expect(fake.pwshCalls.every((c) => !/Token/.test(c.stdin))).toBe(true);
  });

  it('lets a call that started before a rotation finish on its session; the next one reconnects', async () => {
    const sut = pool({ size: 1 }, { cmdletMs: 300 });
    await sut.start();
    const first = await tokens.graph();
    const running = sut.run('Get-CsCallQueue', {});
    await delay(100);
    tokens.rotate();
    await expect(running).resolves.toHaveLength(CALL_QUEUES);
    await sut.run('Get-CsCallQueue', {});
    expect(fake.pwshCalls.map((c) => c.graphToken)).toEqual([first, await tokens.graph()]);
  });

  it('reconnects idle workers in the background when tokens rotate, so no call waits for it', async () => {
    const meter = new Meter();
    const sut = pool({ size: 2, refreshEveryMs: 50, meter });
    await sut.start();
    tokens.rotate();
    for (let i = 0; i < 40 && fake.pwshConnects.length < 4; i += 1) await delay(50);
    expect(fake.pwshConnects).toHaveLength(4);
    const { counts } = await meter.measure(() => sut.run('Get-CsCallQueue', {}));
    expect(counts).toMatchObject({ cmdlets: 1, connects: 0, processStarts: 0 });
  });

  it('refuses a cmdlet or a parameter outside the allow-list before anything is written to a worker', async () => {
    const sut = pool();
    await sut.start();
    await expect(sut.run('Invoke-Expression' as never, {} as never)).rejects.toThrow(/not in the allow-list/);
    await expect(sut.run('Get-CsOnlineApplicationInstance', { Identity: 'a', Filter: '*' } as never)).rejects.toThrow(/outside the allow-list/);
    await expect(sut.run('Set-CsOnlineApplicationInstance', { Identity: 'a', DisplayName: 'x'.repeat(2000) })).rejects.toThrow(/outside the allow-list/);
    expect(fake.pwshCalls).toEqual([]);
    expect(fake.pwshRefused).toEqual([]);
  });

  it('and the worker script refuses them again when a request is forced past the pool', async () => {
    // A worker spoken to directly, as a compromised parent could: the script's own allow-list holds.
    const child = spawn(FAKE_PWSH, [...WORKER_ARGS], { env: fake.pwshEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
    const replies: Record<string, unknown>[] = [];
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.startsWith(RESULT_MARKER)) replies.push(JSON.parse(line.slice(RESULT_MARKER.length)) as Record<string, unknown>);
    });
    const send = (request: object) => child.stdin.write(`${JSON.stringify(request)}\n`);
    send({ id: 1, type: 'connect', graphToken: await tokens.graph(), teamsToken: await tokens.teams() });
    send({ id: 2, type: 'run', cmdlet: 'Invoke-Expression', parameters: { Command: 'whoami' } });
    send({ id: 3, type: 'run', cmdlet: 'Get-CsOnlineApplicationInstance', parameters: { Identity: 'x', Filter: '*' } });
    send({ id: 4, type: 'run', cmdlet: 'Remove-CsOnlineApplicationInstanceAssociation', parameters: { identities: ['x'] } });
    send({ id: 5, type: 'run', cmdlet: 'Get-CsCallQueue', parameters: {} });
    for (let i = 0; i < 100 && replies.length < 6; i += 1) await delay(50);
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    expect(replies.map((r) => [r.id, r.ok])).toEqual([
      [0, true],
      [1, true],
      [2, false],
      [3, false],
      [4, false],
      [5, true],
    ]);
    expect(replies.slice(2, 5).map((r) => (r.error as { message: string }).message)).toEqual([
      'cmdlet not in the allow-list',
      'parameter not in the allow-list',
      // Names are compared as written: "identities" is not "Identities".
      'parameter not in the allow-list',
    ]);
    expect(fake.pwshRefused).toHaveLength(3);
    expect(fake.pwshCalls.map((c) => c.cmdlet)).toEqual(['Get-CsCallQueue']);
  });

  it('kills a hung worker, reports a clear timeout, and serves the next call from a fresh worker', async () => {
    const sut = pool({ size: 1, timeoutMs: 500 });
    await sut.start();
    fake.failPwsh({ cmdlet: 'Get-CsCallQueue', kind: 'hang-before', times: 1 });
    const error = await sut.run('Get-CsCallQueue', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerShellTimeoutError);
    expect(String(error)).toMatch(/Get-CsCallQueue did not finish within 0.5 s; its worker was stopped and replaced/);
    await expect(sut.run('Get-CsCallQueue', {})).resolves.toHaveLength(CALL_QUEUES);
    const [hung, fresh] = fake.pwshProcesses;
    expect(fake.pwshProcesses).toHaveLength(2);
    expect(() => process.kill(hung!.pid, 0)).toThrow();
    expect(fake.pwshCalls.at(-1)?.pid).toBe(fresh?.pid);
  });

  it('sends a read once more, to another worker, when its worker dies mid-request', async () => {
    const sut = pool({ size: 2 });
    await sut.start();
    fake.failPwsh({ cmdlet: 'Get-CsOnlineApplicationInstance', kind: 'crash-after', times: 1 });
    const rows = await sut.run('Get-CsOnlineApplicationInstance', { Identity: DEMO.accounts.paris.id });
    expect(rows).toHaveLength(1);
    const reads = fake.pwshCalls.filter((c) => c.cmdlet === 'Get-CsOnlineApplicationInstance');
    expect(reads).toHaveLength(2);
    expect(reads[0]?.pid).not.toBe(reads[1]?.pid);
    // The dead worker was replaced: the pool is back to two.
    for (let i = 0; i < 40 && sut.stats().workers.filter((w) => w.state === 'idle').length < 2; i += 1) await delay(50);
    expect(sut.stats().workers.filter((w) => w.state === 'idle')).toHaveLength(2);
  });

  it.each(['crash-after', 'hang-after', 'out-of-turn'] as const)('never sends a write again when its worker fails (%s): the outcome is unknown', async (kind) => {
    const sut = pool({ size: 2, timeoutMs: 800 });
    await sut.start();
    fake.failPwsh({ cmdlet: 'New-CsOnlineApplicationInstance', kind, times: 1 });
    const error = await sut
      .run('New-CsOnlineApplicationInstance', { UserPrincipalName: 'aa-lost@contoso.com', ApplicationId: APP_ID, DisplayName: 'Lost answer' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerShellOutcomeUnknownError);
    expect(error).toMatchObject({ code: 'OUTCOME_UNKNOWN', cmdlet: 'New-CsOnlineApplicationInstance' });
    expect(String(error)).toMatch(/whether Teams applied it is unknown; it was not sent again/);
    expect(fake.pwshCalls.filter((c) => c.cmdlet === 'New-CsOnlineApplicationInstance')).toHaveLength(1);
    // It did run once, in the tenant: exactly the case a resend would have doubled.
    expect(fake.tenant.account('aa-lost@contoso.com')).toBeDefined();
  });

  it('survives a worker killed from outside while it runs a cmdlet', async () => {
    const sut = pool({ size: 2 }, { cmdletMs: 400 });
    await sut.start();
    const read = sut.run('Get-CsCallQueue', {});
    const write = sut.run('Set-CsOnlineApplicationInstance', { Identity: DEMO.accounts.paris.id, DisplayName: 'Renamed' });
    await delay(150);
    for (const { pid } of fake.pwshProcesses.slice(0, 2)) process.kill(pid, 'SIGKILL');
    await expect(read).resolves.toHaveLength(CALL_QUEUES);
    await expect(write).rejects.toBeInstanceOf(PowerShellOutcomeUnknownError);
    await expect(sut.run('Get-CsCallQueue', {})).resolves.toHaveLength(CALL_QUEUES);
  });

  it('retires a worker past its request budget or its memory budget, and replaces it', async () => {
    const byRequests = pool({ size: 1, maxRequestsPerWorker: 3 });
    await byRequests.start();
    for (let i = 0; i < 7; i += 1) await byRequests.run('Get-CsCallQueue', {});
    expect(fake.pwshProcesses).toHaveLength(3);
    await byRequests.close();

    const before = fake.pwshCalls.length;
    // The fake's working set grows by 300 MB a request: past 1 GB (its 4th request) a worker is retired.
    const byMemory = pool({ size: 1, maxMemoryBytes: 1024 * 1_048_576 }, { leakMb: 300 });
    await byMemory.start();
    for (let i = 0; i < 8; i += 1) await byMemory.run('Get-CsCallQueue', {});
    const perWorker = new Map<number, number>();
    for (const call of fake.pwshCalls.slice(before)) perWorker.set(call.pid, (perWorker.get(call.pid) ?? 0) + 1);
    expect([...perWorker.values()]).toEqual([4, 4]);
  });

  it('under a flood runs `size` at a time, queues up to maxQueue, and refuses the rest at once', async () => {
    const sut = pool({ size: 2, maxQueue: 5 }, { cmdletMs: 100 });
    await sut.start();
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, () => sut.run('Get-CsCallQueue', {})));
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(7);
    expect(refused).toHaveLength(5);
    expect(refused.every((o) => o.status === 'rejected' && o.reason instanceof PowerShellBusyError)).toBe(true);
    expect(fake.pwshProcesses).toHaveLength(2);
  });

  it('under a flood with crashes, hangs and token rotations, never runs a write twice and recovers', async () => {
    const sut = pool({ size: 3, maxQueue: 100, timeoutMs: 4_000 }, { cmdletMs: 20 });
    await sut.start();
    fake.failPwsh({ cmdlet: 'Set-CsOnlineApplicationInstance', kind: 'crash-after', times: 3 });
    fake.failPwsh({ cmdlet: 'Get-CsCallQueue', kind: 'crash-before', times: 3 });
    fake.failPwsh({ cmdlet: 'Set-CsOnlineApplicationInstance', kind: 'hang-after', times: 1 });
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 2 === 0
        ? sut.run('Get-CsCallQueue', {}).then(() => 'read')
        : sut.run('Set-CsOnlineApplicationInstance', { Identity: DEMO.accounts.paris.id, DisplayName: `Chaos ${i}` }).then(() => 'write'),
    );
    await delay(100);
    tokens.rotate();
    await delay(100);
    tokens.rotate();
    const outcomes = await Promise.allSettled(calls);
    // Every write was handed to a worker at most once, whatever happened to the worker.
    const writes = fake.pwshCalls.filter((c) => c.cmdlet === 'Set-CsOnlineApplicationInstance').map((c) => String(c.parameters.DisplayName));
    expect(new Set(writes).size).toBe(writes.length);
    expect(writes).toHaveLength(30);
    // Each failure is one of the clear kinds; a lost write is "outcome unknown".
    const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i % 2 === 0 ? 'read' : 'write', (o.reason as Error).name] as const] : []));
    expect(failures.filter(([kind]) => kind === 'write').every(([, name]) => name === 'PowerShellOutcomeUnknownError')).toBe(true);
    // Three crashes and one hang at least (a loaded machine may add a time-out).
    expect(failures.filter(([kind]) => kind === 'write').length).toBeGreaterThanOrEqual(4);
    expect(failures.filter(([kind]) => kind === 'read').every(([, name]) => name === 'PowerShellWorkerError' || name === 'PowerShellTimeoutError')).toBe(true);
    // Back to three warm workers, and they serve.
    for (let i = 0; i < 100 && sut.stats().workers.filter((w) => w.state === 'idle').length < 3; i += 1) await delay(50);
    expect(sut.stats().workers.filter((w) => w.state === 'idle')).toHaveLength(3);
    await expect(sut.run('Get-CsCallQueue', {})).resolves.toHaveLength(CALL_QUEUES);
  });

  it('says what is wrong when the tokens are refused at connect, and keeps the worker', async () => {
    const sut = pool({ size: 1 });
    await sut.start();
    tokens.rotate();
    fake.refusedTokens.add(await tokens.graph());
    const error = await sut.run('Get-CsCallQueue', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerShellError);
    expect(error).toMatchObject({ cmdlet: 'Connect-MicrosoftTeams', psMessage: 'The access token has expired.' });
    tokens.rotate();
    await expect(sut.run('Get-CsCallQueue', {})).resolves.toHaveLength(CALL_QUEUES);
    expect(fake.pwshProcesses).toHaveLength(1);
  });

  it('does not replace, in a loop, workers that die as soon as they connect', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-pool-'));
    try {
      const starts = path.join(dir, 'starts');
      const dying = path.join(dir, 'dying-pwsh.js');
      // Imports fine, then dies on its first request (the connect).
      await writeFile(
        dying,
        `#!/usr/bin/env node
require('node:fs').appendFileSync(${JSON.stringify(starts)}, 'start\\n');
process.stdout.write(${JSON.stringify(RESULT_MARKER)} + JSON.stringify({ id: 0, ok: true, output: [] }) + '\\n');
process.stdin.once('data', () => process.exit(9));
`,
      );
      await chmod(dying, 0o755);
      const sut = pool({ pwshPath: dying, size: 1 });
      await sut.start();
      await delay(1_500);
      const started = (await readFile(starts, 'utf8')).split('\n').filter(Boolean).length;
      // The first one and at most three replacements, not one per second forever.
      expect(started).toBeLessThanOrEqual(4);
      await delay(500);
      expect((await readFile(starts, 'utf8')).split('\n').filter(Boolean).length).toBe(started);
      const error = await sut.run('Get-CsCallQueue', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PowerShellWorkerError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a pwsh that cannot be started, and stops its workers on close', async () => {
    const missing = pool({ pwshPath: '/nonexistent/pwsh' });
    await expect(missing.start()).rejects.toBeInstanceOf(PowerShellUnavailableError);
    await expect(missing.run('Get-CsCallQueue', {})).rejects.toBeInstanceOf(PowerShellUnavailableError);

    const sut = pool();
    await sut.start();
    const pids = fake.pwshProcesses.map((p) => p.pid);
    await sut.close();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(sut.run('Get-CsCallQueue', {})).rejects.toThrow(/shutting down/);
  });
});

describe('the backend over a pool whose worker dies mid-write', () => {
  let env: OverFake;
  beforeEach(async () => {
    env = await openOverFake();
  });
  afterEach(() => env.close());

  it('reads the tenant and carries on when the lost create did happen', async () => {
    env.fake.failPwsh({ cmdlet: 'New-CsOnlineApplicationInstance', kind: 'crash-after', times: 1 });
    const created = await env.sut.createAccount({ userPrincipalName: 'aa-crash@contoso.com', displayName: 'Crash after', accountType: 'autoAttendant' });
    expect(created).toMatchObject({ userPrincipalName: 'aa-crash@contoso.com', accountType: 'autoAttendant' });
    expect(env.fake.pwshCalls.filter((c) => c.cmdlet === 'New-CsOnlineApplicationInstance')).toHaveLength(1);
    expect(env.fake.pwshCalls.filter((c) => c.cmdlet === 'Get-CsOnlineApplicationInstance' && c.parameters.Identity === 'aa-crash@contoso.com')).toHaveLength(1);
  });

  it('says "outcome unknown" and sends nothing again when the tenant does not show it', async () => {
    env.fake.failPwsh({ cmdlet: 'New-CsOnlineApplicationInstance', kind: 'crash-before', times: 1 });
    const error = await env.sut.createAccount({ userPrincipalName: 'aa-lost@contoso.com', displayName: 'Crash before', accountType: 'autoAttendant' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PowerShellOutcomeUnknownError);
    expect(env.fake.tenant.account('aa-lost@contoso.com')).toBeUndefined();
    expect(env.fake.pwshCalls.filter((c) => c.cmdlet === 'New-CsOnlineApplicationInstance')).toHaveLength(1);
  });

  it('reads the association back after a lost New-CsOnlineApplicationInstanceAssociation', async () => {
    env.fake.failPwsh({ cmdlet: 'New-CsOnlineApplicationInstanceAssociation', kind: 'crash-after', times: 1 });
    const account = await env.sut.associate(DEMO.accounts.paris.id, DEMO.voiceApps.afterHours.configurationId).catch((e: unknown) => e);
    expect(account).toMatchObject({ associations: [{ configurationId: DEMO.voiceApps.afterHours.configurationId }] });
    expect(env.fake.pwshCalls.filter((c) => c.cmdlet === 'New-CsOnlineApplicationInstanceAssociation')).toHaveLength(1);
  });
});
