import { describe, expect, it } from 'vitest';

import {
  FALLBACK_LABEL,
  MAX_CATEGORIES,
  allowedLabels,
  categoriesFromList,
  categoriesFromRows,
  fallbackLabel,
  parseCategories,
} from '../../domain/categories.js';
import {
  DomainError,
  DuplicateCategoriesError,
  DuplicateCodeError,
  EmptyCategoriesError,
  OnlyFallbackCategoryError,
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

  it.each(['Other', 'other: anything else', '97 OTHER'])(
    'refuses %j alone: the fallback is no codeframe',
    (text) => {
      const error = thrown(() => parseCategories(text, 'cats.txt'));
      expect(error).toBeInstanceOf(OnlyFallbackCategoryError);
      expect((error as OnlyFallbackCategoryError).field).toBe('categories');
      expect((error as Error).message).toMatch(/cats\.txt.*only "(Other|other|OTHER)"/);
      expect(() => categoriesFromList(['Other'])).toThrow(OnlyFallbackCategoryError);
      expect(parseCategories(`${text}\nPrice`)).toHaveLength(2);
    },
  );

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

describe('nets and codes in the text form', () => {
  const FRAME = [
    '# E2 codeframe',
    '1 Price: cheap, promos',
    '[100 Service]',
    '101 Staff: rude, helpful',
    '102 Support',
    '[Product]',
    '201 Quality',
    '202 Range: choice',
    '99 Other',
  ].join('\n');

  it('reads codes, nets with their codes, and the categories under each net up to the next', () => {
    const frame = FRAME.replace('99 Other', '[Other mentions]\n300 Something else');
    expect(parseCategories(`99 Other\n${frame}`, 'e2.txt')).toEqual([
      { name: 'Other', code: 99 },
      { name: 'Price', description: 'cheap, promos', code: 1 },
      { name: 'Staff', description: 'rude, helpful', code: 101, net: 'Service', netCode: 100 },
      { name: 'Support', code: 102, net: 'Service', netCode: 100 },
      { name: 'Quality', code: 201, net: 'Product' },
      { name: 'Range', description: 'choice', code: 202, net: 'Product' },
      { name: 'Something else', code: 300, net: 'Other mentions' },
    ]);
  });

  it('keeps categories before the first net line outside any net', () => {
    const categories = parseCategories('Price\n[Service]\nStaff\nSupport');
    expect(categories).toEqual([
      { name: 'Price' },
      { name: 'Staff', net: 'Service' },
      { name: 'Support', net: 'Service' },
    ]);
  });

  it('stores no codes when they are the default 1…n (so numbered and unnumbered files make the same job)', () => {
    expect(parseCategories('1 Price\n2 Delivery\n97 Other')).toEqual(
      parseCategories('Price\nDelivery\nOther'),
    );
    expect(parseCategories('Price\nDelivery\nOther')).toEqual([
      { name: 'Price' },
      { name: 'Delivery' },
      { name: 'Other' },
    ]);
  });

  it('stores every code once one differs, numbering unnumbered ones with the lowest free codes', () => {
    expect(parseCategories('101 Price\nDelivery\n2 Quality\nApp')).toEqual([
      { name: 'Price', code: 101 },
      { name: 'Delivery', code: 1 },
      { name: 'Quality', code: 2 },
      { name: 'App', code: 3 },
    ]);
    // The fallback keeps 97 unless numbered: an unnumbered codeframe skips it.
    const many = parseCategories(Array.from({ length: 98 }, (_, i) => `C${i + 1}`).join('\n'));
    expect(many.every((c) => c.code === undefined)).toBe(true);
    expect(parseCategories('Price\n99 Other')).toEqual([
      { name: 'Price', code: 1 },
      { name: 'Other', code: 99 },
    ]);
  });

  it('takes a number and a space for a code, but not a list number or a name that starts with digits', () => {
    expect(parseCategories('1. Price\n2) Delivery\n24/7 support\n3D printing')).toEqual([
      { name: 'Price' },
      { name: 'Delivery' },
      { name: '24/7 support' },
      { name: '3D printing' },
    ]);
    // A name that starts with a number and a space needs its code first.
    expect(parseCategories('5 24 hour opening')).toEqual([{ name: '24 hour opening', code: 5 }]);
  });

  it('rejects a duplicate code, naming the file and both lines', () => {
    const error = thrown(() => parseCategories('101 Price\nDelivery\n101 Quality', 'e2.txt'));
    expect(error).toBeInstanceOf(DuplicateCodeError);
    expect(error).toBeInstanceOf(InvalidCategoryError);
    const e = error as DuplicateCodeError;
    expect(e.duplicateCode).toBe(101);
    expect(e.first).toEqual({ line: 1, name: 'Price' });
    expect(e.second).toEqual({ line: 3, name: 'Quality' });
    expect(e.message).toBe(
      'Category on line 3 of e2.txt ("Quality") has code 101, which line 1 ("Price") already has: codes must be unique',
    );
    expect(e.code).toBe('invalid_category');
  });

  it('rejects a net code that a category has, and 97 on another category while the fallback keeps it', () => {
    expect(() => parseCategories('[5 Service]\nStaff\n5 Price')).toThrow(
      /code 5, which line 1 \("\[Service\]"\)/,
    );
    const error = thrown(() => parseCategories('Price\n97 Complaints', 'e2.txt')) as Error;
    expect(error).toBeInstanceOf(DuplicateCodeError);
    expect(error.message).toContain('the fallback "Other" keeps unless the codeframe gives it a number');
    expect(() => parseCategories('Price\n97 Complaints\n98 Other')).not.toThrow();
  });

  it('rejects codes that are not whole numbers from 1, naming the line', () => {
    const error = thrown(() => parseCategories('Price\n0 Delivery', 'e2.txt')) as InvalidCategoryError;
    expect(error).toBeInstanceOf(InvalidCategoryError);
    expect(error.line).toBe(2);
    expect(error.message).toContain('codes are whole numbers from 1');
    expect(() => parseCategories('1234567890 Price')).toThrow(InvalidCategoryError);
  });

  it('rejects a net line no category follows, an unclosed one and an empty one', () => {
    expect(
      (thrown(() => parseCategories('Price\n[Service]\n[Product]\nQuality')) as InvalidCategoryError).line,
    ).toBe(2);
    expect((thrown(() => parseCategories('Price\n[Service]\n# nothing')) as InvalidCategoryError).line).toBe(
      2,
    );
    expect((thrown(() => parseCategories('[Service\nStaff')) as Error).message).toMatch(/does not close it/);
    expect((thrown(() => parseCategories('[ ]\nStaff')) as Error).message).toMatch(/names no net/);
  });

  it('joins the categories of a net listed twice, and refuses two codes for it', () => {
    expect(parseCategories('[Service]\nStaff\n[Product]\nQuality\n[service]\nSupport')).toEqual([
      { name: 'Staff', net: 'Service' },
      { name: 'Quality', net: 'Product' },
      { name: 'Support', net: 'Service' },
    ]);
    expect(() => parseCategories('[100 Service]\nStaff\n[101 Service]\nSupport')).toThrow(
      /net code 101, but line 1 gave it 100/,
    );
  });

  it('keeps the fallback out of the net above it, and refuses it in a net given explicitly', () => {
    expect(parseCategories('[Service]\nStaff\n97 Other')).toEqual([
      { name: 'Staff', net: 'Service' },
      { name: 'Other' },
    ]);
    const error = thrown(() =>
      categoriesFromRows([{ row: 3, label: 'Other', net: 'Service' }], 'e2.xlsx'),
    ) as InvalidCategoryError;
    expect(error.line).toBe(3);
    expect(error.message).toMatch(
      /row 3 of e2.xlsx \("Other"\) is the fallback and cannot belong to the net "Service"/,
    );
    // A net of the fallback alone is a net no category follows.
    expect(() => parseCategories('Price\n[Other things]\nOther')).toThrow(/no category follows/);
  });

  it('reads the same from a list (API), net lines and codes included', () => {
    expect(
      categoriesFromList(['1 Price', '[100 Service]', '101 Staff: rude', { name: 'Support', code: 102 }]),
    ).toEqual(parseCategories('1 Price\n[100 Service]\n101 Staff: rude\n102 Support'));
  });
});

describe('categoriesFromRows: a codeframe table', () => {
  it('reads code, label, description and net per row, like the text form', () => {
    expect(
      categoriesFromRows(
        [
          { row: 2, code: '1', label: 'Price', description: 'cheap, promos', net: '' },
          { row: 3, code: '101', label: 'Staff', description: 'rude, helpful', net: '100 Service' },
          { row: 4, code: '', label: '', description: '', net: '' },
          { row: 5, code: '102', label: 'Support', net: 'Service' },
        ],
        'e2.xlsx',
      ),
    ).toEqual(
      parseCategories('1 Price: cheap, promos\n[100 Service]\n101 Staff: rude, helpful\n102 Support'),
    );
  });

  it('names the row of a bad code, of a missing label, and of a duplicate code', () => {
    const bad = thrown(() =>
      categoriesFromRows([{ row: 7, code: '1.5', label: 'Price' }], 'e2.xlsx'),
    ) as Error;
    expect(bad.message).toBe(
      'Category on row 7 of e2.xlsx ("Price") has code "1.5": codes are whole numbers from 1',
    );
    const unnamed = thrown(() => categoriesFromRows([{ row: 4, code: '3', label: ' ' }], 'e2.xlsx')) as Error;
    expect(unnamed.message).toContain('row 4 of e2.xlsx');
    const twice = thrown(() =>
      categoriesFromRows(
        [
          { row: 2, code: '5', label: 'Price' },
          { row: 3, code: '5', label: 'Delivery' },
        ],
        'e2.csv',
      ),
    ) as Error;
    expect(twice.message).toBe(
      'Category on row 3 of e2.csv ("Delivery") has code 5, which row 2 ("Price") already has: codes must be unique',
    );
  });
});
