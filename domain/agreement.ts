import { categoryKey } from './categories.js';
import { InvalidSettingError } from './errors.js';

/**
 * Agreement between the model and human coders, the figures of the `Quality` sheet: Cohen's κ,
 * Krippendorff's α (nominal), exact agreement, micro and macro F1, and per-category figures.
 *
 * Conventions, so that no figure is ever NaN:
 * - **No data → `null`.** With no rows (or, for α, no unit holding two values) a figure is `null`: the
 *   sheet prints it blank. 0 would read as "total disagreement" and 1 as "perfect"; neither was observed.
 * - **Zero expected disagreement → 1.** κ's and α's chance term vanishes only when every value given, by
 *   either side, is the same one category; the observed agreement is then necessarily perfect too, so the
 *   0/0 is resolved to 1 ("they agreed on everything"). Krippendorff notes that such data cannot show
 *   reliability; exact agreement and the row count beside it tell the reader how little was compared.
 * - **Undefined ratios → `null`.** Precision of a category the model never gave, recall of one the human
 *   never gave. F1 is 2·TP / (2·TP + FP + FN): defined (possibly 0) whenever either side used the
 *   category, `null` only when neither did.
 * - **Unused categories** (neither side gave them) have `null` precision, recall, F1 and κ, and stay out
 *   of every average: they say nothing about the coders.
 * - Labels are compared as the codeframe compares names (`categoryKey`: case, width and surrounding
 *   spaces ignored) and reported in the codeframe's spelling; a label outside the codeframe (a human
 *   code such as a typo) becomes an extra category after the codeframe's, in order of first appearance.
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

/**
 * α of two coders who each coded every unit, from their table: each unit adds one coincidence to o[a][b]
 * and one to o[b][a] (m = 2), so the matrix is the table plus its transpose.
 */
function alphaFromTable(table: ContingencyTable): number | null {
  const size = table.length;
  const matrix = table.map((row, c) => row.map((count, k) => count + (table[k]?.[c] ?? 0)));
  const totals = Array.from({ length: size }, (_, c) => sum(matrix[c] ?? []));
  return alphaFromCoincidences({ matrix, totals, n: sum(totals) });
}

export interface CategoryAgreement {
  readonly label: string;
  /** Rows the human gave this category. */
  readonly support: number;
  /** Of the rows the model gave it, the share the human gave it too; `null` if the model never did. */
  readonly precision: number | null;
  /** Of the rows the human gave it, the share the model gave it too; `null` if the human never did. */
  readonly recall: number | null;
  /** `null` only when neither side used the category. */
  readonly f1: number | null;
  /** κ of the category as a present/absent judgement on every row; `null` when neither side used it. */
  readonly kappa: number | null;
}

export interface AgreementFigures {
  /** Rows compared. */
  readonly rows: number;
  /** Share of rows where the model's code (single-label) or whole set of codes (multi-code) is the human's. */
  readonly exactAgreement: number | null;
  readonly kappa: number | null;
  readonly alpha: number | null;
  readonly microF1: number | null;
  /** Plain mean of the F1 of the categories either side used. */
  readonly macroF1: number | null;
  /** Every codeframe category in codeframe order, then labels outside it in order of first appearance. */
  readonly perCategory: readonly CategoryAgreement[];
}

export interface ConfusionMatrix {
  readonly labels: readonly string[];
  /** matrix[h][m]: rows the human coded labels[h] and the model labels[m]. */
  readonly matrix: readonly (readonly number[])[];
}

export interface SingleLabelAgreement extends AgreementFigures {
  readonly confusion: ConfusionMatrix;
}

export type MultiLabelAgreement = AgreementFigures;

export interface SingleLabelPair {
  readonly human: string;
  readonly model: string;
}

export interface MultiLabelPair {
  readonly human: readonly string[];
  readonly model: readonly string[];
}

