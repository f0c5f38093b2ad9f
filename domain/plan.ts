import type { AutoBatchOptions, BatchSize } from './batching.js';
import { cutByTokens, cutFixed } from './batching.js';
import type { BatchSpan, RowCounts, RowKind } from './job.js';
import { isBlank, isInvalidAnswer, normalizeAnswer } from './text.js';

/** One data row of the answer column, as read from the sheet. */
export interface SheetAnswerRow {
  /** The row's number in the sheet (1-based, as Excel shows it; for CSV, the record number). */
  readonly row: number;
  readonly answer: string;
  /** The category cell's current text: non-empty means already coded. */
  readonly category: string;
}

/** Where each row's label comes from: `answer` indexes the job's unique answers. */
export interface RowAssignment {
  readonly row: number;
  readonly kind: RowKind;
  readonly answer?: number;
}

export interface UniqueAnswer {
  readonly index: number;
  readonly text: string;
}

export interface PlannedBatch extends BatchSpan {
  /** Unique answers sent in this batch, by index; the prompt ids are their positions, 1-based. */
  readonly answerIds: readonly number[];
}

export interface RowPlan {
  readonly counts: RowCounts;
  readonly answers: readonly UniqueAnswer[];
  readonly assignments: readonly RowAssignment[];
}

/**
 * Sorts rows into empty / invalid / already coded / to classify, and gives identical answers (trimmed,
 * case-folded) one shared unique answer so each is sent once. Takes the rows one at a time, so a reader
 * can hand each over as it reads it and a million rows are never all in memory.
 */
export class RowPlanner {
  private byKey = new Map<string, number>();
  private readonly answers: UniqueAnswer[] = [];
  private readonly assignments: RowAssignment[] = [];
  private readonly counts = { total: 0, empty: 0, invalid: 0, coded: 0, classify: 0 };

  add(r: SheetAnswerRow): void {
    const { counts } = this;
    counts.total += 1;
    if (!isBlank(r.category)) {
      counts.coded += 1;
      this.assignments.push({ row: r.row, kind: 'coded' });
    } else if (isBlank(r.answer)) {
      counts.empty += 1;
      this.assignments.push({ row: r.row, kind: 'empty' });
    } else if (isInvalidAnswer(r.answer)) {
      counts.invalid += 1;
      this.assignments.push({ row: r.row, kind: 'invalid' });
    } else {
      counts.classify += 1;
      const key = normalizeAnswer(r.answer);
      let index = this.byKey.get(key);
      if (index === undefined) {
        index = this.answers.length;
        this.byKey.set(key, index);
        this.answers.push({ index, text: r.answer.trim() });
      }
      this.assignments.push({ row: r.row, kind: 'classify', answer: index });
    }
  }

  /** The plan so far; the keys that matched answers are let go. */
  finish(): RowPlan {
    this.byKey = new Map();
    return { counts: { ...this.counts }, answers: this.answers, assignments: this.assignments };
  }
}

export function planRows(rows: readonly SheetAnswerRow[]): RowPlan {
  const planner = new RowPlanner();
  for (const r of rows) planner.add(r);
  return planner.finish();
}

export type BatchingChoice =
  { readonly size: Exclude<BatchSize, 'auto'> } | { readonly size: 'auto'; readonly auto: AutoBatchOptions };

/**
 * Cuts the unique answers into batches, in order (each batch holds a contiguous run of answer indexes,
 * which the output relies on), and records, for each, the rows it covers.
 */
export function planBatches(plan: RowPlan, batching: BatchingChoice): PlannedBatch[] {
  const groups =
    batching.size === 'auto'
      ? cutByTokens(plan.answers, batching.auto)
      : cutFixed(plan.answers, batching.size);
  const batchOfAnswer = new Int32Array(plan.answers.length);
  groups.forEach((group, b) => group.forEach((a) => (batchOfAnswer[a.index] = b)));
  const spans = groups.map(() => ({ firstRow: Infinity, lastRow: -Infinity, rows: 0 }));
  for (const a of plan.assignments) {
    if (a.answer === undefined) continue;
    const span = spans[batchOfAnswer[a.answer] ?? -1];
    if (!span) continue;
    span.rows += 1;
    span.firstRow = Math.min(span.firstRow, a.row);
    span.lastRow = Math.max(span.lastRow, a.row);
  }
  return groups.map((group, index) => {
    const span = spans[index] ?? { firstRow: 0, lastRow: 0, rows: 0 };
    return {
      index,
      firstRow: span.firstRow,
      lastRow: span.lastRow,
      rows: span.rows,
      answers: group.length,
      answerIds: group.map((a) => a.index),
    };
  });
}

/** The prompt id of the n-th answer of a batch (0-based position). Short ids keep the prompt small. */
export function promptId(position: number): string {
  return String(position + 1);
}
