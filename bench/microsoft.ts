/**
 * The Microsoft 365 backend's part of `npm run bench` (issue 13): add / show / list / delete over a
 * fake Graph and a fake pwsh that model what a real tenant costs, cold (every cache expired) and warm,
 * with the number of pwsh starts, connects, Graph round trips and cmdlets each command needed.
 *
 * "Before" is the previous backend (one pwsh per cmdlet, one Graph request per read) built in a temp
 * copy by bench/before-microsoft.sh and run with `--before`; "after" is this code. Both talk to the same
 * fakes with the same costs, and the counts are taken on the fakes' side, not from the code measured.
 *
 *   node …/bench/microsoft.js [--before] [--quick] [--dry]
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openMicrosoftDirectory } from '../src/backends/microsoft';
import type { TenantDirectory } from '../src/provisioning/directory';
import { delegatedClaims, fakeJwt, FakeCredential } from '../test/fakes/credential';
import { FakeMicrosoft365 } from '../test/fakes/microsoft365';
import { ms, percentile, summarize, type Summary } from './stats';

const TENANT_ID = '7d3f0c2e-5b1a-4c8e-9f60-2a7b9c1d4e5f';
const CLIENT_ID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const ACCOUNTS = 1_000;

/**
 * What the fakes model, about a fifth of what a real host and tenant take (pwsh 7 starts in ~0.5–1 s,
 * Import-Module MicrosoftTeams takes ~3–6 s, Connect-MicrosoftTeams ~1–3 s, a cmdlet ~0.3–1 s, a Graph
 * round trip ~0.1–0.3 s): the ratios, not the absolute times, carry over.
 */
export const COSTS = { startMs: 150, importMs: 600, connectMs: 300, cmdletMs: 100, graphMs: 30 } as const;

/**
 * bench/ in the repository (the compiled script runs from a build folder). The working directory's first:
 * node_modules may be a symlink into another checkout, and __dirname then names that one.
 */
const BENCH_DIR = [path.resolve('bench'), path.resolve(__dirname, '..', '..', '..', '..', 'bench')].find((d) => existsSync(path.join(d, 'microsoft.ts'))) ?? path.resolve('bench');
/** The fake pwsh is plain JavaScript: run it from the repository, not from the build. */
const FAKE_PWSH = path.resolve(BENCH_DIR, '..', 'test', 'fakes', 'pwsh.js');

export interface Counted {
  /** HTTP requests to Graph (a $batch once). */
  roundTrips: number;
  /** Graph requests, those inside batches counted one by one (the batch itself not). */
  requests: number;
  batches: number;
  cmdlets: number;
  starts: number;
  connects: number;
}

export interface CommandResult {
  command: 'add' | 'show' | 'list-1000' | 'delete';
  state: 'cold' | 'warm';
  latency: Summary;
  /** Per command: the median of each count (they do not vary between iterations here). */
  counts: Counted;
}

export interface MicrosoftRun {
  label: 'before' | 'after';
  date: string;
  commit: string;
  node: string;
  cpus: number;
  loadavg: [number, number];
  quick: boolean;
  costs: typeof COSTS;
  accounts: number;
  boot: { ms: number; counts: Counted };
  /** One cmdlet through the runner or the pool, after warm-up: latency and latency ÷ its modelled time. */
  cmdlet: { latency: Summary; mode: string };
  commands: CommandResult[];
}

function snapshot(fake: FakeMicrosoft365) {
  return {
    roundTrips: fake.graphRoundTrips,
    requests: fake.requests.filter((r) => r.path !== '/$batch').length,
    batches: fake.requests.filter((r) => r.path === '/$batch').length,
    cmdlets: fake.pwshCalls.length,
    starts: fake.pwshProcesses.length,
    connects: fake.pwshConnects.length,
  };
}

function since(fake: FakeMicrosoft365, before: Counted): Counted {
  const now = snapshot(fake);
  return {
    roundTrips: now.roundTrips - before.roundTrips,
    requests: now.requests - before.requests,
    batches: now.batches - before.batches,
    cmdlets: now.cmdlets - before.cmdlets,
    starts: now.starts - before.starts,
    connects: now.connects - before.connects,
  };
}

function medianCounts(all: Counted[]): Counted {
  const m = (key: keyof Counted) => percentile([...all.map((c) => c[key])].sort((a, b) => a - b), 50);
  return { roundTrips: m('roundTrips'), requests: m('requests'), batches: m('batches'), cmdlets: m('cmdlets'), starts: m('starts'), connects: m('connects') };
}