/**
 * Single-label agreement: κ and α over the categories as nominal values (the fallback is a category like
 * any other), exact agreement, micro F1 (which equals exact agreement when each row has one code on each
 * side) and macro F1 over the categories either side used, per-category figures and the confusion matrix.
 * `labels` is the codeframe in order, fallback included.
 */
export function singleLabelAgreement(
  pairs: readonly SingleLabelPair[],
  labels: readonly string[],
): SingleLabelAgreement {
  const catalogue = new Catalogue(labels);
  const coded = pairs.map((p) => [catalogue.key(p.human), catalogue.key(p.model)] as const);
  const size = catalogue.size;
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (const [h, m] of coded) matrix[h]![m]! += 1;

  const rows = coded.length;
  const counts = catalogue.labels.map((label, c): CategoryCounts => {
    const tp = matrix[c]![c]!;
    const fn = sum(matrix[c]!) - tp;
    const fp = sum(matrix.map((row) => row[c]!)) - tp;
    const used = tp + fp + fn > 0;
    return { label, tp, fp, fn, kappa: used ? cohenKappaFromTable(presence(tp, fp, fn, rows)) : null };
  });

  const agreed = sum(matrix.map((row, c) => row[c]!));
  return {
    rows,
    exactAgreement: rows === 0 ? null : agreed / rows,
    kappa: cohenKappaFromTable(matrix),
    alpha: alphaFromTable(matrix),
    ...f1Figures(counts),
    confusion: { labels: catalogue.labels, matrix },
  };
}

/**
 * Multi-code agreement: exact agreement over whole sets of codes; κ and α of each category as a
 * present/absent judgement, averaged over the categories either side used; micro F1 from the summed
 * true positives, false positives and false negatives; macro F1 the plain mean of per-category F1.
 * Duplicate codes within a row count once. `labels` is the codeframe in order, fallback included.
 */
export function multiLabelAgreement(
  pairs: readonly MultiLabelPair[],
  labels: readonly string[],
): MultiLabelAgreement {
  const catalogue = new Catalogue(labels);
  const coded = pairs.map((p) => ({
    human: new Set(p.human.map((l) => catalogue.key(l))),
    model: new Set(p.model.map((l) => catalogue.key(l))),
  }));
  const rows = coded.length;
  const tp = new Array<number>(catalogue.size).fill(0);
  const fp = new Array<number>(catalogue.size).fill(0);
  const fn = new Array<number>(catalogue.size).fill(0);
  for (const { human, model } of coded) {
    for (const c of human) (model.has(c) ? tp : fn)[c]! += 1;
    for (const c of model) if (!human.has(c)) fp[c]! += 1;
  }

  const kappas: number[] = [];
  const alphas: number[] = [];
  const counts = catalogue.labels.map((label, c): CategoryCounts => {
    const category = { label, tp: tp[c]!, fp: fp[c]!, fn: fn[c]! };
    if (category.tp + category.fp + category.fn === 0) return { ...category, kappa: null };
    const table = presence(category.tp, category.fp, category.fn, rows);
    const kappa = cohenKappaFromTable(table);
    const alpha = alphaFromTable(table);
    // A category one side used was used on some row, so neither is null; the checks satisfy the types.
    if (kappa !== null) kappas.push(kappa);
    if (alpha !== null) alphas.push(alpha);
    return { ...category, kappa };
  });

  const agreed = coded.filter(({ human, model }) => sameSet(human, model)).length;
  return {
    rows,
    exactAgreement: rows === 0 ? null : agreed / rows,
    kappa: mean(kappas),
    alpha: mean(alphas),
    ...f1Figures(counts),
  };
}

/** One row for `agreementByConfidence`: a code or a set of codes on each side, and the model's confidence. */
export interface ConfidencePair {
  readonly human: string | readonly string[];
  readonly model: string | readonly string[];
  /** Any scale (a probability, a 0–100 score); `null` or a non-number when the model gave none. */
  readonly confidence: number | null;
}

export interface ConfidenceSide {
  readonly rows: number;
  readonly exactAgreement: number | null;
}

