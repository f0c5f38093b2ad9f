import { describe, expect, it } from 'vitest';

import type { CrosstabLine, CrosstabRow } from '../../domain/crosstab.js';
import {
  MIN_BASE,
  crosstab,
  erfc,
  normalCdf,
  parseBannerGroups,
  twoProportionZ,
} from '../../domain/crosstab.js';
import { InvalidBannerGroupsError, InvalidSettingError } from '../../domain/errors.js';

describe('erfc and the normal distribution function', () => {
  // Reference values: Python 3's math.erfc (the C library's erfc, correct to about one unit in the last
  // place); Φ(1.96) = 0.9750021, Φ(−3) = 0.0013499 and Φ(1) = 0.8413447 also appear in every normal table.
  it.each([
    [0, 1],
    [0.1, 0.8875370839817152],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [1.5, 0.033894853524689274],
    [2, 0.004677734981047265],
    [2.5, 0.0004069520174449589],
    [3, 2.2090496998585438e-5],
    [4, 1.541725790028002e-8],
    [6, 2.1519736712498916e-17],
    [10, 2.088487583762545e-45],
    [26, 5.663192408856143e-296],
  ])('erfc(%f) = %e to 1e-13 relative', (x, expected) => {
    expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(1e-13);
    expect(Math.abs(erfc(-x) - (2 - expected))).toBeLessThan(1e-15);
  });

  it.each([
    [1.96, 0.9750021048517795],
    [-1.96, 0.024997895148220435],
    [0, 0.5],
    [1, 0.8413447460685429],
    [-3, 0.0013498980316300957],
    [-5, 2.866515718791946e-7],
    [-8, 6.220960574271819e-16],
  ])('Φ(%f) = %e', (z, expected) => {
    expect(Math.abs(normalCdf(z) - expected) / expected).toBeLessThan(1e-13);
  });

  it('is monotone and bounded far out in both tails', () => {
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
    let previous = 0;
    for (let z = -10; z <= 10; z += 0.01) {
      const p = normalCdf(z);
      expect(p).toBeGreaterThanOrEqual(previous);
      previous = p;
    }
  });
});

describe('twoProportionZ', () => {
  it('30/100 against 20/100, worked by hand', () => {
    // p₁ = 0.30, p₂ = 0.20, pooled p = 50/200 = 0.25.
    // SE = √(0.25 · 0.75 · (1/100 + 1/100)) = √0.00375 = 0.0612372…
    // z = 0.10 / 0.0612372 = 1.6329932; two-sided p = 2·(1 − Φ(1.6329932)) = 0.1024704.
    const { z, p } = twoProportionZ(30, 100, 20, 100);
    expect(z).toBeCloseTo(0.1 / Math.sqrt(0.00375), 12);
    expect(z).toBeCloseTo(1.6329932, 6);
    expect(p).toBeCloseTo(0.1024704, 6);
  });

  it('45/60 against 100/200, unequal samples', () => {
    // p₁ = 0.75, p₂ = 0.50, pooled p = 145/260 = 0.5576923.
    // SE = √(0.5576923 · 0.4423077 · (1/60 + 1/200)) = √(0.2466716 · 0.0216667) = 0.0731064
    // z = 0.25 / 0.0731064 = 3.4196715; p = 2·(1 − Φ(3.4196715)) = 0.000627.
    const { z, p } = twoProportionZ(45, 60, 100, 200);
    expect(z).toBeCloseTo(3.4196715, 6);
    expect(p).toBeCloseTo(0.00062697, 7);
  });

  it('12/40 against 30/60: just significant at 95 %, negative z when the first share is lower', () => {
    // p₁ = 0.30, p₂ = 0.50, pooled p = 0.42; SE = √(0.42 · 0.58 · (1/40 + 1/60)) = √0.01015 = 0.1007472;
    // z = −0.20 / 0.1007472 = −1.9851667; p = 0.0471259.
    const { z, p } = twoProportionZ(12, 40, 30, 60);
    expect(z).toBeCloseTo(-1.9851667, 6);
    expect(p).toBeCloseTo(0.0471259, 6);
    expect(twoProportionZ(30, 60, 12, 40).z).toBeCloseTo(1.9851667, 6);
  });

  it('nothing to test when both shares are 0 or both are 1', () => {
    expect(twoProportionZ(0, 50, 0, 80)).toEqual({ z: 0, p: 1 });
    expect(twoProportionZ(50, 50, 80, 80)).toEqual({ z: 0, p: 1 });
  });

  it('refuses an empty sample or a count above its sample', () => {
    expect(() => twoProportionZ(0, 0, 1, 10)).toThrow(RangeError);
    expect(() => twoProportionZ(11, 10, 1, 10)).toThrow(/second|first/);
    expect(() => twoProportionZ(1, 10, -1, 10)).toThrow(/second sample/);
  });
});

