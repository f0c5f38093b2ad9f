/**
 * Where the table starts: which of the first rows is the header, which column holds the answers, and
 * whether a question row sits beside the header (survey exports put codes such as `E2` in one row and the
 * question text in the next). Pure functions over the first rows of a sheet.
 *
 * Rows below the header are data unless the evidence says otherwise: taking a respondent's row for a
 * question row would drop an answer, so that needs a code-like header row and a row of texts that reads
 * like questions, where a row above the header needs less.
 */
import { columnIndex, columnLetter } from '../domain/columns.js';
import type { CellText } from './cells.js';
import { EMPTY_CELL } from './cells.js';

/** How many non-empty rows the header may be found in. */
export const SCAN_ROWS = 30;

export interface HeadRow {
  readonly number: number;
  /** cells[0] is column A. */
  readonly cells: readonly CellText[];
}

export interface Layout {
  readonly headerRow: HeadRow;
  /** 1-based answer column; undefined when only the header row was asked for (preview). */
  readonly column: number | undefined;
  readonly questionRow: HeadRow | undefined;
  /** Data rows are the rows after this one: the header row, or a question or import-id row below it. */
  readonly lastHeaderRow: number;
}

/** Finds the answer column: by header text, by column letter, then by question text (at least 8 chars). */
export function locateColumn(head: readonly HeadRow[], column: string): Layout | undefined {
  const key = normalize(column);
  const detected = detectHeader(head);
  if (key === '' || !detected) return undefined;
  // Text is looked for in the header band only, so an answer that happens to match never becomes a header;
  // the row after the band joins it if it reads like questions (the user's text is the evidence).
  const end = detected.lastHeaderRow;
  const band = head.filter(
    (row) => row.number <= end || (row.number === end + 1 && readsLikeQuestions(row, detected.headerRow)),
  );

  const named = (matches: (text: string) => boolean): Layout | undefined => {
    for (const row of band) {
      const i = row.cells.findIndex((c) => matches(normalize(c.text)));
      if (i !== -1) return fromNamedRow(head, row, i + 1);
    }
    return undefined;
  };
  const exact = named((text) => text === key);
  if (exact) return exact;
  const letter = columnIndex(column);
  // A letter past every cell of the top rows names no column of this sheet (ZZ in a six-column export).
  if (letter !== undefined)
    return letter <= usedWidth(head) ? complete(head, detected.headerRow, letter) : undefined;
  return key.length >= 8 ? named((text) => text.includes(key)) : undefined;
}

/** The header row when no column is named (preview): the first wide row, or the code row under it. */
export function detectHeader(head: readonly HeadRow[]): Layout | undefined {
  const widest = widestRow(head);
  return widest ? complete(head, shiftToCodeRow(head, widest), undefined) : undefined;
}

/** `A "Respondent"`, `B "E2"` … for error messages: at most 40, then how many more. */
export function describeColumns(row: HeadRow | undefined): string[] {
  const named = (row?.cells ?? []).flatMap((c, i) =>
    c.text.trim() === '' ? [] : [`${columnLetter(i + 1)} ${JSON.stringify(c.text.trim())}`],
  );
  return named.length > 40 ? [...named.slice(0, 40), `… ${named.length - 40} more`] : named;
}

export function cellAt(row: HeadRow | undefined, column: number): CellText {
  return row?.cells[column - 1] ?? EMPTY_CELL;
}

/** The text was found in `row`: if that is a question row, its header is the code row beside it. */
function fromNamedRow(head: readonly HeadRow[], row: HeadRow, column: number): Layout {
  const above = rowAt(head, row.number - 1);
  if (above && isCodeRowFor(above, row, column, 'above')) return complete(head, above, column, row);
  const below = rowAt(head, row.number + 1);
  if (below && isCodeRowFor(below, row, column, 'below')) return complete(head, below, column, row);
  return complete(head, row, column);
}

/** The first row at least half as full as the fullest of the first rows: a title row has one cell. */
/** The last column with a non-empty cell in any of the rows. */
function usedWidth(head: readonly HeadRow[]): number {
  let width = 0;
  for (const row of head) {
    for (let i = row.cells.length - 1; i >= width; i -= 1) {
      if (row.cells[i]?.text.trim()) {
        width = i + 1;
        break;
      }
    }
  }
  return width;
}

function widestRow(head: readonly HeadRow[]): HeadRow | undefined {
  const max = Math.max(0, ...head.map(filled));
  return head.find((row) => filled(row) > 0 && filled(row) * 2 >= max);
}

function complete(
  head: readonly HeadRow[],
  headerRow: HeadRow,
  column: number | undefined,
  named?: HeadRow,
): Layout {
  let questionRow = named;
  if (!questionRow) {
    const above = rowAt(head, headerRow.number - 1);
    const below = rowAt(head, headerRow.number + 1);
    if (above && isQuestionRowFor(above, headerRow, column, 'above', head)) questionRow = above;
    else if (below && isQuestionRowFor(below, headerRow, column, 'below', head)) questionRow = below;
  }
  let lastHeaderRow = Math.max(headerRow.number, questionRow?.number ?? 0);
  const next = rowAt(head, lastHeaderRow + 1);
  if (next && isImportIdRow(next)) lastHeaderRow = next.number;
  return { headerRow, column, questionRow, lastHeaderRow };
}

