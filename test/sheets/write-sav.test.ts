/**
 * The coded data as an SPSS file, read back with Debian's pspp: cases, variables (names, labels, types,
 * widths), value labels and response sets as written, for single-label and multi-code output, from xlsx and
 * CSV input.
 */
import { writeFile } from 'node:fs/promises';

import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import { codeColumnHeaders, codeframeOf } from '../../domain/codeframe.js';
import { writeCodedSav } from '../../sheets/index.js';
import { readSav } from '../helpers/pspp.js';
import type { TempDir } from './fixtures.js';
import { saveWorkbook, tempDir } from './fixtures.js';

let dir: TempDir;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

const LONG = Array.from({ length: 5000 }, (_, i) => 'abcdefghij'[i % 10]).join('');

describe('writeCodedSav, single-label, from an xlsx', () => {
  it('writes the sheet columns typed and named, the coded answer with a value label per code, the confidence', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Answers');
    sheet.addRow(['ID', '満足度の理由', 'Score', 'Score', null, 'E2', 'Date', 'E2 category']);
    const rows: unknown[][] = [
      [1, 'とても良い', 9, 1.5, 'x', 'too dear', new Date(Date.UTC(2024, 2, 5)), null],
      [2, '普通', null, 2.25, null, LONG, new Date(Date.UTC(2024, 2, 6)), null],
      [3, null, 7, null, null, 'older', null, 'Legacy code'],
      [4, 'まあまあ', null, -3, null, 'fine', null, 'Price'],
      [5, '悪い', 10, 0, 'y', 'slow', null, null],
      [6, null, null, null, null, 'n/a', null, null],
      [7, null, null, null, null, 'POISON', null, null],
    ];
    for (const row of rows) sheet.addRow(row);
    const input = await saveWorkbook(workbook, dir.file('single.xlsx'));
    const outPath = dir.file('single.sav');
    const codeframe = codeframeOf([{ name: 'Price' }, { name: 'Delivery' }] as Category[]);
    const written = await writeCodedSav({
      inputPath: input,
      format: 'xlsx',
      displayName: 'single.xlsx',
      sheet: 'Answers',
      headerRow: 1,
      categoryColumn: 'H',
      categoryHeader: 'E2 category',
      labels: new Map([
        [2, 'Price'],
        [3, 'Other'],
        [6, 'Delivery'],
        [7, 'Other'],
        [8, 'Other'],
      ]),
      confidence: {
        column: 'I',
        header: 'E2 confidence',
        values: new Map([
          [2, 0.9349],
          [6, 0.5],
        ]),
      },
      // The workbook says Other for both; the Summary counts neither.
      notCoded: new Map([
        [7, 'invalid'],
        [8, 'fallback'],
      ]),
      outPath,
      rows: [2, 3, 4, 5, 6, 7, 8],
      codeframe,
      multi: false,
      question: 'Why that score?',
      header: 'E2',
    });
    expect(written).toMatchObject({ cases: 7, unknownLabels: 1, truncatedValues: 0, sets: [] });
    const back = await readSav(outPath, ['FREQUENCIES /VARIABLES=E2_category.']);
    expect(back.info.get('Cases')).toBe('7');
    expect(back.variables.map((v) => [v.name, v.label, v.format])).toEqual([
      ['ID', 'ID', 'F8.0'],
      ['満足度の理由', '満足度の理由', `A${Buffer.byteLength('とても良い')}`],
      ['Score', 'Score', 'F8.0'],
      ['Score_2', 'Score', 'F8.2'],
      ['E', '', 'A1'],
      ['E2', 'E2', 'A5000'],
      ['Date', 'Date', 'A10'],
      ['E2_category', 'E2 category', 'F8.0'],
      ['E2_confidence', 'E2 confidence', 'F8.2'],
    ]);
    expect(back.valueLabels.get('E2_category')).toEqual([
      ['-2[a]', 'Retries ran out'],
      ['-1[a]', 'Invalid answer'],
      ['1', 'Price'],
      ['2', 'Delivery'],
      ['97', 'Other'],
    ]);
    expect(back.variables.find((v) => v.name === 'E2_category')?.missing).toBe('-1; -2');
    // Other once (row 3), of 4 coded: the invalid answer and the fallen row are missing, each by its reason;
    // the label outside the codeframe is system-missing.
    expect(back.tables.get('E2_category')?.slice(1)).toEqual([
      ['Valid', 'Price', '2', '28.6%', '50.0%', '50.0%'],
      ['', 'Delivery', '1', '14.3%', '25.0%', '75.0%'],
      ['', 'Other', '1', '14.3%', '25.0%', '100.0%'],
      ['Missing', '.', '1', '14.3%', '', ''],
      ['', 'Retries ran out', '1', '14.3%', '', ''],
      ['', 'Invalid answer', '1', '14.3%', '', ''],
      ['Total', '', '7', '100.0%', '', ''],
    ]);
    expect(back.rows).toEqual([
      ['1', 'とても良い', '9', '1.5', 'x', 'too dear', '2024-03-05', '1', '0.93'],
      ['2', '普通', ' ', '2.25', '', LONG, '2024-03-06', '97', ' '],
      // Coded before the job with a label outside the codeframe: missing.
      ['3', '', '7', ' ', '', 'older', '', ' ', ' '],
      ['4', 'まあまあ', ' ', '-3', '', 'fine', '', '1', ' '],
      ['5', '悪い', '10', '0', 'y', 'slow', '', '2', '0.5'],
      ['6', '', ' ', ' ', '', 'n/a', '', '-1', ' '],
      ['7', '', ' ', ' ', '', 'POISON', '', '-2', ' '],
    ]);
  });
});

