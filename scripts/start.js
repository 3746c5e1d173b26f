#!/usr/bin/env node
'use strict';
/**
 * `npm start`: try Switchboard with no tenant. Starts the bot (dist/index.js, which `npm start` builds
 * first) in local mode on the embedded demo tenant, plus two Microsoft 365 Agents Playgrounds: one
 * for the requester (Alex Wilber, an admin) and one for the approver (Megan Bowen), so that a change
 * that needs a second person (delete, unassign, license switch) can be approved on this machine.
 * Waits until everything answers, prints the two addresses, and stops everything on Ctrl-C / SIGTERM.
 *
 *   node scripts/start.js [--port 3978] [--requester-port 56150] [--approver-port 56151]
 *                         [--no-approver] [--data-dir data/playground]
 *
 * For the bot alone (e.g. behind Teams or a dev tunnel): npm run start:bot.
 */
const path = require('node:path');
const { parseArgs } = require('node:util');
const { APPROVER, DEFAULT_PORTS, REQUESTER, ROOT, startTryIt } = require('./playground');

const USAGE = `Usage: node scripts/start.js [options]

Starts Switchboard in local mode on the embedded demo tenant with two Microsoft 365 Agents
Playgrounds (requester and approver), all on 127.0.0.1.

  --port <n>            Switchboard's port (default ${DEFAULT_PORTS.bot})
  --requester-port <n>  the requester's Playground (default ${DEFAULT_PORTS.requester})
  --approver-port <n>   the approver's Playground (default ${DEFAULT_PORTS.approver})
  --no-approver         one Playground only, and no change needs approval (no four-eyes)
  --data-dir <dir>      simulated tenant, requests, audit log and logs (default data/playground);
                        delete it to start again from the demo tenant
  -h, --help            this text
`;

function port(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name} must be a port number (1-65535), not "${value}"`);
  return n;
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'requester-port': { type: 'string' },
      'approver-port': { type: 'string' },
      'no-approver': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const ports = {
    bot: values.port ? port(values.port, 'port') : DEFAULT_PORTS.bot,
    requester: values['requester-port'] ? port(values['requester-port'], 'requester-port') : DEFAULT_PORTS.requester,
    approver: values['approver-port'] ? port(values['approver-port'], 'approver-port') : DEFAULT_PORTS.approver,
  };
  const approver = !values['no-approver'];
  // Its own data directory: the simulated tenant file belongs to one tenant id, and the Playground's
  // is not the one a .env for a real tenant names (data/ is git-ignored).
  const dataDir = path.resolve(values['data-dir'] ?? path.join(ROOT, 'data', 'playground'));

  process.stdout.write('Starting Switchboard and the Agents Playground…\n');
  let stack;
  let stopping = false;
  const stop = async (why, code) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${why}: stopping…\n`);
    if (stack) await stack.stop();
    process.exit(code);
  };
  // Ctrl-C before everything is up still stops what was started (startTryIt cleans up after itself
  // on failure; here the exit handler of scripts/playground.js kills any child left).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(signal, 0));

  stack = await startTryIt({ ports, dataDir, approver });
  if (stopping) return;
  // A child that dies on its own takes the others down: half a setup only confuses.
  for (const child of stack.children) {
    child.once('exit', (code, signal) => void stop(`a process stopped unexpectedly (pid ${child.pid}, ${signal ?? `exit ${code}`}); see ${path.join(dataDir, 'logs')}`, 1));
  }

  const rel = (p) => path.relative(process.cwd(), p) || '.';
  const lines = [
    '',
    'Switchboard is running on the embedded demo tenant (local mode: no authentication, 127.0.0.1 only).',
    '',
    `  Requester: ${stack.requester.url}`,
    `     ${REQUESTER.name}, an admin: asks for changes. Type "help", "list", or "add".`,
  ];
  if (stack.approver) {
    lines.push(
      `  Approver:  ${stack.approver.url}`,
      `     ${APPROVER.name}, an approver: approves or rejects the changes that need a second person`,
      '     (by default: delete, unassign number, license switch). Approval cards wait in this chat',
      '     until the page is opened.',
    );
  } else {
    lines.push('', '  No approver (--no-approver): every change runs on Confirm, without four-eyes approval.');
  }
  lines.push(
    '',
    `  Bot endpoint: ${stack.bot.endpoint}`,
    `  Data and logs: ${rel(dataDir)} (delete it to start over from the demo tenant)`,
    '',
    'Press Ctrl-C to stop.',
    '',
  );
  process.stdout.write(lines.join('\n'));
}

main().catch((error) => {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? ' (see node scripts/start.js --help)' : '';
  process.stderr.write(`${message}${hint}\n`);
  // The exit handler of scripts/playground.js ends any child that is still running.
  process.exit(1);
});
