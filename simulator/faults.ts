import { categoryKey } from '../domain/categories.js';
import type { DecodedLabel } from '../domain/prompt.js';
import type { FaultKind, FaultRule } from './options.js';
import type { ChatRequest } from './protocol.js';

/** Faults that spoil multi-code lists: they apply to multi-code requests only. */
export const LIST_FAULTS: ReadonlySet<FaultKind> = new Set([
  'too_many_codes',
  'duplicate_codes',
  'empty_codes',
]);

/** Faults that rewrite a coding: they only apply to requests that carry answers and a label enum. */
const CODING_FAULTS: ReadonlySet<FaultKind> = new Set([
  'malformed_json',
  'missing_id',
  'extra_id',
  'bad_category',
  ...LIST_FAULTS,
]);

/** What a fault rule looks at in a request. */
export interface FaultTarget {
  /** The answers' texts, lower case (empty for a request that is not a coding). */
  readonly answers: readonly string[];
  readonly coding: boolean;
  /** A multi-code request (the list faults apply to these only). */
  readonly multi?: boolean;
}

export function faultTarget(request: ChatRequest): FaultTarget {
  const answers = request.coding?.items.map((item) => item.text.toLowerCase()) ?? [];
  return { answers, coding: answers.length > 0, multi: request.coding?.mode.multi === true };
}

/** Decides each request's fault from the rules; each rule counts the matching requests that reach it. */
export class FaultInjector<R extends FaultRule = FaultRule> {
  private readonly entries: Array<{ readonly rule: R; seen: number }>;

  constructor(rules: readonly R[]) {
    this.entries = rules.map((rule) => ({ rule, seen: 0 }));
  }

  pick(target: FaultTarget, random: () => number): R | undefined {
    for (const entry of this.entries) {
      const { rule } = entry;
      if (CODING_FAULTS.has(rule.kind) && !target.coding) continue;
      if (LIST_FAULTS.has(rule.kind) && !target.multi) continue;
      const needle = rule.match?.toLowerCase();
      if (needle !== undefined && !target.answers.some((answer) => answer.includes(needle))) continue;
      const position = entry.seen - (rule.after ?? 0);
      entry.seen += 1;
      if (position < 0 || (rule.count !== undefined && position >= rule.count)) continue;
      if (rule.rate !== undefined && random() >= rule.rate) continue;
      return rule;
    }
    return undefined;
  }
}

/**
 * Spoils a correct coding the way a model sometimes does: one id dropped, one invented, one label off the list.
 * With `match`, `missing_id` and `bad_category` spoil exactly the answers whose text contains it (case-insensitive)
 * and leave the others right: a model that always leaves out, or always mislabels, the same answers, whatever
 * else is in the request. Without it, the last answer is dropped and the first mislabelled.
 */
export function corruptCoding(
  kind: 'missing_id' | 'extra_id' | 'bad_category',
  labels: readonly DecodedLabel[],
  allowed: readonly string[],
  matching?: (id: string) => boolean,
): DecodedLabel[] {
  switch (kind) {
    case 'missing_id':
      return matching ? labels.filter((label) => !matching(label.id)) : labels.slice(0, -1);
    case 'extra_id':
      return [...labels, { id: unusedId(labels), labels: [allowed[0] ?? 'Other'] }];
    case 'bad_category': {
      const spoil = matching ?? ((id: string) => id === labels[0]?.id);
      return labels.map((label) =>
        spoil(label.id) ? { ...label, labels: [unlistedCategory(allowed)] } : label,
      );
    }
  }
}

/**
 * Spoils multi-code lists, of the answers whose text contains `match` (every answer without it): all the
 * other allowed labels appended (more than any maximum below their number), each label given twice, or no
 * label at all. The verbatim rules turn these into: the first `maxCodes`, the same list, the fallback.
 */
export function corruptLists(
  kind: 'too_many_codes' | 'duplicate_codes' | 'empty_codes',
  labels: readonly DecodedLabel[],
  texts: ReadonlyMap<string, string>,
  allowed: readonly string[],
  match: string | undefined,
): DecodedLabel[] {
  const needle = match?.toLowerCase();
  return labels.map((label) => {
    if (needle !== undefined && !(texts.get(label.id) ?? '').toLowerCase().includes(needle)) return label;
    switch (kind) {
      case 'too_many_codes': {
        const given = new Set(label.labels.map(categoryKey));
        return { ...label, labels: [...label.labels, ...allowed.filter((a) => !given.has(categoryKey(a)))] };
      }
      case 'duplicate_codes':
        return { ...label, labels: [...label.labels, ...label.labels.map((l) => l.toUpperCase())] };
      case 'empty_codes':
        return { ...label, labels: [] };
    }
  });
}

function unusedId(labels: readonly DecodedLabel[]): string {
  const ids = new Set(labels.map((label) => label.id));
  let n = labels.length + 1;
  while (ids.has(`x${n}`)) n += 1;
  return `x${n}`;
}

function unlistedCategory(allowed: readonly string[]): string {
  const keys = new Set(allowed.map(categoryKey));
  let candidate = 'Unlisted';
  while (keys.has(categoryKey(candidate))) candidate += '+';
  return candidate;
}

/** Output cut off mid-way: what a dropped stream or a `max_tokens` stop leaves (never valid JSON for a coding). */
export function cutOff(content: string): string {
  return content.slice(0, Math.floor(content.length / 2));
}