describe('writeCodedSav, multi-code, from a CSV', () => {
  it('writes 0/1 variables with value labels, the $E2 set and one set per net of two or more', async () => {
    const input = dir.file('multi.csv');
    await writeFile(
      input,
      'ID;Score;E2\r\n1;7,5;too dear\r\n2;;late and rude\r\n3;9;\r\n4;10;n/a\r\n007;8;ok\r\n',
      'utf8',
    );
    const categories: Category[] = [
      { name: 'Price' },
      { name: 'Delivery', net: 'Service' },
      { name: 'Staff', net: 'Service' },
      { name: 'Quality', net: 'Product' },
    ];
    const codeframe = codeframeOf(categories);
    const headers = codeColumnHeaders('E2', codeframe);
    expect(headers).toEqual([
      'E2: Price',
      'E2: Delivery',
      'E2: Staff',
      'E2: Quality',
      'E2: Other',
      'E2: NET Service',
      'E2: NET Product',
    ]);
    const outPath = dir.file('multi.sav');
    const written = await writeCodedSav({
      inputPath: input,
      format: 'csv',
      displayName: 'multi.csv',
      sheet: 'multi',
      headerRow: 1,
      categoryColumn: 'D',
      categoryHeader: 'E2 category',
      labels: new Map([
        [2, 'Price'],
        [3, 'Delivery; Staff'],
        [5, 'Other'],
        [6, 'Quality'],
      ]),
      codes: {
        column: 'E',
        headers,
        ones: new Map([
          [2, [0]],
          [3, [1, 2, 5]],
          [6, [3, 6]],
        ]),
      },
      outPath,
      rows: [2, 3, 4, 5, 6],
      codeframe,
      multi: true,
      question: 'What did you dislike?',
      header: 'E2',
    });
    expect(written.sets).toEqual(['$E2', '$E2_NET_Service']);
    const back = await readSav(outPath);
    expect(back.info.get('Cases')).toBe('5');
    const dichotomies = ['E2_Price', 'E2_Delivery', 'E2_Staff', 'E2_Quality', 'E2_Other'];
    expect(back.variables.map((v) => [v.name, v.label, v.format])).toEqual([
      // 007 keeps the ID column text: a leading zero is not a number.
      ['ID', 'ID', 'A3'],
      ['Score', 'Score', 'F8.1'],
      ['E2', 'E2', 'A13'],
      ['E2_category', 'E2 category', `A${'Delivery; Staff'.length}`],
      ['E2_Price', 'Price', 'F8.0'],
      ['E2_Delivery', 'Delivery', 'F8.0'],
      ['E2_Staff', 'Staff', 'F8.0'],
      ['E2_Quality', 'Quality', 'F8.0'],
      ['E2_Other', 'Other', 'F8.0'],
      ['E2_NET_Service', 'NET Service', 'F8.0'],
      ['E2_NET_Product', 'NET Product', 'F8.0'],
    ]);
    for (const name of [...dichotomies, 'E2_NET_Service', 'E2_NET_Product']) {
      expect(back.valueLabels.get(name), name).toEqual([
        ['0', 'Not mentioned'],
        ['1', 'Mentioned'],
      ]);
    }
    expect([...back.mrsets].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      {
        name: '$E2',
        label: 'What did you dislike?',
        encoding: 'Dichotomies',
        counted: '1',
        variables: dichotomies,
      },
      {
        name: '$E2_NET_Service',
        label: 'NET Service',
        encoding: 'Dichotomies',
        counted: '1',
        variables: ['E2_Delivery', 'E2_Staff'],
      },
    ]);
    const none = [' ', ' ', ' ', ' ', ' ', ' ', ' '];
    expect(back.rows).toEqual([
      ['1', '7.5', 'too dear', 'Price', '1', '0', '0', '0', '0', '0', '0'],
      ['2', ' ', 'late and rude', 'Delivery; Staff', '0', '1', '1', '0', '0', '1', '0'],
      ['3', '9', '', '', ...none],
      ['4', '10', 'n/a', 'Other', ...none],
      ['007', '8', 'ok', 'Quality', '0', '0', '0', '1', '0', '0', '1'],
    ]);
  });
});
