/**
 * A store could not make a change durable (disk full, permissions, database down). Nothing that
 * depended on the change was acknowledged: the caller says so and the store's memory is back to what
 * is on disk (ARCHITECTURE.md "Acknowledged = durable"). One exception, said by `outcomeUnknown`: a
 * database commit whose answer was lost, and whose fate the server could not tell in time, may have
 * been written.
 */
export class StoreUnavailableError extends Error {
  /** The system error code when there is one (ENOSPC, EACCES, EROFS…), for the card and the log. */
  readonly code: string;
  /**
   * The change may have been written: the database's answer to its commit was lost, and whether it
   * committed could not be learnt in time. Whoever reports it must not say that nothing was done.
   */
  readonly outcomeUnknown: boolean;

  constructor(what: string, cause: unknown, options: { outcomeUnknown?: boolean } = {}) {
    const code = codeOf(cause);
    super(options.outcomeUnknown ? `${what}: the answer to the commit was lost, so whether the change was written is not known (${code})` : `${what}: the change could not be written (${code})`, {
      cause,
    });
    this.name = 'StoreUnavailableError';
    this.code = code;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

function codeOf(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return error instanceof Error ? error.name : 'unknown error';
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}
