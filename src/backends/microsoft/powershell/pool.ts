import { createHash } from 'node:crypto';
import type { TokenSource } from '../auth';
import { Meter } from '../meter';
import { effectOf, type CmdletName, type CmdletParameters } from './allowList';
import {
  PowerShellBusyError,
  PowerShellError,
  PowerShellOutcomeUnknownError,
  PowerShellTimeoutError,
  PowerShellWorkerError,
} from './errors';
import { checkedParameters, withoutSecrets, type PowerShell } from './runner';
import { PwshWorker, WorkerLost, type WorkerReply } from './worker';

/**
 * Warm Teams PowerShell: `size` long-lived pwsh workers, each with MicrosoftTeams imported once and
 * connected once, taking one request at a time (ARCHITECTURE.md "Warm sessions to Microsoft"). The
 * one-shot runner paid a process start, a module import and a connect for every cmdlet; here a warm
 * cmdlet costs what the cmdlet itself costs.
 *
 * What the one-shot runner guaranteed still holds: one fixed script (script.ts WORKER_SCRIPT),
 * allow-listed cmdlets and parameters checked here before anything is written and again by the
 * script, values only as JSON data, tokens only on stdin (the connect request) — never in argv or in
 * the environment.
 *
 * When a worker dies, hangs or answers out of turn while it holds a request, it is killed and
 * replaced, and the request is NEVER sent again if it could change the tenant: a write fails with
 * PowerShellOutcomeUnknownError and the backend reads the tenant before deciding anything
 * (accountChanges.ts, voiceApps.ts). A read is sent once more, to another worker: reading twice
 * changes nothing.
 */

export interface PowerShellPoolOptions {
  pwshPath: string;
  /** How long one request (and a worker's start) may take before the worker is killed. */
  timeoutMs: number;
  tokens: TokenSource;
  /** The workers' environment (PATH, HOME, PSModulePath…); secrets are dropped, tokens never go here. */
  env?: NodeJS.ProcessEnv;
  /** Workers kept warm, i.e. cmdlets that can run at once (SWITCHBOARD_PWSH_CONCURRENCY). */
  size: number;
  /** Calls that may wait for a worker; one more fails at once with PowerShellBusyError. */
  maxQueue: number;
  /** A worker is retired (and replaced) after this many requests… */
  maxRequestsPerWorker: number;
  /** …or when its working set passes this (the module holds hundreds of MB and grows). */
  maxMemoryBytes: number;
  /** How long a worker may take to start and import the module (default: timeoutMs, at least 60 s). */
  startTimeoutMs?: number;
  /** How often idle workers are reconnected when the tokens have rotated (default 60 s). */
  refreshEveryMs?: number;
  meter?: Meter;
}

interface Waiter {
  cmdlet: string;
  resolve: (worker: PwshWorker) => void;
  reject: (error: Error) => void;
}

export interface PoolStats {
  workers: { seq: number; pid: number | undefined; state: string; served: number; memoryBytes: number; connected: boolean }[];
  queued: number;
  started: number;
}

const MAX_EARLY_DEATHS = 3;

const fingerprint = (graphToken: string, teamsToken: string): string => createHash('sha256').update(graphToken).update('\n').update(teamsToken).digest('hex');

export class PowerShellPool implements PowerShell {
  private readonly workers: PwshWorker[] = [];
  private readonly waiting: Waiter[] = [];
  private readonly meter: Meter;
  private readonly env: NodeJS.ProcessEnv;
  private started = 0;
  /** Workers in a row that died before they were even connected: past a few, they are not replaced. */
  private earlyDeaths = 0;
  private closed = false;
  private refresher: NodeJS.Timeout | undefined;

  constructor(private readonly options: PowerShellPoolOptions) {
    this.meter = options.meter ?? new Meter();
    this.env = withoutSecrets(options.env ?? process.env);
  }

  get size(): number {
    return this.options.size;
  }

