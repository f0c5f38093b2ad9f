import type { BatchApiProgress, BatchPartOutcome, BatchPoll } from './batch-api.js';
import type { TokenUsage } from './token-usage.js';
import type { Category } from './categories.js';
import type { BatchSize } from './batching.js';
import type { AdaptiveWindow, RateLimitReport } from './rate.js';
import type { SheetFormat } from './sheet-format.js';
import type { SheetWarning } from './sheet-warnings.js';
import type { CapState, JobCost } from './cost.js';
import { jobCost, jobTokens } from './cost.js';
import type { ModelPrice, PriceOverride } from './prices.js';

/** How each data row of the sheet is treated. */
export type RowKind = 'empty' | 'invalid' | 'coded' | 'classify';

/** Per-job options: set by the CLI flags or the API form, defaulted from the environment. */
export interface JobOptions {
  readonly model: string;
  readonly temperature: number;
  readonly batchSize: BatchSize;
  /** Token target of one request when `batchSize` is `auto`. */
  readonly batchTokenTarget: number;
  /** ENABLE_PARALLEL_PROCESSING. */
  readonly parallel: boolean;
  /** PARALLEL_MAX_WORKERS: the ceiling of the job's window of batches in flight. */
  readonly maxWorkers: number;
  /**
   * ADAPTIVE_WINDOW (default true): 429s and a low `remaining` narrow the window, successes widen it back.
   * False keeps it at `maxWorkers` whatever the API answers, as the original tool did.
   */
  readonly adaptiveWindow?: boolean;
  /** PARALLEL_MIN_RESPONSES: fewer answers to classify than this run one batch at a time. */
  readonly minResponsesForParallel: number;
  /** RATE_LIMIT_DELAY, in ms: the pause after each request in one worker slot, as the original tool did. */
  readonly rateLimitDelayMs: number;
  readonly retry: RetryOptions;
  /**
   * MULTI_CODE: each answer gets every category that applies (a list), not one. Absent in jobs from before
   * multi-code: single-label.
   */
  readonly multi?: boolean;
  /** MAX_CODES: the most categories one answer keeps in multi-code mode (default 5); longer lists are cut. */
  readonly maxCodes?: number;
  /** REVIEW_BELOW: answers with a confidence under this go to the Review sheet (default 0.7). */
  readonly reviewBelow?: number;
  /** OPENAI_PRICE_INPUT / OPENAI_PRICE_OUTPUT, USD per million tokens: over the built-in table. */
  readonly prices?: PriceOverride;
  /** MAX_COST, USD: the job holds any request that would take its cost over this. Absent: no cap. */
  readonly maxCost?: number;
  /**
   * OPENAI_BATCH_API: the requests go through OpenAI's Batch API (half price, done within 24 h) rather than
   * one by one. Chosen at start: a job never changes path, so histories of either kind replay.
   */
  readonly batchApi?: boolean;
  /** How often a Batch API job looks at its batches (OPENAI_BATCH_POLL, OPENAI_BATCH_POLL_MAX). */
  readonly batchPoll?: BatchPoll;
  /**
   * REVIEW_MODEL: a second model that codes again the answers under `reviewBelow`, whose label is kept.
   * Absent: no second opinion (and jobs from before it).
   */
  readonly reviewModel?: string;
  /** Human-coded answers per category put into the instructions as examples (`--examples-from-gold`). */
  readonly examplesFromGold?: number;
}

export interface RetryOptions {
  readonly maximumAttempts: number;
  readonly initialIntervalMs: number;
  readonly maximumIntervalMs: number;
  /** A batch activity that stops heartbeating (a killed worker) is handed to another worker after this. */
  readonly heartbeatTimeoutMs: number;
}

/** Batch spans travel from the store to the workflow this many at a time (for activity summaries). */
export const SPAN_PAGE = 500;

