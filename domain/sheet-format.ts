import { InvalidWorkbookError } from './errors.js';

/** The ways an input file is read: an Office Open XML workbook or delimited text. */
export const SHEET_FORMATS = ['xlsx', 'csv'] as const;

/** How an input file is read: an Office Open XML workbook or delimited text. */
export type SheetFormat = (typeof SHEET_FORMATS)[number];

/** The format a file name announces; legacy `.xls` and anything else are refused with what to do instead. */
export function sheetFormatOf(fileName: string): SheetFormat {
  const ext = /\.[^./\\]*$/.exec(fileName)?.[0].toLowerCase() ?? '';
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.xls')
    throw new InvalidWorkbookError(fileName, 'legacy .xls files are not supported: save it as .xlsx');
  throw new InvalidWorkbookError(
    fileName,
    `not a spreadsheet (${ext || 'no extension'}): expected .xlsx or .csv`,
  );
}
