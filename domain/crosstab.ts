import { categoryKey } from './categories.js';
import { InvalidBannerGroupsError, InvalidSettingError } from './errors.js';

/**
 * The analyst's view: categories (and nets) by the values of a banner column (NPS group, region, wave),
 * with counts, column % and a significance mark where a column differs from the rest of its row.
 */

/** Significance level of the column tests: two-sided, 95 %. */
export const SIGNIFICANCE_LEVEL = 0.05;
/** Smallest base, of the column and of the rest of the row, for which a column is tested (by default). */
export const MIN_BASE = 30;
/** Smallest expected count (pooled share × base, of having and of not having the code) for a test. */
export const MIN_EXPECTED = 5;
/** What the marks mean, for the sheet to print under the table. */
export const SIGNIFICANCE_TEST =
  'Marks: two-proportion z-test (pooled), two-sided, 95 %: each column against all other columns combined. ' +
  `Not tested where a base is under ${MIN_BASE} or an expected count under ${MIN_EXPECTED}.`;

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

export interface CrosstabRow {
  /** The respondent's codes; several in multi-code mode. Blank labels are ignored. */
  readonly labels: readonly string[];
  /** The respondent's banner value (or group), `null` or blank when there is none. */
  readonly banner: string | null;
}

/** A net as a banner table shows it: its name and the codes it adds up. */
export interface BannerNet {
  readonly name: string;
  readonly codes: readonly string[];
}

export interface CrosstabOptions {
  /** The codes in the order to show them; labels found outside them follow, in order of first appearance. */
  readonly codes: readonly string[];
  readonly nets?: readonly BannerNet[];
  /** Banner values in the order to show them (e.g. `parseBannerGroups(...).groups`); others follow, sorted. */
  readonly columns?: readonly string[];
  /** Smallest base for a test, in the column and in the rest of the row (default `MIN_BASE`). */
  readonly minBase?: number;
}

export interface CrosstabColumn {
  readonly label: string;
  /** The Total column: every coded respondent, with a banner value or not. */
  readonly total: boolean;
  /** Respondents with at least one code in this column. */
  readonly base: number;
}

export type SignificanceMark = 'higher' | 'lower';

export interface CrosstabCell {
  /** Respondents in the column with the code (with any of the net's codes, for a net). */
  readonly count: number;
  /** count / base, as a fraction; `null` when the base is 0. */
  readonly percent: number | null;
  /** Two-sided p of the column against the rest of the row; `null` where not tested. */
  readonly p: number | null;
  /** Set where p < 0.05: whether the column's share is above or below the rest of the row's. */
  readonly mark?: SignificanceMark | undefined;
}

export interface CrosstabLine {
  readonly kind: 'code' | 'net';
  readonly label: string;
  /** One cell per column, in column order. */
  readonly cells: readonly CrosstabCell[];
}

export interface Crosstab {
  /** The banner's values, then Total. */
  readonly columns: readonly CrosstabColumn[];
  /** The codes, then the nets. */
  readonly lines: readonly CrosstabLine[];
  /** Coded respondents without a banner value: counted in Total only. */
  readonly noBanner: number;
  /** Respondents without any code: in no base. */
  readonly uncoded: number;
}

/**
 * Codes and nets by the banner's values. A respondent counts once per code, however often the code
 * appears in their labels, and once per net, however many of its codes they have; a multi-code
 * respondent counts in several code lines, so a column's code percentages can sum past 100 %.
 * Each banner cell is tested against all other banner columns combined (the rest of the row), with
 * `twoProportionZ`, where both bases reach `minBase` and every expected count reaches `MIN_EXPECTED`.
 */