function line(lines: readonly CrosstabLine[], label: string): CrosstabLine {
  const found = lines.find((l) => l.label === label);
  if (!found) throw new Error(`no line ${label}`);
  return found;
}

const counts = (l: CrosstabLine) => l.cells.map((c) => c.count);

describe('crosstab: counts, bases and percentages', () => {
  const ROWS: CrosstabRow[] = [
    { labels: ['Price'], banner: 'North' },
    { labels: ['Price', 'Delivery'], banner: 'North' },
    { labels: ['Delivery', 'Staff'], banner: 'South' },
    { labels: ['Staff', 'staff'], banner: 'South' }, // one respondent, one Staff
    { labels: ['Other'], banner: null },
    { labels: [], banner: 'North' }, // not coded: in no base
    { labels: ['Price'], banner: ' South ' },
    { labels: ['Legacy code'], banner: 'North' }, // a code outside the list
    { labels: ['  '], banner: 'South' }, // blank: not coded
    { labels: ['Delivery'], banner: '' }, // no banner value: Total only
  ];
  const OPTS = {
    codes: ['Price', 'Delivery', 'Staff', 'Other'],
    nets: [{ name: 'Service', codes: ['Delivery', 'Staff'] }],
  };

  it('has the banner values, then Total, each with its base of coded respondents', () => {
    const t = crosstab(ROWS, OPTS);
    expect(t.columns).toEqual([
      { label: 'North', total: false, base: 3 },
      { label: 'South', total: false, base: 3 },
      { label: 'Total', total: true, base: 8 },
    ]);
    expect(t.noBanner).toBe(2);
    expect(t.uncoded).toBe(2);
  });

  it('counts each respondent once per code and once per net', () => {
    const t = crosstab(ROWS, OPTS);
    expect(t.lines.map((l) => [l.kind, l.label, counts(l)])).toEqual([
      ['code', 'Price', [2, 1, 3]],
      ['code', 'Delivery', [1, 1, 3]],
      ['code', 'Staff', [0, 2, 2]],
      ['code', 'Other', [0, 0, 1]],
      ['code', 'Legacy code', [1, 0, 1]],
      // Delivery or Staff: respondents 2 (North), 3 and 4 (South), 10 (no banner); respondent 3 has both.
      ['net', 'Service', [1, 2, 4]],
    ]);
  });

  it('gives column percentages of the base, as fractions, and no marks on small bases', () => {
    const t = crosstab(ROWS, OPTS);
    expect(line(t.lines, 'Price').cells.map((c) => c.percent)).toEqual([2 / 3, 1 / 3, 3 / 8]);
    expect(line(t.lines, 'Service').cells.map((c) => c.percent)).toEqual([1 / 3, 2 / 3, 4 / 8]);
    expect(t.lines.flatMap((l) => l.cells).every((c) => c.p === null && c.mark === undefined)).toBe(true);
  });

  it('puts listed columns first in the order given, the rest sorted naturally', () => {
    const rows: CrosstabRow[] = ['Wave 10', 'Wave 2', 'Wave 1', 'East', 'Wave 2'].map((banner) => ({
      labels: ['Price'],
      banner,
    }));
    const t = crosstab(rows, { codes: ['Price'], columns: ['Wave 2', 'North'] });
    expect(t.columns.map((c) => [c.label, c.base])).toEqual([
      ['Wave 2', 2],
      ['North', 0], // listed, none seen: an empty column, percentages null
      ['East', 1],
      ['Wave 1', 1],
      ['Wave 10', 1],
      ['Total', 5],
    ]);
    expect(t.lines[0]!.cells[1]).toEqual({ count: 0, percent: null, p: null, mark: undefined });
  });

  it('with no rows: only Total, base 0, percentages null', () => {
    const t = crosstab([], { codes: ['Price'] });
    expect(t.columns).toEqual([{ label: 'Total', total: true, base: 0 }]);
    expect(t.lines[0]!.cells).toEqual([{ count: 0, percent: null, p: null, mark: undefined }]);
  });

  it('refuses a net with a code that is not in the list, or with no codes', () => {
    expect(() =>
      crosstab(ROWS, { codes: ['Price'], nets: [{ name: 'Service', codes: ['Delivry'] }] }),
    ).toThrow(InvalidSettingError);
    expect(() =>
      crosstab(ROWS, { codes: ['Price'], nets: [{ name: 'Service', codes: ['Delivry'] }] }),
    ).toThrow(/"Delivry", which is not a code/);
    expect(() => crosstab(ROWS, { codes: ['Price'], nets: [{ name: 'Empty', codes: [] }] })).toThrow(
      /no codes/,
    );
  });

  it('refuses a smallest base for tests that is not a number of 0 or more', () => {
    expect(() => crosstab(ROWS, { codes: ['Price'], minBase: Number.NaN })).toThrow(InvalidSettingError);
    expect(() => crosstab(ROWS, { codes: ['Price'], minBase: -1 })).toThrow(/minBase/);
  });
});

