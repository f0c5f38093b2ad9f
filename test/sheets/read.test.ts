import { writeFile } from 'node:fs/promises';

import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectColumn, previewSheets, readAnswerColumn } from '../../sheets/index.js';
import {
  ColumnNotFoundError,
  InputFileNotFoundError,
  InvalidWorkbookError,
  NoAnswersError,
  SheetNotFoundError,
} from '../../domain/errors.js';
import type { TempDir } from './fixtures.js';
import { SURVEY, halfCodedWorkbook, makeZip, saveWorkbook, surveyWorkbook, tempDir } from './fixtures.js';

let dir: TempDir;
let survey: string;
let halfCoded: string;

beforeAll(async () => {
  dir = await tempDir();
  survey = await saveWorkbook(surveyWorkbook(), dir.file('survey.xlsx'));
  halfCoded = await saveWorkbook(halfCodedWorkbook(), dir.file('half.xlsx'));
});
afterAll(() => dir.remove());

const read = (column: string, sheet: string | null = 'Responses', path = survey) =>
  readAnswerColumn({
    path,
    displayName: 'Survey 2024.xlsx',
    format: 'xlsx',
    sheet: sheet ?? undefined,
    column,
  });

describe('readAnswerColumn on xlsx', () => {
  it('finds the header row below a title row, and the question row under the code row', async () => {
    const column = await read('E2');
    expect(column).toMatchObject({
      sheet: 'Responses',
      sheetIndex: 2,
      headerRow: SURVEY.headerRow,
      questionRow: SURVEY.questionRow,
      header: 'E2',
      column: 'D',
      question: SURVEY.question,
      categoryHeader: 'E2 category',
      categoryColumnExists: false,
    });
  });

  it('reads every kind of cell as text, skipping the header rows and empty rows', async () => {
    const column = await read('E2');
    expect(column.rows.map((r) => [r.row, r.answer])).toEqual([...SURVEY.answers]);
    expect(column.rows.every((r) => r.category === '')).toBe(true);
  });

  it('hands each row to onRow instead of keeping it, with the same layout as a whole read', async () => {
    const taken: Array<[number, string, string]> = [];
    const streamed = await readAnswerColumn({
      path: halfCoded,
      displayName: 'half.xlsx',
      format: 'xlsx',
      sheet: 'Responses',
      column: 'E2',
      onRow: (r) => taken.push([r.row, r.answer, r.category]),
    });
    const whole = await read('E2', 'Responses', halfCoded);
    expect(streamed.rows).toEqual([]);
    expect(taken.some(([, , category]) => category !== '')).toBe(true);
    expect(taken).toEqual(whole.rows.map((r) => [r.row, r.answer, r.category]));
    expect({ ...streamed, rows: undefined }).toEqual({ ...whole, rows: undefined });
  });

  it('places a new category column after the last used column (E), moving nothing', async () => {
    expect((await read('E2')).categoryColumn).toBe('F');
  });

  it('finds the column by header, by letter and by question text alike', async () => {
    const byHeader = await read('e2');
    const byLetter = await read('D');
    const byQuestion = await read('main reason for your SCORE');
    for (const column of [byLetter, byQuestion]) {
      expect(column).toEqual(byHeader);
    }
  });

  it('selects a sheet by name (any case) or by 1-based index, and defaults to the first sheet', async () => {
    expect((await read('E2', 'responses')).sheet).toBe('Responses');
    expect((await read('E2', '2')).sheetIndex).toBe(2);
    await expect(read('E2', null)).rejects.toThrow(/not found in sheet "Intro"/);
  });

  it('reads an existing category column of a half-coded file', async () => {
    const column = await read('E2', 'Responses', halfCoded);
    expect(column).toMatchObject({
      categoryColumn: 'F',
      categoryColumnExists: true,
      categoryHeader: 'E2 category',
    });
    expect(column.rows.filter((r) => r.category !== '').map((r) => [r.row, r.category])).toEqual([
      [5, 'Service'],
      [7, 'Other'],
    ]);
  });

  it('throws SheetNotFoundError listing the sheets in tab order', async () => {
    const error = await read('E2', 'Answers').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SheetNotFoundError);
    expect((error as Error).message).toBe(
      'Sheet "Answers" not found in Survey 2024.xlsx. Sheets: "Intro", "Responses"',
    );
    // A number: neither a sheet's name nor a position (past the last sheet).
    await expect(read('E2', '3')).rejects.toThrow(
      'Sheet "3" not found in Survey 2024.xlsx: no sheet has that name, and there are only 2. Sheets: "Intro", "Responses"',
    );
  });

  it('throws ColumnNotFoundError naming file, sheet and the columns there are', async () => {
    const error = await read('Q9').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ColumnNotFoundError);
    expect((error as Error).message).toContain(
      'Column "Q9" not found in sheet "Responses" of Survey 2024.xlsx',
    );
    expect((error as Error).message).toContain('A "Respondent", B "Date", C "Score", D "E2", E "E3"');
    // Too short to be question text, and an empty column letter is a typo.
    await expect(read('Respon')).rejects.toThrow(ColumnNotFoundError);
    await expect(read('Z')).rejects.toThrow(ColumnNotFoundError);
  });

  it('throws InputFileNotFoundError for a missing file, naming the upload', async () => {
    const error = await read('E2', null, dir.file('gone.xlsx')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputFileNotFoundError);
    expect((error as Error).message).toContain('Survey 2024.xlsx');
  });

  it('throws InvalidWorkbookError for a file that is not a zip, an .xls, or a damaged zip', async () => {
    const text = dir.file('text.xlsx');
    await writeFile(text, 'Respondent,E2\n1,hello\n');
    await expect(read('E2', null, text)).rejects.toThrow(
      'Survey 2024.xlsx cannot be read as a spreadsheet: it is a text file, not an .xlsx file: if it is CSV, upload it with a .csv name',
    );

    // An Office 97–2003 container too damaged to tell an .xls from an encrypted workbook (hostile.test.ts
    // has both whole).
    const xls = dir.file('old.xlsx');
    await writeFile(xls, Buffer.from('d0cf11e0a1b11ae1000000000000', 'hex'));
    await expect(read('E2', null, xls)).rejects.toThrow(
      /an Office 97–2003 file \(an \.xls or a password-protected workbook\?\)/,
    );

    const truncated = dir.file('truncated.xlsx');
    const bytes = makeZip([{ name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') }]);
    await writeFile(truncated, bytes.subarray(0, bytes.length - 30));
    await expect(read('E2', null, truncated)).rejects.toThrow(InvalidWorkbookError);

    const garbage = dir.file('garbage.xlsx');
    await writeFile(
      garbage,
      makeZip([
        {
          name: 'xl/workbook.xml',
          data: Buffer.from('<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'),
        },
        { name: 'xl/_rels/workbook.xml.rels', data: Buffer.from('<Relationships><Relationship Id="rId1"') },
        { name: 'xl/worksheets/sheet1.xml', data: Buffer.from('<worksheet><sheetData><row r="1"><c r="A1"') },
      ]),
    );
    await expect(read('E2', null, garbage)).rejects.toThrow(InvalidWorkbookError);
  });

  it('keeps a formula result of 0, which exceljs leaves out of cell.value', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Scores');
    sheet.addRow(['ID', 'Score']);
    sheet.addRow([1, { formula: '2-2', result: 0 }]);
    const path = await saveWorkbook(workbook, dir.file('zero.xlsx'));
    const column = await readAnswerColumn({
      path,
      displayName: 'zero.xlsx',
      format: 'xlsx',
      column: 'Score',
    });
    expect(column.rows).toEqual([{ row: 2, answer: '0', category: '' }]);
  });

  it('warns about formulas without a saved result in the answer column, naming the cells', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Data');
    sheet.addRow(['ID', 'Answer']);
    sheet.addRow([1, { formula: 'UPPER("cached")', result: 'CACHED' }]);
    sheet.addRow([2, { formula: 'UPPER("never calculated")' }]);
    sheet.addRow([3, 'typed']);
    sheet.addRow([4, { formula: 'A5&"x"' }]);
    const path = await saveWorkbook(workbook, dir.file('uncalculated.xlsx'));
    const column = await read('Answer', 'Data', path);
    expect(column.rows.map((r) => [r.row, r.answer])).toEqual([
      [2, 'CACHED'],
      [3, ''],
      [4, 'typed'],
      [5, ''],
    ]);
    expect(column.warnings).toEqual([
      {
        code: 'formula_without_value',
        message:
          'Cells B3 and B5 hold formulas with no saved result (the file was written by a program that does not ' +
          'calculate): read as empty, and left uncoded. Open the file in Excel or LibreOffice and save it to ' +
          'calculate them.',
        rows: [3, 5],
        rowCount: 2,
      },
    ]);
  });

  it('warns about merged answer cells: the text belongs to the first row, the others read as empty', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Data');
    sheet.addRow(['ID', 'Answer', 'Note']);
    for (let i = 1; i <= 6; i += 1) sheet.addRow([i, i === 2 || i === 3 ? null : `answer ${i}`, null]);
    sheet.getCell('B2').value = 'spans three rows';
    sheet.mergeCells('B2:B4');
    sheet.getCell('A6').value = 'a note across';
    sheet.mergeCells('A6:C6');
    const path = await saveWorkbook(workbook, dir.file('merged.xlsx'));
    const column = await read('Answer', 'Data', path);
    expect(column.rows.map((r) => [r.row, r.answer])).toEqual([
      [2, 'spans three rows'],
      [3, ''],
      [4, ''],
      [5, 'answer 4'],
      [6, ''],
      [7, 'answer 6'],
    ]);
    expect(column.warnings).toEqual([
      {
        code: 'merged_answer_cells',
        message:
          'In the answer column (B), rows 3, 4 and 6 lie inside merged cells whose text belongs to the first ' +
          'cell of the merge: read as empty, and left uncoded.',
        rows: [3, 4, 6],
        rowCount: 3,
      },
    ]);
  });

  it('refuses a column with no answers below its header, at job start when the sheet is that short', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Data');
    sheet.addRow(['ID', 'Answer']);
    sheet.addRow([1, null]);
    sheet.addRow([2, '\u200B']);
    const path = await saveWorkbook(workbook, dir.file('no-answers.xlsx'));
    const message =
      'Column "Answer" of sheet "Data" in Survey 2024.xlsx has no answers: no row below its header (row 1) has text in it.';
    await expect(read('Answer', 'Data', path)).rejects.toThrow(NoAnswersError);
    await expect(read('Answer', 'Data', path)).rejects.toThrow(message);
    await expect(
      inspectColumn({ path, displayName: 'Survey 2024.xlsx', format: 'xlsx', column: 'Answer' }),
    ).rejects.toThrow(message);
  });

  it('refuses an empty sheet', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Blank');
    const path = await saveWorkbook(workbook, dir.file('blank.xlsx'));
    await expect(read('A', null, path)).rejects.toThrow(
      'Survey 2024.xlsx cannot be read as a spreadsheet: sheet "Blank" is empty',
    );
  });
});

