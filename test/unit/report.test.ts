import { describe, expect, it } from 'vitest';

import type { JobStats } from '../../domain/job.js';
import type { ReportRow, RunInfo, SummaryInput } from '../../domain/report.js';
import { SIMULATED_WARNING, formatRowList, runRows, summaryRows } from '../../domain/report.js';

const ROWS = { total: 12, empty: 1, invalid: 1, coded: 2, classify: 8 };

function summary(over: Partial<SummaryInput> = {}): ReportRow[] {
  return summaryRows({
    categories: [{ name: 'Price' }, { name: 'Delivery' }, { name: 'Quality' }],
    fallbackLabel: 'Other',
    labels: [
      'Delivery',
      'Price',
      'price',
      'Other',
      'Delivery',
      'Price',
      'Price',
      'Legacy code',
      'Other',
      'Price',
    ],
    rows: ROWS,
    fallbackRows: 1,
    ...over,
  });
}

/** The category table: rows between the header and the total. */
function table(rows: ReportRow[]): ReportRow[] {
  const end = rows.findIndex((r) => r[0] === 'Total coded');
  return rows.slice(1, end);
}

describe('summaryRows', () => {
  it('counts each category in category order, then the fallback, then labels outside the list', () => {
    const rows = summary();
    expect(rows[0]).toEqual(['Category', 'Count', '%']);
    expect(table(rows)).toEqual([
      ['Price', 5, 0.5],
      ['Delivery', 2, 0.2],
      ['Quality', 0, 0],
      ['Other', 2, 0.2],
      ['Legacy code', 1, 0.1],
    ]);
    expect(rows.find((r) => r[0] === 'Total coded')).toEqual(['Total coded', 10, 1]);
  });

  it('shares sum to 1 and counts to the total', () => {
    const t = table(summary());
    expect(t.reduce((n, r) => n + Number(r[1]), 0)).toBe(10);
    expect(t.reduce((n, r) => n + Number(r[2]), 0)).toBeCloseTo(1, 12);
  });

  it('uses the categories own spelling of the fallback, without a second row for it', () => {
    const rows = summary({
      categories: [{ name: 'Price' }, { name: 'OTHER' }],
      fallbackLabel: 'OTHER',
      labels: ['Price', 'other', 'OTHER'],
    });
    expect(table(rows)).toEqual([
      ['Price', 1, 1 / 3],
      ['OTHER', 2, 2 / 3],
    ]);
  });

  it('lists every category with 0 and no share when nothing was coded', () => {
    const rows = summary({ labels: [] });
    expect(table(rows).map((r) => r.slice(1))).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(rows.find((r) => r[0] === 'Total coded')).toEqual(['Total coded', 0, 0]);
  });

  it('ends with how the rows were treated', () => {
    const rows = summary();
    const start = rows.findIndex((r) => r[0] === 'Rows');
    expect(rows[start - 1]).toEqual([]);
    expect(rows.slice(start).map((r) => r.slice(0, 2))).toEqual([
      ['Rows', 'Count'],
      ['Data rows', 12],
      ['Empty', 1],
      ['Invalid', 1],
      ['Already coded', 2],
      ['Classified', 8],
      ['Fallback', 1],
    ]);
    expect(String(rows.find((r) => r[0] === 'Invalid')?.[2])).toContain('"Other"');
  });

  it('accepts any iterable of labels', () => {
    const labels = new Map([
      [2, 'Price'],
      [3, 'Delivery'],
    ]).values();
    expect(table(summary({ labels })).slice(0, 2)).toEqual([
      ['Price', 1, 0.5],
      ['Delivery', 1, 0.5],
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
