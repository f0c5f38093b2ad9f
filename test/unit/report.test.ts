import { describe, expect, it } from 'vitest';

import { parseCategories } from '../../domain/categories.js';
import { codeframeOf } from '../../domain/codeframe.js';
import type { AnswerOutcome } from '../../domain/coded-rows.js';
import { codedRows } from '../../domain/coded-rows.js';
import type { JobStats, RowKind } from '../../domain/job.js';
import type { ReportRow, RunInfo } from '../../domain/report.js';
import {
  SIMULATED_WARNING,
  formatRowList,
  resultSummary,
  runRows,
  summaryRows,
} from '../../domain/report.js';

const FRAME = codeframeOf(
  parseCategories(
    ['1 Price', '3 Quality', '[100 Service]', '101 Staff', '102 Support', '97 Other'].join('\n'),
  ),
);

/**
 * Rows 2–13: model codings (as lists), rows coded in the file, an invalid, an empty, a fallback row and one
 * not reached.
 */
/** A classified row's outcome, or a coded row's cell text. */
type Given = readonly string[] | string | undefined | null;
const ROWS: Array<[number, RowKind, Given]> = [
  [2, 'classify', ['Price', 'Staff']],
  [3, 'classify', ['Staff', 'Support']],
  [4, 'classify', ['Price']],
  [5, 'classify', ['Other']],
  [6, 'coded', 'support; Legacy code'],
  [7, 'coded', 'price'],
  [8, 'invalid', null],
  [9, 'empty', null],
  [10, 'classify', 'fallback'],
  [11, 'classify', undefined],
  [12, 'classify', ['Quality', 'Price']],
  [13, 'coded', 'Legacy code'],
];

function tallyOf(multi: boolean) {
  return codedOf(multi).tally;
}

function codedOf(multi: boolean) {
  return codedRows({
    codeframe: FRAME,
    multi,
    assignments: ROWS.map(([row, kind], i) => [row, kind, kind === 'classify' ? i : -1] as const),
    answer: (i): AnswerOutcome => {
      const given = ROWS[i]?.[2];
      return given === null || (typeof given === 'string' && given !== 'fallback') ? undefined : given;
    },
    codedCells: new Map(
      ROWS.filter(([, kind]) => kind === 'coded').map(([row, , cell]) => [row, String(cell)]),
    ),
  });
}

function summary(over: { multi?: boolean; partial?: boolean; simulated?: boolean } = {}): ReportRow[] {
  const multi = over.multi ?? true;
  return summaryRows({
    codeframe: FRAME,
    multi,
    tally: tallyOf(multi),
    partial: over.partial ?? false,
    simulated: over.simulated ?? false,
  });
}

/** The category table: from its header to the last total. */
function table(rows: ReportRow[]): ReportRow[] {
  const start = rows.findIndex((r) => r[0] === 'Code');
  const end = rows.findIndex((r, i) => i > start && r.length === 0);
  return rows.slice(start, end);
}

/** Respondents from the rows themselves, not from the code under test: which rows have any of `labels`. */
function respondentsWith(labels: string[]): number {
  const keys = new Set(labels.map((l) => l.toLowerCase()));
  return ROWS.filter(([, kind, outcome]) => {
    const list =
      kind === 'coded' ? String(outcome).split(';') : Array.isArray(outcome) ? (outcome as string[]) : [];
    return list.some((l) => keys.has(l.trim().toLowerCase()));
  }).length;
}

