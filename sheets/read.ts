/**
 * Reading the answer column (for planning a job) and previewing a file (for picking the column), both
 * streaming: memory grows with the answers kept, not with the sheet.
 */
import type { CellValue } from 'exceljs';

import { columnIndex, columnLetter } from '../domain/columns.js';
import { ColumnNotFoundError, InvalidWorkbookError, NoAnswersError } from '../domain/errors.js';
import type { SheetAnswerRow } from '../domain/plan.js';
import type { SheetWarning } from '../domain/sheet-warnings.js';
import { describeCells, describeRows } from '../domain/sheet-warnings.js';
import { isBlank } from '../domain/text.js';
import { cellText, toCellText } from './cells.js';
import type { HeadRow, Layout } from './layout.js';
import { SCAN_ROWS, cellAt, describeColumns, detectHeader, locateColumn } from './layout.js';
import { parseSheetHead } from './sheet-head.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import type { OpenSheet, RawRow } from './sources.js';
import { openSheet } from './sources.js';
import { ReadWarnings } from './warnings.js';
import type { SheetState } from './xlsx-reader.js';
import type { ZipDirectory } from './zip.js';
import { openEntry, readEntryHead } from './zip.js';

export interface ReadAnswerColumnInput {
  readonly path: string;
  /** The user's file name: every error message names it. */
  readonly displayName: string;
  readonly format: SheetFormat;
  /** Sheet name (case-insensitive match allowed) or 1-based index as text; default the first visible sheet. */
  readonly sheet?: string | undefined;
  /** Header text (`E2`), column letter (`E`), or question text (8 characters or more). */
  readonly column: string;
  readonly maxUnpackedBytes?: number | undefined;
  /**
   * Multi-code jobs: the headers of the 0/1 columns that follow the category column, from the answer
   * column's header (`E2` → `E2: Price`, …), so that a place for them is found (`codeColumn`).
   */
  readonly codeHeaders?: ((header: string) => readonly string[]) | undefined;
  /** A human-coded column to compare the model with (header, letter or question text), read beside the answers. */
  readonly goldColumn?: string | undefined;
  /**
   * Takes each row as it is read instead of keeping it (`rows` then comes back empty): a job plans a
   * million rows without holding them all.
   */
  readonly onRow?: ((row: SheetAnswerRow) => void) | undefined;
}

export interface AnswerColumn {
  readonly sheet: string;
  readonly sheetIndex: number;
  readonly headerRow: number;
  /** The header cell's text; the column letter when that cell is empty. */
  readonly header: string;
  readonly column: string;
  /** The question row's text in this column when the sheet has one beside the header, else the header. */
  readonly question: string;
  /** The row holding the question texts, when there is one. */
  readonly questionRow: number | undefined;
  readonly categoryColumn: string;
  readonly categoryHeader: string;
  readonly categoryColumnExists: boolean;
  /**
   * The first of the 0/1 columns when `codeHeaders` was given: right after the category column when that
   * is new, or when the columns after an existing one are empty or already carry these headers (a coded
   * file fed back); else past the last used column.
   */
  readonly codeColumn: string | undefined;
  /**
   * Where the answers' confidence goes (`E2 confidence`): a column already headed so, else right after the
   * category column (and its 0/1 columns) when those are new, else past the last used column.
   */
  readonly confidenceColumn: string;
  /** Every non-empty row after the header rows, in order (none when `onRow` took them). */
  readonly rows: SheetAnswerRow[];
  /**
   * What the reading noticed, for the person to check (the job's Run sheet shows them): a CSV's encoding,
   * formulas in the answer column without a saved result, merged answer cells. Each names its rows.
   */
  readonly warnings: readonly SheetWarning[];
  /** With `goldColumn`: its letter and header, and each data row's non-empty cell, [sheet row, text]. */
  readonly gold?:
    | {
        readonly column: string;
        readonly header: string;
        readonly cells: ReadonlyArray<readonly [number, string]>;
      }
    | undefined;
}

/**
 * Reads the answer column whole. A column with no answer below its header is refused (`NoAnswersError`):
 * there is nothing to code.
 */
