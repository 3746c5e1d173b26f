import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { z } from 'zod';
import { PowerShellError, PowerShellUnavailableError } from './errors';
import { asciiJson } from './runner';
import { RESULT_MARKER, WORKER_ARGS } from './script';

/**
 * One long-lived pwsh running WORKER_SCRIPT (script.ts): the module imported once, then one JSON
 * request per stdin line and one marked JSON reply per request, one request at a time. This class
 * only speaks the protocol and watches the process; which request goes where is the pool's business.
 */

/** Every reply line after the marker: the request's id, its outcome, the process's working set. */
const ReplySchema = z.discriminatedUnion('ok', [
  z.object({
    id: z.number().int().nonnegative(),
    ok: z.literal(true),
    output: z.array(z.unknown()).nullish(),
    memoryBytes: z.number().nonnegative().optional(),
  }),
  z.object({
    id: z.number().int().nonnegative(),
    ok: z.literal(false),
    error: z.object({
      fullyQualifiedErrorId: z.string().nullish(),
      message: z.string().nullish(),
      category: z.string().nullish(),
    }),
    memoryBytes: z.number().nonnegative().optional(),
  }),
]);
export type WorkerReply = z.infer<typeof ReplySchema>;

export type WorkerRequest =
  | { type: 'connect'; graphToken: string; teamsToken: string }
  | { type: 'run'; cmdlet: string; parameters: unknown };

/** The worker stopped (died, hung, answered out of turn) while it held a request. */
export class WorkerLost extends Error {
  constructor(
    readonly why: string,
    /** What it was doing: a connect never carries a cmdlet, so nothing ran. */
    readonly requestType: WorkerRequest['type'],
    /** The request line had been written to the worker: it may have run. */
    readonly written: boolean,
    readonly timedOut: boolean,
  ) {
    super(`pwsh worker ${why}`);
    this.name = 'WorkerLost';
  }
}

/** A bigger answer is not a listing of ours: 10,000 instances at a few hundred bytes fit easily. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** How long a retired worker may take to leave after its stdin closes. */
const RETIRE_GRACE_MS = 5_000;

export type WorkerState = 'starting' | 'idle' | 'busy' | 'dead';

interface Pending {
  id: number;
  type: WorkerRequest['type'];
  resolve: (reply: WorkerReply) => void;
  reject: (error: WorkerLost) => void;
  timer: NodeJS.Timeout;
}

export interface WorkerOptions {
  pwshPath: string;
  env: NodeJS.ProcessEnv;
  /** How long importing the module may take before the worker is given up. */
  startTimeoutMs: number;
  /** Told once when the process is gone: `planned` after retire() or kill by the pool's close. */
  onExit: (worker: PwshWorker, why: string, planned: boolean) => void;
}

export class PwshWorker {
  state: WorkerState = 'starting';
  /** Fingerprint of the tokens the session was connected with; undefined while not connected. */
  connection: string | undefined;
  /** The module was imported: a worker that dies later is worth replacing at once. */
  everReady = false;
  /** Requests answered, and the working set the last reply reported (the pool's budgets). */
  served = 0;
  memoryBytes = 0;
  /** Resolves once the module is imported (the id-0 line); rejects if the worker never gets there. */
  readonly ready: Promise<void>;
  readonly pid: number | undefined;

