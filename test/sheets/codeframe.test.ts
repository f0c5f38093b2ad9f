import { writeFile } from 'node:fs/promises';

import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CodeframeColumnsError, DomainError, InvalidCategoryError } from '../../domain/errors.js';
import { contentJobId } from '../../jobs/service.js';
import { readCodeframeFile } from '../../sheets/index.js';
import { testOptions } from '../helpers/harness.js';
import type { TempDir } from './fixtures.js';
import { saveWorkbook, tempDir } from './fixtures.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

const TEXT = [
  '# Codeframe for E2',
  '1 Price: cheap, promos',
  '[100 Service]',
  '101 Staff: rude, helpful',
  '102 Support',
  '[Product]',
  '201 Quality',
  '202 Range: choice, variety',
].join('\n');

/** The same codeframe as a table: columns in another order, headers in other cases, a blank row, an extra column. */
const TABLE: Array<Array<string | number | null>> = [
  ['Label', 'NET', 'Code', 'Description', 'Notes'],
  ['Price', null, 1, 'cheap, promos', 'from wave 1'],
  ['Staff', '100 Service', 101, 'rude, helpful', null],
  [null, null, null, null, null],
  ['Support', 'Service', 102, null, null],
  ['Quality', 'Product', 201, null, null],
  ['Range', 'Product', '202', 'choice, variety', null],
];

async function xlsx(name: string, rows: typeof TABLE): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Codeframe');
  for (const row of rows) sheet.addRow(row);
  return saveWorkbook(workbook, dir.file(name));
}

async function csv(name: string, rows: typeof TABLE, delimiter = ','): Promise<string> {
  const text = rows
    .map((r) =>
      r
        .map((v) => (v === null ? '' : /[",;]/.test(String(v)) ? `"${String(v)}"` : String(v)))
        .join(delimiter),
    )
    .join('\r\n');
  await writeFile(dir.file(name), `\uFEFF${text}\r\n`);
  return dir.file(name);
}

describe('readCodeframeFile', () => {
  it('reads a text codeframe, an .xlsx and a .csv of the same codeframe alike: the same job', async () => {
    const txtFile = dir.file('e2.txt');
    await writeFile(txtFile, TEXT);
    const fromText = await readCodeframeFile(txtFile, 'e2.txt');
    const fromXlsx = await readCodeframeFile(await xlsx('e2.xlsx', TABLE), 'e2.xlsx');
    const fromCsv = await readCodeframeFile(await csv('e2.csv', TABLE, ';'), 'e2.csv');
    expect(fromText).toHaveLength(5);
    expect(fromText[1]).toEqual({
      name: 'Staff',
      description: 'rude, helpful',
      code: 101,
      net: 'Service',
      netCode: 100,
    });
    expect(fromXlsx).toEqual(fromText);
    expect(fromCsv).toEqual(fromText);

    const bytes = new TextEncoder().encode('ID,E2\n1,too expensive\n');
    const job = (categories: typeof fromText) =>
      contentJobId(bytes, { column: 'E2', categories, options: testOptions({ multi: true }) });
    expect(job(fromXlsx)).toBe(job(fromText));
    expect(job(fromCsv)).toBe(job(fromText));
  });

  it('needs only a label column', async () => {
    const file = await xlsx('labels.xlsx', [['label'], ['Price'], ['Delivery']]);
    expect(await readCodeframeFile(file, 'labels.xlsx')).toEqual([{ name: 'Price' }, { name: 'Delivery' }]);
  });

  it('says what the header row holds when it has no label column', async () => {
    const file = await xlsx('nolabel.xlsx', [
      ['Code', 'Name'],
      [1, 'Price'],
    ]);
    const error = await readCodeframeFile(file, 'nolabel.xlsx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodeframeColumnsError);
    expect((error as Error).message).toContain('nolabel.xlsx: the header row (row 1) has no "label" column');
    expect((error as Error).message).toContain('A "Code", B "Name"');
  });

  it('names the file and the row of a bad entry', async () => {
    const file = await csv('dup.csv', [
      ['code', 'label'],
      [5, 'Price'],
      [5, 'Delivery'],
    ]);
    const error = await readCodeframeFile(file, 'dup.csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCategoryError);
    expect((error as Error).message).toContain(
      'row 3 of dup.csv ("Delivery") has code 5, which row 2 ("Price")',
    );
  });

  it('says a missing file is a categories file', async () => {
    const error = await readCodeframeFile(dir.file('missing.xlsx'), 'missing.xlsx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      code: 'categories_file_not_found',
      message: 'Categories file not found: missing.xlsx',
    });
  });
});
