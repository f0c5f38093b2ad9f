/**
 * The coded workbook: the input with the category column (and in multi-code mode the 0/1 columns) filled
 * in, plus a Summary and a Run sheet.
 *
 * An .xlsx input is patched as it streams (xlsx-patch.ts): the answer sheet's XML gets the new cells, the
 * workbook part, its relationships, the content types and the styles get the report sheets, and every other
 * part is copied as stored, byte for byte. So whatever the input holds is kept (other sheets, styles,
 * merges, hyperlinks, validations, conditional formats, notes, images, charts, tables, pivot tables,
 * defined names, macros), at any size: memory stays a chunk of the sheet, not the workbook. A CSV input,
 * which has no workbook to keep, is written as one through exceljs's streaming writer, its fields typed
 * (csv-values.ts), with a frozen header and a filter.
 */
import ExcelJS from 'exceljs';
import type { Row, Worksheet } from 'exceljs';

import { columnIndex, columnLetter } from '../domain/columns.js';
import { InvalidSettingError } from '../domain/errors.js';
import type { ReportRow } from '../domain/report.js';
import { writeAtomically } from '../lib/atomic-write.js';
import { csvSheetName, openCsv } from './csv.js';
import { csvCellValue, sniffDecimalComma } from './csv-values.js';
import { fillReportSheet, reportSheetName } from './report-sheets.js';
import type { CodedSheet } from './write-csv.js';
import { codeColumnIndex, confidenceColumnIndex, dichotomyValues, roundedConfidence } from './write-csv.js';
import type { PatchColumn, ReportSheet } from './xlsx-patch.js';
import { patchWorkbook } from './xlsx-patch.js';

export interface WriteWorkbookInput extends CodedSheet {
  readonly summary: readonly ReportRow[];
  readonly run: readonly ReportRow[];
  /** Report sheets after Summary and Run, in order. */
  readonly moreSheets?: readonly ReportSheet[] | undefined;
  /** Where the .xlsx goes; replaced atomically. */
  readonly outPath: string;
  readonly maxUnpackedBytes?: number | undefined;
}

export interface WrittenWorkbook {
  readonly path: string;
  /**
   * Formula cells of the input a label or 0/1 value replaced (xlsx input). The workbook's calculation chain
   * is then left out, so Excel rebuilds it rather than repair the file (see xlsx-patch.ts).
   */
  readonly formulasReplaced: number;
}

export async function writeCodedWorkbook(input: WriteWorkbookInput): Promise<WrittenWorkbook> {
  const edits = categoryEdits(input);
  const reports: ReportSheet[] = [
    { name: 'Summary', rows: input.summary },
    { name: 'Run', rows: input.run },
    ...(input.moreSheets ?? []),
  ];
  if (input.format === 'csv') {
    await writeAtomically(input.outPath, (tempPath) => writeFromCsv(input, edits, reports, tempPath));
    return { path: input.outPath, formulasReplaced: 0 };
  }
  const rows = [
    ...edits.labels.keys(),
    ...(edits.codes?.ones.keys() ?? []),
    ...(edits.confidence?.values.keys() ?? []),
  ];
  const patched = await patchWorkbook({
    inputPath: input.inputPath,
    displayName: input.displayName,
    outPath: input.outPath,
    sheet: input.sheet,
    columns: patchColumns(edits),
    // Rows are asked for in order; the labels may hold thousands of rows, so no spreading into Math.min.
    rows: rows.length === 0 ? { from: 1, to: 0 } : { from: minOf(rows), to: maxOf(rows) },
    widenAutoFilter: { toColumn: filterEnd(edits) },
    addSheets: reports,
    maxUnpackedBytes: input.maxUnpackedBytes,
  });
  return { path: patched.path, formulasReplaced: patched.formulasReplaced };
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
  /** Each answer's confidence, rounded to two decimals (the Review sheet keeps the finer figure). */
  readonly confidence:
    | { readonly column: number; readonly header: string; readonly values: ReadonlyMap<number, number> }
    | undefined;
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
    width: Math.min(50, Math.max(12, longest + 2)),
  };
}

/** The category column and the 0/1 columns as the patcher takes them, by column. */
function patchColumns(edits: CategoryEdits): PatchColumn[] {
  const columns: PatchColumn[] = [
    {
      index: edits.column,
      header: { row: edits.headerRow, text: edits.header },
      width: edits.width,
      value: (row) => edits.labels.get(row),
    },
  ];
  const codes = edits.codes;
  if (codes) {
    // The patcher asks every column for a row before the next row: one row's 0/1 values serve them all.
    let cachedRow = 0;
    let cached: Array<0 | 1> | undefined;
    const valuesOf = (row: number) => {
      if (row !== cachedRow) {
        cachedRow = row;
        const ones = codes.ones.get(row);
        cached = ones ? dichotomyValues(ones, codes.headers.length) : undefined;
      }
      return cached;
    };
    codes.headers.forEach((text, i) =>
      columns.push({
        index: codes.column + i,
        header: { row: edits.headerRow, text },
        width: codes.widths[i],
        // Numbers, so that tabulation and SUM() read them as such.
        value: (row) => valuesOf(row)?.[i],
      }),
    );
  }
  const confidence = edits.confidence;
  if (confidence) {
    columns.push({
      index: confidence.column,
      header: { row: edits.headerRow, text: confidence.header },
      width: Math.max(10, confidence.header.length + 2),
      value: (row) => roundedConfidence(confidence.values.get(row)),
    });
  }
  // An existing category column may sit after the 0/1 columns' place; the patcher takes columns in order.
  return columns.sort((a, b) => a.index - b.index);
}

