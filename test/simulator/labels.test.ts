import { describe, expect, it } from 'vitest';
import { buildInstructions } from '../../domain/prompt.js';
import { expectedLabel } from '../../simulator/index.js';
import { expectedLabels, isWrongAnswer, wrongLabels } from '../../simulator/labels.js';
import { NETTED_CATEGORIES, expectedSet, makeMultiAnswers } from '../helpers/survey.js';
import { categoriesFromPrompt } from '../../domain/prompt.js';

describe('expectedLabel', () => {
  const categories = [
    { name: 'Price', description: 'cost, too expensive; cheap' },
    { name: 'Customer service', description: 'staff, waiting time' },
    { name: 'UI' },
  ];

  it('finds a name as a whole word, in any case', () => {
    expect(expectedLabel('The PRICE.', categories)).toBe('Price');
    expect(expectedLabel('price', categories)).toBe('Price');
    expect(expectedLabel('(price)', categories)).toBe('Price');
  });

  it('does not find a keyword inside a longer word', () => {
    expect(expectedLabel('priceless experience', categories)).toBe('Other');
    expect(expectedLabel('a costly mistake', categories)).toBe('Other');
    expect(expectedLabel('the guide', categories)).toBe('Other');
    expect(expectedLabel('UI2 is nice', categories)).toBe('Other');
  });

  it('uses word boundaries that know letters beyond ASCII', () => {
    const french = [{ name: 'Café' }];
    expect(expectedLabel('le café était froid', french)).toBe('Café');
    expect(expectedLabel('cafés partout', french)).toBe('Other');
    expect(expectedLabel('écafé', french)).toBe('Other');
  });

  it('normalises the answer (NFKC, case, whitespace) before matching', () => {
    expect(expectedLabel('ｐｒｉｃｅ', categories)).toBe('Price'); // full-width letters
    expect(expectedLabel('Customer\n   SERVICE was slow', categories)).toBe('Customer service');
  });

  it("matches the description's comma- and semicolon-separated phrases", () => {
    expect(expectedLabel('Way too expensive', categories)).toBe('Price');
    expect(expectedLabel('it is cheap', categories)).toBe('Price');
    expect(expectedLabel('the waiting time was long', categories)).toBe('Customer service');
    expect(expectedLabel('waiting', categories)).toBe('Other');
  });

  it('ignores description phrases shorter than 3 characters', () => {
    expect(expectedLabel('an ok product', [{ name: 'Fine', description: 'ok, alright' }])).toBe('Other');
    expect(expectedLabel('alright then', [{ name: 'Fine', description: 'ok, alright' }])).toBe('Fine');
  });

  it('takes the first category in the given order, not the first keyword in the answer', () => {
    const answer = 'The staff said the price is fixed';
    expect(expectedLabel(answer, categories)).toBe('Price');
    expect(expectedLabel(answer, [...categories].reverse())).toBe('Customer service');
  });

  it('never matches the fallback by keyword and spells it as the categories do', () => {
    expect(expectedLabel('nothing relevant', categories)).toBe('Other');
    expect(expectedLabel('other things', [{ name: 'OTHER', description: 'things' }, { name: 'Price' }])).toBe(
      'OTHER',
    );
    expect(expectedLabel('', [{ name: 'other' }])).toBe('other');
  });
});

describe('expectedLabels', () => {
  const categories = [
    { name: 'Price', description: 'expensive, cheap' },
    { name: 'Other', description: 'rude' },
    { name: 'Delivery', description: 'late' },
    { name: 'Service', description: 'rude, staff' },
  ];

  it('multi-code: every category with a keyword, in the categories order, the fallback never among them', () => {
    const mode = { multi: true, maxCodes: 5 } as const;
    expect(expectedLabels('late and expensive, rude staff', categories, mode)).toEqual([
      'Price',
      'Delivery',
      'Service',
    ]);
    expect(expectedLabels('nothing', categories, mode)).toEqual(['Other']);
  });

  it('multi-code: at most the maximum, the first ones', () => {
    expect(
      expectedLabels('late and expensive, rude staff', categories, { multi: true, maxCodes: 2 }),
    ).toEqual(['Price', 'Delivery']);
  });

  it('agrees with the tests own reading of the multi-code answers, which mention 0 to 4 topics', () => {
    const answers = makeMultiAnswers(500);
    const sizes = new Set<number>();
    for (const answer of answers) {
      const want = expectedSet(answer, NETTED_CATEGORIES, 3);
      sizes.add(expectedSet(answer, NETTED_CATEGORIES, 9).length);
      expect(expectedLabels(answer, NETTED_CATEGORIES, { multi: true, maxCodes: 3 }), answer).toEqual(want);
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 4]);
  });

  it('single-label: the first match, as expectedLabel', () => {
    expect(expectedLabels('late and expensive', categories, { multi: false })).toEqual(['Price']);
  });
});

describe('categoriesFromPrompt', () => {
  it('recovers names and descriptions from the instructions domain/prompt.ts builds', () => {
    const categories = [
      { name: 'Price', description: 'cost, too expensive' },
      { name: 'Service' },
      { name: 'Rules', description: 'a category named like a prompt section' },
    ];
    const instructions = buildInstructions('Why?', categories);
    expect(categoriesFromPrompt(instructions)).toEqual([
      ...categories,
      { name: 'Other', description: 'the answer fits none of the other categories' },
    ]);
  });
});

describe('wrongRate: answers coded wrong on purpose', () => {
  const answers = Array.from({ length: 2_000 }, (_, i) => `answer number ${i}`);

  it('picks the same answers every time, whatever their case and spacing, close to the rate', () => {
    const wrong = answers.filter((a) => isWrongAnswer(a, 0.2));
    expect(wrong.length / answers.length).toBeGreaterThan(0.17);
    expect(wrong.length / answers.length).toBeLessThan(0.23);
    expect(answers.filter((a) => isWrongAnswer(`  ${a.toUpperCase()} `, 0.2))).toEqual(wrong);
    expect(answers.filter((a) => isWrongAnswer(a, 0))).toEqual([]);
    // A higher rate keeps the answers a lower one picked.
    const more = new Set(answers.filter((a) => isWrongAnswer(a, 0.5)));
    expect(wrong.every((a) => more.has(a))).toBe(true);
  });

  it('gives a label other than the right one, from the allowed ones', () => {
    const allowed = ['Price', 'Delivery', 'App', 'Other'];
    expect(wrongLabels(['Price'], allowed, { multi: false })).toEqual(['Delivery']);
    expect(wrongLabels(['App'], allowed, { multi: false })).toEqual(['Other']);
    expect(wrongLabels(['Other'], allowed, { multi: false })).toEqual(['Price']);
    expect(wrongLabels(['Price', 'App'], allowed, { multi: true, maxCodes: 5 })).toEqual(['Delivery', 'App']);
    expect(wrongLabels(['Other'], allowed, { multi: true, maxCodes: 5 })).toEqual(['Price']);
  });
});
