import { readdir } from 'node:fs/promises';

import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readAnswerColumn, writeCodedWorkbook } from '../../sheets/index.js';
import { widenedAutoFilter } from '../../sheets/write.js';
import type { WriteWorkbookInput } from '../../sheets/index.js';
import { SheetNotFoundError } from '../../domain/errors.js';
import type { ReportRow } from '../../domain/report.js';
import type { TempDir } from './fixtures.js';
import {
  FORMATTED,
  formattedWorkbook,
  generatedWorkbook,
  loadWorkbook,
  rowValues,
  saveWorkbook,
  tempDir,
} from './fixtures.js';

const SUMMARY: ReportRow[] = [
  ['Category', 'Count', '%'],
  ['Price', 3, 0.375],
  ['Other', 5, 0.625],
  ['Total coded', 8, 1],
  [],
  ['Rows', 'Count', 'Treatment'],
  ['Data rows', 10, ''],
];
const RUN: ReportRow[] = [
  ['Setting', 'Value'],
  ['Job', 'job-1'],
  ['Temperature', 0.1],
];

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

function sheetOf(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`no sheet ${name}`);
  return sheet;
}

async function codeAll(
  path: string,
  displayName: string,
  column: string,
  overrides: Partial<WriteWorkbookInput> = {},
) {
  const answers = await readAnswerColumn({ path, displayName, format: 'xlsx', column });
  const labels = new Map(answers.rows.map((r, i) => [r.row, i % 2 ? 'Price' : 'Other']));
  const outPath = dir.file(`${displayName}.coded.xlsx`);
  const written = await writeCodedWorkbook({
    inputPath: path,
    format: 'xlsx',
    displayName,
    sheet: answers.sheet,
    headerRow: answers.headerRow,
    categoryColumn: answers.categoryColumn,
    categoryHeader: answers.categoryHeader,
    labels,
    summary: SUMMARY,
    run: RUN,
    outPath,
    ...overrides,
  });
  return { answers, labels, written, outPath };
}

