import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobPlan, JobSpec, RowKind, TokenUsage } from '../domain/job.js';
import type { PlannedBatch } from '../domain/plan.js';
import type { ChosenExamples } from '../domain/examples.js';
import type { PromptExample, PromptItem } from '../domain/prompt.js';
import type { PieceResult } from '../domain/salvage.js';
import { pieceKey } from '../domain/salvage.js';
import type { JobStore } from '../lib/store.js';
import { paddedIndex, readJsonFile } from '../lib/store.js';

/** The files a job's activities share through the store, and their shapes. */

export const OUTPUT_XLSX = 'output.xlsx';
export const OUTPUT_CSV = 'output.csv';
/** The human-coded answers shown to the model as examples (`--examples-from-gold`), and their rows. */
export const EXAMPLES = 'examples.json';

export type StoredExamples = ChosenExamples;

/** Written once the model has refused `logprobs` (a 400): later batches of the job do not ask again. */
export const LOGPROBS_OFF = 'logprobs-off.json';

export interface LogprobsOff {
  readonly reason: string;
  readonly batch: number;
}

/**
 * `logprobs-refused/<name>.json`: requests the model refused for asking `logprobs`, `{ requests }` a file.
 * Requests in flight when the first refusal is stored (parallel workers, a Batch API round) are refused
 * too: the Run sheet counts them all. The name is one a request (or a Batch API part) always makes, so a
 * retried write does not count twice.
 */
export const LOGPROBS_REFUSED = 'logprobs-refused';

export async function recordLogprobsRefusals(
  store: JobStore,
  jobId: string,
  name: string,
  requests: number,
): Promise<void> {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  await store.writeJson(store.file(jobId, path.join(LOGPROBS_REFUSED, `${safe}.json`)), { requests });
}

/** The requests refused for asking `logprobs`, over the job's runs and workers. */
export async function countLogprobsRefusals(store: JobStore, jobId: string): Promise<number> {
  const dir = store.file(jobId, LOGPROBS_REFUSED);
  const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  let total = 0;
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const refused = await store.readJsonIfExists<{ requests: number }>(path.join(dir, name));
    total += refused?.requests ?? 0;
  }
  return total;
}

/**
 * `batch-api/lone-<index>.json`, Batch API mode: the rounds whose line asked this batch's one answer (alone,
 * as the last step of a salvage asks it) and got it wrong. Each is one of the answer's asks before it falls
 * back (see `asksAloneAgain`), whether it is asked again in a later round or directly.
 */
export interface LoneAsks {
  readonly rounds: readonly number[];
}

const loneAsksFile = (store: JobStore, jobId: string, index: number) =>
  path.join(store.file(jobId, 'batch-api'), `lone-${index}.json`);

/** How many batch lines asked this batch's one answer and got it wrong (0 outside Batch API mode). */
export async function loneAsksInBatches(store: JobStore, jobId: string, index: number): Promise<number> {
  return (await store.readJsonIfExists<LoneAsks>(loneAsksFile(store, jobId, index)))?.rounds.length ?? 0;
}

/** Records that `round`'s line got the answer wrong (once per round, so a retried read counts the same). */
export async function recordLoneAsk(
  store: JobStore,
  jobId: string,
  index: number,
  round: number,
): Promise<number> {
  const file = loneAsksFile(store, jobId, index);
  const rounds = new Set((await store.readJsonIfExists<LoneAsks>(file))?.rounds ?? []);
  if (!rounds.has(round)) {
    rounds.add(round);
    const marked: LoneAsks = { rounds: [...rounds].sort((a, b) => a - b) };
    await store.writeJson(file, marked);
  }
  return rounds.size;
}

/**
 * `attempts/<batch>-<pieceKey(ids)>.json`: how many times a request (a batch, or some of its answers) failed
 * before. A hand-over starts a batch that is in retry backoff again as a new activity, whose own count starts
 * at 1; this record carries the count across runs, so the retry policy's maximum holds for the job, not per
 * run. Written when an attempt fails (a worker that dies mid-attempt leaves it uncounted, as Temporal counts
 * it within the run).
 */
