import { describe, expect, it } from 'vitest';

import { parseCategories } from '../../domain/categories.js';
import {
  LabelIndex,
  codeColumnHeaders,
  codeColumnsSet,
  codeframeOf,
  joinLabels,
} from '../../domain/codeframe.js';

const FRAME = parseCategories(
  ['1 Price', '[100 Service]', '101 Staff', '102 Support', '[Product]', '201 Quality', '202 Range'].join(
    '\n',
  ),
);

describe('codeframeOf', () => {
  it('gives every category its code and net, the fallback 97 last, and the nets in order', () => {
    const frame = codeframeOf(FRAME);
    expect(frame.categories.map((c) => [c.code, c.name, c.net ?? null, c.fallback])).toEqual([
      [1, 'Price', null, false],
      [101, 'Staff', 'Service', false],
      [102, 'Support', 'Service', false],
      [201, 'Quality', 'Product', false],
      [202, 'Range', 'Product', false],
      [97, 'Other', null, true],
    ]);
    expect(frame.fallback).toMatchObject({ name: 'Other', code: 97 });
    expect(frame.nets).toEqual([
      { name: 'Service', code: 100, categories: ['Staff', 'Support'] },
      { name: 'Product', categories: ['Quality', 'Range'] },
    ]);
  });

  it('reads the categories of an old job (no codes, no nets) as 1…n with the fallback 97', () => {
    const frame = codeframeOf([{ name: 'Price' }, { name: 'other' }, { name: 'Delivery' }]);
    expect(frame.categories.map((c) => [c.code, c.name])).toEqual([
      [1, 'Price'],
      [97, 'other'],
      [2, 'Delivery'],
    ]);
    expect(frame.fallback.name).toBe('other');
    expect(frame.nets).toEqual([]);
  });
});

describe('LabelIndex', () => {
  const index = new LabelIndex(codeframeOf(FRAME));

  it('orders labels as the codeframe does, in its spelling, each once, unknown ones last', () => {
    expect(index.order(['range', 'PRICE', 'Legacy', 'Price', ' staff '])).toEqual({
      labels: ['Price', 'Staff', 'Range', 'Legacy'],
      unknown: ['Legacy'],
    });
  });

  it('splits a filled category cell on ";" in multi-code mode, and takes it whole in single-label mode', () => {
    expect(index.readCell('quality;  price ;;Hand-coded', true)).toEqual({
      labels: ['Price', 'Quality', 'Hand-coded'],
      unknown: ['Hand-coded'],
    });
    expect(index.readCell('Price; Quality', false)).toEqual({
      labels: ['Price; Quality'],
      unknown: ['Price; Quality'],
    });
    expect(index.readCell('price', false)).toEqual({ labels: ['Price'], unknown: [] });
  });
});

describe('0/1 columns', () => {
  const frame = codeframeOf(FRAME);
  const index = new LabelIndex(frame);

  it('are headed by the answer header and each category, then NET and each net', () => {
    expect(codeColumnHeaders('E2', frame)).toEqual([
      'E2: Price',
      'E2: Staff',
      'E2: Support',
      'E2: Quality',
      'E2: Range',
      'E2: Other',
      'E2: NET Service',
      'E2: NET Product',
    ]);
  });

  it('set the categories of a row and every net one of them belongs to', () => {
    expect(codeColumnsSet(index, ['Price', 'Support'])).toEqual([0, 2, 6]);
    expect(codeColumnsSet(index, ['Staff', 'Support', 'Range'])).toEqual([1, 2, 4, 6, 7]);
    expect(codeColumnsSet(index, ['Other'])).toEqual([5]);
    expect(codeColumnsSet(index, ['Not a category'])).toEqual([]);
  });

  it('join labels with "; " for the category cell', () => {
    expect(joinLabels(['Price', 'Staff'])).toBe('Price; Staff');
  });
});
