import { parseArgs } from 'node:util';
import { loadConfig, loadDotEnv } from '../lib/config.js';
import { createLogger } from '../lib/logger.js';
import { startRuntime } from './runtime.js';

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
  // The SDK shuts the workers down on SIGINT/SIGTERM (after SHUTDOWN_GRACE); then the rest closes.
  try {
    await runtime.workerDone;
    return 0;
  } finally {
    await runtime.close();
  }
}
