/**
 * The soak under faults (issue 16, point 6): one job through a model that fails in every way it can at once,
 * on two worker processes, one of them SIGKILLed mid-job and restarted twice. Run by `bench/soak.ts` at
 * 10,000 answers and by test/scale/soak.test.ts at fewer; both check the same invariants from what the job
 * left behind (the output workbook, its Run sheet and the stored results), not from its own counters alone.
 */
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import ExcelJS from 'exceljs';
import type { StoredResult } from '../activities/stored.js';
import { readResult } from '../activities/stored.js';
import type { Category } from '../domain/categories.js';
import type { JobOptions } from '../domain/job.js';
import { createJobService } from '../jobs/service.js';
import type { JobStore } from '../lib/store.js';
import { inspectColumn } from '../sheets/index.js';
import type { FaultRule, Simulator } from '../simulator/index.js';
import { expectedLabel } from '../simulator/index.js';
import { progressQuery } from '../workflows/definitions.js';
import type { WorkerProcess } from '../test/helpers/processes.js';
import { startWorkerProcess, waitFor } from '../test/helpers/processes.js';
import { llmTaskQueue } from '../domain/task-queues.js';

/** PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (@temporalio/proto's named export loads under vitest only). */
const STARTED = 2;

/** Share of all requests that meet each fault, as the issue sets them. */
export const SOAK_FAULTS = {
  rate_limit: 0.2,
  server_error: 0.05,
  hang: 0.02,
  malformed_json: 0.02,
  // "Wrong ids": half left out (salvaged), half made up (ignored: they spoil no answer of the batch).
  missing_id: 0.005,
  extra_id: 0.005,
} as const;

/**
 * The simulator's rules for those shares. Rules are tried in order and the first that fires wins, so each
 * rate is the share among the requests that no earlier rule took.
 */
export function soakFaultRules(shares: Record<string, number> = SOAK_FAULTS): FaultRule[] {
  let left = 1;
  return Object.entries(shares).map(([kind, share]) => {
    const rate = share / left;
    left -= share;
    // Hangs are held until the client gives up (its timeout), so each one costs a whole timeout.
    return { kind: kind as FaultRule['kind'], rate };
  });
}

export const SOAK_CATEGORIES: Category[] = [
  { name: 'Price', description: 'price, expensive, cheap, cost' },
  { name: 'Delivery', description: 'delivery, late, courier, parcel' },
  { name: 'Quality', description: 'quality, broken, fresh, stale' },
  { name: 'Service', description: 'service, staff, rude, helpful' },
  { name: 'App', description: 'app, website, login, checkout' },
];

const PHRASES = [
  'the price was too high',
  'way too expensive for me',
  'delivery came late again',
  'the courier lost my parcel',
  'quality is great',
  'arrived broken',
  'staff were rude',
  'service was helpful',
  'the app keeps crashing',
  'login never works on the website',
  'nothing to add really',
  'my neighbour told me about you',
];

/** Distinct answers (`#n`), with 5 % exact repeats of an earlier one: repeats are sent once, coded alike. */
export function soakAnswers(count: number): string[] {
  let seed = 16;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const earlier = out[Math.floor(random() * out.length)];
    if (earlier !== undefined && random() < 0.05) out.push(earlier);
    else out.push(`${PHRASES[Math.floor(random() * PHRASES.length)] ?? ''} #${i + 1}`);
  }
  return out;
}

async function writeSoakSurvey(file: string, answers: readonly string[]): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Data');
  sheet.getRow(1).values = ['ID', 'Country', 'Answer'];
  answers.forEach((answer, i) => {
    sheet.getRow(2 + i).values = [`R${1000 + i}`, ['UK', 'DE', 'FR'][i % 3] ?? 'UK', answer];
  });
  await workbook.xlsx.writeFile(file);
}

