import { describe, expect, it } from 'vitest';

import type { BatchOutcome, JobCounters, JobOptions, JobPlan, ProgressInput } from '../../domain/job.js';
import {
  ZERO_COUNTERS,
  addFallback,
  addOutcome,
  addSalvage,
  computeStats,
  describeProgress,
  effectiveWindow,
} from '../../domain/job.js';
import { initialWindow } from '../../domain/rate.js';

const outcome = (over: Partial<BatchOutcome> = {}): BatchOutcome => ({
  index: 0,
  answers: 8,
  rows: 10,
  usage: { prompt: 500, completion: 80, cached: 128 },
  apiCalls: 1,
  latencyMs: 2_000,
  reused: false,
  ...over,
});

describe('counters', () => {
  it('addOutcome adds a batch’s rows, calls, tokens and latency', () => {
    let c = addOutcome(ZERO_COUNTERS, outcome());
    c = addOutcome(
      c,
      outcome({ rows: 5, apiCalls: 3, usage: { prompt: 100, completion: 20, cached: 0 }, latencyMs: 500 }),
    );
    expect(c).toEqual({
      ...ZERO_COUNTERS,
      batchesDone: 2,
      rowsClassified: 15,
      apiCalls: 4,
      promptTokens: 600,
      completionTokens: 100,
      cachedTokens: 128,
      sequentialMs: 2_500,
    });
  });

  it('addFallback counts the batch done, its rows classified and fallen back, and the calls it cost', () => {
    const before = addOutcome(ZERO_COUNTERS, outcome());
    const c = addFallback(before, { index: 3, rows: 7 }, 10);
    expect(c).toEqual({
      ...before,
      batchesDone: 2,
      batchesFallback: 1,
      rowsClassified: 17,
      rowsFallback: 7,
      apiCalls: 11,
    });
  });

  it('addSalvage counts the salvage, its requests, and a batch with answers fallen back alone as a fallback batch', () => {
    const before = addOutcome(ZERO_COUNTERS, outcome({ apiCalls: 3 }));
    const salvaged = addSalvage(before, { index: 0, rows: 10, answersFallback: 2, rowsFallback: 3 }, 2);
    expect(salvaged).toEqual({
      ...before,
      batchesSalvaged: 1,
      salvageCalls: 2,
      answersFallback: 2,
      batchesFallback: 1,
      rowsFallback: 3,
    });
    // All its bad answers recovered: salvaged, no fallback.
    const recovered = addSalvage(before, { index: 0, rows: 10, answersFallback: 0, rowsFallback: 0 }, 1);
    expect(recovered).toEqual({ ...before, batchesSalvaged: 1, salvageCalls: 1 });
  });

  it('does not mutate its input', () => {
    const frozen = Object.freeze({ ...ZERO_COUNTERS });
    addOutcome(frozen, outcome());
    addFallback(frozen, { index: 0, rows: 1 }, 1);
    expect(frozen).toEqual(ZERO_COUNTERS);
  });
});

const PLAN: JobPlan = {
  sheet: 'Sheet1',
  header: 'Answer',
  headerRow: 1,
  column: 'B',
  categoryColumn: 'C',
  categoryHeader: 'Category',
  question: 'Why?',
  rows: { total: 1_000, empty: 50, invalid: 30, coded: 20, classify: 900 },
  uniqueAnswers: 600,
  batches: 60,
  estimatedTokens: 100_000,
  simulated: true,
};

const START = Date.UTC(2025, 0, 1, 12, 0, 0);

function progressInput(over: Partial<ProgressInput> = {}): ProgressInput {
  return {
    jobId: 'job-1',
    fileName: 'survey.xlsx',
    column: 'B',
    phase: 'classifying',
    paused: false,
    plan: PLAN,
    counters: {
      ...ZERO_COUNTERS,
      rowsClassified: 300,
      batchesDone: 20,
      rowsFallback: 10,
      batchesFallback: 1,
    },
    inFlight: 3,
    window: initialWindow(5),
    fallbackReasons: { rate_limited: 1 },
    startedAt: START,
    classifyStartedAt: START + 10_000,
    now: START + 10_000 + 60_000,
    ...over,
  };
}