/** `n` respondents in `banner`, the first `withPrice` of them coded Price, the others Delivery. */
function group(banner: string | null, n: number, withPrice: number): CrosstabRow[] {
  return Array.from({ length: n }, (_, i) => ({ labels: [i < withPrice ? 'Price' : 'Delivery'], banner }));
}

describe('crosstab: significance against the rest of the row', () => {
  // A: 12 of 40 coded Price; B and C: 15 of 30 each. A against B + C is 12/40 against 30/60:
  // z = −1.9851667, p = 0.0471 (worked in the twoProportionZ tests) → A lower. B against A + C is 15/30
  // against 27/70: pooled 0.42, SE = √(0.42 · 0.58 · (1/30 + 1/70)) = 0.1077, z = 0.1143 / 0.1077 = 1.06,
  // p ≈ 0.29 → no mark.
  const ROWS = [...group('A', 40, 12), ...group('B', 30, 15), ...group('C', 30, 15)];

  it('marks a column whose share differs at 95 % and leaves the others unmarked', () => {
    const price = line(crosstab(ROWS, { codes: ['Price', 'Delivery'] }).lines, 'Price');
    expect(price.cells[0]!.p).toBeCloseTo(0.0471259, 6);
    expect(price.cells.map((c) => c.mark)).toEqual(['lower', undefined, undefined, undefined]);
    expect(price.cells[1]!.p).toBeCloseTo(twoProportionZ(15, 30, 27, 70).p, 12);
    expect(price.cells[1]!.p).toBeGreaterThan(0.05);
    // Delivery mirrors Price (every respondent has exactly one of them): A is higher.
    const delivery = line(crosstab(ROWS, { codes: ['Price', 'Delivery'] }).lines, 'Delivery');
    expect(delivery.cells.map((c) => c.mark)).toEqual(['higher', undefined, undefined, undefined]);
  });

  it('never tests the Total column', () => {
    const t = crosstab(ROWS, { codes: ['Price', 'Delivery'] });
    expect(t.lines.every((l) => l.cells.at(-1)!.p === null && l.cells.at(-1)!.mark === undefined)).toBe(true);
  });

  it('respondents without a banner value are in Total but not in the rest of the row', () => {
    const t = crosstab([...ROWS, ...group(null, 50, 50)], { codes: ['Price', 'Delivery'] });
    const price = line(t.lines, 'Price');
    expect(price.cells[0]!.p).toBeCloseTo(0.0471259, 6);
    expect(price.cells.at(-1)).toMatchObject({ count: 42 + 50, percent: 92 / 150 });
    expect(t.noBanner).toBe(50);
  });

  it(`does not test where the column or the rest has a base under ${MIN_BASE}, or under minBase`, () => {
    // D: 29 respondents; E: 29 + 30 = 59. D's base is too small; so is the rest of E's row.
    const small = crosstab([...group('D', 29, 2), ...group('E', 59, 40)], { codes: ['Price'] });
    expect(line(small.lines, 'Price').cells.map((c) => c.p)).toEqual([null, null, null]);
    const strict = crosstab(ROWS, { codes: ['Price'], minBase: 50 });
    expect(line(strict.lines, 'Price').cells.every((c) => c.p === null)).toBe(true);
  });

  it('does not test a code so rare that an expected count is under 5', () => {
    // Staff: 1 respondent in 100; pooled share 0.01, so the expected count in A is 40 · 0.01 = 0.4.
    const rows = ROWS.map((r, i) => (i === 0 ? { ...r, labels: ['Staff'] } : r));
    const staff = line(crosstab(rows, { codes: ['Price', 'Delivery', 'Staff'] }).lines, 'Staff');
    expect(staff.cells.map((c) => c.count)).toEqual([1, 0, 0, 1]);
    expect(staff.cells.every((c) => c.p === null && c.mark === undefined)).toBe(true);
  });

  it('with one banner value only there is no rest of the row to test against', () => {
    const t = crosstab(group('A', 100, 30), { codes: ['Price'] });
    expect(t.lines[0]!.cells[0]!.p).toBeNull();
  });
});

