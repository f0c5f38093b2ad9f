/** The 0/1 columns of multi-code output: where they go, and what the workbook and the CSV hold in them. */
import { readFile, writeFile } from 'node:fs/promises';

import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CodeColumns } from '../../sheets/index.js';
import { readAnswerColumn, writeCodedCsv, writeCodedWorkbook } from '../../sheets/index.js';
import { widenedAutoFilter } from '../../sheets/write.js';
import type { TempDir } from './fixtures.js';
import { loadWorkbook, saveWorkbook, tempDir } from './fixtures.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

const HEADERS = (header: string) => [
  `${header}: Price`,
  `${header}: Staff`,
  `${header}: Other`,
  `${header}: NET Service`,
];

/** ID, E2, Age; rows 2–6; optionally an `E2 category` column (D) and something after it (E). */
async function survey(name: string, options: { category?: boolean; after?: string[] } = {}): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Data');
  const header = ['ID', 'E2', 'Age'];
  if (options.category) header.push('E2 category');
  if (options.after) header.push(...options.after);
  sheet.addRow(header);
  sheet.getRow(1).font = { bold: true };
  for (let i = 0; i < 5; i += 1) {
    const row: Array<string | number | null> = [`R${i}`, `answer ${i}`, 30 + i];
    if (options.category) row.push(i === 0 ? 'Price; staff' : null);
    if (options.after && !options.after.every((h) => h.startsWith('E2:'))) row.push('keep me');
    sheet.addRow(row);
  }
  sheet.autoFilter = options.category ? 'A1:D1' : 'A1:C1';
  return saveWorkbook(workbook, dir.file(name));
}

const read = (path: string) =>
  readAnswerColumn({ path, displayName: 'survey.xlsx', format: 'xlsx', column: 'E2', codeHeaders: HEADERS });

describe('readAnswerColumn with 0/1 columns', () => {
  it('puts them right after a new category column', async () => {
    const column = await read(await survey('new.xlsx'));
    expect([column.categoryColumn, column.codeColumn]).toEqual(['D', 'E']);
  });

  it('right after an existing category column when the columns after it are empty', async () => {
    const column = await read(await survey('existing.xlsx', { category: true }));
    expect([column.categoryColumn, column.categoryColumnExists, column.codeColumn]).toEqual(['D', true, 'E']);
  });

  it('past the last used column when an existing category column has data after it', async () => {
    const column = await read(await survey('busy.xlsx', { category: true, after: ['Notes'] }));
    expect([column.categoryColumn, column.codeColumn]).toEqual(['D', 'F']);
  });

  it('over the same columns of a coded file fed back', async () => {
    const column = await read(await survey('fed-back.xlsx', { category: true, after: HEADERS('E2') }));
    expect([column.categoryColumn, column.codeColumn]).toEqual(['D', 'E']);
  });

  it('not at all in single-label jobs', async () => {
    const column = await readAnswerColumn({
      path: await survey('single.xlsx'),
      displayName: 'single.xlsx',
      format: 'xlsx',
      column: 'E2',
    });
    expect(column.codeColumn).toBeUndefined();
  });
});

const CODES: CodeColumns = {
  column: 'E',
  headers: HEADERS('E2'),
  // Row 2: Price and Staff (in the net); row 3: Other; row 4 coded before with unknown labels only.
  ones: new Map([
    [2, [0, 1, 3]],
    [3, [2]],
    [4, []],
  ]),
};
const LABELS = new Map([
  [2, 'Price; Staff'],
  [3, 'Other'],
  [5, 'Other'], // an invalid answer: "Other" in the cell, its 0/1 columns blank
]);

async function code(input: string, name: string) {
  const answers = await read(input);
  const outPath = dir.file(`${name}.coded.xlsx`);
  const written = await writeCodedWorkbook({
    inputPath: input,
    format: 'xlsx',
    displayName: name,
    sheet: answers.sheet,
    headerRow: answers.headerRow,
    categoryColumn: answers.categoryColumn,
    categoryHeader: answers.categoryHeader,
    labels: LABELS,
    codes: { ...CODES, column: answers.codeColumn ?? '' },
    summary: [['Code', 'Category']],
    run: [['Setting', 'Value']],
    outPath,
  });
  return { sheet: (await loadWorkbook(outPath)).getWorksheet('Data'), written };
}

/** Row 1–6 of columns D–H as values. */
function block(sheet: ExcelJS.Worksheet | undefined): unknown[][] {
  if (!sheet) throw new Error('no Data sheet');
  return [1, 2, 3, 4, 5, 6].map((r) => ['D', 'E', 'F', 'G', 'H'].map((c) => sheet.getCell(`${c}${r}`).value));
}

