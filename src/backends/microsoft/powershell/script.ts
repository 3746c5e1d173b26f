import { allowListForScript } from './allowList';

/**
 * The one script pwsh ever runs. It is a constant: built once from the allow-list (our own cmdlet and
 * parameter names) and passed as -EncodedCommand, which sidesteps command-line quoting on every
 * platform. The request (cmdlet name, parameter values, tokens) arrives as JSON on stdin, is checked
 * against the allow-list again, and is splatted; no request value is ever parsed as PowerShell.
 */

/** Prefix of the one line of stdout that carries the result; modules may print other lines. */
export const RESULT_MARKER = '##SWITCHBOARD-RESULT##';

const quote = (value: string): string => `'${value.replaceAll("'", "''")}'`;

export const SCRIPT = [
  "$ErrorActionPreference = 'Stop'",
  "$ProgressPreference = 'SilentlyContinue'",
  "$WarningPreference = 'SilentlyContinue'",
  "$InformationPreference = 'SilentlyContinue'",
  '[Console]::InputEncoding = [System.Text.UTF8Encoding]::new($false)',
  `$marker = ${quote(RESULT_MARKER)}`,
  'function Out-Result([hashtable] $result) {',
  '  $json = ConvertTo-Json -InputObject $result -Depth 8 -Compress -EnumsAsStrings -EscapeHandling EscapeNonAscii',
  '  [Console]::Out.WriteLine($marker + $json)',
  '}',
  'try {',
  `  $allowList = ConvertFrom-Json -AsHashtable -InputObject ${quote(JSON.stringify(allowListForScript()))}`,
  '  $request = ConvertFrom-Json -AsHashtable -InputObject ([Console]::In.ReadToEnd())',
  "  $name = [string] $request['cmdlet']",
  "  if (-not $allowList.ContainsKey($name)) { throw [System.ArgumentException]::new('cmdlet not in the allow-list') }",
  '  $spec = $allowList[$name]',
  '  $parameters = @{}',
  "  foreach ($key in @($request['parameters'].Keys)) {",
  "    if ($spec['parameters'] -notcontains $key) { throw [System.ArgumentException]::new('parameter not in the allow-list') }",
  "    $parameters[$key] = $request['parameters'][$key]",
  '  }',
  '  Import-Module MicrosoftTeams -ErrorAction Stop',
  "  $null = Connect-MicrosoftTeams -AccessTokens @([string] $request['graphToken'], [string] $request['teamsToken']) -ErrorAction Stop",
  '  $output = @(& $name @parameters -ErrorAction Stop)',
  "  $projected = @($output | Select-Object -Property $spec['select'])",
  '  Out-Result @{ ok = $true; output = $projected }',
  '} catch {',
  '  $id = [string] $_.FullyQualifiedErrorId',
  '  $category = [string] $_.CategoryInfo.Category',
  '  Out-Result @{ ok = $false; error = @{ fullyQualifiedErrorId = $id; message = [string] $_.Exception.Message; category = $category } }',
  '  exit 1',
  '}',
].join('\n');

/** pwsh's arguments: the same for every call (the fake pwsh in test/fakes checks exactly this). */
export const PWSH_ARGS: readonly string[] = [
  '-NoLogo',
  '-NoProfile',
  '-NonInteractive',
  '-EncodedCommand',
  Buffer.from(SCRIPT, 'utf16le').toString('base64'),
];
