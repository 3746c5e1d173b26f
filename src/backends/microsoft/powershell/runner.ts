import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { TokenSource } from '../auth';
import { ALLOW_LIST, isCmdletName, type CmdletName, type CmdletParameters } from './allowList';
import { PowerShellBusyError, PowerShellError, PowerShellUnavailableError } from './errors';
import { PWSH_ARGS, RESULT_MARKER } from './script';
import type { Meter } from '../meter';

/** Runs one allow-listed Teams cmdlet; the port the backend uses (tests may swap in another). */
export interface PowerShell {
  run<C extends CmdletName>(cmdlet: C, parameters: CmdletParameters<C>): Promise<unknown[]>;
  /** Starts what is kept warm (the pool's workers), at boot. */
  start?(): Promise<void>;
  /** Stops what was started. */
  close?(): Promise<void>;
}

/**
 * The allow-list, checked before anything is started or written: a cmdlet that is not ours or a
 * parameter outside its schema never reaches pwsh (the fixed script checks the names again).
 */
export function checkedParameters<C extends CmdletName>(cmdlet: C, parameters: CmdletParameters<C>): unknown {
  // The type already says so; this holds for callers that cast their way around it.
  if (!isCmdletName(cmdlet)) throw new Error(`PowerShell: ${String(cmdlet).slice(0, 60)} is not in the allow-list`);
  const checked = ALLOW_LIST[cmdlet].parameters.safeParse(parameters);
  if (!checked.success) throw new Error(`PowerShell ${cmdlet}: parameters outside the allow-list (${checked.error.issues[0]?.message})`);
  return checked.data;
}

export interface PowerShellRunnerOptions {
  pwshPath: string;
  timeoutMs: number;
  tokens: TokenSource;
  /** The child's environment (PATH, HOME, PSModulePath…). Tokens never go here: they go on stdin. */
  env?: NodeJS.ProcessEnv;
  /** How many pwsh processes may run at once (default 2). */
  concurrency?: number;
  /** How many calls may wait for a free slot; one more fails at once with PowerShellBusyError (default 50). */
  maxQueue?: number;
  meter?: Meter;
}

export const DEFAULT_PWSH_CONCURRENCY = 2;
export const DEFAULT_PWSH_QUEUE = 50;

/**
 * At most `limit` holders at once, the others wait in order; past `maxQueue` waiters a caller is
 * refused at once. Each pwsh start imports MicrosoftTeams (hundreds of MB, seconds of CPU): a burst of
 * listings must not start one process per click.
 */
export class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueue: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async use<T>(work: () => Promise<T>, busy: () => Error): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw busy();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` stays counted.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

const ResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), output: z.array(z.unknown()).nullish() }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      fullyQualifiedErrorId: z.string().nullish(),
      message: z.string().nullish(),
      category: z.string().nullish(),
    }),
  }),
]);

/** 10,000 instances at a few hundred bytes each fit easily; anything beyond is a fault. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * The one-shot runner (SWITCHBOARD_PWSH_MODE=oneshot): starts `pwsh` with the fixed script (script.ts) for each call: import MicrosoftTeams, connect with
 * the access tokens, run ONE allow-listed cmdlet, print one JSON result line. Parameters are checked
 * against the allow-list's zod schema here and again by the script.
 */
export class PowerShellRunner implements PowerShell {
  private readonly slots: Slots;

  constructor(private readonly options: PowerShellRunnerOptions) {
    this.slots = new Slots(options.concurrency ?? DEFAULT_PWSH_CONCURRENCY, options.maxQueue ?? DEFAULT_PWSH_QUEUE);
  }

  async run<C extends CmdletName>(cmdlet: C, parameters: CmdletParameters<C>): Promise<unknown[]> {
    const checked = checkedParameters(cmdlet, parameters);
    return this.slots.use(
      () => this.runChecked(cmdlet, checked),
      () => new PowerShellBusyError(cmdlet, this.slots.limit, this.slots.queued),
    );
  }

  private async runChecked(cmdlet: CmdletName, parameters: unknown): Promise<unknown[]> {
    const [graphToken, teamsToken] = await Promise.all([this.options.tokens.graph(), this.options.tokens.teams()]);
    const request = asciiJson({ cmdlet, parameters, graphToken, teamsToken });
    // Every call pays a process start, a module import and a connect: what the pool avoids.
    this.options.meter?.add('processStarts');
    this.options.meter?.add('connects');
    this.options.meter?.add('cmdlets');
    const { stdout, stderr, code } = await this.spawn(request);
    const line = stdout
      .split(/\r?\n/)
      .reverse()
      .find((l) => l.startsWith(RESULT_MARKER));
    if (line === undefined) {
      throw new PowerShellError(cmdlet, 'NoResult', `pwsh exited with code ${code} without a result; stderr: ${stderr.slice(-500)}`, '');
    }
    let json: unknown;
    try {
      json = JSON.parse(line.slice(RESULT_MARKER.length));
    } catch {
      throw new PowerShellError(cmdlet, 'BadResult', 'pwsh printed a result line that is not JSON', '');
    }
    const result = ResultSchema.safeParse(json);
    if (!result.success) throw new PowerShellError(cmdlet, 'BadResult', 'pwsh printed a result of an unexpected shape', '');
    if (!result.data.ok) {
      const { fullyQualifiedErrorId, message, category } = result.data.error;
      throw new PowerShellError(cmdlet, fullyQualifiedErrorId ?? '', message ?? '', category ?? '');
    }
    return result.data.output ?? [];
  }

  private spawn(stdin: string): Promise<{ stdout: string; stderr: string; code: number | null }> {
    const { pwshPath, timeoutMs, env } = this.options;
    return new Promise((resolve, reject) => {
      // No shell: the path and the fixed arguments go straight to execve.
      const child = spawn(pwshPath, [...PWSH_ARGS], { env: withoutSecrets(env ?? process.env), stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let failure: Error | undefined;
      const fail = (error: Error) => {
        failure ??= error;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => fail(new Error(`pwsh did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) fail(new Error('pwsh printed more than 64 MB'));
        else out.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (err.reduce((n, b) => n + b.length, 0) < 64 * 1024) err.push(chunk);
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(error.code === 'ENOENT' || error.code === 'EACCES' ? new PowerShellUnavailableError(pwshPath, error.code) : error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (failure) reject(failure);
        else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code });
      });
      // A child that dies before reading stdin makes the write fail with EPIPE; 'close' reports it.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin, 'utf8');
    });
  }
}

/** pwsh needs PATH, HOME, PSModulePath…, not the bot's secrets (MicrosoftAppPassword, client secrets). */
export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/secret|password|token|credential/i.test(name)));
}

/** JSON with every non-ASCII character escaped, so no console code page can garble it on the way in. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
