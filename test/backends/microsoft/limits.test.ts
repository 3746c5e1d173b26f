import { appendFileSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OperationLog } from '../../../src/backends/microsoft/context';
import { GraphOutcomeUnknownError, GraphTimeoutError } from '../../../src/backends/microsoft/graph/errors';
import { GraphClient, type RetryPolicy } from '../../../src/backends/microsoft/graph/http';
import { SubscribedSkuSchema } from '../../../src/backends/microsoft/graph/schemas';
import { PowerShellBusyError } from '../../../src/backends/microsoft/powershell/errors';
import { PowerShellRunner } from '../../../src/backends/microsoft/powershell/runner';
import { loadMicrosoftConfig } from '../../../src/backends/microsoft';
import { FakeClock } from '../../fakes/clock';
import { fakeJwt } from '../../fakes/credential';
import { CLIENT_ID, TENANT_ID } from '../../contract/harnesses';

/** Issue 9: bounds on what one bot process starts and keeps (pwsh processes, Graph waits, operation ids). */

jest.setTimeout(30_000);

const tokens = { graph: async () => fakeJwt({ scp: 'x' }), teams: async () => fakeJwt({ scp: 'y' }) };

describe('the pwsh runner runs a bounded number of processes', () => {
  let dir: string;
  let log: string;
  let pwsh: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-slots-'));
    log = path.join(dir, 'log');
    pwsh = path.join(dir, 'slow-pwsh.js');
    // Logs its start and end, takes 300 ms, answers like the fixed script does.
    await writeFile(
      pwsh,
      `#!/usr/bin/env node
const fs = require('node:fs');
process.stdin.resume();
process.stdin.on('end', () => {
  fs.appendFileSync(${JSON.stringify(log)}, 'start\\n');
  setTimeout(() => {
    fs.appendFileSync(${JSON.stringify(log)}, 'end\\n');
    process.stdout.write('##SWITCHBOARD-RESULT##' + JSON.stringify({ ok: true, output: [] }) + '\\n');
  }, 300);
});
`,
    );
    await chmod(pwsh, 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  beforeEach(() => appendFileSync(log, '', { flag: 'w' }));

  const mostAtOnce = (): number => {
    let running = 0;
    let most = 0;
    for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
      running += line === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    return most;
  };

  it('starts at most `concurrency` pwsh at once and queues the rest in order', async () => {
    const sut = new PowerShellRunner({ pwshPath: pwsh, timeoutMs: 10_000, tokens, concurrency: 2, maxQueue: 10 });
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => sut.run('Get-CsCallQueue', {})));
    expect(outcomes).toEqual(Array.from({ length: 6 }, () => []));
    expect(readFileSync(log, 'utf8').match(/start/g)).toHaveLength(6);
    expect(mostAtOnce()).toBe(2);
  });

  it('refuses at once, with a clear error, a call beyond the waiting line', async () => {
    const sut = new PowerShellRunner({ pwshPath: pwsh, timeoutMs: 10_000, tokens, concurrency: 1, maxQueue: 1 });
    const running = sut.run('Get-CsCallQueue', {});
    const waiting = sut.run('Get-CsAutoAttendant', {});
    const refused = await sut.run('Get-CsOnlineApplicationInstance', {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PowerShellBusyError);
    expect(String(refused)).toMatch(/Teams PowerShell is busy: 1 pwsh process\(es\) running and 1 call\(s\) waiting, so Get-CsOnlineApplicationInstance was not started/);
    await expect(Promise.all([running, waiting])).resolves.toEqual([[], []]);
    expect(mostAtOnce()).toBe(1);
    // The slot is free again afterwards.
    await expect(sut.run('Get-CsCallQueue', {})).resolves.toEqual([]);
  });

  it('reads SWITCHBOARD_PWSH_CONCURRENCY (default 2) and SWITCHBOARD_PWSH_QUEUE (default 50)', () => {
    const minimal = { SWITCHBOARD_M365_TENANT_ID: TENANT_ID, SWITCHBOARD_M365_CLIENT_ID: CLIENT_ID };
    expect(loadMicrosoftConfig(minimal)).toMatchObject({ pwshConcurrency: 2, pwshQueue: 50, graphTimeoutMs: 30_000 });
    expect(loadMicrosoftConfig({ ...minimal, SWITCHBOARD_PWSH_CONCURRENCY: '4', SWITCHBOARD_PWSH_QUEUE: '0' })).toMatchObject({ pwshConcurrency: 4, pwshQueue: 0 });
    expect(() => loadMicrosoftConfig({ ...minimal, SWITCHBOARD_PWSH_CONCURRENCY: '0' })).toThrow(/SWITCHBOARD_PWSH_CONCURRENCY must be at least 1/);
  });
});

describe('every Graph request has a deadline', () => {
  const POLICY: RetryPolicy = { maxRetries: 2, baseDelayMs: 1_000, maxDelayMs: 8_000, maxRetryAfterMs: 60_000, timeoutMs: 50 };
  let calls: string[];
  /** A Graph that never answers: the request only ends when its signal aborts it. */
  const silent: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
    return new Promise((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
    });
  };
  const client = (clock: FakeClock) =>
    new GraphClient('https://graph.example.test/v1.0', async () => fakeJwt({ scp: 'x' }), { fetch: silent, sleep: clock.sleep, now: clock.now, random: () => 0.5 }, POLICY);

  beforeEach(() => {
    calls = [];
  });

  it('aborts a read that hangs, retries it with backoff, then fails as a retryable timeout', async () => {
    const clock = new FakeClock();
    const error = await client(clock).getAll('/subscribedSkus', SubscribedSkuSchema).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphTimeoutError);
    expect(error).toMatchObject({ retryable: true, attempts: 3 });
    expect(calls).toHaveLength(3);
    expect(clock.waits).toEqual([750, 1_500]);
  });

  it('never repeats a POST that hung: its outcome is unknown', async () => {
    const clock = new FakeClock();
    const sut = client(clock);
    const error = await sut.send('POST', sut.url('/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber'), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphOutcomeUnknownError);
    expect(String(error)).toMatch(/timeout.*may have been applied/);
    expect(calls).toHaveLength(1);
  });
});

describe('the operation log is bounded', () => {
  it('forgets finished operations after a while and running ones after a day', () => {
    const clock = new FakeClock();
    const sut = new OperationLog(clock.now, { maxEntries: 100, maxAgeMs: 24 * 3_600_000, finishedAgeMs: 600_000 });
    sut.set('done', '+1');
    sut.set('running', '+2');
    sut.finish('done');
    clock.advance(601_000);
    expect([sut.get('done'), sut.get('running')]).toEqual([undefined, '+2']);
    clock.advance(24 * 3_600_000);
    expect(sut.get('running')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const clock = new FakeClock();
    const sut = new OperationLog(clock.now, { maxEntries: 3, maxAgeMs: 3_600_000, finishedAgeMs: 60_000 });
    for (let i = 1; i <= 1_000; i += 1) sut.set(`op${i}`, `+${i}`);
    expect(sut.size).toBe(3);
    expect([sut.get('op997'), sut.get('op998'), sut.get('op1000')]).toEqual([undefined, '+998', '+1000']);
  });
});
