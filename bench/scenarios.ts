import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Category } from '../domain/categories.js';
import type { JobOptions } from '../domain/job.js';
import type { SimulatorOptions } from '../simulator/index.js';
import type { Floor } from './floor.js';
import { rateFloor } from './floor.js';
import type { Bench, JobRun, Source, WorkerSettings } from './harness.js';
import { runJob, sampler, startWorker } from './harness.js';
import type { CpuUsage } from './proc.js';
import { allProcesses, peakRssKb, resetPeakRss, topConsumers } from './proc.js';
import { expectedLabels, isToCode, makeAnswers, makeRepeatsAnswers, writeSurvey } from './survey.js';
import type { LayoutRun } from './cost.js';
import { billedJobTokens, compactOutputTokenRatio, runOriginalLayout } from './cost.js';
import type { CodingMode } from '../domain/prompt.js';
import { SINGLE_LABEL } from '../domain/prompt.js';

/**
 * Time runs this many times faster than with the real API: the original's 4 s per request becomes
 * 800 ms. Orchestration costs are real milliseconds and do not shrink with the scale (about 0.7 s per job
 * and 20–30 ms per batch here), so the larger the divisor the more they weigh against the requests: at 10
 * the 10-worker speedup measured 9.0–9.2× where the requests alone ran 9.55×; 5 keeps the run to about
 * twelve minutes and the API's latency (2–4 s for a batch of 10) recognisable.
 */
export const SCALE_DIVISOR = 5;
export const SCALE = 1 / SCALE_DIVISOR;
export const SCALING = {
  timeScale: SCALE,
  latencyMs: 4_000 * SCALE,
  jitterMs: 4_000 * SCALE * 0.25,
  rateLimitDelayMs: 100 * SCALE,
  budgetWindowMs: 60_000 * SCALE,
  retryInitialMs: 1_000 * SCALE,
  retryMaxMs: 60_000 * SCALE,
} as const;

/** The original table: 2,482 distinct answers, 10 a request (249 requests). */
export const ORIGINAL_ANSWERS = 2_482;
export const BATCH_SIZE = 10;

export interface Survey {
  readonly file: string;
  readonly answers: number;
  readonly texts: readonly string[];
  /** Each row's category cell, single-label. */
  readonly expected: readonly string[];
}

export async function makeSurvey(
  bench: Bench,
  categories: readonly Category[],
  answers: number,
): Promise<Survey> {
  return writeBenchSurvey(bench, categories, `survey-${answers}`, makeAnswers(answers));
}

/** The workbook like the original table's, repeats and empty rows included (`makeRepeatsAnswers`). */
export async function makeRepeatsSurvey(bench: Bench, categories: readonly Category[]): Promise<Survey> {
  return writeBenchSurvey(bench, categories, 'survey-repeats', makeRepeatsAnswers());
}

async function writeBenchSurvey(
  bench: Bench,
  categories: readonly Category[],
  name: string,
  texts: readonly string[],
): Promise<Survey> {
  const file = path.join(bench.dataDir, `${name}.xlsx`);
  await writeSurvey(file, texts);
  return { file, answers: texts.length, texts, expected: expectedLabels(texts, categories) };
}

/** `window`: a number adapts (AIMD, the default); `{ fixed }` stays put whatever the API answers. */
type Window = number | { readonly fixed: number };

function jobOptions(
  window: Window,
  rateLimitDelayMs: number,
  coding?: CodingMode,
  overrides: Partial<JobOptions> = {},
): JobOptions {
  const fixed = typeof window !== 'number';
  return {
    model: 'gpt-4o-mini',
    temperature: 0.1,
    batchSize: BATCH_SIZE,
    batchTokenTarget: 3_000,
    parallel: true,
    maxWorkers: fixed ? window.fixed : window,
    adaptiveWindow: !fixed,
    minResponsesForParallel: 100,
    rateLimitDelayMs,
    retry: {
      maximumAttempts: 10,
      initialIntervalMs: SCALING.retryInitialMs,
      maximumIntervalMs: SCALING.retryMaxMs,
      heartbeatTimeoutMs: 15_000,
    },
    ...(coding?.multi ? { multi: true, maxCodes: coding.maxCodes } : {}),
    ...overrides,
  };
}

/** CPU (and RSS) by source over a span. */
export type Usage = Partial<Record<Source, CpuUsage>>;

