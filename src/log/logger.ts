import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; one child logger per turn carries its correlation id. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'switchboard' } }, destination);
}
