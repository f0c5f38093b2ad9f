/**
 * Tables by segment from a real job (Temporal dev server, the real openai client against the simulator):
 * the `Tables` sheet of a multi-code job with nets, checked against a count made here from the output's
 * own rows, with the significance marks worked again by the test's own z-test.
 */
import path from 'node:path';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { jobTables } from '../../activities/tables.js';
import { BannerNotFoundError } from '../../domain/errors.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { NETTED_CATEGORIES, cellText, makeMultiAnswers, readOutput, writeSurvey } from '../helpers/survey.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 2 } });
});
afterAll(async () => {
  await h?.close();
});

const NETS: Record<string, readonly string[]> = {
  'NET Product': ['Quality', 'Range'],
  'NET Service': ['Staff', 'Support'],
};
const PLACEHOLDERS = new Set(['-', 'n/a']);

/** label → column → count, and column → base, as parsed from one table of the Tables sheet. */
interface ParsedTable {
  readonly bases: Map<string, number>;
  readonly counts: Map<string, Map<string, number>>;
  readonly percents: Map<string, Map<string, number | null>>;
  readonly marks: Map<string, Map<string, string | null>>;
}

/** The tables of the sheet in order: each from its `Code` header row down to the first empty row. */
function parseTables(sheet: ExcelJS.Worksheet): ParsedTable[] {
  const tables: ParsedTable[] = [];
  const value = (row: number, col: number) => sheet.getRow(row).getCell(col).value;
  for (let r = 1; r <= sheet.rowCount; r += 1) {
    if (value(r, 1) !== 'Code') continue;
    const columns: Array<{ label: string; at: number }> = [];
    for (let c = 2; c <= sheet.getRow(r).cellCount; c += 1) {
      const label = value(r, c);
      if (typeof label === 'string' && !label.startsWith('%')) columns.push({ label, at: c });
    }
    const t: ParsedTable = { bases: new Map(), counts: new Map(), percents: new Map(), marks: new Map() };
    for (const { label, at } of columns) t.bases.set(label, Number(value(r + 1, at)));
    for (let line = r + 2; value(line, 1) !== null && value(line, 1) !== undefined; line += 1) {
      const name = sheet.getRow(line).getCell(1).text;
      const of = <T>(map: Map<string, Map<string, T>>) => map.set(name, new Map()).get(name)!;
      const [counts, percents, marks] = [of(t.counts), of(t.percents), of(t.marks)];
      for (const { label, at } of columns) {
        counts.set(label, Number(value(line, at)));
        percents.set(label, value(line, at + 1) as number | null);
        if (label !== 'Total') marks.set(label, (value(line, at + 2) as string | null) ?? null);
      }
    }
    tables.push(t);
  }
  return tables;
}

/** The same figures counted from the Data sheet's rows: banner value → label → respondents. */
function countRows(rows: ReadonlyArray<{ labels: readonly string[]; banner: string | null }>): {
  bases: Map<string, number>;
  counts: Map<string, Map<string, number>>;
} {
  const bases = new Map<string, number>();
  const counts = new Map<string, Map<string, number>>();
  const add = (label: string, column: string) => {
    const line = counts.get(label) ?? new Map<string, number>();
    line.set(column, (line.get(column) ?? 0) + 1);
    counts.set(label, line);
  };
  for (const { labels, banner } of rows) {
    for (const column of banner === null ? ['Total'] : [banner, 'Total']) {
      bases.set(column, (bases.get(column) ?? 0) + 1);
      for (const label of new Set(labels)) add(label, column);
      for (const [net, codes] of Object.entries(NETS))
        if (labels.some((l) => codes.includes(l))) add(net, column);
    }
  }
  return { bases, counts };
}

/**
 * The mark the sheet should show, worked here: the column against the other columns together, pooled
 * two-proportion z-test, |z| > 1.959964 (95 %, two-sided), tested only with both bases ≥ 30 and both
 * expected counts ≥ 5.
 */