describe('describeProgress', () => {
  it('says whether the job is a dry run against the simulator, from the plan', () => {
    expect(describeProgress(progressInput()).simulated).toBe(true);
    expect(describeProgress({ ...progressInput(), plan: { ...PLAN, simulated: false } }).simulated).toBe(
      false,
    );
    expect(describeProgress({ ...progressInput(), plan: undefined }).simulated).toBe(false);
  });

  it('says simulated once any batch was answered by the simulator, whatever the plan said', () => {
    const real = { ...progressInput(), plan: { ...PLAN, simulated: false } };
    const counters = addOutcome(real.counters, { ...outcome(), simulated: true });
    expect(counters.batchesSimulated).toBe(real.counters.batchesSimulated + 1);
    expect(describeProgress({ ...real, counters }).simulated).toBe(true);
    expect(addOutcome(real.counters, outcome()).batchesSimulated).toBe(real.counters.batchesSimulated);
  });

  it('counts rows done as empty + invalid + already coded + classified', () => {
    const p = describeProgress(progressInput());
    expect(p.rows).toEqual({
      total: 1_000,
      done: 50 + 30 + 20 + 300,
      empty: 50,
      invalid: 30,
      alreadyCoded: 20,
      toClassify: 900,
      classified: 300,
      fallback: 10,
    });
  });

  it('computes the rate per minute since classification began and the ETA from it', () => {
    // 300 rows in 60 s → 300/min; 600 left → 120 s.
    const p = describeProgress(progressInput());
    expect(p.ratePerMinute).toBe(300);
    expect(p.etaSeconds).toBe(120);
    expect(p.elapsedSeconds).toBe(70);
    // Twice the time for the same rows: half the rate, twice the ETA.
    const slower = describeProgress(progressInput({ now: START + 10_000 + 120_000 }));
    expect(slower.ratePerMinute).toBe(150);
    expect(slower.etaSeconds).toBe(240);
  });

  it('rounds the ETA up to whole seconds', () => {
    // 7 rows in 60 s; 893 left → 7654.28… s.
    const p = describeProgress(progressInput({ counters: { ...ZERO_COUNTERS, rowsClassified: 7 } }));
    expect(p.etaSeconds).toBe(7_655);
  });

  it('has no ETA (null) before any rate is known', () => {
    expect(describeProgress(progressInput({ counters: ZERO_COUNTERS })).etaSeconds).toBeNull();
    const notStarted = describeProgress(progressInput({ classifyStartedAt: undefined, phase: 'preparing' }));
    expect(notStarted.etaSeconds).toBeNull();
    expect(notStarted.ratePerMinute).toBe(0);
  });

  it.each(['done', 'cancelled', 'failed'] as const)('ETA is 0 once %s', (phase) => {
    expect(describeProgress(progressInput({ phase })).etaSeconds).toBe(0);
    expect(describeProgress(progressInput({ phase, counters: ZERO_COUNTERS })).etaSeconds).toBe(0);
  });

  it('ETA is 0 when every row is classified', () => {
    const counters: JobCounters = { ...ZERO_COUNTERS, rowsClassified: 900 };
    expect(describeProgress(progressInput({ counters })).etaSeconds).toBe(0);
  });

  it('reports batches, window, tokens and times', () => {
    const counters: JobCounters = {
      ...ZERO_COUNTERS,
      batchesDone: 20,
      batchesFallback: 2,
      promptTokens: 1_000,
      completionTokens: 200,
      cachedTokens: 50,
      apiCalls: 25,
      rateLimited: 4,
    };
    const p = describeProgress(
      progressInput({ counters, window: { size: 2, max: 5, streak: 0, cooldown: 1 } }),
    );
    expect(p.batches).toEqual({ total: 60, done: 20, inFlight: 3, fallback: 2 });
    expect(p.window).toEqual({ size: 2, max: 5 });
    expect(p.tokens).toEqual({ prompt: 1_000, completion: 200, cached: 50, total: 1_200 });
    expect(p.apiCalls).toBe(25);
    expect(p.rateLimited).toBe(4);
    expect(p.startedAt).toBe('2025-01-01T12:00:00.000Z');
    expect(p.updatedAt).toBe('2025-01-01T12:01:10.000Z');
  });

  it('reports zeros before the plan exists', () => {
    const p = describeProgress(
      progressInput({
        plan: undefined,
        phase: 'preparing',
        classifyStartedAt: undefined,
        counters: ZERO_COUNTERS,
      }),
    );
    expect(p.rows.total).toBe(0);
    expect(p.rows.done).toBe(0);
    expect(p.uniqueAnswers).toBe(0);
    expect(p.batches.total).toBe(0);
  });
});