export interface SoakContext {
  readonly client: Client;
  readonly temporalAddress: string;
  readonly sim: Simulator;
  readonly dataDir: string;
  readonly store: JobStore;
  /** Register the job's search attributes (the server knows them). */
  readonly searchAttributes: boolean;
  readonly log?: (line: string) => void;
}

export interface SoakSetup {
  readonly answers: number;
  /** LLM activity slots per worker; the job's window is both workers' slots together. */
  readonly slots: number;
  /** The openai client's timeout in the workers, in seconds: what a hang costs. */
  readonly llmTimeoutSeconds: number;
  /** Simulated latency of an answered request. */
  readonly latencyMs: number;
  readonly retry: JobOptions['retry'];
  /** The simulator's fault rules; default `soakFaultRules()`. */
  readonly faultRules?: readonly FaultRule[];
}

export const SOAK_SETUP: SoakSetup = {
  answers: 10_000,
  slots: 6,
  llmTimeoutSeconds: 2,
  latencyMs: 40,
  retry: { maximumAttempts: 10, initialIntervalMs: 100, maximumIntervalMs: 2_000, heartbeatTimeoutMs: 3_000 },
};

export interface SoakKill {
  /** Batches done when the worker was killed. */
  readonly batchesDone: number;
  /** Activities the server saw started by the killed worker at that moment. */
  readonly held: number;
}

export interface SoakFigures {
  readonly answers: number;
  readonly distinctAnswers: number;
  readonly batches: number;
  readonly requests: number;
  /** Requests beyond one per batch: retries, salvage requests, the killed worker's batches sent again. */
  readonly extraCalls: number;
  readonly faults: Record<string, number>;
  readonly byStatus: Record<string, number>;
  readonly salvagedBatches: number;
  readonly salvageRequests: number;
  readonly answersFallenBackAlone: number;
  readonly rowsOther: number;
  /** Rows coded Other because their answer failed alone after salvage (the rest are answers about nothing). */
  readonly rowsOtherAfterFailure: number;
  readonly kills: readonly SoakKill[];
  readonly runs: number;
  readonly wallSeconds: number;
  readonly rowsPerSecond: number;
}

/** What must hold; each list names the rows (or batches) that break it, empty when it holds. */
export interface SoakChecks {
  /** Output rows beyond or short of one per answer, or out of place (wrong id or answer). */
  readonly rowsNotOnce: readonly number[];
  /** Rows coded neither with their answer's label nor Other. */
  readonly rowsMislabelled: readonly number[];
  /** Rows coded Other whose answer is about something and did not fail alone after salvage. */
  readonly otherNotFallenAlone: readonly number[];
  /** Rows the Run sheet lists as fallen back whose reason is not a failure alone, or that are not Other. */
  readonly fallbackNotAlone: readonly number[];
  /** Batches without a stored result, or whose result fell back as a whole. */
  readonly batchesNotCoded: readonly number[];
}

export interface SoakOutcome {
  readonly jobId: string;
  readonly setup: SoakSetup;
  readonly figures: SoakFigures;
  readonly checks: SoakChecks;
}

