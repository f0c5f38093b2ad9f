import { describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import type { PromptItem } from '../../domain/prompt.js';
import type { ModelOutputProblem } from '../../domain/validate.js';
import type { CodingMode } from '../../domain/prompt.js';
import { ModelOutputError, checkLabels, validateLabels } from '../../domain/validate.js';

const CATEGORIES: Category[] = [{ name: 'Price' }, { name: 'Delivery' }, { name: 'App Store' }];
const ITEMS: PromptItem[] = [
  { id: '1', text: 'too dear' },
  { id: '2', text: 'late' },
  { id: '3', text: 'crashes' },
];

const answer = (labels: unknown) => JSON.stringify({ labels });

function problemOf(content: string | null | undefined): ModelOutputProblem {
  try {
    validateLabels(content, ITEMS, CATEGORIES);
  } catch (error) {
    if (error instanceof ModelOutputError) return error.problem;
    throw error;
  }
  throw new Error('expected a ModelOutputError, got none');
}

describe('validateLabels', () => {
  it('maps each id to its label, whatever the order', () => {
    const result = validateLabels(
      answer([
        { id: '3', category: 'App Store' },
        { id: '1', category: 'Price' },
        { id: '2', category: 'Delivery' },
      ]),
      ITEMS,
      CATEGORIES,
    );
    expect(Object.fromEntries(result.labels)).toEqual({
      '1': ['Price'],
      '2': ['Delivery'],
      '3': ['App Store'],
    });
    expect(result.problems).toEqual([]);
    expect(result.cut).toEqual([]);
  });

  it('maps categories case- and space-insensitively to the canonical spelling', () => {
    const result = validateLabels(
      answer([
        { id: '1', category: 'price' },
        { id: '2', category: ' DELIVERY ' },
        { id: '3', category: 'app store' },
      ]),
      ITEMS,
      CATEGORIES,
    );
    expect([...result.labels.values()]).toEqual([['Price'], ['Delivery'], ['App Store']]);
  });

  it('accepts the fallback label, in the categories own spelling when they list it', () => {
    const labels = answer(ITEMS.map((i) => ({ id: i.id, category: 'other' })));
    expect([...validateLabels(labels, ITEMS, CATEGORIES).labels.values()]).toEqual([
      ['Other'],
      ['Other'],
      ['Other'],
    ]);
    const custom = [...CATEGORIES, { name: 'OTHER' }];
    expect([...validateLabels(labels, ITEMS, custom).labels.values()]).toEqual([
      ['OTHER'],
      ['OTHER'],
      ['OTHER'],
    ]);
  });

  it.each([
    ['not JSON', '{"labels": ['],
    ['empty', ''],
    ['null content', null],
    ['undefined content', undefined],
  ])('%s → malformed_json', (_, content) => {
    expect(problemOf(content)).toBe('malformed_json');
  });

  it.each([
    ['no labels', '{}'],
    ['labels not an array', '{"labels": {"1": "Price"}}'],
    ['JSON null', 'null'],
    ['an array at the top', '[]'],
    ['a label without a category', answer([{ id: '1' }])],
    ['a numeric id', answer([{ id: 1, category: 'Price' }])],
    ['a null entry', answer([null])],
  ])('%s → malformed_json', (_, content) => {
    expect(problemOf(content)).toBe('malformed_json');
  });

  it('missing ids → missing_ids, naming them', () => {
    const content = answer([{ id: '1', category: 'Price' }]);
    expect(problemOf(content)).toBe('missing_ids');
    expect(() => validateLabels(content, ITEMS, CATEGORIES)).toThrow(/2 of 3 ids unanswered: 2, 3/);
    expect(problemOf(answer([]))).toBe('missing_ids');
  });

  it('an id not in the batch → extra_ids', () => {
    const content = answer([
      { id: '1', category: 'Price' },
      { id: '2', category: 'Price' },
      { id: '3', category: 'Price' },
      { id: '4', category: 'Price' },
    ]);
    expect(problemOf(content)).toBe('extra_ids');
    expect(() => validateLabels(content, ITEMS, CATEGORIES)).toThrow(/\b4\b/);
  });

  it('an id answered twice → duplicate_ids', () => {
    const content = answer([
      { id: '1', category: 'Price' },
      { id: '2', category: 'Price' },
      { id: '2', category: 'Delivery' },
      { id: '3', category: 'Price' },
    ]);
    expect(problemOf(content)).toBe('duplicate_ids');
  });

  it('a category outside the list → unknown_category', () => {
    const content = answer([
      { id: '1', category: 'Price' },
      { id: '2', category: 'Shipping' },
      { id: '3', category: 'Price' },
    ]);
    expect(problemOf(content)).toBe('unknown_category');
    expect(() => validateLabels(content, ITEMS, CATEGORIES)).toThrow(/Shipping/);
  });

  it('throws ModelOutputError instances named as such', () => {
    try {
      validateLabels('nope', ITEMS, CATEGORIES);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ModelOutputError);
      expect((error as Error).name).toBe('ModelOutputError');
    }
  });
});

