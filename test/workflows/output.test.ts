/**
 * The coded output of real jobs on a Temporal dev server: a workbook holding merges, hyperlinks, a
 * validation, a note, defined names and a second sheet comes back with every part the coded sheet does not
 * touch byte for byte and every row once, in place; and the SPSS export of a single-label and a multi-code
 * job reads back in pspp with every case, variable, value label and response set as written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeJobSav } from '../../activities/export-sav.js';
import { checkKeptParts } from '../../bench/parts.js';
import { EDITED_PARTS, richRow, writeRichSurvey } from '../../bench/rich-survey.js';
import { JobResultNotReadyError } from '../../domain/errors.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { readSav } from '../helpers/pspp.js';
import {
  CATEGORIES,
  NETTED_CATEGORIES,
  cellText,
  expected,
  makeAnswers,
  makeMultiAnswers,
  readOutput,
} from '../helpers/survey.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 2 } });
});
afterAll(async () => {
  await h?.close();
});

function sheetOf(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`no ${name} sheet`);
  return sheet;
}

/** The number of the column headed `text` in row `row`. */
function columnHeaded(sheet: ExcelJS.Worksheet, row: number, text: string): number {
  let found = 0;
  sheet.getRow(row).eachCell((cell, column) => {
    if (cell.text === text) found = column;
  });
  if (found === 0) throw new Error(`no column headed ${text}`);
  return found;
}

/** A numeric cell as pspp writes it to CSV: the number in full, a blank as a space. */
function savNumber(sheet: ExcelJS.Worksheet, row: number, column: number): string {
  const value = sheet.getRow(row).getCell(column).value;
  return typeof value === 'number' ? String(value) : ' ';
}

