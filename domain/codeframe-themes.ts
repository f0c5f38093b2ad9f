/**
 * The rules of drafting a codeframe from the answers: which answers to read, how to cut them into chunks,
 * how themes are carried from one merge round to the next and when the rounds stop, and how the draft is
 * measured on a sample. Pure: the store and the model are the activities' business.
 */
import { cutFixed, cutByTokens } from './batching.js';
import type { AutoBatchOptions } from './batching.js';
import { FALLBACK_LABEL, categoryKey } from './categories.js';
import { hashSeed, sampleIndexes, seededRandom, shuffle, weightedOrder } from './sampling.js';

/** A theme as it goes from one step to the next. */
export interface Theme {
  readonly label: string;
  /** One sentence saying what answers of this theme say. */
  readonly description: string;
  /** The broader group the last merge put it in ('' for none). */
  readonly net: string;
  /** Answers that carry it among those read, each as often as it occurs in the column: an estimate. */
  readonly count: number;
  /** Up to three answers that carry it. */
  readonly examples: readonly string[];
}

/** A theme in a merge round: its id in that round's requests. */
export interface RoundTheme extends Theme {
  readonly id: string;
}

export const MAX_EXAMPLES = 3;
const MAX_LABEL_LENGTH = 80;
const MAX_DESCRIPTION_LENGTH = 300;

/** A bound on the tokens of the answers read: `cost(i)` is unique answer i's share of its request. */
export interface ReadBudget {
  readonly tokens: number;
  readonly cost: (index: number) => number;
}

/**
 * The unique answers to read for themes: all of them up to `cap` and the token budget; beyond either, a
 * sample drawn with probability proportional to how often each answer occurs (what many people say is
 * likelier read), taken in the draw's order until the cap or the budget is reached, so long answers are
 * read as likely as short ones (none is skipped to fit shorter ones in). Either way shuffled, so that each
 * chunk is a cross-section of the sheet, not one stretch of it. Seeded: the same answers and seed choose
 * the same answers in the same order.
 */
export function chooseAnswers(
  counts: readonly number[],
  cap: number,
  seed: number,
  budget?: ReadBudget,
): { chosen: number[]; sampled: boolean } {
  const picked: number[] = [];
  let spent = 0;
  for (const index of weightedOrder(counts, seededRandom(hashSeed(seed, 'read')))) {
    if (picked.length >= cap) break;
    const cost = budget?.cost(index) ?? 0;
    if (budget && picked.length > 0 && spent + cost > budget.tokens) break;
    spent += cost;
    picked.push(index);
  }
  picked.sort((a, b) => a - b);
  return {
    chosen: shuffle(picked, seededRandom(hashSeed(seed, 'order'))),
    sampled: picked.length < counts.length,
  };
}

/**
 * Cuts the chosen answers into extraction chunks: as many as the token target needs (see `cutByTokens`),
 * at most `maxChunks`, then evened out, so the last chunk is not a stub that costs a call for a handful of
 * answers.
 */
export function cutChunks<T extends { readonly text: string }>(
  items: readonly T[],
  options: AutoBatchOptions,
  maxChunks = Number.POSITIVE_INFINITY,
): T[][] {
  const count = Math.min(cutByTokens(items, options).length, maxChunks);
  if (count <= 1) return items.length > 0 ? [[...items]] : [];
  return cutFixed(items, Math.ceil(items.length / count));
}

/** The rows drawn to measure the draft: `n` of the rows to code, uniformly; the seed's own stream. */
export function measureRows(rowCount: number, n: number, seed: number): number[] {
  return sampleIndexes(rowCount, n, seededRandom(hashSeed(seed, 'measure')));
}

