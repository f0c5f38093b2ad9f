import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { NativeConnection, WorkflowBundleOption } from '@temporalio/worker';
import type { ActivityDeps } from '../activities/index.js';
import { createFileActivities, createLlmActivities } from '../activities/index.js';
import type { Logger } from '../lib/logger.js';
import { rateLimitedSignal } from '../workflows/definitions.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export interface VerbatimWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  /** The LLM activity's queue (`<taskQueue>-llm`). */
  readonly llmTaskQueue: string;
  /** PARALLEL_MAX_WORKERS: activity slots for LLM calls in this process. */
  readonly llmSlots: number;
  readonly deps: Omit<ActivityDeps, 'notifyRateLimited'>;
  /** A bundle built once (tests, production image); otherwise the workflows are bundled at start. */
  readonly workflowBundle?: WorkflowBundleOption;
  /** How long running batches may finish after SIGTERM before they are cancelled (and retried elsewhere). */
  readonly shutdownGraceMs: number;
  readonly logger?: Logger;
  readonly identity?: string;
}

export interface VerbatimWorkers {
  /** Runs both workers until shutdown; rejects if either fails. */
  run(): Promise<void>;
  shutdown(): void;
  readonly workers: readonly Worker[];
}

/**
 * One process, two workers: the main task queue runs workflows and the file activities; the LLM queue
 * runs `classifyBatch` with PARALLEL_MAX_WORKERS slots, so that its slot count touches only the API calls.
 * The request and token budgets are not Temporal's task-queue rate limit (which cannot count tokens, nor
 * see a 429's Retry-After) but the budget workflow (worker/budget.ts, workflows/budget.ts), shared by every worker.
 */
export async function createVerbatimWorkers(options: VerbatimWorkerOptions): Promise<VerbatimWorkers> {
  const signalClient = new Client({ connection: options.connection, namespace: options.namespace });
  const deps: ActivityDeps = {
    ...options.deps,
    ...(options.identity ? { identity: options.identity } : {}),
    notifyRateLimited: async (jobId, notice) => {
      await signalClient.workflow.getHandle(jobId).signal(rateLimitedSignal, notice);
    },
  };
  const workflowBundle = options.workflowBundle ?? (await loadWorkflowBundle());
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    shutdownGraceTime: options.shutdownGraceMs,
    ...(options.identity ? { identity: options.identity } : {}),
  };
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    workflowBundle,
    activities: createFileActivities(deps),
    maxConcurrentActivityTaskExecutions: 4,
  });
  const llm = await Worker.create({
    ...common,
    taskQueue: options.llmTaskQueue,
    activities: createLlmActivities(deps),
    maxConcurrentActivityTaskExecutions: options.llmSlots,
  });
  const workers = [main, llm];
  return {
    workers,
    async run() {
      const runs = workers.map((w) => w.run());
      try {
        await Promise.all(runs);
      } catch (error) {
        // One failed: stop the other too, then report the failure.
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await Promise.allSettled(runs);
        throw error;
      }
    },
    shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

/** The prebuilt bundle when there is one (`npm run build` writes it), else a fresh bundle of the sources. */
export async function loadWorkflowBundle(): Promise<WorkflowBundleOption> {
  const prebuilt = path.resolve(here, '../workflow-bundle.js');
  if (existsSync(prebuilt)) return { codePath: prebuilt };
  const workflowsPath = resolveWorkflowsPath();
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

export function resolveWorkflowsPath(): string {
  for (const candidate of ['../workflows/index.ts', '../workflows/index.js']) {
    const file = path.resolve(here, candidate);
    if (existsSync(file)) return file;
  }
  return require.resolve('../workflows/index.js');
}

const noop = () => {};
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: (message: string, meta?: Record<string, unknown>) =>
    process.stderr.write(`${message} ${JSON.stringify(meta ?? {})}\n`),
  error: (message: string, meta?: Record<string, unknown>) =>
    process.stderr.write(`${message} ${JSON.stringify(meta ?? {})}\n`),
  log: noop,
};
