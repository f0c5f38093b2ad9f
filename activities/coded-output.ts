/**
 * A job's coded output assembled from what the store holds: the plan, every row's treatment, the stored
 * batch results. What writeOutput writes the workbook and CSV from, and what the SPSS export reads again
 * when asked, long after the job.
 */
import type { Codeframe } from '../domain/codeframe.js';
import { codeColumnHeaders, codeframeOf } from '../domain/codeframe.js';
import type { AnswerOutcome, CodedRows } from '../domain/coded-rows.js';
import { codedRows } from '../domain/coded-rows.js';
import type { JobPlan, JobSpec } from '../domain/job.js';
import type { CodingMode } from '../domain/prompt.js';
import { codingMode } from '../domain/prompt.js';
import type { ReviewPlan } from '../domain/review.js';
import type { JobStore } from '../lib/store.js';
import { readJsonFile } from '../lib/store.js';
import type { CodedSheet } from '../sheets/index.js';
import type { SpanRecord, StoredReviewBatch, StoredReviewResult, StoredRows } from './stored.js';
import {
  assignmentsOf,
  itemLabels,
  loadJob,
  mapLimit,
  readBatch,
  readResult,
  readRows,
  reviewBatchFile,
  reviewPlanFile,
  reviewResultFile,
} from './stored.js';

export interface CodedOutput {
  readonly spec: JobSpec;
  readonly plan: JobPlan;
  readonly mode: CodingMode;
  readonly codeframe: Codeframe;
  readonly rows: StoredRows;
  readonly coded: CodedRows;
  /** Batches whose retries ran out: their first answer and how many. */
  readonly fallbackBatches: ReadonlyArray<{ batch: number; reason: string; first: number; answers: number }>;
  /** Where and what to write: the input's answer sheet, the labels, the 0/1 columns, the confidences. */
  readonly sheet: CodedSheet;
  /** Each unique answer's outcome, by answer index. */
  readonly outcomes: readonly AnswerOutcome[];
  /** Each answer's confidence when its batch came with log-probabilities (null: none for it), by index. */
  readonly confidences: ReadonlyArray<number | null | undefined>;
  readonly spans: readonly SpanRecord[];
  /** Answers the review model coded again, by index: its model and the first model's labels. */
  readonly reviewed: ReadonlyMap<number, Reviewed>;
  /** The second opinion's plan, when the job asked for one and got that far. */
  readonly review?: ReviewPlan;
}

export interface Reviewed {
  readonly model: string;
  readonly first: readonly string[];
}

