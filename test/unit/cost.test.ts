import { describe, expect, it } from 'vitest';
import {
  billedPromptTokens,
  formatCost,
  formatJobCost,
  jobCost,
  jobTokens,
  maxCostProblem,
  requestCeiling,
  spentSoFar,
  withinCap,
} from '../../domain/cost.js';
import { ZERO_COUNTERS, addBatchApiUsage } from '../../domain/job.js';
import { priceFor } from '../../domain/prices.js';
import { runRows } from '../../domain/report.js';

const price = priceFor('gpt-4o-mini');
if (!price) throw new Error('gpt-4o-mini has no price');

/** A Run sheet's fields but its cost. */
const runBase = {
  jobId: 'job-1',
  fileName: 'survey.xlsx',
  sheet: 'Data',
  column: 'E',
  header: 'E2',
  question: 'Why?',
  model: 'gpt-4o-mini',
  temperature: 0.1,
  batchSize: 50,
  concurrency: 5,
  parallel: true,
  simulated: false,
  endpoint: 'https://api.openai.com/v1',
  startedAt: '2026-12-07T08:00:00Z',
  endedAt: '2026-12-07T08:01:00Z',
  stats: {
    totalSeconds: 60,
    classifySeconds: 50,
    ratePerMinute: 100,
    speedup: 2,
    sequentialEstimateSeconds: 100,
    apiCalls: 10,
    rateLimited: 0,
    tokens: 1_100_000,
    fallbackBatches: 0,
    fallbackRows: 0,
  },
  promptTokens: 1_000_000,
  cachedTokens: 0,
  completionTokens: 100_000,
  partial: false,
  fallbacks: [],
};

describe('jobCost', () => {
  it('prices synchronous tokens and Batch API lines apart, the batch ones at half price', () => {
    const counters = addBatchApiUsage(
      { ...ZERO_COUNTERS, promptTokens: 1_000_000, cachedTokens: 200_000, completionTokens: 100_000 },
      { prompt: 1_000_000, cached: 0, completion: 100_000 },
    );
    const cost = jobCost(jobTokens(counters), { price });
    // 800k uncached × 0.15 + 200k cached × 0.075 + 100k output × 0.60, per million.
    expect(cost.sync?.total).toBeCloseTo(0.12 + 0.015 + 0.06, 10);
    expect(cost.batch?.total).toBeCloseTo((0.15 + 0.06) / 2, 10);
    expect(cost.total).toBeCloseTo((cost.sync?.total ?? 0) + (cost.batch?.total ?? 0), 10);
    expect(cost.priceSource).toMatch(/2026-08/);
  });

  it("prices the review model's requests at its own price, in the total", () => {
    const reviewPrice = priceFor('gpt-4.1-mini');
    const counters = {
      ...ZERO_COUNTERS,
      promptTokens: 1_000_000,
      completionTokens: 100_000,
      reviewPromptTokens: 100_000,
      reviewCachedTokens: 50_000,
      reviewCompletionTokens: 10_000,
    };
    const cost = jobCost(jobTokens(counters), { price, reviewPrice });
    // 50k uncached × 0.40 + 50k cached × 0.10 + 10k output × 1.60, per million.
    expect(cost.review?.total).toBeCloseTo(0.02 + 0.005 + 0.016, 10);
    expect(cost.total).toBeCloseTo(0.15 + 0.06 + 0.041, 10);
    expect(spentSoFar(jobTokens(counters), { price, reviewPrice })).toBeCloseTo(cost.total ?? 0, 12);
    const rows = runRows({ ...runBase, cost });
    expect(rows.find((r) => r[0] === 'Cost of output tokens, review model (USD)')?.[1]).toBeCloseTo(0.016, 6);

    // No price for the review model: the total is unknown, never a guess; the cap counts what it can price.
    const unknown = jobCost(jobTokens(counters), { price });
    expect(unknown).toMatchObject({ total: null, review: null });
    expect(unknown.sync?.total).toBeCloseTo(0.21, 10);
    expect(spentSoFar(jobTokens(counters), { price })).toBeCloseTo(0.21, 10);
    const unknownRows = runRows({ ...runBase, cost: unknown });
    expect(unknownRows.find((r) => r[0] === 'Cost (USD)')?.[1]).toBe('cost unknown');
    expect(unknownRows.find((r) => r[0] === 'Cost of the review model (USD)')?.[1]).toBe('cost unknown');
    // The CLI still shows what the first pass cost, and says only the review's part is unknown.
    expect(formatJobCost(unknown)).toBe('$0.21 + review cost unknown');
    expect(formatJobCost(cost)).toBe('$0.25');
    expect(formatJobCost(jobCost(jobTokens(counters), undefined))).toBe('cost unknown');

    // A review model without a price that sent nothing changes nothing.
    const none = jobCost(
      jobTokens({ ...counters, reviewPromptTokens: 0, reviewCachedTokens: 0, reviewCompletionTokens: 0 }),
      { price },
    );
    expect(none.total).toBeCloseTo(0.21, 10);
    expect(none.review).toBeNull();
  });

  it('is unknown (null), not zero, for a model without a price', () => {
    const cost = jobCost(jobTokens({ ...ZERO_COUNTERS, promptTokens: 500 }), {
      price: priceFor('llama-3-70b'),
    });
    expect(cost).toMatchObject({ total: null, sync: null, batch: null, priceSource: null });
    expect(formatCost(cost.total)).toBe('cost unknown');
    expect(formatCost(0.01234)).toBe('$0.0123');
  });
});

