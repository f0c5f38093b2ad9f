import { describe, expect, it } from 'vitest';

import { erfc, normalCdf, twoProportionZ } from '../../domain/crosstab.js';

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
