import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { ConfigError } from '../lib/config.js';
import { DomainError, InputProblemsError } from '../domain/errors.js';
import { TemporalCliNotFoundError } from '../lib/temporal-cli.js';
import { TemporalConnectionError } from '../lib/temporal.js';

/** A mistake in the command line: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly help: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The message a person should see for an error: the domain error's own words (file, sheet, column, row),
 * dug out of Temporal's failure wrappers when a job failed in its workflow.
 */
export function describeError(error: unknown): string {
  // Several mistakes at once (the columns a job names): one a line, to read and fix each.
  if (error instanceof InputProblemsError && error.errors.length > 1) {
    return `${error.errors.length} mistakes:${error.errors.map((e) => `\n  - ${e.message}`).join('')}`;
  }
  if (
    error instanceof DomainError ||
    error instanceof ConfigError ||
    error instanceof TemporalCliNotFoundError ||
    error instanceof TemporalConnectionError
  ) {
    return error.message;
  }
  if (error instanceof WorkflowFailedError) {
    let cause: unknown = error.cause;
    while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
    if (cause instanceof ApplicationFailure) return cause.message;
    if (cause instanceof Error) return cause.message;
    return error.message;
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
