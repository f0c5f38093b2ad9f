import { describe, expect, it } from 'vitest';

import {
  coincidences,
  cohenKappa,
  cohenKappaFromTable,
  krippendorffAlphaNominal,
} from '../../domain/agreement.js';

/**
 * Reliability data written as the papers print it: one string per coder, values separated by spaces,
 * `.` for a value the coder did not give. Returns units (columns) of values, as the functions take them.
 */
function units(...coders: string[]): Array<Array<string | null>> {
  const rows = coders.map((c) => c.split(/\s+/).map((v) => (v === '.' ? null : v)));
  const width = rows[0]!.length;
  for (const row of rows) expect(row).toHaveLength(width);
  return Array.from({ length: width }, (_, u) => rows.map((row) => row[u]!));
}

/** Pairs from a two-rater table of counts, rows the first rater, columns the second. */
function pairsOf(table: number[][], names: string[]): Array<[string, string]> {
  return table.flatMap((row, a) =>
    row.flatMap((count, b) => Array.from({ length: count }, (): [string, string] => [names[a]!, names[b]!])),
  );
}

/** A small seeded generator (mulberry32), so a failing random case can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe("Krippendorff's alpha against the published worked examples", () => {
  // Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
  // Communication, University of Pennsylvania, https://repository.upenn.edu/asc_papers/43. Sections A–C.
  // The data are also reproduced in the test suites of implementations: jucor/krippendorff (R,
  // tests/testthat/test-binary.R and data-raw/nominal.R: 0.743 and 0.0952) and
  // pln-fing-udelar/fast-krippendorff (Python `krippendorff` package, tests/test_krippendorff.py).

  it('A. binary data, two observers, no missing data: α = 0.095', () => {
    // Coincidences o00 = 10, o01 = o10 = 4, o11 = 2; n0 = 14, n1 = 6, n = 20.
    // α = 1 − (n − 1)·o01 / (n0·n1) = 1 − 19·4 / 84 = 0.0952…
    const data = units('0 1 0 0 0 0 0 0 1 0', '1 1 1 0 0 1 0 0 0 0');
    const c = coincidences(data);
    expect(c.values).toEqual(['0', '1']);
    expect(c.matrix).toEqual([
      [10, 4],
      [4, 2],
    ]);
    expect(c.totals).toEqual([14, 6]);
    expect(c.n).toBe(20);
    const alpha = krippendorffAlphaNominal(data);
    expect(alpha).toBeCloseTo(1 - (19 * 4) / 84, 12);
    expect(alpha!.toFixed(3)).toBe('0.095');
  });

  it('the same margins in Krippendorff (2004, §11.3.1), Jon and Han: α = 0.095', () => {
    // jucor/krippendorff data-raw/krippendorff2004.binary.two.observers.csv; test-binary.R expects .0952.
    const alpha = krippendorffAlphaNominal(units('1 1 0 0 0 0 0 0 0 0', '0 1 1 0 0 1 0 1 0 0'));
    expect(alpha).toBeCloseTo(0.0952, 4);
  });

  it('B. nominal data, two observers, no missing data: α = 0.692', () => {
    // Ben and Gerry, 12 units, values a–e. n_a = 4, n_b = 6, n_c = 6, n_d = 6, n_e = 2, n = 24; three
    // disagreeing units give Σ_{c≠k} o_ck = 6. α = 1 − 23·6 / (24² − 128) = 1 − 138/448 = 155/224.
    const alpha = krippendorffAlphaNominal(units('a a b b d c c c e d d a', 'b a b b b c c c e d d d'));
    expect(alpha).toBeCloseTo(155 / 224, 12);
    expect(alpha!.toFixed(3)).toBe('0.692');
  });

  it('C. nominal data, any number of observers, missing data: α = 0.743', () => {
    // Four observers, 12 units; unit 12 has one value only and is dropped.
    const data = units(
      '1 2 3 3 2 1 4 1 2 . . .',
      '1 2 3 3 2 2 4 1 2 5 . 3',
      '. 3 3 3 2 3 4 2 2 5 1 .',
      '1 2 3 3 2 4 4 1 2 5 1 .',
    );
    const c = coincidences(data);
    expect(c.values).toEqual(['1', '2', '3', '4', '5']);
    // The paper's coincidence matrix: n_1..n_5 = 9, 13, 10, 5, 3; n = 40; o_12 = 4/3, o_44 = 4.
    expect(c.totals).toEqual([9, 13, 10, 5, 3]);
    expect(c.n).toBe(40);
    expect(c.matrix[0]![1]).toBeCloseTo(4 / 3, 12);
    expect(c.matrix[3]![3]).toBeCloseTo(4, 12);
    // Σ_{c≠k} o_ck = 8; α = 1 − 39·8 / (40² − 384) = 1 − 312/1216.
    const alpha = krippendorffAlphaNominal(data);
    expect(alpha).toBeCloseTo(1 - 312 / 1216, 12);
    expect(alpha!.toFixed(3)).toBe('0.743');
  });

  it("Wikipedia's computational example, three coders, 15 units with gaps: α = 0.691358", () => {
    // pln-fing-udelar/fast-krippendorff tests/test_krippendorff.py, test_nominal_metric_reliability_data.
    const alpha = krippendorffAlphaNominal(
      units(
        '. . . . . 3 4 1 2 1 1 3 3 . 3',
        '1 . 2 1 3 3 4 3 . . . . . . .',
        '. . 2 1 3 4 4 . 2 1 1 3 3 . 4',
      ),
    );
    expect(alpha!.toFixed(6)).toBe('0.691358');
  });

  it('string labels, three coders, one gap: α = 0.722222', () => {
    // pln-fing-udelar/fast-krippendorff tests/test_krippendorff.py, test_string_labels_nominal.
    const alpha = krippendorffAlphaNominal(units('pos neg neu .', 'pos neg neu pos', 'pos neg pos pos'));
    expect(alpha!.toFixed(6)).toBe('0.722222');
  });
});

describe("Cohen's kappa against published examples", () => {
  it('Cohen (1968), Table 1: 200 cases, three diagnoses, κ = .492', () => {
    // Cohen, J. (1968). Weighted kappa. Psychological Bulletin 70(4), Table 1, as proportions of N = 200:
    // .44 .07 .09 / .05 .20 .05 / .01 .03 .06 (reproduced in the R `psych` package, cohen.kappa examples:
    // "cohen reports .492"). p_o = .70; marginals .60 .30 .10 and .50 .30 .20 give p_e = .41;
    // κ = (.70 − .41) / (1 − .41) = 29/59.
    const table = [
      [88, 14, 18],
      [10, 40, 10],
      [2, 6, 12],
    ];
    expect(cohenKappaFromTable(table)).toBeCloseTo(29 / 59, 12);
    expect(cohenKappaFromTable(table)!.toFixed(3)).toBe('0.492');
    expect(cohenKappa(pairsOf(table, ['personality', 'neurosis', 'psychosis']))).toBeCloseTo(29 / 59, 12);
  });

  it('50 grant proposals read by two readers: κ = 0.4', () => {
    // The Wikipedia "Cohen's kappa" worked example (also at howcodex.com/statistics/cohen_kappa_coefficient.htm):
    // yes/yes 20, yes/no 5, no/yes 10, no/no 15. p_o = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5.
    const table = [
      [20, 5],
      [10, 15],
    ];
    expect(cohenKappaFromTable(table)).toBeCloseTo(0.4, 12);
    expect(cohenKappa(pairsOf(table, ['yes', 'no']))).toBeCloseTo(0.4, 12);
  });

  it('raw ratings with a category only one rater used: κ = 0.633', () => {
    // tidycomm (joon-e/tidycomm) tests/testthat/test-icr_kappa.R expects 0.633. By hand: 7 of 9 agree;
    // rater 1 uses 1,2,4 five, three and one times, rater 2 uses 1,2,3 four, four and one times:
    // p_e = (5·4 + 3·4) / 81 = 32/81, κ = (63 − 32) / (81 − 32) = 31/49.
    const first = '1 2 4 1 2 1 1 1 2'.split(' ');
    const second = '1 2 3 1 2 2 1 1 2'.split(' ');
    const kappa = cohenKappa(first.map((a, i): [string, string] => [a, second[i]!]));
    expect(kappa).toBeCloseTo(31 / 49, 12);
    expect(kappa!.toFixed(3)).toBe('0.633');
  });
});

describe('kappa and alpha edge cases', () => {
  it('no data: null, not 0 and not NaN', () => {
    expect(cohenKappa([])).toBeNull();
    expect(cohenKappaFromTable([])).toBeNull();
    expect(
      cohenKappaFromTable([
        [0, 0],
        [0, 0],
      ]),
    ).toBeNull();
    expect(krippendorffAlphaNominal([])).toBeNull();
  });

  it('alpha drops units with fewer than two values, and is null when none is left', () => {
    expect(
      krippendorffAlphaNominal([
        ['a', null],
        [null, 'b'],
        [null, null],
      ]),
    ).toBeNull();
    const withLoners = krippendorffAlphaNominal([...units('a b a b', 'b a b a'), ['a', null], ['b']]);
    expect(withLoners).toBe(krippendorffAlphaNominal(units('a b a b', 'b a b a')));
  });

  it('one category only, on both sides: 1 (perfect agreement, nothing for chance to explain)', () => {
    const same = Array.from({ length: 5 }, (): [string, string] => ['Price', 'Price']);
    expect(cohenKappa(same)).toBe(1);
    expect(krippendorffAlphaNominal(same)).toBe(1);
    expect(krippendorffAlphaNominal([['x', 'x', 'x', null]])).toBe(1);
  });

  it('perfect agreement over several categories: 1', () => {
    const pairs = ['a', 'b', 'c', 'a'].map((v): [string, string] => [v, v]);
    expect(cohenKappa(pairs)).toBe(1);
    expect(krippendorffAlphaNominal(pairs)).toBe(1);
  });

  it('systematic disagreement goes below 0', () => {
    // (a,b), (b,a): p_o = 0, p_e = ½ → κ = −1. Coincidences o_ab = o_ba = 2, n_a = n_b = 2, n = 4:
    // α = 1 − 3·4 / (16 − 8) = −0.5.
    const pairs: Array<[string, string]> = [
      ['a', 'b'],
      ['b', 'a'],
    ];
    expect(cohenKappa(pairs)).toBe(-1);
    expect(krippendorffAlphaNominal(pairs)).toBe(-0.5);
  });

  it('a single pair that disagrees gives finite figures', () => {
    // κ: n = 1, agreed 0, chance 0 → 0/1 = 0. α: o_ab = o_ba = 1, n = 2 → 1 − 1·2/2 = 0.
    expect(cohenKappa([['a', 'b']])).toBe(0);
    expect(krippendorffAlphaNominal([['a', 'b']])).toBe(0);
  });
});

describe('kappa and alpha against independent computations on random data', () => {
  /** κ the textbook way: p_o, then p_e as the sum of products of each rater's shares. */
  function naiveKappa(a: string[], b: string[]): number {
    const n = a.length;
    const po = a.filter((v, i) => v === b[i]).length / n;
    let pe = 0;
    for (const v of new Set([...a, ...b])) {
      pe += (a.filter((x) => x === v).length / n) * (b.filter((x) => x === v).length / n);
    }
    return (po - pe) / (1 - pe);
  }

  /** α = 1 − D_o/D_e by enumerating every ordered pair of values (Krippendorff's pairwise definition). */
  function naiveAlpha(data: Array<Array<string | null>>): number {
    const pairable = data.map((u) => u.filter((v): v is string => v !== null)).filter((u) => u.length >= 2);
    const all = pairable.flat();
    const n = all.length;
    let within = 0;
    for (const unit of pairable) {
      let d = 0;
      for (let i = 0; i < unit.length; i += 1) {
        for (let j = 0; j < unit.length; j += 1) if (i !== j && unit[i] !== unit[j]) d += 1;
      }
      within += d / (unit.length - 1);
    }
    let between = 0;
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < n; j += 1) if (i !== j && all[i] !== all[j]) between += 1;
    }
    return 1 - within / n / (between / (n * (n - 1)));
  }

  it('κ equals p_o and p_e computed directly', () => {
    const next = random(20_240_601);
    let checked = 0;
    for (let trial = 0; trial < 300; trial += 1) {
      const n = 1 + Math.floor(next() * 60);
      const k = 2 + Math.floor(next() * 5);
      const skew = next(); // some trials lean on one category, as real codes do
      const pick = () => String(next() < skew ? 0 : Math.floor(next() * k));
      const a = Array.from({ length: n }, pick);
      const b = a.map((v) => (next() < 0.6 ? v : pick()));
      const kappa = cohenKappa(a.map((v, i): [string, string] => [v, b[i]!]));
      const expected = naiveKappa(a, b);
      if (Number.isNaN(expected)) {
        expect(kappa).toBe(1); // both used one and the same category only: 0/0 by the textbook
        continue;
      }
      expect(kappa).toBeCloseTo(expected, 10);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(250);
  });

  it('two-coder α equals 1 − (2N − 1)/(2N)·(1 − π), with Scott’s π computed directly', () => {
    const next = random(7);
    for (let trial = 0; trial < 200; trial += 1) {
      const n = 2 + Math.floor(next() * 40);
      const k = 2 + Math.floor(next() * 4);
      const a = Array.from({ length: n }, () => String(Math.floor(next() * k)));
      const b = a.map((v) => (next() < 0.5 ? v : String(Math.floor(next() * k))));
      const po = a.filter((v, i) => v === b[i]).length / n;
      let pe = 0;
      for (const v of new Set([...a, ...b])) {
        const share = (a.filter((x) => x === v).length + b.filter((x) => x === v).length) / (2 * n);
        pe += share * share;
      }
      if (pe === 1) continue;
      const pi = (po - pe) / (1 - pe);
      const alpha = krippendorffAlphaNominal(a.map((v, i) => [v, b[i]!]));
      expect(alpha).toBeCloseTo(1 - ((2 * n - 1) / (2 * n)) * (1 - pi), 10);
    }
  });

  it('α with several coders and gaps equals the pairwise definition', () => {
    const next = random(99);
    let checked = 0;
    for (let trial = 0; trial < 200; trial += 1) {
      const coders = 2 + Math.floor(next() * 4);
      const width = 1 + Math.floor(next() * 20);
      const k = 2 + Math.floor(next() * 4);
      const data = Array.from({ length: width }, () => {
        const truth = String(Math.floor(next() * k));
        return Array.from({ length: coders }, () =>
          next() < 0.25 ? null : next() < 0.7 ? truth : String(Math.floor(next() * k)),
        );
      });
      const expected = naiveAlpha(data);
      const alpha = krippendorffAlphaNominal(data);
      if (!Number.isFinite(expected)) {
        expect(alpha === null || alpha === 1).toBe(true); // no pairable value, or one value only
        continue;
      }
      expect(alpha).toBeCloseTo(expected, 10);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(150);
  });
});
