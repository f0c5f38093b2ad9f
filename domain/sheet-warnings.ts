/**
 * What a reader noticed in a file it could read, for the person to check: each kind of thing once, with
 * the rows (or cells) it concerns. Returned beside what was read (`warnings`); the job's Run sheet and the
 * web page show them.
 */

export type SheetWarningCode =
  /** CSV that is not UTF-8 but reads cleanly as Windows-1252, and was read so. */
  | 'windows_1252'
  /** CSV that is neither valid UTF-8 nor Windows-1252: the bytes that are not text read as U+FFFD. */
  | 'invalid_utf8'
  /** CSV in UTF-16 without a byte-order mark, recognised by its zero bytes. */
  | 'utf16_without_bom'
  /** Formulas in the answer column with no saved result (never calculated): read as empty. */
  | 'formula_without_value'
  /** Merged cells in the answer column: the text belongs to the first row of each merge. */
  | 'merged_answer_cells';

export interface SheetWarning {
  readonly code: SheetWarningCode;
  /** For a person: what was noticed, where (the rows or cells), what it means and what to do. */
  readonly message: string;
  /** The sheet rows concerned, ascending, at most `MAX_LISTED_ROWS` of them; empty for the file as a whole. */
  readonly rows: readonly number[];
  /** How many rows in all (`rows` may list fewer). */
  readonly rowCount: number;
}

export const MAX_LISTED_ROWS = 100;
/** How many rows a message names before "and N more". */
const NAMED_IN_MESSAGE = 10;

/** "row 3", "rows 3 and 7", "rows 3, 7, 9 and 12", "rows 3, 7, … and 40 more". */
export function describeRows(rows: readonly number[], rowCount: number): string {
  return `${rowCount === 1 ? 'row' : 'rows'} ${nameAll(rows.map(String), rowCount)}`;
}

/** Cells of one column: "D12", "D12 and D15", "D12, D15, … and 3 more". */
export function describeCells(column: string, rows: readonly number[], rowCount: number): string {
  return nameAll(
    rows.map((row) => `${column}${row}`),
    rowCount,
  );
}

function nameAll(names: readonly string[], count: number): string {
  const shown = names.slice(0, NAMED_IN_MESSAGE);
  const more = count - shown.length;
  if (more > 0) return `${shown.join(', ')} and ${more} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1) ?? ''}`;
}
