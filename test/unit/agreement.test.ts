import { describe, expect, it } from 'vitest';

import type { AgreementFigures, MultiLabelPair, SingleLabelPair } from '../../domain/agreement.js';
import {
  agreementByConfidence,
  coincidences,
  cohenKappa,
  cohenKappaFromTable,
  krippendorffAlphaNominal,
  multiLabelAgreement,
  singleLabelAgreement,
} from '../../domain/agreement.js';
import { InvalidSettingError } from '../../domain/errors.js';

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

/** Every figure of a report, to check that none is NaN or infinite. */
function figures(report: AgreementFigures): Array<number | null> {
  return [
    report.exactAgreement,
    report.kappa,
    report.alpha,
    report.microF1,
    report.macroF1,
    ...report.perCategory.flatMap((c) => [c.support, c.precision, c.recall, c.f1, c.kappa]),
  ];
}

describe('singleLabelAgreement', () => {
  const LABELS = ['Price', 'Delivery', 'Quality', 'Value', 'Other'];
  const PAIRS: SingleLabelPair[] = [
    { human: 'Price', model: 'Price' },
    { human: 'Price', model: 'Price' },
    { human: 'Price', model: 'Delivery' },
    { human: 'Delivery', model: 'Delivery' },
    { human: 'Delivery', model: 'Other' },
    { human: 'other', model: 'Other' }, // a human's spelling of the fallback
    { human: 'Quality', model: 'Price' },
    { human: ' price ', model: 'Price' },
  ];

  it('computes every figure as worked by hand', () => {
    const r = singleLabelAgreement(PAIRS, LABELS);
    // Confusion (rows human, columns model; Price, Delivery, Quality, Value, Other):
    //   Price    3 1 0 0 0      Delivery 0 1 0 0 1      Quality 1 0 0 0 0      Other 0 0 0 0 1
    expect(r.confusion).toEqual({
      labels: LABELS,
      matrix: [
        [3, 1, 0, 0, 0],
        [0, 1, 0, 0, 1],
        [1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
      ],
    });
    expect(r.rows).toBe(8);
    expect(r.exactAgreement).toBe(5 / 8);
    // κ: human totals 4 2 1 0 1, model totals 4 2 0 0 2 → chance = 16 + 4 + 0 + 2 = 22;
    // κ = (8·5 − 22) / (64 − 22) = 18/42.
    expect(r.kappa).toBeCloseTo(18 / 42, 12);
    // α: n_c = human + model totals = 8 4 1 0 3, n = 16; Σ_{c≠k} o_ck = 2·3 disagreements = 6;
    // α = 1 − 15·6 / (256 − 90) = 1 − 90/166.
    expect(r.alpha).toBeCloseTo(1 - 90 / 166, 12);
    // Micro F1 over all codes: TP 5, FP 3, FN 3 → 10/16, the exact agreement.
    expect(r.microF1).toBeCloseTo(5 / 8, 12);
    // Macro F1 over the four categories used (Value is not): (3/4 + 1/2 + 0 + 2/3) / 4 = 23/48.
    expect(r.macroF1).toBeCloseTo(23 / 48, 12);
  });

  it('per category: support, precision, recall, F1 and κ as present/absent', () => {
    const r = singleLabelAgreement(PAIRS, LABELS);
    const byLabel = Object.fromEntries(r.perCategory.map((c) => [c.label, c]));
    expect(r.perCategory.map((c) => c.label)).toEqual(LABELS);
    // Price: TP 3, FP 1, FN 1, TN 3 → table [[3,1],[1,3]], κ = (8·6 − 32) / (64 − 32) = 1/2.
    expect(byLabel.Price).toEqual({
      label: 'Price',
      support: 4,
      precision: 0.75,
      recall: 0.75,
      f1: 0.75,
      kappa: 0.5,
    });
    // Delivery: TP 1, FP 1, FN 1, TN 5 → κ = (48 − 40) / (64 − 40) = 1/3.
    expect(byLabel.Delivery).toMatchObject({ support: 2, precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(byLabel.Delivery!.kappa).toBeCloseTo(1 / 3, 12);
    // Quality: the model never gave it: precision undefined (null), recall 0, F1 0; κ = (56 − 56)/8 = 0.
    expect(byLabel.Quality).toEqual({
      label: 'Quality',
      support: 1,
      precision: null,
      recall: 0,
      f1: 0,
      kappa: 0,
    });
    // Value: neither side used it: nothing to say, and left out of macro F1.
    expect(byLabel.Value).toEqual({
      label: 'Value',
      support: 0,
      precision: null,
      recall: null,
      f1: null,
      kappa: null,
    });
    // Other: TP 1, FP 1, FN 0, TN 6 → P ½, R 1, F1 2/3, κ = (56 − 44) / (64 − 44) = 0.6.
    expect(byLabel.Other).toMatchObject({ support: 1, precision: 0.5, recall: 1 });
    expect(byLabel.Other!.f1).toBeCloseTo(2 / 3, 12);
    expect(byLabel.Other!.kappa).toBeCloseTo(0.6, 12);
  });

  it('κ and α are the same functions as on raw pairs', () => {
    const r = singleLabelAgreement(PAIRS, LABELS);
    const raw = PAIRS.map((p): [string, string] => [p.human.trim().toLowerCase(), p.model.toLowerCase()]);
    expect(r.kappa).toBeCloseTo(cohenKappa(raw)!, 12);
    expect(r.alpha).toBeCloseTo(krippendorffAlphaNominal(raw)!, 12);
  });

  it('a label outside the codeframe becomes its own category after the codeframe', () => {
    const r = singleLabelAgreement(
      [
        { human: 'Legacy code', model: 'Price' },
        { human: 'Price', model: 'Price' },
      ],
      ['Price', 'Other'],
    );
    expect(r.confusion.labels).toEqual(['Price', 'Other', 'Legacy code']);
    expect(r.confusion.matrix[2]).toEqual([1, 0, 0]);
    expect(r.perCategory[2]).toMatchObject({ label: 'Legacy code', support: 1, recall: 0, precision: null });
  });

  it('perfect agreement: every figure 1, unused categories null', () => {
    const r = singleLabelAgreement(
      ['Price', 'Delivery', 'Price', 'Other'].map((l) => ({ human: l, model: l })),
      LABELS,
    );
    expect([r.exactAgreement, r.kappa, r.alpha, r.microF1, r.macroF1]).toEqual([1, 1, 1, 1, 1]);
    expect(r.perCategory.filter((c) => c.f1 !== null).every((c) => c.kappa === 1 && c.f1 === 1)).toBe(true);
    expect(r.perCategory.find((c) => c.label === 'Value')?.kappa).toBeNull();
  });

  it('one category only on both sides: κ and α 1, not NaN', () => {
    const r = singleLabelAgreement(
      Array.from({ length: 3 }, () => ({ human: 'Other', model: 'Other' })),
      LABELS,
    );
    expect(r).toMatchObject({ rows: 3, exactAgreement: 1, kappa: 1, alpha: 1, microF1: 1, macroF1: 1 });
  });

  it('no rows: the row count is 0 and every figure null', () => {
    const r = singleLabelAgreement([], LABELS);
    expect(r).toMatchObject({
      rows: 0,
      exactAgreement: null,
      kappa: null,
      alpha: null,
      microF1: null,
      macroF1: null,
    });
    expect(r.perCategory).toHaveLength(LABELS.length);
    expect(r.perCategory.every((c) => c.support === 0 && c.f1 === null && c.kappa === null)).toBe(true);
    expect(r.confusion.matrix.flat().every((n) => n === 0)).toBe(true);
  });
});

describe('multiLabelAgreement', () => {
  const LABELS = ['Price', 'Delivery', 'Staff', 'Value', 'Other'];
  const PAIRS: MultiLabelPair[] = [
    { human: ['Price', 'Delivery'], model: ['Delivery', 'Price'] },
    { human: ['Price'], model: ['Price', 'Staff'] },
    { human: ['Delivery'], model: ['Delivery'] },
    { human: ['Staff'], model: ['Price'] },
    { human: ['Other'], model: ['other'] },
    { human: ['Price', 'Staff'], model: ['Staff', 'price', 'Price'] }, // a duplicate counts once
  ];

  it('computes every figure as worked by hand', () => {
    const r = multiLabelAgreement(PAIRS, LABELS);
    expect(r.rows).toBe(6);
    expect(r.exactAgreement).toBeCloseTo(4 / 6, 12); // rows 1, 3, 5 and 6 have the same set
    // Per category (TP, FP, FN, TN over 6 rows):
    //   Price    3 1 0 2: κ = (6·5 − 18) / (36 − 18) = 2/3; α: o = [[4,1],[1,6]], n_c 5 7 → 1 − 11·2/70
    //   Delivery 2 0 0 4: κ = α = 1
    //   Staff    1 1 1 3: κ = (24 − 20) / (36 − 20) = 1/4; α: o = [[6,2],[2,2]], n_c 8 4 → 1 − 11·4/64
    //   Other    1 0 0 5: κ = α = 1
    //   Value: neither side used it, left out of the averages.
    expect(r.kappa).toBeCloseTo((2 / 3 + 1 + 1 / 4 + 1) / 4, 12);
    expect(r.alpha).toBeCloseTo((1 - 22 / 70 + 1 + (1 - 44 / 64) + 1) / 4, 12);
    // Micro F1: TP 7, FP 2, FN 1 → 14/17. Macro: (6/7 + 1 + 1/2 + 1) / 4 = 47/56.
    expect(r.microF1).toBeCloseTo(14 / 17, 12);
    expect(r.macroF1).toBeCloseTo(47 / 56, 12);
    expect(r.perCategory.map((c) => [c.label, c.support])).toEqual([
      ['Price', 3],
      ['Delivery', 2],
      ['Staff', 2],
      ['Value', 0],
      ['Other', 1],
    ]);
    const price = r.perCategory[0]!;
    expect(price.precision).toBe(0.75);
    expect(price.recall).toBe(1);
    expect(price.f1).toBeCloseTo(6 / 7, 12);
    expect(price.kappa).toBeCloseTo(2 / 3, 12);
    expect(r.perCategory[3]).toEqual({
      label: 'Value',
      support: 0,
      precision: null,
      recall: null,
      f1: null,
      kappa: null,
    });
  });

  it('per-category κ is cohenKappa on the present/absent column', () => {
    const r = multiLabelAgreement(PAIRS, LABELS);
    const staff = PAIRS.map((p): [string, string] => [
      String(p.human.includes('Staff')),
      String(p.model.includes('Staff')),
    ]);
    expect(r.perCategory[2]!.kappa).toBeCloseTo(cohenKappa(staff)!, 12);
  });

  it('rows where neither side gave any code agree, but no category was used: averages null', () => {
    const r = multiLabelAgreement(
      [
        { human: [], model: [] },
        { human: [], model: [] },
      ],
      LABELS,
    );
    expect(r).toMatchObject({
      rows: 2,
      exactAgreement: 1,
      kappa: null,
      alpha: null,
      microF1: null,
      macroF1: null,
    });
  });

  it('no rows: every figure null', () => {
    expect(multiLabelAgreement([], LABELS)).toMatchObject({
      rows: 0,
      exactAgreement: null,
      kappa: null,
      alpha: null,
      microF1: null,
      macroF1: null,
    });
  });

  it('a category every row has, on both sides, has κ 1', () => {
    const r = multiLabelAgreement(
      [
        { human: ['Price'], model: ['Price'] },
        { human: ['Price', 'Staff'], model: ['Price'] },
      ],
      LABELS,
    );
    expect(r.perCategory[0]!.kappa).toBe(1);
    expect(r.perCategory[2]).toMatchObject({ support: 1, recall: 0, precision: null, f1: 0, kappa: 0 });
  });
});

describe('no figure is ever NaN', () => {
  it('on random single-label and multi-code data, degenerate cases included', () => {
    const next = random(42);
    const labels = ['A', 'B', 'C', 'Other'];
    const any = () => labels[Math.floor(next() * labels.length)]!;
    for (let trial = 0; trial < 300; trial += 1) {
      const n = Math.floor(next() * 8); // often 0, 1 or 2 rows
      const narrow = next() < 0.3; // one label only
      const pick = () => (narrow ? 'A' : any());
      const single = Array.from({ length: n }, () => ({ human: pick(), model: pick() }));
      const multi = Array.from({ length: n }, () => ({
        human: Array.from({ length: Math.floor(next() * 3) }, pick),
        model: Array.from({ length: Math.floor(next() * 3) }, pick),
      }));
      for (const value of [
        ...figures(singleLabelAgreement(single, labels)),
        ...figures(multiLabelAgreement(multi, labels)),
      ]) {
        if (value !== null) expect(Number.isFinite(value)).toBe(true);
      }
    }
  });
});

describe('agreementByConfidence', () => {
  it('splits at the threshold (at or above vs below) and keeps rows without confidence apart', () => {
    const split = agreementByConfidence(
      [
        { human: 'Price', model: 'Price', confidence: 0.95 },
        { human: 'Price', model: 'Delivery', confidence: 0.9 },
        { human: 'Delivery', model: 'delivery', confidence: 0.8 }, // exactly at the threshold
        { human: 'Staff', model: 'Price', confidence: 0.4 },
        { human: 'Staff', model: 'Staff', confidence: 0.3 },
        { human: 'Other', model: 'Price', confidence: 0.1 },
        { human: 'Other', model: 'Other', confidence: null },
        { human: ['Price', 'Staff'], model: ['Staff', 'Price'], confidence: Number.NaN },
      ],
      0.8,
    );
    expect(split).toEqual({
      threshold: 0.8,
      atOrAbove: { rows: 3, exactAgreement: 2 / 3 },
      below: { rows: 3, exactAgreement: 1 / 3 },
      withoutConfidence: { rows: 2, exactAgreement: 1 },
    });
  });

  it('an empty side has no agreement figure', () => {
    const split = agreementByConfidence([{ human: ['A'], model: ['A', 'B'], confidence: 0.2 }], 0.5);
    expect(split.atOrAbove).toEqual({ rows: 0, exactAgreement: null });
    expect(split.below).toEqual({ rows: 1, exactAgreement: 0 });
  });

  it('refuses a threshold that is not a number', () => {
    expect(() => agreementByConfidence([], Number.NaN)).toThrow(InvalidSettingError);
  });
});
