'use strict';
/**
 * Runs Switchboard with the Microsoft 365 Agents Playground on this machine: the bot in local mode on
 * the embedded demo tenant, one Playground for the requester (an admin) and one for the approver, so
 * that four-eyes approvals can be tried without a Microsoft 365 tenant.
 *
 * Used by scripts/start.js (`npm start`) and by the end-to-end test (test/e2e/playground.test.ts), so
 * that both start the same things the same way. Facts about the Playground used here are in
 * shared/reference/playground.md (measured with @microsoft/m365agentsplayground 0.2.28).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BOT_ENTRY = path.join(ROOT, 'dist', 'index.js');
const PLAYGROUND_CLI = require.resolve('@microsoft/m365agentsplayground/cli.js', { paths: [ROOT] });
const LOOPBACK_PRELOAD = path.join(__dirname, 'loopback-only.js');
const HOST = '127.0.0.1';

/** The Playground's built-in tenant and bot; src/config.ts accepts this tenant in local mode. */
const PLAYGROUND_TENANT_ID = '00000000-0000-0000-0000-0000000000001';
const PLAYGROUND_BOT_ID = '00000000-0000-0000-0000-00000000000011';

/**
 * The Playground's built-in users. Their ids are not valid GUIDs (13 digits in the last group);
 * src/config.ts accepts them as ids (/^[0-9a-fA-F-]{8,64}$/). Alex Wilber is the Playground's default
 * user, whom local mode makes an admin; Megan Bowen is the approver here.
 */
const PEOPLE = [
  ['user-id-0', 'Alex Wilber', 'alexw', '20'],
  ['user-id-1', 'Megan Bowen', 'meganb', '21'],
  ['user-id-2', 'Adele Vance', 'adelev', '22'],
  ['user-id-3', 'Isaiah Langer', 'isaiahl', '23'],
  ['user-id-4', 'Patti Fernandez', 'pattif', '24'],
  ['user-id-5', 'Lynne Robbins', 'lynner', '25'],
].map(([id, name, alias, n]) => {
  const [givenName, surname] = name.split(' ');
  return {
    id,
    name,
    userPrincipleName: `${alias}@example.com`,
    aadObjectId: `00000000-0000-0000-0000-00000000000${n}`,
    givenName,
    surname,
    email: `${alias}@example.com`,
  };
});
const REQUESTER = PEOPLE[0];
const APPROVER = PEOPLE[1];

/** The default ports of `npm start`: the bot's usual port and the Playground's default and next. */
const DEFAULT_PORTS = { bot: 3978, requester: 56150, approver: 56151 };

// ---------------------------------------------------------------------------------------------
// Ports

/** Whether a port can be bound on loopback now (every server started here binds 127.0.0.1). */
function isPortFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * Fails with a plain message when the port is taken. The Playground itself would silently move to a
 * random port, and then its --service-url (the address the bot replies to) would point at nothing.
 */
async function assertPortFree(port, what) {
  if (!(await isPortFree(port))) {
    throw new Error(`Port ${port} (${what}) is already in use on ${HOST}. Stop whatever uses it, or choose another port (see node scripts/start.js --help).`);
  }
}

/** A port that is free now (the kernel's pick); the caller binds it right away. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** Every process group started here, so that an unexpected exit of this process still ends them. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child, signal) {
  try {
    // Negative pid: the whole process group (each child leads its own, see spawnLogged).
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Starts a process in its own process group with its output appended to a log file. Its own group:
 * Ctrl-C in a terminal then reaches only the parent, which stops the children in order (Playgrounds
 * first, then the bot, which finishes its turns and flushes its stores), and a stop kills any
 * grandchild too.
 */
