/**
 * Multi-code jobs on a real Temporal server, through the real openai client against the simulator: every
 * row coded with exactly its expected set, the 0/1 columns and nets from the rows themselves, a half-coded
 * file resumed, and results stored by the code before multi-code read as they are.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { StoredResult } from '../../activities/stored.js';
import type { Category } from '../../domain/categories.js';
import { normalizeAnswer } from '../../domain/text.js';
import { pauseUpdate, progressQuery, resumeUpdate } from '../../workflows/definitions.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import { waitFor } from '../helpers/processes.js';
import {
  NETTED_CATEGORIES,
  cellText,
  expectEveryRowCoded,
  expectedSet,
  makeAnswers,
  makeMultiAnswers,
  readOutput,
} from '../helpers/survey.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 5, jitterMs: 3 } });
});
afterAll(async () => {
  await h?.close();
});

/** The output's columns for NETTED_CATEGORIES: the category column G, then one per label, then one per net. */
const LABELS = ['Price', 'Delivery', 'App', 'Quality', 'Range', 'Staff', 'Support', 'Other'];
const NETS = { Product: ['Quality', 'Range'], Service: ['Staff', 'Support'] };
const CODE_COLUMNS = ['H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q'];
const HEADERS = [...LABELS.map((l) => `E2: ${l}`), 'E2: NET Product', 'E2: NET Service'];
const PLACEHOLDERS = ['-', 'n/a', '#N/A', '?'];
const MAX_CODES = 3;

function sheetOf(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`no ${name} sheet`);
  return sheet;
}

/** The 0/1 columns of a row: numbers, null where a cell is blank (anything else shows as its text). */
function codesOf(sheet: ExcelJS.Worksheet, row: number): Array<number | string | null> {
  return CODE_COLUMNS.map((c) => {
    const value = sheet.getCell(`${c}${row}`).value;
    if (value === null || value === undefined) return null;
    return typeof value === 'number' ? value : `not a number: ${JSON.stringify(value)}`;
  });
}

/** The 0/1 values a row with these labels must hold: one per label, then each net (any of its labels). */
function dichotomies(labels: readonly string[]): number[] {
  const has = (l: string) => (labels.includes(l) ? 1 : 0);
  return [
    ...LABELS.map(has),
    ...Object.values(NETS).map((members) => (members.some((m) => labels.includes(m)) ? 1 : 0)),
  ];
}

/** Rows listed in the Run sheet's fallback table (ranges expanded). */
function fallbackRows(run: ExcelJS.Worksheet): Set<number> {
  const rows = new Set<number>();
  let inTable = false;
  run.eachRow((row) => {
    if (row.getCell(1).text === 'Fallback batch') inTable = true;
    else if (inTable && row.getCell(3).text) {
      for (const part of row.getCell(2).text.split(', ')) {
        const [from, to] = part.split('–').map(Number);
        for (let r = from ?? 0; r <= (to ?? from ?? 0); r += 1) rows.add(r);
      }
    }
  });
  return rows;
}

/** The Summary's table rows by their Category cell (trimmed), and its rows table by first cell. */
function summaryOf(workbook: ExcelJS.Workbook): Map<string, ExcelJS.Row> {
  const summary = sheetOf(workbook, 'Summary');
  const rows = new Map<string, ExcelJS.Row>();
  summary.eachRow((row) => {
    const key = row.getCell(2).text.trim();
    if (key && typeof row.getCell(3).value === 'number') rows.set(key, row);
    const first = row.getCell(1).text;
    if (first && typeof row.getCell(2).value === 'number') rows.set(first, row);
  });
  return rows;
}

function runValue(workbook: ExcelJS.Workbook, setting: string): unknown {
  let value: unknown;
  sheetOf(workbook, 'Run').eachRow((row) => {
    if (row.getCell(1).text === setting) value = row.getCell(2).value;
  });
  return value;
}

async function runJob(
  name: string,
  answers: ReadonlyArray<string | null>,
  categories: readonly Category[],
  options = testOptions({ multi: true, maxCodes: MAX_CODES }),
  extra: { coded?: Map<number, string> } = {},
) {
  const workers = await h.startWorkers({ slots: options.maxWorkers, llmTimeoutMs: 1_000 });
  try {
    const { started, survey } = await h.startSurvey(workers.taskQueue, `${name}.xlsx`, answers, options, {
      ...extra,
      categories,
    });
    const result = await started.handle.result();
    const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
    return { jobId: started.jobId, result, output, survey };
  } finally {
    await workers.stop();
  }
}

