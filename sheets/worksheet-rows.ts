/**
 * A worksheet part's rows, parsed as they stream in, as exceljs rows (with styles), for the readers and
 * the streamed copy of the output. Our own parser rather than exceljs's streaming one (4.4), which:
 *  - fails with a TypeError on rows and cells without an `r` reference, which the format leaves optional
 *    and some writers omit (the position then says where they are);
 *  - keeps only the last run of an inline rich string (`<is><r>…</r><r>…</r></is>`);
 *  - reads a formula's cached TRUE as 1 and its cached error as NaN, and a cached date as a number;
 *  - decodes `&amp;lt;` twice in inline strings and text results (`&lt;` in the cell reads as `<`);
 *  - adds the whitespace after `</v>` of an indented part to the value, and drops CDATA text;
 *  - matches element names with their prefix, so a sheet written as `<x:row>` has no rows.
 * What it makes of each cell is what exceljs's whole-file reader makes of it.
 */
import type { CellValue, Row, Style } from 'exceljs';
import ExcelRow from 'exceljs/lib/doc/row.js';
import excelUtils from 'exceljs/lib/utils/utils.js';
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';

import { columnIndex, columnLetter } from '../domain/columns.js';
import { InvalidWorkbookError } from '../domain/errors.js';
import type { SharedString } from './shared-strings.js';
import { MAX_CELL_CHARS, localName } from './xml-part.js';

export interface WorksheetContext {
  /** exceljs's worksheet reader for this sheet: the rows' columns hang off it. */
  readonly worksheet: unknown;
  readonly sharedStrings: readonly SharedString[];
  readonly styles: { getStyleModel(id: number): Partial<Style> | null | undefined } | undefined;
  readonly date1904: boolean;
  /** The part's zip entry name and the user's file name, for error messages. */
  readonly part: string;
  readonly displayName: string;
}

const MAX_ROW = 1_048_576;

interface CellState {
  column: number;
  type: string | undefined;
  style: number;
  value: string | undefined;
  formula: string | undefined;
  inline: string | undefined;
}

