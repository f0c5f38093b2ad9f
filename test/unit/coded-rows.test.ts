import { describe, expect, it } from 'vitest';

import { parseCategories } from '../../domain/categories.js';
import { codeframeOf } from '../../domain/codeframe.js';
import type { AnswerOutcome } from '../../domain/coded-rows.js';
import { codedRows } from '../../domain/coded-rows.js';
import type { RowKind } from '../../domain/job.js';

// Columns: 0 Price, 1 Staff, 2 Support, 3 Other, 4 NET Service.
const FRAME = codeframeOf(parseCategories('Price\n[Service]\nStaff\nSupport\nOther'));

function run(multi: boolean) {
  const answers: AnswerOutcome[] = [['Support', 'Price'], 'fallback', undefined, ['Other']];
  const assignments: Array<[number, RowKind, number]> = [
    [2, 'classify', 0],
    [3, 'classify', 0], // the same answer as row 2: both rows coded alike
    [4, 'coded', -1],
    [5, 'invalid', -1],
    [6, 'empty', -1],
    [7, 'classify', 1],
    [8, 'classify', 2],
    [9, 'classify', 3],
    [10, 'coded', -1],
  ];
  return codedRows({
    codeframe: FRAME,
    multi,
    assignments,
    answer: (i) => answers[i],
    codedCells: new Map([
      [4, ' staff ;Hand-coded; support'],
      [10, 'PRICE'],
    ]),
  });
}

describe('codedRows', () => {
  it('writes the labels of each row coded now in codeframe order, the fallback for invalid and fallen-back rows', () => {
    expect(Object.fromEntries(run(true).cells)).toEqual({
      2: 'Price; Support',
      3: 'Price; Support',
      5: 'Other',
      7: 'Other',
      9: 'Other',
    });
  });

  it('sets the 0/1 columns of rows coded now or in the file, nets included; others stay blank', () => {
    expect(Object.fromEntries(run(true).codes)).toEqual({
      2: [0, 2, 4],
      3: [0, 2, 4],
      4: [1, 2, 4],
      9: [3],
      10: [0],
    });
    expect(run(false).codes.size).toBe(0);
  });

  it('reports labels in the file that the codeframe does not have, with their rows', () => {
    expect(run(true).unknownLabels).toEqual([{ row: 4, labels: ['Hand-coded'] }]);
    // Single-label: a filled cell is one label, as before multi-code.
    expect(run(false).unknownLabels).toEqual([{ row: 4, labels: ['staff ;Hand-coded; support'] }]);
  });

  it('counts respondents by category and net, mentions, and every row by treatment', () => {
    const { tally } = run(true);
    expect(tally.categories).toEqual([3, 1, 3, 1]);
    expect(tally.nets).toEqual([3]);
    expect(tally.unknown).toEqual([{ label: 'Hand-coded', count: 1 }]);
    expect(tally.respondents).toBe(5);
    expect(tally.mentions).toBe(2 + 2 + 3 + 1 + 1);
    expect(tally.rows).toEqual({
      total: 9,
      model: 3,
      file: 2,
      invalid: 1,
      fallback: 1,
      empty: 1,
      notReached: 1,
    });
  });
});
