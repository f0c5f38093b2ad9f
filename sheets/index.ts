/** Spreadsheet I/O for verbatim: reading the answer column, previewing a file, writing the coded output. */
export { readAnswerColumn, inspectColumn, previewSheets } from './read.js';
export type {
  AnswerColumn,
  LocatedColumn,
  InspectColumnInput,
  Preview,
  PreviewColumn,
  PreviewSheet,
  PreviewSheetsInput,
  ReadAnswerColumnInput,
} from './read.js';
export { writeCodedWorkbook } from './write.js';
export type { WriteWorkbookInput, WrittenWorkbook } from './write.js';
export { patchWorkbook } from './xlsx-patch.js';
export type {
  PatchColumn,
  PatchWorkbookInput,
  PatchedWorkbook,
  ReportSheet,
  RowRange,
} from './xlsx-patch.js';
export { writeCodedCsv } from './write-csv.js';
export { writeCodedSav } from './write-sav.js';
export type { WriteCodedSavInput, WrittenSav } from './write-sav.js';
export type { CodeColumns, CodedSheet, WriteCodedCsvInput } from './write-csv.js';
export { inspectXlsx, DEFAULT_MAX_UNPACKED_BYTES } from './zip.js';
export { readCodeframeFile } from './codeframe.js';
