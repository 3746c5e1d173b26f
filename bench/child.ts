/**
 * A bot child process of the bench (bench/botProcess.ts), driven over IPC: each command carries an id
 * and the child answers with the same id.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Command, Reply } from './protocol';

type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;

export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  readonly ready: Promise<{ port: number; startupMs: number }>;

  constructor(
    readonly name: string,
    private readonly process_: ChildProcess,
  ) {
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: not ready after 120 s`)), 120_000);
      process_.once('exit', (code) => reject(new Error(`${name} exited (${String(code)}) before it was ready`)));
      process_.on('message', (reply: Reply) => {
        if (reply.type === 'ready') {
          clearTimeout(timer);
          resolve({ port: reply.port, startupMs: reply.startupMs });
          return;
        }
        this.waiting.get(reply.id)?.(reply);
        this.waiting.delete(reply.id);
      });
    });
  }

  static start(name: string, argv: string[]): Child {
    const child = fork(path.join(__dirname, 'botProcess.js'), argv, {
      // As `npm start` runs it, plus --expose-gc so that the live heap can be measured at the end.
      // The bot runs with the V8 limits of `npm run start:bot` (package.json).
      execArgv: ['--disable-warning=DEP0111', '--max-old-space-size=128', '--max-semi-space-size=2', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(name, child);
  }

  ask<T extends Reply['type']>(command: WithoutId<Command>, type: T, timeoutMs = 120_000): Promise<Extract<Reply, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no answer to ${command.cmd} in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.type === 'error') reject(new Error(`${this.name}: ${reply.message}`));
        else if (reply.type !== type) reject(new Error(`${this.name}: expected ${type}, got ${reply.type}`));
        else resolve(reply as Extract<Reply, { type: T }>);
      });
      this.process_.send({ ...command, id } as Command);
    });
  }

  /** Runs `work` and returns its result with the CPU time this bot used meanwhile (ms). */
  async withCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
    const before = (await this.ask({ cmd: 'cpu' }, 'cpu')).ms;
    const result = await work();
    return { result, cpuMs: (await this.ask({ cmd: 'cpu' }, 'cpu')).ms - before };
  }

  kill(): void {
    if (this.process_.exitCode === null) this.process_.kill('SIGKILL');
  }

  exited(): Promise<void> {
    if (this.process_.exitCode !== null) return Promise.resolve();
    return new Promise((done) => this.process_.once('exit', () => done()));
  }
}