describe('computeStats', () => {
  const counters: JobCounters = {
    ...ZERO_COUNTERS,
    rowsClassified: 1_200,
    sequentialMs: 240_000,
    apiCalls: 130,
    rateLimited: 7,
    promptTokens: 50_000,
    completionTokens: 8_000,
    batchesFallback: 2,
    rowsFallback: 15,
  };

  it('computes speedup as the sequential estimate over the classification time', () => {
    // Classification took 60 s; requests summed to 240 s.
    const s = computeStats(counters, START, START + 5_000, START + 65_000, START + 70_000);
    expect(s).toEqual({
      totalSeconds: 70,
      classifySeconds: 60,
      ratePerMinute: 1_200,
      speedup: 4,
      sequentialEstimateSeconds: 240,
      apiCalls: 130,
      rateLimited: 7,
      tokens: 58_000,
      fallbackBatches: 2,
      fallbackRows: 15,
    });
  });

  it('rounds speedup to two decimals and is 0 without any latency', () => {
    const s = computeStats(
      { ...counters, sequentialMs: 100_000 },
      START,
      START,
      START + 30_000,
      START + 30_000,
    );
    expect(s.speedup).toBe(3.33);
    expect(computeStats(ZERO_COUNTERS, START, START, START + 1_000, START + 1_000).speedup).toBe(0);
  });

  it('survives a zero-length classification', () => {
    const s = computeStats(ZERO_COUNTERS, START, START, START, START);
    expect(Number.isFinite(s.ratePerMinute)).toBe(true);
    expect(Number.isFinite(s.speedup)).toBe(true);
  });
});

describe('effectiveWindow', () => {
  const options: JobOptions = {
    model: 'gpt-4o-mini',
    temperature: 0.1,
    batchSize: 10,
    batchTokenTarget: 3_000,
    parallel: true,
    maxWorkers: 5,
    minResponsesForParallel: 100,
    rateLimitDelayMs: 100,
    retry: {
      maximumAttempts: 10,
      initialIntervalMs: 1_000,
      maximumIntervalMs: 60_000,
      heartbeatTimeoutMs: 15_000,
    },
  };

  it('is maxWorkers with parallel processing on and enough answers', () => {
    expect(effectiveWindow(options, 100)).toBe(5);
    expect(effectiveWindow(options, 10_000)).toBe(5);
    expect(effectiveWindow({ ...options, maxWorkers: 12 }, 500)).toBe(12);
  });

  it('is 1 below PARALLEL_MIN_RESPONSES', () => {
    expect(effectiveWindow(options, 99)).toBe(1);
    expect(effectiveWindow(options, 0)).toBe(1);
  });

  it('is 1 with parallel processing off', () => {
    expect(effectiveWindow({ ...options, parallel: false }, 10_000)).toBe(1);
  });
});