describe('the cap', () => {
  it('counts a request at its ceiling: every prompt token uncached, all the output allowed', () => {
    expect(requestCeiling(1_000, 100, price)).toBeCloseTo((1_000 * 0.15 + 100 * 0.6) / 1e6, 15);
    expect(requestCeiling(1_000, 100, price, 'batch')).toBeCloseTo((1_000 * 0.075 + 100 * 0.3) / 1e6, 15);
  });

  it('lets a request go while spent, in flight and its ceiling stay within the cap', () => {
    expect(withinCap(0.5, 0.2, 0.3, 1)).toBe(true);
    expect(withinCap(0.5, 0.2, 0.31, 1)).toBe(false);
    expect(withinCap(0.1 + 0.2, 0, 0.7, 1)).toBe(true); // float sums that reach the cap exactly
    expect(withinCap(100, 100, 100, undefined)).toBe(true);
  });

  it('takes only a positive number of dollars, and says what it got', () => {
    expect(maxCostProblem(5)).toBeUndefined();
    for (const bad of [0, -1, Number.NaN, Infinity, 2_000_000, '5', null]) {
      expect(maxCostProblem(bad), String(bad)).toMatch(/^maxCost must be a number of dollars above 0/);
    }
  });
});

describe('billedPromptTokens', () => {
  it('adds message framing and the schema without its required and additionalProperties', () => {
    const count = (text: string) => text.length;
    const messages = [{ content: 'abcd' }, { content: 'ef' }];
    expect(billedPromptTokens(count, messages, undefined)).toBe(3 + (4 + 4) + (2 + 4));
    const schema = { type: 'object', required: ['a'], additionalProperties: false };
    expect(billedPromptTokens(count, messages, schema)).toBe(
      3 + 8 + 6 + JSON.stringify({ type: 'object' }).length + 9,
    );
  });
});

describe('the Run sheet', () => {
  it('shows the total and its parts, the Batch API lines only when some were sent, and the cap', () => {
    const base = runBase;
    const tokens = jobTokens({ ...ZERO_COUNTERS, promptTokens: 1_000_000, completionTokens: 100_000 });
    const rows = runRows({
      ...base,
      cost: jobCost(tokens, { price }, { maxCost: 2, capReached: false, nextRequest: undefined }),
    });
    const value = (label: string) => rows.find((r) => r[0] === label)?.[1];
    expect(value('Cost (USD)')).toBeCloseTo(0.21, 6);
    expect(value('Cost of output tokens, synchronous (USD)')).toBeCloseTo(0.06, 6);
    expect(value('Cost cap (MAX_COST, USD)')).toBe(2);
    expect(rows.some((r) => String(r[0]).includes('Batch API'))).toBe(false);
    const unknown = runRows({ ...base, cost: jobCost(tokens, undefined) });
    expect(unknown.find((r) => r[0] === 'Cost (USD)')?.[1]).toBe('cost unknown');
  });
});