/** What the bench uses of a runner or a pool; declared here because the "before" build's types differ. */
interface CmdletRunner {
  run(cmdlet: 'Get-CsOnlineApplicationInstance', parameters: { Identity: string }): Promise<unknown[]>;
  start?(): Promise<void>;
  close?(): Promise<void>;
}

/** The pool (this code) or the one-shot runner (the "before" build, which has no pool). */
function loadPowerShell(before: boolean, fake: FakeMicrosoft365): { ps: CmdletRunner; mode: string } {
  const tokens = { graph: async () => fakeJwt({ ...delegatedClaims(TENANT_ID), aud: 'graph' }), teams: async () => fakeJwt({ aud: 'teams' }) };
  const env = fake.pwshEnv(COSTS);
  const poolFile = path.join(__dirname, '..', 'src', 'backends', 'microsoft', 'powershell', 'pool.js');
  if (!before && existsSync(poolFile)) {
    // Loaded by path: the "before" build has no pool.ts, and this file compiles in both.
    const { PowerShellPool } = require(poolFile) as { PowerShellPool: new (options: Record<string, unknown>) => CmdletRunner };
    return {
      ps: new PowerShellPool({ pwshPath: FAKE_PWSH, timeoutMs: 60_000, tokens, env, size: 1, maxQueue: 10, maxRequestsPerWorker: 100_000, maxMemoryBytes: 64 * 1024 ** 3 }),
      mode: 'warm pool, 1 worker',
    };
  }
  const { PowerShellRunner } = require(path.join(__dirname, '..', 'src', 'backends', 'microsoft', 'powershell', 'runner.js')) as {
    PowerShellRunner: new (options: Record<string, unknown>) => CmdletRunner;
  };
  return { ps: new PowerShellRunner({ pwshPath: FAKE_PWSH, timeoutMs: 60_000, tokens, env, concurrency: 1, maxQueue: 10 }), mode: 'one pwsh per cmdlet' };
}

export async function runMicrosoftBench(options: { before: boolean; quick: boolean; log: (line: string) => void; commit: string }): Promise<MicrosoftRun> {
  const { before, quick, log } = options;
  const loadStart = os.loadavg()[0]!;
  const iterations = quick ? 3 : before ? 12 : 30;
  let offset = 0;
  // Real time, moved on by 61 s to expire every cache (TTL 60 s) for a cold command, in both builds.
  const now = () => new Date(Date.now() + offset);
  const expireCaches = () => {
    offset += 61_000;
  };
  const fake = await FakeMicrosoft365.start({ tenantId: TENANT_ID, now, maxPageSize: 999, graphLatencyMs: COSTS.graphMs });
  const ids = fake.tenant.addResourceAccounts(ACCOUNTS);
  const env: NodeJS.ProcessEnv = {
    SWITCHBOARD_GRAPH_BASE_URL: fake.graphBaseUrl,
    SWITCHBOARD_M365_TENANT_ID: TENANT_ID,
    SWITCHBOARD_M365_CLIENT_ID: CLIENT_ID,
    SWITCHBOARD_PWSH_PATH: FAKE_PWSH,
    SWITCHBOARD_PWSH_TIMEOUT_SECONDS: '120',
  };
  let sut: (TenantDirectory & { close(): Promise<void> }) | undefined;
  try {
    const bootFrom = snapshot(fake);
    const bootStart = performance.now();
    sut = await openMicrosoftDirectory(env, { credential: new FakeCredential(delegatedClaims(TENANT_ID)), now, pwshEnv: fake.pwshEnv(COSTS) });
    const boot = { ms: performance.now() - bootStart, counts: since(fake, bootFrom) };
    log(`microsoft (${before ? 'before' : 'after'}): booted in ${ms(boot.ms)}, ${boot.counts.starts} pwsh start(s), ${boot.counts.connects} connect(s)`);
    const directory = sut;

    const commands: CommandResult[] = [];
    let added = 0;
    const created: string[] = [];
    const run = async (command: CommandResult['command'], state: CommandResult['state'], work: (i: number) => Promise<unknown>) => {
      const samples: number[] = [];
      const counts: Counted[] = [];
      // One unmeasured run, so that the warm state is warm (JIT, sockets, caches).
      if (state === 'warm') await work(-1);
      for (let i = 0; i < iterations; i += 1) {
        if (state === 'cold') expireCaches();
        const from = snapshot(fake);
        const started = performance.now();
        await work(i);
        samples.push(performance.now() - started);
        counts.push(since(fake, from));
      }
      const result: CommandResult = { command, state, latency: summarize(samples), counts: medianCounts(counts) };
      commands.push(result);
      log(`microsoft ${command} ${state}: p50 ${ms(result.latency.p50)} · p99 ${ms(result.latency.p99)}; ${describeCounts(result.counts)}`);
    };
    const add = async () => {
      const n = added++;
      const account = await directory.createAccount({ userPrincipalName: `aa-bench-${n}@contoso.com`, displayName: `Bench ${n}`, accountType: 'autoAttendant' });
      created.push(account.id);
    };
    const pick = (i: number) => ids[(Math.abs(i) * 7_919) % ids.length]!;
    for (const state of ['cold', 'warm'] as const) {
      await run('add', state, add);
      await run('show', state, (i) => directory.getAccount(pick(i)));
      await run('list-1000', state, (i) => directory.listAccounts({ offset: (Math.abs(i) % 50) * 10, limit: 10 }));
      await run('delete', state, async () => {
        const id = created.shift();
        if (!id) throw new Error('nothing left to delete');
        await directory.deleteAccount(id);
      });
    }

    // One cmdlet alone, after warm-up, against its modelled time.
    const { ps, mode } = loadPowerShell(before, fake);
    try {
      await ps.start?.();
      await ps.run('Get-CsOnlineApplicationInstance', { Identity: ids[0]! });
      const samples: number[] = [];
      const count = quick ? 5 : before ? 15 : 200;
      for (let i = 0; i < count; i += 1) {
        const started = performance.now();
        await ps.run('Get-CsOnlineApplicationInstance', { Identity: pick(i) });
        samples.push(performance.now() - started);
      }
      const cmdlet = { latency: summarize(samples), mode };
      log(`microsoft one cmdlet (${mode}): p50 ${ms(cmdlet.latency.p50)} · p99 ${ms(cmdlet.latency.p99)} for a modelled ${COSTS.cmdletMs} ms`);
      return {
        label: before ? 'before' : 'after',
        date: new Date().toISOString(),
        commit: options.commit,
        node: process.version,
        cpus: os.cpus().length,
        loadavg: [loadStart, os.loadavg()[0]!],
        quick,
        costs: COSTS,
        accounts: ACCOUNTS + 6,
        boot,
        cmdlet,
        commands,
      };
    } finally {
      await ps.close?.();
    }
  } finally {
    await sut?.close();
    await fake.close();
  }
}