export async function runSoak(ctx: SoakContext, setup: SoakSetup = SOAK_SETUP): Promise<SoakOutcome> {
  const log = ctx.log ?? (() => {});
  const taskQueue = `soak-${Date.now().toString(36)}`;
  const answers = soakAnswers(setup.answers);
  const file = path.join(ctx.dataDir, `soak-${setup.answers}.xlsx`);
  await writeSoakSurvey(file, answers);

  const env = {
    TEMPORAL_ADDRESS: ctx.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATA_DIR: ctx.dataDir,
    OPENAI_API_KEY: 'soak-key',
    OPENAI_BASE_URL: ctx.sim.baseURL,
    OPENAI_TIMEOUT: String(setup.llmTimeoutSeconds),
    PARALLEL_MAX_WORKERS: String(setup.slots),
    // Empty counts as unset: no shared budget, the 429s are the simulator's faults.
    OPENAI_RPM: '',
    OPENAI_TPM: '',
    SHUTDOWN_GRACE: '0',
  };
  const workers: WorkerProcess[] = [];
  const start = async (): Promise<WorkerProcess> => {
    const w = startWorkerProcess(env);
    workers.push(w);
    await waitForPoller(ctx.client, taskQueue, identityOf(w));
    return w;
  };
  try {
    const steady = await start();
    let victim = await start();
    ctx.sim.configure({
      latency: { meanMs: setup.latencyMs, jitterMs: setup.latencyMs / 2 },
      faults: [...(setup.faultRules ?? soakFaultRules())],
      seed: 16,
    });
    ctx.sim.resetStats();
    const began = performance.now();
    const jobs = createJobService({
      client: ctx.client,
      store: ctx.store,
      taskQueue,
      searchAttributes: ctx.searchAttributes,
      inspect: inspectColumn,
    });
    const started = await jobs.create({
      fileName: path.basename(file),
      source: { path: file },
      column: 'Answer',
      categories: SOAK_CATEGORIES,
      options: {
        model: 'gpt-4o-mini',
        temperature: 0.1,
        batchSize: 10,
        batchTokenTarget: 3_000,
        parallel: true,
        maxWorkers: 2 * setup.slots,
        minResponsesForParallel: 100,
        rateLimitDelayMs: 0,
        retry: setup.retry,
      },
      idFrom: 'random',
    });
    const { handle, jobId } = started;
    log(
      `soak: job ${jobId}, ${setup.answers} answers, workers ${steady.child.pid} and ${victim.child.pid} (the victim)`,
    );

    // The victim is killed twice while it holds batches: first at a quarter of the batches, then once its
    // restarted self has taken some again, from half-way on. It is restarted without waiting for it to poll
    // (a worker bundles its workflows at start, which on a busy machine takes a while), so the job goes on.
    const kills: SoakKill[] = [];
    for (const share of [1 / 4, 1 / 2]) {
      const identity = identityOf(victim);
      const kill = await waitFor(
        async () => {
          const p = await handle.query(progressQuery).catch(() => undefined);
          if (!p || p.batches.total === 0 || p.batches.done < p.batches.total * share) return undefined;
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          const held = pending.filter(
            (a) => Number(a.state) === STARTED && a.lastWorkerIdentity === identity,
          ).length;
          return held > 0 ? { batchesDone: p.batches.done, held } : undefined;
        },
        1_800_000,
        `the victim to hold batches past ${share * 100} % of them`,
      );
      await victim.kill('SIGKILL');
      kills.push(kill);
      log(
        `soak: SIGKILLed worker ${victim.child.pid} holding ${kill.held} activities at ${kill.batchesDone} batches`,
      );
      victim = startWorkerProcess(env);
      workers.push(victim);
    }

    const result = await handle.result();
    const wallSeconds = (performance.now() - began) / 1000;
    const stats = ctx.sim.stats();
    ctx.sim.configure({ faults: [] });
    const output = new ExcelJS.Workbook();
    await output.xlsx.readFile(ctx.store.file(jobId, result.output.xlsx));
    const runs = await countRuns(ctx.client, jobId);

    const batches = result.progress.batches.total;
    const stored = await Promise.all(
      Array.from({ length: batches }, (_, i) => readResult(ctx.store, jobId, i)),
    );
    const checks = checkOutput(output, answers, stored);
    const run = output.getWorksheet('Run');
    const setting = (name: string) => Number(run ? runValue(run, name) : NaN);
    const data = output.getWorksheet('Data');
    const rowsOther = answers.filter((_, i) => data?.getCell(`D${2 + i}`).text === 'Other').length;
    const fallen = run ? fallbackTable(run) : new Map<number, string>();
    const figures: SoakFigures = {
      answers: answers.length,
      distinctAnswers: new Set(answers).size,
      batches,
      requests: stats.requests,
      extraCalls: stats.requests - batches,
      faults: stats.faults,
      byStatus: stats.byStatus,
      salvagedBatches: setting('Salvaged batches (answered partly wrong, bad answers asked again)'),
      salvageRequests: setting('Salvage requests'),
      answersFallenBackAlone: setting('Answers fallen back alone'),
      rowsOther,
      rowsOtherAfterFailure: fallen.size,
      kills,
      runs,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      rowsPerSecond: Math.round((answers.length / wallSeconds) * 10) / 10,
    };
    return { jobId, setup, figures, checks };
  } finally {
    for (const w of workers) await w.kill('SIGTERM');
  }
}

