/**
 * `npm run bench`: Switchboard over real HTTP on loopback against a bare botbuilder echo bot, with
 * 10,000 accounts in the simulated tenant and 100,000 audit entries. Prints a table and writes
 * bench/results.md (and bench/results.json). `--before` saves the run as the "before" column
 * (bench/results-before.json) instead; `--quick` shrinks every phase for a smoke test; `--dry` writes
 * nothing. The PostgreSQL section (bench/postgres.ts: a real PostgreSQL from npm, a million audit
 * entries, the PostgreSQL bot beside a lowdb one) runs after the storage phases, or alone with
 * `--postgres`; `--no-postgres` skips it. The Microsoft 365 backend's section (bench/microsoft.ts)
 * runs at the end, or alone with `--microsoft`; `--no-microsoft` skips it. `--report` measures nothing and
 * writes bench/results.md again from the stored results (bench/results*.json).
 *
 * Each bot runs in a child process (bench/botProcess.ts), so that its RSS and event loop are its
 * own; this process only generates load and measures from the client side.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, TENANT } from '../test/helpers/identities';
import { execute } from '../test/helpers/activities';
import { Child } from './child';
import { BotClient } from './client';
import { writeFixture } from './fixtures';
import { listBody as listPage, sequential, showBody, sustained, type Check } from './load';
import type { LoopDelay, Memory, MicroResults } from './protocol';
import { ms, summarize, type Summary } from './stats';
import { MICROSOFT_RESULTS, microsoftSection, readMicrosoftRun, runMicrosoftBench, saveMicrosoftRun } from './microsoft';
import { postgresSection, readPostgresRun, runPostgresBench, savePostgresRun } from './postgres';

const args = new Set(process.argv.slice(2));
const LABEL = args.has('--before') ? 'before' : 'after';
const QUICK = args.has('--quick');
/** Prints the table and writes nothing (experiments). */
const DRY = args.has('--dry');
const scale = (n: number): number => (QUICK ? Math.max(1, Math.ceil(n / 10)) : n);

const ACCOUNTS = 10_000;
const AUDIT_ENTRIES = 100_000;
const CONCURRENCY = 50;
/**
 * bench/ in the repository: the compiled script runs from node_modules/.cache/switchboard-bench/bench.
 * The working directory's bench/ comes first: node_modules may be a symlink into another checkout
 * (a git worktree), and __dirname then names that checkout.
 */
const BENCH_DIR = [path.resolve('bench'), path.resolve(__dirname, '..', '..', '..', '..', 'bench')].find((d) => existsSync(path.join(d, 'run.ts'))) ?? path.resolve('bench');
const listBody = (): string => listPage(ACCOUNTS);

// --- the report ------------------------------------------------------------------------------------

export interface Row {
  key: string;
  metric: string;
  value: string;
  target: string;
  pass: boolean | null;
}

interface RunResult {
  label: string;
  date: string;
  commit: string;
  node: string;
  cpus: number;
  loadavg: [number, number];
  quick: boolean;
  fixture: { accounts: number; auditEntries: number; tenantMB: number; auditMB: number; tenantFileAfterMB: number };
  rows: Row[];
}

const fmt = (s: Summary): string => `p50 ${ms(s.p50)} · p99 ${ms(s.p99)} (n=${s.n}, max ${ms(s.max)})`;
const verdict = (pass: boolean | null): string => (pass === null ? '—' : pass ? 'PASS' : 'FAIL');