/** What `prepareJob` found and stored; small enough for workflow history. */
export interface JobPlan {
  readonly sheet: string;
  readonly header: string;
  readonly headerRow: number;
  readonly column: string;
  readonly categoryColumn: string;
  readonly categoryHeader: string;
  /** Multi-code jobs: the first of the 0/1 columns (one per category, then one per net), a letter. */
  readonly codeColumn?: string;
  /** Where each answer's confidence goes, a letter (absent in plans from before confidences). */
  readonly confidenceColumn?: string;
  readonly question: string;
  readonly rows: RowCounts;
  readonly uniqueAnswers: number;
  readonly batches: number;
  /** Estimated tokens of all requests together (prompt and output ceiling), before any is sent. */
  readonly estimatedTokens: number;
  /** The worker had no API key: the simulator answers, and every view of the job says so. */
  readonly simulated: boolean;
  /** The human-coded column, when the job has one: its letter, header and non-empty cells. */
  readonly gold?: { readonly column: string; readonly header: string; readonly cells: number };
  /** Hand-coded answers shown to the model as examples (`examplesFromGold`); absent when none. */
  readonly examples?: number;
  /** What the reader noticed in the file (an encoding guessed, formulas without a value…); absent when none. */
  readonly warnings?: readonly SheetWarning[];
  /**
   * The model's price when the job was prepared (the table, or the operator's): fixed in history so the cap
   * decides the same way on replay whatever table a later worker has. Absent: no price known (or an old plan).
   */
  readonly price?: ModelPrice;
  /**
   * The review model's price (REVIEW_MODEL, from the table: OPENAI_PRICE_* price the job's own model), fixed
   * here for the same reason. Absent: no review model, it has no price, or a plan from before review costs.
   */
  readonly reviewPrice?: ModelPrice;
}

/**
 * Where a batch sits in the sheet, for activity summaries and progress: first and last sheet row, rows
 * covered (duplicates included) and unique answers sent. Loaded a segment at a time, never all at once.
 */
export interface BatchSpan {
  readonly index: number;
  readonly firstRow: number;
  readonly lastRow: number;
  readonly rows: number;
  readonly answers: number;
  /** The request's prompt tokens as billed and its output ceiling, for the spending cap (absent in old plans). */
  readonly promptTokens?: number;
  readonly maxTokens?: number;
}

export interface RowCounts {
  readonly total: number;
  readonly empty: number;
  readonly invalid: number;
  readonly coded: number;
  readonly classify: number;
}

export type { TokenUsage } from './token-usage.js';

/** What one batch activity reports back to the workflow. */
export interface BatchOutcome {
  readonly index: number;
  readonly answers: number;
  readonly rows: number;
  readonly usage: TokenUsage;
  /** Requests this batch cost across its attempts. */
  readonly apiCalls: number;
  /** How long the successful request took: the sum over batches is the sequential estimate. */
  readonly latencyMs: number;
  /** The result was already stored by an earlier attempt (a worker died after the call): nothing was sent. */
  readonly reused: boolean;
  /** The API reported little left of a limit no budget paces: the window narrows before a 429 does it. */
  readonly nearLimit?: boolean;
  /** What the API reported, as workers before `nearLimit` returned it: read only to replay their jobs. */
  readonly rateLimit?: RateLimitReport;
  /** Answered by verbatim's simulator, not a model. */
  readonly simulated?: boolean;
  /** Answers whose list of codes was cut to the job's maximum (multi-code; absent when none). */
  readonly cut?: number;
  /**
   * The answer was partly wrong: what validated is stored, these ids are to be asked again in halves (empty
   * when none is: an answer of a batch of one that failed alone), and the batch's result is assembled after.
   */
  readonly salvage?: { readonly unresolved: readonly string[] };
}

/** What one review request reports back to the workflow. */
export interface ReviewOutcome {
  readonly index: number;
  readonly answers: number;
  /** Answers the review model gave a valid label for (the others keep the first model's). */
  readonly recoded: number;
  readonly usage: TokenUsage;
  /** Requests across its attempts (an earlier attempt's stored answer counts its own). */
  readonly apiCalls: number;
  /** The result was stored by an earlier attempt or run: nothing was sent this time. */
  readonly reused: boolean;
  readonly simulated?: boolean;
}