export interface FailedAttempts {
  /** The run whose activity failed last. */
  readonly runId: string;
  /** Attempts that failed in the runs before it. */
  readonly before: number;
  /** Its attempt (in its own count) that failed last. */
  readonly attempt: number;
  /** That failure, to fall back with when a later run finds the retries spent. */
  readonly type: string;
  readonly message: string;
  /**
   * Of all the failures so far, over every run, those of an answer asked alone that the model got wrong
   * (`LoneAnswerError`): what `LONE_ANSWER_ATTEMPTS` counts. Transport failures (a 500, a timeout) are not
   * among them: they are the retry policy's. Absent in records written before it was counted: none.
   */
  readonly lone?: number;
  /**
   * Of all the failures so far, those where the model's answer was unusable as a whole (`ModelOutputError`:
   * not JSON of the schema, cut off, refused): what `WHOLE_ANSWER_ATTEMPTS` counts. Absent in older records: none.
   */
  readonly unusable?: number;
}

/** The request's attempt counted over every run: `attempt` of this run's activity plus earlier runs' failures. */
export interface AttemptCount {
  readonly attempt: number;
  /** Attempts that failed in earlier runs. */
  readonly before: number;
  /** The last failure recorded, if any. */
  readonly last?: FailedAttempts;
  /** Failures so far that were the model's wrong answer to an answer asked alone (see `FailedAttempts.lone`). */
  readonly lone: number;
  /** Failures so far where the model's answer was unusable as a whole (see `FailedAttempts.unusable`). */
  readonly unusable: number;
}

export async function attemptsSoFar(
  store: JobStore,
  jobId: string,
  index: number,
  ids: readonly string[],
  run: { readonly runId: string; readonly attempt: number },
): Promise<AttemptCount> {
  const last = await store.readJsonIfExists<FailedAttempts>(store.attemptsFile(jobId, index, pieceKey(ids)));
  if (!last) return { attempt: run.attempt, before: 0, lone: 0, unusable: 0 };
  const before = last.runId === run.runId ? last.before : last.before + last.attempt;
  return { attempt: before + run.attempt, before, last, lone: last.lone ?? 0, unusable: last.unusable ?? 0 };
}

export async function recordFailedAttempt(
  store: JobStore,
  jobId: string,
  index: number,
  ids: readonly string[],
  failed: FailedAttempts,
): Promise<void> {
  await store.writeJson(store.attemptsFile(jobId, index, pieceKey(ids)), failed);
}

/** A batch as sent: its unique answers with their prompt ids. */
export interface StoredBatch extends PlannedBatch {
  readonly items: readonly PromptItem[];
  /** Sheet rows of each item (duplicates included), aligned with `items`. Absent in jobs prepared before salvage. */
  readonly itemRows?: readonly number[];
}

/**
 * An item's labels as stored: a list (one label in single-label mode). Results stored before multi-code
 * hold one string per item: read them with `itemLabels`.
 */
export type StoredLabels = readonly string[] | string;

/** A batch's outcome: labels aligned with its items, or the reason it fell back. */
export type StoredResult =
  | {
      readonly index: number;
      readonly fallback?: undefined;
      readonly labels: readonly StoredLabels[];
      /** Answers whose list of codes was cut to the job's maximum (multi-code; absent when none). */
      readonly cut?: number;
      readonly usage: TokenUsage;
      readonly latencyMs: number;
      readonly attempt: number;
      readonly model: string;
      readonly worker?: string;
      /** Answered by verbatim's simulator, not a model. */
      readonly simulated?: true;
      /**
       * Assembled from the pieces of a salvage (the first answer was partly wrong; see domain/salvage.ts):
       * `usage` and `latencyMs` add up every request, `attempt` is the first one's. Absent before salvage.
       */
      readonly salvaged?: true;
      /** Items that failed alone and fell back, by position, with the reason; their `labels` are []. */
      readonly fallbacks?: ReadonlyArray<{ readonly position: number; readonly reason: string }>;
      /** Each item's confidence (0–1, null where none), when the model gave log-probabilities. */
      readonly confidence?: ReadonlyArray<number | null>;
    }
  | { readonly index: number; readonly fallback: { readonly reason: string; readonly attempts: number } };

/**
 * One request of a salvage, as stored under `pieces/<batch>/<pieceKey(ids)>.json` and never rewritten: the
 * first attempt to store it wins, and every later one (a retry, a run after a continue-as-new) reads it.
 */
