import { describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import type { PromptItem } from '../../domain/prompt.js';
import type { ModelOutputProblem } from '../../domain/validate.js';
import type { CodingMode } from '../../domain/prompt.js';
import { ModelOutputError, checkLabels, validateLabels } from '../../domain/validate.js';

// Numbered on the wire: 1 Price, 2 Delivery, 3 App Store, 4 Other (the fallback, added last).
const CATEGORIES: Category[] = [{ name: 'Price' }, { name: 'Delivery' }, { name: 'App Store' }];
const ITEMS: PromptItem[] = [
  { id: '1', text: 'too dear' },
  { id: '2', text: 'late' },
  { id: '3', text: 'crashes' },
];

/** The model's content as written, pairs in order (an id may repeat, as a model may write it). */
const answer = (pairs: Array<[string, unknown]>) =>
  `{${pairs.map(([id, value]) => `${JSON.stringify(id)}:${JSON.stringify(value)}`).join(',')}}`;

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
  it('maps each id to the label of its number, whatever the order', () => {
    const result = validateLabels(
      answer([
        ['3', 3],
        ['1', 1],
        ['2', 2],
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

  it('accepts the fallback label, in the categories own spelling and place when they list it', () => {
    const labels = answer(ITEMS.map((i) => [i.id, 4]));
    expect([...validateLabels(labels, ITEMS, CATEGORIES).labels.values()]).toEqual([
      ['Other'],
      ['Other'],
      ['Other'],
    ]);
    const custom = [{ name: 'OTHER' }, ...CATEGORIES];
    const first = answer(ITEMS.map((i) => [i.id, 1]));
    expect([...validateLabels(first, ITEMS, custom).labels.values()]).toEqual([
      ['OTHER'],
      ['OTHER'],
      ['OTHER'],
    ]);
  });

  it.each([
    ['not JSON', '{"1": '],
    ['empty', ''],
    ['null content', null],
    ['undefined content', undefined],
    ['JSON null', 'null'],
    ['an array at the top', '[]'],
    ['a number at the top', '3'],
  ])('%s → malformed_json', (_, content) => {
    expect(problemOf(content)).toBe('malformed_json');
  });

  it('missing ids → missing_ids, naming them', () => {
    const content = answer([['1', 1]]);
    expect(problemOf(content)).toBe('missing_ids');
    expect(() => validateLabels(content, ITEMS, CATEGORIES)).toThrow(/2 of 3 ids unanswered: 2, 3/);
    expect(problemOf('{}')).toBe('missing_ids');
  });

  it('an id not in the batch → extra_ids', () => {
    const content = answer([
      ['1', 1],
      ['2', 1],
      ['3', 1],
      ['4', 1],
    ]);
    expect(problemOf(content)).toBe('extra_ids');
    expect(() => validateLabels(content, ITEMS, CATEGORIES)).toThrow(/\b4\b/);
  });

  it('an id answered twice → duplicate_ids', () => {
    const content = answer([
      ['1', 1],
      ['2', 1],
      ['2', 2],
      ['3', 1],
    ]);
    expect(problemOf(content)).toBe('duplicate_ids');
  });

  it.each([
    ['past the last category', 5, '5'],
    ['zero', 0, '0'],
    ['not a whole number', 1.5, '1.5'],
    ['a name instead of a number', 'Price', '"Price"'],
    ['a list in single-label mode', [1], '[1]'],
    ['null', null, 'null'],
  ])('a value %s → unknown_category, naming it', (_, value, shown) => {
    const content = answer([
      ['1', 1],
      ['2', value],
      ['3', 1],
    ]);
    expect(problemOf(content)).toBe('unknown_category');
    expect(() => validateLabels(content, ITEMS, CATEGORIES)).toThrow(
      `id 2: category ${JSON.stringify(shown)}`,
    );
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
        ['1', 1],
        ['2', 7],
        ['9', 1],
        ['1', 2],
      ]),
      [...ITEMS, { id: '4', text: 'fine' }],
      CATEGORIES,
    );
    expect(check.problems).toEqual([
      { id: '2', problem: 'unknown_category', label: '7' },
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
        ['1', 1],
        ['3', 3],
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

  it('gives each id its labels in codeframe order and spelling, each once', () => {
    const check = validateLabels(
      answer([
        ['1', [2, 1, 1]],
        ['2', [3]],
        ['3', [2, 2]],
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
      answer([
        ['1', []],
        ['2', [4, 4]],
        ['3', [4, 1]],
      ]),
      ITEMS,
      [...CATEGORIES, { name: 'OTHER' }],
      MULTI,
    );
    expect(Object.fromEntries(check.labels)).toEqual({ '1': ['OTHER'], '2': ['OTHER'], '3': ['Price'] });
  });

  it('cuts a list longer than the maximum to its first ones, and says which ids were cut', () => {
    const check = validateLabels(
      answer([
        ['1', [3, 2, 1]],
        ['2', [1, 2]],
        ['3', [2, 3, 3]],
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

  it('fails an id for a number outside the list, and for the single-label shape', () => {
    const check = checkLabels(
      answer([
        ['1', [1, 9]],
        ['2', 2],
        ['3', []],
      ]),
      ITEMS,
      CATEGORIES,
      MULTI,
    );
    expect(check.problems).toEqual([
      { id: '1', problem: 'unknown_category', label: '9' },
      { id: '2', problem: 'unknown_category', label: '2' },
    ]);
    expect(Object.fromEntries(check.labels)).toEqual({ '3': ['Other'] });
    expect(() => validateLabels(answer([['1', 'Price']]), ITEMS, CATEGORIES, MULTI)).toThrow(
      expect.objectContaining({ problem: 'unknown_category' }),
    );
  });
});