/** What a request for some answers of a batch (a salvage) reports back. */
export interface AnswersOutcome {
  readonly usage: TokenUsage;
  /** Requests it cost across its attempts (0: an earlier attempt or run had stored it). */
  readonly apiCalls: number;
  readonly latencyMs: number;
  /** Ids to ask again, in halves. */
  readonly unresolved: readonly string[];
  /** Answers that failed alone and fell back. */
  readonly fellBack: number;
  readonly simulated?: boolean;
  readonly cut?: number;
}

/** A salvaged batch once its pieces are assembled: its rows, and the answers (and rows) that fell back alone. */
export interface SalvageOutcome {
  readonly index: number;
  readonly rows: number;
  readonly answersFallback: number;
  readonly rowsFallback: number;
  /** What the first answer to fall back alone failed with, to count reasons by (absent when none fell back). */
  readonly fallbackKey?: string;
}

export interface FallbackOutcome {
  readonly index: number;
  readonly rows: number;
}

export type JobPhase =
  'preparing' | 'classifying' | 'reviewing' | 'writing' | 'done' | 'cancelled' | 'failed';

export interface JobCounters {
  readonly batchesDone: number;
  readonly batchesFallback: number;
  readonly rowsClassified: number;
  readonly rowsFallback: number;
  readonly apiCalls: number;
  readonly rateLimited: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedTokens: number;
  /** Sum of successful request latencies: what one worker would have taken. */
  readonly sequentialMs: number;
  /** Batches the simulator answered (a dry run, or part of a job resumed with another endpoint). */
  readonly batchesSimulated: number;
  /** Answers whose list of codes was longer than the maximum and cut to it (multi-code). */
  readonly answersCut: number;
  /** Batches answered partly wrong whose bad answers were asked again (see domain/salvage.ts). */
  readonly batchesSalvaged: number;
  /** Requests those salvages took beyond each batch's first answer. */
  readonly salvageCalls: number;
  /** Answers that failed alone after salvage and fell back (their rows are in `rowsFallback`). */
  readonly answersFallback: number;
  /** Tokens of Batch API lines (billed at half price), apart from the synchronous ones above. */
  readonly batchPromptTokens: number;
  readonly batchCompletionTokens: number;
  readonly batchCachedTokens: number;
  /** The second opinion: answers sent to the review model, those it labelled, its requests and tokens. */
  readonly reviewAnswers: number;
  readonly reviewRecoded: number;
  readonly reviewCalls: number;
  readonly reviewPromptTokens: number;
  readonly reviewCompletionTokens: number;
  readonly reviewCachedTokens: number;
  /** Answers whose review request ran out of retries: they keep the first model's label. */
  readonly reviewFailed: number;
}

export const ZERO_COUNTERS: JobCounters = {
  batchesDone: 0,
  batchesFallback: 0,
  rowsClassified: 0,
  rowsFallback: 0,
  apiCalls: 0,
  rateLimited: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  sequentialMs: 0,
  batchesSimulated: 0,
  answersCut: 0,
  batchesSalvaged: 0,
  salvageCalls: 0,
  answersFallback: 0,
  batchPromptTokens: 0,
  batchCompletionTokens: 0,
  batchCachedTokens: 0,
  reviewAnswers: 0,
  reviewRecoded: 0,
  reviewCalls: 0,
  reviewPromptTokens: 0,
  reviewCompletionTokens: 0,
  reviewCachedTokens: 0,
  reviewFailed: 0,
};

/** Batch API lines' usage, counted apart from synchronous requests (they cost half). */
export function addBatchApiUsage(c: JobCounters, usage: TokenUsage): JobCounters {
  return {
    ...c,
    batchPromptTokens: c.batchPromptTokens + usage.prompt,
    batchCompletionTokens: c.batchCompletionTokens + usage.completion,
    batchCachedTokens: c.batchCachedTokens + usage.cached,
  };
}

/**
 * An ended batch's files read: the batches coded whole count as done, and every answered line's tokens
 * (billed, at the batch price, whether or not the answer was usable). Partly wrong and unanswered ones are
 * counted when the synchronous path finishes them.
 */
