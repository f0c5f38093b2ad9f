import { describe, expect, it } from 'vitest';

import type { Category } from '../../domain/categories.js';
import type { PromptItem } from '../../domain/prompt.js';
import type { ModelOutputProblem } from '../../domain/validate.js';
import { ModelOutputError, validateLabels } from '../../domain/validate.js';

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
    expect(Object.fromEntries(result)).toEqual({ '1': 'Price', '2': 'Delivery', '3': 'App Store' });
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
    expect([...result.values()]).toEqual(['Price', 'Delivery', 'App Store']);
  });

  it('accepts the fallback label, in the categories own spelling when they list it', () => {
    const labels = answer(ITEMS.map((i) => ({ id: i.id, category: 'other' })));
    expect([...validateLabels(labels, ITEMS, CATEGORIES).values()]).toEqual(['Other', 'Other', 'Other']);
    const custom = [...CATEGORIES, { name: 'OTHER' }];
    expect([...validateLabels(labels, ITEMS, custom).values()]).toEqual(['OTHER', 'OTHER', 'OTHER']);
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