export async function readAnswerColumn(input: ReadAnswerColumnInput): Promise<AnswerColumn> {
  const sheet = await openSheet(input);
  const notes = new ReadWarnings();
  let layout: ResolvedLayout | undefined;
  let answerColumn = 0;
  let categoryColumn: number | undefined;
  let goldColumn: number | undefined;
  let goldHeader = '';
  const goldCells: Array<[number, string]> = [];
  let usedWidth = 0;
  // Columns holding anything, tracked only when 0/1 columns may have to fit after an existing category column.
  let filled: Set<number> | undefined;
  const rows: SheetAnswerRow[] = [];
  const keep = input.onRow ?? ((row: SheetAnswerRow) => rows.push(row));
  let anyAnswer = false;
  let lastDataRow: number | undefined;
  const consume = (raw: RawRow) => {
    usedWidth = Math.max(usedWidth, rowWidth(raw));
    if (filled) {
      for (const [i, v] of raw.values.entries())
        if (v !== null && v !== undefined && v !== '') filled.add(i + 1);
    }
    if (!layout || raw.number <= layout.lastHeaderRow) return;
    if (isUncalculated(raw.values[answerColumn - 1])) {
      const letter = columnLetter(answerColumn);
      notes.note('formula_without_value', raw.number, (at, count) => uncalculatedMessage(letter, at, count));
    }
    if (goldColumn !== undefined) {
      const text = cellText(raw.values[goldColumn - 1]);
      if (!isBlank(text)) goldCells.push([raw.number, text]);
    }
    if (!isBlankRow(raw)) {
      const answer = cellText(raw.values[answerColumn - 1]);
      anyAnswer ||= !isBlank(answer);
      lastDataRow = raw.number;
      keep({
        row: raw.number,
        answer,
        category: categoryColumn === undefined ? '' : cellText(raw.values[categoryColumn - 1]),
      });
    }
  };
  const settle = (head: readonly HeadRow[]) => {
    layout = resolveColumn(head, input, sheet);
    answerColumn = layout.column;
    categoryColumn = findCategoryColumn(layout.headerRow, `${headerOf(layout)} category`);
    if (input.goldColumn !== undefined) {
      const gold = locateColumn(head, input.goldColumn)?.column;
      if (gold === undefined || gold === answerColumn) {
        throw new ColumnNotFoundError(
          input.displayName,
          sheet.name,
          input.goldColumn,
          describeColumns(layout.headerRow).concat(
            gold === answerColumn ? ['(the human-coded column must not be the answer column)'] : [],
          ),
        );
      }
      goldColumn = gold;
      goldHeader = cellAt(layout.headerRow, gold).text.trim() || columnLetter(gold);
    }
    // The held top rows reach `consume` after this, so the set sees every row.
    if (input.codeHeaders && categoryColumn !== undefined) filled = new Set();
  };

  await scan(sheet.rows, settle, consume);
  if (!layout) throw emptySheet(input, sheet);

  const header = headerOf(layout);
  if (!anyAnswer) {
    // A column named by letter that is empty from top to bottom is a typo, not a column.
    if (cellAt(layout.headerRow, answerColumn).text.trim() === '') {
      throw columnNotFound(input, sheet, [layout.headerRow]);
    }
    throw noAnswers(input, sheet, header, layout.headerRow.number, notes);
  }
  const categoryHeader = `${header} category`;
  const exists = categoryColumn !== undefined;
  // A merge over the rows written (header to last answer) reaching past the last value must not take the
  // new column; a title banner above the header may span any width.
  const lastRow = lastDataRow ?? layout.headerRow.number;
  const merges = await scanMerges(input, sheet, {
    top: layout.headerRow.number,
    bottom: lastRow,
    column: answerColumn,
    firstDataRow: layout.lastHeaderRow + 1,
  });
  noteMergedAnswers(notes, columnLetter(answerColumn), merges.covered);
  const newColumn = Math.max(usedWidth, answerColumn, exists ? 0 : merges.width) + 1;
  const codeHeaders = input.codeHeaders?.(header) ?? [];
  const afterCategory = (categoryColumn ?? newColumn) + 1;
  let codeColumn: number | undefined;
  if (codeHeaders.length > 0) {
    // A new category column sits past everything, so the 0/1 columns follow it; an existing one may have
    // data after it, and then they go past the last used column (and past merges over the rows).
    codeColumn =
      !exists || roomFor(codeHeaders, afterCategory, layout.headerRow, filled)
        ? afterCategory
        : Math.max(usedWidth, answerColumn, merges.width) + 1;
  }
  const lastColumn = Math.max(exists ? 0 : newColumn, (codeColumn ?? 0) + codeHeaders.length - 1);
  const confidenceColumn =
    findCategoryColumn(layout.headerRow, `${header} confidence`) ??
    (exists
      ? Math.max(usedWidth, answerColumn, merges.width, lastColumn) + 1
      : Math.max(newColumn, (codeColumn ?? 0) + codeHeaders.length - 1) + 1);
  if (Math.max(lastColumn, confidenceColumn) > 16_384) {
    throw new InvalidWorkbookError(
      input.displayName,
      `sheet ${JSON.stringify(sheet.name)} has no free column left` +
        (codeHeaders.length > 0 ? ` for the category column and ${codeHeaders.length} 0/1 columns` : ''),
    );
  }
  return {
    sheet: sheet.name,
    sheetIndex: sheet.index,
    headerRow: layout.headerRow.number,
    header,
    column: columnLetter(answerColumn),
    question: questionOf(layout),
    questionRow: layout.questionRow?.number,
    categoryColumn: columnLetter(categoryColumn ?? newColumn),
    categoryHeader,
    categoryColumnExists: exists,
    codeColumn: codeColumn === undefined ? undefined : columnLetter(codeColumn),
    confidenceColumn: columnLetter(confidenceColumn),
    rows,
    warnings: [...sheet.warnings(), ...notes.list()],
    ...(goldColumn !== undefined
      ? { gold: { column: columnLetter(goldColumn), header: goldHeader, cells: goldCells } }
      : {}),
  };
}

