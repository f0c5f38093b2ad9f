/**
 * Checks a coded workbook's Summary sheet (and the `GET /jobs/:id/summary` JSON, when given) against the
 * workbook's own category cells, counted here row by row: single-label jobs, where the category cell holds
 * one label. Invalid answers and rows whose retries ran out hold the fallback label in the file but are not
 * in the Summary's categories: the invalid ones are told from their answer here.
 */
import type ExcelJS from 'exceljs';
import { expect } from 'vitest';
import { FALLBACK_LABEL } from '../../domain/categories.js';
import type { ResultSummary } from '../../domain/report.js';
import { isBlank, isInvalidAnswer } from '../../domain/text.js';

export interface CodedCells {
  /** Rows by label in the category cell, invalid answers left out. */
  readonly labels: ReadonlyMap<string, number>;
  /** Answers by label, to check examples. */
  readonly answers: ReadonlyMap<string, ReadonlySet<string>>;
  readonly invalid: number;
  /** Rows with an answer and a blank category cell: not coded. */
  readonly blank: number;
  readonly empty: number;
}

/** The answer sheet's category cells, counted; `answer` and `category` are column letters. */
export function codedCells(
  sheet: ExcelJS.Worksheet,
  where: { answer: string; category: string; first: number; last: number },
): CodedCells {
  const labels = new Map<string, number>();
  const answers = new Map<string, Set<string>>();
  let invalid = 0;
  let blank = 0;
  let empty = 0;
  for (let row = where.first; row <= where.last; row += 1) {
    const answer = sheet.getCell(`${where.answer}${row}`).text;
    const label = sheet.getCell(`${where.category}${row}`).text;
    if (isBlank(answer)) {
      empty += 1;
      continue;
    }
    if (label === '') blank += 1;
    else if (isInvalidAnswer(answer)) {
      expect(label, `row ${row}: ${answer}`).toBe(FALLBACK_LABEL);
      invalid += 1;
    } else {
      labels.set(label, (labels.get(label) ?? 0) + 1);
      answers.set(label, (answers.get(label) ?? new Set()).add(answer));
    }
  }
  return { labels, answers, invalid, blank, empty };
}

/** The Summary sheet's category table (label → respondents, share), its base and its rows table. */
export function summarySheet(workbook: ExcelJS.Workbook): {
  categories: Map<string, { respondents: number; share: number }>;
  base: number;
  rows: Map<string, number>;
  notices: string[];
} {
  const sheet = workbook.getWorksheet('Summary');
  if (!sheet) throw new Error('no Summary sheet');
  const categories = new Map<string, { respondents: number; share: number }>();
  const rows = new Map<string, number>();
  const notices: string[] = [];
  let base = -1;
  let table: 'notices' | 'categories' | 'between' | 'rows' = 'notices';
  sheet.eachRow((row) => {
    const first = row.getCell(1).text;
    const second = row.getCell(2).text;
    if (table === 'notices') {
      if (first === 'Code') table = 'categories';
      else if (first) notices.push(first);
    } else if (table === 'categories') {
      if (second.startsWith('Respondents coded')) {
        base = Number(row.getCell(3).value);
        table = 'between';
      } else {
        categories.set(second.trim(), {
          respondents: Number(row.getCell(3).value),
          share: Number(row.getCell(4).value),
        });
      }
    } else if (table === 'between') {
      if (first === 'Rows') table = 'rows';
    } else rows.set(first, Number(row.getCell(2).value));
  });
  return { categories, base, rows, notices };
}

/**
 * The Summary sheet says what the cells hold: each category's respondents, the fallback's without the
 * invalid and fallen-back rows, the base, the invalid and uncoded rows; the JSON (if given) says the same.
 */
export function expectSummaryOfCells(
  workbook: ExcelJS.Workbook,
  cells: CodedCells,
  json?: Pick<ResultSummary, 'base' | 'categories' | 'rows' | 'partial' | 'notices'>,
): void {
  const summary = summarySheet(workbook);
  const fellBack = summary.rows.get('Retries ran out') ?? -1;
  expect(summary.rows.get('Invalid answers')).toBe(cells.invalid);
  expect(summary.rows.get('Empty')).toBe(cells.empty);
  const notCoded = [...summary.rows].find(([name]) => name.startsWith('Not coded'))?.[1] ?? 0;
  expect(notCoded).toBe(cells.blank);
  let base = 0;
  for (const [label, n] of cells.labels) {
    const counted = label === FALLBACK_LABEL ? n - fellBack : n;
    expect(summary.categories.get(label)?.respondents, label).toBe(counted);
    base += counted;
  }
  expect(summary.base).toBe(base);
  // Categories no cell holds are listed with 0.
  for (const [label, { respondents, share }] of summary.categories) {
    if (!cells.labels.has(label) && !label.startsWith('NET ')) expect(respondents, label).toBe(0);
    expect(share, label).toBeCloseTo(base === 0 ? 0 : respondents / base, 10);
  }
  if (!json) return;
  expect(json.base.respondents).toBe(base);
  expect(json.rows.invalid).toBe(cells.invalid);
  expect(json.rows.notReached).toBe(cells.blank);
  expect(json.rows.fallback).toBe(fellBack);
  expect(json.notices).toEqual(summary.notices);
  // A net holds the rows of its categories: one category a row, so their sum.
  for (const net of json.categories.filter((c) => c.kind === 'net')) {
    const members = json.categories.filter((c) => c.kind !== 'net' && c.net === net.label);
    expect(net.respondents, net.label).toBe(members.reduce((sum, c) => sum + c.respondents, 0));
  }
  for (const c of json.categories.filter((c) => c.kind !== 'net')) {
    expect(c.respondents, c.label).toBe(summary.categories.get(c.label)?.respondents);
    // Each example is an answer whose row holds that label.
    for (const example of c.examples) expect(cells.answers.get(c.label)?.has(example), example).toBe(true);
    // Some when the label holds answers (up to three, each answer once however it is spelled), else none.
    expect(c.examples.length > 0, c.label).toBe((cells.answers.get(c.label)?.size ?? 0) > 0);
    expect(c.examples.length, c.label).toBeLessThanOrEqual(3);
  }
}
