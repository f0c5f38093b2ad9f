/**
 * The Summary and Run sheets, written the same way into a loaded workbook or a streaming one; xlsx-patch.ts
 * writes their XML by the same `reportFormats` and `reportColumnWidths`.
 */
import type { Worksheet } from 'exceljs';

import type { ReportRow } from '../domain/report.js';

/** `Summary`, or `Summary (verbatim)`, `Summary (verbatim 2)` … when the workbook already has that name. */
export function reportSheetName(base: string, existing: readonly string[]): string {
  const taken = new Set(existing.map((name) => name.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 1; ; n += 1) {
    const name = n === 1 ? `${base} (verbatim)` : `${base} (verbatim ${n})`;
    if (!taken.has(name.toLowerCase())) return name;
  }
}

/**
 * Writes the rows from A1 down, formatted as `reportFormats` says. Each row is committed, so a streaming
 * worksheet writes it out at once (a no-op for a loaded workbook).
 */
export function fillReportSheet(sheet: Worksheet, rows: readonly ReportRow[]): void {
  sheet.columns = reportColumnWidths(rows).map((width) => ({ width }));
  const formats = reportFormats(rows);
  rows.forEach((values, i) => {
    const row = sheet.getRow(i + 1);
    const format = formats[i];
    values.forEach((value, j) => {
      const cell = row.getCell(j + 1);
      cell.value = value;
      if (format?.percent[j]) cell.numFmt = '0.0%';
    });
    if (format?.bold) row.font = { bold: true };
    row.commit();
  });
}

export interface ReportRowFormat {
  readonly bold: boolean;
  /** By column (0-based): the number shows as a percentage. */
  readonly percent: readonly boolean[];
}

/**
 * How each row looks. A row that starts a block (the first, or one after an empty row) is a header and
 * bold; numbers under a header starting with `%` (`%`, `% of mentions`) are fractions and shown as
 * percentages (`0.0%`).
 */
export function reportFormats(rows: readonly ReportRow[]): ReportRowFormat[] {
  let blockHeader: ReportRow | undefined;
  return rows.map((values) => {
    if (values.length === 0) {
      blockHeader = undefined;
      return { bold: false, percent: [] };
    }
    const percent = values.map((value, j) => {
      const header = blockHeader?.[j];
      return typeof header === 'string' && header.startsWith('%') && typeof value === 'number';
    });
    const bold = blockHeader === undefined;
    blockHeader ??= values;
    return { bold, percent };
  });
}

const MIN_WIDTH = 8;
const MAX_WIDTH = 80;

/** Column widths in characters: each column's longest value, within 8–80. */
export function reportColumnWidths(rows: readonly ReportRow[]): number[] {
  const widths: number[] = [];
  for (const values of rows) {
    // A single-cell row (a warning line) may run across the empty cells to its right.
    if (values.length < 2) continue;
    values.forEach((value, j) => {
      const length = typeof value === 'number' ? 10 : (value ?? '').length;
      widths[j] = Math.max(widths[j] ?? MIN_WIDTH, Math.min(MAX_WIDTH, length + 2));
    });
  }
  return Array.from(widths, (w) => w ?? MIN_WIDTH);
}
