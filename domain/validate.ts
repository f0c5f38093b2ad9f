import type { Category } from './categories.js';
import { allowedLabels, categoryKey, fallbackLabel } from './categories.js';
import type { ModelOutputProblem } from './model-output.js';
import { ModelOutputError } from './model-output.js';
import type { CodingMode, PromptItem } from './prompt.js';
import { SINGLE_LABEL, decodeLabels } from './prompt.js';
import { truncate } from './text.js';

export type { ModelOutputProblem } from './model-output.js';
export { ModelOutputError } from './model-output.js';

/** What is wrong with one id of the answer; the rest of the batch may be fine. */
export interface IdProblem {
  readonly id: string;
  readonly problem: Extract<
    ModelOutputProblem,
    'missing_ids' | 'extra_ids' | 'duplicate_ids' | 'unknown_category'
  >;
  /** The offending label, for `unknown_category`. */
  readonly label?: string;
}

export interface LabelCheck {
  /** Each usable id's labels, in the categories' spelling and order (one in single-label mode). */
  readonly labels: ReadonlyMap<string, readonly string[]>;
  /** Per-id problems, in the order found: missing ids come last. */
  readonly problems: readonly IdProblem[];
  /** Ids whose list held more than the maximum number of codes and was cut to the first ones given. */
  readonly cut: readonly string[];
}

/**
 * Checks the model's answer against the batch, id by id, without throwing for a bad id (a caller may keep
 * the good ones): each id of the batch exactly once and no other, every label in the list. Multi-code
 * lists lose their duplicates, an empty list or one of only the fallback becomes the fallback alone, and a
 * list longer than `maxCodes` is cut to its first `maxCodes` (the model is asked to put the most important
 * first). Throws `ModelOutputError` only when the content is not JSON of the schema's shape.
 */
export function checkLabels(
  content: string | null | undefined,
  items: readonly PromptItem[],
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
): LabelCheck {
  const decoded = decodeLabels(content, categories, mode);
  const order = new Map(allowedLabels(categories).map((name, i) => [categoryKey(name), { name, i }]));
  const fallback = fallbackLabel(categories);
  const expected = new Set(items.map((i) => i.id));
  const labels = new Map<string, readonly string[]>();
  const problems: IdProblem[] = [];
  const answered = new Set<string>();
  const cut: string[] = [];
  for (const { id, labels: given, unknown: strange } of decoded) {
    if (!expected.has(id)) {
      problems.push({ id, problem: 'extra_ids' });
      continue;
    }
    if (answered.has(id)) {
      problems.push({ id, problem: 'duplicate_ids' });
      labels.delete(id);
      continue;
    }
    answered.add(id);
    const known = new Map<string, { name: string; i: number }>();
    // A value that is no category's number comes decoded as `unknown`; the labels decoded are all listed.
    const unknown =
      strange ??
      given.find((label) => {
        const found = order.get(categoryKey(label));
        if (found) known.set(found.name, found);
        return !found;
      });
    if (unknown !== undefined) {
      problems.push({ id, problem: 'unknown_category', label: unknown });
      continue;
    }
    let kept = [...known.values()];
    if (kept.length > 1 && mode.multi) kept = kept.filter((k) => k.name !== fallback);
    if (kept.length === 0) kept = [{ name: fallback, i: order.get(categoryKey(fallback))?.i ?? 0 }];
    if (mode.multi && kept.length > mode.maxCodes) {
      kept = kept.slice(0, mode.maxCodes);
      cut.push(id);
    }
    labels.set(
      id,
      kept.sort((a, b) => a.i - b.i).map((k) => k.name),
    );
  }
  for (const item of items)
    if (!answered.has(item.id)) problems.push({ id: item.id, problem: 'missing_ids' });
  return { labels, problems, cut };
}

/**
 * `checkLabels`, then a `ModelOutputError` for the batch if any id has a problem (a retry usually fixes
 * it): an unknown category first, then ids not in the batch, ids answered twice, ids unanswered.
 */
export function validateLabels(
  content: string | null | undefined,
  items: readonly PromptItem[],
  categories: readonly Category[],
  mode: CodingMode = SINGLE_LABEL,
): LabelCheck {
  const check = checkLabels(content, items, categories, mode);
  throwForProblems(check, items.length);
  return check;
}

export function throwForProblems(check: LabelCheck, itemCount: number): void {
  const of = (problem: IdProblem['problem']) => check.problems.filter((p) => p.problem === problem);
  const unknown = of('unknown_category')[0];
  if (unknown) {
    throw new ModelOutputError(
      'unknown_category',
      `id ${unknown.id}: category ${JSON.stringify(truncate(unknown.label ?? '', 40))} is not in the list`,
    );
  }
  const ids = (list: readonly IdProblem[]) =>
    list
      .slice(0, 5)
      .map((p) => p.id)
      .join(', ');
  const extra = of('extra_ids');
  if (extra.length > 0) throw new ModelOutputError('extra_ids', `ids not in the batch: ${ids(extra)}`);
  const duplicate = of('duplicate_ids');
  if (duplicate.length > 0)
    throw new ModelOutputError('duplicate_ids', `ids answered twice: ${ids(duplicate)}`);
  const missing = of('missing_ids');
  if (missing.length > 0) {
    throw new ModelOutputError(
      'missing_ids',
      `${missing.length} of ${itemCount} ids unanswered: ${ids(missing)}`,
    );
  }
}
