import { readFile, writeFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { previewSheets, readAnswerColumn, writeCodedCsv, writeCodedWorkbook } from '../../sheets/index.js';
import { csvLine, sniffDelimiter } from '../../sheets/csv.js';
import { csvCellValue } from '../../sheets/csv-values.js';
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
    expect(column.warnings).toEqual([
      {
        code: 'windows_1252',
        message:
          'The file is not UTF-8 text, so it was read as Windows-1252 (what Excel on Windows saves as "CSV"): ' +
          'row 2 holds characters outside ASCII. Check that it reads right, or save the file as "CSV UTF-8".',
        rows: [2],
        rowCount: 1,
      },
    ]);
  });

  it('checks the whole file: an accent past the first 64 KiB still makes it Windows-1252', async () => {
    const path = dir.file('late-ansi.csv');
    const lines = Array.from({ length: 3_000 }, (_, i) => `${i + 1};answer number ${i + 1} is plain`);
    lines.push('3001;Gr\xf6\xdfe passt nicht');
    await writeFile(path, Buffer.from(`Nr;Kommentar\n${lines.join('\n')}\n`, 'latin1'));
    const column = await readAnswerColumn({ path, displayName: 'late.csv', format: 'csv', column: 'B' });
    expect(column.rows.at(-1)).toMatchObject({ row: 3002, answer: 'Größe passt nicht' });
    expect(column.warnings.map((w) => [w.code, w.rows])).toEqual([['windows_1252', [3002]]]);
  });

  it('reads damaged UTF-8 as UTF-8, naming the rows whose bytes are no character', async () => {
    const path = dir.file('damaged.csv');
    const bytes = Buffer.concat([
      Buffer.from('ID,Answer\n1,Größe über alles\n2,caf'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('é\n3,fine\n4,'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('\n'),
    ]);
    await writeFile(path, bytes);
    const column = await readAnswerColumn({
      path,
      displayName: 'damaged.csv',
      format: 'csv',
      column: 'Answer',
    });
    expect(column.rows.map((r) => r.answer)).toEqual(['Größe über alles', 'caf\uFFFD(é', 'fine', '\uFFFD']);
    expect(column.warnings).toEqual([
      expect.objectContaining({ code: 'invalid_utf8', rows: [3, 5], rowCount: 2 }),
    ]);
    expect(column.warnings[0]?.message).toMatch(
      /^The file is not valid UTF-8 text \(nor Windows-1252\): rows 3 and 5 hold/,
    );
  });

  it('decodes UTF-16 with a byte-order mark, and without one by its zero bytes', async () => {
    for (const [name, bytes, warned] of [
      ['bom-le.csv', Buffer.from('\uFEFFID\tAnswer\r\n1\tsüß\r\n', 'utf16le'), false],
      ['bom-be.csv', Buffer.from('\uFEFFID\tAnswer\r\n1\tsüß\r\n', 'utf16le').swap16(), false],
      ['no-bom.csv', Buffer.from('ID\tAnswer\r\n1\tsüß\r\n', 'utf16le'), true],
    ] as const) {
      const path = dir.file(name);
      await writeFile(path, bytes);
      const column = await readAnswerColumn({ path, displayName: name, format: 'csv', column: 'Answer' });
      expect(column.rows.map((r) => r.answer)).toEqual(['süß']);
      expect(column.warnings.map((w) => w.code)).toEqual(warned ? ['utf16_without_bom'] : []);
    }
  });

  it('keeps NUL, control, bidi and zero-width characters and a BOM inside a cell, as a spreadsheet does', async () => {
    const path = dir.file('controls.csv');
    const answer = 'a\u0000b\u0007c\u202Ed\u200Be\uFEFFf';
    await writeFile(path, `\uFEFFID,Answer\n1,"${answer}"\n`, 'utf8');
    const column = await readAnswerColumn({
      path,
      displayName: 'controls.csv',
      format: 'csv',
      column: 'Answer',
    });
    expect(column.rows).toEqual([{ row: 2, answer, category: '' }]);
    expect(column.warnings).toEqual([]);
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

    for (const [name, bytes, reason] of [
      ['empty.csv', Buffer.alloc(0), 'the file is empty (0 bytes)'],
      [
        'scan.csv',
        Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
        'it is a PDF document, not a spreadsheet',
      ],
      [
        'noise.csv',
        Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 256)),
        'it is a binary file, not CSV text',
      ],
    ] as const) {
      const path = dir.file(name);
      await writeFile(path, bytes);
      await expect(readAnswerColumn({ path, displayName: name, format: 'csv', column: 'a' })).rejects.toThrow(
        `${name} cannot be read as a spreadsheet: ${reason}`,
      );
    }
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
    expect(written.formulasReplaced).toBe(0);
    const workbook = await loadWorkbook(outPath);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Umfrage März', 'Summary', 'Run']);
    const sheet = workbook.worksheets[0];
    expect(sheet?.getRow(1).values).toEqual([undefined, 'Umfrage März 2024']);
    expect(sheet?.getRow(2).values).toEqual([undefined, 'ID', 'Antwort', 'Land', 'Antwort category']);
    expect(sheet?.getRow(3).values).toEqual([undefined, 1, 'Zeile eins\nZeile zwei', 'DE', 'Qualität']);
    expect(sheet?.getRow(7).values).toEqual([undefined, 4, -5, 'DE', 'Preis']);
  });
});