describe('summaryRows, multi-code', () => {
  it('lists nets with their categories indented, largest first, the fallback last, unknown labels after', () => {
    const t = table(summary());
    expect(t[0]).toEqual([
      'Code',
      'Category',
      'Respondents',
      '% of respondents',
      'Mentions',
      '% of mentions',
      'Order in codeframe',
    ]);
    // 8 respondents coded (rows 2, 3, 4, 5, 12 by the model, 6, 7, 13 in the file); 12 mentions
    // (2 + 2 + 1 + 1 + 2 + 2 + 1 + 1).
    const base = 8;
    const mentions = 12;
    expect(t.slice(1)).toEqual([
      [1, 'Price', 4, 4 / base, 4, 4 / mentions, 1],
      [100, 'NET Service', 3, 3 / base, 4, 4 / mentions, 3],
      [101, '    Staff', 2, 2 / base, 2, 2 / mentions, 4],
      [102, '    Support', 2, 2 / base, 2, 2 / mentions, 5],
      [3, 'Quality', 1, 1 / base, 1, 1 / mentions, 2],
      [97, 'Other', 1, 1 / base, 1, 1 / mentions, 6],
      [null, 'Legacy code (not in the codeframe)', 2, 2 / base, 2, 2 / mentions, null],
      [
        null,
        'Respondents coded: the base of "% of respondents" (one may have several categories)',
        base,
        1,
        null,
        null,
        null,
      ],
      [null, 'Mentions: the base of "% of mentions"', null, null, mentions, 1, null],
    ]);
  });

  it('counts a net as the respondents with any of its categories, from the rows', () => {
    const net = table(summary()).find((r) => r[1] === 'NET Service');
    expect(net?.[2]).toBe(respondentsWith(['Staff', 'Support']));
    expect(net?.[2]).toBeLessThan(Number(net?.[4])); // people, not mentions: row 3 has both
    expect(table(summary()).find((r) => r[1] === 'Price')?.[2]).toBe(respondentsWith(['Price']));
  });

  it('keeps invalid answers, fallen-back and unreached rows out of the categories, in the rows table', () => {
    const rows = summary();
    expect(table(rows).find((r) => r[1] === 'Other')?.[2]).toBe(1); // the model's own "Other" only
    const start = rows.findIndex((r) => r[0] === 'Rows');
    expect(rows.slice(start).map((r) => r.slice(0, 2))).toEqual([
      ['Rows', 'Count'],
      ['Data rows', 12],
      ['Coded by the model', 5],
      ['Already coded in the file', 3],
      ['Invalid answers', 1],
      ['Retries ran out', 1],
      ['Empty', 1],
      ['Not coded: the job was cancelled', 1],
    ]);
    expect(String(rows.find((r) => r[0] === 'Invalid answers')?.[2])).toMatch(
      /"Other" .*0\/1 columns blank; not counted above/,
    );
  });

  it('puts SIMULATED and PARTIAL at the top, PARTIAL counting what was coded', () => {
    const rows = summary({ simulated: true, partial: true });
    expect(rows[0]).toEqual([SIMULATED_WARNING]);
    expect(rows[2]).toEqual([
      'PARTIAL RESULT: the job was cancelled after 6 of 7 rows to code; the other 1 are left blank and not counted here.',
    ]);
    expect(rows[3]).toEqual([]);
    expect(rows[4]?.[0]).toBe('Code');
  });
});

describe('resultSummary: the Summary as JSON', () => {
  it('lists the entries of the sheet in its order, with the same figures, and example answers by code column', () => {
    const { tally, examples } = codedOf(true);
    const input = { codeframe: FRAME, multi: true, tally, partial: true, failed: true, simulated: false };
    const json = resultSummary(
      input,
      (column) => (examples[column] ?? []).map((a) => `answer ${a}`),
      undefined,
    );
    const sheet = table(summaryRows(input)).slice(1, -2);
    expect(json.categories.map((c) => [c.code, c.respondents, c.share, c.mentions])).toEqual(
      sheet.map((r) => [r[0], r[2], r[3], r[4]]),
    );
    expect(json.base.respondents).toBe(8);
    // Price: rows 2, 4 and 12 were coded by the model (answers 0, 2 and 10); row 7 in the file has no answer.
    expect(json.categories.find((c) => c.label === 'Price')?.examples).toEqual([
      'answer 0',
      'answer 2',
      'answer 10',
    ]);
    // Labels outside the codeframe have no column and no examples.
    expect(json.categories.find((c) => c.kind === 'unknown')?.examples).toEqual([]);
    expect(json).toMatchObject({ partial: true, ended: 'failed', agreement: null });
    expect(json.notices).toEqual([
      'PARTIAL RESULT: the job failed after 6 of 7 rows to code; the other 1 are left blank and not counted here.',
    ]);
    expect(json.rows).toEqual(tally.rows);
  });
});

