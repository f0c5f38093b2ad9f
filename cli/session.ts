import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';
import type { VerbatimRuntime } from './runtime.js';
import { onStopSignals, startRuntime } from './runtime.js';

/** What a command that runs one durable piece of work (a job, a codeframe draft) gets from its session. */
export interface Session {
  readonly runtime: VerbatimRuntime;
  /** Aborted when the person stops the command: ends waits that would otherwise ask a closing client. */
  readonly abandon: AbortSignal;
  /** The work's result, or a rejection naming `workerStopped` if this process's worker ends first. */
  readonly outcome: <T>(result: Promise<T>) => Promise<T>;
}

export interface SessionOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly say: (line: string) => void;
  /** Said on SIGINT or SIGTERM: the work is durable, so it says how to resume. */
  readonly stopping: string;
  /** Why the work failed when the worker stops before it ends. */
  readonly workerStopped: string;
}

/**
 * Starts the embedded runtime with a worker, runs `body` in it and closes it, however it ends. A stop signal
 * (even one that arrives while the runtime is still starting) closes the runtime and makes the command
 * exit 130; the work itself keeps what is done, so the same command resumes it.
 */
export async function runSession(
  options: SessionOptions,
  body: (session: Session) => Promise<number>,
): Promise<number> {
  const { config, logger, say } = options;
  const starting = startRuntime({ config, logger, worker: true, say, headless: true });
  // Installed before the runtime starts, so that a stop asked for meanwhile closes it once it has started.
  const stop: { closing?: Promise<void> } = {};
  // A function, not the field: TypeScript cannot see that a signal handler may set it at any await.
  const closing = () => stop.closing;
  const abandon = new AbortController();
  const signals = onStopSignals(() => {
    say(`\n${options.stopping}`);
    abandon.abort();
    stop.closing = starting.then(
      (runtime) => runtime.close(),
      () => {},
    );
  });
  let runtime: VerbatimRuntime;
  try {
    runtime = await starting;
  } catch (error) {
    signals.dispose();
    throw error;
  }
  if (closing()) {
    await closing();
    signals.dispose();
    return 130;
  }
  const workerDone = runtime.workerDone;
  const session: Session = {
    runtime,
    abandon: abandon.signal,
    outcome: <T>(result: Promise<T>) =>
      Promise.race([
        result,
        workerDone.then((): never => {
          throw new Error(options.workerStopped);
        }),
      ]),
  };
  try {
    return await body(session);
  } catch (error) {
    // Stopping ended the wait for the work (the worker stopped first): that is the stop, not a failure.
    if (closing()) {
      await closing();
      return 130;
    }
    throw error;
  } finally {
    abandon.abort();
    signals.dispose();
    await (closing() ?? runtime.close());
  }
}
