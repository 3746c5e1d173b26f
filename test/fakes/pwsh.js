#!/usr/bin/env node
'use strict';
/*
 * A stand-in for `pwsh` in tests and in the benchmark. It reads the script it is given
 * (-EncodedCommand) and behaves like it:
 *
 * - the one-shot SCRIPT: ONE JSON request on stdin → import → connect → run → one result line;
 * - the WORKER_SCRIPT (warm pool): import once, print the ready line (id 0), then one JSON request
 *   per stdin line — `connect` (tokens) and `run` (a cmdlet) — one reply line each, until stdin ends.
 *
 * Like the real scripts it refuses a cmdlet or a parameter that is not in the allow-list embedded in
 * the script it was handed, before anything reaches the tenant. Cmdlets are forwarded (argv, the raw
 * request line, the tokens of the session) to the fake Microsoft 365 server, which records them and
 * answers like the MicrosoftTeams cmdlets; it may also tell this process to die or hang (faults).
 *
 * What a real pwsh costs is modelled by sleeping, in ms, from the environment:
 *   FAKE_PWSH_START_MS    process start (before anything else)
 *   FAKE_PWSH_IMPORT_MS   Import-Module MicrosoftTeams
 *   FAKE_PWSH_CONNECT_MS  Connect-MicrosoftTeams
 *   FAKE_PWSH_CMDLET_MS   each cmdlet
 *   FAKE_PWSH_LEAK_MB     working set growth per request (to exercise the pool's memory budget)
 */
const readline = require('node:readline');

const MARKER = '##SWITCHBOARD-RESULT##';
const sleep = (ms) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());
const cost = (name) => Number(process.env[`FAKE_PWSH_${name}_MS`] ?? 0) || 0;
const url = process.env.FAKE_M365_URL;

function scriptOf(argv) {
  const at = argv.indexOf('-EncodedCommand');
  return at >= 0 && argv[at + 1] ? Buffer.from(argv[at + 1], 'base64').toString('utf16le') : '';
}

/** The allow-list the script carries: `$allowList = ConvertFrom-Json -AsHashtable -InputObject '…'`. */
function allowListOf(script) {
  const match = /\$allowList = ConvertFrom-Json -AsHashtable -InputObject '((?:[^']|'')*)'/.exec(script);
  return match ? JSON.parse(match[1].replaceAll("''", "'")) : {};
}

const failure = (id, message, category = 'InvalidArgument') => ({
  fullyQualifiedErrorId: id,
  message,
  category,
});

/** The script's Get-Allowed: the same refusals, in the same words. */
function refusal(allowList, request) {
  const spec = Object.hasOwn(allowList, String(request.cmdlet)) ? allowList[String(request.cmdlet)] : undefined;
  if (!spec) return failure('System.ArgumentException', 'cmdlet not in the allow-list');
  if (!request.parameters || typeof request.parameters !== 'object' || Array.isArray(request.parameters)) {
    return failure('System.ArgumentException', 'parameters must be an object');
  }
  for (const key of Object.keys(request.parameters)) {
    if (!spec.parameters.includes(key)) return failure('System.ArgumentException', 'parameter not in the allow-list');
  }
  return undefined;
}

async function post(path, body) {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.json();
}

let served = 0;
const memoryBytes = () => process.memoryUsage().rss + served * (Number(process.env.FAKE_PWSH_LEAK_MB ?? 0) || 0) * 1_048_576;
const print = (line) => process.stdout.write(`${line}\n`);

/** Runs one cmdlet through the server; obeys a fault it is told to play. */
async function cmdlet(argv, mode, line, tokens) {
  await sleep(cost('CMDLET'));
  const answer = await post('/_fake/pwsh', { argv, stdin: line, mode, pid: process.pid, ...tokens });
  if (answer.fault === 'crash') process.exit(137);
  if (answer.fault === 'hang') await new Promise(() => undefined);
  return answer;
}