describe('summaryRows, single-label', () => {
  it('has no mention columns and counts each row once', () => {
    const t = table(summary({ multi: false }));
    expect(t[0]).toEqual(['Code', 'Category', 'Respondents', '% of respondents', 'Order in codeframe']);
    // In single-label mode a filled cell is one label: "support; Legacy code" is not in the codeframe.
    expect(t.find((r) => r[1] === 'support; Legacy code (not in the codeframe)')?.[2]).toBe(1);
    expect(t.find((r) => r[1] === 'Legacy code (not in the codeframe)')?.[2]).toBe(1);
    expect(t.at(-1)?.[2]).toBe(8);
    expect(t.at(-1)?.[3]).toBe(1);
  });

  it('lists every category with 0 and no share when nothing was coded', () => {
    const rows = summaryRows({
      codeframe: codeframeOf([{ name: 'Price' }, { name: 'Delivery' }]),
      multi: false,
      tally: codedRows({
        codeframe: codeframeOf([{ name: 'Price' }, { name: 'Delivery' }]),
        multi: false,
        assignments: [[2, 'empty', -1]],
        answer: () => undefined,
        codedCells: new Map(),
      }).tally,
      partial: false,
      simulated: false,
    });
    expect(table(rows).slice(1)).toEqual([
      [1, 'Price', 0, 0, 1],
      [2, 'Delivery', 0, 0, 2],
      [97, 'Other', 0, 0, 3],
      [null, 'Respondents coded: the base of "% of respondents"', 0, 0, null],
    ]);
  });
});

const STATS: JobStats = {
  totalSeconds: 70,
  classifySeconds: 60,
  ratePerMinute: 1_200,
  speedup: 4,
  sequentialEstimateSeconds: 240,
  apiCalls: 130,
  rateLimited: 7,
  tokens: 58_000,
  fallbackBatches: 2,
  fallbackRows: 5,
};

function run(over: Partial<RunInfo> = {}): ReportRow[] {
  return runRows({
    jobId: 'job-1',
    fileName: 'survey.xlsx',
    sheet: 'Sheet1',
    column: 'B',
    header: 'Answer',
    question: 'Why?',
    model: 'gpt-4o-mini',
    temperature: 0.1,
    batchSize: 10,
    concurrency: 5,
    parallel: true,
    simulated: false,
    endpoint: 'https://api.openai.com/v1',
    startedAt: '2025-01-01T12:00:00.000Z',
    endedAt: '2025-01-01T12:01:10.000Z',
    stats: STATS,
    promptTokens: 50_000,
    completionTokens: 8_000,
    partial: false,
    fallbacks: [],
    ...over,
  });
}

const value = (rows: ReportRow[], setting: string) => rows.find((r) => r[0] === setting)?.[1];

