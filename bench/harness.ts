import { llmTaskQueue } from '../domain/task-queues.js';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { parse } from 'csv-parse/sync';
import type { StoredResult } from '../activities/stored.js';
import { itemLabels } from '../activities/stored.js';
import { inspectColumn } from '../sheets/index.js';
import { createJobService } from '../jobs/service.js';
import type { Category } from '../domain/categories.js';
import { fallbackLabel } from '../domain/categories.js';
import type { JobOptions, JobPlan } from '../domain/job.js';
import { freePort, startDevServer } from '../lib/dev-server.js';
import { createLogger } from '../lib/logger.js';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes.js';
import { JobStore } from '../lib/store.js';
import { findTemporalCli } from '../lib/temporal-cli.js';
import type { Simulator, SimulatorStats } from '../simulator/index.js';
import { startSimulator } from '../simulator/index.js';
import type { ClassifyJobResult } from '../workflows/definitions.js';
import { progressQuery } from '../workflows/definitions.js';
import type { Timeline } from './history.js';
import { jobTimeline } from './history.js';
import { Sampler, readMachine, readProcess } from './proc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NAMESPACE = 'default';

/** One Temporal dev server, one simulator and one data folder for the whole run. */
export interface Bench {
  readonly dataDir: string;
  readonly store: JobStore;
  readonly client: Client;
  readonly sim: Simulator;
  readonly temporalAddress: string;
  readonly temporalPid: number;
  close(): Promise<void>;
}

export interface BenchOptions {
  /**
   * Absent: the embedded server exactly as `verbatim classify` starts it (lib/dev-server.ts: SQLite in a file
   * under DATA_DIR). Given: `temporal server start-dev` with these changes, for experiments.
   */
  readonly experiment?: {
    readonly inMemory: boolean;
    /** `KEY=VALUE` pairs for --dynamic-config-value. */
    readonly dynamicConfig: readonly string[];
  };
}

interface Server {
  readonly address: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startBench(options: BenchOptions = {}): Promise<Bench> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'verbatim-bench-'));
  const cliPath = await findTemporalCli(process.env.TEMPORAL_CLI_PATH?.trim() || undefined);
  if (!cliPath)
    throw new Error('Temporal CLI not found: run `npm test` once (it builds it) or set TEMPORAL_CLI_PATH');
  const server = options.experiment
    ? await startExperimentServer(cliPath, dataDir, options.experiment)
    : await startEmbeddedServer(cliPath, dataDir);
  let sim: Simulator | undefined;
  try {
    const connection = await connectWithRetry(server.address);
    const client = new Client({ connection, namespace: NAMESPACE });
    sim = await startSimulator({});
    const owned = sim;
    return {
      dataDir,
      store: new JobStore(dataDir),
      client,
      sim,
      temporalAddress: server.address,
      temporalPid: server.pid,
      async close() {
        await owned.close();
        await connection.close();
        await server.stop();
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await sim?.close();
    await server.stop();
    throw error;
  }
}

async function startEmbeddedServer(cliPath: string, dataDir: string): Promise<Server> {
  const server = await startDevServer({
    cliPath,
    dataDir,
    namespace: NAMESPACE,
    headless: true,
    logger: createLogger('silent'),
  });
  // lib/dev-server.ts records the server's pid beside its database.
  const record = JSON.parse(await fs.readFile(path.join(dataDir, 'temporal/server.json'), 'utf8')) as {
    pid: number;
  };
  return { address: server.address, pid: record.pid, stop: () => server.stop() };
}

async function startExperimentServer(
  cliPath: string,
  dataDir: string,
  experiment: NonNullable<BenchOptions['experiment']>,
): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    cliPath,
    [
      ...['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)],
      ...['--namespace', NAMESPACE, '--log-level', 'warn'],
      ...(experiment.inMemory ? [] : ['--db-filename', path.join(dataDir, 'temporal.db')]),
      ...Object.values(SEARCH_ATTRIBUTES).flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]),
      ...experiment.dynamicConfig.flatMap((kv) => ['--dynamic-config-value', kv]),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  if (child.pid === undefined) {
    await stop();
    throw new Error(`could not start ${cliPath}`);
  }
  return { address: `127.0.0.1:${port}`, pid: child.pid, stop };
}