export interface Measured {
  readonly run: JobRun;
  /** CPU and RSS from job start to result, and over the requests (first to last arrival). */
  readonly usage: {
    readonly job: Usage;
    readonly requests: Usage;
    /** Kernel peak RSS of the worker during the job (VmHWM reset at the job's start), MB. */
    readonly workerPeakRssMb?: number;
  };
  readonly workerLog: string;
  /** Other processes that used the most CPU during the job (this machine is shared). */
  readonly others: Array<{ label: string; cpuPercent: number }>;
}

/** What every scenario runs with: the bench, the categories, a small survey to warm each worker up. */
export interface Context {
  readonly bench: Bench;
  readonly categories: readonly Category[];
  readonly warmup: Survey;
  readonly log: (line: string) => void;
}

export const WARMUP_ANSWERS = 200;

/**
 * One job on a fresh task queue with its own worker process, the simulator configured as given. The worker
 * first codes a small survey with no latency and no limits, so that the measured job finds it as a
 * long-running worker is (code compiled, tokenizer loaded); then every rate bucket is left to fill again.
 */
async function measure(
  ctx: Context,
  survey: Survey,
  name: string,
  sim: Partial<SimulatorOptions>,
  worker: Omit<WorkerSettings, 'taskQueue'>,
  window: Window,
  pollWindowMs?: number,
  coding?: CodingMode,
  overrides: Partial<JobOptions> = {},
): Promise<Measured> {
  const { bench, categories } = ctx;
  const taskQueue = `bench-${name}-${randomBytes(3).toString('hex')}`;
  const proc = await startWorker(bench, { ...worker, taskQueue });
  try {
    bench.sim.configure({
      rpm: undefined,
      tpm: undefined,
      timeScale: 1,
      faults: [],
      latency: { meanMs: 0 },
      rateLimitHeaders: true,
    });
    const warm = await runJob(bench, {
      taskQueue,
      file: ctx.warmup.file,
      categories,
      expected: ctx.warmup.expected,
      options: jobOptions(window, worker.rateLimitDelayMs),
    });
    if (!warm.check.ok) throw new Error(`${name} warm-up: ${warm.check.problems.join('; ')}`);
    // A fresh simulator limiter (full buckets); the budget workflow's buckets refill within one window.
    bench.sim.configure({
      rpm: undefined,
      tpm: undefined,
      timeScale: 1,
      faults: [],
      rateLimitHeaders: true,
      ...sim,
    });
    if (worker.budget) await sleep(worker.budget?.windowMs ?? 0);
    const reset = resetPeakRss(proc.pid);
    const before = allProcesses();
    const samples = sampler(bench, proc);
    let run: JobRun;
    try {
      run = await runJob(bench, {
        taskQueue,
        file: survey.file,
        categories,
        // The warm-up ran single-label; the measured job is checked against its own mode's coding.
        expected: coding ? expectedLabels(survey.texts, categories, coding) : survey.expected,
        options: jobOptions(window, worker.rateLimitDelayMs, coding, overrides),
        ...(pollWindowMs ? { pollWindowMs } : {}),
      });
    } finally {
      samples.stop();
    }
    const ours = new Set([proc.pid, bench.temporalPid, process.pid, process.ppid]);
    const others = topConsumers(before, allProcesses(), run.wallMs, ours);
    const peak = reset ? peakRssKb(proc.pid) : undefined;
    const arrivals = run.sim.arrivals;
    const usageOver = (from: number, to: number): Usage => {
      const sources: Source[] = ['worker', 'temporal', 'bench', 'machine'];
      return Object.fromEntries(
        sources.flatMap((name) => {
          const u = samples.usage(name, from, to);
          return u ? [[name, u]] : [];
        }),
      );
    };
    const usage = {
      job: usageOver(run.startedAt, run.endedAt),
      requests: usageOver(run.startedAt + (arrivals[0] ?? 0), run.startedAt + (arrivals.at(-1) ?? 0)),
      ...(peak !== undefined ? { workerPeakRssMb: peak / 1024 } : {}),
    };
    if (!run.check.ok) {
      throw new Error(
        `${name}: rows lost or miscoded (job ${run.jobId}):\n  ${run.check.problems.join('\n  ')}`,
      );
    }
    return { run, usage, workerLog: proc.output(), others };
  } finally {
    await proc.stop();
  }
}