function expectedMark(x1: number, n1: number, x2: number, n2: number): string | null {
  if (n1 < 30 || n2 < 30) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  if (Math.min(n1, n2) * Math.min(pooled, 1 - pooled) < 5) return null;
  const z = (x1 / n1 - x2 / n2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return Math.abs(z) > 1.959964 ? (z > 0 ? '▲' : '▼') : null;
}

describe('the Tables sheet of a real job', () => {
  it('counts, bases, column % and marks agree with a count of the output rows, by a banner and by NPS groups', async () => {
    const count = 330;
    // Answers from the UK (every third row, column B) mention the price far more often: a mark to find.
    const answers: Array<string | null> = makeMultiAnswers(count).map((a, i) =>
      i % 3 === 0 && i % 2 === 0 ? `the price was too high and ${a}` : a,
    );
    answers[4] = '-';
    answers[50] = 'n/a';
    answers[77] = null;
    const file = path.join(h.dataDir, 'tables.xlsx');
    const survey = await writeSurvey(file, answers);
    const workers = await h.startWorkers();
    const started = await h.jobs(workers.taskQueue).create({
      fileName: 'tables.xlsx',
      source: { path: file },
      column: 'E2',
      by: ['Country', 'Score=0-6:Detractors,7-8:Passives,9-10:Promoters'],
      categories: NETTED_CATEGORIES,
      options: testOptions({ multi: true, maxCodes: 4 }),
      idFrom: 'random',
    });
    const result = await started.handle.result();
    expect(result.stats.fallbackRows).toBe(0);

    const workbook = await readOutput(h.store.file(started.jobId, result.output.xlsx));
    const data = workbook.getWorksheet('Data')!;
    // Respondents counted from the output: rows whose category cell (G) holds codes, left out the
    // placeholders (coded Other without the model) and blanks, as the tables' base says.
    const respondents = answers.flatMap((answer, i) => {
      const row = survey.rows[i]!;
      const cell = cellText(data, row, 'G');
      if (answer === null || PLACEHOLDERS.has(answer) || cell === '') return [];
      return [
        {
          labels: cell.split(';').map((l) => l.trim()),
          country: cellText(data, row, 'B'),
          score: Number(cellText(data, row, 'C')),
        },
      ];
    });
    expect(respondents.length).toBe(count - 3);
    const nps = (s: number) => (s <= 6 ? 'Detractors' : s <= 8 ? 'Passives' : 'Promoters');

    const sheet = workbook.getWorksheet('Tables');
    expect(sheet, `sheets: ${workbook.worksheets.map((s) => s.name).join(', ')}`).toBeDefined();
    const [byCountry, byNps] = parseTables(sheet!);
    const expectations = [
      {
        parsed: byCountry,
        own: countRows(respondents.map((r) => ({ labels: r.labels, banner: r.country }))),
      },
      { parsed: byNps, own: countRows(respondents.map((r) => ({ labels: r.labels, banner: nps(r.score) }))) },
    ];
    let marks = 0;
    for (const { parsed, own } of expectations) {
      expect(parsed).toBeDefined();
      expect(parsed!.bases).toEqual(own.bases);
      for (const [label, line] of parsed!.counts) {
        for (const [column, n] of line) {
          expect(n, `${label} × ${column}`).toBe(own.counts.get(label)?.get(column) ?? 0);
          expect(parsed!.percents.get(label)!.get(column)).toBeCloseTo(n / own.bases.get(column)!, 12);
        }
        for (const [column, mark] of parsed!.marks.get(label)!) {
          const x1 = line.get(column)!;
          const n1 = own.bases.get(column)!;
          const want = expectedMark(x1, n1, line.get('Total')! - x1, own.bases.get('Total')! - n1);
          expect(mark, `mark of ${label} × ${column}`).toBe(want);
          if (mark) marks += 1;
        }
      }
      // Every code the output holds has its line.
      for (const label of own.counts.keys()) expect(parsed!.counts.has(label), label).toBe(true);
    }
    expect(byCountry!.marks.get('Price')!.get('UK')).toBe('▲');
    expect(marks).toBeGreaterThan(0);
    // Multi-code: a column's code percentages sum past 100 %.
    const ukCodes = [...byCountry!.percents]
      .filter(([l]) => !l.startsWith('NET '))
      .map(([, m]) => m.get('UK') ?? 0);
    expect(ukCodes.reduce((a, b) => a + b, 0)).toBeGreaterThan(1);

    // After the job, by another banner, from the stored output; a column that is not there is named.
    const after = await jobTables(h.store, started.jobId, ['Age']);
    expect(after.tables[0]!.table!.columns.map((c) => [c.label, c.base])).toEqual([
      ['25-34', count - 3],
      ['Total', count - 3],
    ]);
    await expect(jobTables(h.store, started.jobId, ['Regoin'])).rejects.toThrow(BannerNotFoundError);
    await expect(jobTables(h.store, started.jobId, ['Regoin'])).rejects.toThrow(
      /Banner column "Regoin" \(by\) not found in sheet "Data" of tables.xlsx\. .*Columns: A "ID", B "Country", C "Score"/,
    );
  });
});