function table(rows: readonly Row[]): string {
  const lines = ['| metric | value | target | result |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.metric} | ${r.value} | ${r.target} | ${verdict(r.pass)} |`);
  return lines.join('\n');
}

function comparison(before: RunResult, after: RunResult): string {
  const lines = ['| metric | before | after | target | after: result |', '|---|---|---|---|---|'];
  for (const r of after.rows) {
    const b = before.rows.find((x) => x.key === r.key);
    lines.push(`| ${r.metric} | ${b ? `${b.value} (${verdict(b.pass)})` : 'not measured'} | ${r.value} | ${r.target} | ${verdict(r.pass)} |`);
  }
  return lines.join('\n');
}

function describeRun(r: RunResult): string {
  return `${r.date}, commit ${r.commit}, Node ${r.node}, ${r.cpus} cores, load average ${r.loadavg[0].toFixed(1)} at start / ${r.loadavg[1].toFixed(1)} at end${r.quick ? ', QUICK (smoke-test sizes)' : ''}; tenant.json ${r.fixture.tenantMB.toFixed(1)} MB as written by the fixture (pretty), ${r.fixture.tenantFileAfterMB.toFixed(1)} MB after the run; audit.jsonl ${r.fixture.auditMB.toFixed(1)} MB`;
}

async function writeReport(result: RunResult): Promise<void> {
  const beforeFile = path.join(BENCH_DIR, 'results-before.json');
  const before = existsSync(beforeFile) ? (JSON.parse(await readFile(beforeFile, 'utf8')) as RunResult) : undefined;
  const parts = [
    '# Benchmark (`npm run bench`)',
    '',
    `Generated by \`bench/run.ts\`; do not edit by hand. ${ACCOUNTS.toLocaleString('en')} accounts in the simulated tenant, ${AUDIT_ENTRIES.toLocaleString('en')} audit entries, real HTTP on loopback, each bot in its own child process.`,
    '',
    `## This run (${result.label})`,
    '',
    describeRun(result),
    '',
    table(result.rows),
    '',
  ];
  if (before && result.label === 'after') {
    parts.push('## Before / after the storage changes', '', `Before: ${describeRun(before)}.`, '', `After: this run.`, '', comparison(before, result), '');
  }
  const postgres = await readPostgresRun();
  if (postgres) parts.push(postgresSection(postgres));
  const microsoft = await readMicrosoftRun(MICROSOFT_RESULTS.after);
  if (microsoft) parts.push(microsoftSection(microsoft, await readMicrosoftRun(MICROSOFT_RESULTS.before)));
  const notes = path.join(BENCH_DIR, 'NOTES.md');
  if (existsSync(notes)) parts.push(await readFile(notes, 'utf8'));
  await writeFile(path.join(BENCH_DIR, 'results.md'), parts.join('\n'));
}

// --- main ------------------------------------------------------------------------------------------

/**
 * src/cards/render.ts reads the card templates from `<compiled src>/../../cards`: in the compiled
 * bench tree that is <outDir>/cards, so it points at the repository's cards/.
 */
async function linkCards(): Promise<void> {
  const link = path.resolve(__dirname, '..', 'cards');
  if (!existsSync(link)) await symlink(path.resolve(BENCH_DIR, '..', 'cards'), link, 'dir');
}

/**
 * The Microsoft 365 backend's section (bench/microsoft.ts): run after the storage phases, or alone with
 * `--microsoft` (results.md is then rewritten from the stored results.json plus this run).
 */
async function microsoftPart(log: (line: string) => void): Promise<void> {
  const run = await runMicrosoftBench({ before: false, quick: QUICK, log, commit: gitCommit() });
  if (!DRY) log(`microsoft: written to ${await saveMicrosoftRun(run)}`);
}

/**
 * The PostgreSQL section (bench/postgres.ts): run after the storage phases, or alone with `--postgres`
 * (results.md is then rewritten from the stored results.json plus this run).
 */
async function postgresPart(log: (line: string) => void): Promise<void> {
  const run = await runPostgresBench({ quick: QUICK, log, commit: gitCommit() });
  process.stdout.write(`\n${postgresSection(run)}\n`);
  if (!DRY) log(`postgres: written to ${await savePostgresRun(run)}`);
  if (run.rows.some((r) => r.key === 'x.errors' && r.pass === false)) process.exitCode = 1;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  if (args.has('--report')) {
    await writeReport(JSON.parse(await readFile(path.join(BENCH_DIR, 'results.json'), 'utf8')) as RunResult);
    return;
  }
  if (args.has('--postgres')) {
    const log = (line: string): void => void process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
    await linkCards();
    await postgresPart(log);
    const stored = path.join(BENCH_DIR, 'results.json');
    if (!DRY && existsSync(stored)) await writeReport(JSON.parse(await readFile(stored, 'utf8')) as RunResult);
    return;
  }
  if (args.has('--microsoft')) {
    const log = (line: string): void => void process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
    await microsoftPart(log);
    const stored = path.join(BENCH_DIR, 'results.json');
    if (!DRY && existsSync(stored)) await writeReport(JSON.parse(await readFile(stored, 'utf8')) as RunResult);
    return;
  }
  await linkCards();
  const loadStart = os.loadavg()[0]!;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-bench-'));
  const children: Child[] = [];
  const clients: BotClient[] = [];
  const log = (line: string): void => void process.stdout.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
  try {
    log(`fixture: ${ACCOUNTS} accounts, ${AUDIT_ENTRIES} audit entries in ${dir}`);
    const fixture = await writeFixture(dir, TENANT, ACCOUNTS, AUDIT_ENTRIES);
    const accounts = fixture.accounts;

    const echo = Child.start('echo bot', ['echo']);
    const app = Child.start('switchboard', ['app', dir, TENANT, ADMIN.aadObjectId]);
    children.push(echo, app);
    const [echoReady, appReady] = await Promise.all([echo.ready, app.ready]);
    log(`ready: echo on ${echoReady.port}, switchboard on ${appReady.port} (started in ${ms(appReady.startupMs)})`);
    const [appIdle, echoIdle] = [(await app.ask({ cmd: 'mem' }, 'mem')).memory, (await echo.ask({ cmd: 'mem' }, 'mem')).memory];
    // HTTP edits go to even accounts, in-process mutations to odd ones: the durability check at the
    // end knows what each edited account must be called.
    const editable = accounts.filter((_, i) => i % 2 === 0);
    const mutable = accounts.filter((_, i) => i % 2 === 1);
    const echoClient = new BotClient(echoReady.port, CONCURRENCY);
    const appClient = new BotClient(appReady.port, CONCURRENCY);
    clients.push(echoClient, appClient);
    const check: Check = { errors: 0 };
    const echoCheck: Check = { errors: 0 };

    // Warm-up (JIT, caches, sockets).
    await sequential(echoClient, scale(300), 20_000, () => showBody(accounts), echoCheck);
    await sequential(appClient, scale(300), 20_000, () => showBody(accounts), check);
    await sequential(appClient, scale(100), 20_000, () => listBody(), check);
    log('warmed up');

    // (a) A card action of ours against the echo bot, interleaved in rounds so that both see the same machine.
    const echoMs: number[] = [];
    const showMs: number[] = [];
    const listMs: number[] = [];
    const roundsUntil = performance.now() + (QUICK ? 10_000 : 45_000);
    for (let round = 0; round < 6 && performance.now() < roundsUntil; round++) {
      echoMs.push(...(await sequential(echoClient, scale(300), 8_000, () => showBody(accounts), echoCheck)));
      // The same request bodies go to both bots; ours answers with the account's card.
      showMs.push(...(await sequential(appClient, scale(300), 8_000, () => showBody(accounts), check)));
      listMs.push(...(await sequential(appClient, scale(150), 8_000, () => listBody(), check, () => 'Resource accounts')));
    }
    const echoS = summarize(echoMs);
    const showS = summarize(showMs);
    const listS = summarize(listMs);
    log(`(a) echo ${fmt(echoS)}; showAccount ${fmt(showS)}; listAccounts ${fmt(listS)}`);

    // (b) Mutations over HTTP: a full editAccount invoke (plan → updateAccount → audit → card).
    await app.ask({ cmd: 'loopStart' }, 'loop');
    const edited = new Map<string, string>();
    const editMs = await sequential(
      appClient,
      scale(600),
      QUICK ? 5_000 : 15_000,
      (i) => {
        const account = editable[(i * 7919 + 13) % editable.length]!;
        const displayName = `Edited over HTTP ${i}`;
        edited.set(account.id, displayName);
        return JSON.stringify(execute('editAccount', { accountId: account.id, displayName, accountType: account.accountType }));
      },
      check,
    );
    const loopDuringEdits = (await app.ask({ cmd: 'loopStop' }, 'loop')).delay;
    const editS = summarize(editMs);
    log(`(b) editAccount over HTTP ${fmt(editS)}; event loop p99 ${ms(loopDuringEdits.p99)} max ${ms(loopDuringEdits.max)}`);

    // (c) Sustained turns per second, 50 concurrent clients, showAccount and listAccounts alternately.
    await app.ask({ cmd: 'loopStart' }, 'loop');
    const mixed = (i: number): string => (i % 2 === 0 ? showBody(accounts) : listBody());
    const load = await sustained(appClient, CONCURRENCY, QUICK ? 1_000 : 3_000, QUICK ? 3_000 : 12_000, mixed, check);
    const loopUnderLoad: LoopDelay = (await app.ask({ cmd: 'loopStop' }, 'loop')).delay;
    log(`(c) switchboard ${load.turnsPerSecond.toFixed(0)} turns/s, ${fmt(load.latency)}; event loop max ${ms(loopUnderLoad.max)}`);
    const echoLoad = await sustained(echoClient, CONCURRENCY, QUICK ? 500 : 2_000, QUICK ? 2_000 : 5_000, () => showBody(accounts), echoCheck);
    log(`(c) echo ${echoLoad.turnsPerSecond.toFixed(0)} turns/s, ${fmt(echoLoad.latency)}`);

    // (d) Peak RSS of the bot process while serving.
    const serving: Memory = (await app.ask({ cmd: 'mem' }, 'mem')).memory;
    const echoMem: Memory = (await echo.ask({ cmd: 'mem' }, 'mem')).memory;
    const appLive: Memory = (await app.ask({ cmd: 'gc' }, 'mem')).memory;
    const echoLive: Memory = (await echo.ask({ cmd: 'gc' }, 'mem')).memory;
    log(`(d) switchboard maxRSS ${serving.maxRssMb.toFixed(0)} MB (idle after start ${appIdle.rssMb.toFixed(0)} MB, live heap ${appLive.heapUsedMb.toFixed(0)} MB); echo ${echoMem.maxRssMb.toFixed(0)} MB (idle ${echoIdle.rssMb.toFixed(0)} MB, live heap ${echoLive.heapUsedMb.toFixed(0)} MB)`);
    // (b) In the bot process, after the HTTP phases (so that (d) is the serving peak): directory
    // mutations, list pages, audit pages.
    const micro: MicroResults = (await app.ask({ cmd: 'micro', accountIds: mutable.map((a) => a.id), upns: accounts.map((a) => a.upn) }, 'micro', 180_000)).results;
    for (const [name, s] of Object.entries(micro)) log(`(b) ${name}: ${fmt(s)}${s.note ? ` — ${s.note}` : ''}`);

    // The history card as the bot serves it today (src/bot/history.ts), at 100k audit entries.
    const historyMs = await sequential(appClient, scale(10), 10_000, (i) => JSON.stringify(execute('historyPage', { offset: i * 10, username: '' })), check);
    const historyS = summarize(historyMs);
    log(`historyPage invoke: ${fmt(historyS)}`);


    // Graceful stop: everything must be in tenant.json afterwards (a graceful stop folds the journal in).
    const stopped = await app.ask({ cmd: 'stop' }, 'stopped');
    await echo.ask({ cmd: 'stop' }, 'stopped');
    await Promise.all([app.exited(), echo.exited()]);
    const tenantFile = path.join(dir, 'tenant.json');
    const persisted = JSON.parse(await readFile(tenantFile, 'utf8')) as { accounts: Record<string, { displayName: string }> };
    const lost = [...edited].filter(([id, name]) => persisted.accounts[id]?.displayName !== name);
    const tenantFileAfterMB = (await stat(tenantFile)).size / 1e6;
    const sizeMB = async (name: string): Promise<string> => `${name} ${((await stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size / 1e6).toFixed(2)} MB`;
    const files = (await Promise.all(['tenant.json', 'plans.json', 'conversations.json', 'audit.jsonl'].map(sizeMB))).join(', ');
    log(`stopped: flush ${ms(stopped.flushMs)}; ${edited.size - lost.length}/${edited.size} HTTP edits on disk`);

    const mutation = micro.mutation!;
    const listPage = micro.listPage!;
    const ratio = (s: Summary): number => s.p50 / echoS.p50;
    const rows: Row[] = [
      { key: 'a.show', metric: '(a) showAccount invoke ÷ echo invoke, ratio of p50', value: `${ratio(showS).toFixed(2)}×`, target: '≤ 1.2×', pass: ratio(showS) <= 1.2 },
      { key: 'a.list', metric: '(a) listAccounts invoke ÷ echo invoke, ratio of p50', value: `${ratio(listS).toFixed(2)}×`, target: '≤ 1.2×', pass: ratio(listS) <= 1.2 },
      { key: 'a.echo', metric: '(a) echo bot invoke (baseline), sequential', value: fmt(echoS), target: '—', pass: null },
      { key: 'a.showLatency', metric: '(a) showAccount invoke, sequential', value: fmt(showS), target: '—', pass: null },
      { key: 'b.list', metric: '(a/b) listAccounts invoke (page of 10 of 10k), sequential', value: fmt(listS), target: '—', pass: null },
      { key: 'b.mutation', metric: '(b) mutation: directory.updateAccount / setUsageLocation (in process)', value: fmt(mutation), target: 'p99 ≤ 10 ms', pass: mutation.p99 <= 10 },
      { key: 'b.edit', metric: '(b) mutation: full editAccount invoke over HTTP (plan, audit, card)', value: fmt(editS), target: '— (p99 ≤ 10 ms is not required end to end)', pass: null },
      { key: 'b.loopEdit', metric: '(b) bot event-loop delay during the HTTP edits', value: `p99 ${ms(loopDuringEdits.p99)} · max ${ms(loopDuringEdits.max)}`, target: '—', pass: null },
      { key: 'b.listPage', metric: '(b) list page: provisioning.listAccounts, 10 of 10k (in process)', value: fmt(listPage), target: 'p99 ≤ 5 ms', pass: listPage.p99 <= 5 },
    ];
    const extra: [string, string][] = [
      ['listFiltered', '(b) list page, filtered (text "sales" + licensed)'],
      ['findByUpn', '(b) findAccountByUpn (add-account check)'],
      ['auditPage', '(b) audit: newest page of 10 of 100k'],
      ['auditPageDeep', '(b) audit: older page (offset 100–590)'],
      ['auditPageTarget', '(b) audit: newest 10 for one account'],
      ['auditCount', '(b) audit: count()'],
    ];
    for (const [key, metric] of extra) {
      const s = micro[key];
      if (s) rows.push({ key: `b.${key}`, metric: `${metric}${s.note ? ` — \`${s.note}\`` : ''}`, value: fmt(s), target: '—', pass: null });
    }
    rows.push(
      { key: 'b.history', metric: '(b) history page invoke at 100k entries (paged from the end of the log)', value: fmt(historyS), target: '—', pass: null },
      { key: 'c.tps', metric: `(c) sustained turns/s, ${CONCURRENCY} concurrent clients (showAccount + listAccounts)`, value: `${load.turnsPerSecond.toFixed(0)} turns/s (${fmt(load.latency)})`, target: '≥ 500 turns/s', pass: load.turnsPerSecond >= 500 },
      { key: 'c.echo', metric: `(c) echo bot, same load (machine ceiling)`, value: `${echoLoad.turnsPerSecond.toFixed(0)} turns/s (${fmt(echoLoad.latency)})`, target: '—', pass: null },
      { key: 'c.share', metric: '(c) switchboard ÷ echo throughput, same run', value: `${((100 * load.turnsPerSecond) / echoLoad.turnsPerSecond).toFixed(1)}%`, target: '—', pass: null },
      { key: 'c.loop', metric: '(c) bot event-loop delay under that load', value: `p99 ${ms(loopUnderLoad.p99)} · max ${ms(loopUnderLoad.max)}`, target: '—', pass: null },
      { key: 'd.rss', metric: '(d) peak RSS of the bot process (resourceUsage().maxRSS after a–c, V8 limits of npm run start:bot)', value: `${serving.maxRssMb.toFixed(0)} MB`, target: '< 200 MB', pass: serving.maxRssMb < 200 },
      { key: 'd.rssEcho', metric: '(d) echo bot, same phases: peak RSS', value: `${echoMem.maxRssMb.toFixed(0)} MB`, target: '—', pass: null },
      { key: 'd.idle', metric: '(d) RSS just after start (switchboard with 10k accounts / echo)', value: `${appIdle.rssMb.toFixed(0)} MB / ${echoIdle.rssMb.toFixed(0)} MB`, target: '—', pass: null },
      { key: 'd.live', metric: '(d) live heap after a full GC, after a–c (switchboard / echo)', value: `${appLive.heapUsedMb.toFixed(0)} MB / ${echoLive.heapUsedMb.toFixed(0)} MB`, target: '—', pass: null },
      { key: 'x.startup', metric: 'bot start-up (createApp + listen, 10k accounts)', value: ms(appReady.startupMs), target: '—', pass: null },
      { key: 'x.flush', metric: 'graceful stop (drain + flush every store)', value: ms(stopped.flushMs), target: '—', pass: null },
      { key: 'x.files', metric: 'data files after the run', value: files, target: '—', pass: null },
      { key: 'x.durable', metric: 'HTTP edits found in tenant.json after graceful stop', value: `${edited.size - lost.length}/${edited.size}`, target: 'all', pass: lost.length === 0 },
      { key: 'x.errors', metric: 'failed or unexpected answers', value: `${check.errors + echoCheck.errors}${(check.firstError ?? echoCheck.firstError) ? ` (first: ${(check.firstError ?? echoCheck.firstError ?? '').slice(0, 120).replace(/\|/g, '/')})` : ''}`, target: '0', pass: check.errors + echoCheck.errors === 0 },
    );

    const result: RunResult = {
      label: LABEL,
      date: new Date().toISOString(),
      commit: gitCommit(),
      node: process.version,
      cpus: os.cpus().length,
      loadavg: [loadStart, os.loadavg()[0]!],
      quick: QUICK,
      fixture: { accounts: ACCOUNTS, auditEntries: AUDIT_ENTRIES, tenantMB: fixture.tenantBytes / 1e6, auditMB: fixture.auditBytes / 1e6, tenantFileAfterMB },
      rows,
    };
    process.stdout.write(`\n${table(rows)}\n\n`);
    if (LABEL === 'after' && !args.has('--no-postgres')) {
      // A failure there must not throw away the storage phases' results: it is reported, and the run fails.
      await postgresPart(log).catch((e: unknown) => {
        log(`postgres part failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        process.exitCode = 1;
      });
    }
    if (LABEL === 'after' && !args.has('--no-microsoft')) await microsoftPart(log);
    if (DRY) {
      log('--dry: nothing written');
    } else if (LABEL === 'before') {
      await writeFile(path.join(BENCH_DIR, 'results-before.json'), JSON.stringify(result, null, 2) + '\n');
      log('saved as bench/results-before.json');
    } else {
      await writeFile(path.join(BENCH_DIR, 'results.json'), JSON.stringify(result, null, 2) + '\n');
      await writeReport(result);
      log('written to bench/results.md');
    }
    log(`done in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    if (check.errors + echoCheck.errors > 0) process.exitCode = 1;
  } finally {
    for (const c of clients) c.close();
    for (const c of children) c.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

function gitCommit(): string {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/store', 'src/backends/simulated'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted storage changes` : head;
  } catch {
    return 'unknown';
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
