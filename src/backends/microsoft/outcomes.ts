import { PowerShellOutcomeUnknownError } from './powershell/errors';

/**
 * A Teams write whose worker died, hung or lost its answer (PowerShellOutcomeUnknownError) is never
 * sent again: the pool refuses to. The tenant is read instead, and the write counts as done only when
 * the tenant shows exactly what was asked for; otherwise the caller gets the "outcome unknown" error
 * (a plan parks with Retry, and its step reads the tenant again before acting: steps.ts).
 */
export async function writeOrReread<T>(write: () => Promise<T>, reread: () => Promise<T | null>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (!(e instanceof PowerShellOutcomeUnknownError)) throw e;
    const seen = await reread().catch(() => null);
    if (seen === null) throw e;
    return seen;
  }
}