export async function loadCodedOutput(store: JobStore, jobId: string): Promise<CodedOutput> {
  const { spec, plan } = await loadJob(store, jobId);
  const rows = await readRows(store, jobId);
  const mode = codingMode(spec.options);
  const codeframe = codeframeOf(spec.categories);
  const answerOutcomes = new Array<AnswerOutcome>(plan.uniqueAnswers);
  const confidences = new Array<number | null | undefined>(plan.uniqueAnswers);
  const fallbackBatches: Array<{ batch: number; reason: string; first: number; answers: number }> = [];
  const spans = await store.readJson<SpanRecord[]>(jobId, 'spans.json');
  // Each result is read and dropped in turn: a million rows are 100,000 result files.
  await mapLimit(plan.batches, 32, async (i) => {
    const result = await readResult(store, jobId, i);
    const [, , , answers = 0, first = 0] = spans[i] ?? [];
    if (!result) return; // not reached before a cancel: left blank
    if (result.fallback) {
      for (let a = first; a < first + answers; a += 1) answerOutcomes[a] = 'fallback';
      fallbackBatches.push({ batch: i, reason: result.fallback.reason, first, answers });
    } else {
      for (let p = 0; p < answers; p += 1) {
        const labels = itemLabels(result.labels, p);
        if (labels.length > 0) answerOutcomes[first + p] = labels;
        if (result.confidence) confidences[first + p] = result.confidence[p] ?? null;
      }
      // Answers that fell back alone after a salvage: listed like a batch of one.
      for (const { position, reason } of result.fallbacks ?? []) {
        answerOutcomes[first + position] = 'fallback';
        fallbackBatches.push({ batch: i, reason, first: first + position, answers: 1 });
      }
    }
  });
  fallbackBatches.sort((a, b) => a.batch - b.batch || a.first - b.first);
  // The review model's label wins over the first model's: every view of the output shows the final one.
  const review = await store.readJsonIfExists<ReviewPlan>(reviewPlanFile(store, jobId));
  const reviewed = new Map<number, Reviewed>();
  if (review) {
    await mapLimit(review.batches, 32, async (i) => {
      const result = await store.readJsonIfExists<StoredReviewResult>(reviewResultFile(store, jobId, i));
      if (!result) return; // out of retries, or not reached before a cancel: the first label stays
      const batch = await readJsonFile<StoredReviewBatch>(reviewBatchFile(store, jobId, i), jobId);
      batch.answers.forEach((a, p) => {
        const labels = result.labels[p] ?? [];
        const first = answerOutcomes[a];
        if (labels.length === 0 || first === undefined || first === 'fallback') return;
        reviewed.set(a, { model: result.model, first });
        answerOutcomes[a] = labels;
      });
    });
  }
  const coded = codedRows({
    codeframe,
    multi: mode.multi,
    assignments: assignmentsOf(rows),
    answer: (a) => answerOutcomes[a],
    codedCells: new Map(rows.codedLabels),
  });
  const withConfidence = confidences.some((c) => c !== undefined);
  const sheet: CodedSheet = {
    inputPath: store.file(jobId, spec.input),
    format: spec.format,
    displayName: spec.fileName,
    sheet: plan.sheet,
    headerRow: plan.headerRow,
    categoryColumn: plan.categoryColumn,
    categoryHeader: plan.categoryHeader,
    labels: coded.cells,
    ...(mode.multi && plan.codeColumn
      ? {
          codes: {
            column: plan.codeColumn,
            headers: codeColumnHeaders(plan.header, codeframe),
            ones: coded.codes,
          },
        }
      : {}),
    ...(withConfidence && plan.confidenceColumn
      ? {
          confidence: {
            column: plan.confidenceColumn,
            header: `${plan.header} confidence`,
            values: rowConfidences(assignmentsOf(rows), confidences, reviewed),
          },
        }
      : {}),
  };
  return {
    spec,
    plan,
    mode,
    codeframe,
    rows,
    coded,
    fallbackBatches,
    sheet,
    outcomes: answerOutcomes,
    confidences,
    spans,
    reviewed,
    ...(review ? { review } : {}),
  };
}

/**
 * Sheet row → confidence, for the rows whose answer has one. A row the review model coded again is left
 * blank: the probability was the first model's, of a label the row no longer has (the Review sheet keeps it).
 */
function rowConfidences(
  assignments: Iterable<readonly [number, string, number]>,
  confidences: ReadonlyArray<number | null | undefined>,
  reviewed: ReadonlyMap<number, Reviewed>,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const [row, kind, answer] of assignments) {
    const c = kind === 'classify' && !reviewed.has(answer) ? confidences[answer] : undefined;
    if (typeof c === 'number') out.set(row, c);
  }
  return out;
}

/**
 * Each unique answer's text, read from its batch file when first asked (each batch file read once): for the
 * Review sheet and the summary's examples, which name a few answers out of many.
 */
export function answerTexts(
  store: JobStore,
  jobId: string,
  spans: readonly SpanRecord[],
): (answer: number) => Promise<string> {
  const batchOf = (a: number) => spans.findIndex(([, , , n = 0, first = 0]) => a >= first && a < first + n);
  const batches = new Map<number, ReturnType<typeof readBatch>>();
  return async (a) => {
    const i = batchOf(a);
    if (i === -1) return '';
    let batch = batches.get(i);
    if (!batch) batches.set(i, (batch = readBatch(store, jobId, i)));
    return (await batch).items[a - (spans[i]?.[4] ?? 0)]?.text ?? '';
  };
}