export interface StoredPiece extends PieceResult, AnsweredRequest {
  readonly cut?: number;
}

/** Who answered a stored request, with what, in how many attempts. */
export interface AnsweredRequest {
  readonly index: number;
  readonly usage: TokenUsage;
  readonly latencyMs: number;
  /** The attempt that got the answer: the requests it cost. */
  readonly attempt: number;
  readonly model: string;
  readonly worker?: string;
  readonly simulated?: true;
}

/**
 * Every data row, as columns (a million rows are three arrays, not a million small ones): its sheet row,
 * how it is treated (one letter a row, `KIND_LETTERS`), its unique answer index or -1; and the labels found
 * already there.
 */
export interface StoredRows {
  readonly rows: readonly number[];
  readonly kinds: string;
  readonly answers: readonly number[];
  readonly codedLabels: ReadonlyArray<readonly [number, string]>;
  /** The human-coded column's non-empty cells, [sheet row, text]: read by the output only, never sent. */
  readonly gold?: ReadonlyArray<readonly [number, string]>;
}

/** rows.json of jobs prepared before the columns: one tuple a row. */
interface TupleRows {
  readonly assignments: ReadonlyArray<readonly [number, RowKind, number]>;
  readonly codedLabels: ReadonlyArray<readonly [number, string]>;
  /** The human-coded column's non-empty cells, [sheet row, text]: read by the output only, never sent. */
  readonly gold?: ReadonlyArray<readonly [number, string]>;
}

export const KIND_LETTERS: Readonly<Record<RowKind, string>> = {
  empty: 'e',
  invalid: 'i',
  coded: 'c',
  classify: 'k',
};
const KINDS: Readonly<Record<string, RowKind>> = { e: 'empty', i: 'invalid', c: 'coded', k: 'classify' };

/** The rows as [sheet row, treatment, unique answer index or -1], in order. */
export function* assignmentsOf(stored: StoredRows): Generator<readonly [number, RowKind, number]> {
  for (let i = 0; i < stored.rows.length; i += 1) {
    yield [stored.rows[i] ?? 0, KINDS[stored.kinds[i] ?? ''] ?? 'empty', stored.answers[i] ?? -1];
  }
}

/**
 * A batch's line in spans.json: first and last sheet row, rows covered, answers sent, and the index of its
 * first answer. Batches cut the unique answers in order, so a batch's answers are the `answers` indexes
 * from that first one: the output is assembled from spans.json and the results, without the batch files.
 */
export type SpanRecord = readonly [
  firstRow: number,
  lastRow: number,
  rows: number,
  answers: number,
  firstAnswer: number,
  /** The request's billed prompt tokens and output ceiling (absent in plans before the spending cap). */
  promptTokens?: number,
  maxTokens?: number,
];

/** The labels of the item at `position` of a stored result, whichever way it was stored; [] when none. */
export function itemLabels(labels: readonly StoredLabels[], position: number): readonly string[] {
  const stored = labels[position];
  if (stored === undefined) return [];
  if (typeof stored === 'string') return stored === '' ? [] : [stored];
  return stored;
}

/**
 * What prepareJob stores once the batch files are written: the batches' spans, the rows and the plan, the
 * plan last, so a plan on disk means its batches are all there.
 */
export async function writePlanFiles(
  store: JobStore,
  jobId: string,
  spans: readonly SpanRecord[],
  rows: StoredRows,
  plan: JobPlan,
): Promise<void> {
  await store.writeJson(store.file(jobId, 'spans.json'), spans);
  await store.writeJson(store.file(jobId, 'rows.json'), rows);
  await store.writeJson(store.file(jobId, 'plan.json'), plan);
}

export function readBatch(store: JobStore, jobId: string, index: number): Promise<StoredBatch> {
  return readJsonFile<StoredBatch>(store.batchFile(jobId, index), jobId);
}

export function readResult(store: JobStore, jobId: string, index: number): Promise<StoredResult | undefined> {
  return store.readJsonIfExists<StoredResult>(store.resultFile(jobId, index));
}