describe('the coded output of a real job', () => {
  it('keeps every part the coded sheet does not touch byte for byte, and every row once in place; exports to SPSS', async () => {
    const rows = 400;
    const answers = makeAnswers(rows);
    const file = path.join(h.dataDir, 'rich.xlsx');
    await writeRichSurvey(file, rows, (i) => answers[i - 1] ?? '');
    const workers = await h.startWorkers();
    try {
      const started = await h.jobs(workers.taskQueue).create({
        fileName: 'rich.xlsx',
        source: { path: file },
        column: 'E2',
        categories: CATEGORIES,
        options: testOptions(),
        idFrom: 'random',
      });
      // Nothing to export before the job has written its output.
      await expect(writeJobSav(h.store, started.jobId)).rejects.toThrow(JobResultNotReadyError);
      const result = await started.handle.result();
      const output = h.store.file(started.jobId, result.output.xlsx);

      const kept = await checkKeptParts(file, output, EDITED_PARTS, 'xl/worksheets/sheet1.xml');
      expect(kept.problems).toEqual([]);
      expect(kept.identical).toEqual(
        expect.arrayContaining([
          'xl/worksheets/sheet2.xml',
          'xl/sharedStrings.xml',
          'xl/comments1.xml',
          'xl/drawings/vmlDrawing1.vml',
          'xl/worksheets/_rels/sheet1.xml.rels',
          'docProps/app.xml',
        ]),
      );

      const workbook = await readOutput(output);
      expect(workbook.worksheets.map((s) => s.name)).toEqual(['Data', 'Notes', 'Summary', 'Run']);
      const data = sheetOf(workbook, 'Data');
      expect(data.model.merges).toEqual(expect.arrayContaining(['F2:G2', 'F4:G5']));
      expect(data.getCell('A2').value).toMatchObject({ hyperlink: 'https://example.com/respondent/1' });
      expect(data.getCell('C2').dataValidation).toMatchObject({ type: 'whole', formulae: [0, 10] });
      expect(data.getCell('A2').note).toBe('Checked by the analyst');
      expect(data.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      expect(sheetOf(workbook, 'Notes').model.merges).toEqual(['A3:C3']);
      expect(workbook.definedNames.getRanges('Scores').ranges).toEqual([`Data!$C$2:$C$${rows + 1}`]);
      // The category column goes past the merges; every row once, in place, with its own values.
      expect(cellText(data, 1, 'H')).toBe('E2 category');
      expect(data.actualRowCount).toBe(rows + 1);
      for (let i = 1; i <= rows; i += 1) {
        const row = richRow(i);
        const answer = row.blank ? '' : (answers[i - 1] ?? '');
        expect([cellText(data, i + 1, 'A'), cellText(data, i + 1, 'B'), cellText(data, i + 1, 'C')]).toEqual([
          String(row.id),
          answer,
          String(row.score),
        ]);
        expect(cellText(data, i + 1, 'H'), `row ${i + 1}`).toBe(row.blank ? '' : expected(answer));
      }

      // The SPSS file, made on demand: the sheet's columns and the codes of the labels.
      const sav = await writeJobSav(h.store, started.jobId);
      expect(sav).toMatchObject({ written: true, details: { cases: rows, unknownLabels: 0 } });
      expect((await writeJobSav(h.store, started.jobId)).written).toBe(false);
      const back = await readSav(sav.path);
      expect(back.info.get('Cases')).toBe(String(rows));
      expect(back.variables.map((v) => [v.name, v.format])).toEqual([
        ['ID', 'F8.0'],
        ['E2', expect.stringMatching(/^A\d+$/)],
        ['Score', 'F8.0'],
        ['F', 'A11'],
        ['E2_category', 'F8.0'],
        // The confidence the model's log-probabilities gave, as the workbook's column holds it.
        ['E2_confidence', 'F8.2'],
      ]);
      const confidence = columnHeaded(data, 1, 'E2 confidence');
      const codes = new Map(CATEGORIES.map((c, i) => [c.name, String(i + 1)]));
      expect(back.valueLabels.get('E2_category')).toEqual([
        ['-2[a]', 'Retries ran out'],
        ['-1[a]', 'Invalid answer'],
        ...CATEGORIES.map((c, i): [string, string] => [String(i + 1), c.name]),
        ['97', 'Other'],
      ]);
      back.rows.forEach((fields, k) => {
        const i = k + 1;
        const row = richRow(i);
        const answer = row.blank ? '' : (answers[i - 1] ?? '');
        const code = row.blank ? ' ' : (codes.get(expected(answer)) ?? '97');
        expect(fields, `case ${i}`).toEqual([
          String(row.id),
          answer,
          String(row.score),
          i === 1 ? 'Merged note' : '',
          code,
          savNumber(data, i + 1, confidence),
        ]);
        if (!row.blank) expect(fields[5], `case ${i}`).not.toBe(' ');
      });
    } finally {
      await workers.stop();
    }
  }, 180_000);

  it('exports a multi-code job to SPSS: 0/1 variables as the workbook holds them, the $E2 set and one per net', async () => {
    const answers = makeMultiAnswers(300);
    const workers = await h.startWorkers();
    try {
      const { started } = await h.startSurvey(
        workers.taskQueue,
        'multi-sav.xlsx',
        answers,
        testOptions({ multi: true, maxCodes: 3 }),
        { categories: NETTED_CATEGORIES },
      );
      const result = await started.handle.result();
      const data = sheetOf(await readOutput(h.store.file(started.jobId, result.output.xlsx)), 'Data');
      const sav = await writeJobSav(h.store, started.jobId);
      const back = await readSav(sav.path);
      expect(back.info.get('Cases')).toBe(String(answers.length));
      const columns = ['H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q'];
      const dichotomies = columns.map((c) => cellText(data, 2, c).replace(': ', '_').replace(/ /g, '_'));
      expect(back.header).toEqual([
        'ID',
        'Country',
        'Score',
        'Age',
        'E2',
        'Weight',
        'E2_category',
        ...dichotomies,
        'E2_confidence',
      ]);
      const confidence = columnHeaded(data, 2, 'E2 confidence');
      expect(dichotomies.slice(-2)).toEqual(['E2_NET_Product', 'E2_NET_Service']);
      expect(back.valueLabels.get('E2_Price')).toEqual([
        ['0', 'Not mentioned'],
        ['1', 'Mentioned'],
      ]);
      const sets = [...back.mrsets].sort((a, b) => a.name.localeCompare(b.name));
      expect(sets.map((s) => [s.name, s.encoding, s.counted, s.variables])).toEqual([
        ['$E2', 'Dichotomies', '1', dichotomies.slice(0, 8)],
        ['$E2_NET_Product', 'Dichotomies', '1', ['E2_Quality', 'E2_Range']],
        ['$E2_NET_Service', 'Dichotomies', '1', ['E2_Staff', 'E2_Support']],
      ]);
      expect(sets[0]?.label).toBe('E2');
      back.rows.forEach((fields, k) => {
        const row = k + 3;
        expect(fields[0]).toBe(cellText(data, row, 'A'));
        expect(fields[6], `case ${k + 1}`).toBe(cellText(data, row, 'G'));
        expect(fields.slice(7, 17), `case ${k + 1}`).toEqual(
          columns.map((c) => cellText(data, row, c) || ' '),
        );
        expect(fields[17], `case ${k + 1}`).toBe(savNumber(data, row, confidence));
      });
      await fs.rm(sav.path);
    } finally {
      await workers.stop();
    }
  }, 120_000);

  it('writes the rows it did not code as declared missing in SPSS, by reason, as the Summary leaves them out', async () => {
    const answers = makeAnswers(80);
    answers[3] = '-';
    answers[10] = 'n/a';
    answers[20] = 'POISON the model always refuses';
    h.sim.configure({ faults: [{ kind: 'refusal', match: 'poison' }] });
    const workers = await h.startWorkers();
    try {
      const { started } = await h.startSurvey(workers.taskQueue, 'missing-sav.xlsx', answers, testOptions());
      const result = await started.handle.result().finally(() => h.sim.configure({ faults: [] }));
      const summary = new Map<string, unknown>();
      sheetOf(await readOutput(h.store.file(started.jobId, result.output.xlsx)), 'Summary').eachRow((row) => {
        const [first, second, third] = [1, 2, 3].map((c) => row.getCell(c).value);
        if (typeof second === 'string' && typeof third === 'number') summary.set(second.trim(), third);
        if (typeof first === 'string' && typeof second === 'number') summary.set(first, second);
      });
      expect([summary.get('Invalid answers'), summary.get('Retries ran out')]).toEqual([2, 1]);
      const base = [...summary].find(([k]) => k.startsWith('Respondents coded'))?.[1];
      expect(base).toBe(answers.length - 3);

      const sav = await writeJobSav(h.store, started.jobId);
      const back = await readSav(sav.path, ['FREQUENCIES /VARIABLES=E2_category.']);
      const stats = back.tables.get('Statistics') ?? [];
      expect(stats.find((r) => r[1] === 'Valid')?.[2]).toBe(String(base));
      expect(stats.find((r) => r[1] === 'Missing')?.[2]).toBe('3');
      const table = back.tables.get('E2_category') ?? [];
      const missingFrom = table.findIndex((r) => r[0] === 'Missing');
      const valid = new Map(table.slice(1, missingFrom).map((r) => [r[1], Number(r[2])]));
      const missing = new Map(table.slice(missingFrom, -1).map((r) => [r[1], Number(r[2])]));
      // Each category as many times as the Summary counts it, Other included; the others missing by reason.
      for (const [label, n] of valid) expect(n, label).toBe(summary.get(label ?? ''));
      expect(valid.get('Other') ?? 0).toBe(summary.get('Other') ?? 0);
      expect(missing).toEqual(
        new Map([
          ['Retries ran out', 1],
          ['Invalid answer', 2],
        ]),
      );
    } finally {
      await workers.stop();
    }
  }, 120_000);
});