async function connectWithRetry(address: string): Promise<Connection> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address });
      // The frontend answers before the namespace is registered: wait until it is.
      await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      return connection;
    } catch (error) {
      await connection?.close();
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

/** `verbatim worker` as its own process, configured through its environment only, as in production. */
export interface WorkerProcess {
  readonly pid: number;
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface WorkerSettings {
  readonly taskQueue: string;
  /** PARALLEL_MAX_WORKERS: the LLM activity slots. */
  readonly slots: number;
  readonly rateLimitDelayMs: number;
  readonly budget?: { readonly rpm?: number; readonly tpm?: number; readonly windowMs: number };
}

/**
 * V8's old-space cap in the image (Dockerfile: `NODE_OPTIONS=--max-old-space-size=1024`). Without one, V8
 * sizes the heap from the machine (4 GiB on a 24 GiB host) and lets garbage grow to about four times the live
 * set before a full collection: a million-row job's worker peaked over 1 GiB with at most ~330 MiB live.
 */
export const WORKER_OLD_SPACE_MIB = 1024;

export async function startWorker(bench: Bench, s: WorkerSettings): Promise<WorkerProcess> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    TEMPORAL_ADDRESS: bench.temporalAddress,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TEMPORAL_TASK_QUEUE: s.taskQueue,
    DATA_DIR: bench.dataDir,
    OPENAI_API_KEY: 'bench-key',
    OPENAI_BASE_URL: bench.sim.baseURL,
    PARALLEL_MAX_WORKERS: String(s.slots),
    RATE_LIMIT_DELAY: String(s.rateLimitDelayMs / 1000),
    // Empty counts as unset, and a .env file does not override a variable that is set.
    OPENAI_RPM: s.budget?.rpm ? String(s.budget.rpm) : '',
    OPENAI_TPM: s.budget?.tpm ? String(s.budget.tpm) : '',
    OPENAI_BUDGET_WINDOW: s.budget ? String(s.budget.windowMs / 1000) : '',
    SHUTDOWN_GRACE: '0',
    LOG_LEVEL: 'warn',
  };
  // The old-space cap the image gives every process (Dockerfile, NODE_OPTIONS): a worker is measured as deployed.
  const args = [`--max-old-space-size=${WORKER_OLD_SPACE_MIB}`, path.join(ROOT, 'bin/verbatim.js'), 'worker'];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid === undefined) throw new Error('could not start `verbatim worker`');
  const worker: WorkerProcess = {
    pid: child.pid,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    },
  };
  try {
    await waitForPollers(bench.client, s.taskQueue, () => child.exitCode !== null);
  } catch (error) {
    await worker.stop();
    throw new Error(`${(error as Error).message}\n${output.slice(-2000)}`);
  }
  return worker;
}

/** The worker is ready when the server has seen it poll both queues (workflows and the LLM activities). */
async function waitForPollers(client: Client, taskQueue: string, exited: () => boolean): Promise<void> {
  const WORKFLOW = 1;
  const ACTIVITY = 2;
  const queues = [
    { name: taskQueue, type: WORKFLOW },
    { name: llmTaskQueue(taskQueue), type: ACTIVITY },
  ];
  const deadline = Date.now() + 120_000;
  for (;;) {
    const polled = await Promise.all(
      queues.map(async (q) => {
        const r = await client.workflowService.describeTaskQueue({
          namespace: NAMESPACE,
          taskQueue: { name: q.name },
          taskQueueType: q.type,
        });
        return (r.pollers?.length ?? 0) > 0;
      }),
    );
    if (polled.every(Boolean)) return;
    if (exited()) throw new Error('`verbatim worker` exited before it polled');
    if (Date.now() > deadline) throw new Error('`verbatim worker` did not poll within 120 s');
    await sleep(200);
  }
}

export interface JobRun {
  readonly jobId: string;
  readonly result: ClassifyJobResult;
  /** Job start (before the job is created) to result, in ms. */
  readonly wallMs: number;
  /** performance.now() at the job's start and end, for CPU spans. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Simulator stats of this job alone (reset at its start); arrivals are relative to `startedAt`. */
  readonly sim: SimulatorStats;
  readonly check: RowCheck;
  /** Smallest window seen by polling the progress query (when polled). */
  readonly minWindow: number | undefined;
  /** Where the time went, from the workflow history. */
  readonly timeline: Timeline;
}

export interface JobSpecForBench {
  readonly taskQueue: string;
  readonly file: string;
  readonly categories: readonly Category[];
  readonly expected: readonly string[];
  readonly options: JobOptions;
  /** Poll the progress query this often to see the window narrow (off by default: it costs workflow work). */
  readonly pollWindowMs?: number;
}