describe('csvCellValue: what a CSV field becomes in the workbook', () => {
  it('makes plain numbers numbers, showing them as written', () => {
    expect(csvCellValue('0', false)).toEqual({ value: 0 });
    expect(csvCellValue('10', false)).toEqual({ value: 10 });
    expect(csvCellValue('-5', false)).toEqual({ value: -5 });
    expect(csvCellValue('3.50', false)).toEqual({ value: 3.5, numFmt: '0.00' });
    expect(csvCellValue('0.125', false)).toEqual({ value: 0.125, numFmt: '0.000' });
    expect(csvCellValue('123456789012', false)).toEqual({ value: 123456789012, numFmt: '0' });
    expect(csvCellValue('3,5', true)).toEqual({ value: 3.5, numFmt: '0.0' });
    expect(csvCellValue('-0,25', true)).toEqual({ value: -0.25, numFmt: '0.00' });
  });

  it('keeps as text what a number would change: leading zeros, +, separators, exponents, long ids', () => {
    for (const text of [
      '007',
      '00501',
      '+4930123456',
      '1,234',
      '1.234,5',
      '1e5',
      '50%',
      '€5',
      ' 5',
      '5 ',
      '-0',
      '.5',
      '5.',
      '1234567890123456',
      '12345678901234.56',
      '',
      'n/a',
    ]) {
      expect(csvCellValue(text, false), text).toEqual({ value: text });
    }
    // Each file has one decimal separator: with commas, a dot is not one.
    expect(csvCellValue('3.5', true)).toEqual({ value: '3.5' });
    expect(csvCellValue('3,5', false)).toEqual({ value: '3,5' });
  });

  it('makes ISO dates and date-times dates, and leaves anything else that looks like one as text', () => {
    expect(csvCellValue('2024-03-05', false)).toEqual({
      value: new Date(Date.UTC(2024, 2, 5)),
      numFmt: 'yyyy-mm-dd',
    });
    expect(csvCellValue('2024-03-05 14:30', false)).toEqual({
      value: new Date(Date.UTC(2024, 2, 5, 14, 30)),
      numFmt: 'yyyy-mm-dd hh:mm',
    });
    expect(csvCellValue('2024-03-05T14:30:15', true)).toEqual({
      value: new Date(Date.UTC(2024, 2, 5, 14, 30, 15)),
      numFmt: 'yyyy-mm-dd hh:mm:ss',
    });
    for (const text of [
      '2024-02-30',
      '2024-13-01',
      '1899-12-31',
      '2024-03-05T25:00',
      '2024-03-05T14:30Z',
      '2024-03-05T14:30:15.5',
      '05.03.2024',
      '3/5/2024',
      '2024-3-5',
    ]) {
      expect(csvCellValue(text, false), text).toEqual({ value: text });
    }
  });
});