/** The rows in file order (only rows present in the part); stops reading at the end of `<sheetData>`. */
export async function* readWorksheetRows(
  text: AsyncIterable<string>,
  context: WorksheetContext,
): AsyncGenerator<Row> {
  const parser = new SaxesParser();
  const done: Row[] = [];
  let inData = false;
  let finished = false;
  let row: Row | undefined;
  let lastRow = 0;
  let nextColumn = 1;
  let cell: CellState | undefined;
  // Where text goes: a cell's <v>, <f>, or a <t> of its inline string (outside phonetic runs).
  let target: 'value' | 'formula' | 'inline' | undefined;
  let inPhonetic = false;

  const fail = (what: string) =>
    new InvalidWorkbookError(context.displayName, `its part ${context.part} ${what}`);

  const append = (chunk: string) => {
    if (!cell || target === undefined) return;
    const before = target === 'value' ? cell.value : target === 'formula' ? cell.formula : cell.inline;
    const text = (before ?? '') + chunk;
    if (text.length > MAX_CELL_CHARS) {
      throw fail(
        `has a cell (${columnLetter(cell.column)}${row?.number ?? ''}) of more than ${MAX_CELL_CHARS.toLocaleString('en')} ` +
          'characters (Excel holds at most 32,767)',
      );
    }
    if (target === 'value') cell.value = text;
    else if (target === 'formula') cell.formula = text;
    else cell.inline = text;
  };
  parser.on('text', append);
  parser.on('cdata', append);
  parser.on('doctype', () => {
    throw fail('declares a document type (<!DOCTYPE>), which no Office file does');
  });
  parser.on('opentag', (node: SaxesTagPlain) => {
    const name = localName(node.name);
    if (name === 'sheetData') inData = true;
    if (!inData) return;
    const { attributes } = node;
    if (name === 'row') {
      const number = attributes.r === undefined ? lastRow + 1 : Number(attributes.r);
      if (!Number.isInteger(number) || number < 1 || number > MAX_ROW) {
        throw fail(`has a row numbered ${JSON.stringify(attributes.r)}, not 1 to ${MAX_ROW}`);
      }
      row = new ExcelRow(context.worksheet, number);
      lastRow = number;
      nextColumn = 1;
      if (attributes.ht) row.height = Number(attributes.ht);
      const style = attributes.s === undefined ? undefined : styleOf(Number(attributes.s));
      // exceljs's Row has a style its type declarations leave out.
      if (style) (row as Row & { style: Partial<Style> }).style = style;
    } else if (name === 'c' && row) {
      const column = attributes.r === undefined ? nextColumn : columnOf(attributes.r);
      if (column === undefined) {
        throw fail(`has a cell at ${JSON.stringify(attributes.r)} in row ${row.number}, not a cell address`);
      }
      nextColumn = column + 1;
      cell = {
        column,
        type: attributes.t,
        style: Number(attributes.s ?? 0),
        value: undefined,
        formula: undefined,
        inline: undefined,
      };
    } else if (cell) {
      if (name === 'v') target = 'value';
      else if (name === 'f') {
        target = 'formula';
        cell.formula ??= '';
      } else if (name === 'rPh') inPhonetic = true;
      else if (name === 't' && !inPhonetic) {
        target = 'inline';
        cell.inline ??= '';
      }
    }
  });
  parser.on('closetag', (node: SaxesTagPlain) => {
    const name = localName(node.name);
    if (!inData) return;
    if (name === 'v' || name === 'f' || name === 't') target = undefined;
    else if (name === 'rPh') inPhonetic = false;
    else if (name === 'c' && row && cell) {
      setCell(row, cell);
      cell = undefined;
    } else if (name === 'row' && row) {
      done.push(row);
      row = undefined;
    } else if (name === 'sheetData') {
      inData = false;
      finished = true;
    }
  });

  function styleOf(id: number): Partial<Style> | undefined {
    return (id > 0 && context.styles?.getStyleModel(id)) || undefined;
  }

  function setCell(target: Row, state: CellState): void {
    const cell = target.getCell(state.column);
    const style = styleOf(state.style);
    // The style first: its number format says whether a number is a date.
    if (style) cell.style = style;
    const value = valueOf(state, cell.numFmt);
    if (value !== undefined) cell.value = value;
  }

  function valueOf(state: CellState, numFmt: string | undefined): CellValue | undefined {
    const { type, value, formula } = state;
    if (formula !== undefined) {
      const result = resultOf(type, value, numFmt);
      return result === undefined ? { formula } : ({ formula, result } as CellValue);
    }
    if (type === 'inlineStr') return state.inline;
    if (type === 's') return value === undefined ? undefined : sharedString(value);
    return resultOf(type, value, numFmt);
  }

  /** A plain value, or a formula's cached result, by the cell's type. */
  function resultOf(
    type: string | undefined,
    value: string | undefined,
    numFmt: string | undefined,
  ): CellValue | undefined {
    if (value === undefined) return undefined;
    switch (type) {
      case 'str':
        return value;
      case 'inlineStr':
        return value;
      case 's':
        return sharedString(value);
      case 'b':
        return value.trim() === '1' || value.trim() === 'true';
      case 'e':
        return { error: value.trim() } as CellValue;
      case 'd': {
        // Strict Open XML may store dates as ISO 8601 text.
        const date = new Date(value.trim());
        return Number.isNaN(date.getTime()) ? value : date;
      }
      default: {
        if (value.trim() === '') return undefined;
        const n = Number(value);
        if (Number.isNaN(n)) return value;
        return excelUtils.isDateFmt(numFmt) ? excelUtils.excelToDate(n, context.date1904) : n;
      }
    }
  }

  function sharedString(index: string): CellValue | undefined {
    const s = context.sharedStrings[Number(index)];
    return s;
  }

  for await (const chunk of text) {
    parser.write(chunk);
    yield* done.splice(0);
    if (finished) return;
  }
  parser.close();
  yield* done.splice(0);
}

/** `B7` or `$B$7` → 2; undefined when it is not a cell address within Excel's 16,384 columns. */
function columnOf(ref: string): number | undefined {
  const letters = /^\$?([A-Za-z]{1,3})\$?\d+$/.exec(ref.trim())?.[1];
  return letters === undefined ? undefined : columnIndex(letters);
}
