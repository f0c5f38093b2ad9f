/**
 * The coded data as CSV: the answer sheet's table with the category column filled in, nothing else.
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
  const withCategory = (number: number, fields: readonly string[]): string[] => {
    const out = [...fields];
    while (out.length < column) out.push('');
    if (number === input.headerRow && (out[column - 1] ?? '').trim() === '') {
      out[column - 1] = input.categoryHeader;
    }
    const label = input.labels.get(number);
    if (label !== undefined) out[column - 1] = label;
    return out;
  };
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
        if (fields.every((f) => f.trim() === '') && !input.labels.has(raw.number)) continue;
        yield `${csvLine(withCategory(raw.number, fields), ',', escape)}\r\n`;
      }
    })(),
  );
}

async function* withBom(lines: AsyncIterable<string>): AsyncGenerator<string> {
  yield '\uFEFF';
  yield* lines;
}
