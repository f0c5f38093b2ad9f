import { describe, expect, it } from 'vitest';

import { textKind } from '../../sheets/cells.js';
import type { HeadRow, Layout } from '../../sheets/layout.js';
import { detectHeader, locateColumn } from '../../sheets/layout.js';

/** Rows from text, numbered from 1; CSV-like: a cell's kind comes from its text. */
function rows(...lines: Array<Array<string | number>>): HeadRow[] {
  return lines.map((cells, i) => ({
    number: i + 1,
    cells: cells.map((c) =>
      typeof c === 'number' ? { text: String(c), kind: 'number' as const } : { text: c, kind: textKind(c) },
    ),
  }));
}

const summary = (layout: Layout | undefined) =>
  layout && {
    headerRow: layout.headerRow.number,
    column: layout.column,
    questionRow: layout.questionRow?.number,
    lastHeaderRow: layout.lastHeaderRow,
  };

describe('locateColumn', () => {
  it('takes a column letter inside the used columns and refuses one past them', () => {
    const head = rows(['ID', 'Country', 'E2'], ['R1', 'UK', 'too expensive'], ['R2', 'DE', 'late']);
    expect(summary(locateColumn(head, 'C'))).toMatchObject({ headerRow: 1, column: 3 });
    expect(locateColumn(head, 'D')).toBeUndefined();
    expect(locateColumn(head, 'ZZ')).toBeUndefined();
  });

  it('reads a Qualtrics export: codes, questions, import ids, then data', () => {
    const head = rows(
      ['StartDate', 'Progress', 'Duration (in seconds)', 'ResponseId', 'Q1', 'Q2_TEXT'],
      [
        'Start Date',
        'Progress',
        'Duration (in seconds)',
        'Response ID',
        'How satisfied are you?',
        'Why did you give this score?',
      ],
      [
        '{"ImportId":"startDate"}',
        '{"ImportId":"progress"}',
        '{"ImportId":"duration"}',
        '{"ImportId":"_recordId"}',
        '{"ImportId":"QID1"}',
        '{"ImportId":"QID2_TEXT"}',
      ],
      ['2024-01-01 10:00', 100, 35, 'R_1', 4, 'Good value'],
    );
    const expected = { headerRow: 1, column: 6, questionRow: 2, lastHeaderRow: 3 };
    expect(summary(locateColumn(head, 'Q2_TEXT'))).toEqual(expected);
    expect(summary(locateColumn(head, 'F'))).toEqual(expected);
    // The question text in full, or a part of it: the header is still the code row above it.
    expect(summary(locateColumn(head, 'Why did you give this score?'))).toEqual(expected);
    expect(summary(locateColumn(head, 'give this score'))).toEqual(expected);
    expect(summary(detectHeader(head))).toEqual({ ...expected, column: undefined });
  });

  it('takes a question row above the header', () => {
    const head = rows(
      ['Respondent', 'How was the delivery, in your words?', 'How was the price, in your words?'],
      ['ID', 'E2', 'E3'],
      [1, 'late', 'fine'],
    );
    expect(summary(locateColumn(head, 'E2'))).toEqual({
      headerRow: 2,
      column: 2,
      questionRow: 1,
      lastHeaderRow: 2,
    });
    // Named by question text, the header is still the code row under it.
    expect(summary(locateColumn(head, 'the price, in your words'))).toEqual({
      headerRow: 2,
      column: 3,
      questionRow: 1,
      lastHeaderRow: 2,
    });
    // By letter, the wide question row on top gives way to the code row.
    expect(summary(locateColumn(head, 'C'))).toMatchObject({ headerRow: 2, questionRow: 1 });
  });

  it('never takes the first respondent for a question row', () => {
    const head = rows(
      ['Name', 'Comment', 'Country'],
      ['Alice Smith', 'The staff were very helpful?', 'Germany'],
      ['Bob Jones', 'Too expensive', 'France'],
    );
    expect(summary(locateColumn(head, 'Comment'))).toEqual({
      headerRow: 1,
      column: 2,
      questionRow: undefined,
      lastHeaderRow: 1,
    });
    const oneWord = rows(
      ['How old are you?', 'Which country?', 'Comments'],
      ['Young', 'DE', 'Fine'],
      ['Old', 'FR', 'Meh'],
    );
    expect(summary(locateColumn(oneWord, 'C'))).toMatchObject({ headerRow: 1, lastHeaderRow: 1 });
  });

  it('finds the header under title rows, and text only in the header band', () => {
    const head = rows(
      ['Customer survey 2024'],
      ['Exported 2024-05-01'],
      ['ID', 'Answer', 'Score'],
      [1, 'the delivery was very late indeed', 3],
      [2, 'Answer', 4],
    );
    expect(summary(locateColumn(head, 'answer'))).toMatchObject({ headerRow: 3, column: 2 });
    expect(summary(locateColumn(head, 'B'))).toMatchObject({ headerRow: 3, column: 2 });
    // Text found only in a data row is not a header.
    expect(locateColumn(head, 'delivery was very late')).toBeUndefined();
  });

  it('prefers an exact header over a letter, and needs 8 characters for question text', () => {
    const head = rows(['A', 'Age', 'Comment'], [1, 30, 'hello there']);
    expect(locateColumn(head, 'age')?.column).toBe(2);
    expect(locateColumn(head, 'Comm')).toBeUndefined();
    expect(locateColumn(head, 'XFE')).toBeUndefined();
  });
});