export type InspectColumnInput = ReadAnswerColumnInput;

/** What a front door needs to know before it starts a job. */
export interface LocatedColumn {
  readonly sheet: string;
  readonly headerRow: number;
  readonly header: string;
  readonly column: string;
  readonly question: string;
  /** What reading the top of the sheet noticed (a CSV's encoding), naming rows among those read. */
  readonly warnings: readonly SheetWarning[];
}

/**
 * Checks file, sheet and column from the top of the sheet only (the first 30 non-empty rows), throwing the
 * same errors `readAnswerColumn` would: for the API and CLI to refuse a bad request before a job exists.
 * `NoAnswersError` only when the sheet ends within those rows (otherwise answers may come further down).
 */
export async function inspectColumn(input: InspectColumnInput): Promise<LocatedColumn> {
  const sheet = await openSheet(input);
  let layout: ResolvedLayout | undefined;
  let answered = false;
  const complete = await scan(
    sheet.rows,
    (head) => {
      layout = resolveColumn(head, input, sheet);
    },
    (raw) => {
      if (layout && raw.number > layout.lastHeaderRow && !isBlank(cellText(raw.values[layout.column - 1]))) {
        answered = true;
      }
    },
    () => layout !== undefined,
  );
  if (!layout) throw emptySheet(input, sheet);
  const header = headerOf(layout);
  if (complete && !answered) {
    if (cellAt(layout.headerRow, layout.column).text.trim() === '') {
      throw columnNotFound(input, sheet, [layout.headerRow]);
    }
    throw noAnswers(input, sheet, header, layout.headerRow.number);
  }
  return {
    sheet: sheet.name,
    headerRow: layout.headerRow.number,
    header,
    column: columnLetter(layout.column),
    question: questionOf(layout),
    warnings: sheet.warnings(),
  };
}

export interface PreviewSheetsInput {
  readonly path: string;
  readonly displayName: string;
  readonly format: SheetFormat;
  readonly sheet?: string | undefined;
  /** Data rows to show; default 5. */
  readonly rows?: number | undefined;
  readonly maxUnpackedBytes?: number | undefined;
}