export function readPiece(
  store: JobStore,
  jobId: string,
  index: number,
  ids: readonly string[],
): Promise<StoredPiece | undefined> {
  return store.readJsonIfExists<StoredPiece>(store.pieceFile(jobId, index, pieceKey(ids)));
}

/** Stores a piece unless one is there already; returns the one stored (this one, or the earlier winner). */
export async function storePiece(store: JobStore, jobId: string, piece: StoredPiece): Promise<StoredPiece> {
  const file = store.pieceFile(jobId, piece.index, pieceKey(piece.ids));
  if (await store.writeJsonOnce(file, piece)) return piece;
  return (await store.readJsonIfExists<StoredPiece>(file)) ?? piece;
}

/** Every stored piece of a batch, by key (a handful at most: only its bad answers were asked again). */
export async function readPieces(
  store: JobStore,
  jobId: string,
  index: number,
): Promise<Map<string, StoredPiece>> {
  const dir = store.piecesDir(jobId, index);
  const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const pieces = new Map<string, StoredPiece>();
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const piece = await store.readJsonIfExists<StoredPiece>(path.join(dir, name));
    if (piece) pieces.set(pieceKey(piece.ids), piece);
  }
  return pieces;
}

export async function readRows(store: JobStore, jobId: string): Promise<StoredRows> {
  const stored = await store.readJson<StoredRows | TupleRows>(jobId, 'rows.json');
  if (!('assignments' in stored)) return stored;
  return {
    rows: stored.assignments.map(([row]) => row),
    kinds: stored.assignments.map(([, kind]) => KIND_LETTERS[kind]).join(''),
    answers: stored.assignments.map(([, , answer]) => answer),
    codedLabels: stored.codedLabels,
    ...(stored.gold ? { gold: stored.gold } : {}),
  };
}

export interface LoadedJob {
  readonly spec: JobSpec;
  readonly plan: JobPlan;
  /** Examples for the instructions; [] when the job has none. */
  readonly examples: readonly PromptExample[];
}

/** Spec and plan never change once prepared; batch activities of a job read them once per process. */
const jobs = new Map<string, Promise<LoadedJob>>();
const MAX_CACHED_JOBS = 32;

export function loadJob(store: JobStore, jobId: string): Promise<LoadedJob> {
  const key = `${store.root}\u0000${jobId}`;
  let job = jobs.get(key);
  if (!job) {
    job = Promise.all([
      store.readJson<JobSpec>(jobId, 'job.json'),
      store.readJson<JobPlan>(jobId, 'plan.json'),
      store.readJsonIfExists<StoredExamples>(store.file(jobId, EXAMPLES)),
    ]).then(([spec, plan, examples]) => ({ spec, plan, examples: examples?.examples ?? [] }));
    job.catch(() => jobs.delete(key));
    if (jobs.size >= MAX_CACHED_JOBS) jobs.delete(jobs.keys().next().value ?? '');
    jobs.set(key, job);
  }
  return job;
}

/** `fn(0) … fn(count - 1)`, at most `limit` at a time, results in order: many small files, quickly. */
export async function mapLimit<T>(count: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    for (let i = next++; i < count; i = next++) results[i] = await fn(i);
  });
  await Promise.all(lanes);
  return results;
}

/** A review request as stored: the unique answers it asks about and their prompt items, aligned. */
export interface StoredReviewBatch {
  readonly index: number;
  readonly answers: readonly number[];
  readonly items: readonly PromptItem[];
}

/** The review model's answer to one request: labels aligned with its items ([] where it gave none valid). */
export interface StoredReviewResult extends AnsweredRequest {
  readonly labels: ReadonlyArray<readonly string[]>;
}

/** The second opinion's files, under `review/` in the job's folder. */
const reviewFile = (store: JobStore, jobId: string, name: string) =>
  store.file(jobId, path.join('review', name));
export const reviewPlanFile = (store: JobStore, jobId: string) => reviewFile(store, jobId, 'plan.json');
export const reviewBatchFile = (store: JobStore, jobId: string, index: number) =>
  reviewFile(store, jobId, `batches/${paddedIndex(index)}.json`);
export const reviewResultFile = (store: JobStore, jobId: string, index: number) =>
  reviewFile(store, jobId, `results/${paddedIndex(index)}.json`);
