import { z } from 'zod';

/** Graph's error body (teams-apis.md §1.9): code first, then inner codes and details. */
export const GraphErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string().default(''),
    innerError: z.looseObject({ code: z.string().optional(), 'request-id': z.string().optional() }).optional(),
    details: z
      .array(z.object({ code: z.string().optional(), target: z.string().optional(), message: z.string().optional() }))
      .optional(),
  }),
});

/** A Graph answer that is neither success nor retried: the caller maps it to a refusal or lets it fault. */
export class GraphError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly code: string,
    readonly graphMessage: string,
    /** details[].code and innerError.code, e.g. ObjectConflict (teams-apis.md §1.1). */
    readonly innerCodes: string[],
    readonly requestId?: string,
  ) {
    super(`Graph ${method} ${path} answered ${status} ${code}: ${graphMessage}`);
    this.name = 'GraphError';
  }

  static fromBody(method: string, path: string, status: number, body: unknown): GraphError {
    const parsed = GraphErrorBodySchema.safeParse(body);
    if (!parsed.success) return new GraphError(method, path, status, `HTTP${status}`, 'no Graph error body', []);
    const { code, message, innerError, details } = parsed.data.error;
    const innerCodes = [
      ...(details ?? []).flatMap((d) => (d.code ? [d.code] : [])),
      ...(innerError?.code ? [innerError.code] : []),
    ];
    return new GraphError(method, path, status, code, message, innerCodes, innerError?.['request-id']);
  }

  has(code: string): boolean {
    return this.code === code || this.innerCodes.includes(code);
  }
}

/** Throttled or unavailable (429/503/504) for longer than we keep an admin waiting (teams-apis.md §1.9). */
export class GraphThrottledError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly attempts: number,
    readonly retryAfterMs: number | null,
  ) {
    super(
      `Graph ${method} ${path} still answers ${status} after ${attempts} attempt(s)` +
        (retryAfterMs === null ? '' : `; it asks to wait ${Math.ceil(retryAfterMs / 1000)} s more`),
    );
    this.name = 'GraphThrottledError';
  }
}

/** An idempotent call that got no answer in time, even after retries: a fault worth retrying later. */
export class GraphTimeoutError extends Error {
  readonly retryable = true;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly attempts: number,
    readonly timeoutMs: number,
  ) {
    super(`Graph ${method} ${path} did not answer within ${Math.round(timeoutMs / 1000)} s (${attempts} attempt(s))`);
    this.name = 'GraphTimeoutError';
  }
}

/**
 * A POST whose outcome is unknown: Graph answered 504, our own timeout fired or the connection broke
 * after the request went out. The tenant may have accepted it, so it is not repeated blindly; the
 * caller looks at the tenant's state first (telephony.ts).
 */
export class GraphOutcomeUnknownError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly why: string,
    detail: string,
  ) {
    super(`Graph ${method} ${path}: no usable answer (${why}${detail ? `: ${detail}` : ''}); it may have been applied`);
    this.name = 'GraphOutcomeUnknownError';
  }
}