const latency = { meanMs: SCALING.latencyMs, jitterMs: SCALING.jitterMs };

// ── 1. The original table ───────────────────────────────────────────────────────────────────────────

export interface OriginalRun {
  readonly workers: number;
  readonly m: Measured;
}

export async function originalTable(ctx: Context, survey: Survey): Promise<OriginalRun[]> {
  const runs: OriginalRun[] = [];
  for (const workers of [1, 5, 10]) {
    ctx.log(`original table, ${workers} worker(s)…`);
    const m = await measure(
      ctx,
      survey,
      `orig-${workers}`,
      { latency },
      { slots: workers, rateLimitDelayMs: SCALING.rateLimitDelayMs },
      workers,
    );
    runs.push({ workers, m });
  }
  return runs;
}

// ── 2. Rate-limited ─────────────────────────────────────────────────────────────────────────────────

/** Limits per scaled minute (12 s), well below the ~12 requests/s a window of 10 would send. */
export const LIMITS = { rpm: 40, tpm: 28_000 } as const;
export const RATE_WINDOW = 10;

export type LimitKind = 'rpm' | 'tpm';
/** `double-no-headers`: twice the limit, and the API's answers carry no `x-ratelimit-*` headers to correct it. */
export type BudgetCase = 'none' | 'real' | 'double' | 'double-no-headers';
export const BUDGET_CASES: readonly BudgetCase[] = ['none', 'real', 'double', 'double-no-headers'];

/** The budget configured in a case: none, the API's limit, or twice it (a mistake). */
export function configuredBudget(limit: LimitKind, budget: BudgetCase): number | undefined {
  const real = LIMITS[limit];
  return budget === 'none' ? undefined : budget === 'real' ? real : real * 2;
}

export interface RateRun {
  readonly limit: LimitKind;
  readonly budget: BudgetCase;
  readonly m: Measured;
  readonly floor: Floor;
  /** What the floor was computed from: requests admitted and the tokens the simulator charged them. */
  readonly admitted: number;
  readonly chargedTokens: number;
  /** The budget workflow took the API's lower limit from the x-ratelimit-limit-* headers (2× case). */
  readonly adoptedApiLimit: boolean;
}

export async function rateLimited(ctx: Context, survey: Survey): Promise<RateRun[]> {
  const runs: RateRun[] = [];
  for (const limit of ['rpm', 'tpm'] as const) {
    for (const budget of BUDGET_CASES) {
      ctx.log(`rate-limited by ${limit.toUpperCase()}, budget ${budget}…`);
      const real = LIMITS[limit];
      const configured = configuredBudget(limit, budget);
      const m = await measure(
        ctx,
        survey,
        `${limit}-${budget}`,
        {
          latency,
          timeScale: SCALE,
          rateLimitHeaders: budget !== 'double-no-headers',
          ...(limit === 'rpm' ? { rpm: real } : { tpm: real }),
        },
        {
          slots: RATE_WINDOW,
          rateLimitDelayMs: SCALING.rateLimitDelayMs,
          ...(configured ? { budget: { [limit]: configured, windowMs: SCALING.budgetWindowMs } } : {}),
        },
        // Without a budget, the original tool's way: a fixed window of 10, whatever the API answers.
        budget === 'none' ? { fixed: RATE_WINDOW } : RATE_WINDOW,
        250,
      );
      const admitted = m.run.sim.admitted.length;
      const chargedTokens = m.run.sim.chargedTokens;
      const floor = rateFloor({
        capacity: real,
        windowMs: SCALING.budgetWindowMs,
        totalCharge: limit === 'rpm' ? admitted : chargedTokens,
        latencyMs: SCALING.latencyMs,
      });
      const adoptedApiLimit = /limit is below the configured budget/.test(m.workerLog);
      runs.push({ limit, budget, m, floor, admitted, chargedTokens, adoptedApiLimit });
    }
  }
  return runs;
}

// ── 3. Orchestration ceiling ────────────────────────────────────────────────────────────────────────

export const CEILING = { answers: 25_000, window: 50 } as const;

/** Budgets far above what the ceiling reaches: every request still reserves through the budget workflow. */
export const CEILING_BUDGET = { rpm: 10_000_000, tpm: 10_000_000_000, windowMs: 60_000 } as const;