describe('inspectColumn', () => {
  it('answers from the top of the sheet with the same column and errors', async () => {
    const check = await inspectColumn({
      path: survey,
      displayName: 'Survey 2024.xlsx',
      format: 'xlsx',
      sheet: '2',
      column: 'E2',
    });
    expect(check).toEqual({
      sheet: 'Responses',
      headerRow: 3,
      header: 'E2',
      column: 'D',
      question: SURVEY.question,
      warnings: [],
    });
    await expect(
      inspectColumn({
        path: survey,
        displayName: 'Survey 2024.xlsx',
        format: 'xlsx',
        sheet: '2',
        column: 'nope',
      }),
    ).rejects.toThrow(ColumnNotFoundError);
  });
});

describe('previewSheets', () => {
  it('lists every sheet with its size and shows the header and first rows of the chosen one', async () => {
    const preview = await previewSheets({
      path: survey,
      displayName: 'Survey 2024.xlsx',
      format: 'xlsx',
      sheet: 'Responses',
      rows: 3,
    });
    expect(preview.sheets).toEqual([
      { name: 'Intro', index: 1, state: 'visible', lastRow: 1 },
      { name: 'Responses', index: 2, state: 'visible', lastRow: 16 },
    ]);
    expect(preview).toMatchObject({ sheet: 'Responses', sheetIndex: 2, headerRow: 3, questionRow: 4 });
    expect(preview.columns.map((c) => `${c.letter} ${c.header}`)).toEqual([
      'A Respondent',
      'B Date',
      'C Score',
      'D E2',
      'E E3',
    ]);
    expect(preview.columns[3]?.question).toBe(SURVEY.question);
    expect(preview.rows).toEqual([
      { row: 5, cells: ['1000', '2024-01-01', '0', 'The staff were friendly', ''] },
      { row: 6, cells: ['1001', '2024-01-02', '1', 'Rich text answer', 'More please'] },
      { row: 7, cells: ['1002', '2024-01-03', '2', 'Visit our site', ''] },
    ]);
  });

  it('defaults to the first sheet and five rows', async () => {
    const preview = await previewSheets({ path: survey, displayName: 'Survey 2024.xlsx', format: 'xlsx' });
    expect(preview).toMatchObject({ sheet: 'Intro', headerRow: 1, rows: [] });
    const responses = await previewSheets({
      path: survey,
      displayName: 'x.xlsx',
      format: 'xlsx',
      sheet: '2',
    });
    expect(responses.rows).toHaveLength(5);
  });
});
