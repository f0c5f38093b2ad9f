/**
 * The coded workbook: the input with the category column filled in, plus a Summary and a Run sheet.
 *
 * Two ways to write it. Ordinary files are loaded whole, changed and written back, which keeps what exceljs
 * keeps (values, formulas, styles, merges, hyperlinks, frozen panes, widths, conditional formats, data
 * validations, notes, images, tables, defined names; not charts, pivot tables or macros). That costs about
 * 100× the file size in memory at its peak (a 6 MB workbook: 1.7 GB), so larger files, and every CSV (which
 * has nothing to lose), are copied row by row through exceljs's streaming reader and writer instead; what
 * that copy keeps and loses is listed at `writeStreamed`.
 */
import ExcelJS from 'exceljs';
import type { Cell, CellValue, Row, Style, Worksheet } from 'exceljs';

import { columnIndex, columnLetter } from '../domain/columns.js';
import { InvalidSettingError } from '../domain/errors.js';
import type { ReportRow } from '../domain/report.js';
import { cellText, cellValue } from './cells.js';
import { csvSheetName, openCsv } from './csv.js';
import { writeAtomically } from '../lib/atomic-write.js';
import { asWorkbookError, assertFile } from './files.js';
import { fillReportSheet, reportSheetName } from './report-sheets.js';
import { parseSheetHead } from './sheet-head.js';
import type { ColumnWidth, SheetHead } from './sheet-head.js';
import type { CodedSheet } from './write-csv.js';
import { codeColumnIndex, confidenceColumnIndex, dichotomyValues } from './write-csv.js';
import { mapErrors, selectSheet } from './sources.js';
import type { SheetInfo, XlsxWorkbook } from './xlsx-reader.js';
import { openXlsx } from './xlsx-reader.js';
import type { ZipDirectory } from './zip.js';
import { inspectXlsx, readEntryHead } from './zip.js';

export interface WriteWorkbookInput extends CodedSheet {
  readonly summary: readonly ReportRow[];
  readonly run: readonly ReportRow[];
  /** Further report sheets after Run (Quality, Review), in order. */
  readonly extraSheets?: ReadonlyArray<{ readonly name: string; readonly rows: readonly ReportRow[] }>;
  /** Where the .xlsx goes; replaced atomically. */
  readonly outPath: string;
  /** Inputs larger than this (bytes) take the streaming path; default 15 MB. */
  readonly streamAboveBytes?: number | undefined;
  readonly maxUnpackedBytes?: number | undefined;
}

export interface WrittenWorkbook {
  readonly path: string;
  readonly streamed: boolean;
}

export const DEFAULT_STREAM_ABOVE_BYTES = 15 * 1024 * 1024;

export async function writeCodedWorkbook(input: WriteWorkbookInput): Promise<WrittenWorkbook> {
  const size = await assertFile(input.inputPath, input.displayName);
  const edits = categoryEdits(input);
  const directory =
    input.format === 'xlsx'
      ? await inspectXlsx(input.inputPath, input.displayName, input.maxUnpackedBytes)
      : undefined;
  const streamed = !directory || size > (input.streamAboveBytes ?? DEFAULT_STREAM_ABOVE_BYTES);
  await writeAtomically(input.outPath, async (tempPath) => {
    if (!directory) await writeFromCsv(input, edits, tempPath);
    else if (streamed) await writeStreamed(input, edits, directory, tempPath);
    else await writeLoaded(input, edits, tempPath);
  });
  return { path: input.outPath, streamed };
}

/**
 * What changes in the answer sheet: the category header (if its cell is empty) and the labels; in
 * multi-code mode also the 0/1 columns' headers (where empty) and values.
 */
interface CategoryEdits {
  readonly column: number;
  readonly headerRow: number;
  readonly header: string;
  readonly labels: ReadonlyMap<number, string>;
  readonly codes:
    | {
        readonly column: number;
        readonly headers: readonly string[];
        readonly ones: ReadonlyMap<number, readonly number[]>;
        /** Widths for the columns the sheet gives none. */
        readonly widths: readonly number[];
      }
    | undefined;
  /** Each answer's confidence: a number with two decimals shown. */
  readonly confidence:
    | { readonly column: number; readonly header: string; readonly values: ReadonlyMap<number, number> }
    | undefined;
  /** Rows to touch, ascending. */
  readonly rows: readonly number[];
  /** A width for the column when the sheet gives it none: wide enough for the longest label, within reason. */
  readonly width: number;
}

