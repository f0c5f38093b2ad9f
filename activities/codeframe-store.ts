/**
 * What a codeframe draft keeps in its folder (DATA_DIR/jobs/<cf-…>/), and the shapes of those files. Each
 * step's output is stored under its index, so a retried or re-delivered activity overwrites it and a
 * resumed run finds it done. Rounds, the draft and the measuring job are written once: a run resumed after
 * a failure builds on exactly what the first one stored.
 *
 *   codeframe.json         the spec (file, column, settings, options)       input.<xlsx|csv>  the file
 *   codeframe-plan.json    what reading the column found                     measure-sample.json  rows drawn
 *   chunks/NNNNNN.json     answers of one extraction request                 themes/NNNNNN.json   its themes
 *   rounds/NNNNNN.json     a merge round's themes and groups                 merges/RRRRRR-GGGGGG.json  answers
 *   draft.json             the codes before measuring
 *   job.json, plan.json, batches/, results/   the measuring: an ordinary coding job (classifyBatch)
 *   categories.txt, categories.xlsx, codeframe-report.json   the output
 */
import type { CodeframeSpec } from '../domain/codeframe-job.js';
import type { MergedCode, RoundTheme, Theme } from '../domain/codeframe-themes.js';
import type { TokenUsage } from '../domain/job.js';
import type { PromptItem } from '../domain/prompt.js';
import type { JobStore } from '../lib/store.js';
import { paddedIndex } from '../lib/store.js';

export const CODEFRAME_SPEC = 'codeframe.json';
export const CODEFRAME_PLAN = 'codeframe-plan.json';
export const MEASURE_SAMPLE = 'measure-sample.json';
export const DRAFT = 'draft.json';
export const CODEFRAME_REPORT = 'codeframe-report.json';
export const CATEGORIES_TXT = 'categories.txt';
export const CATEGORIES_XLSX = 'categories.xlsx';

export const chunkFile = (store: JobStore, id: string, index: number) =>
  store.file(id, `chunks/${paddedIndex(index)}.json`);
export const themesFile = (store: JobStore, id: string, index: number) =>
  store.file(id, `themes/${paddedIndex(index)}.json`);
export const roundFile = (store: JobStore, id: string, round: number) =>
  store.file(id, `rounds/${paddedIndex(round)}.json`);
export const mergeFile = (store: JobStore, id: string, round: number, group: number) =>
  store.file(id, `merges/${paddedIndex(round)}-${paddedIndex(group)}.json`);

/** One extraction request's answers: prompt ids are positions (1-based), weights how often each occurs. */
export interface StoredChunk {
  readonly index: number;
  /** What the themes stored for this chunk must match to be reused (the answers it holds). */
  readonly key: number;
  readonly items: readonly PromptItem[];
  readonly weights: readonly number[];
}

export interface StoredThemes {
  readonly index: number;
  readonly key: number;
  readonly themes: readonly Theme[];
  readonly usage: TokenUsage;
  readonly latencyMs: number;
  readonly attempt: number;
  readonly model: string;
  readonly worker?: string;
  readonly simulated?: true;
}

export interface StoredRound {
  readonly round: number;
  /** `final`: one request over every theme, which writes the codes' labels, descriptions and nets. */
  readonly kind: 'intermediate' | 'final';
  readonly themes: readonly RoundTheme[];
  /** Theme ids, one list per request. */
  readonly groups: ReadonlyArray<readonly string[]>;
  readonly targets: readonly number[];
  /** Themes an earlier final merge left out (they fit none of its codes): Other's. */
  readonly leftOut?: ReadonlyArray<{ readonly label: string; readonly count: number }>;
}

export interface StoredMerge {
  readonly round: number;
  readonly group: number;
  readonly key: number;
  readonly codes: readonly MergedCode[];
  readonly usage: TokenUsage;
  readonly attempt: number;
  readonly simulated?: true;
}

export interface StoredDraft {
  readonly codes: readonly Theme[];
  /**
   * Themes left out, into Other: those the final merge fit in none of its codes, those past --max-codes,
   * and any catch-all ("Other", "Miscellaneous") the model made.
   */
  readonly overflow: ReadonlyArray<{ readonly label: string; readonly count: number }>;
  readonly rounds: number;
  /** `fits`: the final round left at most --max-codes; `rounds`: the round limit was reached. */
  readonly reason: 'fits' | 'rounds';
}

/** The rows drawn to measure the draft, as unique answers with how many drawn rows hold each. */
export interface MeasureSample {
  readonly rows: number;
  readonly answers: ReadonlyArray<{ readonly text: string; readonly weight: number }>;
}

export function readSpec(store: JobStore, id: string): Promise<CodeframeSpec> {
  return store.readJson<CodeframeSpec>(id, CODEFRAME_SPEC);
}