export type CeilingCase = 'no budget' | 'budget';

export async function ceiling(ctx: Context, survey: Survey, which: CeilingCase): Promise<Measured> {
  ctx.log(
    `orchestration ceiling (${which}): ${survey.answers} answers, no latency, window ${CEILING.window}…`,
  );
  return measure(
    ctx,
    survey,
    which === 'budget' ? 'ceiling-budget' : 'ceiling',
    { latency: { meanMs: 0 } },
    {
      slots: CEILING.window,
      rateLimitDelayMs: 0,
      ...(which === 'budget' ? { budget: CEILING_BUDGET } : {}),
    },
    CEILING.window,
  );
}

// ── 4. Multi-code ───────────────────────────────────────────────────────────────────────────────────

/**
 * The original table's workbook coded single-label, then multi-code, at 5 workers, in one run. Output
 * tokens dominate a real model's latency (60–80 tokens/s), and multi-code answers are longer, so here the
 * simulator's latency grows with them: 14 ms a token (70/s) at scale, the fixed part lowered so that a
 * single-label batch of ~100 output tokens takes the original's 4 s as before.
 */
export const MULTI_CODE = {
  workers: 5,
  maxCodes: 5,
  perOutputTokenMs: 14 * SCALE,
  fixedLatencyMs: SCALING.latencyMs - 100 * 14 * SCALE,
} as const;

export interface MultiRun {
  readonly coding: CodingMode;
  readonly m: Measured;
  /** Labels per answer the correct coding has (1 in single-label mode). */
  readonly codesPerAnswer: number;
}

export async function multiCode(ctx: Context, survey: Survey): Promise<MultiRun[]> {
  const runs: MultiRun[] = [];
  for (const coding of [SINGLE_LABEL, { multi: true, maxCodes: MULTI_CODE.maxCodes }] as const) {
    ctx.log(`multi-code comparison, ${coding.multi ? 'multi-code' : 'single-label'}…`);
    const m = await measure(
      ctx,
      survey,
      coding.multi ? 'multi-code' : 'single-label',
      {
        latency: {
          meanMs: MULTI_CODE.fixedLatencyMs,
          jitterMs: SCALING.jitterMs,
          perOutputTokenMs: MULTI_CODE.perOutputTokenMs,
        },
      },
      { slots: MULTI_CODE.workers, rateLimitDelayMs: SCALING.rateLimitDelayMs },
      MULTI_CODE.workers,
      undefined,
      coding,
    );
    const labels = expectedLabels(survey.texts, ctx.categories, coding).map(
      (cell) => cell.split('; ').length,
    );
    runs.push({ coding, m, codesPerAnswer: labels.reduce((a, b) => a + b, 0) / labels.length });
  }
  return runs;
}

// ── 5. Cost ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * Two workbooks coded three ways: the original tool's layout (ten answers a request, every answer sent),
 * then verbatim's compact layout at several batch sizes and `auto`, each with 5 workers, then through the
 * Batch API. The workbook like the original table's (a third of its answers repeats, 182 rows empty) gets
 * every batch size; the one whose every answer is distinct, verbatim's worst case, the default alone.
 * Latency as in the multi-code section (a fixed part and 14 ms an output token at scale 1), each of the
 * simulator's four-character tokens counted as the real tokens it stands for in a compact answer
 * (`tokenRatio`: digits and punctuation are about two characters a token), so that larger batches take as
 * long as they would. Dollars are per answer coded: the rows with an answer, repeats included.
 */
export const COST = {
  workers: 5,
  batchSizes: [10, 25, 50, 100, 200, 'auto'] as ReadonlyArray<number | 'auto'>,
  fixedLatencyMs: MULTI_CODE.fixedLatencyMs,
  perRealOutputTokenMs: MULTI_CODE.perOutputTokenMs,
} as const;

/** The repeats workbook (like the original table's) or the one whose every answer is distinct. */
export type CostWorkbook = 'repeats' | 'distinct';

export interface CostRun {
  readonly workbook: CostWorkbook;
  readonly layout: 'original' | 'verbatim';
  readonly batchSize: number | 'auto';
  /** Sent through the Batch API (priced at half). */
  readonly batchApi?: boolean;
  readonly run: LayoutRun;
  /** Verbatim's runs: the job as measured (wall time, batches). */
  readonly m?: Measured;
}