async function oneShot(argv, allowList) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const stdin = Buffer.concat(chunks).toString('utf8');
  let request;
  try {
    request = JSON.parse(stdin);
  } catch {
    process.stderr.write('fake pwsh: stdin is not JSON\n');
    return 2;
  }
  if (!request || typeof request.cmdlet !== 'string' || typeof request.parameters !== 'object' || request.parameters === null) {
    process.stderr.write('fake pwsh: stdin lacks cmdlet and parameters\n');
    return 2;
  }
  const refused = refusal(allowList, request);
  if (refused) {
    await post('/_fake/pwsh/refused', { pid: process.pid, stdin });
    print(`${MARKER}${JSON.stringify({ ok: false, error: refused })}`);
    return 1;
  }
  await sleep(cost('IMPORT'));
  await sleep(cost('CONNECT'));
  await post('/_fake/pwsh/connect', { pid: process.pid, graphToken: request.graphToken, teamsToken: request.teamsToken });
  const answer = await cmdlet(argv, 'oneshot', stdin, {});
  print('WARNING: The names of some imported commands from the module MicrosoftTeams include unapproved verbs.');
  print(`${MARKER}${JSON.stringify(answer.result)}`);
  return answer.result.ok ? 0 : 1;
}

async function worker(argv, allowList) {
  await sleep(cost('IMPORT'));
  const reply = (id, result) => print(`${MARKER}${JSON.stringify({ ...result, id, memoryBytes: memoryBytes() })}`);
  print('WARNING: The names of some imported commands from the module MicrosoftTeams include unapproved verbs.');
  reply(0, { ok: true, output: [] });
  let tokens;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      reply(0, { ok: false, error: failure('System.ArgumentException', 'request is not JSON') });
      continue;
    }
    const id = Number(request.id) || 0;
    if (request.type === 'connect') {
      await sleep(cost('CONNECT'));
      const connected = await post('/_fake/pwsh/connect', { pid: process.pid, graphToken: request.graphToken, teamsToken: request.teamsToken });
      if (connected.ok) tokens = { graphToken: request.graphToken, teamsToken: request.teamsToken };
      reply(id, connected.ok ? { ok: true, output: [] } : { ok: false, error: failure('Connect-MicrosoftTeams', connected.message, 'AuthenticationError') });
    } else if (request.type === 'run') {
      const refused = refusal(allowList, request);
      if (refused) {
        await post('/_fake/pwsh/refused', { pid: process.pid, stdin: line });
        reply(id, { ok: false, error: refused });
      } else if (!tokens) {
        reply(id, { ok: false, error: failure('System.InvalidOperationException', 'not connected', 'InvalidOperation') });
      } else {
        const answer = await cmdlet(argv, 'warm', line, tokens);
        served += 1;
        if (answer.fault === 'out-of-turn') reply(id + 1000, answer.result);
        else reply(id, answer.result);
      }
    } else {
      reply(id, { ok: false, error: failure('System.ArgumentException', 'unknown request type') });
    }
  }
  return 0;
}

async function main() {
  if (!url) {
    process.stderr.write('fake pwsh: FAKE_M365_URL is not set\n');
    return 3;
  }
  await sleep(cost('START'));
  const argv = process.argv.slice(2);
  const script = scriptOf(argv);
  const warm = script.includes('[Console]::In.ReadLine()');
  // Recorded so that tests can check what the process was given (argv, environment): never a token.
  await post('/_fake/pwsh/start', { pid: process.pid, argv, env: process.env, mode: warm ? 'warm' : 'oneshot' }).catch(() => undefined);
  return warm ? worker(argv, allowListOf(script)) : oneShot(argv, allowListOf(script));
}

/** Exits once stdout is flushed: a big listing written to a pipe would otherwise be cut short. */
const exitWhenFlushed = (code) => process.stdout.write('', () => process.exit(code));

main().then(
  (code) => exitWhenFlushed(code),
  (error) => {
    process.stderr.write(`fake pwsh: ${String(error)}\n`);
    process.exit(4);
  },
);
