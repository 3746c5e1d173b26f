import { createLogger } from '../../src/log/logger';
import type { Logger } from '../../src/log/logger';

/** One line the logger wrote, parsed (pino's JSON: level as a number, msg, and the line's fields). */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/** A logger at `level` whose lines are kept, parsed, in `lines` (pino writes each line in one call); several loggers may share one list. */
export function capturedLog(level: string, lines: LogLine[] = []): { log: Logger; lines: LogLine[] } {
  return { log: createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }), lines };
}
