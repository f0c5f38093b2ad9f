/**
 * The workflow's public surface: its input and result, and the messages the API and CLI send it. The API
 * imports this file (and only this one) from workflows/.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchApiState } from '../domain/batch-api.js';
import type { JobCounters, JobOptions, JobPlan, JobProgress, JobStats } from '../domain/job.js';
import type { QualitySummary } from '../domain/quality.js';
import type { ReviewState } from '../domain/review.js';
import type { AdaptiveWindow } from '../domain/rate.js';

export interface ClassifyJobInput {
  /** The job id, which is also the workflow id and names the job's folder in the store. */
  readonly jobId: string;
  readonly fileName: string;
  readonly column: string;
  readonly sheet?: string;
  readonly options: JobOptions;
  /** Whether verbatim's search attributes are registered on the namespace (the starter checks). */
  readonly searchAttributes: boolean;
  /** Batches one run handles before it continues as new, keeping each run's history small. */
  readonly batchesPerRun?: number;
  /** Batch API mode: lines per file below OpenAI's 50,000 (tests cut a small job into several batches). */
  readonly batchApiLinesPerFile?: number;
  /** Batch API mode: looks at the batches before a run hands over (tests; default 500). */
  readonly batchApiPollsPerRun?: number;
  /** State handed over by continue-as-new. */
  readonly carry?: CarriedState;
}

/** Everything a continued run needs: counters and a cursor, never the answers. */
export interface CarriedState {
  readonly plan: JobPlan;
  /** Every batch below this index is done (coded or fallen back), but those listed in `inFlight`. */
  readonly nextBatch: number;
  readonly counters: JobCounters;
  readonly window: AdaptiveWindow;
  readonly paused: boolean;
  readonly fallbackReasons: Readonly<Record<string, number>>;
  readonly startedAt: number;
  readonly classifyStartedAt: number;
  readonly runs: number;
  /**
   * Batches still waiting on the model when the run handed over (not counted yet, and not below `nextBatch`'s
   * guarantee): the next run starts them first. Their stored results and salvage pieces are reused, so what
   * the closed run's attempts already got is not asked again. Absent in state carried by older code.
   */
  readonly inFlight?: readonly number[];
  /**
   * The cost cap as the last run left it: a number set or raised by `setMaxCostUpdate`, null when lifted.
   * Absent: the job's own `options.maxCost` applies (state from older code has none).
   */
  readonly maxCost?: number | null;
  /** Batch API mode: the round, its batch ids and states, what the rounds left (absent in sync jobs). */
  readonly batchApi?: BatchApiState;
  /** The second opinion under way: every batch is done, and the review goes on from here. */
  readonly review?: ReviewState;
}

export interface ClassifyJobResult {
  readonly jobId: string;
  /** File names of the coded output in the job's folder. */
  readonly output: { readonly xlsx: string; readonly csv: string };
  readonly partial: boolean;
  readonly stats: JobStats;
  readonly progress: JobProgress;
  /** Agreement with the human-coded column, when the job has one. */
  readonly quality?: QualitySummary;
}

/** Sent by a batch activity when the API answered 429, so the job narrows its window at once. */
export interface RateLimitedNotice {
  readonly batch: number;
  readonly retryAfterMs: number | undefined;
}

export const progressQuery = defineQuery<JobProgress>('progress');

/** Sets the ceiling of the job's window of batches in flight (1–200). Returns the new window. */
export const setConcurrencyUpdate = defineUpdate<JobProgress['window'], [number]>('setConcurrency');
export const pauseUpdate = defineUpdate<JobProgress, []>('pause');
/**
 * Sets the job's cost cap (USD; null lifts it). A job holding a request at its cap goes on once the cap
 * allows it. Refused (by the validator) for a value that is not a positive number, or below what was spent.
 */
export const setMaxCostUpdate = defineUpdate<JobProgress, [number | null]>('setMaxCost');
export const resumeUpdate = defineUpdate<JobProgress, []>('resume');
export const rateLimitedSignal = defineSignal<[RateLimitedNotice]>('rateLimited');

export const MAX_CONCURRENCY = 200;

/** The budget workflow of an LLM task queue: one per queue, shared by every worker and job. */
export function budgetWorkflowId(llmTaskQueue: string): string {
  return `verbatim-budget-${llmTaskQueue}`;
}

export interface BudgetLimits {
  /** Requests per minute; undefined: not limited. */
  readonly rpm?: number;
  /** Tokens per minute; undefined: not limited. */
  readonly tpm?: number;
  /** The length of the budget's "minute" in ms (60,000; shorter only where time is scaled, in benchmarks). */
  readonly windowMs?: number;
}

export interface BudgetInput {
  readonly limits: BudgetLimits;
  /** Bucket levels handed over by continue-as-new. */
  readonly carry?: { readonly requests?: number; readonly tokens?: number; readonly at: number };
}

/** What the API said with its last response: its limits and what was left. */
export interface BudgetObservation {
  readonly limitRequests?: number;
  readonly remainingRequests?: number;
  readonly limitTokens?: number;
  readonly remainingTokens?: number;
}

/** Requests one update may reserve: each worker process sends its waiting requests together. */
export const MAX_RESERVATIONS_PER_UPDATE = 200;

export interface ReserveRequest {
  /** The configured limits of the worker asking (a changed configuration takes effect on the next request). */
  readonly limits: BudgetLimits;
  /**
   * One entry per request, in order: the tokens it is estimated to be charged on arrival. A single number
   * is one request: how workers before the batched reservations asked (their histories still replay).
   */
  readonly tokens: number | readonly number[];
  readonly observed?: BudgetObservation;
  /** Tokens reserved before but not charged (negative: charged beyond the reservation), from usage. */
  readonly refund?: number;
}

export interface Reservation {
  /** One entry per request of the reservation: wait this long before sending it. */
  readonly delaysMs: readonly number[];
  /** The first request's wait, for workers that asked for one request at a time. */
  readonly delayMs: number;
}

export const reserveUpdate = defineUpdate<Reservation, [ReserveRequest]>('reserve');
export const budgetQuery = defineQuery<{
  requests?: number;
  tokens?: number;
  limits: BudgetLimits;
  /** Requests reserved, and the updates that carried them, in this run of the workflow. */
  reservations: number;
  updates: number;
}>('budget');
export * from './codeframe-definitions.js';
