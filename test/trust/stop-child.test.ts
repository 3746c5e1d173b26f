import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * `npm start` stops what it started by process group (scripts/playground.js stopChild): SIGTERM to the
 * group, then, once the leader is gone, SIGKILL to whatever it left in its group. Linux hands a freed
 * pid out again (pid_max is 32768 by default, and a CI run wraps it), and a process that leads its own
 * group then answers to the old -pid: PostgreSQL's backends do (setsid), and a CI run lost one
 * connection that way ("terminating connection due to administrator command"). Writing
 * /proc/sys/kernel/ns_last_pid picks the next pid (root only, as in CI), which makes that reuse happen.
 */
const { stopChild } = require('../../scripts/playground.js') as { stopChild(child: ChildProcess, timeoutMs?: number): Promise<void> };

const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid';

function canPickPids(): boolean {
  try {
    writeFileSync(NS_LAST_PID, readFileSync(NS_LAST_PID, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/** Running (a zombie is not: one whose parent died waits here for a pid 1 that may never reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

(canPickPids() ? describe : describe.skip)('stopping a process group (scripts/playground.js)', () => {
  it('kills what the leader left in its group', async () => {
    // The leftover ignores SIGTERM (an ignored signal stays ignored across exec): only the SIGKILL ends it.
    const leader = spawn('bash', ['-c', `(trap '' TERM; exec sleep 60) & echo $!; exec sleep 60`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(leader);
    const leftover = Number(await new Promise<string>((resolve) => leader.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))));
    expect(alive(leftover)).toBe(true);

    await stopChild(leader);
    await delay(100);
    expect(alive(leftover)).toBe(false);
  });

  it('does not signal a process that took the leader\'s pid and leads a group of its own', async () => {
    const leader = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    started.push(leader);
    const pid = leader.pid!;
    let newcomer: ChildProcess | undefined;
    // Runs when the leader has been reaped, before stopChild goes on: the next process gets its pid.
    leader.once('exit', () => {
      writeFileSync(NS_LAST_PID, String(pid - 1));
      newcomer = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
      started.push(newcomer);
    });

    await stopChild(leader);
    await delay(100);
    // Another process may have taken the pid first; then the race did not happen and says so.
    expect(newcomer?.pid).toBe(pid);
    expect(newcomer!.signalCode).toBeNull();
    expect(alive(pid)).toBe(true);
  });
});
