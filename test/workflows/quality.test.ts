/**
 * A human-coded column on a real Temporal server, through the real openai client against a simulator that
 * codes a known share of answers wrong: the Quality sheet's figures equal the ones computed here, from the
 * output's own rows, by formulas written out in this file (not domain/agreement.ts); the Review sheet lists
 * exactly the disagreements; the job's description carries the same figures; no request carries the gold.
 */
import path from 'node:path';
import type ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import { QUALITY_FIGURES, agreementLine, notComparedLine } from '../../domain/quality.js';
import type { Harness } from '../helpers/harness.js';
import { createHarness, testOptions } from '../helpers/harness.js';
import {
  CATEGORIES,
  NETTED_CATEGORIES,
  expected,
  expectedSet,
  makeAnswers,
  makeMultiAnswers,
  readOutput,
  writeGoldSurvey,
} from '../helpers/survey.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ latency: { meanMs: 2, jitterMs: 1 } });
});
afterAll(async () => {
  await h?.close();
});

const GOLD_HEADER = 'E2 coded by hand';
/** A label no codeframe has, in one gold cell: reported with its row, and never sent to the model. */
const STRANGE = 'Prise ZQX';
const WRONG_RATE = 0.25;
const MAX_CODES = 3;

async function runGoldJob(
  name: string,
  answers: ReadonlyArray<string | null>,
  gold: ReadonlyArray<string | null>,
  categories: readonly Category[],
  multi: boolean,
) {
  const file = path.join(h.dataDir, `${name}.xlsx`);
  await writeGoldSurvey(file, answers, gold, GOLD_HEADER);
  const options = testOptions(multi ? { multi: true, maxCodes: MAX_CODES } : {});
  const workers = await h.startWorkers({ slots: options.maxWorkers });
  try {
    h.sim.resetStats();
    h.sim.configure({ wrongRate: WRONG_RATE, keepRequests: true });
    const jobs = h.jobs(workers.taskQueue);
    const started = await jobs.create({
      fileName: `${name}.xlsx`,
      source: { path: file },
      column: 'E2',
      goldColumn: GOLD_HEADER.toUpperCase(),
      categories,
      options,
      idFrom: 'random',
    });
    const result = await started.handle.result();
    const bodies = h.sim.requestBodies();
    const description = await jobs.describe(started.jobId);
    const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
    return { result, bodies, description, output };
  } finally {
    h.sim.configure({ wrongRate: 0, keepRequests: false });
    await workers.stop();
  }
}

function sheetOf(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const sheet = workbook.getWorksheet(name);
  if (!sheet) throw new Error(`no ${name} sheet`);
  return sheet;
}