describe('checkLabels: each id on its own, so a caller may keep the good ones', () => {
  it('reports every bad id with its problem and keeps the labels of the good ones', () => {
    const check = checkLabels(
      answer([
        { id: '1', category: 'Price' },
        { id: '2', category: 'Shipping' },
        { id: '9', category: 'Price' },
        { id: '1', category: 'Delivery' },
      ]),
      [...ITEMS, { id: '4', text: 'fine' }],
      CATEGORIES,
    );
    expect(check.problems).toEqual([
      { id: '2', problem: 'unknown_category', label: 'Shipping' },
      { id: '9', problem: 'extra_ids' },
      { id: '1', problem: 'duplicate_ids' },
      { id: '3', problem: 'missing_ids' },
      { id: '4', problem: 'missing_ids' },
    ]);
    // An id answered twice is not kept: which answer is right cannot be told.
    expect([...check.labels.keys()]).toEqual([]);
  });

  it('keeps the good ids of a batch whose answer has a bad one', () => {
    const check = checkLabels(
      answer([
        { id: '1', category: 'Price' },
        { id: '3', category: 'App Store' },
      ]),
      ITEMS,
      CATEGORIES,
    );
    expect(Object.fromEntries(check.labels)).toEqual({ '1': ['Price'], '3': ['App Store'] });
    expect(check.problems).toEqual([{ id: '2', problem: 'missing_ids' }]);
  });
});

describe('validateLabels in multi-code mode', () => {
  const MULTI: CodingMode = { multi: true, maxCodes: 2 };
  const lists = (entries: Array<[string, unknown]>) =>
    JSON.stringify({ labels: entries.map(([id, categories]) => ({ id, categories })) });

  it('gives each id its labels in codeframe order and spelling, each once', () => {
    const check = validateLabels(
      lists([
        ['1', ['delivery', 'PRICE', 'price']],
        ['2', ['App Store']],
        ['3', ['Delivery', 'Delivery']],
      ]),
      ITEMS,
      CATEGORIES,
      MULTI,
    );
    expect(Object.fromEntries(check.labels)).toEqual({
      '1': ['Price', 'Delivery'],
      '2': ['App Store'],
      '3': ['Delivery'],
    });
    expect(check.cut).toEqual([]);
  });

  it('codes an empty list, or one of only the fallback, as the fallback alone; drops it beside others', () => {
    const check = validateLabels(
      lists([
        ['1', []],
        ['2', ['Other', 'other']],
        ['3', ['Other', 'Price']],
      ]),
      ITEMS,
      [...CATEGORIES, { name: 'OTHER' }],
      MULTI,
    );
    expect(Object.fromEntries(check.labels)).toEqual({ '1': ['OTHER'], '2': ['OTHER'], '3': ['Price'] });
  });

  it('cuts a list longer than the maximum to its first ones, and says which ids were cut', () => {
    const check = validateLabels(
      lists([
        ['1', ['App Store', 'Delivery', 'Price']],
        ['2', ['Price', 'Delivery']],
        ['3', ['Delivery', 'App Store', 'App Store']],
      ]),
      ITEMS,
      CATEGORIES,
      MULTI,
    );
    expect(Object.fromEntries(check.labels)).toEqual({
      '1': ['Delivery', 'App Store'],
      '2': ['Price', 'Delivery'],
      '3': ['Delivery', 'App Store'],
    });
    expect(check.cut).toEqual(['1']);
  });

  it('still fails the batch for a label outside the list, and for the single-label shape', () => {
    expect(() =>
      validateLabels(
        lists([
          ['1', ['Price', 'Shipping']],
          ['2', []],
          ['3', []],
        ]),
        ITEMS,
        CATEGORIES,
        MULTI,
      ),
    ).toThrow(expect.objectContaining({ problem: 'unknown_category' }));
    expect(() =>
      validateLabels(answer(ITEMS.map((i) => ({ id: i.id, category: 'Price' }))), ITEMS, CATEGORIES, MULTI),
    ).toThrow(expect.objectContaining({ problem: 'malformed_json' }));
    expect(() => validateLabels(lists([['1', 'Price']]), ITEMS, CATEGORIES, MULTI)).toThrow(
      expect.objectContaining({ problem: 'malformed_json' }),
    );
  });
});