export function crosstab(rows: Iterable<CrosstabRow>, opts: CrosstabOptions): Crosstab {
  const minBase = opts.minBase ?? MIN_BASE;
  if (!(Number.isFinite(minBase) && minBase >= 0)) {
    throw new InvalidSettingError(
      'minBase',
      minBase,
      'the smallest base for a test must be a number, 0 or more',
    );
  }
  const codes = new Map<string, number>();
  const codeLabels: string[] = [];
  const codeIndex = (label: string): number => {
    const key = categoryKey(label);
    let i = codes.get(key);
    if (i === undefined) {
      i = codeLabels.length;
      codes.set(key, i);
      codeLabels.push(label.trim());
    }
    return i;
  };
  for (const code of opts.codes) codeIndex(code);
  const nets = (opts.nets ?? []).map((net) => {
    if (net.codes.length === 0) throw new InvalidSettingError('nets', net.name, 'the net lists no codes');
    const members = net.codes.map((code) => {
      const i = codes.get(categoryKey(code));
      if (i === undefined) {
        throw new InvalidSettingError(
          'nets',
          net.name,
          `the net lists ${JSON.stringify(code)}, which is not a code`,
        );
      }
      return i;
    });
    return { name: net.name, members: new Set(members) };
  });

  // One pass, tallying per banner value; the columns' order is decided once every value is known.
  const tally = () => ({ base: 0, codes: [] as number[], nets: new Array<number>(nets.length).fill(0) });
  type Tally = ReturnType<typeof tally>;
  const add = (t: Tally, coded: ReadonlySet<number>) => {
    t.base += 1;
    for (const c of coded) t.codes[c] = (t.codes[c] ?? 0) + 1;
    nets.forEach(({ members }, i) => {
      if ([...members].some((m) => coded.has(m))) t.nets[i]! += 1;
    });
  };
  const byBanner = new Map<string, Tally>();
  const total = tally();
  let uncoded = 0;
  for (const row of rows) {
    const coded = new Set(row.labels.filter((l) => l.trim() !== '').map(codeIndex));
    if (coded.size === 0) {
      uncoded += 1;
      continue;
    }
    add(total, coded);
    const banner = row.banner?.trim() ?? '';
    if (banner === '') continue;
    const t = byBanner.get(banner) ?? tally();
    add(t, coded);
    byBanner.set(banner, t);
  }

  const collator = new Intl.Collator('en', { numeric: true });
  const listed = (opts.columns ?? []).map((c) => c.trim()).filter((c, i, all) => all.indexOf(c) === i);
  const values = [
    ...listed,
    ...[...byBanner.keys()].filter((v) => !listed.includes(v)).sort((a, b) => collator.compare(a, b)),
  ];
  const columns = values.map((v) => byBanner.get(v) ?? tally());
  const bannerBase = sum(columns.map((c) => c.base));

  const line = (kind: CrosstabLine['kind'], label: string, count: (t: Tally) => number): CrosstabLine => {
    const counts = columns.map(count);
    const inBanner = sum(counts);
    const cells = columns.map(({ base }, j): CrosstabCell => {
      const x = counts[j]!;
      const test = columnTest(x, base, inBanner - x, bannerBase - base, minBase);
      return { count: x, percent: base === 0 ? null : x / base, ...test };
    });
    const all = count(total);
    cells.push({ count: all, percent: total.base === 0 ? null : all / total.base, p: null, mark: undefined });
    return { kind, label, cells };
  };

  return {
    columns: [
      ...values.map((label, j) => ({ label, total: false, base: columns[j]!.base })),
      { label: 'Total', total: true, base: total.base },
    ],
    lines: [
      ...codeLabels.map((label, i) => line('code', label, (t) => t.codes[i] ?? 0)),
      ...nets.map(({ name }, i) => line('net', name, (t) => t.nets[i]!)),
    ],
    noBanner: total.base - bannerBase,
    uncoded,
  };
}

/** One column against the rest of the row, where the bases and expected counts allow a z-test. */
function columnTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  minBase: number,
): Pick<CrosstabCell, 'p' | 'mark'> {
  const untested = { p: null, mark: undefined };
  if (n1 < minBase || n2 < minBase || n1 === 0 || n2 === 0) return untested;
  const pooled = (x1 + x2) / (n1 + n2);
  const smallest = Math.min(n1, n2) * Math.min(pooled, 1 - pooled);
  if (smallest < MIN_EXPECTED) return untested;
  const { z, p } = twoProportionZ(x1, n1, x2, n2);
  return { p, mark: p < SIGNIFICANCE_LEVEL ? (z > 0 ? 'higher' : 'lower') : undefined };
}

/** Maps a banner cell to its group, or `null` when it falls in no group; `groups` in the spec's order. */
export interface BannerGrouping {
  (value: unknown): string | null;
  readonly groups: readonly string[];
}

const NPS_NAMES = ['Detractors', 'Passives', 'Promoters'] as const;
const NUMBER = String.raw`\d+(?:\.\d+)?`;
const RANGE = new RegExp(String.raw`^(${NUMBER})(?:\s*[-–]\s*(${NUMBER}))?$`);

/**
 * Reads a banner grouping: comma-separated ranges, inclusive at both ends, each optionally named after `=`
 * or `:`: `0-6,7-8,9-10`, `0-6=Detractors,7-8=Passives,9-10=Promoters` or `0-6:Detractors,…`; a single value
 * (`5`) is a range too.
 * Unnamed groups are called by their range (`0-6`), except that the NPS split `0-6,7-8,9-10` (or the word
 * `nps`) gives Detractors, Passives and Promoters. Ranges may share a name (`1-2=Low,8-9=Low` is one
 * group) but not values. Numbers are non-negative, with a decimal point allowed.
 *
 * The mapper takes a number, or text holding one (`7`, `7,5`, `10 - Extremely likely`); anything else,
 * and any number outside every range (6.5 in `0-6,7-8`), maps to `null`: in no group.
 */