export function addBatchPart(c: JobCounters, o: BatchPartOutcome): JobCounters {
  return {
    ...addBatchApiUsage(c, o.usage),
    batchesDone: c.batchesDone + o.coded,
    rowsClassified: c.rowsClassified + o.rowsCoded,
    apiCalls: c.apiCalls + o.answered,
    batchesSimulated: c.batchesSimulated + (o.simulated ? o.coded : 0),
    answersCut: c.answersCut + (o.cut ?? 0),
  };
}

export function addOutcome(c: JobCounters, o: BatchOutcome): JobCounters {
  return {
    ...c,
    batchesDone: c.batchesDone + 1,
    rowsClassified: c.rowsClassified + o.rows,
    apiCalls: c.apiCalls + o.apiCalls,
    promptTokens: c.promptTokens + o.usage.prompt,
    completionTokens: c.completionTokens + o.usage.completion,
    cachedTokens: c.cachedTokens + o.usage.cached,
    sequentialMs: c.sequentialMs + o.latencyMs,
    batchesSimulated: c.batchesSimulated + (o.simulated ? 1 : 0),
    answersCut: c.answersCut + (o.cut ?? 0),
  };
}

/**
 * A salvaged batch, once assembled (its requests are counted by `addOutcome`): a batch with an answer fallen
 * back alone counts among the fallback batches, as its rows do among the fallback rows.
 */
export function addSalvage(c: JobCounters, s: SalvageOutcome, salvageCalls: number): JobCounters {
  return {
    ...c,
    batchesSalvaged: c.batchesSalvaged + 1,
    salvageCalls: c.salvageCalls + salvageCalls,
    answersFallback: c.answersFallback + s.answersFallback,
    batchesFallback: c.batchesFallback + (s.answersFallback > 0 ? 1 : 0),
    rowsFallback: c.rowsFallback + s.rowsFallback,
  };
}

/** A review request's answer (tokens and calls counted apart from the first model's: another price). */
export function addReview(c: JobCounters, o: ReviewOutcome): JobCounters {
  return {
    ...c,
    reviewAnswers: c.reviewAnswers + o.answers,
    reviewRecoded: c.reviewRecoded + o.recoded,
    reviewCalls: c.reviewCalls + o.apiCalls,
    reviewPromptTokens: c.reviewPromptTokens + o.usage.prompt,
    reviewCompletionTokens: c.reviewCompletionTokens + o.usage.completion,
    reviewCachedTokens: c.reviewCachedTokens + o.usage.cached,
  };
}

/** A review request out of retries: its answers keep the first model's labels. */
export function addReviewFailure(c: JobCounters, answers: number, apiCalls: number): JobCounters {
  return {
    ...c,
    reviewAnswers: c.reviewAnswers + answers,
    reviewFailed: c.reviewFailed + answers,
    reviewCalls: c.reviewCalls + apiCalls,
  };
}

export function addFallback(c: JobCounters, f: FallbackOutcome, apiCalls: number): JobCounters {
  return {
    ...c,
    batchesDone: c.batchesDone + 1,
    batchesFallback: c.batchesFallback + 1,
    rowsClassified: c.rowsClassified + f.rows,
    rowsFallback: c.rowsFallback + f.rows,
    apiCalls: c.apiCalls + apiCalls,
  };
}

/** The live view of a job, answered by the workflow's `progress` query. */
export interface JobProgress {
  readonly jobId: string;
  readonly phase: JobPhase;
  readonly paused: boolean;
  /** A dry run against the simulator (no API key): the categories are not real codings. */
  readonly simulated: boolean;
  readonly fileName: string;
  readonly column: string;
  readonly rows: {
    readonly total: number;
    readonly done: number;
    readonly empty: number;
    readonly invalid: number;
    readonly alreadyCoded: number;
    readonly toClassify: number;
    readonly classified: number;
    readonly fallback: number;
  };
  readonly uniqueAnswers: number;
  readonly batches: {
    readonly total: number;
    readonly done: number;
    readonly inFlight: number;
    readonly fallback: number;
  };
  readonly window: { readonly size: number; readonly max: number };
  readonly ratePerMinute: number;
  readonly etaSeconds: number | null;
  readonly elapsedSeconds: number;
  readonly tokens: {
    readonly prompt: number;
    readonly completion: number;
    readonly cached: number;
    readonly total: number;
  };
  readonly apiCalls: number;
  readonly rateLimited: number;
  /** What the job has cost so far, and its cap (absent in progress from workers before costs). */
  readonly cost?: JobCost;
  /** Fallback batches by reason. */
  readonly fallbackReasons: Readonly<Record<string, number>>;
  /** Batch API mode: the round, its batches' states and request counts. */
  readonly batchApi?: BatchApiProgress;
  readonly startedAt: string;
  readonly updatedAt: string;
}

