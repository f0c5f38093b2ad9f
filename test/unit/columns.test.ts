import { describe, expect, it } from 'vitest';

import { columnIndex, columnLetter } from '../../domain/columns.js';

describe('column letters and indexes', () => {
  it.each([
    [1, 'A'],
    [2, 'B'],
    [26, 'Z'],
    [27, 'AA'],
    [28, 'AB'],
    [52, 'AZ'],
    [53, 'BA'],
    [702, 'ZZ'],
    [703, 'AAA'],
    [16_384, 'XFD'],
  ])('%i ↔ %s', (index, letters) => {
    expect(columnLetter(index)).toBe(letters);
    expect(columnIndex(letters)).toBe(index);
  });

  it('round-trips every column Excel has', () => {
    for (let i = 1; i <= 16_384; i += 1) {
      if (columnIndex(columnLetter(i)) !== i) throw new Error(`column ${i} does not round-trip`);
    }
  });

  it('reads letters case-insensitively and ignores surrounding spaces', () => {
    expect(columnIndex('aa')).toBe(27);
    expect(columnIndex(' c ')).toBe(3);
    expect(columnIndex('xFd')).toBe(16_384);
  });

  it.each(['', 'XFE', 'ZZZ', 'AAAA', 'A1', '1', 'Ä', 'A B', 'answer'])('%j is not a column', (text) => {
    expect(columnIndex(text)).toBeUndefined();
  });

  it.each([0, -1, 16_385, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'columnLetter(%s) is out of range',
    (index) => {
      expect(() => columnLetter(index)).toThrow(RangeError);
    },
  );
});