export interface PreviewSheet {
  readonly name: string;
  readonly index: number;
  readonly state: SheetState;
  /** The last row of the sheet's declared used range (xlsx, when the file records it): a cheap size hint. */
  readonly lastRow: number | undefined;
}

export interface PreviewColumn {
  readonly letter: string;
  readonly header: string;
  /** The question row's text in this column, when the sheet has a question row. */
  readonly question: string | undefined;
}

export interface Preview {
  readonly sheets: readonly PreviewSheet[];
  readonly sheet: string;
  readonly sheetIndex: number;
  /** Undefined when the sheet is empty. */
  readonly headerRow: number | undefined;
  readonly questionRow: number | undefined;
  readonly columns: readonly PreviewColumn[];
  /** The first data rows; `cells[i]` belongs to `columns[i]`. */
  readonly rows: ReadonlyArray<{ readonly row: number; readonly cells: readonly string[] }>;
  /** What reading the top of the sheet noticed (a CSV's encoding), naming rows among those read. */
  readonly warnings: readonly SheetWarning[];
}

const DEFAULT_PREVIEW_ROWS = 5;

export async function previewSheets(input: PreviewSheetsInput): Promise<Preview> {
  const wanted = Math.max(0, input.rows ?? DEFAULT_PREVIEW_ROWS);
  const sheet = await openSheet(input);
  let layout: Layout | undefined;
  const data: RawRow[] = [];
  await scan(
    sheet.rows,
    (head) => {
      layout = detectHeader(head);
    },
    (raw) => {
      if (layout && raw.number > layout.lastHeaderRow && !isBlankRow(raw) && data.length < wanted) {
        data.push(raw);
      }
    },
    () => layout !== undefined && data.length >= wanted,
  );

  const width = Math.max(
    headWidth(layout?.headerRow),
    headWidth(layout?.questionRow),
    ...data.map((raw) => rowWidth(raw)),
  );
  const columns = Array.from({ length: width }, (_, i) => ({
    letter: columnLetter(i + 1),
    header: cellAt(layout?.headerRow, i + 1).text.trim(),
    question: layout?.questionRow ? cellAt(layout.questionRow, i + 1).text.trim() || undefined : undefined,
  }));
  return {
    sheets: await describeSheets(input.path, input.displayName, sheet),
    sheet: sheet.name,
    sheetIndex: sheet.index,
    headerRow: layout?.headerRow.number,
    questionRow: layout?.questionRow?.number,
    columns,
    rows: data.map((raw) => ({ row: raw.number, cells: columns.map((_, i) => cellText(raw.values[i])) })),
    warnings: sheet.warnings(),
  };
}

/**
 * Feeds the rows through: the first `SCAN_ROWS` non-empty rows are held until `settle` has seen them (it
 * decides the layout), then every row goes to `consume`. Stops when `enough` says so. True when every row
 * of the sheet was fed through.
 */
export async function scan(
  rows: AsyncIterable<RawRow>,
  settle: (head: readonly HeadRow[]) => void,
  consume: (row: RawRow) => void,
  enough: () => boolean = () => false,
): Promise<boolean> {
  const held: RawRow[] = [];
  let settled = false;
  const release = () => {
    settled = true;
    settle(held.filter((raw) => !isBlankRow(raw)).map(headRow));
    for (const raw of held) consume(raw);
  };
  for await (const raw of rows) {
    if (settled) consume(raw);
    else {
      held.push(raw);
      if (held.filter((r) => !isBlankRow(r)).length >= SCAN_ROWS) release();
    }
    if (settled && enough()) return false;
  }
  if (!settled) release();
  return true;
}

function headRow(raw: RawRow): HeadRow {
  return {
    number: raw.number,
    cells: Array.from({ length: raw.values.length }, (_, i) => toCellText(raw.values[i])),
  };
}

/**
 * The last column holding anything: spaces, and formulas whatever they give (`=IF(…,"","")` shows nothing
 * but is not free), so the category column never overwrites them.
 */