export interface ProgressInput {
  readonly jobId: string;
  readonly fileName: string;
  readonly column: string;
  readonly phase: JobPhase;
  readonly paused: boolean;
  readonly plan: JobPlan | undefined;
  readonly counters: JobCounters;
  readonly inFlight: number;
  readonly window: AdaptiveWindow;
  readonly fallbackReasons: Readonly<Record<string, number>>;
  readonly startedAt: number;
  /** When classification began (after prepare), for the rate. */
  readonly classifyStartedAt: number | undefined;
  readonly now: number;
  /** The cap and whether it holds the job (absent: no cap). */
  readonly cap?: CapState;
  readonly batchApi?: BatchApiProgress;
}

/** Builds the progress view; `now` is the workflow's clock, so rate and ETA are as of the last event. */
/** A dry run: planned against the built-in simulator, or some batch was answered by a simulator. */
export function isSimulated(plan: Pick<JobPlan, 'simulated'> | undefined, counters: JobCounters): boolean {
  return (plan?.simulated ?? false) || counters.batchesSimulated > 0;
}

export function describeProgress(p: ProgressInput): JobProgress {
  const rows = p.plan?.rows;
  const c = p.counters;
  const classifyingMs = p.classifyStartedAt === undefined ? 0 : Math.max(0, p.now - p.classifyStartedAt);
  const ratePerMinute = classifyingMs > 0 ? (c.rowsClassified / classifyingMs) * 60_000 : 0;
  const remaining = (rows?.classify ?? 0) - c.rowsClassified;
  const finished = p.phase === 'done' || p.phase === 'cancelled' || p.phase === 'failed';
  const etaSeconds =
    finished || remaining <= 0 ? 0 : ratePerMinute > 0 ? Math.ceil((remaining / ratePerMinute) * 60) : null;
  const instant = rows ? rows.empty + rows.invalid + rows.coded : 0;
  return {
    jobId: p.jobId,
    phase: p.phase,
    paused: p.paused,
    simulated: isSimulated(p.plan, c),
    fileName: p.fileName,
    column: p.column,
    rows: {
      total: rows?.total ?? 0,
      done: instant + c.rowsClassified,
      empty: rows?.empty ?? 0,
      invalid: rows?.invalid ?? 0,
      alreadyCoded: rows?.coded ?? 0,
      toClassify: rows?.classify ?? 0,
      classified: c.rowsClassified,
      fallback: c.rowsFallback,
    },
    uniqueAnswers: p.plan?.uniqueAnswers ?? 0,
    batches: {
      total: p.plan?.batches ?? 0,
      done: c.batchesDone,
      inFlight: p.inFlight,
      fallback: c.batchesFallback,
    },
    window: { size: p.window.size, max: p.window.max },
    ratePerMinute: Math.round(ratePerMinute * 10) / 10,
    etaSeconds,
    elapsedSeconds: Math.round((p.now - p.startedAt) / 100) / 10,
    // Every token sent, synchronous and Batch API alike (the cost prices them apart).
    tokens: {
      prompt: c.promptTokens + c.batchPromptTokens,
      completion: c.completionTokens + c.batchCompletionTokens,
      cached: c.cachedTokens + c.batchCachedTokens,
      total: c.promptTokens + c.completionTokens + c.batchPromptTokens + c.batchCompletionTokens,
    },
    apiCalls: c.apiCalls,
    rateLimited: c.rateLimited,
    cost: jobCost(jobTokens(c), p.plan, p.cap),
    fallbackReasons: p.fallbackReasons,
    ...(p.batchApi ? { batchApi: p.batchApi } : {}),
    startedAt: new Date(p.startedAt).toISOString(),
    updatedAt: new Date(p.now).toISOString(),
  };
}

