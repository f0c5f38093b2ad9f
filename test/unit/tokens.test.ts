import { describe, expect, it } from 'vitest';

import {
  arrivalCharge,
  encodingForModel,
  estimateRequestTokens,
  tokenCounter,
} from '../../activities/tokens.js';
import { buildMessages } from '../../domain/prompt.js';

describe('encodingForModel', () => {
  it.each([
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4o-2024-08-06',
    'GPT-4O-MINI',
    'gpt-4.1',
    'gpt-4.1-nano',
    'gpt-5',
    'gpt-5-mini',
    'o1',
    'o3',
    'o4-mini',
    'some-future-model',
  ])('%s → o200k_base', (model) => {
    expect(encodingForModel(model)).toBe('o200k_base');
  });

  it.each([
    'gpt-4',
    'gpt-4-0613',
    'gpt-4-turbo',
    'gpt-4-32k',
    'gpt-3.5-turbo',
    'gpt-3.5-turbo-0125',
    'text-embedding-3-small',
  ])('%s → cl100k_base', (model) => {
    expect(encodingForModel(model)).toBe('cl100k_base');
  });
});

describe('tokenCounter', () => {
  it('counts with the model’s tokenizer, loaded once per encoding', async () => {
    const count = await tokenCounter('gpt-4o-mini');
    expect(count('hello world')).toBe(2);
    expect(await tokenCounter('gpt-4.1')).toBe(count);
    const old = await tokenCounter('gpt-3.5-turbo');
    expect(old).not.toBe(count);
    expect(old('hello world')).toBe(2);
  });
});

describe('estimateRequestTokens', () => {
  it('is never below chars / 4 plus the output ceiling, even with a counter that says 0', () => {
    const messages = [{ content: 'x'.repeat(4_000) }, { content: 'y'.repeat(1_001) }];
    expect(estimateRequestTokens(() => 0, messages, 300)).toBe(Math.ceil(5_001 / 4) + 300);
  });

  it('uses the real token count when it is higher, as for JSON-heavy text', async () => {
    const count = await tokenCounter('gpt-4o-mini');
    const items = Array.from({ length: 60 }, (_, i) => ({ id: String(i + 1), text: `é${i}!` }));
    const messages = buildMessages('Why?', [{ name: 'A' }, { name: 'B' }], items);
    const chars = messages.reduce((n, m) => n + m.content.length, 0);
    const real = messages.reduce((n, m) => n + count(m.content), 0);
    expect(real).toBeGreaterThan(chars / 4); // the premise: JSON punctuation is token-dense
    const estimate = estimateRequestTokens(count, messages, 500);
    expect(estimate).toBeGreaterThanOrEqual(real + 500);
    expect(estimate).toBeGreaterThan(Math.ceil(chars / 4) + 500);
    // Framing only: a few tokens per message, not a multiple of the text.
    expect(estimate - real - 500).toBeLessThanOrEqual(3 + 4 * messages.length);
  });

  it('grows with the output ceiling one for one', () => {
    const messages = [{ content: 'some prompt text' }];
    const count = (t: string) => t.split(' ').length;
    expect(estimateRequestTokens(count, messages, 1_000) - estimateRequestTokens(count, messages, 10)).toBe(
      990,
    );
  });
});

describe('arrivalCharge', () => {
  it('is what OpenAI takes at arrival: ~4 characters a prompt token plus the output ceiling', () => {
    const messages = [{ content: 'x'.repeat(4_000) }, { content: 'y'.repeat(1_001) }];
    expect(arrivalCharge(messages, 300)).toBe(1_251 + 300);
    // The estimate never reserves less than it, whatever the tokenizer says.
    expect(estimateRequestTokens(() => 1, messages, 300)).toBe(arrivalCharge(messages, 300));
  });
});

describe('counting long unbroken runs', () => {
  it('counts long runs (one letter, spaces, CJK) in slices, close to the exact count', async () => {
    const count = await tokenCounter('gpt-4o-mini');
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    const run = 'a'.repeat(4_096);
    // Exact for a short run; for a long one, at most a token or so per 256-character slice over.
    expect(count('short text')).toBe(countTokens('short text'));
    expect(count(run)).toBeGreaterThanOrEqual(countTokens(run));
    expect(count(run)).toBeLessThanOrEqual(countTokens(run) + 4_096 / 256);
    // Excel's longest cell, and lone surrogates (U+FFFD to the tokenizer) in a sentence: done at once.
    expect(count(`say ${'a'.repeat(32_767)} now`)).toBeGreaterThan(3_000);
    expect(count(`x ${'\uD800'.repeat(32_767)} y`)).toBeGreaterThan(3_000);
    expect(count(`${'日'.repeat(32_767)}。${' '.repeat(32_767)}.`)).toBeGreaterThan(10_000);
  });
});
