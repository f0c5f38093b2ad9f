import { describe, expect, it } from 'vitest';

import type { AutoBatchOptions } from '../../domain/batching.js';
import {
  MAX_BATCH_SIZE,
  cutByTokens,
  cutFixed,
  estimateBatchTokens,
  parseBatchSize,
} from '../../domain/batching.js';
import { InvalidSettingError } from '../../domain/errors.js';

describe('parseBatchSize', () => {
  it('accepts "auto"', () => {
    expect(parseBatchSize('auto')).toBe('auto');
  });

  it.each([
    ['1', 1],
    ['10', 10],
    [' 25 ', 25],
    [String(MAX_BATCH_SIZE), MAX_BATCH_SIZE],
    [7, 7],
  ])('accepts %j as %i', (value, expected) => {
    expect(parseBatchSize(value)).toBe(expected);
  });

  it.each([
    '0',
    '-1',
    String(MAX_BATCH_SIZE + 1),
    '1.5',
    'abc',
    '',
    '  ',
    '10 answers',
    'Auto',
    0,
    2.5,
    Number.NaN,
  ])('rejects %j with InvalidSettingError on BATCH_SIZE', (value) => {
    let error: unknown;
    try {
      parseBatchSize(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidSettingError);
    expect((error as InvalidSettingError).setting).toBe('BATCH_SIZE');
    expect((error as InvalidSettingError).field).toBe('BATCH_SIZE');
  });
});

describe('cutFixed', () => {
  it('cuts in order, the last batch holding the rest', () => {
    expect(cutFixed([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(cutFixed([1, 2, 3, 4], 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(cutFixed([1, 2], 10)).toEqual([[1, 2]]);
    expect(cutFixed([], 10)).toEqual([]);
  });
});

/** Items with deterministic pseudo-random lengths: short answers mostly, a few long ones. */
function makeItems(count: number, seed = 1): Array<{ id: number; text: string }> {
  let s = seed;
  const random = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: count }, (_, id) => {
    const length = random() < 0.05 ? 200 + Math.floor(random() * 600) : 1 + Math.floor(random() * 80);
    return { id, text: 'x'.repeat(length) };
  });
}

const OPTIONS: AutoBatchOptions = {
  tokenTarget: 1_000,
  fixedTokens: 300,
  completionTokensPerItem: 20,
  maxItems: 50,
  countTokens: (text) => Math.ceil(text.length / 2),
};

describe('cutByTokens', () => {
  const items = makeItems(500);
  const batches = cutByTokens(items, OPTIONS);

  it('keeps every item exactly once, in order', () => {
    expect(batches.flat()).toEqual(items);
  });

  it('keeps every batch within the token target, except a single oversized item alone', () => {
    for (const batch of batches) {
      const estimate = estimateBatchTokens(batch, OPTIONS);
      if (batch.length > 1) expect(estimate).toBeLessThanOrEqual(OPTIONS.tokenTarget);
      else if (estimate > OPTIONS.tokenTarget) expect(batch).toHaveLength(1);
    }
  });

  it('fills batches: no batch could have taken the next batch’s first item', () => {
    for (let b = 0; b + 1 < batches.length; b += 1) {
      const current = batches[b] ?? [];
      const next = batches[b + 1] ?? [];
      const grown = [...current, ...next.slice(0, 1)];
      const fits =
        estimateBatchTokens(grown, OPTIONS) <= OPTIONS.tokenTarget && grown.length <= OPTIONS.maxItems;
      expect(fits, `batch ${b}`).toBe(false);
    }
  });

  it('never puts more than maxItems in a batch', () => {
    const tiny = Array.from({ length: 95 }, (_, id) => ({ id, text: 'a' }));
    const cut = cutByTokens(tiny, { ...OPTIONS, tokenTarget: 1_000_000, maxItems: 20 });
    expect(cut.map((b) => b.length)).toEqual([20, 20, 20, 20, 15]);
  });

  it('sends an answer too long for any request alone, between its neighbours', () => {
    const list = [
      { id: 0, text: 'short' },
      { id: 1, text: 'short' },
      { id: 2, text: 'y'.repeat(5_000) },
      { id: 3, text: 'short' },
    ];
    expect(cutByTokens(list, OPTIONS).map((b) => b.map((i) => i.id))).toEqual([[0, 1], [2], [3]]);
  });

  it('returns no batch for no items', () => {
    expect(cutByTokens([], OPTIONS)).toEqual([]);
  });

  it('estimateBatchTokens counts the fixed part once and each item with its overhead and output', () => {
    const one = estimateBatchTokens([{ text: 'abcd' }], OPTIONS);
    const two = estimateBatchTokens([{ text: 'abcd' }, { text: 'abcd' }], OPTIONS);
    expect(estimateBatchTokens([], OPTIONS)).toBe(OPTIONS.fixedTokens);
    expect(two - one).toBe(one - OPTIONS.fixedTokens);
    expect(one - OPTIONS.fixedTokens).toBeGreaterThan(2 + OPTIONS.completionTokensPerItem);
  });
});
