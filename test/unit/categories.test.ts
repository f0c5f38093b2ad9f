import { describe, expect, it } from 'vitest';

import {
  FALLBACK_LABEL,
  MAX_CATEGORIES,
  allowedLabels,
  categoriesFromList,
  fallbackLabel,
  parseCategories,
} from '../../domain/categories.js';
import {
  DomainError,
  DuplicateCategoriesError,
  EmptyCategoriesError,
  InvalidCategoryError,
  TooManyCategoriesError,
} from '../../domain/errors.js';

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}

describe('parseCategories', () => {
  it('reads one name per line', () => {
    expect(parseCategories('Price\nDelivery\nQuality')).toEqual([
      { name: 'Price' },
      { name: 'Delivery' },
      { name: 'Quality' },
    ]);
  });

  it('splits "Name: description" at the first colon and trims both', () => {
    expect(parseCategories('Price :  too expensive, cost: value \nApp:')).toEqual([
      { name: 'Price', description: 'too expensive, cost: value' },
      { name: 'App' },
    ]);
  });

  it('drops list bullets (-, *, •, 1., 2)) but keeps hyphens inside names', () => {
    expect(parseCategories('- Price\n* Delivery\n• Quality\n1. Service\n12) App\nE-mail\n-5 stars')).toEqual([
      { name: 'Price' },
      { name: 'Delivery' },
      { name: 'Quality' },
      { name: 'Service' },
      { name: 'App' },
      { name: 'E-mail' },
      { name: '-5 stars' },
    ]);
  });

  it('skips blank lines and # comments', () => {
    const text = '# Categories for Q3\n\nPrice\n   \n  # a comment\nDelivery\n\n';
    expect(parseCategories(text)).toEqual([{ name: 'Price' }, { name: 'Delivery' }]);
  });

  it('drops a byte-order mark and accepts CRLF line ends', () => {
    expect(parseCategories('\uFEFFPrice: cost\r\nDelivery\r\n')).toEqual([
      { name: 'Price', description: 'cost' },
      { name: 'Delivery' },
    ]);
  });

  it('rejects names that compare equal without case and spaces, listing every duplicate', () => {
    const error = thrown(() => parseCategories('Price\nDelivery\n price \nPRICE\ndelivery'));
    expect(error).toBeInstanceOf(DuplicateCategoriesError);
    expect(error).toBeInstanceOf(DomainError);
    const e = error as DuplicateCategoriesError;
    expect(e.duplicates).toEqual(['price', 'PRICE', 'delivery']);
    expect(e.code).toBe('duplicate_categories');
    expect(e.field).toBe('categories');
    expect(e.message).toContain('"PRICE"');
    expect(e.message).toContain('"delivery"');
  });

  it.each(['', '\n\n', '# only a comment\n  \n', '\uFEFF'])('rejects %j as empty', (text) => {
    const error = thrown(() => parseCategories(text, 'cats.txt'));
    expect(error).toBeInstanceOf(EmptyCategoriesError);
    expect((error as EmptyCategoriesError).source).toBe('cats.txt');
    expect((error as Error).message).toContain('cats.txt');
  });

  it('accepts a name of 120 characters and rejects one of 121, naming the line', () => {
    expect(parseCategories('x'.repeat(120))).toEqual([{ name: 'x'.repeat(120) }]);
    const error = thrown(() => parseCategories(`Price\n\n${'y'.repeat(121)}`));
    expect(error).toBeInstanceOf(InvalidCategoryError);
    expect((error as InvalidCategoryError).line).toBe(3);
    expect((error as Error).message).toMatch(/longer than 120/);
  });

  it('rejects a description longer than 1,000 characters', () => {
    expect(() => parseCategories(`Price: ${'d'.repeat(1_000)}`)).not.toThrow();
    expect(() => parseCategories(`Price: ${'d'.repeat(1_001)}`)).toThrow(InvalidCategoryError);
  });

  it('rejects a line with a description but no name', () => {
    const error = thrown(() => parseCategories('Price\n: no name here'));
    expect(error).toBeInstanceOf(InvalidCategoryError);
    expect((error as InvalidCategoryError).line).toBe(2);
  });

  it(`accepts ${MAX_CATEGORIES} categories and rejects one more`, () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `Category ${i + 1}`).join('\n');
    expect(parseCategories(names(MAX_CATEGORIES))).toHaveLength(MAX_CATEGORIES);
    expect(() => parseCategories(names(MAX_CATEGORIES + 1))).toThrow(TooManyCategoriesError);
  });
});

describe('allowedLabels and fallbackLabel', () => {
  it('adds the fallback label after the categories when it is missing', () => {
    expect(allowedLabels([{ name: 'Price' }, { name: 'Delivery' }])).toEqual(['Price', 'Delivery', 'Other']);
    expect(FALLBACK_LABEL).toBe('Other');
  });

  it.each(['Other', 'other', 'OTHER', ' other '])('does not add it when listed as %j', (spelling) => {
    const categories = [{ name: 'Price' }, { name: spelling }, { name: 'Delivery' }];
    expect(allowedLabels(categories)).toEqual(['Price', spelling, 'Delivery']);
    expect(fallbackLabel(categories)).toBe(spelling);
  });

  it('is "Other" when the categories do not list it', () => {
    expect(fallbackLabel([{ name: 'Price' }, { name: 'Others' }])).toBe('Other');
    expect(allowedLabels([{ name: 'Others' }])).toEqual(['Others', 'Other']);
  });
});

describe('categoriesFromList', () => {
  it('takes "Name", "Name: description" strings and objects, in order', () => {
    expect(
      categoriesFromList([
        'Price: cost',
        { name: 'Delivery', description: 'late, courier' },
        { name: 'Quality' },
        'App',
      ]),
    ).toEqual([
      { name: 'Price', description: 'cost' },
      { name: 'Delivery', description: 'late, courier' },
      { name: 'Quality' },
      { name: 'App' },
    ]);
  });

  it('keeps a string with a line break as one category', () => {
    expect(categoriesFromList(['Price: too\nexpensive'])).toEqual([
      { name: 'Price', description: 'too expensive' },
    ]);
  });

  it('applies the same checks as the text form', () => {
    expect(() => categoriesFromList([])).toThrow(EmptyCategoriesError);
    expect(() => categoriesFromList(['Price', { name: 'price' }])).toThrow(DuplicateCategoriesError);
  });

  // A line break in an object's description must not start a second category.
  it('keeps an object whose description has a line break as one category', () => {
    expect(categoriesFromList([{ name: 'Price', description: 'too\nexpensive' }])).toEqual([
      { name: 'Price', description: 'too expensive' },
    ]);
  });

  // An object's name is taken as it is: a colon in it is not the description separator.
  it("keeps an object's name verbatim, colon included", () => {
    expect(categoriesFromList([{ name: 'Time: of day' }])).toEqual([{ name: 'Time: of day' }]);
  });
});
