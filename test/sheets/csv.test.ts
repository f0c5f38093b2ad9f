import { readFile, writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { previewSheets, readAnswerColumn, writeCodedCsv, writeCodedWorkbook } from '../../sheets/index.js';
import { csvLine, sniffDelimiter } from '../../sheets/csv.js';
import { InvalidWorkbookError, SheetNotFoundError } from '../../domain/errors.js';
import type { TempDir } from './fixtures.js';
import { loadWorkbook, saveWorkbook, surveyWorkbook, tempDir } from './fixtures.js';

/** A European Excel export: BOM, `;`, CRLF, a title line, a quoted line break, an empty line. */
const EUROPEAN =
  '\uFEFFUmfrage März 2024\r\n' +
  'ID;Antwort;Land\r\n' +
  '1;"Zeile eins\nZeile zwei";DE\r\n' +
  '2;Günstig, aber langsam;AT\r\n' +
  '\r\n' +
  '3;=HYPERLINK("http://evil.example");CH\r\n' +
  '4;-5;DE\r\n';

let dir: TempDir;
let european: string;
beforeAll(async () => {
  dir = await tempDir();
  european = dir.file('input.csv');
  await writeFile(european, EUROPEAN, 'utf8');
});
afterAll(() => dir.remove());

const readEuropean = () =>
  readAnswerColumn({ path: european, displayName: 'Umfrage März.csv', format: 'csv', column: 'antwort' });

describe('reading CSV', () => {
  it('sniffs `;`, drops the BOM, keeps quoted line breaks and numbers rows by record', async () => {
    const column = await readEuropean();
    expect(column).toMatchObject({
      sheet: 'Umfrage März',
      sheetIndex: 1,
      headerRow: 2,
      header: 'Antwort',
      column: 'B',
      categoryColumn: 'D',
      categoryColumnExists: false,
    });
    expect(column.rows.map((r) => [r.row, r.answer])).toEqual([
      [3, 'Zeile eins\nZeile zwei'],
      [4, 'Günstig, aber langsam'],
      [6, '=HYPERLINK("http://evil.example")'],
      [7, '-5'],
    ]);
  });

  it('takes column letters, and the CSV sheet by its name or index only', async () => {
    const byLetter = await readAnswerColumn({
      path: european,
      displayName: 'Umfrage März.csv',
      format: 'csv',
      column: 'B',
    });
    expect(byLetter).toEqual(await readEuropean());
    await expect(
      readAnswerColumn({ path: european, displayName: 'x.csv', format: 'csv', sheet: '1', column: 'B' }),
    ).resolves.toMatchObject({ sheet: 'x' });
    await expect(
      readAnswerColumn({ path: european, displayName: 'x.csv', format: 'csv', sheet: 'Data', column: 'B' }),
    ).rejects.toThrow(SheetNotFoundError);
  });

  it('decodes a Windows-1252 export (umlauts, €, curly quotes)', async () => {
    const path = dir.file('ansi.csv');
    const text = 'Nr;Kommentar\r\n1;Zu teuer: 5 \x80 für \x93nichts\x94\r\n';
    await writeFile(path, Buffer.from(text, 'latin1'));
    const column = await readAnswerColumn({
      path,
      displayName: 'ansi.csv',
      format: 'csv',
      column: 'Kommentar',
    });
    expect(column.rows[0]?.answer).toBe('Zu teuer: 5 € für “nichts”');
  });

  it('refuses unreadable CSV with the reason', async () => {
    const unclosed = dir.file('unclosed.csv');
    await writeFile(unclosed, 'a,b\n1,"never closed\n2,x\n');
    const error = await readAnswerColumn({
      path: unclosed,
      displayName: 'bad.csv',
      format: 'csv',
      column: 'a',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidWorkbookError);
    expect((error as Error).message).toMatch(
      /^bad\.csv cannot be read as a spreadsheet: CSV: Quote Not Closed/,
    );

    const xlsx = dir.file('really.csv');
    await saveWorkbook(surveyWorkbook(), xlsx);
    await expect(
      readAnswerColumn({ path: xlsx, displayName: 'really.csv', format: 'csv', column: 'a' }),
    ).rejects.toThrow(
      'really.csv cannot be read as a spreadsheet: it is a zip (an .xlsx?), not CSV text; upload it as .xlsx',
    );
  });

  it('previews a CSV file as one sheet', async () => {
    const preview = await previewSheets({
      path: european,
      displayName: 'Umfrage März.csv',
      format: 'csv',
      rows: 2,
    });
    expect(preview.sheets).toEqual([
      { name: 'Umfrage März', index: 1, state: 'visible', lastRow: undefined },
    ]);
    expect(preview.headerRow).toBe(2);
    expect(preview.rows.map((r) => r.row)).toEqual([3, 4]);
  });
});

describe('writing CSV', () => {
  it('writes every record back with the category column, in the input delimiter, with a BOM and formulas escaped', async () => {
    const outPath = dir.file('coded.csv');
    await writeCodedCsv({
      inputPath: european,
      format: 'csv',
      displayName: 'Umfrage März.csv',
      sheet: 'Umfrage März',
      headerRow: 2,
      categoryColumn: 'D',
      categoryHeader: 'Antwort category',
      labels: new Map([
        [3, 'Qualität'],
        [4, 'Preis'],
        [6, 'Other'],
        [7, '@Other'],
      ]),
      outPath,
    });
    expect(await readFile(outPath, 'utf8')).toBe(
      '\uFEFFUmfrage März 2024;;;\r\n' +
        'ID;Antwort;Land;Antwort category\r\n' +
        '1;"Zeile eins\nZeile zwei";DE;Qualität\r\n' +
        '2;Günstig, aber langsam;AT;Preis\r\n' +
        ';;;\r\n' +
        `3;"'=HYPERLINK(""http://evil.example"")";CH;Other\r\n` +
        "4;-5;DE;'@Other\r\n",
    );
  });

  it('can leave formulas as they are', () => {
    expect(csvLine(['=1+1', '+x', ' padded'], ',', false)).toBe('=1+1,+x," padded"');
    expect(csvLine(['=1+1', '+x', '\tx', '1e5', '-0.5'], ',', true)).toBe(`'=1+1,'+x,'\tx,1e5,-0.5`);
  });

  it('writes the answer sheet of an xlsx from its header row down, comma-separated', async () => {
    const input = await saveWorkbook(surveyWorkbook(), dir.file('survey.xlsx'));
    const outPath = dir.file('survey.csv');
    await writeCodedCsv({
      inputPath: input,
      format: 'xlsx',
      displayName: 'survey.xlsx',
      sheet: 'Responses',
      headerRow: 3,
      categoryColumn: 'F',
      categoryHeader: 'E2 category',
      labels: new Map([[5, 'Service']]),
      outPath,
    });
    const lines = (await readFile(outPath, 'utf8')).split('\r\n');
    expect(lines[0]).toBe('\uFEFFRespondent,Date,Score,E2,E3,E2 category');
    expect(lines[2]).toBe('1000,2024-01-01,0,The staff were friendly,,Service');
    expect(lines).toHaveLength(14);
  });

  it('sniffs the delimiter outside quotes, past a title line', () => {
    expect(sniffDelimiter('"a;b;c",x,y\n')).toBe(',');
    expect(sniffDelimiter('Title\r\na;b,c;d\n')).toBe(';');
    expect(sniffDelimiter('a\tb\tc\n')).toBe('\t');
    expect(sniffDelimiter('single\n')).toBe(',');
  });
});

describe('CSV into the coded workbook', () => {
  it('builds one sheet named after the file, records as rows, plus Summary and Run', async () => {
    const outPath = dir.file('csv-coded.xlsx');
    const written = await writeCodedWorkbook({
      inputPath: european,
      format: 'csv',
      displayName: 'Umfrage März.csv',
      sheet: 'Umfrage März',
      headerRow: 2,
      categoryColumn: 'D',
      categoryHeader: 'Antwort category',
      labels: new Map([
        [3, 'Qualität'],
        [7, 'Preis'],
      ]),
      summary: [['Category', 'Count', '%']],
      run: [['Setting', 'Value']],
      outPath,
    });
    expect(written.streamed).toBe(true);
    const workbook = await loadWorkbook(outPath);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Umfrage März', 'Summary', 'Run']);
    const sheet = workbook.worksheets[0];
    expect(sheet?.getRow(1).values).toEqual([undefined, 'Umfrage März 2024']);
    expect(sheet?.getRow(2).values).toEqual([undefined, 'ID', 'Antwort', 'Land', 'Antwort category']);
    expect(sheet?.getRow(3).values).toEqual([undefined, '1', 'Zeile eins\nZeile zwei', 'DE', 'Qualität']);
    expect(sheet?.getRow(7).values).toEqual([undefined, '4', '-5', 'DE', 'Preis']);
  });
});
