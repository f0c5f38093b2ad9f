import { describe, expect, it } from 'vitest';

import type { WorkflowHandle } from '@temporalio/client';
import { formatCount, formatDuration, progressFraction, progressLine, statsBlock } from '../../cli/format.js';
import { watchProgress } from '../../cli/watch.js';
import type { JobProgress, JobStats } from '../../domain/job.js';
import { ZERO_COUNTERS } from '../../domain/job.js';
import { jobCost, jobTokens } from '../../domain/cost.js';
import { priceFor } from '../../domain/prices.js';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.4, '0s'],
    [59, '59s'],
    [59.6, '1m 00s'],
    [65, '1m 05s'],
    [600, '10m 00s'],
    [3_599, '59m 59s'],
    [3_600, '1h 00m'],
    [3_725, '1h 02m'],
    [90_000, '25h 00m'],
    [-5, '0s'],
  ])('%f s → %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

function progress(over: Partial<JobProgress> = {}): JobProgress {
  return {
    jobId: 'job-1',
    phase: 'classifying',
    paused: false,
    simulated: false,
    fileName: 'survey.xlsx',
    column: 'B',
    rows: {
      total: 2_482,
      done: 1_290,
      empty: 10,
      invalid: 5,
      alreadyCoded: 0,
      toClassify: 2_467,
      classified: 1_275,
      fallback: 0,
    },
    uniqueAnswers: 2_000,
    batches: { total: 249, done: 129, inFlight: 5, fallback: 0 },
    window: { size: 5, max: 5 },
    ratePerMinute: 775.4,
    etaSeconds: 65,
    elapsedSeconds: 100,
    tokens: { prompt: 0, completion: 0, cached: 0, total: 0 },
    apiCalls: 130,
    rateLimited: 0,
    fallbackReasons: {},
    startedAt: '2025-01-01T12:00:00.000Z',
    updatedAt: '2025-01-01T12:01:40.000Z',
    ...over,
  };
}

const bar = (line: string) => /^\[([█░]*)\]/.exec(line)?.[1] ?? '';

describe('progressLine', () => {
  it('shows bar, percent, rows, rate, ETA, batches and fallbacks', () => {
    expect(progressLine(progress())).toBe(
      `[${'█'.repeat(12)}${'░'.repeat(12)}]  51% 1,290/2,482 rows · 775/min · ETA 1m 05s · batches 129/249 (5 in flight) · 0 fallbacks`,
    );
  });

  it("while a Batch API round runs, shows its batches' state and request counts instead of a rate", () => {
    const batches = [
      { id: 'batch_a', status: 'in_progress', total: 1_000, completed: 430, failed: 3 },
      { id: 'batch_b', status: 'validating', total: 500, completed: 0, failed: 0 },
    ];
    const waiting = progress({
      batchApi: {
        round: 1,
        stage: 'waiting',
        batches,
        requests: { total: 1_500, completed: 430, failed: 3 },
        linesCoded: 0,
        linesSent: 1_500,
        note: 'queue full (token_limit_exceeded): sent again later.',
      },
    });
    const line = progressLine(waiting);
    expect(line).toContain(
      ' rows · Batch API round 1: in_progress/validating 430/1,500 (3 failed) · queue full (token_limit_exceeded)',
    );
    expect(line).not.toContain('/min');
    const direct = progress({ batchApi: { ...waiting.batchApi!, stage: 'synchronous' } });
    expect(progressLine(direct)).toContain('775/min · ETA 1m 05s');
  });

  it('draws a bar of the given width, filled in proportion', () => {
    for (const width of [10, 24, 40]) {
      expect(bar(progressLine(progress(), width))).toHaveLength(width);
    }
    const quarter = progress({ rows: { ...progress().rows, total: 100, done: 25 } });
    expect(bar(progressLine(quarter, 20))).toBe(`${'█'.repeat(5)}${'░'.repeat(15)}`);
    expect(progressLine(quarter, 20)).toContain(' 25% ');
    const full = progress({ phase: 'done', rows: { ...progress().rows, total: 100, done: 100 } });
    expect(bar(progressLine(full, 20))).toBe('█'.repeat(20));
    expect(progressLine(full, 20)).toContain('100%');
  });

  it('never shows 100 % before the last row', () => {
    const almost = progress({ rows: { ...progress().rows, total: 1_000, done: 999 } });
    expect(progressLine(almost)).toContain(' 99%');
  });

  it('shows the window only when it is narrowed', () => {
    expect(progressLine(progress())).not.toContain('window');
    expect(progressLine(progress({ window: { size: 2, max: 5 } }))).toContain('window 2/5');
  });

  it('shows 429s, PAUSED and a singular fallback', () => {
    const line = progressLine(
      progress({
        rateLimited: 3,
        paused: true,
        batches: { total: 249, done: 129, inFlight: 0, fallback: 1 },
      }),
    );
    expect(line).toContain('3×429');
    expect(line).toContain('1 fallback');
    expect(line).not.toContain('1 fallbacks');
    expect(line.endsWith('PAUSED')).toBe(true);
    expect(progressLine(progress())).not.toMatch(/429|PAUSED/);
  });

  it('omits the ETA when unknown, and shows the phase outside classification', () => {
    expect(progressLine(progress({ etaSeconds: null }))).not.toContain('ETA');
    const preparing = progressLine(progress({ phase: 'preparing' }));
    expect(preparing).toContain('preparing');
    expect(preparing).not.toMatch(/\/min|ETA|batches/);
  });

  it('says "cost unknown" only for a model without a price, nothing while the plan (and price) is not known', () => {
    const tokens = jobTokens(ZERO_COUNTERS);
    const price = priceFor('gpt-4o-mini');
    expect(price).toBeDefined();
    // Preparing: the workflow has no plan yet, so no price, whatever the model.
    const unplanned = jobCost(tokens, undefined);
    const preparing = progressLine(progress({ phase: 'preparing', cost: unplanned }));
    expect(preparing).not.toContain('cost unknown');
    expect(preparing).not.toContain('$');
    expect(preparing).toMatch(/preparing · 0 fallbacks$/);
    const capped = jobCost(tokens, undefined, { maxCost: 2, capReached: false, nextRequest: undefined });
    expect(progressLine(progress({ phase: 'preparing', cost: capped }))).toMatch(/ · cap \$2\.00$/);
    // Planned, a priced model: its cost from $0 on; a model without a price: "cost unknown".
    expect(progressLine(progress({ cost: jobCost(tokens, { price }) }))).toMatch(/ · \$0\.00$/);
    expect(progressLine(progress({ cost: jobCost(tokens, undefined) }))).toMatch(/ · cost unknown$/);
    expect(progressLine(progress({ phase: 'done', cost: jobCost(tokens, undefined) }))).toMatch(
      / · cost unknown$/,
    );
    // A review model without a price: the first pass's cost still shows, the review's is said unknown.
    const reviewed = jobTokens({ ...ZERO_COUNTERS, promptTokens: 1_000_000, reviewPromptTokens: 1_000 });
    expect(progressLine(progress({ phase: 'done', cost: jobCost(reviewed, { price }) }))).toMatch(
      / · \$0\.15 \+ review cost unknown$/,
    );
  });

  it('counts an empty finished job as complete', () => {
    const empty = progress({ phase: 'done', rows: { ...progress().rows, total: 0, done: 0 } });
    expect(progressFraction(empty)).toBe(1);
    expect(progressFraction(progress({ rows: { ...progress().rows, total: 0, done: 0 } }))).toBe(0);
  });
});

describe('statsBlock', () => {
  const stats: JobStats = {
    totalSeconds: 125,
    classifySeconds: 110,
    ratePerMinute: 1_234.6,
    speedup: 4.26,
    sequentialEstimateSeconds: 468,
    apiCalls: 1_305,
    rateLimited: 12,
    tokens: 987_654,
    fallbackBatches: 2,
    fallbackRows: 17,
  };
  const output = '/home/me/survey.coded.xlsx';

  it('shows rate, speedup, API calls, tokens, fallbacks and the output path', () => {
    const text = statsBlock(stats, progress(), output, false);
    expect(text).toContain('1,235 responses/minute');
    expect(text).toContain('4.3×');
    expect(text).toContain('(7m 48s)');
    expect(text).toContain('1,305 (12 rate-limited)');
    expect(text).toContain('987,654');
    expect(text).toContain('2 batches, 17 rows');
    expect(text).toContain('reasons in the Run sheet');
    expect(text).toContain(output);
    expect(text).toContain('Coded 1,275 answers (2,000 unique) of 2,482 rows');
    expect(text).toContain('2m 05s');
    expect(text).not.toContain('SIMULATED');
  });

  it('marks a simulated run', () => {
    expect(statsBlock(stats, progress(), output, true)).toMatch(/SIMULATED/);
  });

  it('does not point to the Run sheet without fallbacks', () => {
    const text = statsBlock({ ...stats, fallbackBatches: 0, fallbackRows: 0 }, progress(), output, false);
    expect(text).not.toContain('reasons in the Run sheet');
  });
});

describe('formatCount', () => {
  it('groups thousands', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
  });
});