describe('parseBannerGroups', () => {
  it('groups an NPS score into Detractors, Passives and Promoters', () => {
    const nps = parseBannerGroups('0-6,7-8,9-10');
    expect(nps.groups).toEqual(['Detractors', 'Passives', 'Promoters']);
    expect([0, 6, 7, 8, 9, 10].map(nps)).toEqual([
      'Detractors',
      'Detractors',
      'Passives',
      'Passives',
      'Promoters',
      'Promoters',
    ]);
    expect(parseBannerGroups('NPS').groups).toEqual(['Detractors', 'Passives', 'Promoters']);
  });

  it('takes names after "=", and spaces anywhere', () => {
    const g = parseBannerGroups(' 0 - 6 = Unhappy , 7-8=Neutral,9–10=Happy ');
    expect(g.groups).toEqual(['Unhappy', 'Neutral', 'Happy']);
    expect(g(3)).toBe('Unhappy');
    expect(g(10)).toBe('Happy');
  });

  it('calls unnamed groups by their range, single values included', () => {
    const g = parseBannerGroups('1-3,4,5');
    expect(g.groups).toEqual(['1-3', '4', '5']);
    expect([1, 3, 4, 5].map(g)).toEqual(['1-3', '1-3', '4', '5']);
  });

  it('joins ranges with the same name into one group', () => {
    const g = parseBannerGroups('1-2=Extreme,3=Middle,4-5=extreme');
    expect(g.groups).toEqual(['Extreme', 'Middle']);
    expect(g(5)).toBe('Extreme');
  });

  it('reads numbers in text, with a decimal comma or a label after them', () => {
    const g = parseBannerGroups('0-6,7-8,9-10');
    expect(g(' 8 ')).toBe('Passives');
    expect(g('10 - Extremely likely')).toBe('Promoters');
    expect(g('0 = Not at all likely')).toBe('Detractors');
    expect(g('9 Very likely')).toBe('Promoters');
    expect(parseBannerGroups('0-2.5=Low,2.6-5=High')('2,5')).toBe('Low');
  });

  it('maps everything outside every group to null', () => {
    const g = parseBannerGroups('0-6,7-8,9-10');
    for (const value of [11, -1, 6.5, Number.NaN, '7-8', 'n/a', '', null, undefined, true, {}]) {
      expect(g(value)).toBeNull();
    }
  });

  it.each([
    ['0-6,x', /group 2 \("x"\) is not a number or a range/],
    ['', /no groups given/],
    ['  ', /no groups given/],
    ['0-6,,7-8', /group 2 is empty/],
    ['0-6,7-8,', /group 3 is empty/],
    ['8-7', /group 1 \("8-7"\) starts above where it ends/],
    ['0-6,5-8', /groups 1 \("0-6"\) and 2 \("5-8"\) overlap/],
    ['0-6,7-8,8', /groups 2 \("7-8"\) and 3 \("8"\) overlap/],
    ['0-6=', /group 1 \("0-6="\) has no name after "="/],
    ['-1-5', /group 1 \("-1-5"\) is not a number or a range/],
    ['0-6=Low=er', /group 1 \("0-6=Low=er"\) has more than one "="/],
  ])('%j is refused, saying what is wrong', (spec, message) => {
    expect(() => parseBannerGroups(spec)).toThrow(InvalidBannerGroupsError);
    expect(() => parseBannerGroups(spec)).toThrow(message);
    expect(() => parseBannerGroups(spec)).toThrow(/Write ranges such as 0-6,7-8,9-10/);
  });

  it('carries the spec and the reason, for the API to show against its field', () => {
    const error = (() => {
      try {
        parseBannerGroups('0-6,x');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidBannerGroupsError);
    expect(error).toMatchObject({
      code: 'invalid_banner_groups',
      field: 'bannerGroups',
      spec: '0-6,x',
      reason: 'group 2 ("x") is not a number or a range such as 0-6',
    });
  });

  it('feeds a crosstab, its groups giving the column order', () => {
    const nps = parseBannerGroups('0-6,7-8,9-10');
    const scores = [10, 9, 3, 7, 12, 0, 8];
    const t = crosstab(
      scores.map((score) => ({ labels: ['Price'], banner: nps(score) })),
      { codes: ['Price'], columns: nps.groups },
    );
    expect(t.columns.map((c) => [c.label, c.base])).toEqual([
      ['Detractors', 2],
      ['Passives', 2],
      ['Promoters', 2],
      ['Total', 7],
    ]);
    expect(t.noBanner).toBe(1); // the 12: in no group
  });
});
