/** Cell values as text (the same on every worker, whatever its locale) and what kind of value each cell holds. */

import ExcelJS from 'exceljs';
import type { Cell, CellFormulaValue, CellValue } from 'exceljs';

/** What a cell holds, as far as telling a header or question row (all text) from a data row matters. */
export type CellKind = 'empty' | 'text' | 'number' | 'date' | 'boolean' | 'error';

export interface CellText {
  readonly text: string;
  readonly kind: CellKind;
}

export const EMPTY_CELL: CellText = { text: '', kind: 'empty' };

/**
 * A cell's value with its formula result intact: exceljs's `cell.value` leaves out a cached result that is
 * falsy, so a formula giving 0, '', FALSE (or, in the streaming reader, an error) would read as no result.
 */
export function cellValue(cell: Cell): CellValue {
  if (cell.type !== ExcelJS.ValueType.Formula) return cell.value;
  const value: CellFormulaValue = { formula: cell.formula ?? '' };
  const result = cell.result as CellFormulaValue['result'];
  return result === undefined ? value : { ...value, result };
}

/**
 * The text of a cell as the answer, header or label it stands for: no locale, no number format, so the
 * same file reads the same on every worker. Formulas give their cached result (exceljs does not compute).
 */
export function cellText(value: CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return dateText(value);
  if ('error' in value) return value.error;
  if ('richText' in value) return value.richText.map((run) => run.text).join('');
  // A hyperlink's text may itself be rich text when the full reader loaded it.
  if ('hyperlink' in value) return cellText(value.text);
  if ('formula' in value || 'sharedFormula' in value) {
    const { result } = value;
    // The streaming reader parses a formula's cached error (`#N/A`) as a number, which gives NaN: which error
    // it was is lost, but it stays an error, and `#N/A` is what the answer rules treat as "no answer".
    if (typeof result === 'number' && Number.isNaN(result)) return '#N/A';
    return cellText(result);
  }
  return '';
}

/**
 * Excel writes characters XML cannot hold (control codes, lone surrogates) as `_xHHHH_`, and a literal
 * `_x` sequence with its underscore escaped (`_x005F_x0041_`). Applied to text read from an .xlsx, so an
 * answer reads as Excel shows it; never to what is copied into the output, which keeps the escapes.
 */
export function decodeExcelEscapes(value: CellValue): CellValue {
  if (typeof value === 'string')
    return value.includes('_x') ? value.replace(EXCEL_ESCAPE, unescapeOne) : value;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if ('richText' in value) {
    return {
      richText: value.richText.map((run) => ({ ...run, text: decodeExcelEscapes(run.text) as string })),
    };
  }
  if (('formula' in value || 'sharedFormula' in value) && typeof value.result === 'string') {
    return { ...value, result: decodeExcelEscapes(value.result) as string };
  }
  return value;
}

const EXCEL_ESCAPE = /_x([0-9A-Fa-f]{4})_/g;

function unescapeOne(_match: string, hex: string): string {
  return String.fromCharCode(parseInt(hex, 16));
}

export function cellKind(value: CellValue): CellKind {
  if (value === null || value === undefined) return 'empty';
  if (typeof value === 'string') return textKind(value);
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (value instanceof Date) return 'date';
  if ('error' in value) return 'error';
  if ('formula' in value || 'sharedFormula' in value) {
    return value.result === undefined ? 'empty' : cellKind(value.result);
  }
  return textKind(cellText(value));
}

export function toCellText(value: CellValue): CellText {
  const text = cellText(value);
  return text === '' ? EMPTY_CELL : { text, kind: cellKind(value) };
}

/** CSV fields are all strings; a field that reads as a number or date is one for the layout rules. */
export function textKind(text: string): CellKind {
  const t = text.trim();
  if (t === '') return 'empty';
  if (NUMBER_TEXT.test(t) || DATE_TEXT.test(t)) return 'number';
  return 'text';
}

const NUMBER_TEXT = /^[-+]?(?:\d+(?:[.,]\d+)*|[.,]\d+)(?:[eE][-+]?\d+)?%?$/;
const DATE_TEXT = /^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$/;

/**
 * Excel keeps 15 significant digits and shows no more; reading the stored binary double as is would turn
 * 0.3 into 0.30000000000000004.
 */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15)));
}

/** exceljs gives dates in UTC: a date without a time of day is written as the date alone. */
function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}
