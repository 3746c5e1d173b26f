/** A cmdlet failed: FullyQualifiedErrorId (e.g. "BadRequest,Microsoft.Teams…"), message and category. */
export class PowerShellError extends Error {
  constructor(
    readonly cmdlet: string,
    readonly errorId: string,
    readonly psMessage: string,
    readonly category: string,
  ) {
    super(`PowerShell ${cmdlet} failed (${errorId || 'no error id'}): ${psMessage}`);
    this.name = 'PowerShellError';
  }

  /** The leading part of FullyQualifiedErrorId: BadRequest, NotFound, Forbidden… (teams-apis.md §5.3). */
  get kind(): string {
    return this.errorId.split(',')[0]?.trim() ?? '';
  }

  get accessDenied(): boolean {
    return this.kind === 'Forbidden' || this.category === 'PermissionDenied' || /access denied|forbidden/i.test(this.psMessage);
  }

  get moduleMissing(): boolean {
    return /MicrosoftTeams/.test(this.psMessage) && /not loaded|no valid module file|not found in any module directory/i.test(this.psMessage);
  }
}

/** Every pwsh slot is taken and the waiting line is full: refused at once rather than piled up. */
export class PowerShellBusyError extends Error {
  constructor(
    readonly cmdlet: string,
    readonly concurrency: number,
    readonly queued: number,
  ) {
    super(
      `Teams PowerShell is busy: ${concurrency} pwsh process(es) running and ${queued} call(s) waiting, so ${cmdlet} was not started ` +
        '(SWITCHBOARD_PWSH_CONCURRENCY, SWITCHBOARD_PWSH_QUEUE); try again in a moment',
    );
    this.name = 'PowerShellBusyError';
  }
}

/** pwsh itself cannot be started. */
export class PowerShellUnavailableError extends Error {
  constructor(
    readonly pwshPath: string,
    readonly code: string,
  ) {
    super(
      `cannot start PowerShell at "${pwshPath}" (${code}): install PowerShell 7 and the MicrosoftTeams module ` +
        '(Install-Module MicrosoftTeams), or set SWITCHBOARD_PWSH_PATH',
    );
    this.name = 'PowerShellUnavailableError';
  }
}

/**
 * What an admin must do when Teams PowerShell answers "Access Denied" (DOMAIN.md F12). Microsoft's page
 * "Application-based authentication in Teams PowerShell Module" (learn.microsoft.com/microsoftteams/
 * teams-powershell-application-authentication; MicrosoftDocs/OfficeDocs-SkypeForBusiness
 * Teams/teams-powershell-application-authentication.md) says, in the newest copy read: "All cmdlets are
 * supported now, except for the cmdlets mentioned below", and lists "[Get|Set|New|Sync]-CsOnlineApplicationInstance".
 * Without Get- the backend cannot tell a resource account from a user, without New- it cannot create one,
 * without Set- it cannot rename or retype one: an app-only mode would not be a smaller Switchboard but a
 * broken one, so it is refused at start-up (docs/microsoft-backend.md §4 says what would change that).
 */
export const WHAT_ACCESS_NEEDS =
  'Microsoft\'s "Application-based authentication in Teams PowerShell Module" page lists [Get|Set|New|Sync]-CsOnlineApplicationInstance ' +
  'among the cmdlets app-only sessions cannot run ("Access Denied"), and Switchboard needs Get-, New- and Set-. ' +
  'Use SWITCHBOARD_M365_AUTH_MODE=delegated and sign in with a service account that holds User Administrator ' +
  'and a Teams admin role (Teams Telephony, Teams Communications or Teams Administrator).';

/**
 * A write cmdlet was handed to a worker that then died, hung or answered out of turn: Teams may or may
 * not have carried it out. It is never sent again on that account (pool.ts); the backend reads the
 * tenant to find out, and says "outcome unknown" when the tenant does not tell yet.
 */
export class PowerShellOutcomeUnknownError extends Error {
  /** Read by the plan runner's fault summary (runner.ts): the admin sees this code, not our text. */
  readonly code = 'OUTCOME_UNKNOWN';
  readonly retryable = true;

  constructor(
    readonly cmdlet: string,
    readonly why: string,
  ) {
    super(`PowerShell ${cmdlet}: the worker running it ${why}, so whether Teams applied it is unknown; it was not sent again`);
    this.name = 'PowerShellOutcomeUnknownError';
  }
}

/** A read cmdlet got no answer in time (its worker was killed and replaced). */
export class PowerShellTimeoutError extends Error {
  readonly code = 'TIMEOUT';
  readonly retryable = true;

  constructor(
    readonly cmdlet: string,
    readonly timeoutMs: number,
  ) {
    super(`PowerShell ${cmdlet} did not finish within ${timeoutMs / 1000} s; its worker was stopped and replaced`);
    this.name = 'PowerShellTimeoutError';
  }
}

/** A worker died, twice for a read or once before it was handed the request, and could not run it. */
export class PowerShellWorkerError extends Error {
  readonly code = 'PWSH_WORKER_LOST';
  readonly retryable = true;

  constructor(
    readonly cmdlet: string,
    readonly why: string,
  ) {
    super(`PowerShell ${cmdlet}: its worker ${why}`);
    this.name = 'PowerShellWorkerError';
  }
}