/** The invariants, read from the output workbook and the stored results. */
export function checkOutput(
  output: ExcelJS.Workbook,
  answers: readonly string[],
  stored: ReadonlyArray<StoredResult | undefined>,
): SoakChecks {
  const data = output.getWorksheet('Data');
  const run = output.getWorksheet('Run');
  if (!data || !run) throw new Error('the output has no Data or Run sheet');
  const fallen = fallbackTable(run);
  const rowsNotOnce: number[] = [];
  const rowsMislabelled: number[] = [];
  const otherNotFallenAlone: number[] = [];
  // Header, then one row per answer, nothing after.
  if (data.actualRowCount !== 1 + answers.length) rowsNotOnce.push(data.actualRowCount);
  answers.forEach((answer, i) => {
    const row = 2 + i;
    if (data.getCell(`A${row}`).text !== `R${1000 + i}` || data.getCell(`C${row}`).text !== answer) {
      rowsNotOnce.push(row);
    }
    const label = data.getCell(`D${row}`).text;
    const expected = expectedLabel(answer, SOAK_CATEGORIES);
    if (label !== expected && label !== 'Other') rowsMislabelled.push(row);
    if (label === 'Other' && expected !== 'Other' && !fallen.has(row)) otherNotFallenAlone.push(row);
  });
  const fallbackNotAlone = [...fallen]
    .filter(([row, reason]) => !/fell back alone/.test(reason) || data.getCell(`D${row}`).text !== 'Other')
    .map(([row]) => row);
  const batchesNotCoded = stored.flatMap((r, i) => (!r || r.fallback ? [i] : []));
  return { rowsNotOnce, rowsMislabelled, otherNotFallenAlone, fallbackNotAlone, batchesNotCoded };
}

/** The Run sheet's fallback table: each listed sheet row with its reason (ranges expanded). */
export function fallbackTable(run: ExcelJS.Worksheet): Map<number, string> {
  const rows = new Map<number, string>();
  let inTable = false;
  run.eachRow((row) => {
    if (row.getCell(1).text === 'Fallback batch') inTable = true;
    else if (inTable && row.getCell(3).text) {
      for (const part of row.getCell(2).text.split(', ')) {
        const [from, to] = part.split('–').map(Number);
        for (let r = from ?? 0; r <= (to ?? from ?? 0); r += 1) rows.set(r, row.getCell(3).text);
      }
    }
  });
  return rows;
}

function runValue(run: ExcelJS.Worksheet, setting: string): unknown {
  let value: unknown;
  run.eachRow((row) => {
    if (row.getCell(1).text === setting) value = row.getCell(2).value;
  });
  return value;
}

/** How the worker names itself to the server (worker/main.ts). */
function identityOf(w: WorkerProcess): string {
  return `verbatim-${w.child.pid}@${os.hostname()}`;
}

/** A restarted worker is ready once the server has seen it poll the LLM queue (a killed one lingers there). */
async function waitForPoller(client: Client, taskQueue: string, identity: string): Promise<void> {
  await waitFor(
    async () => {
      const response = await client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: llmTaskQueue(taskQueue) },
        taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
      });
      return (response.pollers ?? []).some((p) => p.identity === identity) ? true : undefined;
    },
    120_000,
    `worker ${identity} polling`,
  );
}

/** Runs of the job's workflow: more than one when it continued as new. */
async function countRuns(client: Client, jobId: string): Promise<number> {
  let runs = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${jobId}'` })) runs += 1;
  return runs;
}