describe('a CSV input written as a workbook', () => {
  const SCORES =
    'Survey export\r\n' +
    'ID;Zip;Score;Weight;Date;E2\r\n' +
    '1;01067;9;1,25;2024-03-05;zu teuer\r\n' +
    '2;80331;10;0,75;2024-03-06 09:15;10\r\n' +
    '3;;7;1;;+49 30 123\r\n';

  it('writes numbers and dates as such (comma decimals sniffed), ids as text, a frozen header and a filter', async () => {
    const input = dir.file('scores.csv');
    await writeFile(input, SCORES, 'utf8');
    const outPath = dir.file('scores.coded.xlsx');
    await writeCodedWorkbook({
      inputPath: input,
      format: 'csv',
      displayName: 'scores.csv',
      sheet: 'scores',
      headerRow: 2,
      categoryColumn: 'G',
      categoryHeader: 'E2 category',
      labels: new Map([
        [3, 'Price'],
        [4, 'Other'],
        [5, 'Other'],
      ]),
      codes: { column: 'H', headers: ['E2: Price', 'E2: Other'], ones: new Map([[3, [0]]]) },
      summary: [['Category', 'Count', '%']],
      run: [['Setting', 'Value']],
      outPath,
    });
    const sheet = (await loadWorkbook(outPath)).getWorksheet('scores');
    if (!sheet) throw new Error('no sheet');
    // Title and header rows stay text; the 0/1 columns follow the category column.
    expect(sheet.getRow(1).values).toEqual([undefined, 'Survey export']);
    expect(sheet.getRow(2).values).toEqual([
      undefined,
      'ID',
      'Zip',
      'Score',
      'Weight',
      'Date',
      'E2',
      'E2 category',
      'E2: Price',
      'E2: Other',
    ]);
    expect(sheet.getRow(3).values).toEqual([
      undefined,
      1,
      '01067',
      9,
      1.25,
      new Date(Date.UTC(2024, 2, 5)),
      'zu teuer',
      'Price',
      1,
      0,
    ]);
    expect(sheet.getCell('D3').numFmt).toBe('0.00');
    expect(sheet.getCell('E3').numFmt).toBe('yyyy-mm-dd');
    expect(sheet.getCell('E4').value).toEqual(new Date(Date.UTC(2024, 2, 6, 9, 15)));
    expect(sheet.getCell('E4').numFmt).toBe('yyyy-mm-dd hh:mm');
    expect(sheet.getCell('F4').value).toBe(10);
    expect(sheet.getCell('F5').value).toBe('+49 30 123');
    expect(sheet.getCell('D5').value).toBe(1);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 2 });
    expect(sheet.autoFilter).toBe('A2:I5');

    // The CSV output keeps every field's text as it was.
    const csvOut = dir.file('scores.coded.csv');
    await writeCodedCsv({
      inputPath: input,
      format: 'csv',
      displayName: 'scores.csv',
      sheet: 'scores',
      headerRow: 2,
      categoryColumn: 'G',
      categoryHeader: 'E2 category',
      labels: new Map([[3, 'Price']]),
      outPath: csvOut,
    });
    expect((await readFile(csvOut, 'utf8')).split('\r\n')[2]).toBe(
      '1;01067;9;1,25;2024-03-05;zu teuer;Price',
    );
  });

  it('takes dots for decimals in a comma-separated file, and in a `;` file whose numbers use them', async () => {
    for (const [name, text] of [
      ['dots.csv', 'ID,Score\r\n1,2.5\r\n2,3,5\r\n'],
      ['dots-semicolon.csv', 'ID;Score\r\n1;2.5\r\n2;3.25\r\n3;4,5\r\n'],
    ] as const) {
      const input = dir.file(name);
      await writeFile(input, text, 'utf8');
      const outPath = dir.file(`${name}.xlsx`);
      await writeCodedWorkbook({
        inputPath: input,
        format: 'csv',
        displayName: name,
        sheet: name,
        headerRow: 1,
        categoryColumn: 'C',
        categoryHeader: 'Score category',
        labels: new Map(),
        summary: [],
        run: [],
        outPath,
      });
      const sheet = (await loadWorkbook(outPath)).worksheets[0];
      expect(sheet?.getCell('B2').value, name).toBe(2.5);
    }
  });
});