export function describeCounts(c: Counted): string {
  return `${c.starts} start(s), ${c.connects} connect(s), ${c.roundTrips} Graph round trip(s) (${c.requests} request(s), ${c.batches} batch(es)), ${c.cmdlets} cmdlet(s)`;
}

const countCell = (c: Counted | undefined, key: keyof Counted): string => (c ? String(c[key]) : '—');
const pair = (b: Counted | undefined, a: Counted, key: keyof Counted): string => `${countCell(b, key)} → ${countCell(a, key)}`;

/** The markdown section results.md carries (bench/run.ts writes it). */
export function microsoftSection(after: MicrosoftRun, before: MicrosoftRun | undefined): string {
  const c = after.costs;
  const describe = (r: MicrosoftRun) =>
    `${r.date}, commit ${r.commit}, Node ${r.node}, ${r.cpus} cores, load average ${r.loadavg[0].toFixed(1)} at start / ${r.loadavg[1].toFixed(1)} at end${r.quick ? ', QUICK' : ''}`;
  const lines = [
    '## Microsoft 365 backend: warm PowerShell and fewer Graph round trips (issue 13)',
    '',
    `Generated by \`bench/microsoft.ts\`. ${after.accounts.toLocaleString('en')} resource accounts (half with a number) in a fake tenant behind a fake Graph and a fake \`pwsh\` (test/fakes). **Modelled costs**: pwsh start ${c.startMs} ms, Import-Module MicrosoftTeams ${c.importMs} ms, Connect-MicrosoftTeams ${c.connectMs} ms, each cmdlet ${c.cmdletMs} ms, each Graph round trip ${c.graphMs} ms — about a fifth of a real host and tenant; ratios carry over, absolute times do not.`,
    '',
    `After: ${describe(after)}. ${before ? `Before: ${describe(before)} (the previous backend built by bench/before-microsoft.sh: one pwsh per cmdlet, one Graph request per read).` : 'No "before" run recorded (bash bench/before-microsoft.sh).'}`,
    '',
    '"Cold": every cache expired (the bench moves the clock 61 s on before each run); "warm": right after the same command. Latency is over many runs (n shown); counts are per command, taken on the fakes\' side. Cells read before → after.',
    '',
    '| command | state | p50 before → after | p99 before → after | speed-up (p50) | pwsh starts | connects | Graph round trips | Graph requests (in batches) | cmdlets |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const a of after.commands) {
    const b = before?.commands.find((x) => x.command === a.command && x.state === a.state);
    const speed = b ? `${(b.latency.p50 / a.latency.p50).toFixed(1)}×` : '—';
    const batched = `${pair(b?.counts, a.counts, 'requests')} (${a.counts.batches} batch${a.counts.batches === 1 ? '' : 'es'})`;
    lines.push(
      `| ${a.command} | ${a.state} | ${b ? ms(b.latency.p50) : '—'} → ${ms(a.latency.p50)} (n=${a.latency.n}) | ${b ? ms(b.latency.p99) : '—'} → ${ms(a.latency.p99)} | ${speed} | ${pair(b?.counts, a.counts, 'starts')} | ${pair(b?.counts, a.counts, 'connects')} | ${pair(b?.counts, a.counts, 'roundTrips')} | ${batched} | ${pair(b?.counts, a.counts, 'cmdlets')} |`,
    );
  }
  const ratio = (r: MicrosoftRun, p: 'p50' | 'p99') => r.cmdlet.latency[p] / c.cmdletMs;
  const listCold = after.commands.find((x) => x.command === 'list-1000' && x.state === 'cold');
  const listWarm = after.commands.find((x) => x.command === 'list-1000' && x.state === 'warm');
  const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
  lines.push(
    '',
    '| measure | before | after | target | |',
    '|---|---|---|---|---|',
    `| start-up: pwsh starts / connects / time | ${before ? `${before.boot.counts.starts} / ${before.boot.counts.connects} / ${ms(before.boot.ms)}` : '—'} | ${after.boot.counts.starts} / ${after.boot.counts.connects} / ${ms(after.boot.ms)} | — | |`,
    `| one cmdlet after warm-up ÷ its modelled ${c.cmdletMs} ms, p50 (${after.cmdlet.mode}) | ${before ? `${ratio(before, 'p50').toFixed(2)}× (${before.cmdlet.mode})` : '—'} | ${ratio(after, 'p50').toFixed(2)}× (n=${after.cmdlet.latency.n}) | ≤ 1.2× | ${verdict(ratio(after, 'p50') <= 1.2)} |`,
    `| same, p99 | ${before ? `${ratio(before, 'p99').toFixed(2)}×` : '—'} | ${ratio(after, 'p99').toFixed(2)}× | — | |`,
    `| list of ${after.accounts.toLocaleString('en')}, cold: Graph round trips / cmdlets | ${before?.commands.find((x) => x.command === 'list-1000' && x.state === 'cold')?.counts.roundTrips ?? '—'} / ${before?.commands.find((x) => x.command === 'list-1000' && x.state === 'cold')?.counts.cmdlets ?? '—'} | ${listCold?.counts.roundTrips ?? '—'} / ${listCold?.counts.cmdlets ?? '—'} | ≤ 3 / ≤ 1 | round trips ${verdict((listCold?.counts.roundTrips ?? 99) <= 3)}; cmdlets ${verdict((listCold?.counts.cmdlets ?? 99) <= 1)} |`,
    `| list of ${after.accounts.toLocaleString('en')}, warm: Graph round trips / cmdlets | ${before?.commands.find((x) => x.command === 'list-1000' && x.state === 'warm')?.counts.roundTrips ?? '—'} / ${before?.commands.find((x) => x.command === 'list-1000' && x.state === 'warm')?.counts.cmdlets ?? '—'} | ${listWarm?.counts.roundTrips ?? '—'} / ${listWarm?.counts.cmdlets ?? '—'} | ≤ 3 / ≤ 1 | ${verdict((listWarm?.counts.roundTrips ?? 99) <= 3 && (listWarm?.counts.cmdlets ?? 99) <= 1)} |`,
    '',
  );
  return lines.join('\n');
}

export const MICROSOFT_RESULTS = { after: 'results-microsoft.json', before: 'results-microsoft-before.json' } as const;

export async function readMicrosoftRun(file: string): Promise<MicrosoftRun | undefined> {
  const full = path.join(BENCH_DIR, file);
  return existsSync(full) ? (JSON.parse(await readFile(full, 'utf8')) as MicrosoftRun) : undefined;
}

export async function saveMicrosoftRun(run: MicrosoftRun): Promise<string> {
  const file = path.join(BENCH_DIR, run.label === 'before' ? MICROSOFT_RESULTS.before : MICROSOFT_RESULTS.after);
  await writeFile(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}

if (require.main === module) {
  const args = new Set(process.argv.slice(2));
  const startedAt = Date.now();
  const log = (line: string): void => void process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
  runMicrosoftBench({ before: args.has('--before'), quick: args.has('--quick'), log, commit: process.env.BENCH_COMMIT ?? 'unknown' })
    .then(async (run) => {
      if (args.has('--dry')) return;
      log(`written to ${await saveMicrosoftRun(run)}`);
    })
    .catch((e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    });
}
