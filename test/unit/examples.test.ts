import { describe, expect, it } from 'vitest';

import { parseCategories } from '../../domain/categories.js';
import { codeframeOf } from '../../domain/codeframe.js';
import { chooseExamples } from '../../domain/examples.js';

const codeframe = codeframeOf(parseCategories('Price\nDelivery\nApp', 'test'));

/** Gold cells on rows 2, 3, …, each row its own answer (its index), the answer's text `answer <row>`. */
function choose(cells: readonly string[], multi: boolean, perCategory: number) {
  const gold = cells.map((cell, i) => [i + 2, cell] as const);
  return chooseExamples({
    codeframe,
    multi,
    gold,
    answerOfRow: new Map(gold.map(([row], i) => [row, i])),
    text: (answer) => `answer ${answer + 2}`,
    perCategory,
  });
}

function perCategory(examples: ReadonlyArray<{ readonly labels: readonly string[] }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of examples) for (const l of e.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

describe('chooseExamples', () => {
  it('multi-code: takes a row only while each of its codes has fewer than N, so none gets more than N', () => {
    const chosen = choose(
      ['Price', 'Price; App', 'Price; Delivery', 'Delivery', 'App; Delivery', 'App'],
      true,
      1,
    );
    // Rows 3 and 4 would give Price a second example, row 6 Delivery a second: passed over.
    expect(chosen.examples.map((e) => e.text)).toEqual(['answer 2', 'answer 5', 'answer 7']);
    expect(Math.max(...perCategory(chosen.examples).values())).toBeLessThanOrEqual(1);
  });

  it('multi-code with N = 2: every category at most 2, in sheet order', () => {
    const cells = ['Price; App', 'Price; Delivery', 'Price', 'App', 'Delivery; App', 'Delivery', 'App'];
    const chosen = choose(cells, true, 2);
    expect(chosen.examples.map((e) => e.text)).toEqual(['answer 2', 'answer 3', 'answer 5', 'answer 7']);
    expect(perCategory(chosen.examples)).toEqual(
      new Map([
        ['Price', 2],
        ['App', 2],
        ['Delivery', 2],
      ]),
    );
    expect(chosen.answers).toEqual([0, 1, 3, 5]);
  });

  it('single-label: up to N per category, unknown labels never', () => {
    const chosen = choose(['Price', 'price', 'Price', 'Prise', 'App'], false, 2);
    expect(chosen.examples.map((e) => e.text)).toEqual(['answer 2', 'answer 3', 'answer 6']);
  });
});