  /**
   * Starts every worker, imports the module and connects each one (at boot, after sign-in), so that
   * the first click is warm. Rejects with the first failure (pwsh missing, module missing, tokens
   * refused): start-up stops with that line.
   */
  async start(): Promise<void> {
    const warming = this.meter.detached(() => Array.from({ length: this.options.size - this.live().length }, () => this.spawn()));
    const outcomes = await Promise.allSettled(warming);
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed?.status === 'rejected') throw failed.reason;
    this.refresher ??= setInterval(() => this.meter.detached(() => void this.refreshIdle()), this.options.refreshEveryMs ?? 60_000);
    this.refresher.unref();
  }

  async run<C extends CmdletName>(cmdlet: C, parameters: CmdletParameters<C>): Promise<unknown[]> {
    // Refused here, before any worker sees it; the script refuses it again (script.ts Get-Allowed).
    const checked = checkedParameters(cmdlet, parameters);
    const effect = effectOf(cmdlet);
    for (let attempt = 1; ; attempt += 1) {
      const worker = await this.acquire(cmdlet);
      try {
        await this.connect(worker);
        this.meter.add('cmdlets');
        const reply = await worker.request({ type: 'run', cmdlet, parameters: checked }, this.options.timeoutMs);
        this.done(worker, reply);
        return outputOf(cmdlet, reply);
      } catch (e) {
        if (!(e instanceof WorkerLost)) {
          if (worker.state === 'busy') this.available(worker);
          throw e;
        }
        // The worker is dead and being replaced (onExit). What happens to the call depends on whether
        // the cmdlet may have run.
        const cmdletMayHaveRun = e.requestType === 'run' && e.written;
        if (e.timedOut) {
          if (cmdletMayHaveRun && effect === 'write') throw new PowerShellOutcomeUnknownError(cmdlet, e.why);
          throw new PowerShellTimeoutError(e.requestType === 'run' ? cmdlet : 'Connect-MicrosoftTeams', this.options.timeoutMs);
        }
        if (cmdletMayHaveRun && effect === 'write') throw new PowerShellOutcomeUnknownError(cmdlet, e.why);
        if (attempt >= 2) throw new PowerShellWorkerError(cmdlet, e.why);
        // Never handed over, or a read: once more, on another worker.
      }
    }
  }

  stats(): PoolStats {
    return {
      workers: this.workers.map((w) => ({ seq: w.seq, pid: w.pid, state: w.state, served: w.served, memoryBytes: w.memoryBytes, connected: w.connection !== undefined })),
      queued: this.waiting.length,
      started: this.started,
    };
  }

  /** Stops every worker (stdin closed, killed if it lingers); waiting calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refresher);
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('Teams PowerShell is shutting down'));
    await Promise.all(this.workers.map((w) => w.retire('was closed with the backend')));
  }

  // --- workers -------------------------------------------------------------------------------------

  private live(): PwshWorker[] {
    return this.workers.filter((w) => w.alive);
  }

  /** A new worker: started, module imported, connected, then handed to whoever waits. */
  private async spawn(): Promise<void> {
    this.started += 1;
    this.meter.add('processStarts');
    const worker = new PwshWorker(this.started, {
      pwshPath: this.options.pwshPath,
      env: this.env,
      startTimeoutMs: this.options.startTimeoutMs ?? Math.max(this.options.timeoutMs, 60_000),
      onExit: (w, why, planned) => this.onExit(w, why, planned),
    });
    this.workers.push(worker);
    try {
      await worker.ready;
    } catch (e) {
      // Nobody left to serve the calls waiting: they fail with the reason rather than hang.
      if (this.live().length === 0) for (const waiter of this.waiting.splice(0)) waiter.reject(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
    worker.state = 'busy';
    try {
      await this.connect(worker);
    } catch {
      // Tokens not available now (sign-in needed) or refused: the worker stays, unconnected; the next
      // call connects it and reports what is wrong.
    }
    if (worker.state === 'busy') this.available(worker);
  }

  private onExit(worker: PwshWorker, why: string, planned: boolean): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) this.workers.splice(index, 1);
    if (this.closed) return;
    // A dead or retired worker is replaced at once, so the pool stays warm. One that never got as far
    // as importing the module is not, nor one more after a few that died before serving anything: the
    // next call starts one and hears why it fails (no crash loop).
    this.earlyDeaths = worker.connection === undefined && worker.served === 0 && !planned ? this.earlyDeaths + 1 : 0;
    if ((worker.everReady || planned) && this.earlyDeaths < MAX_EARLY_DEATHS && this.live().length < this.options.size) {
      this.meter.detached(() => void this.spawn().catch(() => undefined));
    } else if (this.live().length === 0 && worker.everReady) {
      // Nobody left and nobody coming: the calls waiting fail with the reason rather than hang. (A worker
      // that never got ready is spawn()'s to report, with its own error.)
      for (const waiter of this.waiting.splice(0)) waiter.reject(new PowerShellWorkerError(waiter.cmdlet, `could not be kept running (${why})`));
    }
  }

  private acquire(cmdlet: string): Promise<PwshWorker> {
    if (this.closed) return Promise.reject(new Error('Teams PowerShell is shutting down'));
    const idle = this.workers.find((w) => w.state === 'idle');
    if (idle) {
      idle.state = 'busy';
      return Promise.resolve(idle);
    }
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(new PowerShellBusyError(cmdlet, this.options.size, this.waiting.length));
    }
    const promise = new Promise<PwshWorker>((resolve, reject) => this.waiting.push({ cmdlet, resolve, reject }));
    // Fewer workers than configured (they died and could not be replaced): this call starts one.
    if (this.live().length < this.options.size) void this.spawn().catch(() => undefined);
    return promise;
  }

  /** The worker is free: the longest-waiting call gets it. */
  private available(worker: PwshWorker): void {
    if (!worker.alive) return;
    const next = this.waiting.shift();
    if (next) {
      worker.state = 'busy';
      next.resolve(worker);
    } else {
      worker.state = 'idle';
    }
  }

  /** After a reply: retire a worker past its request or memory budget (a new one takes its place). */
  private done(worker: PwshWorker, reply: WorkerReply): void {
    worker.served += 1;
    if (worker.served >= this.options.maxRequestsPerWorker) {
      // Its exit is followed elsewhere (whenExited): nothing here waits for it.
      worker.retire(`served ${worker.served} requests`).catch(() => undefined);
    } else if (reply.memoryBytes !== undefined && reply.memoryBytes > this.options.maxMemoryBytes) {
      worker.retire(`uses ${Math.round(reply.memoryBytes / 1_048_576)} MB`).catch(() => undefined);
    } else {
      this.available(worker);
    }
  }

  /**
   * Connects the worker with the current tokens unless it already is. The token source hands out a
   * new token shortly before the old one expires (MSAL renews 5 minutes ahead); a session connected
   * with -AccessTokens cannot renew itself, so a new token means a new connect, on stdin.
   */
  private async connect(worker: PwshWorker): Promise<void> {
    const [graphToken, teamsToken] = await Promise.all([this.options.tokens.graph(), this.options.tokens.teams()]);
    const wanted = fingerprint(graphToken, teamsToken);
    if (worker.connection === wanted) return;
    this.meter.add('connects');
    const reply = await worker.request({ type: 'connect', graphToken, teamsToken }, this.options.timeoutMs);
    if (!reply.ok) {
      worker.connection = undefined;
      const { fullyQualifiedErrorId, message, category } = reply.error;
      throw new PowerShellError('Connect-MicrosoftTeams', fullyQualifiedErrorId ?? '', message ?? '', category ?? '');
    }
    worker.connection = wanted;
  }

  /** Idle workers take rotated tokens now, so that no call waits for a connect. */
  private async refreshIdle(): Promise<void> {
    for (const worker of this.workers.filter((w) => w.state === 'idle')) {
      worker.state = 'busy';
      try {
        await this.connect(worker);
      } catch {
        // The next call on this worker reconnects and reports the problem.
      }
      if (worker.state === 'busy') this.available(worker);
    }
  }
}

function outputOf(cmdlet: string, reply: WorkerReply): unknown[] {
  if (!reply.ok) {
    const { fullyQualifiedErrorId, message, category } = reply.error;
    throw new PowerShellError(cmdlet, fullyQualifiedErrorId ?? '', message ?? '', category ?? '');
  }
  return reply.output ?? [];
}
