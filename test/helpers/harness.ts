import { llmTaskQueue } from '../../domain/task-queues.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection } from '@temporalio/worker';
import type { Budget } from '../../worker/budget.js';
import { createLlmEndpoint } from '../../activities/llm.js';
import { inspectColumn } from '../../sheets/index.js';
import type { StartedJob, TemporalJobService } from '../../jobs/service.js';
import { createJobService } from '../../jobs/service.js';
import type { Category } from '../../domain/categories.js';
import type { JobOptions } from '../../domain/job.js';
import { JobStore } from '../../lib/store.js';
import type { Simulator, SimulatorOptions } from '../../simulator/index.js';
import { startSimulator } from '../../simulator/index.js';
import type { VerbatimWorkers } from '../../worker/workers.js';
import { createVerbatimWorkers } from '../../worker/workers.js';
import type { SurveyFile } from './survey.js';
import { CATEGORIES, writeSurvey } from './survey.js';
import { startTestServer, uniqueTaskQueue, workflowBundle } from './temporal.js';

/** The workers' API key in tests: distinctive, so a test can prove it appears nowhere it should not. */
export const TEST_API_KEY = 'sk-test-do-not-leak-7f3a9c';

export { testOptions } from './options.js';

/** The environment of a `verbatim worker` process serving `taskQueue` against the harness's server and simulator. */
export function workerEnv(h: Harness, taskQueue: string, slots: number): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATA_DIR: h.dataDir,
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: h.sim.baseURL,
    PARALLEL_MAX_WORKERS: String(slots),
    SHUTDOWN_GRACE: '0',
  };
}

/** One dev server, one simulator and one data folder for a test file; a task queue per test. */
export interface Harness {
  readonly env: TestWorkflowEnvironment;
  readonly sim: Simulator;
  readonly dataDir: string;
  readonly store: JobStore;
  /** Starts workers (main + LLM queue) in this process on a fresh task queue. */
  startWorkers(options?: {
    slots?: number;
    taskQueue?: string;
    budget?: Budget;
    llmTimeoutMs?: number;
  }): Promise<TestWorkers>;
  jobs(taskQueue: string): TemporalJobService;
  /**
   * Writes `answers` as the survey `name` under the data folder (answers in column E2, see `writeSurvey`)
   * and starts coding it into CATEGORIES (or the categories given) on `taskQueue`.
   */
  startSurvey(
    taskQueue: string,
    name: string,
    answers: ReadonlyArray<string | null>,
    options: JobOptions,
    extra?: {
      coded?: ReadonlyMap<number, string>;
      batchesPerRun?: number;
      categories?: readonly Category[];
      batchApiLinesPerFile?: number;
      batchApiPollsPerRun?: number;
    },
  ): Promise<{ started: StartedJob; survey: SurveyFile }>;
  close(): Promise<void>;
}

export interface TestWorkers {
  readonly taskQueue: string;
  readonly workers: VerbatimWorkers;
  readonly running: Promise<void>;
  stop(): Promise<void>;
}

export async function createHarness(
  simOptions: SimulatorOptions = { latency: { meanMs: 5 } },
): Promise<Harness> {
  const env = await startTestServer();
  const sim = await startSimulator(simOptions);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-test-'));
  const store = new JobStore(dataDir);
  const connection: NativeConnection = env.nativeConnection;
  const started: TestWorkers[] = [];
  const jobs = (taskQueue: string): TemporalJobService =>
    createJobService({
      client: env.client,
      store,
      taskQueue,
      searchAttributes: true,
      inspect: inspectColumn,
    });
  return {
    env,
    sim,
    dataDir,
    store,
    async startWorkers(options = {}) {
      const taskQueue = options.taskQueue ?? uniqueTaskQueue();
      const llm = createLlmEndpoint({
        apiKey: TEST_API_KEY,
        baseURL: sim.baseURL,
        timeoutMs: options.llmTimeoutMs ?? 2_000,
      });
      const workers = await createVerbatimWorkers({
        connection,
        namespace: 'default',
        taskQueue,
        llmTaskQueue: llmTaskQueue(taskQueue),
        llmSlots: options.slots ?? 5,
        deps: { store, llm, ...(options.budget ? { budget: options.budget } : {}) },
        workflowBundle: await workflowBundle(),
        shutdownGraceMs: 0,
      });
      const running = workers.run();
      const handle: TestWorkers = {
        taskQueue,
        workers,
        running,
        async stop() {
          workers.shutdown();
          await running;
        },
      };
      started.push(handle);
      return handle;
    },
    jobs,
    async startSurvey(taskQueue, name, answers, options, extra = {}) {
      const file = path.join(dataDir, name);
      const survey = await writeSurvey(file, answers, extra.coded ? { coded: extra.coded } : {});
      const started = await jobs(taskQueue).create({
        fileName: name,
        source: { path: file },
        column: 'E2',
        categories: extra.categories ?? CATEGORIES,
        options,
        idFrom: 'random',
        ...(extra.batchesPerRun ? { batchesPerRun: extra.batchesPerRun } : {}),
        ...(extra.batchApiLinesPerFile ? { batchApiLinesPerFile: extra.batchApiLinesPerFile } : {}),
        ...(extra.batchApiPollsPerRun ? { batchApiPollsPerRun: extra.batchApiPollsPerRun } : {}),
      });
      return { started, survey };
    },
    async close() {
      for (const w of started) await w.stop().catch(() => {});
      await sim.close();
      await env.teardown();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