describe('runRows', () => {
  it('starts with the settings table when the run was real and complete', () => {
    const rows = run();
    expect(rows[0]).toEqual(['Setting', 'Value']);
    expect(rows.flat().join(' ')).not.toMatch(/SIMULATED|PARTIAL/);
    expect(value(rows, 'Model')).toBe('gpt-4o-mini');
    expect(value(rows, 'Answer column')).toBe('B (Answer)');
    expect(value(rows, 'Speedup')).toBe(4);
    expect(value(rows, 'API calls')).toBe(130);
    expect(value(rows, 'Rate-limited responses (429)')).toBe(7);
    expect(value(rows, 'Parallel processing')).toBe('on');
  });

  it('lists what the reader noticed in the file, each with its message and how many rows; nothing when clean', () => {
    const warning = {
      code: 'formula_without_value' as const,
      message: 'Formulas without a saved result in E7 and E9 were read as empty.',
      rows: [7, 9],
      rowCount: 2,
    };
    const rows = run({ warnings: [warning] });
    const at = rows.findIndex((r) => r[0] === 'About the file');
    expect(rows[at]).toEqual(['About the file', 'Rows']);
    expect(rows[at + 1]).toEqual([warning.message, 2]);
    expect(run().some((r) => r[0] === 'About the file')).toBe(false);
  });

  it('puts the simulated banner first, and marks the model', () => {
    const rows = run({ simulated: true });
    expect(rows[0]).toEqual([SIMULATED_WARNING]);
    expect(rows[1]).toEqual([]);
    expect(value(rows, 'Model')).toBe('gpt-4o-mini (simulated)');
    expect(value(rows, 'Answered by the simulator')).toBeUndefined();
    // A job resumed with another endpoint says how much of it the simulator answered.
    const mixed = run({ simulated: true, simulatedBatches: { answered: 3, of: 40 } });
    expect(value(mixed, 'Answered by the simulator')).toBe('3 of 40 batches');
  });

  it('adds the partial banner, after the simulated one when both apply', () => {
    const partial = run({ partial: true });
    expect(String(partial[0]?.[0])).toMatch(/^PARTIAL RESULT/);
    const both = run({ partial: true, simulated: true });
    expect(both[0]).toEqual([SIMULATED_WARNING]);
    expect(String(both[2]?.[0])).toMatch(/^PARTIAL RESULT/);
  });

  it('lists every fallback batch with a 1-based number, its rows as ranges and the reason', () => {
    const rows = run({
      fallbacks: [
        { batch: 0, rows: [4, 2, 3], reason: 'rate limited (429) after 10 attempts' },
        { batch: 6, rows: [70, 72], reason: 'model output: missing ids' },
      ],
    });
    const header = rows.findIndex((r) => r[0] === 'Fallback batch');
    expect(header).toBeGreaterThan(0);
    expect(rows[header - 1]).toEqual([]);
    expect(rows.slice(header)).toEqual([
      ['Fallback batch', 'Rows', 'Reason'],
      [1, '2–4', 'rate limited (429) after 10 attempts'],
      [7, '70, 72', 'model output: missing ids'],
    ]);
  });

  it('counts salvaged batches, their requests and the answers fallen back alone, when given', () => {
    expect(value(run(), 'Salvage requests')).toBeUndefined();
    const rows = run({ salvage: { batches: 13, calls: 14, answersFallback: 13 } });
    expect(value(rows, 'Salvaged batches (answered partly wrong, bad answers asked again)')).toBe(13);
    expect(value(rows, 'Salvage requests')).toBe(14);
    expect(value(rows, 'Answers fallen back alone')).toBe(13);
  });

  it('shows the prompt tokens served from the cache under the prompt tokens, when counted', () => {
    const rows = run({ cachedTokens: 12_288 });
    const at = rows.findIndex((r) => r[0] === 'Prompt tokens');
    expect(rows[at + 1]).toEqual(['Cached prompt tokens', 12_288]);
    expect(value(run(), 'Cached prompt tokens')).toBeUndefined();
  });

  it('has no fallback table without fallbacks', () => {
    expect(run().some((r) => r[0] === 'Fallback batch')).toBe(false);
  });
});

describe('formatRowList', () => {
  it.each([
    [[3, 4, 5, 9], '3–5, 9'],
    [[9, 5, 3, 4], '3–5, 9'],
    [[1], '1'],
    [[1, 2], '1–2'],
    [[1, 3, 5], '1, 3, 5'],
    [[10, 11, 12, 20, 21, 30], '10–12, 20–21, 30'],
    [[], ''],
  ])('%j → %j', (rows, text) => {
    expect(formatRowList(rows)).toBe(text);
  });

  it('does not reorder its input', () => {
    const rows = [5, 3, 4];
    formatRowList(rows);
    expect(rows).toEqual([5, 3, 4]);
  });
});