function rowWidth(raw: RawRow): number {
  for (let i = raw.values.length - 1; i >= 0; i -= 1) {
    const value = raw.values[i];
    if (value !== null && value !== undefined && value !== '') return i + 1;
  }
  return 0;
}

interface Merges {
  /** The last column reached by a merged range that covers any of the rows asked about (0: none, or CSV). */
  readonly width: number;
  /** Data rows whose answer cell lies inside a merge but is not its first cell, as ranges in order. */
  readonly covered: ReadonlyArray<readonly [from: number, to: number]>;
}

/**
 * The sheet's merged ranges, as far as the answer column cares. exceljs's streaming reader skips
 * `<mergeCells>`, which follows the rows, so the part is read once more, scanning only for those.
 */
async function scanMerges(
  input: ReadAnswerColumnInput,
  sheet: OpenSheet,
  rows: { top: number; bottom: number; column: number; firstDataRow: number },
): Promise<Merges> {
  const part = sheet.sheets.find((s) => s.index === sheet.index)?.part;
  const entry = part ? sheet.directory?.entries.find((e) => e.name === part) : undefined;
  if (!entry) return { width: 0, covered: [] };
  const stream = openEntry(input.path, entry, input.displayName).setEncoding('latin1');
  let width = 0;
  const covered: Array<[number, number]> = [];
  let carry = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = carry + chunk;
    for (const m of text.matchAll(MERGE_CELL)) {
      const [left, top, right, bottom] = [
        columnIndex(m[1] ?? ''),
        Number(m[2]),
        columnIndex(m[3] ?? ''),
        Number(m[4]),
      ];
      if (left === undefined || right === undefined) continue;
      if (top <= rows.bottom && bottom >= rows.top) width = Math.max(width, right);
      if (left <= rows.column && rows.column <= right) {
        // The merge's text sits in its top-left cell: in this column, on its top row only if it starts here.
        const from = Math.max(rows.firstDataRow, left === rows.column ? top + 1 : top);
        if (from <= bottom) covered.push([from, bottom]);
      }
    }
    // A tag cut between two chunks is matched whole in the next; one matched twice changes nothing below.
    const open = text.lastIndexOf('<');
    carry = open === -1 ? '' : text.slice(open);
  }
  const unique = [...new Map(covered.map((r) => [`${r[0]}:${r[1]}`, r])).values()];
  return { width, covered: unique.sort((a, b) => a[0] - b[0]) };
}

/** `<mergeCell ref="C3:E4"/>`: the left end's letters, the first row, the right end's letters, the last row. */
const MERGE_CELL = /<(?:\w+:)?mergeCell\b[^>]*?\bref="\$?([A-Za-z]+)\$?(\d+):\$?([A-Za-z]+)\$?(\d+)"/g;

function noteMergedAnswers(
  notes: ReadWarnings,
  letter: string,
  covered: ReadonlyArray<readonly [number, number]>,
): void {
  const describe = (rows: readonly number[], count: number) =>
    `In the answer column (${letter}), ${describeRows(rows, count)} ${count === 1 ? 'lies' : 'lie'} inside ` +
    'merged cells whose text belongs to the first cell of the merge: read as empty, and left uncoded.';
  for (const [from, to] of covered) {
    for (let row = from; row <= to; row += 1) notes.note('merged_answer_cells', row, describe);
  }
}

/** A formula whose result was never saved (a file written by a program that does not calculate). */
function isUncalculated(value: CellValue | undefined): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    ('formula' in value || 'sharedFormula' in value) &&
    value.result === undefined
  );
}

function uncalculatedMessage(letter: string, rows: readonly number[], count: number): string {
  return (
    `${count === 1 ? 'Cell' : 'Cells'} ${describeCells(letter, rows, count)} ${count === 1 ? 'holds a formula' : 'hold formulas'} ` +
    'with no saved result (the file was written by a program that does not calculate): read as empty, and ' +
    'left uncoded. Open the file in Excel or LibreOffice and save it to calculate them.'
  );
}

