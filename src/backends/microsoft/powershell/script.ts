import { allowListForScript } from './allowList';

/**
 * The scripts pwsh ever runs. Both are constants: built once from the allow-list (our own cmdlet and
 * parameter names) and passed as -EncodedCommand, which sidesteps command-line quoting on every
 * platform. Requests (cmdlet name, parameter values, tokens) arrive as JSON on stdin, are checked
 * against the allow-list again, and are splatted; no request value is ever parsed as PowerShell.
 *
 * - SCRIPT (one-shot, runner.ts): one request on stdin, import, connect, run, one result line, exit.
 * - WORKER_SCRIPT (warm pool, pool.ts): import once, then one JSON request per line, one at a time:
 *   `connect` (tokens; again whenever they rotate) and `run` (one allow-listed cmdlet). It ends when
 *   stdin closes.
 */

/** Prefix of the lines of stdout that carry a result; modules may print other lines. */
export const RESULT_MARKER = '##SWITCHBOARD-RESULT##';

const quote = (value: string): string => `'${value.replaceAll("'", "''")}'`;

const PREAMBLE = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  "$WarningPreference = 'SilentlyContinue'",
  "$InformationPreference = 'SilentlyContinue'",
  '[Console]::InputEncoding = [System.Text.UTF8Encoding]::new($false)',
  `$marker = ${quote(RESULT_MARKER)}`,
  `$allowList = ConvertFrom-Json -AsHashtable -InputObject ${quote(JSON.stringify(allowListForScript()))}`,
  'function Out-Result([hashtable] $result) {',
  '  $json = ConvertTo-Json -InputObject $result -Depth 8 -Compress -EnumsAsStrings -EscapeHandling EscapeNonAscii',
  '  [Console]::Out.WriteLine($marker + $json)',
  '  [Console]::Out.Flush()',
  '}',
  'function Get-Failure($record) {',
  '  @{ fullyQualifiedErrorId = [string] $record.FullyQualifiedErrorId; message = [string] $record.Exception.Message; category = [string] $record.CategoryInfo.Category }',
  '}',
  // The same checks as allowList.ts makes before a request is written: a name or a parameter that is
  // not ours stops here too, whoever wrote the request.
  'function Get-Allowed($request) {',
  "  $name = [string] $request['cmdlet']",
  "  if (-not $allowList.ContainsKey($name)) { throw [System.ArgumentException]::new('cmdlet not in the allow-list') }",
  '  $spec = $allowList[$name]',
  '  $parameters = @{}',
  "  $given = $request['parameters']",
  "  if ($given -isnot [System.Collections.IDictionary]) { throw [System.ArgumentException]::new('parameters must be an object') }",
  '  foreach ($key in @($given.Keys)) {',
  "    if ($spec['parameters'] -cnotcontains $key) { throw [System.ArgumentException]::new('parameter not in the allow-list') }",
  '    $parameters[$key] = $given[$key]',
  '  }',
  "  return @{ name = $name; parameters = $parameters; select = $spec['select'] }",
  '}',
  'function Invoke-Allowed([hashtable] $call) {',
  "  $name = $call['name']",
  "  $parameters = $call['parameters']",
  '  $output = @(& $name @parameters -ErrorAction Stop)',
  "  return ,@($output | Select-Object -Property $call['select'])",
  '}',
];

export const SCRIPT = [
  ...PREAMBLE,
  'try {',
  '  $request = ConvertFrom-Json -AsHashtable -InputObject ([Console]::In.ReadToEnd())',
  '  $call = Get-Allowed $request',
  '  Import-Module MicrosoftTeams -ErrorAction Stop',
  "  $null = Connect-MicrosoftTeams -AccessTokens @([string] $request['graphToken'], [string] $request['teamsToken']) -ErrorAction Stop",
  '  $projected = Invoke-Allowed $call',
  '  Out-Result @{ ok = $true; output = $projected }',
  '} catch {',
  '  Out-Result @{ ok = $false; error = (Get-Failure $_) }',
  '  exit 1',
  '}',
].join('\n');

/**
 * The warm worker. Every reply carries the request's id and the process's working set, so the pool
 * can match answers to requests and retire a worker that grows past its memory budget. The first
 * line (id 0) says the module is imported, or why it is not.
 */
export const WORKER_SCRIPT = [
  ...PREAMBLE,
  'function Out-Reply([long] $id, [hashtable] $result) {',
  "  $result['id'] = $id",
  "  $result['memoryBytes'] = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64",
  '  Out-Result $result',
  '}',
  'try {',
  '  Import-Module MicrosoftTeams -ErrorAction Stop',
  '} catch {',
  '  Out-Reply 0 @{ ok = $false; error = (Get-Failure $_) }',
  '  exit 1',
  '}',
  'Out-Reply 0 @{ ok = $true; output = @() }',
  '$connected = $false',
  'while ($true) {',
  '  $line = [Console]::In.ReadLine()',
  '  if ($null -eq $line) { break }',
  '  $id = 0',
  '  try {',
  '    $request = ConvertFrom-Json -AsHashtable -InputObject $line',
  "    $id = [long] $request['id']",
  "    $type = [string] $request['type']",
  "    if ($type -ceq 'connect') {",
  // A new pair of tokens replaces the session; the old one would expire with its tokens.
  '      if ($connected) { $null = Disconnect-MicrosoftTeams -ErrorAction SilentlyContinue; $connected = $false }',
  "      $null = Connect-MicrosoftTeams -AccessTokens @([string] $request['graphToken'], [string] $request['teamsToken']) -ErrorAction Stop",
  '      $connected = $true',
  '      Out-Reply $id @{ ok = $true; output = @() }',
  "    } elseif ($type -ceq 'run') {",
  '      $call = Get-Allowed $request',
  "      if (-not $connected) { throw [System.InvalidOperationException]::new('not connected') }",
  '      $projected = Invoke-Allowed $call',
  '      Out-Reply $id @{ ok = $true; output = $projected }',
  '    } else {',
  "      throw [System.ArgumentException]::new('unknown request type')",
  '    }',
  '  } catch {',
  '    Out-Reply $id @{ ok = $false; error = (Get-Failure $_) }',
  '  } finally {',
  // The tokens of a connect request are not kept in a variable longer than the request.
  '    $request = $null',
  '    $line = $null',
  '  }',
  '}',
].join('\n');

const encode = (script: string): string => Buffer.from(script, 'utf16le').toString('base64');

/** pwsh's arguments: the same for every call (the fake pwsh in test/fakes checks exactly this). */
export const PWSH_ARGS: readonly string[] = ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', encode(SCRIPT)];

/** A warm worker's arguments: the same for every worker. */
export const WORKER_ARGS: readonly string[] = ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', encode(WORKER_SCRIPT)];