function categoryEdits(input: WriteWorkbookInput): CategoryEdits {
  const column = columnIndex(input.categoryColumn);
  if (column === undefined) {
    throw new InvalidSettingError('categoryColumn', input.categoryColumn, 'is not a column letter (A–XFD)');
  }
  let longest = input.categoryHeader.length;
  for (const label of input.labels.values()) longest = Math.max(longest, label.length);
  const codeColumn = codeColumnIndex(input.codes);
  const codes =
    input.codes && codeColumn !== undefined
      ? {
          column: codeColumn,
          headers: input.codes.headers,
          ones: input.codes.ones,
          widths: input.codes.headers.map((h) => Math.min(30, Math.max(8, h.length + 2))),
        }
      : undefined;
  const confidenceColumn = confidenceColumnIndex(input.confidence);
  const confidence =
    input.confidence && confidenceColumn !== undefined
      ? { column: confidenceColumn, header: input.confidence.header, values: input.confidence.values }
      : undefined;
  return {
    column,
    headerRow: input.headerRow,
    header: input.categoryHeader,
    labels: input.labels,
    codes,
    confidence,
    rows: [
      ...new Set([
        input.headerRow,
        ...input.labels.keys(),
        ...(codes?.ones.keys() ?? []),
        ...(confidence?.values.keys() ?? []),
      ]),
    ].sort((a, b) => a - b),
    width: Math.min(50, Math.max(12, longest + 2)),
  };
}

/** Applies the edits that fall on `row` (a row of the sheet being written). */
function applyEdits(row: Row, edits: CategoryEdits): void {
  const cell = row.getCell(edits.column);
  if (row.number === edits.headerRow && cellText(cell.value).trim() === '') {
    cell.value = edits.header;
    // A new column's header looks like its neighbours: same font, fill, border.
    const neighbour = nearestFilledLeft(row, edits.column);
    if (neighbour) cell.style = structuredClone(neighbour.style);
  }
  const label = edits.labels.get(row.number);
  if (label !== undefined) cell.value = label;
  const confidence = edits.confidence;
  if (confidence) {
    const target = row.getCell(confidence.column);
    if (row.number === edits.headerRow && cellText(target.value).trim() === '') {
      target.value = confidence.header;
      const neighbour = nearestFilledLeft(row, confidence.column);
      if (neighbour) target.style = structuredClone(neighbour.style);
    }
    const value = confidence.values.get(row.number);
    // Two decimals, as the CSV writes it: the Review sheet keeps the finer figure.
    if (value !== undefined) {
      target.value = Math.round(value * 100) / 100;
      target.numFmt = '0.00';
    }
  }
  const codes = edits.codes;
  if (!codes) return;
  if (row.number === edits.headerRow) {
    codes.headers.forEach((header, i) => {
      const target = row.getCell(codes.column + i);
      if (cellText(target.value).trim() !== '') return;
      target.value = header;
      const neighbour = nearestFilledLeft(row, codes.column + i);
      if (neighbour) target.style = structuredClone(neighbour.style);
    });
  }
  const ones = codes.ones.get(row.number);
  if (ones) {
    // Numbers, so that tabulation and SUM() read them as such.
    dichotomyValues(ones, codes.headers.length).forEach((v, i) => (row.getCell(codes.column + i).value = v));
  }
}

function nearestFilledLeft(row: Row, column: number): Cell | undefined {
  for (let c = column - 1; c >= 1; c -= 1) {
    const cell = row.findCell(c);
    if (cell && cellText(cell.value) !== '') return cell;
  }
  return undefined;
}

async function writeLoaded(input: WriteWorkbookInput, edits: CategoryEdits, tempPath: string): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(input.inputPath);
  } catch (error) {
    throw asWorkbookError(error, input.displayName);
  }
  const sheets = workbook.worksheets.map((sheet, i) => ({ ...loadedSheetInfo(sheet, i), sheet }));
  const { sheet } = selectSheet(sheets, input.sheet, input.displayName);

  for (const number of edits.rows) applyEdits(sheet.getRow(number), edits);
  const column = sheet.getColumn(edits.column);
  if (column.width === undefined) column.width = edits.width;
  edits.codes?.widths.forEach((width, i) => {
    const code = sheet.getColumn((edits.codes?.column ?? 0) + i);
    if (code.width === undefined) code.width = width;
  });
  const filter = widenedAutoFilter(sheet.autoFilter, edits);
  if (filter) sheet.autoFilter = filter;

  addReportSheets(
    workbook,
    input,
    sheets.map((s) => s.name),
  );
  await workbook.xlsx.writeFile(tempPath);
}

/**
 * The sheet's filter range grown by the new column when it ends right before it on the header row, so the
 * analyst can filter by category as by any other column; any other filter is left as it is.
 */
