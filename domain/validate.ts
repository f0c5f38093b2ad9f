import type { Category } from './categories.js';
import { allowedLabels, categoryKey } from './categories.js';
import type { PromptItem } from './prompt.js';
import { truncate } from './text.js';

export type ModelOutputProblem =
  | 'refusal'
  | 'truncated'
  | 'malformed_json'
  | 'missing_ids'
  | 'extra_ids'
  | 'duplicate_ids'
  | 'unknown_category';

/** The model answered, but not with a usable coding of the batch. Retryable: a new attempt usually succeeds. */
export class ModelOutputError extends Error {
  constructor(
    readonly problem: ModelOutputProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ModelOutputError';
  }
}

/**
 * Checks the model's answer against the batch: valid JSON of the schema's shape, each id exactly once and
 * no other, each category one of the allowed labels. Returns id → label in the categories' own spelling.
 */
export function validateLabels(
  content: string | null | undefined,
  items: readonly PromptItem[],
  categories: readonly Category[],
): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    throw new ModelOutputError(
      'malformed_json',
      `model output is not JSON: ${truncate(String(content), 60)}`,
    );
  }
  const labels = (parsed as { labels?: unknown } | null)?.labels;
  if (!Array.isArray(labels)) {
    throw new ModelOutputError('malformed_json', 'model output has no "labels" array');
  }
  const allowed = new Map(allowedLabels(categories).map((name) => [categoryKey(name), name]));
  const expected = new Set(items.map((i) => i.id));
  const result = new Map<string, string>();
  const extra: string[] = [];
  const duplicate: string[] = [];
  for (const entry of labels) {
    const id = (entry as { id?: unknown } | null)?.id;
    const category = (entry as { category?: unknown } | null)?.category;
    if (typeof id !== 'string' || typeof category !== 'string') {
      throw new ModelOutputError('malformed_json', 'a label lacks a string "id" or "category"');
    }
    if (!expected.has(id)) {
      extra.push(id);
      continue;
    }
    if (result.has(id)) {
      duplicate.push(id);
      continue;
    }
    const label = allowed.get(categoryKey(category));
    if (label === undefined) {
      throw new ModelOutputError(
        'unknown_category',
        `id ${id}: category ${JSON.stringify(truncate(category, 40))} is not in the list`,
      );
    }
    result.set(id, label);
  }
  if (extra.length > 0)
    throw new ModelOutputError('extra_ids', `ids not in the batch: ${extra.slice(0, 5).join(', ')}`);
  if (duplicate.length > 0) {
    throw new ModelOutputError('duplicate_ids', `ids answered twice: ${duplicate.slice(0, 5).join(', ')}`);
  }
  const missing = items.filter((i) => !result.has(i.id)).map((i) => i.id);
  if (missing.length > 0) {
    throw new ModelOutputError(
      'missing_ids',
      `${missing.length} of ${items.length} ids unanswered: ${missing.slice(0, 5).join(', ')}`,
    );
  }
  return result;
}