function noAnswers(
  input: ReadAnswerColumnInput,
  sheet: OpenSheet,
  header: string,
  headerRow: number,
  notes?: ReadWarnings,
): NoAnswersError {
  const uncalculated = notes?.list().find((w) => w.code === 'formula_without_value');
  const reason = uncalculated
    ? `${uncalculated.rowCount} of its cells hold formulas with no saved result: open the file in Excel and save it`
    : '';
  return new NoAnswersError(input.displayName, sheet.name, header, headerRow, reason);
}

function headWidth(row: HeadRow | undefined): number {
  if (!row) return 0;
  for (let i = row.cells.length - 1; i >= 0; i -= 1) if (row.cells[i]?.text !== '') return i + 1;
  return 0;
}

function isBlankRow(raw: RawRow): boolean {
  return raw.values.every((v) => cellText(v).trim() === '');
}

type ResolvedLayout = Layout & { readonly column: number };

function resolveColumn(
  head: readonly HeadRow[],
  input: ReadAnswerColumnInput,
  sheet: OpenSheet,
): ResolvedLayout {
  if (head.length === 0) throw emptySheet(input, sheet);
  const layout = locateColumn(head, input.column);
  if (layout?.column === undefined) throw columnNotFound(input, sheet, head);
  return { ...layout, column: layout.column };
}

function emptySheet(input: { readonly displayName: string }, sheet: OpenSheet): InvalidWorkbookError {
  return new InvalidWorkbookError(input.displayName, `sheet ${JSON.stringify(sheet.name)} is empty`);
}

/** The header cell's text, or the column letter when that cell is empty. */
function headerOf(layout: ResolvedLayout): string {
  return cellAt(layout.headerRow, layout.column).text.trim() || columnLetter(layout.column);
}

/** The question row's text in the column when it is longer than the header (it says more), else the header. */
function questionOf(layout: ResolvedLayout): string {
  const header = headerOf(layout);
  const question = layout.questionRow ? cellAt(layout.questionRow, layout.column).text.trim() : '';
  return question.length > header.length ? question : header;
}

/** The columns from `start` are empty in every row, or already carry these headers (a coded file fed back). */
function roomFor(
  headers: readonly string[],
  start: number,
  headerRow: HeadRow,
  filled: ReadonlySet<number> | undefined,
): boolean {
  if (headers.every((_, i) => !filled?.has(start + i))) return true;
  return headers.every(
    (h, i) =>
      cellAt(headerRow, start + i)
        .text.trim()
        .toLowerCase() === h.toLowerCase(),
  );
}

function findCategoryColumn(headerRow: HeadRow, categoryHeader: string): number | undefined {
  const key = categoryHeader.toLowerCase();
  const i = headerRow.cells.findIndex((c) => c.text.trim().toLowerCase() === key);
  return i === -1 ? undefined : i + 1;
}

function columnNotFound(
  input: ReadAnswerColumnInput,
  sheet: OpenSheet,
  head: readonly HeadRow[],
): ColumnNotFoundError {
  const layout = detectHeader(head);
  return new ColumnNotFoundError(
    input.displayName,
    sheet.name,
    input.column,
    describeColumns(layout?.headerRow),
  );
}

async function describeSheets(path: string, displayName: string, sheet: OpenSheet): Promise<PreviewSheet[]> {
  const heads = sheet.directory
    ? await lastRows(path, displayName, sheet.directory, sheet.sheets)
    : new Map<number, number>();
  return sheet.sheets.map((s) => ({
    name: s.name,
    index: s.index,
    state: s.state,
    lastRow: heads.get(s.index),
  }));
}

/** Each sheet's declared last row, from the first few KiB of its part: no sheet is parsed. */
async function lastRows(
  path: string,
  displayName: string,
  directory: ZipDirectory,
  sheets: OpenSheet['sheets'],
): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  for (const s of sheets) {
    const entry = directory.entries.find((e) => e.name === s.part);
    if (!entry || !s.isWorksheet) continue;
    const lastRow = parseSheetHead(await readEntryHead(path, entry, displayName, 4096)).lastRow;
    if (lastRow !== undefined) result.set(s.index, lastRow);
  }
  return result;
}