export function widenedAutoFilter(
  filter: Worksheet['autoFilter'],
  edits: Pick<CategoryEdits, 'column' | 'headerRow'> & {
    readonly codes?: { readonly column: number; readonly headers: readonly string[] } | undefined;
  },
): string | undefined {
  if (typeof filter !== 'string') return undefined;
  const match = /^\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)$/i.exec(filter.trim());
  if (!match) return undefined;
  const [, fromColumn = '', fromRow = '', toColumn = '', toRow = ''] = match;
  const last = columnIndex(toColumn);
  if (last !== edits.column - 1 || Number(fromRow) !== edits.headerRow) return undefined;
  // The 0/1 columns too, when they follow the category column.
  const end =
    edits.codes && edits.codes.column === edits.column + 1
      ? edits.codes.column + edits.codes.headers.length - 1
      : edits.column;
  return `${fromColumn.toUpperCase()}${fromRow}:${columnLetter(end)}${toRow}`;
}

function loadedSheetInfo(sheet: Worksheet, i: number): SheetInfo {
  return { name: sheet.name, index: i + 1, state: sheet.state, part: undefined, isWorksheet: true };
}

/**
 * The streaming copy. Kept: every worksheet in tab order with its name and visibility; every cell's value,
 * formula with cached result, and style (font, fill, border, number format, alignment, protection); rich
 * text; row heights; column widths and hidden columns; frozen or split panes, zoom, right-to-left.
 *
 * Lost, because exceljs's streaming parsers (4.4) do not read them: merged cells; hyperlinks (their text
 * stays); conditional formats; data validations; notes; images, charts, drawings, tables, pivot tables;
 * autofilter; print setup, headers and footers, page breaks; sheet protection; tab colours; defined names
 * (named ranges, print areas); document properties; row and column default styles, outline levels, hidden
 * rows; chart sheets. Shared formulas keep the first cell's formula; the other cells of the range keep
 * their value only. A cached formula result that is an error is dropped and a boolean one becomes 1 or 0
 * (the reader parses both as numbers) until Excel recalculates. Colours given as theme colours follow
 * exceljs's theme, which is Office's default.
 *
 * Measured (100,000 rows × 20 columns, a 12 MB file): 6.5 s and 260 MB at the peak, where loading the
 * same file whole took 23 s and 3 GB. Strings are written inline rather than shared, so memory does not
 * grow with the number of distinct answers; the file comes out the same size.
 */
async function writeStreamed(
  input: WriteWorkbookInput,
  edits: CategoryEdits,
  directory: ZipDirectory,
  tempPath: string,
): Promise<void> {
  const { inputPath, displayName } = input;
  let workbook: XlsxWorkbook;
  try {
    workbook = await openXlsx(inputPath, directory, displayName);
  } catch (error) {
    throw asWorkbookError(error, displayName);
  }
  const target = selectSheet(workbook.sheets, input.sheet, displayName);
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: tempPath,
    useStyles: true,
    useSharedStrings: false,
  });
  // One sheet at a time, in tab order: the writer streams a sheet into the zip only once the sheets added
  // before it are committed, and needs its view and column widths before its first row.
  for (const sheet of workbook.sheets.filter((s) => s.isWorksheet)) {
    const head = await sheetHead(inputPath, displayName, directory, sheet);
    const out = writer.addWorksheet(sheet.name, { state: sheet.state, views: head.views });
    const sheetEdits = sheet.index === target.index ? edits : undefined;
    setColumnWidths(out, head.columns, sheetEdits);
    await copyRows(mapErrors(workbook.rows(sheet), displayName), out, sheetEdits, copyXlsxRow);
    out.commit();
  }
  addReportSheets(
    writer,
    { ...input, run: [...input.run, STREAMED_COPY_NOTE] },
    workbook.sheets.map((s) => s.name),
  );
  await writer.commit();
}

async function writeFromCsv(
  input: WriteWorkbookInput,
  edits: CategoryEdits,
  tempPath: string,
): Promise<void> {
  const csv = await openCsv(input.inputPath, input.displayName);
  const name = csvSheetName(input.displayName);
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: tempPath,
    useStyles: true,
    useSharedStrings: false,
  });
  const out = writer.addWorksheet(name);
  setColumnWidths(out, [], edits);
  await copyRows(csv.records(), out, edits, (record, row) => {
    record.fields.forEach((field, i) => {
      if (field !== '') row.getCell(i + 1).value = field;
    });
  });
  out.commit();
  addReportSheets(writer, input, [name]);
  await writer.commit();
}

/**
 * Copies rows in order into a streaming worksheet, applying the edits on the way; an edited row the source
 * does not have (it cannot happen with rows read from the same file, but costs nothing) is written in order.
 */