const EXPECTED = [
  ['E2 category', 'E2: Price', 'E2: Staff', 'E2: Other', 'E2: NET Service'],
  ['Price; Staff', 1, 1, 0, 1],
  ['Other', 0, 0, 1, 0],
  [null, 0, 0, 0, 0],
  ['Other', null, null, null, null],
  [null, null, null, null, null],
];

describe('writeCodedWorkbook with 0/1 columns', () => {
  it('loaded: headers styled like their neighbours, numbers 0/1, blank rows left blank, the filter widened', async () => {
    const { sheet, written } = await code(await survey('loaded.xlsx'), 'loaded.xlsx');
    expect(written.formulasReplaced).toBe(0);
    expect(block(sheet)).toEqual(EXPECTED);
    expect(sheet?.getCell('H1').font?.bold).toBe(true);
    expect(sheet?.autoFilter).toBe('A1:H1');
    expect(sheet?.getColumn('E').width).toBeGreaterThanOrEqual(8);
  });

  it('written again from the same input: the same cells', async () => {
    const { sheet } = await code(await survey('streamed.xlsx'), 'streamed.xlsx');
    expect(block(sheet)).toEqual(EXPECTED);
  });

  it('keeps a category cell filled before the job, and the data after an existing column', async () => {
    const { sheet } = await code(
      await survey('busy-out.xlsx', { category: true, after: ['Notes'] }),
      'busy.xlsx',
    );
    expect(sheet?.getCell('D2').value).toBe('Price; Staff');
    expect(sheet?.getCell('E2').value).toBe('keep me');
    expect(['F1', 'G1', 'H1', 'I1'].map((a) => sheet?.getCell(a).value)).toEqual(HEADERS('E2'));
    expect(['F2', 'G2', 'H2', 'I2'].map((a) => sheet?.getCell(a).value)).toEqual([1, 1, 0, 1]);
  });
});

describe('writeCodedCsv with 0/1 columns', () => {
  it('writes the same columns for xlsx input', async () => {
    const input = await survey('csv-out.xlsx');
    const outPath = dir.file('csv-out.csv');
    await writeCodedCsv({
      inputPath: input,
      format: 'xlsx',
      displayName: 'csv-out.xlsx',
      sheet: 'Data',
      headerRow: 1,
      categoryColumn: 'D',
      categoryHeader: 'E2 category',
      labels: LABELS,
      codes: CODES,
      outPath,
    });
    const lines = (await readFile(outPath, 'utf8')).replace(/^\uFEFF/, '').split('\r\n');
    expect(lines.slice(0, 6)).toEqual([
      'ID,E2,Age,E2 category,E2: Price,E2: Staff,E2: Other,E2: NET Service',
      'R0,answer 0,30,Price; Staff,1,1,0,1',
      'R1,answer 1,31,Other,0,0,1,0',
      'R2,answer 2,32,,0,0,0,0',
      'R3,answer 3,33,Other,,,,',
      'R4,answer 4,34,,,,,',
    ]);
  });

  it('and for CSV input, in its own delimiter', async () => {
    const input = dir.file('in.csv');
    await writeFile(input, 'ID;E2\r\nR0;too dear\r\nR1;late\r\n');
    const outPath = dir.file('in.coded.csv');
    await writeCodedCsv({
      inputPath: input,
      format: 'csv',
      displayName: 'in.csv',
      sheet: 'in',
      headerRow: 1,
      categoryColumn: 'C',
      categoryHeader: 'E2 category',
      labels: new Map([[2, 'Price']]),
      codes: { column: 'D', headers: ['E2: Price', 'E2: Delivery'], ones: new Map([[2, [0]]]) },
      outPath,
    });
    expect((await readFile(outPath, 'utf8')).replace(/^\uFEFF/, '')).toBe(
      'ID;E2;E2 category;E2: Price;E2: Delivery\r\nR0;too dear;Price;1;0\r\nR1;late;;;\r\n',
    );
  });
});

describe('widenedAutoFilter with 0/1 columns', () => {
  it('takes them in when they follow the category column, not when they are elsewhere', () => {
    const codes = { column: 8, headers: ['a', 'b', 'c'] };
    expect(widenedAutoFilter('A3:F3', { column: 7, headerRow: 3, codes })).toBe('A3:J3');
    expect(widenedAutoFilter('A3:F3', { column: 7, headerRow: 3, codes: { ...codes, column: 12 } })).toBe(
      'A3:G3',
    );
  });
});
