/**
 * The Summary and Run sheets, written the same way into a loaded workbook or a streaming one.
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
 * Writes the rows from A1 down. A row that starts a block (the first, or one after an empty row) is a
 * header and set bold; numbers under a `%` header are fractions and shown as percentages. Each row is
 * committed, so a streaming worksheet writes it out at once (a no-op for a loaded workbook).
 */
export function fillReportSheet(sheet: Worksheet, rows: readonly ReportRow[]): void {
  sheet.columns = columnWidths(rows).map((width) => ({ width }));
  let blockHeader: ReportRow | undefined;
  rows.forEach((values, i) => {
    const row = sheet.getRow(i + 1);
    if (values.length === 0) {
      blockHeader = undefined;
      row.commit();
      return;
    }
    values.forEach((value, j) => {
      const cell = row.getCell(j + 1);
      cell.value = value;
      if (blockHeader?.[j] === '%' && typeof value === 'number') cell.numFmt = '0.0%';
    });
    if (!blockHeader) {
      row.font = { bold: true };
      blockHeader = values;
    }
    row.commit();
  });
}

const MIN_WIDTH = 8;
const MAX_WIDTH = 80;

function columnWidths(rows: readonly ReportRow[]): number[] {
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
