import { describe, expect, it } from 'vitest';
import { addCost, costOf, formatDollars, priceFor } from '../../domain/prices.js';

describe('priceFor', () => {
  it('knows the listed models, and dated snapshots of them', () => {
    expect(priceFor('gpt-4o-mini')).toMatchObject({ input: 0.15, cachedInput: 0.075, output: 0.6 });
    expect(priceFor('gpt-4o-mini-2024-07-18')).toMatchObject({ input: 0.15, output: 0.6 });
    expect(priceFor('GPT-4.1-nano')).toMatchObject({ input: 0.1, output: 0.4 });
    // The gpt-4.1 family (the README's review model), as listed at PRICES_AS_OF.
    expect(priceFor('gpt-4.1')).toMatchObject({ input: 2, cachedInput: 0.5, output: 8 });
    expect(priceFor('gpt-4.1-2025-04-14')).toMatchObject({ input: 2, output: 8 });
    expect(priceFor('gpt-4.1-mini')).toMatchObject({ input: 0.4, cachedInput: 0.1, output: 1.6 });
    expect(priceFor('gpt-4.1-nano')).toMatchObject({ input: 0.1, cachedInput: 0.025, output: 0.4 });
    expect(priceFor('gpt-4.1-mini-2025-04-14')).toMatchObject({ input: 0.4, output: 1.6 });
  });

  it('halves every price in the Batch API; a cached batch price only where one is listed', () => {
    expect(priceFor('gpt-4o-mini')).toMatchObject({
      batchInput: 0.075,
      batchCachedInput: 0.075,
      batchOutput: 0.3,
    });
    expect(priceFor('gpt-5-nano')).toMatchObject({
      batchInput: 0.025,
      batchCachedInput: 0.0025,
      batchOutput: 0.2,
    });
  });

  it('does not guess for a model it does not know', () => {
    expect(priceFor('llama-3-70b')).toBeUndefined();
    expect(priceFor('gpt-4o')).toBeUndefined();
    expect(priceFor('gpt-4o-mini-tts')).toBeUndefined();
    expect(priceFor('llama-3-70b', { input: 0.5 })).toBeUndefined();
  });

  it("takes the operator's prices, for any model, and charges cached tokens as input then", () => {
    const price = priceFor('llama-3-70b', { input: 0.5, output: 1.5 });
    expect(price).toMatchObject({
      input: 0.5,
      cachedInput: 0.5,
      output: 1.5,
      batchInput: 0.25,
      batchOutput: 0.75,
    });
    expect(price?.source).toMatch(/OPENAI_PRICE_INPUT/);
    expect(priceFor('gpt-4o-mini', { output: 1 })).toMatchObject({
      input: 0.15,
      cachedInput: 0.075,
      output: 1,
    });
  });
});

describe('costOf', () => {
  const price = priceFor('gpt-4o-mini')!;

  it('charges uncached input, cached input and output at their prices', () => {
    // 1M prompt tokens of which 400k cached, 200k output: 0.6 × 0.15 + 0.4 × 0.075 + 0.2 × 0.6.
    const cost = costOf({ prompt: 1_000_000, cached: 400_000, completion: 200_000 }, price, 'sync');
    expect(cost.input).toBeCloseTo(0.09, 10);
    expect(cost.cached).toBeCloseTo(0.03, 10);
    expect(cost.output).toBeCloseTo(0.12, 10);
    expect(cost.total).toBeCloseTo(0.24, 10);
  });

  it('costs half in the Batch API for a model without a cached batch price', () => {
    const tokens = { prompt: 1_000_000, cached: 0, completion: 200_000 };
    expect(costOf(tokens, price, 'batch').total).toBeCloseTo(costOf(tokens, price, 'sync').total / 2, 10);
  });

  it('never counts more cached tokens than prompt tokens', () => {
    expect(costOf({ prompt: 10, cached: 50, completion: 0 }, price, 'sync').input).toBe(0);
  });

  it('adds up', () => {
    const a = costOf({ prompt: 100, cached: 0, completion: 10 }, price, 'sync');
    expect(addCost(a, a).total).toBeCloseTo(2 * a.total, 12);
  });
});

describe('formatDollars', () => {
  it('keeps four digits for small sums and two otherwise', () => {
    expect(formatDollars(0.0123)).toBe('$0.0123');
    expect(formatDollars(1.239)).toBe('$1.24');
    expect(formatDollars(1234.5)).toBe('$1,234.50');
    expect(formatDollars(0)).toBe('$0.00');
  });
});