export interface ConfidenceSplit {
  readonly threshold: number;
  /** Rows with confidence ≥ threshold: the ones a review queue would not send to a person. */
  readonly atOrAbove: ConfidenceSide;
  readonly below: ConfidenceSide;
  /** Rows without a usable confidence, kept apart rather than guessed onto either side. */
  readonly withoutConfidence: ConfidenceSide;
}

/**
 * Exact agreement above and below a confidence threshold, to show whether the model's confidence can
 * pick the rows worth a second look. Codes compare as in the other figures (`categoryKey`), sets as sets.
 */
export function agreementByConfidence(pairs: Iterable<ConfidencePair>, threshold: number): ConfidenceSplit {
  if (!Number.isFinite(threshold)) {
    throw new InvalidSettingError('threshold', threshold, 'the confidence threshold must be a number');
  }
  const tally = {
    atOrAbove: { rows: 0, agreed: 0 },
    below: { rows: 0, agreed: 0 },
    without: { rows: 0, agreed: 0 },
  };
  for (const { human, model, confidence } of pairs) {
    const side =
      typeof confidence !== 'number' || !Number.isFinite(confidence)
        ? tally.without
        : confidence >= threshold
          ? tally.atOrAbove
          : tally.below;
    side.rows += 1;
    if (sameCodes(human, model)) side.agreed += 1;
  }
  const figures = ({ rows, agreed }: { rows: number; agreed: number }): ConfidenceSide => ({
    rows,
    exactAgreement: rows === 0 ? null : agreed / rows,
  });
  return {
    threshold,
    atOrAbove: figures(tally.atOrAbove),
    below: figures(tally.below),
    withoutConfidence: figures(tally.without),
  };
}

/** The codeframe's labels by key, growing with labels found outside it. */
class Catalogue {
  readonly labels: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(labels: readonly string[]) {
    for (const label of labels) this.key(label);
  }

  get size(): number {
    return this.labels.length;
  }

  key(label: string): number {
    const key = categoryKey(label);
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.labels.length;
      this.index.set(key, i);
      this.labels.push(label.trim());
    }
    return i;
  }
}

/** A category's counts over the rows compared, and its κ. */
interface CategoryCounts {
  readonly label: string;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly kappa: number | null;
}

function categoryFigures({ label, tp, fp, fn, kappa }: CategoryCounts): CategoryAgreement {
  return {
    label,
    support: tp + fn,
    precision: tp + fp === 0 ? null : tp / (tp + fp),
    recall: tp + fn === 0 ? null : tp / (tp + fn),
    f1: tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn),
    kappa,
  };
}

/** The F1 figures and the per-category table; categories neither side used add nothing to the sums. */
function f1Figures(
  counts: readonly CategoryCounts[],
): Pick<AgreementFigures, 'microF1' | 'macroF1' | 'perCategory'> {
  const perCategory = counts.map(categoryFigures);
  const total = (pick: (c: CategoryCounts) => number) => sum(counts.map(pick));
  const tp = total((c) => c.tp);
  const denominator = 2 * tp + total((c) => c.fp) + total((c) => c.fn);
  return {
    microF1: denominator === 0 ? null : (2 * tp) / denominator,
    macroF1: mean(perCategory.flatMap((c) => (c.f1 === null ? [] : [c.f1]))),
    perCategory,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : sum(values) / values.length;
}

/** A category as a present/absent judgement: rows human absent/present × columns model absent/present. */
function presence(tp: number, fp: number, fn: number, rows: number): number[][] {
  return [
    [rows - tp - fp - fn, fp],
    [fn, tp],
  ];
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  return a.size === b.size && [...a].every((v) => b.has(v));
}

/** Same code, or same set of codes, compared by `categoryKey`. */
function sameCodes(a: string | readonly string[], b: string | readonly string[]): boolean {
  const keys = (codes: string | readonly string[]) =>
    new Set((typeof codes === 'string' ? [codes] : codes).map((c) => categoryKey(c)));
  return sameSet(keys(a), keys(b));
}
