import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, loadDotEnv } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startRuntime } from '../cli/runtime.js';

export const WORKER_HELP = `Usage: verbatim worker

Runs a worker alone: workflows and file activities on TEMPORAL_TASK_QUEUE, LLM calls on
<TEMPORAL_TASK_QUEUE>-llm with PARALLEL_MAX_WORKERS slots. Start more of them, against the same Temporal
server and the same DATA_DIR, to scale out. SIGTERM or Ctrl-C lets running batches finish for
SHUTDOWN_GRACE seconds; the rest are handed to other workers.
`;

export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(WORKER_HELP);
    return 0;
  }
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'verbatim-worker');
  const runtime = await startRuntime({
    config,
    logger,
    worker: true,
    say: (line) => process.stderr.write(`${line}\n`),
    headless: false,
  });
  logger.info(
    {
      temporal: runtime.temporalAddress,
      taskQueue: config.temporal.taskQueue,
      llmSlots: config.job.maxWorkers,
      llm: runtime.llm?.simulated ? 'simulator' : runtime.llm?.endpoint,
    },
    'worker running',
  );
  const heartbeat = startHeartbeat({
    file: workerHeartbeatFile(),
    // Draining after SIGTERM still counts: batches are finishing within SHUTDOWN_GRACE.
    alive: () =>
      runtime.workers?.workers.every((w) => ['RUNNING', 'STOPPING', 'DRAINING'].includes(w.getState())) ??
      false,
    onError: (error) => logger.warn({ err: error }, 'cannot write the health-check heartbeat'),
  });
  // The SDK shuts the workers down on SIGINT/SIGTERM (after SHUTDOWN_GRACE); then the rest closes.
  try {
    await runtime.workerDone;
    return 0;
  } finally {
    await heartbeat.stop();
    await runtime.close();
  }
}

/** Where a running worker keeps its heartbeat; deploy/healthcheck.sh reads the same path. */
export function workerHeartbeatFile(tmpDir = os.tmpdir()): string {
  return path.join(tmpDir, 'verbatim-worker.heartbeat');
}

export interface HeartbeatOptions {
  readonly file: string;
  /** Whether to beat now: the workers are running (not failed, draining or stopped). */
  readonly alive: () => boolean;
  readonly intervalMs?: number;
  /** The first failed write of a run of failures (each beat retries). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Writes the time to `file` now and every `intervalMs` while `alive()` holds, so that the container's
 * health check can tell a live worker from a hung or stopping one by the file's age. `stop()` ends the
 * beats and removes the file.
 */
export function startHeartbeat(options: HeartbeatOptions): { stop(): Promise<void> } {
  let writes = Promise.resolve();
  let failing = false;
  const beat = () => {
    if (!options.alive()) return;
    writes = writes
      .then(() => writeFile(options.file, `${new Date().toISOString()} ${process.pid}\n`))
      .then(
        () => {
          failing = false;
        },
        (error: unknown) => {
          if (!failing) options.onError?.(error);
          failing = true;
        },
      );
  };
  beat();
  const timer = setInterval(beat, options.intervalMs ?? 10_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await writes;
      // Several workers on one machine share the file: only the one that wrote it last removes it.
      const last = await readFile(options.file, 'utf8').catch(() => '');
      if (last.trim().split(' ')[1] !== String(process.pid)) return;
      await rm(options.file, { force: true }).catch((error: unknown) => options.onError?.(error));
    },
  };
}