/** The stats block printed at the end of a job, as the original tool printed it. */
export interface JobStats {
  readonly totalSeconds: number;
  readonly classifySeconds: number;
  readonly ratePerMinute: number;
  /** Sequential estimate (sum of request latencies) divided by the classification wall time. */
  readonly speedup: number;
  readonly sequentialEstimateSeconds: number;
  readonly apiCalls: number;
  readonly rateLimited: number;
  readonly tokens: number;
  readonly fallbackBatches: number;
  readonly fallbackRows: number;
}

export function computeStats(
  counters: JobCounters,
  startedAt: number,
  classifyStartedAt: number,
  classifyEndedAt: number,
  endedAt: number,
): JobStats {
  const classifyMs = Math.max(1, classifyEndedAt - classifyStartedAt);
  return {
    totalSeconds: round((endedAt - startedAt) / 1000, 1),
    classifySeconds: round(classifyMs / 1000, 1),
    ratePerMinute: round((counters.rowsClassified / classifyMs) * 60_000, 1),
    speedup: counters.sequentialMs > 0 ? round(counters.sequentialMs / classifyMs, 2) : 0,
    sequentialEstimateSeconds: round(counters.sequentialMs / 1000, 1),
    apiCalls: counters.apiCalls,
    rateLimited: counters.rateLimited,
    tokens:
      counters.promptTokens +
      counters.completionTokens +
      counters.batchPromptTokens +
      counters.batchCompletionTokens,
    fallbackBatches: counters.batchesFallback,
    fallbackRows: counters.rowsFallback,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Whether the job runs one batch at a time (the original's rule) or with its window of workers. */
export function effectiveWindow(options: JobOptions, toClassify: number): number {
  if (!options.parallel || toClassify < options.minResponsesForParallel) return 1;
  return options.maxWorkers;
}

/** The job as stored in its folder (job.json): what to read, how to code it. */
export interface JobSpec {
  readonly jobId: string;
  /** The user's file name, for messages and the output's name. */
  readonly fileName: string;
  readonly format: SheetFormat;
  /** The stored copy's name inside the job folder. */
  readonly input: string;
  readonly sheet?: string;
  readonly column: string;
  /** A human-coded column to measure the model against (never sent to the model). */
  readonly goldColumn?: string;
  /** Banner columns for the `Tables` sheet (`Region`, `NPS=0-6,7-8,9-10`); see domain/banner-tables.ts. */
  readonly by?: readonly string[];
  readonly question?: string;
  readonly categories: readonly Category[];
  /** The categories as their starter gave them (API jobs since it was kept), to start the job again. */
  readonly categoriesText?: string;
  readonly options: JobOptions;
  /** The name its starter gave it, if any. */
  readonly name?: string;
  readonly createdAt: string;
}

/**
 * What a job was started with, named as `POST /jobs` names its fields, so that a client can start it again
 * (with the job's upload, `jobId`). Settings are those the job ran with, the server's defaults included; a
 * field an older job did not keep is absent. Never a key or a token: the job's options hold none, and only
 * these fields are read from them.
 */
export interface JobStart {
  readonly name?: string;
  readonly sheet?: string;
  readonly column: string;
  readonly goldColumn?: string;
  readonly by?: readonly string[];
  readonly question?: string;
  /** The categories text as given (absent for jobs from before it was kept). */
  readonly categories?: string;
  readonly batchSize: BatchSize;
  readonly concurrency: number;
  readonly temperature: number;
  readonly model: string;
  readonly parallel: boolean;
  readonly multi?: boolean;
  /** With `multi` only, as the form takes it. */
  readonly maxCodes?: number;
  readonly maxCost?: number;
  readonly batchApi?: boolean;
  readonly reviewModel?: string;
  /** With `goldColumn` only, as the form takes it. */
  readonly examplesFromGold?: number;
}
