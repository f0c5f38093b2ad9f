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

/** How each row is treated, as `RowTreatments.kinds` codes it. */
export const ROW_KINDS: readonly RowKind[] = ['empty', 'invalid', 'coded', 'classify'];

/**
 * Every row's treatment as columns, in sheet order: a million rows are three typed arrays (9 bytes a row)
 * rather than a million objects.
 */
export interface RowTreatments {
  readonly length: number;
  /** Sheet row numbers. */
  readonly rows: Int32Array;
  /** Indexes into `ROW_KINDS`. */
  readonly kinds: Uint8Array;
  /** Unique answer index, -1 for rows not to classify. */
  readonly answers: Int32Array;
}

/** A plan with its rows as columns: what a large sheet is planned into. */
export interface ColumnarRowPlan {
  readonly counts: RowCounts;
  readonly answers: readonly UniqueAnswer[];
  readonly rows: RowTreatments;
}

const KIND_CODE: Readonly<Record<RowKind, number>> = { empty: 0, invalid: 1, coded: 2, classify: 3 };

/**
 * Sorts rows into empty / invalid / already coded / to classify, and gives identical answers (trimmed,
 * case-folded) one shared unique answer so each is sent once. Takes the rows one at a time, so a reader
 * can hand each over as it reads it and a million rows are never all in memory; what it keeps is a row's
 * three numbers, each unique answer once, and a small hash of each unique answer's normalized key (the keys
 * themselves, a second copy of every answer, are not held: a hash match is confirmed against the answer).
 */
export class RowPlanner {
  /** Hash of the normalized key → the unique answer(s) with that hash (an array only on a collision). */
  private byHash = new Map<number, number | number[]>();

  /**
   * `seed` starts the hash: a caller reading untrusted files passes a random one, so that answers crafted
   * to collide cannot make planning quadratic. The plan is the same whatever the seed (a hash match is
   * always confirmed against the answer).
   */
  constructor(private readonly seed = FNV_OFFSET) {}
  private readonly answers: UniqueAnswer[] = [];
  private rows = new Int32Array(1024);
  private kinds = new Uint8Array(1024);
  private answerOf = new Int32Array(1024);
  private length = 0;
  private readonly counts = { total: 0, empty: 0, invalid: 0, coded: 0, classify: 0 };

  add(r: SheetAnswerRow): void {
    const { counts } = this;
    counts.total += 1;
    if (!isBlank(r.category)) {
      counts.coded += 1;
      this.push(r.row, 'coded', -1);
    } else if (isBlank(r.answer)) {
      counts.empty += 1;
      this.push(r.row, 'empty', -1);
    } else if (isInvalidAnswer(r.answer)) {
      counts.invalid += 1;
      this.push(r.row, 'invalid', -1);
    } else {
      counts.classify += 1;
      this.push(r.row, 'classify', this.uniqueAnswer(r.answer));
    }
  }

  /** The plan so far, its rows as objects (small sheets, tests); the hashes are let go. */
  finish(): RowPlan {
    const { counts, answers, rows } = this.finishColumns();
    const assignments: RowAssignment[] = [];
    for (let i = 0; i < rows.length; i += 1) {
      const kind = ROW_KINDS[rows.kinds[i] ?? 0] ?? 'empty';
      const answer = rows.answers[i] ?? -1;
      assignments.push({ row: rows.rows[i] ?? 0, kind, ...(answer >= 0 ? { answer } : {}) });
    }
    return { counts, answers, assignments };
  }

  /** The plan so far, its rows as columns; the hashes are let go. */
  finishColumns(): ColumnarRowPlan {
    this.byHash = new Map();
    const n = this.length;
    return {
      counts: { ...this.counts },
      answers: this.answers,
      rows: {
        length: n,
        rows: this.rows.subarray(0, n),
        kinds: this.kinds.subarray(0, n),
        answers: this.answerOf.subarray(0, n),
      },
    };
  }

  private uniqueAnswer(answer: string): number {
    const key = normalizeAnswer(answer);
    const hash = hashKey(key, this.seed);
    const found = this.byHash.get(hash);
    if (found !== undefined) {
      for (const index of typeof found === 'number' ? [found] : found) {
        // The first occurrence's text, trimmed, normalizes to the same key (normalizing trims).
        if (normalizeAnswer(this.answers[index]?.text ?? '') === key) return index;
      }
    }
    const index = this.answers.length;
    this.answers.push({ index, text: answer.trim() });
    if (found === undefined) this.byHash.set(hash, index);
    else if (typeof found === 'number') this.byHash.set(hash, [found, index]);
    else found.push(index);
    return index;
  }

  private push(row: number, kind: RowKind, answer: number): void {
    if (this.length === this.rows.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const bigger = make(a.length * 2);
        bigger.set(a);
        return bigger;
      };
      this.rows = grow(this.rows, (n) => new Int32Array(n));
      this.kinds = grow(this.kinds, (n) => new Uint8Array(n));
      this.answerOf = grow(this.answerOf, (n) => new Int32Array(n));
    }
    this.rows[this.length] = row;
    this.kinds[this.length] = KIND_CODE[kind];
    this.answerOf[this.length] = answer;
    this.length += 1;
  }
}

const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over the UTF-16 code units from `seed`, as a small integer (a Map key without a heap number). */
function hashKey(key: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

export function planRows(rows: readonly SheetAnswerRow[]): RowPlan {
  const planner = new RowPlanner();
  for (const r of rows) planner.add(r);
  return planner.finish();
}

/** Calls `each` with the sheet row and unique answer of every row to classify, in order. */
export function forEachAnswered(
  plan: Pick<RowPlan, 'assignments'> | Pick<ColumnarRowPlan, 'rows'>,
  each: (row: number, answer: number) => void,
): void {
  if ('assignments' in plan) {
    for (const a of plan.assignments) if (a.answer !== undefined) each(a.row, a.answer);
    return;
  }
  const { rows } = plan;
  for (let i = 0; i < rows.length; i += 1) {
    const answer = rows.answers[i] ?? -1;
    if (answer >= 0) each(rows.rows[i] ?? 0, answer);
  }
}

export type BatchingChoice =
  { readonly size: Exclude<BatchSize, 'auto'> } | { readonly size: 'auto'; readonly auto: AutoBatchOptions };

/**
 * Cuts the unique answers into batches, in order (each batch holds a contiguous run of answer indexes,
 * which the output relies on), and records, for each, the rows it covers.
 */
export function planBatches(plan: RowPlan | ColumnarRowPlan, batching: BatchingChoice): PlannedBatch[] {
  const groups =
    batching.size === 'auto'
      ? cutByTokens(plan.answers, batching.auto)
      : cutFixed(plan.answers, batching.size);
  const batchOfAnswer = new Int32Array(plan.answers.length);
  groups.forEach((group, b) => group.forEach((a) => (batchOfAnswer[a.index] = b)));
  const spans = groups.map(() => ({ firstRow: Infinity, lastRow: -Infinity, rows: 0 }));
  forEachAnswered(plan, (row, answer) => {
    const span = spans[batchOfAnswer[answer] ?? -1];
    if (!span) return;
    span.rows += 1;
    span.firstRow = Math.min(span.firstRow, row);
    span.lastRow = Math.max(span.lastRow, row);
  });
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
