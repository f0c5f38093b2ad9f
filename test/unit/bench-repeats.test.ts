import { describe, expect, it } from 'vitest';

import { normalizeAnswer } from '../../domain/text.js';
import { REPEATS, isToCode, makeAnswers, makeRepeatsAnswers } from '../../bench/survey.js';

describe("the cost bench's workbook like the original table's", () => {
  const cells = makeRepeatsAnswers();
  const toCode = cells.filter(isToCode);

  it('has its rows, answers to code and distinct answers (as verbatim compares them)', () => {
    expect(cells).toHaveLength(REPEATS.rows);
    expect(toCode).toHaveLength(REPEATS.toCode);
    expect(new Set(toCode.map(normalizeAnswer)).size).toBe(REPEATS.unique);
  });

  it('spells some repeats differently, so that they are the same answer only once normalized', () => {
    expect(new Set(toCode).size).toBeGreaterThan(REPEATS.unique);
  });

  it('is the same workbook every time, its rows shuffled', () => {
    expect(makeRepeatsAnswers()).toEqual(cells);
    expect(cells.slice(0, 100)).not.toEqual(makeAnswers(100));
  });
});