describe('multi-code jobs on a real Temporal server', () => {
  it('codes 1,200 answers through faults, each row with exactly its expected set, nets as the rows say', async () => {
    const answers: Array<string | null> = makeMultiAnswers(1_200, { duplicates: 0.1 });
    for (let i = 5; i < answers.length; i += 97) answers[i] = null;
    for (let i = 9; i < answers.length; i += 89) answers[i] = PLACEHOLDERS[i % 4] ?? '-';
    // Answers the model answers with an empty list, with every label, and refuses outright.
    for (const i of [110, 111, 112, 113]) answers[i] = `${answers[i] ?? ''} EMPTYLIST`;
    for (const i of [300, 301, 302, 303, 304]) answers[i] = `${answers[i] ?? ''} TOOMANY`;
    const poisonIndex = 700;
    answers[poisonIndex] = 'POISON answer the model always refuses';

    h.sim.resetStats();
    h.sim.configure({
      faults: [
        { kind: 'refusal', match: 'poison' },
        { kind: 'empty_codes', match: 'emptylist' },
        { kind: 'too_many_codes', match: 'toomany' },
        { kind: 'duplicate_codes', rate: 0.2 },
        { kind: 'drop', count: 2 },
        { kind: 'hang', count: 1 },
        { kind: 'rate_limit', count: 3 },
        { kind: 'server_error', rate: 0.03 },
        { kind: 'malformed_json', rate: 0.02 },
        // Once each: salvage asks the answer again alone, and it recovers.
        { kind: 'missing_id', count: 1 },
        { kind: 'extra_id', count: 1 },
        { kind: 'bad_category', count: 1 },
      ],
    });
    const options = testOptions({
      multi: true,
      maxCodes: MAX_CODES,
      retry: { maximumAttempts: 6, initialIntervalMs: 20, maximumIntervalMs: 200, heartbeatTimeoutMs: 5_000 },
    });
    const { jobId, result, output, survey } = await runJob(
      'multi-faults',
      answers,
      NETTED_CATEGORIES,
      options,
    );
    h.sim.configure({ faults: [] });
    const stats = h.sim.stats();
    for (const kind of [
      'refusal',
      'empty_codes',
      'too_many_codes',
      'duplicate_codes',
      'drop',
      'server_error',
      'missing_id',
      'bad_category',
    ]) {
      expect(stats.faults[kind], kind).toBeGreaterThan(0);
    }

    const data = sheetOf(output, 'Data');
    expect(data.actualRowCount).toBe(2 + answers.length);
    expect(cellText(data, 2, 'G')).toBe('E2 category');
    expect(CODE_COLUMNS.map((c) => cellText(data, 2, c))).toEqual(HEADERS);

    // The poison falls back, and nothing else: an answer asked alone is asked again after a wrong answer, and
    // a 500 or a timeout on the way does not count as an ask (one-off slips never code a real answer Other).
    const poisonRows = survey.rows.filter((_, i) => answers[i] === answers[poisonIndex]);
    expect([...fallbackRows(sheetOf(output, 'Run'))]).toEqual(poisonRows);
    expect(result.stats.fallbackBatches).toBe(1);

    /** What each answer must be coded with, worked out here from the answer and the faults it met. */
    const expectedOf = (answer: string): string[] => {
      const lower = answer.toLowerCase();
      if (lower.includes('emptylist')) return ['Other'];
      if (lower.includes('toomany')) {
        // The model's list plus every other label; the fallback among others is dropped; the first 3 kept.
        const given = expectedSet(answer, NETTED_CATEGORIES, MAX_CODES).filter((l) => l !== 'Other');
        const kept = [...given, ...LABELS.filter((l) => l !== 'Other' && !given.includes(l))].slice(
          0,
          MAX_CODES,
        );
        return LABELS.filter((l) => kept.includes(l));
      }
      return expectedSet(answer, NETTED_CATEGORIES, MAX_CODES);
    };
    let sets = 0;
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      expect(cellText(data, row, 'A')).toBe(`R${1000 + i}`);
      expect(cellText(data, row, 'E')).toBe(answer ?? '');
      const cell = cellText(data, row, 'G');
      const codes = codesOf(data, row);
      if (answer === null) {
        expect(cell, `row ${row}`).toBe('');
        expect(
          codes.every((v) => v === null),
          `row ${row}`,
        ).toBe(true);
      } else if (PLACEHOLDERS.includes(answer) || poisonRows.includes(row)) {
        expect(cell, `row ${row}`).toBe('Other');
        expect(
          codes.every((v) => v === null),
          `row ${row}: 0/1 columns blank`,
        ).toBe(true);
      } else {
        const want = expectedOf(answer);
        expect(cell, `row ${row}: ${answer}`).toBe(want.join('; '));
        expect(codes, `row ${row}: ${answer}`).toEqual(dichotomies(want));
        if (want.length > 1) sets += 1;
      }
    });
    expect(sets).toBeGreaterThan(300); // many rows really have several categories

    // The Summary's counts equal counts taken from the output rows' own cells.
    const summary = summaryOf(output);
    const count = (column: number) => survey.rows.filter((row) => codesOf(data, row)[column] === 1).length;
    LABELS.forEach((label, k) => expect(summary.get(label)?.getCell(3).value, label).toBe(count(k)));
    for (const [k, [net, members]] of Object.entries(NETS).entries()) {
      const withAny = survey.rows.filter((row) =>
        members.some((m) => codesOf(data, row)[LABELS.indexOf(m)] === 1),
      ).length;
      expect(summary.get(`NET ${net}`)?.getCell(3).value, net).toBe(withAny);
      expect(count(LABELS.length + k), `the NET ${net} column`).toBe(withAny);
      // People, not mentions: fewer than the sum of its categories when someone has both.
      expect(withAny).toBeLessThan(members.reduce((n, m) => n + count(LABELS.indexOf(m)), 0));
    }
    const coded = survey.rows.filter((row) => codesOf(data, row)[0] !== null).length;
    expect(
      summary
        .get('Respondents coded: the base of "% of respondents" (one may have several categories)')
        ?.getCell(3).value,
    ).toBe(coded);
    expect(summary.get('Invalid answers')?.getCell(2).value).toBe(
      answers.filter((a) => a !== null && PLACEHOLDERS.includes(a)).length,
    );
    expect(summary.get('Retries ran out')?.getCell(2).value).toBe(poisonRows.length);

    // Every TOOMANY answer was cut to 3, once per distinct answer, and the Run sheet says how many.
    const tooMany = new Set(
      answers.filter((a): a is string => a?.includes('TOOMANY') ?? false).map(normalizeAnswer),
    );
    expect(runValue(output, `Answers cut to ${MAX_CODES} codes (the model gave more)`)).toBe(tooMany.size);

    // The CSV has the same columns and values.
    const csv: string[][] = parse(await fs.readFile(h.store.file(jobId, result.output.csv), 'utf8'), {
      bom: true,
      relax_column_count: true,
    });
    expect(csv[0]?.slice(6, 17)).toEqual(['E2 category', ...HEADERS]);
    csv.slice(1).forEach((fields, i) => {
      const row = survey.rows[i] ?? 0;
      expect(fields[6] ?? '', `csv row ${row}`).toBe(cellText(data, row, 'G'));
      expect(
        fields.slice(7, 17).map((f) => (f === '' ? null : Number(f))),
        `csv row ${row}`,
      ).toEqual(codesOf(data, row));
    });

    // One stored result per batch, its labels lists.
    const results = await fs.readdir(path.join(h.store.dir(jobId), 'results'));
    expect(results.filter((f) => f.endsWith('.json'))).toHaveLength(result.progress.batches.total);
    const first = JSON.parse(await fs.readFile(h.store.resultFile(jobId, 0), 'utf8')) as StoredResult;
    expect(first.fallback ? [] : first.labels.every(Array.isArray)).toBeTruthy();
  }, 180_000);

  it('resumes a half-coded file: sends only the uncoded rows, reads the coded cells into the 0/1 columns', async () => {
    const answers = makeMultiAnswers(200);
    const coded = new Map<number, string>();
    for (let i = 0; i < 80; i += 1) {
      const labels = expectedSet(answers[i] ?? '', NETTED_CATEGORIES, 9);
      // As people type them: any case, any order, stray spaces, and labels the codeframe does not have.
      const cell = [
        [...labels].reverse().join(';').toLowerCase(),
        `Hand-coded;  ${labels[0] ?? ''}`,
        labels.join('; '),
        'Legacy code',
      ][i % 4];
      coded.set(i, cell ?? '');
    }
    h.sim.resetStats();
    const { output, survey, result } = await runJob('multi-half', answers, NETTED_CATEGORIES, undefined, {
      coded,
    });
    const uncoded = new Set(answers.slice(80).map(normalizeAnswer));
    expect(h.sim.stats().answersLabelled).toBe(uncoded.size);
    expect(result.progress.rows.alreadyCoded).toBe(80);

    const data = sheetOf(output, 'Data');
    expect(CODE_COLUMNS.map((c) => cellText(data, 2, c))).toEqual(HEADERS);
    answers.forEach((answer, i) => {
      const row = survey.rows[i] ?? 0;
      if (i < 80) {
        // The cell stays as it was; the 0/1 columns hold the labels of the codeframe it names.
        expect(cellText(data, row, 'G')).toBe(coded.get(i));
        const known = expectedSet(answer, NETTED_CATEGORIES, 9);
        const want = [known, [known[0] ?? ''], known, []][i % 4] ?? [];
        expect(codesOf(data, row), `row ${row}: ${coded.get(i)}`).toEqual(dichotomies(want));
      } else {
        const want = expectedSet(answer, NETTED_CATEGORIES, MAX_CODES);
        expect(cellText(data, row, 'G'), `row ${row}`).toBe(want.join('; '));
        expect(codesOf(data, row), `row ${row}`).toEqual(dichotomies(want));
      }
    });

    // Labels outside the codeframe are listed with their rows in the Run sheet, and counted apart.
    const run = sheetOf(output, 'Run');
    const listed = new Map<number, string>();
    let inTable = false;
    run.eachRow((row) => {
      if (row.getCell(1).text === 'Row') inTable = true;
      else if (inTable) listed.set(Number(row.getCell(1).value), row.getCell(2).text);
    });
    const unknownRows = [...coded.keys()]
      .filter((i) => i % 4 === 1 || i % 4 === 3)
      .map((i) => survey.rows[i]);
    expect([...listed.keys()]).toEqual(unknownRows);
    expect(listed.get(survey.rows[1] ?? 0)).toBe('Hand-coded');
    expect(listed.get(survey.rows[3] ?? 0)).toBe('Legacy code');
    const summary = summaryOf(output);
    expect(summary.get('Hand-coded (not in the codeframe)')?.getCell(3).value).toBe(20);
    expect(summary.get('Already coded in the file')?.getCell(2).value).toBe(80);
  }, 120_000);

  it('writes results stored by the code before multi-code (a string per answer) as they are', async () => {
    h.sim.configure({ latency: { meanMs: 60 } });
    const workers = await h.startWorkers({ slots: 2, llmTimeoutMs: 2_000 });
    try {
      const answers = makeAnswers(300);
      const { started, survey } = await h.startSurvey(
        workers.taskQueue,
        'old-results.xlsx',
        answers,
        testOptions({ maxWorkers: 2 }),
      );
      await waitFor(
        async () => {
          const p = await started.handle.query(progressQuery).catch(() => undefined);
          return p && p.batches.done >= 5 ? true : undefined;
        },
        60_000,
        'five batches done',
      );
      await started.handle.executeUpdate(pauseUpdate);
      const paused = await waitFor(
        async () => {
          const p = await started.handle.query(progressQuery);
          return p.batches.inFlight === 0 ? p : undefined;
        },
        60_000,
        'no batch in flight',
      );
      expect(paused.batches.done).toBeLessThan(paused.batches.total);
      // Rewrite what is stored as the previous code stored it: one label string per answer.
      const dir = path.join(h.store.dir(started.jobId), 'results');
      let rewritten = 0;
      for (const file of (await fs.readdir(dir)).filter((f) => f.endsWith('.json'))) {
        const stored = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as {
          labels?: string[][];
        };
        if (!stored.labels) continue;
        const old = { ...stored, labels: stored.labels.map((l) => l[0] ?? '') };
        await fs.writeFile(path.join(dir, file), JSON.stringify(old));
        rewritten += 1;
      }
      expect(rewritten).toBeGreaterThanOrEqual(5);
      await started.handle.executeUpdate(resumeUpdate);
      const result = await started.handle.result();
      expectEveryRowCoded(await readOutput(h.store.file(started.jobId, result.output.xlsx)), answers, survey);
    } finally {
      h.sim.configure({ latency: { meanMs: 5, jitterMs: 3 } });
      await workers.stop();
    }
  }, 120_000);
});