/** A wide row of question texts with a code row right under it: the code row is the header. */
function shiftToCodeRow(head: readonly HeadRow[], row: HeadRow): HeadRow {
  const below = rowAt(head, row.number + 1);
  return below && isCodeRowFor(below, row, undefined, 'below') ? below : row;
}

/**
 * `codes` holds variable names (`Q1`, `E2_TEXT`, `StartDate`) for the questions in `questions`: nearly all
 * cells identifiers, each shorter than its question, covering most columns. A code row below the questions
 * could instead be a respondent's one-word answers, so there some of the codes must also carry digits.
 */
function isCodeRowFor(
  codes: HeadRow,
  questions: HeadRow,
  column: number | undefined,
  where: 'above' | 'below',
): boolean {
  if (!isCodeRow(codes, where === 'below')) return false;
  if (column !== undefined) {
    const code = cellAt(codes, column).text.trim();
    if (code === '' || code.length >= cellAt(questions, column).text.trim().length) return false;
  }
  const { shared, notShorter, base } = compare(questions, codes);
  return shared >= 0.8 * base && notShorter >= 0.8 * shared;
}

function isQuestionRowFor(
  candidate: HeadRow,
  header: HeadRow,
  column: number | undefined,
  where: 'above' | 'below',
  head: readonly HeadRow[],
): boolean {
  const cells = candidate.cells.filter((c) => c.kind !== 'empty');
  if (cells.length === 0 || cells.some((c) => c.kind !== 'text')) return false;
  const { shared, longer, base } = compare(candidate, header);
  // Below the header a row of texts could be the first respondent. Qualtrics' import-id row under it settles
  // it; otherwise ask for codes above it, sentences, and at least one cell ending the way questions do.
  const next = rowAt(head, candidate.number + 1);
  if (where === 'below' && next && isImportIdRow(next)) return shared >= 0.5 * base;
  const question = column === undefined ? undefined : cellAt(candidate, column).text.trim();
  if (column !== undefined && (question ?? '').length <= cellAt(header, column).text.trim().length) {
    return false;
  }
  if (where === 'above') return shared >= 0.5 * base && longer >= 0.5 * shared;
  if (!isCodeRow(header, false) || shared < 0.8 * base || longer < 0.8 * shared) return false;
  if (question !== undefined && !/\s/.test(question)) return false;
  return cells.some((c) => /[?:]\s*$/.test(c.text));
}

/** All text, in most of the header's columns, mostly longer than the header: questions, if anything. */
function readsLikeQuestions(row: HeadRow, header: HeadRow): boolean {
  if (row.cells.some((c) => c.kind !== 'empty' && c.kind !== 'text')) return false;
  const { shared, longer, base } = compare(row, header);
  return shared >= 0.8 * base && longer >= 0.5 * shared;
}

/** At least 80 % identifiers, all text; `strict` also wants digits in 30 % of them (`Q1`, `E2`). */
function isCodeRow(row: HeadRow, strict: boolean): boolean {
  const cells = row.cells.filter((c) => c.kind !== 'empty');
  if (cells.length === 0 || cells.some((c) => c.kind !== 'text')) return false;
  if (cells.filter((c) => IDENTIFIER.test(c.text.trim())).length < 0.8 * cells.length) return false;
  return !strict || cells.filter((c) => /\d/.test(c.text)).length >= 0.3 * cells.length;
}

const IDENTIFIER = /^[A-Za-z_$][\w.$-]{0,31}$/;

/** Qualtrics exports have a third header row of `{"ImportId":"QID2_TEXT"}` cells. */
function isImportIdRow(row: HeadRow): boolean {
  const cells = row.cells.filter((c) => c.kind !== 'empty');
  return cells.length > 0 && cells.every((c) => /^\{\s*"ImportId"\s*:/.test(c.text.trim()));
}

/** Over the columns `b` has text in (`base`): how many `a` has text in too, and how `a`'s text compares. */
function compare(
  a: HeadRow,
  b: HeadRow,
): { base: number; shared: number; longer: number; notShorter: number } {
  const counts = { base: 0, shared: 0, longer: 0, notShorter: 0 };
  b.cells.forEach((cell, i) => {
    const mine = cell.text.trim();
    const other = cellAt(a, i + 1).text.trim();
    if (mine === '') return;
    counts.base += 1;
    if (other === '') return;
    counts.shared += 1;
    if (other.length > mine.length) counts.longer += 1;
    if (other.length >= mine.length) counts.notShorter += 1;
  });
  return counts;
}

function rowAt(head: readonly HeadRow[], number: number): HeadRow | undefined {
  return head.find((row) => row.number === number);
}

function filled(row: HeadRow): number {
  return row.cells.filter((c) => c.text.trim() !== '').length;
}

function normalize(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}