/** Labels and descriptions as the categories file can hold them: one line, no colon in a label. */
export function cleanLabel(text: string): string {
  let label = text
    .replace(/\s+/gu, ' ')
    .replace(/[\s.:;,]+$/u, '')
    .trim()
    // A bullet, `#` or `[` at the start would be read as something else than a category.
    .replace(/^(?:[-*•#[\]]+\s*)+/u, '')
    .replace(/[[\]]/gu, '')
    // The text form splits a line at its first colon.
    .replace(/\s*:\s*/gu, ' - ')
    // A number then a space starts a code in the text form ("24 hour opening"): join them.
    .replace(/^(\d+)[.)]?\s+/u, '$1-');
  if ([...label].length > MAX_LABEL_LENGTH) label = `${[...label].slice(0, MAX_LABEL_LENGTH - 1).join('')}…`;
  return label;
}

export function cleanDescription(text: string): string {
  const description = text.replace(/\s+/gu, ' ').trim();
  return [...description].length > MAX_DESCRIPTION_LENGTH
    ? `${[...description].slice(0, MAX_DESCRIPTION_LENGTH - 1).join('')}…`
    : description;
}

/** Two labels name the same code when they are spelled the same, ignoring case and spaces. */
export function labelKey(label: string): string {
  return categoryKey(label).replace(/\s+/gu, ' ');
}

const CATCH_ALL_WORD = String.raw`(?:others?|misc\.?|miscellaneous|various|general|assorted|remaining|all other|everything else|anything else)`;
const CATCH_ALL_NOUN = String.raw`(?:comments?|remarks?|feedback|issues?|mentions?|themes?|topics?|reasons?|points?|answers?|responses?|things|items|matters|concerns|suggestions?|observations?)`;
/** "Other", "Misc.", "Miscellaneous", "Various", "General comments", "Other / misc feedback", "Other (specify)". */
const CATCH_ALL = new RegExp(
  String.raw`^${CATCH_ALL_WORD}(?:\s*(?:[/&,+-]|and|or)\s*${CATCH_ALL_WORD})*(?:\s+(?:other\s+)?${CATCH_ALL_NOUN})?$`,
  'u',
);

/**
 * `Other`, or a catch-all in other words: a code that says nothing of its answers but that they are left
 * over. The draft folds it into `Other` (a model asked for few codes is tempted to lump the rest into one).
 */
export function isFallbackLabel(label: string): boolean {
  const key = labelKey(label)
    .replace(/\s*\([^)]*\)\s*$/u, '')
    .replace(/[.\s]+$/u, '');
  return key === labelKey(FALLBACK_LABEL) || CATCH_ALL.test(key);
}

/** Adds examples up to MAX_EXAMPLES, without repeating one. */
export function addExamples(into: readonly string[], more: readonly string[]): string[] {
  const out = [...into];
  for (const e of more) {
    if (out.length >= MAX_EXAMPLES) break;
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

/**
 * Themes spelled the same become one: counts add up, examples join, the first description and net win.
 * Exact spelling only: merging on meaning is the model's job in the rounds.
 */
export function mergeSameLabels(themes: readonly Theme[]): Theme[] {
  const byKey = new Map<string, Theme>();
  for (const t of themes) {
    const key = labelKey(t.label);
    const known = byKey.get(key);
    byKey.set(
      key,
      known
        ? {
            label: known.label,
            description: known.description || t.description,
            net: known.net || t.net,
            count: known.count + t.count,
            examples: addExamples(known.examples, t.examples),
          }
        : t,
    );
  }
  return [...byKey.values()];
}

/** Themes by count, most first (ties by label, so the order never depends on arrival). */
export function byCount<T extends Theme>(themes: readonly T[]): T[] {
  return [...themes].sort((a, b) => b.count - a.count || labelKey(a.label).localeCompare(labelKey(b.label)));
}

/** What the next merge round does. */
export type MergeDecision =
  | { readonly kind: 'done'; readonly reason: 'fits' | 'rounds' }
  | {
      readonly kind: 'intermediate' | 'final';
      /** Indexes into the themes given, one list per request. */
      readonly groups: readonly (readonly number[])[];
      /** At most this many codes back from each request. */
      readonly targets: readonly number[];
    };

export interface MergeRoundInput {
  readonly themes: readonly Theme[];
  /** 0 for the first round (on the extracted themes). */
  readonly round: number;
  /** The previous round was one request over every theme (it wrote the final labels and descriptions). */
  readonly lastWasFinal: boolean;
  readonly maxCodes: number;
  readonly maxPerCall: number;
  /** A bound on the rounds, for a model that will not merge: then the largest themes are kept. */
  readonly maxRounds: number;
}

export const MAX_MERGE_ROUNDS = 6;

/**
 * Rounds go on until one request over every theme (the final round: it merges on meaning across all
 * chunks, names and describes each code and groups them into nets) has left at most `maxCodes`. While there
 * are more themes than one request may take, intermediate rounds cut them into groups (by label, so that
 * near spellings meet) and ask each to merge to at most half its size.
 */
export function planMergeRound(input: MergeRoundInput): MergeDecision {
  const n = input.themes.length;
  if (input.lastWasFinal && n <= input.maxCodes) return { kind: 'done', reason: 'fits' };
  if (input.round >= input.maxRounds) return { kind: 'done', reason: 'rounds' };
  if (n === 0) return { kind: 'done', reason: 'fits' };
  if (n <= input.maxPerCall) {
    return { kind: 'final', groups: [input.themes.map((_, i) => i)], targets: [input.maxCodes] };
  }
  const order = input.themes
    .map((t, i) => ({ key: labelKey(t.label), i }))
    .sort((a, b) => a.key.localeCompare(b.key) || a.i - b.i)
    .map((x) => x.i);
  const groups = cutFixed(order, Math.ceil(n / Math.ceil(n / input.maxPerCall)));
  const targets = groups.map((g) => Math.max(Math.ceil(g.length / 2), Math.min(g.length, input.maxCodes)));
  return { kind: 'intermediate', groups, targets };
}

/** One code of a merge answer: the ids of the round's themes it takes in. */
export interface MergedCode {
  readonly label: string;
  readonly description: string;
  readonly net: string;
  readonly themes: readonly string[];
}

/**
 * The themes after a merge request: each code sums its themes' counts and keeps their examples. A theme
 * the answer left out is carried over as it was, and a request that failed (`codes` undefined) carries all
 * of its themes: an intermediate merge never loses a theme by omission. The final merge (one request over
 * every theme, at most --max-codes codes) may leave out themes that fit none of its codes: those are
 * `leftOut`, for Other. A catch-all code ("Miscellaneous", "Other comments") is no merge: its themes are
 * treated as left out.
 */
export function applyMerge(
  inputs: readonly RoundTheme[],
  codes: readonly MergedCode[] | undefined,
  final = false,
): { themes: Theme[]; leftOut: Theme[] } {
  const byId = new Map(inputs.map((t) => [t.id, t]));
  const used = new Set<string>();
  const merged: Theme[] = [];
  for (const code of codes ?? []) {
    if (isFallbackLabel(code.label)) continue;
    const members = code.themes.flatMap((id) => {
      const t = byId.get(id);
      if (!t || used.has(id)) return [];
      used.add(id);
      return [t];
    });
    if (members.length === 0) continue;
    merged.push({
      label: cleanLabel(code.label) || members[0]?.label || '',
      description: cleanDescription(code.description) || members[0]?.description || '',
      net: cleanLabel(code.net),
      count: members.reduce((sum, t) => sum + t.count, 0),
      examples: members.reduce<string[]>((ex, t) => addExamples(ex, t.examples), []),
    });
  }
  const rest = inputs.filter((t) => !used.has(t.id)).map(({ id: _, ...theme }) => theme);
  return final && codes !== undefined
    ? { themes: merged, leftOut: rest }
    : { themes: [...merged, ...rest], leftOut: [] };
}

/** Ids for a round's themes: short, so merge answers stay small. */
export function withIds(themes: readonly Theme[]): RoundTheme[] {
  return themes.map((t, i) => ({ ...t, id: `t${i + 1}` }));
}

/**
 * The draft: at most `maxCodes` themes, most frequent first; the rest, any catch-all ("Other",
 * "Miscellaneous") and the themes the final merge left out overflow into Other.
 */
export function finishDraft(
  themes: readonly Theme[],
  maxCodes: number,
  leftOut: ReadonlyArray<{ readonly label: string; readonly count: number }> = [],
): { codes: Theme[]; overflow: Array<{ label: string; count: number }> } {
  const sorted = byCount(mergeSameLabels(themes.filter((t) => t.label !== '')));
  const codes = sorted.filter((t) => !isFallbackLabel(t.label));
  const overflow = [...sorted.filter((t) => isFallbackLabel(t.label)), ...codes.slice(maxCodes), ...leftOut];
  return {
    codes: codes.slice(0, maxCodes),
    overflow: overflow.map((t) => ({ label: t.label, count: t.count })),
  };
}

/** One measured answer: the code the model gave it, and how many of the drawn rows hold it. */
export interface MeasuredAnswer {
  readonly text: string;
  readonly label: string;
  readonly weight: number;
}

export interface CodeShare extends Theme {
  /** Drawn rows coded with it. */
  readonly measured: number;
  /** measured / base: an estimate of its share of all answers. */
  readonly share: number;
}

export interface Measurement {
  /** Drawn rows whose batch was coded (failed batches left out). */
  readonly base: number;
  /** Of those, rows coded with a code that stays in the codeframe. */
  readonly covered: number;
  /** covered / base: the share of answers the codeframe codes (not Other). */
  readonly coverage: number;
  readonly kept: readonly CodeShare[];
  /** Codes under the minimum share, folded into Other. */
  readonly folded: readonly CodeShare[];
  /** Rows coded Other by the model, folded codes not counted. */
  readonly other: number;
}

/**
 * Shares and coverage from the measured sample: each code's rows over the rows measured; codes under
 * `minShare` fold into Other. Examples come from the measured answers (most frequent first), then from the
 * themes the code was made of. With nothing measured (every batch failed) every code stays, share 0.
 */
export function measureDraft(
  draft: readonly Theme[],
  measured: readonly MeasuredAnswer[],
  minShare: number,
): Measurement {
  const base = measured.reduce((sum, m) => sum + m.weight, 0);
  const byKey = new Map<string, { count: number; answers: MeasuredAnswer[] }>();
  for (const m of measured) {
    const key = labelKey(m.label);
    const entry = byKey.get(key) ?? { count: 0, answers: [] };
    entry.count += m.weight;
    entry.answers.push(m);
    byKey.set(key, entry);
  }
  const shares: CodeShare[] = draft.map((t) => {
    const entry = byKey.get(labelKey(t.label));
    const answers = [...(entry?.answers ?? [])].sort((a, b) => b.weight - a.weight);
    const count = entry?.count ?? 0;
    return {
      ...t,
      measured: count,
      share: base > 0 ? count / base : 0,
      examples: addExamples(
        answers.map((a) => a.text),
        t.examples,
      ),
    };
  });
  const kept = base > 0 ? shares.filter((s) => s.share >= minShare) : shares;
  const folded = base > 0 ? shares.filter((s) => s.share < minShare) : [];
  const covered = kept.reduce((sum, s) => sum + s.measured, 0);
  const draftKeys = new Set(draft.map((t) => labelKey(t.label)));
  const other = measured.filter((m) => !draftKeys.has(labelKey(m.label))).reduce((s, m) => s + m.weight, 0);
  return {
    base,
    covered,
    coverage: base > 0 ? covered / base : 0,
    kept: [...kept].sort((a, b) => b.measured - a.measured || b.count - a.count),
    folded: [...folded].sort((a, b) => b.measured - a.measured),
    other,
  };
}