describe('writeCodedWorkbook, full read and write', () => {
  it('adds the category column after the last used column and changes nothing else', async () => {
    const input = await saveWorkbook(formattedWorkbook(), dir.file('formatted.xlsx'));
    const { answers, labels, written, outPath } = await codeAll(input, 'formatted.xlsx', 'Answer');
    expect(written).toEqual({ path: outPath, formulasReplaced: 0 });
    expect(answers.categoryColumn).toBe(FORMATTED.categoryColumn);

    const before = await loadWorkbook(input);
    const after = await loadWorkbook(outPath);
    const category = 8;
    for (const original of before.worksheets) {
      const copy = sheetOf(after, original.name);
      // Every value (formulas with results, hyperlinks, numbers) and every style, cell by cell.
      expect(rowValues(copy, original.name === FORMATTED.sheet ? [category] : [])).toEqual(
        rowValues(original),
      );
      original.eachRow((row, r) =>
        row.eachCell({ includeEmpty: true }, (cell, c) =>
          expect(copy.getCell(r, c).style, cell.address).toEqual(cell.style),
        ),
      );
      expect(copy.model.merges).toEqual(original.model.merges);
      expect(copy.views).toEqual(original.views);
      expect(copy.columns?.slice(0, 7).map((c) => c.width)).toEqual(
        original.columns?.slice(0, 7).map((c) => c.width),
      );
    }

    const data = sheetOf(after, FORMATTED.sheet);
    expect(data.getCell('B3').value).toMatchObject({ formula: 'E3*2' });
    expect(data.getCell('G4').value).toEqual({ text: 'Case 2', hyperlink: 'https://example.com/case/2' });
    expect(data.getCell('H2').value).toBe('Answer category');
    expect(data.getCell('H2').font).toEqual(data.getCell('G2').font);
    expect(data.getCell('H2').fill).toEqual(data.getCell('G2').fill);
    for (const [row, label] of labels) expect(data.getCell(row, category).value).toBe(label);
    expect(data.getColumn(category).width).toBeGreaterThanOrEqual(12);
  });

  it('puts the category column past formulas that show nothing and merges that reach further', async () => {
    const { Workbook } = (await import('exceljs')).default;
    const workbook = new Workbook();
    const sheet = workbook.addWorksheet('Data');
    sheet.addRow(['ID', 'E2']);
    for (let i = 0; i < 6; i += 1) {
      const row = sheet.addRow([`R${i}`, `answer ${i}`]);
      // A formula whose cached result is empty, and one with no cached result at all.
      row.getCell(3).value = { formula: `IF(A${i + 2}="x","flag","")`, result: '' };
      row.getCell(4).value = { formula: `LEN(B${i + 2})` };
    }
    sheet.getCell('E3').value = 'note';
    sheet.mergeCells('E3:G3');
    const input = await saveWorkbook(workbook, dir.file('hidden-used.xlsx'));

    const { answers, outPath } = await codeAll(input, 'hidden-used.xlsx', 'E2');
    expect(answers.categoryColumn).toBe('H');
    const after = sheetOf(await loadWorkbook(outPath), 'Data');
    expect(after.getCell('C3').value).toMatchObject({ formula: 'IF(A3="x","flag","")' });
    expect(after.getCell('D3').value).toMatchObject({ formula: 'LEN(B3)' });
    expect(after.getCell('E3').value).toBe('note');
    expect(after.model.merges).toEqual(['E3:G3']);
    expect(after.getCell('H1').value).toBe('E2 category');
  });

  it('lets a title banner above the header span any width: only merges over the coded rows count', async () => {
    const { Workbook } = (await import('exceljs')).default;
    const workbook = new Workbook();
    const sheet = workbook.addWorksheet('Data');
    sheet.getCell('A1').value = 'Customer survey, October';
    sheet.mergeCells('A1:J1');
    sheet.getCell('A2').value = 'Wave 2';
    sheet.mergeCells('A2:XFD2'); // a whole-row band
    sheet.addRow(['ID', 'E2', 'Age']);
    for (let i = 0; i < 6; i += 1) sheet.addRow([`R${i}`, `answer ${i}`, 30 + i]);
    const input = await saveWorkbook(workbook, dir.file('banner.xlsx'));
    const { answers, outPath } = await codeAll(input, 'banner.xlsx', 'E2');
    expect(answers.headerRow).toBe(3);
    expect(answers.categoryColumn).toBe('D');
    const after = sheetOf(await loadWorkbook(outPath), 'Data');
    expect(after.getCell('D3').value).toBe('E2 category');
    expect(after.model.merges).toEqual(expect.arrayContaining(['A1:J1', 'A2:XFD2']));
  });

  it('widens a filter on the header row to the new column, so it filters by category too', async () => {
    const workbook = formattedWorkbook();
    sheetOf(workbook, FORMATTED.sheet).autoFilter = 'A2:G2';
    const input = await saveWorkbook(workbook, dir.file('filtered.xlsx'));
    const { outPath } = await codeAll(input, 'filtered.xlsx', 'Answer');
    expect(sheetOf(await loadWorkbook(outPath), FORMATTED.sheet).autoFilter).toBe('A2:H2');
  });

  it('adds Summary and Run sheets at the end, renaming around existing sheets', async () => {
    const input = await saveWorkbook(formattedWorkbook(), dir.file('formatted-2.xlsx'));
    const { outPath } = await codeAll(input, 'formatted-2.xlsx', 'C');
    const after = await loadWorkbook(outPath);
    expect(after.worksheets.map((s) => s.name)).toEqual(['Data', 'Summary', 'Summary (verbatim)', 'Run']);
    expectReportSheets(after, 'Summary (verbatim)', 'Run');
    expect(sheetOf(after, 'Run').rowCount).toBe(RUN.length); // the whole copy: nothing to warn of
  });

  it('fills an existing category column and leaves its header alone', async () => {
    const workbook = formattedWorkbook();
    const data = sheetOf(workbook, 'Data');
    data.getCell('H2').value = 'ANSWER CATEGORY';
    data.getCell('H3').value = 'Kept';
    const input = await saveWorkbook(workbook, dir.file('half.xlsx'));
    const answers = await readAnswerColumn({
      path: input,
      displayName: 'half.xlsx',
      format: 'xlsx',
      column: 'Answer',
    });
    expect(answers).toMatchObject({ categoryColumn: 'H', categoryColumnExists: true });
    const outPath = dir.file('half.coded.xlsx');
    await writeCodedWorkbook({
      inputPath: input,
      format: 'xlsx',
      displayName: 'half.xlsx',
      sheet: 'Data',
      headerRow: 2,
      categoryColumn: 'H',
      categoryHeader: 'Answer category',
      labels: new Map([[4, 'Price']]),
      summary: SUMMARY,
      run: RUN,
      outPath,
    });
    const after = sheetOf(await loadWorkbook(outPath), 'Data');
    expect([after.getCell('H2').value, after.getCell('H3').value, after.getCell('H4').value]).toEqual([
      'ANSWER CATEGORY',
      'Kept',
      'Price',
    ]);
  });

  it('writes atomically: a failed write leaves no file and no temp file behind', async () => {
    const input = await saveWorkbook(formattedWorkbook(), dir.file('atomic.xlsx'));
    const outPath = dir.file('atomic.coded.xlsx');
    await expect(
      writeCodedWorkbook({
        inputPath: input,
        format: 'xlsx',
        displayName: 'atomic.xlsx',
        sheet: 'Nope',
        headerRow: 2,
        categoryColumn: 'H',
        categoryHeader: 'x',
        labels: new Map(),
        summary: [],
        run: [],
        outPath,
      }),
    ).rejects.toThrow(SheetNotFoundError);
    expect((await readdir(dir.path)).filter((f) => f.includes('atomic.coded'))).toEqual([]);
  });
});