  private readonly child: ChildProcessWithoutNullStreams;
  private pending: Pending | undefined;
  private nextId = 1;
  private buffered = '';
  private stderrTail = '';
  private planned = false;
  private gone = false;
  private told = false;
  private deathReason: string | undefined;
  private readonly exited: Promise<void>;
  private settleReady: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(
    readonly seq: number,
    private readonly options: WorkerOptions,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // An unhandled rejection here would be noise: the pool awaits `ready` or learns of the exit.
    this.ready.catch(() => undefined);
    // No shell: the path and the fixed arguments go straight to execve; the tokens never go here.
    this.child = spawn(options.pwshPath, [...WORKER_ARGS], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.pid = this.child.pid;
    const startTimer = setTimeout(() => this.kill(`did not import MicrosoftTeams within ${options.startTimeoutMs / 1000} s`), options.startTimeoutMs);
    this.ready.finally(() => clearTimeout(startTimer)).catch(() => undefined);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2_000);
    });
    // A worker that dies makes a write fail with EPIPE; 'close' says why.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise<void>((resolve) => {
      this.child.on('error', (error: NodeJS.ErrnoException) => {
        const unavailable = error.code === 'ENOENT' || error.code === 'EACCES';
        this.gone = true;
        this.lost(unavailable ? new PowerShellUnavailableError(options.pwshPath, error.code ?? '') : error, `could not be started (${error.code ?? error.message})`);
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.gone = true;
        const stderr = this.stderrTail.trim() ? `; stderr: ${this.stderrTail.trim().slice(-500)}` : '';
        this.lost(undefined, `exited (${signal ?? `code ${String(code)}`})${stderr}`);
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.state !== 'dead';
  }

  /** Sends one request and waits for its reply; the worker is killed if none comes in time. */
  request(body: WorkerRequest, timeoutMs: number): Promise<WorkerReply> {
    if (this.state === 'dead' || this.pending) {
      return Promise.reject(new WorkerLost(this.state === 'dead' ? 'is gone' : 'is already busy', body.type, false, false));
    }
    const id = this.nextId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const lost = new WorkerLost(`did not answer within ${timeoutMs / 1000} s`, body.type, true, true);
        this.pending = undefined;
        reject(lost);
        this.kill(lost.why);
      }, timeoutMs);
      this.pending = { id, type: body.type, resolve, reject, timer };
      // One line of ASCII JSON: values are data, never text pwsh parses as code (script.ts).
      this.child.stdin.write(`${asciiJson({ id, ...body })}\n`, 'utf8');
    });
  }

  /** Ends the worker for good; a request it holds fails as lost. */
  kill(why: string, planned = false): void {
    if (this.gone) return;
    this.planned ||= planned;
    this.markDead(why);
    this.child.kill('SIGKILL');
  }

  /** Lets the worker finish: its stdin closes, the script's loop ends; killed if it lingers. */
  retire(why: string): Promise<void> {
    if (this.gone) return this.exited;
    this.planned = true;
    this.markDead(why);
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), RETIRE_GRACE_MS);
    timer.unref();
    return this.exited.then(() => clearTimeout(timer));
  }

  whenExited(): Promise<void> {
    return this.exited;
  }

  private onStdout(chunk: string): void {
    this.buffered += chunk;
    if (this.buffered.length > MAX_LINE_BYTES) {
      this.kill('printed more than 64 MB without a line end');
      return;
    }
    let end = this.buffered.indexOf('\n');
    while (end >= 0) {
      const line = this.buffered.slice(0, end).replace(/\r$/, '');
      this.buffered = this.buffered.slice(end + 1);
      if (line.startsWith(RESULT_MARKER)) this.onReply(line.slice(RESULT_MARKER.length));
      if (this.state === 'dead') return;
      end = this.buffered.indexOf('\n');
    }
  }

  private onReply(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.kill('printed a result line that is not JSON');
      return;
    }
    const parsed = ReplySchema.safeParse(json);
    if (!parsed.success) {
      this.kill('printed a result of an unexpected shape');
      return;
    }
    const reply = parsed.data;
    if (reply.memoryBytes !== undefined) this.memoryBytes = reply.memoryBytes;
    if (reply.id === 0 && this.state === 'starting') {
      if (reply.ok) {
        this.state = 'idle';
        this.everReady = true;
        this.settleReady?.resolve();
      } else {
        const { fullyQualifiedErrorId, message, category } = reply.error;
        this.settleReady?.reject(new PowerShellError('Import-Module', fullyQualifiedErrorId ?? '', message ?? '', category ?? ''));
        this.kill('could not import MicrosoftTeams');
      }
      return;
    }
    const pending = this.pending;
    // An answer nobody asked for means the two ends disagree on what is running: stop this worker.
    if (!pending || reply.id !== pending.id) {
      this.kill(`answered request ${reply.id} out of turn`);
      return;
    }
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.resolve(reply);
  }

  private markDead(why: string): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.deathReason = why;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(new WorkerLost(why, pending.type, true, false));
    }
    this.settleReady?.reject(new PowerShellError('Import-Module', 'WorkerLost', `the pwsh worker ${why} before it was ready`, ''));
  }

  private lost(startError: Error | undefined, why: string): void {
    if (startError) this.settleReady?.reject(startError);
    this.markDead(why);
    // 'error' (could not start) may be followed by 'close': the pool hears of the exit once.
    if (this.told) return;
    this.told = true;
    this.options.onExit(this, this.deathReason ?? why, this.planned);
  }
}