describe('watchProgress', () => {
  /** A job that reports rows done 0, 10, … 100 of 100, one step per query, then ends. */
  function job() {
    let step = 0;
    let end: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (end = resolve));
    const handle = {
      query: () => {
        const p = progress({ rows: { ...progress().rows, total: 100, done: Math.min(step, 10) * 10 } });
        step += 1;
        if (step > 11) end();
        return Promise.resolve(p);
      },
    } as unknown as WorkflowHandle;
    return { handle, done };
  }
  function stream(isTTY: boolean) {
    const written: string[] = [];
    const s = { isTTY, columns: 80, write: (text: string) => written.push(text) > 0 };
    return { s: s as unknown as NodeJS.WriteStream, written };
  }

  it('redraws one line in place on a terminal, cut to its width, and ends it', async () => {
    const { handle, done } = job();
    const { s, written } = stream(true);
    const last = await watchProgress(handle, s, done);
    expect(last?.rows.done).toBe(100);
    const draws = written.filter((w) => w.startsWith('\r\x1b[2K'));
    expect(draws.length).toBeGreaterThanOrEqual(11);
    for (const d of draws) expect(d.length - '\r\x1b[2K'.length).toBeLessThanOrEqual(79);
    expect(draws.some((d) => d.includes('100%'))).toBe(true);
    expect(written.at(-1)).toBe('\n');
  }, 20_000);

  it('writes plain lines, one per tenth of the way, to a file or pipe', async () => {
    const { handle, done } = job();
    const { s, written } = stream(false);
    await watchProgress(handle, s, done);
    expect(written.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(written.map((w) => /(\d+)%/.exec(w)?.[1])).toEqual([
      '0',
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
      '100',
    ]);
  }, 30_000);
});
