/**
 * One sheet of an uploaded file as a stream of rows, whatever the format: the xlsx streaming reader or a
 * CSV file read as a one-sheet workbook. Also the file checks and error mapping every entry point shares.
 */
import type { CellValue, Row } from 'exceljs';

import { SheetNotFoundError } from '../domain/errors.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import type { SheetWarning } from '../domain/sheet-warnings.js';
import { cellValue, decodeExcelEscapes } from './cells.js';
import { csvSheetName, openCsv } from './csv.js';
import { asWorkbookError, assertFile } from './files.js';
import type { SheetInfo, XlsxWorkbook } from './xlsx-reader.js';
import { openXlsx } from './xlsx-reader.js';
import type { ZipDirectory } from './zip.js';
import { inspectXlsx } from './zip.js';

export interface SheetRequest {
  readonly path: string;
  readonly displayName: string;
  readonly format: SheetFormat;
  /** A sheet name (exact, then case-insensitive) or a 1-based tab index as text; default the first visible. */
  readonly sheet?: string | undefined;
  readonly maxUnpackedBytes?: number | undefined;
}

/** A row as read: values[0] is column A; CSV fields are strings. */
export interface RawRow {
  readonly number: number;
  readonly values: readonly CellValue[];
}

export interface OpenSheet {
  readonly name: string;
  readonly index: number;
  /** Every sheet of the file in tab order (for CSV, the one). */
  readonly sheets: readonly SheetInfo[];
  readonly rows: AsyncIterable<RawRow>;
  /** The xlsx zip directory (for reading parts' heads); undefined for CSV. */
  readonly directory: ZipDirectory | undefined;
  /** What reading the file noticed (a CSV's encoding), about the rows iterated so far. */
  warnings(): SheetWarning[];
}

/**
 * Opens the requested sheet. Nothing is read from its rows until they are iterated, and leaving the loop
 * over them early closes the file.
 */
export async function openSheet(request: SheetRequest): Promise<OpenSheet> {
  const { path, displayName } = request;
  await assertFile(path, displayName);
  if (request.format === 'csv') {
    const csv = await openCsv(path, displayName);
    const info: SheetInfo = {
      name: csvSheetName(displayName),
      index: 1,
      state: 'visible',
      part: undefined,
      isWorksheet: true,
    };
    selectSheet([info], request.sheet, displayName);
    const rows = mapRows(csv.records(), (r) => ({ number: r.number, values: r.fields }));
    return {
      name: info.name,
      index: 1,
      sheets: [info],
      rows,
      directory: undefined,
      warnings: () => csv.warnings(),
    };
  }

  const directory = await inspectXlsx(path, displayName, request.maxUnpackedBytes);
  let workbook: XlsxWorkbook;
  try {
    workbook = await openXlsx(path, directory, displayName);
  } catch (error) {
    throw asWorkbookError(error, displayName);
  }
  const target = selectSheet(workbook.sheets, request.sheet, displayName);
  const rows = mapRows(mapErrors(workbook.rows(target), displayName), xlsxRow);
  return {
    name: target.name,
    index: target.index,
    sheets: workbook.sheets,
    rows,
    directory,
    warnings: () => [],
  };
}

/** The requested sheet, or the first visible worksheet; `SheetNotFoundError` lists the sheets in tab order. */
export function selectSheet<S extends SheetInfo>(
  sheets: readonly S[],
  requested: string | undefined,
  displayName: string,
): S {
  const wanted = requested?.trim();
  const found = !wanted
    ? (sheets.find((s) => s.isWorksheet && s.state === 'visible') ?? sheets.find((s) => s.isWorksheet))
    : (sheets.find((s) => s.name === wanted) ??
      sheets.find((s) => s.name.toLowerCase() === wanted.toLowerCase()) ??
      (/^\d+$/.test(wanted) ? sheets[Number(wanted) - 1] : undefined));
  if (!found) {
    throw new SheetNotFoundError(
      displayName,
      requested ?? '',
      sheets.map((s) => s.name),
    );
  }
  return found;
}

function xlsxRow(row: Row): RawRow {
  const values: CellValue[] = [];
  row.eachCell((cell, column) => {
    values[column - 1] = decodeExcelEscapes(cellValue(cell));
  });
  return { number: row.number, values };
}

async function* mapRows<T>(rows: AsyncIterable<T>, map: (row: T) => RawRow): AsyncGenerator<RawRow> {
  for await (const row of rows) yield map(row);
}

/** Passes the rows through, turning the parser's failures into `InvalidWorkbookError` (see `asWorkbookError`). */
export async function* mapErrors<T>(rows: AsyncIterable<T>, displayName: string): AsyncGenerator<T> {
  try {
    yield* rows;
  } catch (error) {
    throw asWorkbookError(error, displayName);
  }
}
