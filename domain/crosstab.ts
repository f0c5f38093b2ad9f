/**
 * The analyst's view: statistics for crosstabs of categories by the values of a banner column.
 */

/**
 * erfc(x), accurate to about 1e-15 relative: the power series of erf (all terms positive, so no
 * cancellation) below 2, the continued fraction of erfc (Lentz's method) from 2 on, where the series
 * would lose digits to 1 − erf.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))
    let term = x;
    let total = x;
    for (let n = 1; term > total * 1e-17; n += 1) {
      term *= (2 * x * x) / (2 * n + 1);
      total += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * total;
  }
  if (x > 27) return 0; // below the smallest double
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k += 1) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** The standard normal distribution function Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

export interface ZTest {
  /** (p₁ − p₂) / SE, with SE from the pooled share: positive when the first share is higher. */
  readonly z: number;
  /** Two-sided p-value from the normal distribution. */
  readonly p: number;
}

/**
 * Pooled two-proportion z-test of x1/n1 against x2/n2. When the pooled share is 0 or 1 the two shares
 * are equal and there is nothing to test: z = 0, p = 1.
 */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): ZTest {
  for (const [x, n, side] of [
    [x1, n1, 'first'],
    [x2, n2, 'second'],
  ] as const) {
    if (!(Number.isFinite(n) && n > 0 && Number.isFinite(x) && x >= 0 && x <= n)) {
      throw new RangeError(`twoProportionZ: the ${side} sample needs 0 ≤ x ≤ n and n > 0 (got ${x} of ${n})`);
    }
  }
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, p: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, p: erfc(Math.abs(z) / Math.SQRT2) };
}
