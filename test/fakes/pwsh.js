#!/usr/bin/env node
'use strict';
/*
 * A stand-in for `pwsh` in tests. Like the real script it reads ONE JSON request from stdin; it
 * refuses anything else, forwards exactly what it got (argv and the raw stdin) to the fake
 * Microsoft 365 server, which records it and answers like the MicrosoftTeams cmdlets, then prints
 * the result line the way the real script does (after some module noise, as pwsh would).
 */
const MARKER = '##SWITCHBOARD-RESULT##';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const url = process.env.FAKE_M365_URL;
  if (!url) {
    process.stderr.write('fake pwsh: FAKE_M365_URL is not set\n');
    return 3;
  }
  const stdin = await readStdin();
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
  const response = await fetch(`${url}/_fake/pwsh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ argv: process.argv.slice(2), stdin }),
  });
  const result = await response.json();
  process.stdout.write('WARNING: The names of some imported commands from the module MicrosoftTeams include unapproved verbs.\n');
  process.stdout.write(`${MARKER}${JSON.stringify(result)}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`fake pwsh: ${String(error)}\n`);
    process.exit(4);
  },
);