/** Labels of a cell, split on `;`, trimmed, lower case: the test's own matching. */
function labelsOf(text: string): string[] {
  return [
    ...new Set(
      text
        .split(';')
        .map((l) => l.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/** Cohen's κ of two nominal codings: (p_o − p_e) / (1 − p_e), p_e from each side's own shares. */
function kappa(pairs: ReadonlyArray<readonly [string, string]>): number {
  const n = pairs.length;
  const values = new Set(pairs.flat());
  const po = pairs.filter(([a, b]) => a === b).length / n;
  let pe = 0;
  for (const v of values) {
    pe += (pairs.filter(([a]) => a === v).length / n) * (pairs.filter(([, b]) => b === v).length / n);
  }
  return pe === 1 ? 1 : (po - pe) / (1 - pe);
}

/**
 * Krippendorff's α, nominal, two coders and no missing values: from the coincidence matrix,
 * α = ((n − 1)·Σ o_cc − Σ n_c(n_c − 1)) / (n(n − 1) − Σ n_c(n_c − 1)), n = 2 × units.
 */
function alpha(pairs: ReadonlyArray<readonly [string, string]>): number {
  const n = 2 * pairs.length;
  const agreeing = 2 * pairs.filter(([a, b]) => a === b).length;
  const totals = new Map<string, number>();
  for (const v of pairs.flat()) totals.set(v, (totals.get(v) ?? 0) + 1);
  const chance = [...totals.values()].reduce((s, c) => s + c * (c - 1), 0);
  const denominator = n * (n - 1) - chance;
  return denominator === 0 ? 1 : ((n - 1) * agreeing - chance) / denominator;
}

interface Compared {
  readonly row: number;
  readonly human: string[];
  readonly model: string[];
}

/** The figures as the issue defines them, from the compared rows. */
function expectedFigures(rows: readonly Compared[], multi: boolean) {
  const used = [...new Set(rows.flatMap((r) => [...r.human, ...r.model]))];
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((l) => b.includes(l));
  const exact = rows.filter((r) => same(r.human, r.model)).length / rows.length;
  const counts = used.map((c) => {
    const tp = rows.filter((r) => r.human.includes(c) && r.model.includes(c)).length;
    const fp = rows.filter((r) => !r.human.includes(c) && r.model.includes(c)).length;
    const fn = rows.filter((r) => r.human.includes(c) && !r.model.includes(c)).length;
    return { c, tp, fp, fn, f1: (2 * tp) / (2 * tp + fp + fn) };
  });
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  const tp = sum(counts.map((c) => c.tp));
  const micro = (2 * tp) / (2 * tp + sum(counts.map((c) => c.fp)) + sum(counts.map((c) => c.fn)));
  const macro = sum(counts.map((c) => c.f1)) / counts.length;
  let k: number;
  let a: number;
  if (multi) {
    const presence = (c: string) =>
      rows.map((r) => [r.human.includes(c) ? 'y' : 'n', r.model.includes(c) ? 'y' : 'n'] as const);
    k = sum(used.map((c) => kappa(presence(c)))) / used.length;
    a = sum(used.map((c) => alpha(presence(c)))) / used.length;
  } else {
    const pairs = rows.map((r) => [r.human[0] ?? '', r.model[0] ?? ''] as const);
    k = kappa(pairs);
    a = alpha(pairs);
  }
  return { rows: rows.length, exact, kappa: k, alpha: a, micro, macro };
}

/** Rows with a gold cell and a model code, read from the Data sheet: G the gold, H the model's category. */
function comparedRows(
  workbook: ExcelJS.Workbook,
  count: number,
  leftOut: ReadonlySet<number> = new Set(),
): Compared[] {
  const data = sheetOf(workbook, 'Data');
  expect(data.getCell('H1').text).toBe('E2 category');
  const rows: Compared[] = [];
  for (let row = 2; row < 2 + count; row += 1) {
    if (leftOut.has(row)) continue; // not the model's coding: its category cell says Other
    const human = labelsOf(data.getCell(`G${row}`).text);
    const model = labelsOf(data.getCell(`H${row}`).text);
    if (human.length > 0 && model.length > 0) rows.push({ row, human, model });
  }
  return rows;
}

/** Each data row's confidence from the `E2 confidence` column (found by its header), NaN where blank. */
function confidencesOf(workbook: ExcelJS.Workbook, count: number): Map<number, number> {
  const data = sheetOf(workbook, 'Data');
  let column = 0;
  data.getRow(1).eachCell((cell, c) => {
    if (cell.text === 'E2 confidence') column = c;
  });
  expect(column, 'the E2 confidence column').toBeGreaterThan(0);
  const out = new Map<number, number>();
  for (let row = 2; row < 2 + count; row += 1) {
    const value = data.getCell(row, column).value;
    if (typeof value === 'number') out.set(row, value);
  }
  return out;
}

/** The Quality sheet's first table: its first column must read exactly QUALITY_FIGURES. */
function qualityFigures(workbook: ExcelJS.Workbook): Map<string, number> {
  const sheet = sheetOf(workbook, 'Quality');
  const names = QUALITY_FIGURES.map((_, i) => sheet.getCell(i + 2, 1).text);
  expect(names).toEqual([...QUALITY_FIGURES]);
  return new Map(QUALITY_FIGURES.map((name, i) => [name, Number(sheet.getCell(i + 2, 2).value)]));
}

function expectSheetMatches(
  workbook: ExcelJS.Workbook,
  figures: ReturnType<typeof expectedFigures>,
  reported: NonNullable<Awaited<ReturnType<typeof runGoldJob>>['description']['quality']>,
) {
  const sheet = qualityFigures(workbook);
  expect(sheet.get('Rows compared')).toBe(figures.rows);
  const pairs: Array<[string, number]> = [
    ['Exact agreement', figures.exact],
    ["Cohen's kappa", figures.kappa],
    ["Krippendorff's alpha", figures.alpha],
    ['Micro F1', figures.micro],
    ['Macro F1', figures.macro],
  ];
  for (const [name, value] of pairs) expect(sheet.get(name), name).toBeCloseTo(value, 3);
  // The job's description (GET /jobs/:id) carries the same figures.
  expect(reported.rows).toBe(figures.rows);
  expect(reported.exactAgreement ?? NaN).toBeCloseTo(figures.exact, 3);
  expect(reported.kappa ?? NaN).toBeCloseTo(figures.kappa, 3);
  expect(reported.alpha ?? NaN).toBeCloseTo(figures.alpha, 3);
  expect(reported.macroF1 ?? NaN).toBeCloseTo(figures.macro, 3);
}

/** The Review sheet's rows (below its header): [row, human, model] as text, lower case. */
function reviewRows(workbook: ExcelJS.Workbook): Array<[number, string[], string[]]> {
  const sheet = sheetOf(workbook, 'Review');
  expect([1, 2, 3, 4].map((c) => sheet.getCell(1, c).text)).toEqual(['Row', 'Answer', 'Human', 'Model']);
  const out: Array<[number, string[], string[]]> = [];
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    out.push([Number(row.getCell(1).value), labelsOf(row.getCell(3).text), labelsOf(row.getCell(4).text)]);
  });
  return out;
}

describe('a human-coded column beside the answers', () => {
  it('single-label: the Quality sheet equals the figures computed from the output rows, to 3 decimals', async () => {
    const answers = makeAnswers(360, { duplicates: 0.1, blanks: 0.03 });
    const gold = answers.map((a, i) => {
      if (a === null || i % 17 === 0) return null; // not every row was coded by hand
      const label = expected(a);
      return i % 5 === 0 ? `  ${label.toUpperCase()} ` : label; // case and spaces do not matter
    });
    const strangeAt = answers.findIndex((a, i) => a !== null && i % 17 !== 0 && i > 10);
    gold[strangeAt] = STRANGE;
    // Hand-coded rows the model does not code: two empty answers and three invalid ones (never sent).
    const emptyAt = answers.flatMap((a, i) => (a === null ? [i] : [])).slice(0, 2);
    const invalidAt = answers
      .flatMap((a, i) => (a !== null && i > 20 && i % 17 !== 0 && i !== strangeAt ? [i] : []))
      .slice(0, 3);
    for (const i of emptyAt) gold[i] = CATEGORIES[0]!.name;
    invalidAt.forEach((i, n) => {
      answers[i] = ['N/A', '-', '?'][n] ?? '-';
      gold[i] = CATEGORIES[1]!.name;
    });
    expect(emptyAt).toHaveLength(2);
    const leftOut = new Set([...emptyAt, ...invalidAt].map((i) => i + 2));

    const { result, bodies, description, output } = await runGoldJob(
      'single',
      answers,
      gold,
      CATEGORIES,
      false,
    );
    expect(result.quality).toEqual(description.quality);

    const rows = comparedRows(output, answers.length, leftOut);
    const figures = expectedFigures(rows, false);
    // Every gold cell is compared or counted as left out, with its reason, on the sheet and in the figures.
    expect(figures.rows + 5).toBe(gold.filter((g) => g !== null).length);
    expect(description.quality?.notCompared).toEqual({
      rows: 5,
      invalid: 3,
      empty: 2,
      alreadyCoded: 0,
      uncoded: 0,
      noLabel: 0,
    });
    const notCompared = sheetOf(output, 'Quality')
      .getRows(1, 30)
      ?.find((r) => r.getCell(1).text === 'Human-coded rows not compared');
    expect(notCompared?.getCell(2).value).toBe(5);
    expect(notCompared?.getCell(3).text).toBe('3 invalid answers (N/A, -, ?), 2 empty answers');
    expect(notComparedLine(description.quality!)).toBe(
      'Not compared: 5 human-coded rows (3 invalid answers (N/A, -, ?), 2 empty answers)',
    );
    // The simulator was wrong on about a quarter of the answers: agreement shows it, and is not zero.
    expect(figures.exact).toBeGreaterThan(0.6);
    expect(figures.exact).toBeLessThan(0.9);
    expect(description.quality).toBeDefined();
    expectSheetMatches(output, figures, description.quality!);

    // Every disagreement and every answer under 0.7, and nothing else, is on the Review sheet.
    const confidence = confidencesOf(output, answers.length);
    const unsure = (row: number) => (confidence.get(row) ?? 1) < 0.7;
    const byRow = new Map(rows.map((r) => [r.row, r]));
    const expectedReview: Array<[number, string[], string[]]> = [];
    const data = sheetOf(output, 'Data');
    for (let row = 2; row < 2 + answers.length; row += 1) {
      const r = byRow.get(row);
      if ((r && r.human[0] !== r.model[0]) || unsure(row))
        expectedReview.push([row, r?.human ?? [], labelsOf(data.getCell(`H${row}`).text)]);
    }
    const review = reviewRows(output);
    expect(review.map(([row]) => row)).toEqual(expectedReview.map(([row]) => row));
    expect(review.filter(([row]) => byRow.has(row))).toEqual(
      expectedReview.filter(([row]) => byRow.has(row)),
    );
    // Confidence means something here: the sure answers agree with the coders, the unsure ones do not.
    expect([...confidence.values()].every((c) => c >= 0 && c <= 1)).toBe(true);
    const split = description.quality?.byConfidence;
    expect(split?.below.rows).toBe(rows.filter((r) => unsure(r.row)).length);
    expect(split?.below.rows).toBeGreaterThan(0);
    expect(split?.below.exactAgreement).toBe(0);
    expect(split?.atOrAbove.exactAgreement).toBeGreaterThan(0.99);
    // The unknown label is listed with its sheet row, and counted.
    const quality = sheetOf(output, 'Quality');
    const listed: Array<[string, string]> = [];
    quality.eachRow((row) => {
      if (row.getCell(2).text === STRANGE) listed.push([row.getCell(1).text, row.getCell(2).text]);
    });
    expect(listed).toEqual([[String(strangeAt + 2), STRANGE]]);
    expect(description.quality?.unknownGoldLabels).toBe(1);
    // The confusion matrix (a row and a column per category) sums to the rows compared.
    let header = 0;
    quality.eachRow((row, n) => {
      if (row.getCell(1).text.startsWith('Human')) header = n;
    });
    const size = quality.getRow(header).cellCount - 1;
    expect(size).toBe(CATEGORIES.length + 2); // the fallback, and the unknown human label
    let confusion = 0;
    for (let r = header + 1; r <= header + size; r += 1)
      for (let c = 2; c <= size + 1; c += 1) confusion += Number(quality.getCell(r, c).value);
    expect(confusion).toBe(figures.rows);

    expect(agreementLine(description.quality!)).toMatch(
      new RegExp(
        `^Agreement with "${GOLD_HEADER}" on ${figures.rows} rows: \\d+\\.\\d %, κ -?\\d\\.\\d\\d, α -?\\d\\.\\d\\d, macro F1 \\d\\.\\d\\d$`,
      ),
    );

    // The gold column never reached the model: not its header, not a label only it has.
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) {
      expect(body).not.toContain(GOLD_HEADER);
      expect(body).not.toContain(STRANGE);
    }
  });

  it('multi-code: sets of codes, κ and α per category averaged, to 3 decimals', async () => {
    const answers = makeMultiAnswers(300, { duplicates: 0.1 });
    const gold = answers.map((a, i) => {
      if (i % 13 === 0) return null;
      const labels = expectedSet(a, NETTED_CATEGORIES, MAX_CODES);
      return i % 4 === 0 ? labels.map((l) => l.toLowerCase()).join(' ;') : labels.join('; ');
    });

    const { bodies, description, output } = await runGoldJob('multi', answers, gold, NETTED_CATEGORIES, true);

    const rows = comparedRows(output, answers.length);
    const figures = expectedFigures(rows, true);
    expect(figures.exact).toBeGreaterThan(0.6);
    expect(figures.exact).toBeLessThan(0.9);
    expectSheetMatches(output, figures, description.quality!);
    expect(sheetOf(output, 'Quality').getCell(2, 1).text).toBe('Rows compared');

    const confidence = confidencesOf(output, answers.length);
    const disagrees = new Set(
      rows
        .filter((r) => r.human.length !== r.model.length || r.human.some((l) => !r.model.includes(l)))
        .map((r) => r.row),
    );
    const expectedRows = Array.from({ length: answers.length }, (_, i) => i + 2).filter(
      (row) => disagrees.has(row) || (confidence.get(row) ?? 1) < 0.7,
    );
    expect(reviewRows(output).map(([row]) => row)).toEqual(expectedRows);
    for (const body of bodies) expect(body).not.toContain(GOLD_HEADER);
  });
});

describe('confidence from log-probabilities', () => {
  it('a model that refuses logprobs: with parallel workers every request in flight is refused, the Run sheet counts them, and the job goes on without them', async () => {
    const answers = makeAnswers(200);
    const file = path.join(h.dataDir, 'refuses.xlsx');
    await writeGoldSurvey(file, answers, [], GOLD_HEADER);
    // The default: 5 workers in parallel, so several batches are in flight before the first refusal is stored.
    const options = testOptions({ model: 'gpt-5-mini' });
    expect(options.parallel).toBe(true);
    const workers = await h.startWorkers({ slots: options.maxWorkers });
    try {
      h.sim.resetStats();
      h.sim.configure({ keepRequests: true });
      const started = await h.jobs(workers.taskQueue).create({
        fileName: 'refuses.xlsx',
        source: { path: file },
        column: 'E2',
        categories: CATEGORIES,
        options,
        idFrom: 'random',
      });
      const result = await started.handle.result();
      expect(result.progress.rows.fallback).toBe(0);
      expect(result.progress.batches.total).toBeGreaterThan(options.maxWorkers);
      // Each refused request was sent once more without them; none after the switch asked again.
      const asked = h.sim.requestBodies().filter((b) => b.includes('"logprobs":true'));
      expect(asked.length).toBeGreaterThan(1);
      expect(asked.length).toBeLessThanOrEqual(options.maxWorkers);
      expect(h.sim.requestBodies()).toHaveLength(result.progress.batches.total + asked.length);
      const output = await readOutput(h.store.file(started.jobId, result.output.xlsx));
      let said = '';
      sheetOf(output, 'Run').eachRow((row) => {
        if (row.getCell(1).text === 'Confidence') said = row.getCell(2).text;
      });
      expect(said).toMatch(/^off: the model refused log-probabilities \(batch \d+: .*logprobs/);
      expect(said).toMatch(new RegExp(`; refused by ${asked.length} requests, then not asked again$`));
      const headers: string[] = [];
      sheetOf(output, 'Data')
        .getRow(1)
        .eachCell((cell) => headers.push(cell.text));
      expect(headers).not.toContain('E2 confidence');
      expect(output.getWorksheet('Review')).toBeUndefined();
    } finally {
      h.sim.configure({ keepRequests: false });
      await workers.stop();
    }
  });
});
