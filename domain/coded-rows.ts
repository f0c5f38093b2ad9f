/**
 * What the output writes for each data row, and what the Summary counts, from the stored outcome of every
 * row: one pass over the rows, in sheet order, the same for the workbook and the CSV.
 */
import type { Codeframe } from './codeframe.js';
import { LabelIndex, codeColumnsSet, joinLabels } from './codeframe.js';
import { categoryKey } from './categories.js';
import type { RowKind } from './job.js';

/** A classified answer's outcome: its labels, `fallback` when its batch ran out of retries, undefined when not reached. */
export type AnswerOutcome = readonly string[] | 'fallback' | undefined;

export interface CodedRowsInput {
  readonly codeframe: Codeframe;
  readonly multi: boolean;
  /** Every data row: [sheet row, how it is treated, unique answer index or -1]. */
  readonly assignments: Iterable<readonly [number, RowKind, number]>;
  readonly answer: (index: number) => AnswerOutcome;
  /** The category cell of each row coded before the job, as the file has it. */
  readonly codedCells: ReadonlyMap<number, string>;
  /** Called for each respondent (a row coded now or before) with its labels: the tables by segment. */
  readonly onRespondent?: (row: number, labels: readonly string[]) => void;
}

/** Respondents (rows) by category, net and treatment: what the Summary shows. */
export interface Tally {
  /** Rows with each category, as `codeframe.categories` lists them. */
  readonly categories: readonly number[];
  /** Rows with any category of each net, as `codeframe.nets` lists them. */
  readonly nets: readonly number[];
  /** Labels of the file's own codes that are not in the codeframe, with their rows, in order of appearance. */
  readonly unknown: ReadonlyArray<{ readonly label: string; readonly count: number }>;
  /** Rows coded by the model or already coded in the file: the base of "% of respondents". */
  readonly respondents: number;
  /** Labels over those rows: the base of "% of mentions". */
  readonly mentions: number;
  readonly rows: {
    readonly total: number;
    readonly model: number;
    readonly file: number;
    readonly invalid: number;
    readonly fallback: number;
    readonly empty: number;
    /** Rows to classify whose batch was not reached (a cancelled job). */
    readonly notReached: number;
  };
}

/** Why a row with an answer has no code of the model's: as the Summary's "Rows" table counts it. */
export type NotCoded = 'invalid' | 'fallback';

export interface CodedRows {
  /** The category cell of each row written: coded now, invalid, fallen back. Rows coded before keep theirs. */
  readonly cells: ReadonlyMap<number, string>;
  /**
   * Multi-code: for each row coded now or before, which 0/1 columns hold a 1 (positions as
   * `codeColumnHeaders` lists them; every other one holds 0). Rows not here are left blank.
   */
  readonly codes: ReadonlyMap<number, readonly number[]>;
  /** Rows with an answer the job did not code: invalid, or their retries ran out (the Summary counts neither). */
  readonly notCoded: ReadonlyMap<number, NotCoded>;
  readonly tally: Tally;
  /** Rows coded before the job whose cell names labels the codeframe does not have (kept as they are). */
  readonly unknownLabels: ReadonlyArray<{ readonly row: number; readonly labels: readonly string[] }>;
  /**
   * For each code column (categories, then nets), the first answers the model gave it, in row order: unique
   * answer indices, at most `MAX_EXAMPLES`. Rows coded in the file have no stored answer and give none.
   */
  readonly examples: ReadonlyArray<readonly number[]>;
}

/** Example answers kept per category and net: enough to show what it holds. */
export const MAX_EXAMPLES = 3;

export function codedRows(input: CodedRowsInput): CodedRows {
  const { codeframe, multi } = input;
  const index = new LabelIndex(codeframe);
  const fallback = codeframe.fallback.name;
  const cells = new Map<number, string>();
  const codes = new Map<number, readonly number[]>();
  const notCoded = new Map<number, NotCoded>();
  const categories = codeframe.categories.map(() => 0);
  const nets = codeframe.nets.map(() => 0);
  const unknown = new Map<string, { label: string; count: number }>();
  const unknownLabels: Array<{ row: number; labels: readonly string[] }> = [];
  const examples: number[][] = [...categories, ...nets].map(() => []);
  const rows = { total: 0, model: 0, file: 0, invalid: 0, fallback: 0, empty: 0, notReached: 0 };
  let mentions = 0;

  const count = (row: number, labels: readonly string[], unknownOnes: readonly string[], answer = -1) => {
    const set = codeColumnsSet(index, labels);
    for (const column of set) {
      if (column < categories.length) categories[column] = (categories[column] ?? 0) + 1;
      else nets[column - categories.length] = (nets[column - categories.length] ?? 0) + 1;
      const some = examples[column];
      if (answer >= 0 && some && some.length < MAX_EXAMPLES && !some.includes(answer)) some.push(answer);
    }
    for (const label of unknownOnes) {
      const entry = unknown.get(categoryKey(label)) ?? { label, count: 0 };
      entry.count += 1;
      unknown.set(categoryKey(label), entry);
    }
    mentions += labels.length;
    if (multi) codes.set(row, set);
    input.onRespondent?.(row, labels);
  };

  for (const [row, kind, answer] of input.assignments) {
    rows.total += 1;
    switch (kind) {
      case 'empty':
        rows.empty += 1;
        break;
      case 'invalid':
        rows.invalid += 1;
        cells.set(row, fallback);
        notCoded.set(row, 'invalid');
        break;
      case 'coded': {
        rows.file += 1;
        const { labels, unknown: strange } = index.readCell(input.codedCells.get(row) ?? '', multi);
        if (strange.length > 0) unknownLabels.push({ row, labels: strange });
        count(row, labels, strange);
        break;
      }
      case 'classify': {
        const outcome = input.answer(answer);
        if (outcome === undefined) rows.notReached += 1;
        else if (outcome === 'fallback') {
          rows.fallback += 1;
          cells.set(row, fallback);
          notCoded.set(row, 'fallback');
        } else {
          rows.model += 1;
          const { labels, unknown: strange } = index.order(outcome);
          cells.set(row, joinLabels(labels));
          count(row, labels, strange, answer);
        }
        break;
      }
    }
  }
  return {
    cells,
    codes,
    notCoded,
    tally: {
      categories,
      nets,
      unknown: [...unknown.values()],
      respondents: rows.model + rows.file,
      mentions,
      rows,
    },
    unknownLabels,
    examples,
  };
}
