/**
 * The coded data as CSV: the answer sheet's table with the category column (and in multi-code mode the
 * 0/1 columns) filled in, nothing else.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { columnIndex } from '../domain/columns.js';
import { InvalidSettingError } from '../domain/errors.js';
import { cellText } from './cells.js';
import { csvLine, openCsv } from './csv.js';
import { writeAtomically } from '../lib/atomic-write.js';
import type { SheetFormat } from '../domain/sheet-format.js';
import { openSheet } from './sources.js';

/** Where the labels go: the input, its answer sheet, and the category column in it. */
export interface CodedSheet {
  readonly inputPath: string;
  readonly format: SheetFormat;
  readonly displayName: string;
  /** The answer sheet, as `AnswerColumn.sheet` names it. */
  readonly sheet: string;
  readonly headerRow: number;
  readonly categoryColumn: string;
  readonly categoryHeader: string;
  /** Sheet row number → label; rows not in the map are left as they are. */
  readonly labels: ReadonlyMap<number, string>;
  /** Multi-code: the 0/1 columns, one per category then one per net. */
  readonly codes?: CodeColumns | undefined;
  /** Each answer's confidence (0–1, two decimals shown), when the model gave log-probabilities. */
  readonly confidence?: ConfidenceColumn | undefined;
}

export interface ConfidenceColumn {
  /** A letter. */
  readonly column: string;
  readonly header: string;
  /** Sheet row → confidence; rows not here stay blank. */
  readonly values: ReadonlyMap<number, number>;
}

/** A confidence as the workbook and the SPSS file hold it: two decimals, as the CSV writes it. */
export function roundedConfidence(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 100) / 100;
}

/** The confidence column's index (1-based), the letter checked; undefined when there is none. */
export function confidenceColumnIndex(confidence: ConfidenceColumn | undefined): number | undefined {
  if (!confidence) return undefined;
  const column = columnIndex(confidence.column);
  if (column === undefined) {
    throw new InvalidSettingError('confidenceColumn', confidence.column, 'is not a column letter (A–XFD)');
  }
  return column;
}

/** The 0/1 columns of a multi-code job (a "multiple dichotomy" set, as tabulation software wants it). */
export interface CodeColumns {
  /** The first of them, a letter; the others follow it. */
  readonly column: string;
  readonly headers: readonly string[];
  /** Sheet row → positions (in `headers`) holding 1, ascending; every other one holds 0. Rows not here stay blank. */
  readonly ones: ReadonlyMap<number, readonly number[]>;
}

/** `ones` as a full row of 0/1 values for `count` columns. */
export function dichotomyValues(ones: readonly number[], count: number): Array<0 | 1> {
  const values = new Array<0 | 1>(count).fill(0);
  for (const i of ones) if (i < count) values[i] = 1;
  return values;
}

/** The 0/1 columns' first index (1-based) and the input's letter checked, or undefined when there are none. */
export function codeColumnIndex(codes: CodeColumns | undefined): number | undefined {
  if (!codes) return undefined;
  const column = columnIndex(codes.column);
  if (column === undefined) {
    throw new InvalidSettingError('codeColumn', codes.column, 'is not a column letter (A–XFD)');
  }
  return column;
}

export interface WriteCodedCsvInput extends CodedSheet {
  readonly outPath: string;
  /** Prefix text that a spreadsheet would run as a formula with `'`; default true. */
  readonly escapeFormulas?: boolean | undefined;
}

/**
 * CSV input comes back record for record, in its own delimiter (a `;` file from a European Excel opens in
 * the same Excel again). For xlsx input the answer sheet is written from its header row down, empty rows
 * left out, comma-separated. UTF-8 with a byte-order mark (so Excel does not guess the encoding), CRLF.
 */
export async function writeCodedCsv(input: WriteCodedCsvInput): Promise<void> {
  const column = columnIndex(input.categoryColumn);
  if (column === undefined) {
    throw new InvalidSettingError('categoryColumn', input.categoryColumn, 'is not a column letter (A–XFD)');
  }
  const escape = input.escapeFormulas ?? true;
  const codes = input.codes;
  const codeColumn = codeColumnIndex(codes);
  const confidence = input.confidence;
  const confidenceColumn = confidenceColumnIndex(confidence);
  const width = Math.max(
    column,
    codeColumn === undefined ? 0 : codeColumn + (codes?.headers.length ?? 0) - 1,
    confidenceColumn ?? 0,
  );
  const withCategory = (number: number, fields: readonly string[]): string[] => {
    const out = [...fields];
    while (out.length < width) out.push('');
    if (number === input.headerRow && (out[column - 1] ?? '').trim() === '') {
      out[column - 1] = input.categoryHeader;
    }
    const label = input.labels.get(number);
    if (label !== undefined) out[column - 1] = label;
    if (codes && codeColumn !== undefined) {
      if (number === input.headerRow) {
        codes.headers.forEach((h, i) => {
          if ((out[codeColumn - 1 + i] ?? '').trim() === '') out[codeColumn - 1 + i] = h;
        });
      }
      const ones = codes.ones.get(number);
      if (ones) {
        dichotomyValues(ones, codes.headers.length).forEach((v, i) => (out[codeColumn - 1 + i] = String(v)));
      }
    }
    if (confidence && confidenceColumn !== undefined) {
      if (number === input.headerRow && (out[confidenceColumn - 1] ?? '').trim() === '') {
        out[confidenceColumn - 1] = confidence.header;
      }
      const value = confidence.values.get(number);
      if (value !== undefined) out[confidenceColumn - 1] = value.toFixed(2);
    }
    return out;
  };
  const touched = (number: number) =>
    input.labels.has(number) ||
    (codes?.ones.has(number) ?? false) ||
    (confidence?.values.has(number) ?? false);
  const save = (lines: AsyncIterable<string>) =>
    writeAtomically(input.outPath, (tempPath) =>
      pipeline(Readable.from(withBom(lines)), createWriteStream(tempPath)),
    );

  if (input.format === 'csv') {
    const csv = await openCsv(input.inputPath, input.displayName);
    await save(
      (async function* () {
        for await (const record of csv.records()) {
          yield `${csvLine(withCategory(record.number, record.fields), csv.delimiter, escape)}\r\n`;
        }
      })(),
    );
    return;
  }
  const sheet = await openSheet({
    path: input.inputPath,
    displayName: input.displayName,
    format: 'xlsx',
    sheet: input.sheet,
  });
  await save(
    (async function* () {
      for await (const raw of sheet.rows) {
        if (raw.number < input.headerRow) continue;
        const fields = Array.from({ length: raw.values.length }, (_, i) => cellText(raw.values[i]));
        if (fields.every((f) => f.trim() === '') && !touched(raw.number)) continue;
        yield `${csvLine(withCategory(raw.number, fields), ',', escape)}\r\n`;
      }
    })(),
  );
}

async function* withBom(lines: AsyncIterable<string>): AsyncGenerator<string> {
  yield '\uFEFF';
  yield* lines;
}