describe('writeCodedWorkbook, a larger workbook', () => {
  it('copies every row exactly once with its values, styles, widths and frozen pane, plus the labels', async () => {
    const rows = 3000;
    const input = await saveWorkbook(generatedWorkbook(rows), dir.file('generated.xlsx'));
    const { answers, labels, outPath } = await codeAll(input, 'generated.xlsx', 'E2');
    expect(answers.categoryColumn).toBe('E');

    const before = await loadWorkbook(input);
    const after = await loadWorkbook(outPath);
    expect(after.worksheets.map((s) => s.name)).toEqual(['Responses', 'Codes', 'Summary', 'Run']);
    const original = sheetOf(before, 'Responses');
    const copy = sheetOf(after, 'Responses');
    // Shared formulas and their results, compared by result as the streamed copy was.
    const results = (m: Map<number, unknown[]>) =>
      new Map(
        [...m].map(([r, values]) => [
          r,
          values.map((v) => (v && typeof v === 'object' && 'result' in v ? v.result : v)),
        ]),
      );
    expect(results(rowValues(copy, [5]))).toEqual(results(rowValues(original)));
    expect(copy.rowCount).toBe(rows + 1);
    expect(copy.getCell('D2').value).toMatchObject({ formula: 'A2*2', result: 2 });
    for (const [row, label] of labels) expect(copy.getCell(row, 5).value).toBe(label);
    expect(copy.getCell('E1').value).toBe('E2 category');
    expect(copy.getCell('E1').font).toEqual({ bold: true });
    expect(copy.getCell('B2').numFmt).toBe('yyyy-mm-dd');
    expect(copy.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(copy.columns?.slice(0, 4).map((c) => c.width)).toEqual([10, 12, 50, 8]);
    expect(rowValues(sheetOf(after, 'Codes'))).toEqual(rowValues(sheetOf(before, 'Codes')));
    expectReportSheets(after, 'Summary', 'Run');
    // Nothing is left out any more, so the Run sheet has nothing to warn of.
    expect(sheetOf(after, 'Run').rowCount).toBe(RUN.length);
  });
});

function expectReportSheets(workbook: ExcelJS.Workbook, summaryName: string, runName: string): void {
  const summary = sheetOf(workbook, summaryName);
  expect(summary.getRow(2).values).toEqual([undefined, 'Price', 3, 0.375]);
  expect(summary.getCell('C2').numFmt).toBe('0.0%');
  expect(summary.getCell('A1').font?.bold).toBe(true);
  expect(summary.getCell('A6').font?.bold).toBe(true);
  expect(summary.getCell('A2').font?.bold).toBeFalsy();
  const run = sheetOf(workbook, runName);
  expect(run.getCell('B3').value).toBe(0.1);
  expect(run.getCell('B3').numFmt).toBeFalsy();
}

describe('widenedAutoFilter', () => {
  const edits = { column: 7, headerRow: 3 };
  it('grows a header-row filter that ends right before the new column', () => {
    expect(widenedAutoFilter('A3:F3', edits)).toBe('A3:G3');
    expect(widenedAutoFilter('$B$3:$F$400', edits)).toBe('B3:G400');
  });
  it('leaves any other filter alone', () => {
    expect(widenedAutoFilter('A3:E3', edits)).toBeUndefined(); // a gap before the new column
    expect(widenedAutoFilter('A1:F1', edits)).toBeUndefined(); // another row
    expect(widenedAutoFilter(undefined, edits)).toBeUndefined();
    expect(widenedAutoFilter({ from: 'A3', to: 'F3' }, edits)).toBeUndefined();
    expect(widenedAutoFilter('not a range', edits)).toBeUndefined();
  });
});
