import { mkdir, readdir, writeFile } from 'node:fs/promises';

import ExcelJS from 'exceljs';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { previewSheets, readAnswerColumn } from '../../sheets/index.js';
import { ColumnNotFoundError } from '../../domain/errors.js';
import type { TempDir } from './fixtures.js';
import {
  SURVEY,
  generatedWorkbook,
  makeZip,
  readZip,
  rewriteXlsx,
  saveWorkbook,
  surveyWorkbook,
  tempDir,
} from './fixtures.js';

let dir: TempDir;
let survey: string;
beforeAll(async () => {
  dir = await tempDir();
  survey = await saveWorkbook(surveyWorkbook(), dir.file('survey.xlsx'));
});
afterAll(() => dir.remove());

describe('sheet names and order', () => {
  it('names sheets whose relationship targets are absolute paths, as openpyxl writes them', async () => {
    const path = await rewriteXlsx(survey, dir.file('openpyxl.xlsx'), (name, text) =>
      name === 'xl/_rels/workbook.xml.rels'
        ? text.replaceAll('Target="worksheets/', 'Target="/xl/worksheets/')
        : undefined,
    );
    const column = await readAnswerColumn({
      path,
      displayName: 'o.xlsx',
      format: 'xlsx',
      sheet: 'Responses',
      column: 'E2',
    });
    expect(column).toMatchObject({ sheet: 'Responses', sheetIndex: 2, headerRow: SURVEY.headerRow });
    expect(column.rows).toHaveLength(SURVEY.answers.size);
  });

  it('counts tab order from the workbook, not from the order of the parts', async () => {
    const path = await rewriteXlsx(survey, dir.file('reordered.xlsx'), (name, text) =>
      name === 'xl/workbook.xml'
        ? text.replace(/(<sheet [^>]*name="Intro"[^>]*\/>)(<sheet [^>]*name="Responses"[^>]*\/>)/, '$2$1')
        : undefined,
    );
    const preview = await previewSheets({ path, displayName: 'r.xlsx', format: 'xlsx' });
    expect(preview.sheets.map((s) => [s.index, s.name])).toEqual([
      [1, 'Responses'],
      [2, 'Intro'],
    ]);
    expect(preview).toMatchObject({ sheet: 'Responses', sheetIndex: 1, headerRow: SURVEY.headerRow });
    const intro = await previewSheets({ path, displayName: 'r.xlsx', format: 'xlsx', sheet: '2' });
    expect(intro.columns.map((c) => c.header)).toEqual([
      'This workbook holds the answers of the 2024 survey.',
    ]);
  });

  it('reads files whatever the order of their parts', async () => {
    const first = [
      '[Content_Types].xml',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      'xl/sharedStrings.xml',
      'xl/styles.xml',
    ];
    const path = await rewriteXlsx(
      survey,
      dir.file('excel-order.xlsx'),
      () => undefined,
      (names) => [...first, ...names.filter((n) => !first.includes(n))],
    );
    const column = await readAnswerColumn({
      path,
      displayName: 'e.xlsx',
      format: 'xlsx',
      sheet: '2',
      column: 'D',
    });
    expect(column.rows.map((r) => [r.row, r.answer])).toEqual([...SURVEY.answers]);
    const preview = await previewSheets({ path, displayName: 'e.xlsx', format: 'xlsx', sheet: '2', rows: 1 });
    expect(preview.rows).toHaveLength(1);
  });

  it('skips a hidden first sheet by default', async () => {
    const workbook = surveyWorkbook();
    const intro = workbook.getWorksheet('Intro');
    if (intro) intro.state = 'hidden';
    const path = await saveWorkbook(workbook, dir.file('hidden.xlsx'));
    const column = await readAnswerColumn({ path, displayName: 'h.xlsx', format: 'xlsx', column: 'E2' });
    expect(column).toMatchObject({ sheet: 'Responses', sheetIndex: 2 });
  });
});

describe('parts read by the zip directory', () => {
  it('loses no part when the event loop stalls while a part is parsed', async () => {
    // exceljs's own pass over the zip loses every later part after such a stall (see xlsx-reader.ts).
    const parsers = ExcelJS.stream.xlsx.WorkbookReader.prototype as unknown as Record<string, unknown>;
    const original = parsers._parseRels as (this: unknown, entry: unknown) => Promise<void>;
    parsers._parseRels = async function (this: unknown, entry: unknown) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return original.call(this, entry);
    };
    try {
      const column = await readAnswerColumn({
        path: survey,
        displayName: 's.xlsx',
        format: 'xlsx',
        sheet: '2',
        column: 'E2',
      });
      expect(column.rows.map((r) => [r.row, r.answer])).toEqual([...SURVEY.answers]);
    } finally {
      parsers._parseRels = original;
    }
  });

  it('refuses a part that unpacks to more than its directory entry declares', async () => {
    const entries = await readZip(survey);
    const path = dir.file('liar.xlsx');
    await writeFile(
      path,
      makeZip(entries.map((e) => (e.name === 'xl/worksheets/sheet2.xml' ? { ...e, declaredSize: 100 } : e))),
    );
    await expect(
      readAnswerColumn({ path, displayName: 'liar.xlsx', format: 'xlsx', sheet: '2', column: 'E2' }),
    ).rejects.toThrow(
      'liar.xlsx cannot be read as a spreadsheet: its part xl/worksheets/sheet2.xml unpacks to more than the 100 B its zip directory declares',
    );
  });
});

describe('stopping early', () => {
  // exceljs's own reader parks sheets in temp files under os.tmpdir(); watch a folder of this test's own.
  const savedTmp = process.env.TMPDIR;
  let parking: string;
  beforeAll(async () => {
    parking = dir.file('parking');
    await mkdir(parking);
  });
  beforeEach(() => {
    process.env.TMPDIR = parking;
  });
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  async function threeSheets(): Promise<string> {
    const workbook = generatedWorkbook(2000);
    workbook.addWorksheet('Third').addRow(['x']);
    return saveWorkbook(workbook, dir.file('three.xlsx'));
  }

  const openFiles = async () => (await readdir('/proc/self/fd')).length;

  it('leaves no temp file and no open file behind after a preview, an early result or an error', async () => {
    const path = await threeSheets();
    const before = await openFiles();

    const preview = await previewSheets({ path, displayName: 't.xlsx', format: 'xlsx', rows: 2 });
    expect(preview.rows.map((r) => r.row)).toEqual([2, 3]);
    const column = await readAnswerColumn({ path, displayName: 't.xlsx', format: 'xlsx', column: 'E2' });
    expect(column.rows).toHaveLength(2000);
    await expect(
      readAnswerColumn({ path, displayName: 't.xlsx', format: 'xlsx', column: 'Nope' }),
    ).rejects.toThrow(ColumnNotFoundError);

    // Files close asynchronously once a loop over their rows is left.
    await expect.poll(() => readdir(parking), { timeout: 2000 }).toEqual([]);
    await expect.poll(openFiles, { timeout: 2000 }).toBeLessThanOrEqual(before);
  });
});