export async function costComparison(
  ctx: Context,
  workbooks: Readonly<Record<CostWorkbook, Survey>>,
  /** BATCH_SIZE's default: the batch size of the all-distinct workbook's run and of the Batch API runs. */
  defaultSize: number | 'auto',
): Promise<{ runs: CostRun[]; tokenRatio: number }> {
  const tokenRatio = compactOutputTokenRatio(workbooks.distinct.expected, ctx.categories);
  const runs = [
    ...(await costSweep(ctx, 'repeats', workbooks.repeats, COST.batchSizes, defaultSize, tokenRatio)),
    ...(await costSweep(ctx, 'distinct', workbooks.distinct, [defaultSize], defaultSize, tokenRatio)),
  ];
  return { runs, tokenRatio };
}

async function costSweep(
  ctx: Context,
  workbook: CostWorkbook,
  survey: Survey,
  batchSizes: ReadonlyArray<number | 'auto'>,
  defaultSize: number | 'auto',
  tokenRatio: number,
): Promise<CostRun[]> {
  const { bench, categories } = ctx;
  ctx.log(`cost (${workbook}): the original layout, ten answers a request…`);
  // The original tool codes the same answers (no empty cell, no placeholder), each one it meets.
  const coded = survey.texts.flatMap((text, i) => (isToCode(text) ? [i] : []));
  const original = await runOriginalLayout(
    bench,
    coded.map((i) => survey.texts[i] ?? ''),
    coded.map((i) => survey.expected[i] ?? ''),
    categories,
    // The bench survey's header is its question (`E2`), as verbatim reads it.
    'E2',
  );
  const runs: CostRun[] = [{ workbook, layout: 'original', batchSize: 10, run: original }];
  const verbatimRun = async (m: Measured, batchApi: boolean): Promise<LayoutRun> => {
    const sim = m.run.sim;
    const counts = batchApi ? sim.batch : sim;
    return {
      requests: batchApi ? sim.batch.linesProcessed : sim.requests,
      answers: m.run.result.progress.rows.classified,
      sent: m.run.result.progress.uniqueAnswers,
      tokens: {
        prompt: counts.promptTokens,
        cached: counts.cachedTokens,
        completion: counts.completionTokens,
      },
      billed: await billedJobTokens(bench.store, m.run.jobId, categories, SINGLE_LABEL),
    };
  };
  for (const batchSize of batchSizes) {
    ctx.log(`cost (${workbook}): verbatim, BATCH_SIZE ${batchSize}…`);
    const m = await measure(
      ctx,
      survey,
      `cost-${workbook}-${batchSize}`,
      {
        latency: {
          meanMs: COST.fixedLatencyMs,
          jitterMs: SCALING.jitterMs,
          perOutputTokenMs: COST.perRealOutputTokenMs * tokenRatio,
        },
      },
      { slots: COST.workers, rateLimitDelayMs: SCALING.rateLimitDelayMs },
      COST.workers,
      undefined,
      undefined,
      { batchSize },
    );
    runs.push({ workbook, layout: 'verbatim', batchSize, m, run: await verbatimRun(m, false) });
  }
  // The default batch size through the Batch API: its lines' tokens as the simulator counted them, at
  // half price. A simulated day lasts 86 s here (lines of 0.1 ms): the wait is not what is measured.
  ctx.log(`cost (${workbook}): verbatim, BATCH_SIZE ${defaultSize}, through the Batch API…`);
  const m = await measure(
    ctx,
    survey,
    `cost-${workbook}-batch-api`,
    { timeScale: 0.001, latency: { meanMs: 0 } },
    { slots: COST.workers, rateLimitDelayMs: SCALING.rateLimitDelayMs },
    COST.workers,
    undefined,
    undefined,
    { batchSize: defaultSize, batchApi: true, batchPoll: { initialMs: 100, maxMs: 500 } },
  );
  // Every line answered in the batch: a synchronous request would be priced at the wrong rate here.
  if (m.run.sim.requests > 0)
    throw new Error(`Batch API run: ${m.run.sim.requests} requests went synchronous`);
  runs.push({
    workbook,
    layout: 'verbatim',
    batchSize: defaultSize,
    batchApi: true,
    m,
    run: await verbatimRun(m, true),
  });
  return runs;
}