export function parseBannerGroups(spec: string): BannerGrouping {
  const text = spec.trim().toLowerCase() === 'nps' ? '0-6,7-8,9-10' : spec;
  const fail = (reason: string): never => {
    throw new InvalidBannerGroupsError(spec, reason);
  };
  if (text.trim() === '') fail('no groups given');

  const ranges = text.split(',').map((raw, i) => {
    const item = raw.trim();
    const at = `group ${i + 1}`;
    if (item === '') return fail(`${at} is empty (two commas in a row, or one at an end?)`);
    const quoted = `${at} (${JSON.stringify(item)})`;
    const [rangeText = '', name, ...more] = item.split(/[=:]/).map((part) => part.trim());
    const sign = /[=:]/.exec(item)?.[0] ?? '=';
    if (more.length > 0) return fail(`${quoted} has more than one "=" or ":"`);
    if (name === '') return fail(`${quoted} has no name after "${sign}"`);
    const match = RANGE.exec(rangeText);
    if (!match) return fail(`${quoted} is not a number or a range such as 0-6`);
    const [, from = '', to] = match;
    const low = Number(from);
    const high = to === undefined ? low : Number(to);
    if (low > high) return fail(`${quoted} starts above where it ends`);
    return { item, low, high, name, label: to === undefined ? from : `${from}-${to}` };
  });

  ranges.forEach((r, i) =>
    ranges.slice(0, i).forEach((earlier, j) => {
      if (r.low <= earlier.high && earlier.low <= r.high) {
        fail(
          `groups ${j + 1} (${JSON.stringify(earlier.item)}) and ${i + 1} (${JSON.stringify(r.item)}) overlap`,
        );
      }
    }),
  );

  const nps =
    ranges.length === 3 &&
    ranges.every((r, i) => r.name === undefined && [0, 7, 9][i] === r.low && [6, 8, 10][i] === r.high);
  const named = ranges.map((r, i) => ({ ...r, group: nps ? NPS_NAMES[i]! : (r.name ?? r.label) }));

  // Groups by name, in order of first appearance; a second range with a known name joins its group.
  const groups: string[] = [];
  const spelled = new Map<string, string>();
  for (const r of named) {
    const key = categoryKey(r.group);
    if (!spelled.has(key)) {
      spelled.set(key, r.group);
      groups.push(r.group);
    }
  }

  const group = (value: unknown): string | null => {
    const n = numberOf(value);
    if (n === null) return null;
    const hit = named.find((r) => r.low <= n && n <= r.high);
    return hit ? spelled.get(categoryKey(hit.group))! : null;
  };
  return Object.assign(group, { groups });
}

/** A number, or text that is one or starts with one before its label (`10 - Extremely likely`). */
function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^(\d+(?:[.,]\d+)?)(?:\s*$|\s*[-–=:)](?:\s*\D.*)?$|\s+\D.*$)/su.exec(value.trim());
  return match ? Number(match[1]!.replace(',', '.')) : null;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

/** A banner as asked for: the column (header, letter or question text) and, for a numeric one, its groups. */
export interface BannerSpec {
  /** As given (`NPS=0-6:Detractors,7-8:Passives,9-10:Promoters`, `Region`). */
  readonly spec: string;
  readonly column: string;
  /** The grouping text after the column, when there is one (`0-6:Detractors,…`, `nps`). */
  readonly groupsText?: string;
  readonly groups?: BannerGrouping;
}

/**
 * Reads `--by`: a column (`Region`), or a column, `=` and its groups (`NPS=0-6,7-8,9-10`,
 * `Score=0-6:Detractors,7-8:Passives,9-10:Promoters`, `Score=nps`). A question text may itself hold `=`
 * (`Score (0=bad)=0-6,7-10`): the column ends at the first `=` whose remainder reads as groups. A remainder
 * that starts like groups (a digit) but does not read as them is refused with the grouping's own reason.
 */
export function parseBanner(spec: string): BannerSpec {
  const text = spec.trim();
  if (text === '')
    throw new InvalidSettingError(
      'by',
      spec,
      'a banner needs a column: a header, a letter or the question text',
    );
  let refusal: InvalidBannerGroupsError | undefined;
  for (let at = text.indexOf('='); at !== -1; at = text.indexOf('=', at + 1)) {
    const column = text.slice(0, at).trim();
    const groupsText = text.slice(at + 1).trim();
    if (column === '' || !/^(\d|nps$)/i.test(groupsText)) continue;
    try {
      return { spec: text, column, groupsText, groups: parseBannerGroups(groupsText) };
    } catch (error) {
      if (!(error instanceof InvalidBannerGroupsError)) throw error;
      refusal ??= error;
    }
  }
  if (refusal) throw refusal;
  return { spec: text, column: text };
}