/** The last column a filter ending right before the category column grows to: see `widenedAutoFilter`. */
function filterEnd(edits: {
  readonly column: number;
  readonly codes?: { readonly column: number; readonly headers: readonly string[] } | undefined;
}): number {
  // The 0/1 columns too, when they follow the category column.
  return edits.codes && edits.codes.column === edits.column + 1
    ? edits.codes.column + edits.codes.headers.length - 1
    : edits.column;
}

/**
 * The sheet's filter range grown by the new column when it ends right before it on the header row, so the
 * analyst can filter by category as by any other column; any other filter is left as it is. The patcher
 * applies this rule to the sheet's `<autoFilter>` and its `_xlnm._FilterDatabase` name.
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
  return `${fromColumn.toUpperCase()}${fromRow}:${columnLetter(filterEnd(edits))}${toRow}`;
}

/**
 * A CSV input as a workbook: one sheet named after the file, every record a row in place, fields typed as
 * `csvCellValue` says below the header row (header and title rows stay text), the header row frozen and a
 * filter over the table, then the report sheets.
 */
async function writeFromCsv(
  input: WriteWorkbookInput,
  edits: CategoryEdits,
  reports: readonly ReportSheet[],
  tempPath: string,
): Promise<void> {
  const csv = await openCsv(input.inputPath, input.displayName);
  const decimalComma = await sniffDecimalComma(csv);
  const name = csvSheetName(input.displayName);
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: tempPath,
    useStyles: true,
    useSharedStrings: false,
  });
  const out = writer.addWorksheet(name, {
    views: [{ state: 'frozen', xSplit: 0, ySplit: edits.headerRow, topLeftCell: `A${edits.headerRow + 1}` }],
  });
  const codes = edits.codes;
  const lastEdited = Math.max(
    codes ? codes.column + codes.headers.length - 1 : edits.column,
    edits.confidence?.column ?? 0,
  );
  out.columns = Array.from({ length: lastEdited }, (_, i) => {
    const width =
      i + 1 === edits.column
        ? edits.width
        : i + 1 === edits.confidence?.column
          ? Math.max(10, edits.confidence.header.length + 2)
          : codes?.widths[i + 1 - codes.column];
    return width === undefined ? {} : { width };
  });
  let width = lastEdited;
  let lastRow = edits.headerRow;
  let p = 0;
  const edited = [
    ...new Set([
      edits.headerRow,
      ...edits.labels.keys(),
      ...(codes?.ones.keys() ?? []),
      ...(edits.confidence?.values.keys() ?? []),
    ]),
  ].sort((a, b) => a - b);
  const commitEditedUpTo = (number: number) => {
    // Rows the CSV does not have cannot get labels, but an edit is never dropped.
    for (; p < edited.length && (edited[p] ?? 0) < number; p += 1) {
      const row = out.getRow(edited[p] ?? 0);
      applyEdits(row, edits);
      row.commit();
    }
  };
  for await (const record of csv.records()) {
    commitEditedUpTo(record.number);
    const row = out.getRow(record.number);
    const typed = record.number > edits.headerRow;
    record.fields.forEach((field, i) => {
      if (field === '') return;
      const cell = row.getCell(i + 1);
      if (!typed) {
        cell.value = field;
        return;
      }
      const value = csvCellValue(field, decimalComma);
      cell.value = value.value;
      if (value.numFmt) cell.numFmt = value.numFmt;
    });
    if (edited[p] === record.number) {
      applyEdits(row, edits);
      p += 1;
    }
    width = Math.max(width, record.fields.length);
    if (record.fields.some((f) => f !== '')) lastRow = Math.max(lastRow, record.number);
    row.commit();
  }
  commitEditedUpTo(Infinity);
  out.autoFilter = `A${edits.headerRow}:${columnLetter(width)}${Math.max(lastRow, edits.headerRow)}`;
  out.commit();
  const existing = [name];
  for (const report of reports) {
    const sheet = writer.addWorksheet(reportSheetName(report.name, existing));
    existing.push(sheet.name);
    fillReportSheet(sheet, report.rows);
    sheet.commit();
  }
  await writer.commit();
}

/** The edits that fall on `row` of the CSV's sheet: the headers where empty, the labels, the 0/1 values. */
function applyEdits(row: Row, edits: CategoryEdits): void {
  const header = row.number === edits.headerRow;
  const setHeader = (column: number, text: string) => {
    const cell = row.getCell(column);
    if (cell.text.trim() !== '') return;
    cell.value = text;
  };
  if (header) setHeader(edits.column, edits.header);
  const label = edits.labels.get(row.number);
  if (label !== undefined) row.getCell(edits.column).value = label;
  const confidence = edits.confidence;
  if (confidence) {
    if (header) setHeader(confidence.column, confidence.header);
    const value = roundedConfidence(confidence.values.get(row.number));
    if (value !== undefined) {
      row.getCell(confidence.column).value = value;
      row.getCell(confidence.column).numFmt = '0.00';
    }
  }
  const codes = edits.codes;
  if (!codes) return;
  if (header) codes.headers.forEach((text, i) => setHeader(codes.column + i, text));
  const ones = codes.ones.get(row.number);
  if (ones) {
    dichotomyValues(ones, codes.headers.length).forEach((v, i) => (row.getCell(codes.column + i).value = v));
  }
}

function minOf(values: readonly number[]): number {
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}

function maxOf(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}
