/**
 * Agreement between the model and human coders: Cohen's κ and Krippendorff's α (nominal).
 *
 * Conventions, so that no figure is ever NaN:
 * - **No data → `null`.** With no rows (or, for α, no unit holding two values) a figure is `null`: the
 *   sheet prints it blank. 0 would read as "total disagreement" and 1 as "perfect"; neither was observed.
 * - **Zero expected disagreement → 1.** κ's and α's chance term vanishes only when every value given, by
 *   either side, is the same one category; the observed agreement is then necessarily perfect too, so the
 *   0/0 is resolved to 1 ("they agreed on everything"). Krippendorff notes that such data cannot show
 *   reliability; exact agreement and the row count beside it tell the reader how little was compared.
 */

/** A square table of counts: table[a][b] = units the first rater put in category a and the second in b. */
export type ContingencyTable = ReadonlyArray<ReadonlyArray<number>>;

/**
 * Cohen's κ from a two-rater table: κ = (p_o − p_e) / (1 − p_e), with p_e from the two raters' own
 * marginal shares. `null` for an empty table.
 */
export function cohenKappaFromTable(table: ContingencyTable): number | null {
  const size = table.length;
  const rowTotals = table.map((row) => sum(row));
  const columnTotals = Array.from({ length: size }, (_, k) => sum(table.map((row) => row[k] ?? 0)));
  const n = sum(rowTotals);
  if (n === 0) return null;
  const agreed = sum(table.map((row, c) => row[c] ?? 0));
  // Multiplied through by n², so that with whole counts both terms are exact integers and the
  // zero-denominator test is exact.
  const chance = sum(rowTotals.map((r, c) => r * (columnTotals[c] ?? 0)));
  const denominator = n * n - chance;
  if (denominator === 0) return 1; // one category only, on both sides: see the conventions above
  return (n * agreed - chance) / denominator;
}

/** Cohen's κ for two raters on nominal values; `null` with no pairs. Values compare as exact strings. */
export function cohenKappa(pairs: ReadonlyArray<readonly [string, string]>): number | null {
  const index = new Map<string, number>();
  for (const [a, b] of pairs) {
    if (!index.has(a)) index.set(a, index.size);
    if (!index.has(b)) index.set(b, index.size);
  }
  const table = Array.from({ length: index.size }, () => new Array<number>(index.size).fill(0));
  for (const [a, b] of pairs) table[index.get(a)!]![index.get(b)!]! += 1;
  return cohenKappaFromTable(table);
}

/** The coincidence matrix of Krippendorff's α. */
export interface Coincidences {
  /** The values, in order of first appearance among pairable values. */
  readonly values: readonly string[];
  /** matrix[c][k] = o_ck, symmetric. */
  readonly matrix: ReadonlyArray<ReadonlyArray<number>>;
  /** n_c: pairable values equal to values[c] (the row sums of the matrix, kept as exact counts). */
  readonly totals: readonly number[];
  /** n: all pairable values. */
  readonly n: number;
}

/**
 * Coincidences of nominal values (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability").
 * Each unit lists the values its coders gave, `null` for a coder who gave none. A unit with fewer than
 * two values cannot be paired and is dropped; each ordered pair of values from different coders within a
 * unit of m values adds 1 / (m − 1), so every pairable value adds exactly 1 to its row.
 */
export function coincidences(units: ReadonlyArray<ReadonlyArray<string | null>>): Coincidences {
  const index = new Map<string, number>();
  const matrix: number[][] = [];
  const totals: number[] = [];
  const indexOf = (value: string): number => {
    let i = index.get(value);
    if (i === undefined) {
      i = index.size;
      index.set(value, i);
      for (const row of matrix) row.push(0);
      matrix.push(new Array<number>(i + 1).fill(0));
      totals.push(0);
    }
    return i;
  };
  let n = 0;
  for (const unit of units) {
    const present = unit.filter((v): v is string => v !== null);
    const m = present.length;
    if (m < 2) continue;
    const counts = new Map<number, number>();
    for (const value of present) {
      const i = indexOf(value);
      counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    for (const [c, nc] of counts) {
      const row = matrix[c]!;
      for (const [k, nk] of counts) {
        // Ordered pairs of different coders: n_c·n_k across two values, n_c·(n_c − 1) within one.
        row[k]! += (c === k ? nc * (nc - 1) : nc * nk) / (m - 1);
      }
      totals[c]! += nc;
    }
    n += m;
  }
  return { values: [...index.keys()], matrix, totals, n };
}

/**
 * Krippendorff's α for nominal data, any number of coders, missing values allowed:
 * α = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k. `null` when no unit has two values.
 */
export function krippendorffAlphaNominal(units: ReadonlyArray<ReadonlyArray<string | null>>): number | null {
  return alphaFromCoincidences(coincidences(units));
}

function alphaFromCoincidences({ matrix, totals, n }: Omit<Coincidences, 'values'>): number | null {
  if (n === 0) return null;
  const observed = sum(matrix.map((row, c) => sum(row) - (row[c] ?? 0)));
  // Σ_{c≠k} n_c·n_k = n² − Σ n_c², whole numbers, so the zero test is exact.
  const expected = n * n - sum(totals.map((t) => t * t));
  if (expected === 0) return 1; // one value only: see the conventions above
  return 1 - ((n - 1) * observed) / expected;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}
