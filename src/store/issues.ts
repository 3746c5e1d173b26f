/** What the stores read of a failed zod parse (z.ZodError has these). */
export interface ParseIssues {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

/**
 * zod's issues on one line, `path: message; …`: a quarantine reason is one line of a JSONL file, and
 * a log field is read on one line too. `max` keeps the first issues only; `whole` names an issue
 * about the record itself (an empty path).
 */
export function issuesOnOneLine(error: ParseIssues, options: { max?: number; whole?: string } = {}): string {
  const issues = options.max === undefined ? error.issues : error.issues.slice(0, options.max);
  return issues.map((i) => `${i.path.map(String).join('.') || (options.whole ?? '(record)')}: ${i.message}`).join('; ');
}
