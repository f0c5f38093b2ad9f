import { pino } from 'pino';
import type { Logger as PinoLogger, LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

/**
 * One JSON logger per process, on stderr so that stdout stays for results. Secrets are redacted by key
 * wherever they appear in a logged object, as a second line of defence: none should be logged at all.
 */
export function createLogger(level: LevelWithSilent, name = 'verbatim'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          'apiKey',
          '*.apiKey',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
