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
