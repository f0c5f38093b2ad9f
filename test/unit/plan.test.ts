import { describe, expect, it } from 'vitest';

import type { AutoBatchOptions } from '../../domain/batching.js';
import { estimateBatchTokens } from '../../domain/batching.js';
import type { SheetAnswerRow } from '../../domain/plan.js';
import { RowPlanner, planBatches, planRows, promptId } from '../../domain/plan.js';

const row = (n: number, answer: string, category = ''): SheetAnswerRow => ({ row: n, answer, category });

describe('planRows', () => {
  const rows: SheetAnswerRow[] = [
    row(2, 'Too expensive'),
    row(3, ''),
    row(4, 'n/a'),
    row(5, 'late delivery', 'Delivery'),
    row(6, '  too   EXPENSIVE '),
    row(7, '   '),
    row(8, 'App crashes'),
    row(9, '', 'Price'), // coded wins over an empty answer
    row(10, '---'),
    row(11, 'too expensive'),
    row(12, '42'),
  ];
  const plan = planRows(rows);

  it('counts rows by how they are treated', () => {
    expect(plan.counts).toEqual({ total: 11, empty: 2, invalid: 2, coded: 2, classify: 5 });
  });

  it('assigns each row its kind, a coded category winning over an empty or invalid answer', () => {
    expect(plan.assignments.map((a) => [a.row, a.kind])).toEqual([
      [2, 'classify'],
      [3, 'empty'],
      [4, 'invalid'],
      [5, 'coded'],
      [6, 'classify'],
      [7, 'empty'],
      [8, 'classify'],
      [9, 'coded'],
      [10, 'invalid'],
      [11, 'classify'],
      [12, 'classify'],
    ]);
    expect(planRows([row(2, 'n/a', 'Other')]).assignments[0]?.kind).toBe('coded');
  });

  it('sends identical answers (after normalising) once, keeping the first occurrence’s text', () => {
    expect(plan.answers).toEqual([
      { index: 0, text: 'Too expensive' },
      { index: 1, text: 'App crashes' },
      { index: 2, text: '42' },
    ]);
    const answerOf = Object.fromEntries(plan.assignments.map((a) => [a.row, a.answer]));
    expect(answerOf).toMatchObject({ 2: 0, 6: 0, 8: 1, 11: 0, 12: 2 });
    for (const r of [3, 4, 5, 7, 9, 10]) expect(answerOf[r]).toBeUndefined();
  });

  it('keeps different answers apart when their keys hash alike, and still merges their duplicates', () => {
    // "answer 238098" and "answer 810216" have the same 30-bit FNV-1a hash, the planner's map key.
    const colliding = planRows([
      row(2, 'answer 238098'),
      row(3, 'answer 810216'),
      row(4, 'Answer 810216 '),
      row(5, 'ANSWER 238098'),
    ]);
    expect(colliding.answers.map((a) => a.text)).toEqual(['answer 238098', 'answer 810216']);
    expect(colliding.assignments.map((a) => a.answer)).toEqual([0, 1, 1, 0]);
  });

  it('plans the same whatever the hash seed (prepareJob draws a random one against crafted collisions)', () => {
    const rows = [
      row(2, 'answer 238098'),
      row(3, 'answer 810216'),
      row(4, 'Answer 810216 '),
      row(5, ''),
      row(6, 'ANSWER 238098'),
      row(7, 'n/a'),
      ...Array.from({ length: 500 }, (_, i) => row(8 + i, `answer ${i % 97}`)),
    ];
    const plan = (seed: number) => {
      const planner = new RowPlanner(seed);
      for (const r of rows) planner.add(r);
      return planner.finish();
    };
    const reference = planRows(rows);
    expect(reference.answers).toHaveLength(2 + 97);
    for (const seed of [0, 1, 0x3fffffff, 123_456_789]) expect(plan(seed)).toEqual(reference);
  });

  it('treats a blank category cell (spaces only) as not coded', () => {
    expect(planRows([row(2, 'good', '  ')]).counts.classify).toBe(1);
  });

  it('plans nothing for no rows', () => {
    expect(planRows([])).toEqual({
      counts: { total: 0, empty: 0, invalid: 0, coded: 0, classify: 0 },
      answers: [],
      assignments: [],
    });
  });
});

describe('planBatches', () => {
  // Answers a..e; duplicates of a (row 20) and b (row 21) appear after later answers.
  const rows: SheetAnswerRow[] = [
    row(2, 'a'),
    row(3, 'b'),
    row(4, ''),
    row(5, 'c'),
    row(6, 'd'),
    row(7, 'e'),
    row(20, 'A'),
    row(21, ' b '),
    row(22, 'coded', 'X'),
  ];
  const plan = planRows(rows);

  it('cuts unique answers into fixed batches with their sheet spans, duplicates included', () => {
    const batches = planBatches(plan, { size: 2 });
    expect(batches).toEqual([
      { index: 0, firstRow: 2, lastRow: 21, rows: 4, answers: 2, answerIds: [0, 1] },
      { index: 1, firstRow: 5, lastRow: 6, rows: 2, answers: 2, answerIds: [2, 3] },
      { index: 2, firstRow: 7, lastRow: 7, rows: 1, answers: 1, answerIds: [4] },
    ]);
  });

  it('covers every unique answer in exactly one batch, and every classify row once', () => {
    for (const size of [1, 2, 3, 10]) {
      const batches = planBatches(plan, { size });
      expect(batches.flatMap((b) => b.answerIds)).toEqual(plan.answers.map((a) => a.index));
      expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(plan.counts.classify);
      expect(batches.map((b) => b.index)).toEqual(batches.map((_, i) => i));
    }
  });

  it('cuts by tokens with auto batching', () => {
    const long = planRows(
      Array.from({ length: 40 }, (_, i) =>
        row(i + 2, `answer number ${i} ${'x'.repeat(i % 7 === 0 ? 400 : 20)}`),
      ),
    );
    const auto: AutoBatchOptions = {
      tokenTarget: 400,
      fixedTokens: 100,
      completionTokensPerItem: 15,
      maxItems: 8,
      countTokens: (text) => Math.ceil(text.length / 4),
    };
    const batches = planBatches(long, { size: 'auto', auto });
    expect(batches.length).toBeGreaterThan(5);
    expect(batches.flatMap((b) => b.answerIds)).toEqual(long.answers.map((a) => a.index));
    for (const b of batches) {
      const items = b.answerIds.map((id) => long.answers[id] ?? { text: '' });
      expect(b.answers).toBe(items.length);
      expect(b.answers).toBeLessThanOrEqual(8);
      if (b.answers > 1) expect(estimateBatchTokens(items, auto)).toBeLessThanOrEqual(400);
      expect(b.firstRow).toBe(Math.min(...b.answerIds.map((id) => id + 2)));
      expect(b.lastRow).toBe(Math.max(...b.answerIds.map((id) => id + 2)));
    }
  });

  it('plans no batch when nothing is to be classified', () => {
    expect(planBatches(planRows([row(2, ''), row(3, 'n/a')]), { size: 10 })).toEqual([]);
  });
});

describe('promptId', () => {
  it('is the 1-based position as text', () => {
    expect(promptId(0)).toBe('1');
    expect(promptId(9)).toBe('10');
    const ids = Array.from({ length: 200 }, (_, i) => promptId(i));
    expect(new Set(ids).size).toBe(200);
  });
});