async function copyRows<T extends { readonly number: number }>(
  rows: AsyncIterable<T>,
  out: Worksheet,
  edits: CategoryEdits | undefined,
  copy: (source: T, target: Row) => void,
): Promise<void> {
  const pending = edits?.rows ?? [];
  let p = 0;
  const writeEditedUpTo = (number: number) => {
    for (; p < pending.length && (pending[p] ?? 0) < number; p += 1) {
      const row = out.getRow(pending[p] ?? 0);
      if (edits) applyEdits(row, edits);
      row.commit();
    }
  };
  for await (const source of rows) {
    writeEditedUpTo(source.number);
    const row = out.getRow(source.number);
    copy(source, row);
    if (edits && pending[p] === source.number) {
      applyEdits(row, edits);
      p += 1;
    }
    row.commit();
  }
  writeEditedUpTo(Infinity);
}

function copyXlsxRow(source: Row, target: Row): void {
  if (source.height) target.height = source.height;
  source.eachCell({ includeEmpty: true }, (cell, column) => {
    const styled = Object.keys(cell.style).length > 0;
    if (cell.value === null && !styled) return;
    const copy = target.getCell(column);
    copy.value = copyValue(cellValue(cell));
    // The writer registers a style once per style object it has seen (a WeakMap) and otherwise builds its
    // XML to look it up. The reader shares style objects per style id; unstyled cells get one shared empty
    // style here (a date always has a number format, so no cell relies on the writer's date default).
    copy.style = styled ? cell.style : UNSTYLED;
  });
}

/** Never changed: streamed cells are only written, and the edits replace a cell's style rather than change it. */
const UNSTYLED: Partial<Style> = {};

/**
 * The reader's shared-formula cells come without their formula (`formula: ''`): keep their value. A cached
 * error result comes as NaN, which must not be written as a number.
 */
function copyValue(value: CellValue): CellValue {
  if (value === null || typeof value !== 'object' || !('formula' in value)) return value;
  const result = typeof value.result === 'number' && Number.isNaN(value.result) ? undefined : value.result;
  if (!value.formula) return result ?? null;
  return result === undefined ? { formula: value.formula } : { formula: value.formula, result };
}

async function sheetHead(
  path: string,
  displayName: string,
  directory: ZipDirectory,
  sheet: SheetInfo,
): Promise<SheetHead> {
  const entry = directory.entries.find((e) => e.name === sheet.part);
  // `<cols>` may list many ranges; 64 KiB reaches `<sheetData>` in any sheet seen in practice.
  return parseSheetHead(entry ? await readEntryHead(path, entry, displayName, 65_536) : '');
}

/** Column widths must be set before a streaming sheet's first row; the category column gets one if unset. */
function setColumnWidths(
  out: Worksheet,
  columns: readonly ColumnWidth[],
  edits: CategoryEdits | undefined,
): void {
  const defined = columns.filter((c) => c.width !== undefined || c.hidden);
  const codes = edits?.codes;
  const last = Math.max(
    0,
    edits?.column ?? 0,
    codes ? codes.column + codes.headers.length - 1 : 0,
    edits?.confidence?.column ?? 0,
    ...defined.map((c) => Math.min(c.max, 16_384)),
  );
  if (last === 0) return;
  out.columns = Array.from({ length: last }, (_, i) => {
    const spec = defined.find((c) => c.min <= i + 1 && i + 1 <= c.max);
    const width =
      spec?.width ??
      (edits && i + 1 === edits.column
        ? edits.width
        : edits?.confidence && i + 1 === edits.confidence.column
          ? Math.max(10, edits.confidence.header.length + 2)
          : codes?.widths[i + 1 - codes.column]);
    return { ...(width !== undefined ? { width } : {}), ...(spec?.hidden ? { hidden: true } : {}) };
  });
}

/** The Run sheet says when the copy is the streamed one, so nobody looks for a merge that is not there. */
const STREAMED_COPY_NOTE: ReportRow = [
  'Workbook copy',
  'Row by row (a large file): values, formulas and styles are kept; merged cells, hyperlinks, conditional ' +
    'formats, data validations, notes, images, filters and named ranges of the original are not',
];

function addReportSheets(
  workbook: ExcelJS.Workbook,
  input: WriteWorkbookInput,
  existing: readonly string[],
): void {
  const taken = [...existing];
  const sheets: Array<readonly [string, readonly ReportRow[]]> = [];
  for (const { name, rows } of [
    { name: 'Summary', rows: input.summary },
    { name: 'Run', rows: input.run },
    ...(input.extraSheets ?? []),
  ]) {
    const unique = reportSheetName(name, taken);
    taken.push(unique);
    sheets.push([unique, rows]);
  }
  for (const [name, rows] of sheets) {
    const sheet = workbook.addWorksheet(name);
    fillReportSheet(sheet, rows);
    // Only the streaming writer's sheets have (and need) a commit.
    if (workbook instanceof ExcelJS.stream.xlsx.WorkbookWriter) sheet.commit();
  }
}
