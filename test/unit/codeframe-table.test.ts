import { describe, expect, it } from 'vitest';
import { codeframeProgressLine, codeframeTable } from '../../cli/codeframe-format.js';
import type { CodeframeReport } from '../../domain/codeframe-file.js';
import type { CodeframeProgress } from '../../domain/codeframe-job.js';
import { ZERO_CODEFRAME_COUNTERS, describeCodeframeProgress } from '../../domain/codeframe-job.js';

const report: CodeframeReport = {
  codeframeId: 'cf-1',
  fileName: 'survey.xlsx',
  column: 'E2',
  question: 'Why?',
  writtenAt: '2026-12-07T00:00:00.000Z',
  model: 'gpt-4o-mini',
  simulated: true,
  codes: [
    {
      code: 1,
      label: 'Wide choice',
      description: 'choice, range',
      share: 0.3,
      measured: 120,
      examples: ['lots of choice'],
    },
    {
      code: 2,
      label: 'Late delivery',
      description: 'late, delayed, took ages, and a description far too long for its column to show in full',
      net: 'Delivery',
      share: 0.2,
      measured: 80,
      examples: ['delivery was late'],
    },
    {
      code: 3,
      label: 'Damaged',
      description: 'damaged',
      net: 'Delivery',
      share: 0.05,
      measured: 20,
      examples: [],
    },
  ],
  nets: [{ name: 'Delivery', share: 0.25, codes: [2, 3] }],
  other: { code: 97, label: 'Other', share: 0.45 },
  folded: [{ label: 'Weather on the day', share: 0.0025, measured: 1 }],
  overflow: ['Parking'],
  minShare: 0.01,
  coverage: 0.55,
  base: 400,
  covered: 220,
  sampleRows: 400,
  measureFailed: 0,
  warnings: ['Cells E7 and E9 hold formulas with no saved result: read as empty.'],
  files: { txt: 'categories.txt', xlsx: 'categories.xlsx' },
};

describe('codeframeTable', () => {
  const text = codeframeTable(report, {
    columns: 100,
    seconds: 75,
    calls: { extract: 14, merge: 1, measure: 8 },
    tokens: 51_234,
    txt: 'categories.txt',
    xlsx: 'categories.xlsx',
    next: 'verbatim classify survey.xlsx --column E2 --categories-file categories.txt',
  });
  const lines = text.split('\n');

  it('says simulated, the number of codes, the coverage and the sample it was measured on', () => {
    expect(lines[1]).toMatch(/^⚠ SIMULATED/);
    expect(text).toContain(
      'Draft codeframe: 3 codes for survey.xlsx, column E2 · coverage 55.0 % (estimated from a sample of 400 answers)',
    );
    expect(text).toContain('Shares are estimates from a sample of 400 answers.');
  });

  it('lists each code with its share, description and an example, a net above its codes, Other last', () => {
    const table = lines.slice(lines.findIndex((l) => l.startsWith(' Code')));
    expect(table[0]).toMatch(/^ Code {2}Label +Share {2}Description +Example$/);
    expect(table[1]).toMatch(/^ {4}1 {2}Wide choice +30\.0 % {2}choice, range +"lots of choice"$/);
    expect(table[2]).toMatch(/^ {7}\[Delivery\] +25\.0 %$/);
    expect(table[3]).toMatch(
      /^ {4}2 {2}Late delivery +20\.0 % {2}late, delayed, took ages.*… {2}"delivery was late"$/,
    );
    expect(table[4]).toMatch(/^ {4}3 {2}Damaged +5\.0 % {2}damaged$/);
    expect(table[5]).toMatch(/^ {3}97 {2}Other +45\.0 % {2}answers no code fits$/);
    // The table fits the terminal (the prose lines under it may wrap).
    for (const l of table.slice(0, 6)) expect([...l].length).toBeLessThan(100);
  });

  it('names what was folded, left out and noticed in the file, then the cost and the files', () => {
    expect(text).toContain('Folded into Other (under 1.0 %): Weather on the day (0.3 %)');
    expect(text).toContain('Left out (more than --max-codes): Parking');
    expect(text).toContain(
      'Reading the file: Cells E7 and E9 hold formulas with no saved result: read as empty.',
    );
    expect(text).toContain(
      'API calls: 23 (14 theme extraction, 1 merge, 8 measuring) · tokens: 51,234 · time: 1m 15s',
    );
    expect(text).toContain('Review and edit the draft, then: verbatim classify survey.xlsx --column E2');
  });
});

describe('codeframeProgressLine', () => {
  const progress = (patch: Partial<Parameters<typeof describeCodeframeProgress>[0]>): CodeframeProgress =>
    describeCodeframeProgress({
      codeframeId: 'cf-1',
      fileName: 'survey.xlsx',
      column: 'E2',
      phase: 'extracting',
      plan: undefined,
      counters: ZERO_CODEFRAME_COUNTERS,
      themes: 0,
      mergeRound: 0,
      measureBatches: 0,
      inFlight: 2,
      window: { size: 5, max: 5 },
      startedAt: 0,
      now: 4_000,
      ...patch,
    });

  it('says the phase and what is done of it', () => {
    const plan = {
      sheet: 'Data',
      header: 'E2',
      question: 'Why?',
      rows: { total: 10, empty: 0, invalid: 0, coded: 0, classify: 10 },
      uniqueAnswers: 10,
      chosen: 10,
      sampled: false,
      chunks: 7,
      measureRows: 10,
      estimatedTokens: 1,
      simulated: false,
    };
    const counters = {
      ...ZERO_CODEFRAME_COUNTERS,
      chunksDone: 3,
      themesExtracted: 45,
      calls: { extract: 5, merge: 0, measure: 0 },
      promptTokens: 12_000,
      completionTokens: 345,
    };
    expect(codeframeProgressLine(progress({ plan, counters }))).toBe(
      'extracting · chunks 3/7 (2 in flight) · 45 themes · 5 calls · 12,345 tokens · 4s',
    );
    expect(
      codeframeProgressLine(
        progress({ plan, counters, phase: 'measuring', themes: 12, mergeRound: 1, measureBatches: 8 }),
      ),
    ).toBe(
      'measuring · chunks 3/7 · 12 themes · merge round 1 · measuring 0/8 · 5 calls · 12,345 tokens · 4s',
    );
  });
});