/** Creates a job as the CLI and API do, waits for its result, and checks every row was coded exactly once. */
export async function runJob(bench: Bench, spec: JobSpecForBench): Promise<JobRun> {
  const jobs = createJobService({
    client: bench.client,
    store: bench.store,
    taskQueue: spec.taskQueue,
    searchAttributes: true,
    inspect: inspectColumn,
  });
  bench.sim.resetStats();
  const startedAt = performance.now();
  const started = await jobs.create({
    fileName: path.basename(spec.file),
    source: { path: spec.file },
    column: 'E2',
    categories: spec.categories,
    options: spec.options,
    idFrom: 'random',
    // Each measured job codes anew: the same file with the same labels would otherwise be answered by the
    // earlier job (a Batch API run after a synchronous one, say).
    force: true,
  });
  let minWindow: number | undefined;
  let done = false;
  const polling = (async () => {
    if (!spec.pollWindowMs) return;
    while (!done) {
      const p = await started.handle.query(progressQuery).catch(() => undefined);
      if (p?.phase === 'classifying') minWindow = Math.min(minWindow ?? Infinity, p.window.size);
      await sleep(spec.pollWindowMs);
    }
  })();
  const result = await started.handle.result();
  const endedAt = performance.now();
  done = true;
  await polling;
  const sim = bench.sim.stats();
  const check = await checkRows(bench.store, started.jobId, spec, result);
  const timeline = await jobTimeline(bench.client, started.jobId, spec.options.maxWorkers);
  return {
    jobId: started.jobId,
    result,
    wallMs: endedAt - startedAt,
    startedAt,
    endedAt,
    sim,
    check,
    minWindow,
    timeline,
  };
}

export interface RowCheck {
  readonly ok: boolean;
  readonly problems: string[];
  readonly rows: number;
  readonly fallbackRows: number;
  readonly batches: number;
}

/**
 * Every row coded exactly once: one stored result per batch (no index missing or extra), every unique answer
 * in exactly one batch, and in the output every row carries the simulator's label for its answer (or the
 * fallback label, as many as the job reports), none blank.
 */
async function checkRows(
  store: JobStore,
  jobId: string,
  spec: JobSpecForBench,
  result: ClassifyJobResult,
): Promise<RowCheck> {
  const problems: string[] = [];
  const plan = JSON.parse(await fs.readFile(store.file(jobId, 'plan.json'), 'utf8')) as JobPlan;
  const resultFiles = (await fs.readdir(path.join(store.dir(jobId), 'results'))).filter((f) =>
    f.endsWith('.json'),
  );
  if (resultFiles.length !== plan.batches)
    problems.push(`${resultFiles.length} stored results for ${plan.batches} batches`);
  const seen = new Set<number>();
  for (let i = 0; i < plan.batches; i += 1) {
    const batch = JSON.parse(await fs.readFile(store.batchFile(jobId, i), 'utf8')) as {
      answerIds: number[];
      items: unknown[];
    };
    for (const id of batch.answerIds) {
      if (seen.has(id)) problems.push(`answer ${id} is in two batches`);
      seen.add(id);
    }
    const stored = await store.readJsonIfExists<StoredResult>(store.resultFile(jobId, i));
    if (!stored) problems.push(`batch ${i} has no result`);
    else if (
      !stored.fallback &&
      stored.labels.filter((_, p) => itemLabels(stored.labels, p).length > 0).length !== batch.items.length
    )
      problems.push(`batch ${i}: ${stored.labels.length} labels for ${batch.items.length} answers`);
  }
  if (seen.size !== plan.uniqueAnswers)
    problems.push(`${seen.size} answers batched of ${plan.uniqueAnswers}`);

  const text = await fs.readFile(store.file(jobId, result.output.csv), 'utf8');
  const csv: string[][] = parse(text, { bom: true, relax_column_count: true });
  const rows = csv.slice(1);
  const other = fallbackLabel(spec.categories);
  let fallbackRows = 0;
  if (rows.length !== spec.expected.length)
    problems.push(`${rows.length} rows in the output, expected ${spec.expected.length}`);
  rows.forEach((row, i) => {
    const label = row[2] ?? '';
    const want = spec.expected[i];
    if (label === want) return;
    if (label === other) fallbackRows += 1;
    else problems.push(`row ${i + 2}: "${label}" instead of "${want}"`);
  });
  const reported = result.stats.fallbackRows;
  if (fallbackRows > reported)
    problems.push(`${fallbackRows} rows coded ${other} unexpectedly (job reports ${reported})`);
  const p = result.progress;
  if (p.rows.classified !== plan.rows.classify)
    problems.push(`${p.rows.classified} rows counted classified of ${plan.rows.classify}`);
  if (p.batches.done !== plan.batches)
    problems.push(`${p.batches.done} batches counted done of ${plan.batches}`);
  if (result.partial) problems.push('the result is partial');
  return {
    ok: problems.length === 0,
    problems: problems.slice(0, 10),
    rows: rows.length,
    fallbackRows: reported,
    batches: plan.batches,
  };
}

/** What the run samples: the worker, the dev server, this process (simulator and client), the machine. */
export type Source = 'worker' | 'temporal' | 'bench' | 'machine';

export function sampler(bench: Bench, worker: WorkerProcess): Sampler<Source> {
  return new Sampler<Source>({
    worker: () => readProcess(worker.pid),
    temporal: () => readProcess(bench.temporalPid),
    bench: () => readProcess(process.pid),
    machine: readMachine,
  });
}