function spawnLogged(args, { env, cwd, logFile, onLine }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let pending = '';
  const take = (chunk) => {
    fs.writeSync(log, chunk);
    if (!onLine) return;
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  child.once('exit', () => running.delete(child));
  // 'close' comes after the last output (stdout and stderr ended), unlike 'exit'.
  child.once('close', () => fs.closeSync(log));
  return child;
}

/** Stops a child's process group: SIGTERM, then SIGKILL if it has not exited after timeoutMs. */
async function stopChild(child, timeoutMs = 10_000) {
  if (!child || exited(child)) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
  await gone;
  clearTimeout(timer);
  // Whatever the leader left behind in its group. Once the leader is gone its number may be given to a
  // new process (Linux wraps at pid_max, 32768 by default), and one that leads its own group then
  // answers to -pid: PostgreSQL's backends do (each calls setsid). A group that still has members keeps
  // its number from being reused, so a live process under that number means the group is not ours.
  if (!alive(child.pid)) killGroup(child, 'SIGKILL');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function tail(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Thrown by a readiness check that knows waiting longer cannot help. */
class GiveUp extends Error {}

/**
 * Polls `check` until it returns a truthy value (a failed request just means "not yet"). Fails at
 * once when the child it waits for has exited, quoting the end of its log, or when the check throws
 * GiveUp, instead of waiting for the timeout.
 */
async function waitUntil(check, { what, timeoutMs, child, logFile, intervalMs = 150 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && exited(child)) {
      throw new Error(`${what} stopped before it was ready (exit ${child.exitCode ?? child.signalCode}). End of ${logFile}:\n${tail(logFile)}`);
    }
    const value = await check().catch((error) => {
      if (error instanceof GiveUp) throw error;
      return undefined;
    });
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${Math.round(timeoutMs / 1000)} s. End of ${logFile}:\n${tail(logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function getText(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, text: await response.text() };
}

// ---------------------------------------------------------------------------------------------
// The bot

/**
 * The environment of the bot for trying it out: local mode (no app id, so authentication is off and
 * it binds to loopback only) on the embedded demo tenant, accepting the Playground's tenant, with the
 * Playground's requester as admin and its approver as approver. These win over a .env file (the bot
 * loads .env without overriding what is set, even to an empty string), so that a .env written for a
 * real tenant does not get in the way.
 */
function botEnvironment({ port, dataDir, adminIds = [REQUESTER.aadObjectId], approverIds = [APPROVER.aadObjectId], extra = {} }) {
  return {
    MicrosoftAppId: '',
    MicrosoftAppPassword: '',
    MicrosoftAppTenantId: '',
    HOST,
    PORT: String(port),
    SWITCHBOARD_TENANT_ID: PLAYGROUND_TENANT_ID,
    SWITCHBOARD_ADMIN_IDS: adminIds.join(','),
    SWITCHBOARD_APPROVER_IDS: approverIds.join(','),
    SWITCHBOARD_BACKEND: 'simulated',
    SWITCHBOARD_DATA_DIR: dataDir,
    ...extra,
  };
}

/** Waits until GET /healthz answers 200 (the stores are open and the server listens). */
function waitForBot(url, options) {
  return waitUntil(async () => (await getText(`${url}/healthz`)).status === 200, { what: `Switchboard at ${url}`, ...options });
}

/** Starts dist/index.js (built by `tsc -p tsconfig.json`) and waits until it is healthy. */
async function startBot({ port, dataDir, logFile, approverIds, adminIds, extra, entry = BOT_ENTRY, timeoutMs = 60_000 }) {
  if (!fs.existsSync(entry)) throw new Error(`${path.relative(process.cwd(), entry)} is missing: build first (npm run build), or use npm start, which builds.`);
  await assertPortFree(port, 'Switchboard');
  fs.mkdirSync(dataDir, { recursive: true });
  const env = { ...process.env, ...botEnvironment({ port, dataDir, approverIds, adminIds, extra }) };
  // The cwd is the project root: that is where the bot looks for .env and where ./data is.
  // The same V8 limits as `npm run start:bot` (bench/results.md: they keep peak RSS under 200 MB).
  const child = spawnLogged(['--disable-warning=DEP0111', '--max-old-space-size=128', '--max-semi-space-size=2', entry], { env, cwd: ROOT, logFile });
  const url = `http://${HOST}:${port}`;
  try {
    await waitForBot(url, { child, logFile, timeoutMs });
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return { url, endpoint: `${url}/api/messages`, port, child, logFile, stop: () => stopChild(child) };
}

// ---------------------------------------------------------------------------------------------
// The Playground

/**
 * The Playground's configuration for one user: the Playground's tenant, this user as the current
 * user and the other five as the other users (its schema wants exactly five), and fixed chat ids.
 * A fixed personal chat id keeps the conversation the bot remembers valid after a restart.
 */
function playgroundConfig(role, user) {
  return {
    version: '0.1.1',
    tenantId: PLAYGROUND_TENANT_ID,
    bot: { id: PLAYGROUND_BOT_ID, name: 'Switchboard' },
    currentUser: user,
    users: PEOPLE.filter((p) => p.id !== user.id),
    personalChat: { id: `switchboard-${role}-personal-chat` },
    groupChat: { id: `switchboard-${role}-group-chat`, name: 'Group Chat' },
    team: { id: `switchboard-${role}-team`, name: 'My Team', aadGroupId: '00000000-0000-0000-0000-000000000031', channels: [] },
  };
}

/** Settings in the environment that would change the Playground behind our back. */
const PLAYGROUND_ENV_OVERRIDES = [
  'TEAMSAPPTESTER_PORT',
  'M365_AGENTS_PLAYGROUND_SERVICE_URL',
  'M365_AGENTS_PLAYGROUND_CONVERSATION_ID',
  'M365_AGENTS_PLAYGROUND_DELIVERY_MODE',
  'M365_AGENTS_PLAYGROUND_ENABLE_EVENTS_RECORDING',
  'M365_AGENTS_PLAYGROUND_TARGET_SDK',
  'TEAMS_APP_TEST_TOOL_CONFIG_PATH',
  'TEAMSAPPTESTER_LOGFILE',
];

/**
 * Starts one Playground process for one user (one identity per process: its UI cannot switch user),
 * talking to the bot at botEndpoint, with its mocked connector (where the bot replies) on its own
 * port. Telemetry is off and no desktop browser is opened. Ready when /_debug/ping answers pong on
 * the port asked for.
 */
async function startPlayground({ role, user, port, botEndpoint, workDir, logFile, timeoutMs = 60_000 }) {
  await assertPortFree(port, `Agents Playground (${role})`);
  fs.mkdirSync(workDir, { recursive: true });
  const configPath = path.join(workDir, `playground-${role}.yml`);
  // JSON is YAML: the Playground parses its config file with a YAML parser.
  fs.writeFileSync(configPath, `${JSON.stringify(playgroundConfig(role, user), null, 2)}\n`);
  const env = { ...process.env };
  for (const name of PLAYGROUND_ENV_OVERRIDES) delete env[name];
  Object.assign(env, {
    TEAMSAPPTESTER_BROWSER: 'none',
    M365_AGENTS_PLAYGROUND_CONFIG_PATH: configPath,
    // Its own log; by default it writes ./devTools/m365agentsplayground.log in its working directory.
    M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
  });
  const serviceUrl = `http://${HOST}:${port}/_connector`;
  let listeningOn;
  const args = ['-r', LOOPBACK_PRELOAD, PLAYGROUND_CLI, '-e', botEndpoint, '-c', 'msteams', '-p', String(port), '--service-url', serviceUrl, '--disable-telemetry'];
  const child = spawnLogged(args, {
    env,
    // Anything else it writes relative to its working directory stays in workDir.
    cwd: workDir,
    // Its stdout and stderr go to the same file as its own log (both append).
    logFile,
    onLine: (line) => {
      const match = /^Listening on (\d+)/.exec(line);
      if (match) listeningOn = Number(match[1]);
    },
  });
  const url = `http://${HOST}:${port}/`;
  try {
    await waitUntil(
      async () => {
        // It moves to a random port when its port was taken meanwhile: then the service URL is wrong.
        if (listeningOn !== undefined && listeningOn !== port) {
          throw new GiveUp(`Agents Playground (${role}) found port ${port} taken and moved to ${listeningOn}, where its service URL would be wrong. Choose another port.`);
        }
        return listeningOn === port && (await getText(`${url}_debug/ping`)).text.trim() === 'pong';
      },
      { what: `Agents Playground (${role}) at ${url}`, child, logFile, timeoutMs },
    );
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  const chatId = playgroundConfig(role, user).personalChat.id;
  return { role, user, url, port, serviceUrl, chatId, child, logFile, configPath, stop: () => stopChild(child) };
}

/**
 * "Installs" the bot for the Playground's user now, the way its page does when it is opened: the
 * Playground's own POST /_debug/conversation/<chat>/installation sends installationUpdate and
 * conversationUpdate (membersAdded) to the bot. The bot can only send an approval card to an
 * approver whose personal chat it has seen; without this, a request made before the approver's page
 * was first opened would reach nobody. The bot's answer (its help card) waits in that chat until the
 * page is opened. The Playground answers at once and sends the activities in the background.
 */
async function installFor(playground) {
  const response = await fetch(`${playground.url}_debug/conversation/${encodeURIComponent(playground.chatId)}/installation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`Agents Playground (${playground.role}) refused to install the bot in its chat: HTTP ${response.status}`);
}

// ---------------------------------------------------------------------------------------------
// Everything together

/**
 * Starts the bot, then the requester's Playground and (unless approver is false) the approver's.
 * All ports are checked first, so that nothing is left half-started by a busy port. Without the
 * approver, no change needs approval (SWITCHBOARD_APPROVAL_OPERATIONS=none).
 */
async function startTryIt({ ports = DEFAULT_PORTS, dataDir, approver = true, botEntry, timeoutMs } = {}) {
  const logDir = path.join(dataDir, 'logs');
  const wanted = [['Switchboard', ports.bot], ['Agents Playground (requester)', ports.requester], ...(approver ? [['Agents Playground (approver)', ports.approver]] : [])];
  const seen = new Set();
  for (const [what, port] of wanted) {
    if (seen.has(port)) throw new Error(`Port ${port} is given twice: each process needs its own port.`);
    seen.add(port);
    await assertPortFree(port, what);
  }
  const bot = await startBot({
    port: ports.bot,
    dataDir,
    logFile: path.join(logDir, 'switchboard.log'),
    approverIds: approver ? [APPROVER.aadObjectId] : [],
    // With nobody to approve, a change that needs approval could never run: one person does it all.
    ...(approver ? {} : { extra: { SWITCHBOARD_APPROVAL_OPERATIONS: 'none' } }),
    ...(botEntry ? { entry: botEntry } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  const playgrounds = [];
  const stop = async () => {
    // The Playgrounds first (nothing new reaches the bot), then the bot finishes its turns and flushes.
    await Promise.all(playgrounds.map((p) => p.stop()));
    await bot.stop();
  };
  try {
    const roles = [['requester', REQUESTER, ports.requester], ...(approver ? [['approver', APPROVER, ports.approver]] : [])];
    const started = await Promise.allSettled(
      roles.map(([role, user, port]) =>
        startPlayground({ role, user, port, botEndpoint: bot.endpoint, workDir: dataDir, logFile: path.join(logDir, `playground-${role}.log`), ...(timeoutMs ? { timeoutMs } : {}) }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') playgrounds.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const approverPlayground = playgrounds.find((p) => p.role === 'approver');
    if (approverPlayground) await installFor(approverPlayground);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    bot,
    requester: playgrounds.find((p) => p.role === 'requester'),
    approver: playgrounds.find((p) => p.role === 'approver'),
    children: [bot.child, ...playgrounds.map((p) => p.child)],
    stop,
  };
}

module.exports = {
  ROOT,
  HOST,
  PLAYGROUND_TENANT_ID,
  PLAYGROUND_BOT_ID,
  PEOPLE,
  REQUESTER,
  APPROVER,
  DEFAULT_PORTS,
  isPortFree,
  assertPortFree,
  freePort,
  botEnvironment,
  waitForBot,
  startBot,
  playgroundConfig,
  startPlayground,
  installFor,
  startTryIt,
  stopChild,
  waitUntil,
};
